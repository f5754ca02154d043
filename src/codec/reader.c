/* Reader: a pull reader over libcbor's callback decoder.
 *
 * cbor_stream_decode() decodes exactly one data item head (plus the payload
 * of a definite string) and reports it through one callback. Our callbacks
 * record the item's kind and value into a bs__item on the caller's stack, so
 * each bs_read_* is: decode the head at r->p, compare the kind, copy the
 * value out, advance r->p by the bytes libcbor consumed. libcbor never reads
 * past the size we give it (r->end - r->p) and reports a short buffer as
 * CBOR_DECODER_NEDATA, which we treat like malformed input: BS_EDECODE.
 *
 * libcbor 0.8 rejects a few well-formed heads it has no use for (tags 6..20
 * in the one-byte form, simple values 0..19 and the two-byte simple form);
 * decode_gap() recognises those so peek/skip see valid CBOR as valid.
 *
 * Nothing here allocates except joining indefinite strings and copying
 * C strings, which use the reader's arena.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <cbor.h>

#include "backstage/codec.h"

/* One decoded head. `u` holds the unsigned value, the negative integer's
 * argument (value = -1 - u), a string length, a container count or a tag;
 * `indef` marks indefinite strings and containers. */
typedef struct bs__item {
  bs_cbor_type type;
  bool indef;
  bool b;
  uint64_t u;
  double d;
  const uint8_t *data; /* definite string payload, inside the input */
  size_t len;          /* bytes of input the item's head (+payload) takes */
} bs__item;

/* ---- libcbor callbacks: record kind and value --------------------------- */

#define ITEM(ctx) ((bs__item *)(ctx))

static void on_uint8(void *c, uint8_t v) { ITEM(c)->type = BS_CBOR_UINT; ITEM(c)->u = v; }
static void on_uint16(void *c, uint16_t v) { ITEM(c)->type = BS_CBOR_UINT; ITEM(c)->u = v; }
static void on_uint32(void *c, uint32_t v) { ITEM(c)->type = BS_CBOR_UINT; ITEM(c)->u = v; }
static void on_uint64(void *c, uint64_t v) { ITEM(c)->type = BS_CBOR_UINT; ITEM(c)->u = v; }
static void on_negint8(void *c, uint8_t v) { ITEM(c)->type = BS_CBOR_NEGINT; ITEM(c)->u = v; }
static void on_negint16(void *c, uint16_t v) { ITEM(c)->type = BS_CBOR_NEGINT; ITEM(c)->u = v; }
static void on_negint32(void *c, uint32_t v) { ITEM(c)->type = BS_CBOR_NEGINT; ITEM(c)->u = v; }
static void on_negint64(void *c, uint64_t v) { ITEM(c)->type = BS_CBOR_NEGINT; ITEM(c)->u = v; }

static void set_string(void *c, bs_cbor_type t, cbor_data p, size_t len) {
  ITEM(c)->type = t;
  ITEM(c)->data = p;
  ITEM(c)->u = len;
}
static void on_bytes(void *c, cbor_data p, size_t len) { set_string(c, BS_CBOR_BYTES, p, len); }
static void on_text(void *c, cbor_data p, size_t len) { set_string(c, BS_CBOR_TEXT, p, len); }

static void set_indef(void *c, bs_cbor_type t) {
  ITEM(c)->type = t;
  ITEM(c)->indef = true;
}
static void on_bytes_start(void *c) { set_indef(c, BS_CBOR_BYTES); }
static void on_text_start(void *c) { set_indef(c, BS_CBOR_TEXT); }
static void on_indef_array(void *c) { set_indef(c, BS_CBOR_ARRAY); }
static void on_indef_map(void *c) { set_indef(c, BS_CBOR_MAP); }

