/* Blobs (include/backstage/blob.h) and the references messages hold to
 * them.
 *
 * A blob is one block: a header with its reference count, size and
 * allocator, then its bytes. The count is atomic: references travel with
 * messages between shards, and the last release, on whatever thread, frees
 * the block through the allocator it came from (no heap of the engine is
 * involved, so a blob may outlive the engine that carried it).
 *
 * In a message body a blob is tag BS__BLOB_TAG with the index of a
 * reference in the message's `blobs` block (msg.h). The index is checked
 * against that block when read, so a body can only name blobs its own
 * message holds: hostile or corrupt input decodes to an error, never to a
 * pointer. bs__msg_flatten writes a body with each reference replaced by a
 * byte string of the blob's contents, which any reader decodes back into a
 * blob of its own. */
#include <stdlib.h>

#include "internal.h"

struct bs_blob {
  uint64_t refs;        /* atomic */
  size_t size;
  bs_allocator a;       /* frees it */
  alignas(16) unsigned char data[];
};

/* ---- Blobs ------------------------------------------------------------------- */

static size_t blob_bytes(size_t size) { return offsetof(bs_blob, data) + size; }

const bs_blob *bs_blob_alloc(bs_allocator a, size_t size, void **data) {
  if (data) *data = NULL;
  if (!a.fn) {
    a.fn = bs_default_alloc;
    a.ud = NULL;
  }
  if (size > SIZE_MAX - offsetof(bs_blob, data)) return NULL;
  bs_blob *b = a.fn(a.ud, NULL, 0, blob_bytes(size));
  if (!b) return NULL;
  b->refs = 1;
  b->size = size;
  b->a = a;
  if (data) *data = b->data;
  else memset(b->data, 0, size);
  return b;
}

const bs_blob *bs_blob_new(size_t size, void **data) {
  bs_allocator a = {NULL, NULL};
  return bs_blob_alloc(a, size, data);
}

const bs_blob *bs_blob_from(const void *p, size_t size) {
  void *data;
  if (!p && size) return NULL;
  const bs_blob *b = bs_blob_new(size, &data);
  if (b && size) memcpy(data, p, size);
  return b;
}

const void *bs_blob_data(const bs_blob *b) { return b ? b->data : NULL; }
size_t bs_blob_size(const bs_blob *b) { return b ? b->size : 0; }

/* The count is not the blob's contents: changing it through a const
 * pointer is what a const reference-counted object allows. */
const bs_blob *bs_blob_retain(const bs_blob *b) {
  if (b) BS__ADD(&((bs_blob *)b)->refs, 1, RELAXED);
  return b;
}

void bs_blob_release(const bs_blob *b) {
  if (!b) return;
  bs_blob *m = (bs_blob *)b;
  /* acq_rel: the release publishes our last reads of the bytes; the
   * acquire makes every other holder's reads happen before the free. */
  if (BS__SUB(&m->refs, 1, ACQ_REL) != 0) return;
  bs_allocator a = m->a;
  a.fn(a.ud, m, blob_bytes(m->size), 0);
}

static void release_cb(const void *b) { bs_blob_release(b); }

/* ---- References held by messages --------------------------------------------- */

static const bs_blob **items(bs__msg *t) { return (const bs_blob **)(void *)t->data; }

void bs__blobs_drop(bs__shard *s, bs__msg *m) {
  bs__msg *t = m->blobs;
  m->blobs = NULL;
  for (uint32_t i = 0; i < t->len; i++) bs_blob_release(items(t)[i]);
  t->len = 0;
  bs__give_back(s, t);
}

/* The index of `b` among m's references, adding one (retained) if it is
 * not there yet. BS_ENOMEM if the array cannot grow. */
static int add_ref(bs__shard *s, bs__msg *m, const bs_blob *b, uint32_t *idx) {
  bs__msg *t = m->blobs;
  uint32_t n = t ? t->len : 0;
  for (uint32_t i = 0; i < n; i++)
    if (items(t)[i] == b) {
      *idx = i;
      return 0;
    }
  if (!t || (size_t)(n + 1) * sizeof(bs_blob *) > t->cap) {
    if (n >= UINT32_MAX / 2 / sizeof(bs_blob *)) return BS_ENOMEM;
    bs__msg *nt = bs__msg_get(&s->pool, (size_t)(n ? 2 * n : 4) * sizeof(bs_blob *));
    if (!nt) return BS_ENOMEM;
    if (n) memcpy(nt->data, t->data, n * sizeof(bs_blob *));
    if (t) {
      t->len = 0; /* moved, not released */
      bs__give_back(s, t);
    }
    m->blobs = t = nt;
  }
  items(t)[n] = bs_blob_retain(b);
  t->len = n + 1;
  *idx = n;
  return 0;
}

/* The head of tag BS__BLOB_TAG, preferred (shortest) form. */
static const uint8_t blob_tag[3] = {0xd9, (uint8_t)(BS__BLOB_TAG >> 8), (uint8_t)BS__BLOB_TAG};

int bs_write_blob(bs_writer *w, const bs_blob *b) {
  if (!w) return BS_EINVAL;
  if (w->err) return w->err;
  if (!b) return bs_write_null(w);
  if (w->grow != bs__writer_grow || !w->owner)
    return bs_write_bytes(w, b->data, b->size);
  uint32_t idx = 0;
  int rc = add_ref(w->owner2, w->owner, b, &idx);
  if (rc < 0) return w->err = rc;
  bs_write_raw(w, blob_tag, sizeof blob_tag);
  return bs_write_uint(w, idx);
}

