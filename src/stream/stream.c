/* Typed pub/sub streams: a registry of named streams, each with an element
 * type and a list of (actor cell, method) subscriptions. Publishing encodes
 * once into a pooled block shared, reference counted, by one small message
 * per subscriber. */
#include "internal.h"

typedef struct bs__sub {
  bs_cell *cell;
  const bs_method *method;
} bs__sub;

struct bs_stream {
  bs_engine *engine;
  bs_cell *cell;              /* its entry in the stream registry (the id) */
  const bs_elem_type *type;
  bs__sub *subs;              /* in subscription order */
  uint32_t nsubs;
  uint32_t cap;
  uint64_t published;
  uint64_t deliveries;
  uint64_t encodes;
};

static int new_stream(bs_engine *e, const bs_elem_type *type, const char *id,
                      size_t len, uint32_t hash, bs_stream **out) {
  bs_stream *s = bs__calloc(&e->heap, sizeof *s);
  if (!s) return BS_ENOMEM;
  bs_cell *c;
  int rc = bs__cell_new(e, &e->streams, NULL, id, len, hash, &c);
  if (rc < 0) {
    bs__free(&e->heap, s, sizeof *s);
    return rc;
  }
  s->engine = e;
  s->cell = c;
  s->type = type;
  c->state = s;
  *out = s;
  return 0;
}

int bs_stream_get(bs_engine *e, const bs_elem_type *type, const char *id,
                  bs_stream **out) {
  size_t len = 0;
  if (!e || !type || !type->encode || !out) return BS_EINVAL;
  int rc = bs__check_id(id, &len);
  if (rc < 0) return rc;
  if (e->freeing) return BS_ECANCELED;
  uint32_t hash = bs__hash_id(id, len);
  bs_cell *c = bs__registry_find(&e->streams, id, len, hash);
  if (!c) return new_stream(e, type, id, len, hash, out);
  bs_stream *s = c->state;
  if (s->type != type) return BS_ETYPE;
  *out = s;
  return 0;
}

const char *bs_stream_id(const bs_stream *s) { return s ? s->cell->id : NULL; }
const bs_elem_type *bs_stream_elem_type(const bs_stream *s) { return s ? s->type : NULL; }

void bs_stream_stats_get(const bs_stream *s, bs_stream_stats *out) {
  if (!s || !out) return;
  out->published = s->published;
  out->deliveries = s->deliveries;
  out->encodes = s->encodes;
  out->subscribers = s->nsubs;
}

/* ---- Subscriptions --------------------------------------------------------- */

static bool method_of(const bs_actor_type *t, const bs_method *m) {
  return t && m && t->methods && m >= t->methods &&
         m < t->methods + t->method_count && m->argc == 1;
}

static int find_sub(const bs_stream *s, const bs_cell *c, const bs_method *m) {
  for (uint32_t i = 0; i < s->nsubs; i++)
    if (s->subs[i].cell == c && s->subs[i].method == m) return (int)i;
  return -1;
}

static int resolve_sub(bs_stream *s, const bs_actor_type *type,
                       const char *actor_id, const bs_method *m, bs_cell **out) {
  if (!s || !method_of(type, m)) return BS_EINVAL;
  bs_ref ref;
  int rc = bs_actor_get(s->engine, type, actor_id, &ref);
  if (rc < 0) return rc;
  *out = ref.cell;
  return 0;
}

int bs_stream_add_subscriber(bs_stream *s, const bs_actor_type *type,
                             const char *actor_id, const bs_method *m) {
  bs_cell *c;
  int rc = resolve_sub(s, type, actor_id, m, &c);
  if (rc < 0) return rc;
  if (find_sub(s, c, m) >= 0) return 0;
  if (s->nsubs == s->cap) {
    uint32_t ncap = s->cap ? s->cap * 2 : 4;
    bs__sub *ns = bs__realloc(&s->engine->heap, s->subs, s->cap * sizeof *ns,
                              ncap * sizeof *ns);
    if (!ns) return BS_ENOMEM;
    s->subs = ns;
    s->cap = ncap;
  }
  s->subs[s->nsubs].cell = c;
  s->subs[s->nsubs].method = m;
  s->nsubs++;
  return 0;
}

int bs_stream_remove_subscriber(bs_stream *s, const bs_actor_type *type,
                                const char *actor_id, const bs_method *m) {
  if (!s || !method_of(type, m)) return BS_EINVAL;
  bs_cell *c;
  /* Looked up, not created: an unknown id has no subscription. */
  int rc = bs__actor_find(s->engine, type, actor_id, &c);
  if (rc < 0) return rc;
  int i = find_sub(s, c, m);
  if (i < 0) return BS_ENOTFOUND;
  memmove(&s->subs[i], &s->subs[i + 1], (s->nsubs - (uint32_t)i - 1) * sizeof *s->subs);
  s->nsubs--;
  return 0;
}

/* ---- Publishing ------------------------------------------------------------ */

static void put_chain(bs_engine *e, bs__msg *m) {
  while (m) {
    bs__msg *next = m->next;
    bs__msg_put(&e->pool, &e->heap, m);
    m = next;
  }
}

/* Takes one message per subscriber up front, so running out of memory
 * half-way cannot leave an element delivered to some subscribers only. */