static void on_array(void *c, size_t n) { ITEM(c)->type = BS_CBOR_ARRAY; ITEM(c)->u = n; }
static void on_map(void *c, size_t n) { ITEM(c)->type = BS_CBOR_MAP; ITEM(c)->u = n; }
static void on_tag(void *c, uint64_t v) { ITEM(c)->type = BS_CBOR_TAG; ITEM(c)->u = v; }
static void on_float(void *c, float v) { ITEM(c)->type = BS_CBOR_FLOAT; ITEM(c)->d = (double)v; }
static void on_double(void *c, double v) { ITEM(c)->type = BS_CBOR_FLOAT; ITEM(c)->d = v; }
static void on_undef(void *c) { ITEM(c)->type = BS_CBOR_UNDEFINED; }
static void on_null(void *c) { ITEM(c)->type = BS_CBOR_NULL; }
static void on_bool(void *c, bool v) { ITEM(c)->type = BS_CBOR_BOOL; ITEM(c)->b = v; }
static void on_break(void *c) { ITEM(c)->type = BS_CBOR_BREAK; }

static const struct cbor_callbacks bs__callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_negint8,
    .negint16 = on_negint16,
    .negint32 = on_negint32,
    .negint64 = on_negint64,
    /* libcbor's names: byte_string/string carry a definite payload,
     * *_start marks an indefinite string. */
    .byte_string = on_bytes,
    .byte_string_start = on_bytes_start,
    .string = on_text,
    .string_start = on_text_start,
    .array_start = on_array,
    .indef_array_start = on_indef_array,
    .map_start = on_map,
    .indef_map_start = on_indef_map,
    .tag = on_tag,
    .float2 = on_float,
    .float4 = on_float,
    .float8 = on_double,
    .undefined = on_undef,
    .null = on_null,
    .boolean = on_bool,
    .indef_break = on_break,
};

/* ---- Decoding one head --------------------------------------------------- */

/* Well-formed heads libcbor 0.8 refuses (see the file comment). RFC 8949
 * section 3.3 makes 0xf8 followed by a byte below 32 malformed, so that stays
 * invalid. Never reads at or past `end`. */
static bs_cbor_type decode_gap(const uint8_t *p, const uint8_t *end,
                               bs__item *it) {
  uint8_t ib = p[0];
  it->len = 1;
  if (ib >= 0xc6 && ib <= 0xd4) {
    it->u = (uint64_t)(ib - 0xc0);
    return it->type = BS_CBOR_TAG;
  }
  if (ib >= 0xe0 && ib <= 0xf3) {
    it->u = (uint64_t)(ib - 0xe0);
    return it->type = BS_CBOR_SIMPLE;
  }
  if (ib == 0xf8 && end - p >= 2 && p[1] >= 32) {
    it->u = p[1];
    it->len = 2;
    return it->type = BS_CBOR_SIMPLE;
  }
  it->len = 0;
  return it->type = BS_CBOR_INVALID;
}

/* Major types whose one-byte heads decode without libcbor. */
static const bs_cbor_type immediate[8] = {
    BS_CBOR_UINT,    BS_CBOR_NEGINT,  BS_CBOR_INVALID, BS_CBOR_INVALID,
    BS_CBOR_ARRAY,   BS_CBOR_MAP,     BS_CBOR_INVALID, BS_CBOR_INVALID};

/* Fast path for integer heads and definite container counts (major types
 * 0, 1, 4, 5), the bulk of message framing: returns the major type with the
 * argument in *v and the head's length in *len, or -1 for anything else
 * (which libcbor then decodes). */