/* A byte string read into a new blob, released when the reader's arena is
 * reset. */
static int read_copy(bs_reader *r, const bs_blob **out) {
  const void *p = NULL;
  size_t len = 0;
  if (bs_read_bytes(r, &p, &len) != 0) return r->err;
  bs_arena *arena = r->arena;
  if (!arena) return r->err = BS_ENOMEM;
  if (bs_arena_over_limit(arena, len)) return r->err = BS_ETOOBIG;
  void *data;
  const bs_blob *b = bs_blob_alloc(r->refs ? r->refs->alloc : arena->alloc, len, &data);
  if (!b) {
    if (r->refs && r->refs->heap) bs__heap_failed(r->refs->heap); /* in the engine's stats */
    return r->err = BS_ENOMEM;
  }
  if (len) memcpy(data, p, len);
  if (bs__arena_defer(arena, release_cb, b) < 0) {
    bs_blob_release(b);
    return r->err = BS_ENOMEM;
  }
  arena->taken += len;
  *out = b;
  return 0;
}

/* The reference at r->p, whose tag head has been read. */
static int read_ref(bs_reader *r, const bs_blob **out) {
  uint64_t idx = 0;
  if (bs_read_uint(r, &idx) != 0 || !r->refs || idx >= r->refs->n) return r->err = BS_EDECODE;
  *out = r->refs->items[idx];
  return 0;
}

int bs_read_blob(bs_reader *r, const bs_blob **out) {
  if (!r || !out) return BS_EINVAL;
  if (r->err) return r->err;
  /* The forms the engine writes, without decoding a head through libcbor:
   * a reference, null, a definite byte string. */
  const uint8_t *p = r->p;
  if (r->end - p >= 3 && memcmp(p, blob_tag, sizeof blob_tag) == 0) {
    r->p = p + sizeof blob_tag;
    return read_ref(r, out);
  }
  uint64_t tag = 0;
  switch (bs_peek(r)) {
  case BS_CBOR_NULL:
    if (bs_read_null(r) == 0) *out = NULL;
    return r->err;
  case BS_CBOR_BYTES: return read_copy(r, out);
  case BS_CBOR_TAG: /* a longer form of the same tag is CBOR too */
    if (bs_read_tag(r, &tag) != 0) return r->err;
    if (tag != BS__BLOB_TAG) return r->err = BS_EDECODE;
    return read_ref(r, out);
  default: return r->err = BS_EDECODE;
  }
}

/* ---- Flattening ------------------------------------------------------------------- */

static int flatten_item(bs_reader *r, bs_writer *w, const bs__refs *refs, int depth);

/* The items of an indefinite container, up to and including its break. */
static int flatten_indefinite(bs_reader *r, bs_writer *w, const bs__refs *refs,
                              int depth) {
  bs_write_raw(w, r->p++, 1);
  for (;;) {
    if (r->p >= r->end) return r->err = BS_EDECODE;
    if (*r->p == 0xff) break;
    if (flatten_item(r, w, refs, depth + 1) != 0) return r->err;
  }
  bs_write_raw(w, r->p++, 1);
  return w->err;
}

static int flatten_item(bs_reader *r, bs_writer *w, const bs__refs *refs, int depth) {
  if (depth > BS_CBOR_MAX_DEPTH) return r->err = BS_EDECODE;
  const uint8_t *start = r->p;
  uint64_t n = 0, idx = 0;
  bs_cbor_type t = bs_peek(r);
  if ((t == BS_CBOR_ARRAY || t == BS_CBOR_MAP) && (*start & 31u) == 31u)
    return flatten_indefinite(r, w, refs, depth);
  switch (t) {
  case BS_CBOR_TAG:
    if (bs_read_tag(r, &n) != 0) return r->err;
    if (n == BS__BLOB_TAG) {
      if (bs_read_uint(r, &idx) != 0 || !refs || idx >= refs->n) return r->err = BS_EDECODE;
      const bs_blob *b = refs->items[idx];
      return bs_write_bytes(w, b->data, b->size);
    }
    bs_write_raw(w, start, (size_t)(r->p - start));
    return flatten_item(r, w, refs, depth + 1);
  case BS_CBOR_ARRAY:
  case BS_CBOR_MAP:
    if ((t == BS_CBOR_ARRAY ? bs_read_array(r, &n) : bs_read_map(r, &n)) != 0) return r->err;
    bs_write_raw(w, start, (size_t)(r->p - start));
    if (t == BS_CBOR_MAP) n *= 2; /* keys and values; n <= the bytes left */
    for (uint64_t i = 0; i < n && !r->err && !w->err; i++) flatten_item(r, w, refs, depth + 1);
    return r->err ? r->err : w->err;
  default:
    if (bs_read_skip(r) != 0) return r->err;
    return bs_write_raw(w, start, (size_t)(r->p - start));
  }
}

int bs__msg_flatten(const bs__msg *m, bs_writer *w) {
  const bs__msg *h = bs__msg_holder(m);
  const bs__msg *t = h ? h->blobs : NULL;
  if (!t) return bs_write_raw(w, m->body, m->len);
  bs__refs refs = {(const bs_blob *const *)(const void *)t->data, t->len, {NULL, NULL}, NULL};
  bs_reader r;
  bs_reader_init(&r, m->body, m->len, NULL);
  while (!bs_reader_at_end(&r) && !r.err && !w->err) flatten_item(&r, w, &refs, 0);
  if (r.err) return w->err ? w->err : (w->err = r.err);
  return w->err;
}