static bs__msg *take_messages(bs_engine *e, uint32_t n) {
  bs__msg *chain = NULL;
  for (uint32_t i = 0; i < n; i++) {
    bs__msg *m = bs__msg_get(&e->pool, &e->heap, 0);
    if (!m) {
      put_chain(e, chain);
      return NULL;
    }
    m->next = chain;
    chain = m;
  }
  return chain;
}

static bs__msg *encode(bs_stream *s, const void *value, int *rc) {
  bs_engine *e = s->engine;
  bs_writer w;
  bs__msg *body = bs__msg_get(&e->pool, &e->heap, 0);
  if (!body) {
    *rc = BS_ENOMEM;
    return NULL;
  }
  bs__writer_bind(e, &w, body);
  int err = s->type->encode(&w, value);
  if (!err) err = w.err;
  if (err) {
    bs__msg_put(&e->pool, &e->heap, bs__writer_unbind(&w));
    *rc = err < 0 ? err : BS_EENCODE;
    return NULL;
  }
  s->encodes++;
  return bs__writer_finish(&w);
}

int bs_stream_publish(bs_stream *s, const void *value) {
  if (!s || !value) return BS_EINVAL;
  bs_engine *e = s->engine;
  if (e->freeing) return BS_ECANCELED;
  uint32_t n = s->nsubs;
  if (n == 0) {
    s->published++;
    return 0;
  }
  int rc = 0;
  bs__msg *body = encode(s, value, &rc);
  if (!body) return rc;
  bs__msg *chain = take_messages(e, n);
  if (!chain) {
    bs__msg_put(&e->pool, &e->heap, body);
    return BS_ENOMEM;
  }
  body->refs = n;
  uint32_t queued = 0;
  for (uint32_t i = 0; i < n; i++) {
    bs__msg *m = chain;
    chain = chain->next;
    m->kind = BS__MSG_ELEM;
    m->body = body->body;
    m->len = body->len;
    m->target = s->subs[i].cell;
    m->method = s->subs[i].method;
    m->req = body;
    if (BS__UNLIKELY(bs__full(e, m->target))) {
      e->stats.sent++;
      bs__dead_letter(e, m->target, m, BS_DL_MAILBOX_FULL, BS_EFULL);
      continue;
    }
    bs__enqueue(e, m->target, m);
    queued++;
  }
  s->published++;
  s->deliveries += queued;
  return (int)queued;
}

void bs__streams_free(bs_engine *e) {
  for (size_t i = 0; i < e->streams.cap; i++) {
    bs_cell *c = e->streams.slots[i];
    if (!c) continue;
    bs_stream *s = c->state;
    bs__free(&e->heap, s->subs, s->cap * sizeof *s->subs);
    bs__free(&e->heap, s, sizeof *s);
    bs__cell_free(e, c);
  }
  bs__registry_free(&e->streams, &e->heap);
}

/* ---- Built-in element types ---------------------------------------------- */

static int enc_cstr(bs_writer *w, const void *v) { return bs_write_cstr(w, *(const char *const *)v); }
static int enc_bytes(bs_writer *w, const void *v) {
  const bs_bytes *b = v;
  return bs_write_bytes(w, b->data, b->len);
}
static int enc_boolean(bs_writer *w, const void *v) { return bs_write_bool(w, *(const bool *)v); }
static int enc_i8(bs_writer *w, const void *v) { return bs_write_int(w, *(const int8_t *)v); }
static int enc_i16(bs_writer *w, const void *v) { return bs_write_int(w, *(const int16_t *)v); }
static int enc_i32(bs_writer *w, const void *v) { return bs_write_int(w, *(const int32_t *)v); }
static int enc_i64(bs_writer *w, const void *v) { return bs_write_int(w, *(const int64_t *)v); }
static int enc_u8(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint8_t *)v); }
static int enc_u16(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint16_t *)v); }
static int enc_u32(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint32_t *)v); }
static int enc_u64(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint64_t *)v); }
static int enc_float(bs_writer *w, const void *v) { return bs_write_float(w, *(const float *)v); }
static int enc_double(bs_writer *w, const void *v) { return bs_write_double(w, *(const double *)v); }

#define BS__BUILTIN_ELEM(T, ValueT)                                            \
  const bs_elem_type bs_elem_##T = {#ValueT, enc_##T};                         \
  BS_IMPLEMENT_STREAM_TYPE(T, ValueT)
BS_BUILTIN_STREAM_TYPES(BS__BUILTIN_ELEM)

/* ---- Built-in array element types -------------------------------------------- */

/* One CBOR array of the items, each written as its scalar element above
 * writes it: the bytes of backstage-gen's `const T *items, size_t count`
 * parameter encoding, so a generated thunk decodes them as its array. */
#define BS__ARRAY_ELEM(T, ElemT)                                               \
  static int enc_##T##_array(bs_writer *w, const void *v) {                    \
    const bs_array_##T *a = v;                                                 \
    if (a->items == NULL && a->count != 0) return BS_EINVAL;                   \
    bs_write_array(w, a->count);                                               \
    for (size_t i = 0; i < a->count && w->err == 0; i++)                       \
      enc_##T(w, &a->items[i]);                                                \
    return w->err;                                                             \
  }                                                                            \
  const bs_elem_type bs_elem_##T##_array = {"bs_array_" #T,                    \
                                            enc_##T##_array};                  \
  BS_IMPLEMENT_STREAM_ARRAY_TYPE(T)
BS_BUILTIN_STREAM_ARRAY_TYPES(BS__ARRAY_ELEM)