static inline int int_head(const uint8_t *p, const uint8_t *end, uint64_t *v,
                           size_t *len) {
  if (p >= end) return -1;
  unsigned info = *p & 31u, major = *p >> 5;
  if (info >= 28 || immediate[major] == BS_CBOR_INVALID) return -1;
  size_t extra = info < 24 ? 0 : (size_t)1 << (info - 24);
  if ((size_t)(end - p) <= extra) return -1;
  /* Big-endian loads spelled byte by byte: portable, and compilers turn
   * each case into one load and a byte swap. */
  const uint8_t *q = p + 1;
  switch (extra) {
  case 0: *v = info; break;
  case 1: *v = q[0]; break;
  case 2: *v = (uint64_t)q[0] << 8 | q[1]; break;
  case 4:
    *v = (uint64_t)((uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]);
    break;
  default:
    *v = (uint64_t)q[0] << 56 | (uint64_t)q[1] << 48 | (uint64_t)q[2] << 40 |
         (uint64_t)q[3] << 32 | (uint64_t)q[4] << 24 | (uint64_t)q[5] << 16 |
         (uint64_t)q[6] << 8 | q[7];
    break;
  }
  *len = 1 + extra;
  return (int)major;
}

/* Decodes the head at p (p < end not required: an empty range is
 * truncated input). Returns it->type; BS_CBOR_INVALID for malformed or
 * truncated input. */
static bs_cbor_type decode(const uint8_t *p, const uint8_t *end, bs__item *it) {
  it->type = BS_CBOR_INVALID;
  it->indef = false;
  int major = int_head(p, end, &it->u, &it->len);
  if (major >= 0) return it->type = immediate[major];
  struct cbor_decoder_result res =
      cbor_stream_decode(p, (size_t)(end - p), &bs__callbacks, it);
  if (res.status == CBOR_DECODER_FINISHED) {
    it->len = res.read;
    return it->type;
  }
  if (res.status == CBOR_DECODER_ERROR) return decode_gap(p, end, it);
  it->len = 0;
  return it->type = BS_CBOR_INVALID;
}

static int fail(bs_reader *r, int code) {
  r->err = code;
  return code;
}

/* Decodes the next item and checks its kind; 0 or the (sticky) error. */
static int next(bs_reader *r, bs__item *it, bs_cbor_type want) {
  if (r->err != 0) return r->err;
  if (decode(r->p, r->end, it) != want) return fail(r, BS_EDECODE);
  return 0;
}

/* ---- Public API: scalars -------------------------------------------------- */

/* An empty reader points here, so no pointer arithmetic ever involves NULL. */
static const uint8_t bs__no_input[1];

void bs_reader_init(bs_reader *r, const void *buf, size_t len,
                    bs_arena *arena) {
  if (buf == NULL) {
    buf = bs__no_input;
    len = 0;
  }
  r->p = buf;
  r->end = r->p + len;
  r->err = 0;
  r->arena = arena;
  r->refs = NULL;
}

bs_cbor_type bs_peek(const bs_reader *r) {
  if (r->p >= r->end) return BS_CBOR_END;
  bs__item it;
  return decode(r->p, r->end, &it);
}

int bs__read_uint(bs_reader *r, uint64_t *out) {
  uint64_t v;
  size_t len;
  if (r->err == 0 && int_head(r->p, r->end, &v, &len) == 0) {
    *out = v;
    r->p += len;
    return 0;
  }
  bs__item it;
  if (next(r, &it, BS_CBOR_UINT) != 0) return r->err;
  *out = it.u;
  r->p += it.len;
  return 0;
}

int bs__read_int(bs_reader *r, int64_t *out) {
  if (r->err != 0) return r->err;
  uint64_t v;
  size_t len;
  int major = int_head(r->p, r->end, &v, &len);
  if ((major == 0 || major == 1) && v <= (uint64_t)INT64_MAX) {
    *out = major == 0 ? (int64_t)v : -1 - (int64_t)v;
    r->p += len;
    return 0;
  }
  bs__item it;
  bs_cbor_type t = decode(r->p, r->end, &it);
  if ((t != BS_CBOR_UINT && t != BS_CBOR_NEGINT) || it.u > (uint64_t)INT64_MAX)
    return fail(r, BS_EDECODE);
  /* A negative integer encodes -1 - u; u <= INT64_MAX keeps it in range. */
  *out = t == BS_CBOR_UINT ? (int64_t)it.u : -1 - (int64_t)it.u;
  r->p += it.len;
  return 0;
}

int bs_read_bool(bs_reader *r, bool *out) {
  bs__item it;
  if (next(r, &it, BS_CBOR_BOOL) != 0) return r->err;
  *out = it.b;
  r->p += it.len;
  return 0;
}

int bs_read_null(bs_reader *r) {
  bs__item it;
  if (next(r, &it, BS_CBOR_NULL) != 0) return r->err;
  r->p += it.len;
  return 0;
}

int bs_read_double(bs_reader *r, double *out) {
  bs__item it;
  if (next(r, &it, BS_CBOR_FLOAT) != 0) return r->err;
  *out = it.d;
  r->p += it.len;
  return 0;
}

/* A finite double beyond float's range is out of range for the target, like
 * an integer that does not fit, rather than silently becoming infinity.
 * Inside the range the value is rounded to the nearest float; infinities and
 * NaN pass through. */
int bs_read_float(bs_reader *r, float *out) {
  bs__item it;
  if (next(r, &it, BS_CBOR_FLOAT) != 0) return r->err;
  if ((it.d > (double)FLT_MAX || it.d < -(double)FLT_MAX) && isfinite(it.d))
    return fail(r, BS_EDECODE);
  *out = (float)it.d;
  r->p += it.len;
  return 0;
}

/* ---- Strings --------------------------------------------------------------- */

/* Walks the chunks of an indefinite string of kind `t` whose first chunk
 * starts at p: each must be a definite string of the same kind (RFC 8949
 * 3.2.3), up to a break. Sets *total to the joined length and *after to the
 * byte after the break. Returns false on malformed or truncated input. */
static bool scan_chunks(const uint8_t *p, const uint8_t *end, bs_cbor_type t,
                        size_t *total, const uint8_t **after) {
  size_t sum = 0;
  bs__item it;
  bs_cbor_type ct;
  while ((ct = decode(p, end, &it)) != BS_CBOR_BREAK) {
    if (ct != t || it.indef || it.u > SIZE_MAX - sum) return false;
    sum += (size_t)it.u;
    p += it.len;
  }
  *total = sum;
  *after = p + it.len;
  return true;
}

/* Copies the chunks (already validated by scan_chunks) into dst. */
static void copy_chunks(const uint8_t *p, const uint8_t *end, uint8_t *dst) {
  bs__item it;
  while (decode(p, end, &it) != BS_CBOR_BREAK) {
    if (it.u != 0) memcpy(dst, it.data, (size_t)it.u);
    dst += it.u;
    p += it.len;
  }
}

/* Joins the indefinite string whose header `it` sits at r->p into the arena,
 * with `extra` zero bytes after it (1 for a C string). On success sets *s,
 * *len and advances r->p. */
static int join_chunks(bs_reader *r, const bs__item *it, size_t extra,
                       const uint8_t **s, size_t *len) {
  const uint8_t *first = r->p + it->len, *after = NULL;
  size_t total = 0;
  if (!scan_chunks(first, r->end, it->type, &total, &after))
    return fail(r, BS_EDECODE);
  if (total > SIZE_MAX - extra) return fail(r, BS_ENOMEM);
  uint8_t *dst = bs_reader_alloc(r, total + extra, 1);
  if (dst == NULL) return r->err;
  copy_chunks(first, r->end, dst);
  memset(dst + total, 0, extra);
  *s = dst;
  *len = total;
  r->p = after;
  return 0;
}

/* Reads a text or byte string (kind `t`) without copying when definite. */
static int read_string(bs_reader *r, bs_cbor_type t, const uint8_t **s,
                       size_t *len) {
  bs__item it;
  if (next(r, &it, t) != 0) return r->err;
  if (it.indef) return join_chunks(r, &it, 0, s, len);
  *s = it.data;
  *len = (size_t)it.u;
  r->p += it.len;
  return 0;
}

int bs_read_text(bs_reader *r, const char **s, size_t *len) {
  const uint8_t *p = NULL;
  size_t n = 0;
  if (read_string(r, BS_CBOR_TEXT, &p, &n) != 0) return r->err;
  *s = (const char *)p;
  *len = n;
  return 0;
}

int bs_read_bytes(bs_reader *r, const void **p, size_t *len) {
  const uint8_t *q = NULL;
  size_t n = 0;
  if (read_string(r, BS_CBOR_BYTES, &q, &n) != 0) return r->err;
  *p = q;
  *len = n;
  return 0;
}

/* A NUL inside the text would silently truncate the C string, so such text
 * is rejected rather than handed out shortened. */
int bs_read_cstr(bs_reader *r, const char **s) {
  if (r->err != 0) return r->err;
  bs__item it;
  bs_cbor_type t = decode(r->p, r->end, &it);
  if (t == BS_CBOR_NULL) {
    *s = NULL;
    r->p += it.len;
    return 0;
  }
  if (t != BS_CBOR_TEXT) return fail(r, BS_EDECODE);
  const uint8_t *text = NULL;
  size_t n = 0;
  const uint8_t *start = r->p;
  if (it.indef) {
    if (join_chunks(r, &it, 1, &text, &n) != 0) return r->err;
  } else {
    char *dst = bs_reader_alloc(r, (size_t)it.u + 1, 1);
    if (dst == NULL) return r->err;
    if (it.u != 0) memcpy(dst, it.data, (size_t)it.u);
    dst[it.u] = '\0';
    text = (const uint8_t *)dst;
    n = (size_t)it.u;
    r->p += it.len;
  }
  if (memchr(text, '\0', n) != NULL) {
    r->p = start;
    return fail(r, BS_EDECODE);
  }
  *s = (const char *)text;
  return 0;
}

/* ---- Containers and tags ------------------------------------------------- */

/* Every item takes at least one byte, so a count larger than the bytes left
 * can only be truncated input; rejecting it here keeps hostile counts away
 * from the caller's n * sizeof(T) arithmetic. */
static int read_count(bs_reader *r, bs_cbor_type t, uint64_t per_entry,
                      uint64_t *n) {
  bs__item it;
  if (next(r, &it, t) != 0) return r->err;
  uint64_t left = (uint64_t)(r->end - r->p - (ptrdiff_t)it.len);
  if (it.indef || it.u > left / per_entry) return fail(r, BS_EDECODE);
  *n = it.u;
  r->p += it.len;
  return 0;
}

int bs__read_array(bs_reader *r, uint64_t *n) {
  return read_count(r, BS_CBOR_ARRAY, 1, n);
}

int bs_read_map(bs_reader *r, uint64_t *n) {
  return read_count(r, BS_CBOR_MAP, 2, n);
}

int bs_read_tag(bs_reader *r, uint64_t *tag) {
  bs__item it;
  if (next(r, &it, BS_CBOR_TAG) != 0) return r->err;
  *tag = it.u;
  r->p += it.len;
  return 0;
}

/* ---- Skip ------------------------------------------------------------------ */

/* Skip stack entries: a definite container's items still to come, or one of
 * these markers for an open indefinite container (closed by a break). No
 * definite count reaches them: counts are capped by the bytes left. An
 * indefinite map flips between EVEN and ODD per item, so a break after a
 * key without its value is caught. */
#define BS__INDEF_ARRAY UINT64_MAX
#define BS__INDEF_MAP_EVEN (UINT64_MAX - 1)
#define BS__INDEF_MAP_ODD (UINT64_MAX - 2)

enum { BS__LEAF, BS__OPEN, BS__BAD };

/* Classifies the head `it` (whose items, if any, start `avail` bytes before
 * the end): BS__OPEN with the number of items it wraps (a tag wraps one),
 * BS__LEAF, or BS__BAD for a count that cannot fit in the input. */
static int classify(const bs__item *it, uint64_t avail, uint64_t *n) {
  switch (it->type) {
  case BS_CBOR_ARRAY:
    *n = it->indef ? BS__INDEF_ARRAY : it->u;
    return it->indef || it->u <= avail ? BS__OPEN : BS__BAD;
  case BS_CBOR_MAP:
    *n = it->indef ? BS__INDEF_MAP_EVEN : it->u * 2;
    return it->indef || it->u <= avail / 2 ? BS__OPEN : BS__BAD;
  case BS_CBOR_TAG:
    *n = 1;
    return BS__OPEN;
  default:
    return BS__LEAF;
  }
}

/* Consumes the leaf `it` at p, returning the byte after it, or NULL when it
 * is not a complete item that may stand alone. Indefinite strings are
 * leaves: their chunks are checked by scan_chunks and cannot nest. */
static const uint8_t *skip_leaf(const uint8_t *p, const uint8_t *end,
                                const bs__item *it) {
  const uint8_t *after = NULL;
  size_t total = 0;
  switch (it->type) {
  case BS_CBOR_INVALID:
  case BS_CBOR_BREAK:
    return NULL;
  case BS_CBOR_BYTES:
  case BS_CBOR_TEXT:
    if (!it->indef) return p + it->len;
    return scan_chunks(p + it->len, end, it->type, &total, &after) ? after
                                                                   : NULL;
  default:
    return p + it->len;
  }
}

/* Counts one completed item against the open containers, closing each
 * definite one that it completes (which completes an item of its parent). */
static void complete_item(uint64_t *left, size_t *depth) {
  while (*depth > 0) {
    uint64_t *top = &left[*depth - 1];
    if (*top == BS__INDEF_MAP_EVEN || *top == BS__INDEF_MAP_ODD) {
      *top = *top == BS__INDEF_MAP_EVEN ? BS__INDEF_MAP_ODD : BS__INDEF_MAP_EVEN;
      return;
    }
    if (*top == BS__INDEF_ARRAY || --*top != 0) return;
    --*depth;
  }
}

/* True when a break now closes the innermost open container: an indefinite
 * array, or an indefinite map holding whole key/value pairs. */
static bool break_closes(const uint64_t *left, size_t depth) {
  return depth > 0 && (left[depth - 1] == BS__INDEF_ARRAY ||
                       left[depth - 1] == BS__INDEF_MAP_EVEN);
}

/* Iterative skip over an explicit stack. Opening a container while
 * BS_CBOR_MAX_DEPTH are already open is rejected, empty ones included, so
 * the limit does not depend on what the innermost container holds. */
int bs_read_skip(bs_reader *r) {
  if (r->err != 0) return r->err;
  uint64_t left[BS_CBOR_MAX_DEPTH];
  size_t depth = 0;
  const uint8_t *p = r->p;
  do {
    bs__item it;
    uint64_t n = 0;
    if (decode(p, r->end, &it) == BS_CBOR_BREAK && break_closes(left, depth)) {
      p += it.len;
      depth--; /* the indefinite container is complete */
    } else {
      int kind = classify(&it, (uint64_t)(r->end - p) - it.len, &n);
      if (kind == BS__BAD || (kind == BS__OPEN && depth == BS_CBOR_MAX_DEPTH))
        return fail(r, BS_EDECODE);
      if (kind == BS__OPEN) {
        p += it.len;
        if (n != 0) {
          left[depth++] = n;
          continue; /* complete only once its items are */
        }
      } else if ((p = skip_leaf(p, r->end, &it)) == NULL) {
        return fail(r, BS_EDECODE);
      }
    }
    complete_item(left, &depth);
  } while (depth > 0);
  r->p = p;
  return 0;
}

/* ---- Arena ------------------------------------------------------------------ */

void *bs_reader_alloc(bs_reader *r, size_t size, size_t align) {
  if (r->err != 0) return NULL;
  void *p = r->arena != NULL ? bs_arena_alloc(r->arena, size, align) : NULL;
  if (p == NULL)
    fail(r, r->arena != NULL && bs_arena_over_limit(r->arena, size)
                ? BS_ETOOBIG : BS_ENOMEM);
  return p;
}
