/* Writer: CBOR encoding through libcbor's streaming encoders.
 *
 * Every write tries the encoder on the room left first; only when the
 * encoder reports no room (returns 0) do we take the slow path, which asks
 * w->grow for the worst case of that item and retries once. The fast path is
 * therefore one sticky-error test, one room test (which keeps a NULL buffer
 * out of pointer arithmetic) and the encoder call.
 *
 * A failed write leaves whatever prefix was written in place; the error is
 * sticky, so the caller discards the whole buffer anyway.
 */
#include <stdint.h>
#include <string.h>

#include <cbor.h>

#include "backstage/codec.h"

/* Worst case for a head (initial byte + 8-byte argument) and for the two
 * float widths we emit. */
#define BS__HEAD_MAX 9u
#define BS__SINGLE_LEN 5u
#define BS__DOUBLE_LEN 9u

void bs_writer_init(bs_writer *w, void *buf, size_t cap) {
  w->buf = buf;
  w->len = 0;
  w->cap = buf != NULL ? cap : 0;
  w->err = 0;
  w->grow = NULL;
  w->owner = NULL;
  w->owner2 = NULL;
}

/* Slow path: makes `need` bytes available past w->len or records the error.
 * The room is re-checked after grow so that a grow function breaking its
 * contract costs an error, not an out-of-bounds write. */
static int make_room(bs_writer *w, size_t need) {
  int rc = w->grow != NULL ? w->grow(w, need) : BS_ETOOBIG;
  if (rc > 0) rc = BS_EINVAL;
  if (rc == 0 && (w->buf == NULL || w->len > w->cap || w->cap - w->len < need))
    rc = BS_ETOOBIG;
  if (rc != 0) w->err = rc;
  return rc;
}

/* Runs the encoder expression `call` (which writes at DST with LEFT bytes of
 * room) and advances w->len; on no room grows by `need` and retries once.
 * Returns from the calling function on error. */
#define DST (w->buf + w->len)
#define LEFT (w->cap - w->len)
#define BS__ENCODE(need, call)                                                 \
  do {                                                                         \
    if (w->err != 0) return w->err;                                            \
    size_t n_ = w->len < w->cap ? (call) : 0;                                  \
    if (n_ == 0) {                                                             \
      if (make_room(w, (need)) != 0) return w->err;                            \
      n_ = (call);                                                             \
      if (n_ == 0) return w->err = BS_EENCODE;                                 \
    }                                                                          \
    w->len += n_;                                                              \
  } while (0)

/* Fast path for a one-byte head (argument < 24): the bulk of message
 * framing (array headers, small ints). Anything else goes to libcbor. */
#define BS__IMMEDIATE(major, v)                                                \
  do {                                                                         \
    if ((v) < 24 && w->err == 0 && w->len < w->cap) {                          \
      w->buf[w->len++] = (uint8_t)((major) << 5 | (v));                        \
      return 0;                                                                \
    }                                                                          \
  } while (0)

/* A head of major type `major` whose argument fits 16 bits (the inline
 * writers of codec.h take the other common ones), written directly when
 * there is room: returns 0, or -1 to go through libcbor. */
static int put_short_head(bs_writer *w, unsigned major, uint64_t v) {
  if (w->err != 0 || v > UINT16_MAX || w->len > w->cap || w->cap - w->len < 3) return -1;
  uint8_t *d = DST;
  if (v < 24) {
    d[0] = (uint8_t)(major << 5 | v);
    w->len += 1;
  } else if (v <= UINT8_MAX) {
    d[0] = (uint8_t)(major << 5 | 24u);
    d[1] = (uint8_t)v;
    w->len += 2;
  } else {
    d[0] = (uint8_t)(major << 5 | 25u);
    d[1] = (uint8_t)(v >> 8);
    d[2] = (uint8_t)v;
    w->len += 3;
  }
  return 0;
}

int bs__write_uint(bs_writer *w, uint64_t v) {
  if (put_short_head(w, 0u, v) == 0) return 0;
  BS__ENCODE(BS__HEAD_MAX, cbor_encode_uint(v, DST, LEFT));
  return 0;
}

int bs__write_int(bs_writer *w, int64_t v) {
  if (v >= 0) return bs_write_uint(w, (uint64_t)v);
  /* -1 - v cannot overflow for negative v: it lies in [0, INT64_MAX]. */
  uint64_t arg = (uint64_t)(-1 - v);
  if (put_short_head(w, 1u, arg) == 0) return 0;
  BS__ENCODE(BS__HEAD_MAX, cbor_encode_negint(arg, DST, LEFT));
  return 0;
}

int bs_write_bool(bs_writer *w, bool v) {
  BS__ENCODE(1, cbor_encode_bool(v, DST, LEFT));
  return 0;
}

int bs_write_null(bs_writer *w) {
  BS__ENCODE(1, cbor_encode_null(DST, LEFT));
  return 0;
}

int bs_write_float(bs_writer *w, float v) {
  BS__ENCODE(BS__SINGLE_LEN, cbor_encode_single(v, DST, LEFT));
  return 0;
}

int bs_write_double(bs_writer *w, double v) {
  BS__ENCODE(BS__DOUBLE_LEN, cbor_encode_double(v, DST, LEFT));
  return 0;
}

/* libcbor takes lengths and counts as size_t; a 64-bit count that does not
 * fit (32-bit targets only) could never be followed by its items anyway. */
static bool fits_size(uint64_t n) {
#if SIZE_MAX < UINT64_MAX
  return n <= SIZE_MAX;
#else
  (void)n;
  return true;
#endif
}

/* Copies a payload after its head; grows for exactly the payload. */
static int put_payload(bs_writer *w, const void *p, size_t len) {
  if (len == 0) return 0;
  if (LEFT < len && make_room(w, len) != 0) return w->err;
  memcpy(DST, p, len);
  w->len += len;
  return 0;
}

/* Head plus payload for the string types. Asking for both at once on
 * overflow lets a growing writer reallocate only once. */
static size_t string_need(size_t len) {
  return len <= SIZE_MAX - BS__HEAD_MAX ? BS__HEAD_MAX + len : SIZE_MAX;
}

int bs_write_text(bs_writer *w, const char *s, size_t len) {
  BS__ENCODE(string_need(len), cbor_encode_string_start(len, DST, LEFT));
  return put_payload(w, s, len);
}

int bs_write_cstr(bs_writer *w, const char *s) {
  if (s == NULL) return bs_write_null(w);
  return bs_write_text(w, s, strlen(s));
}

int bs_write_bytes(bs_writer *w, const void *p, size_t len) {
  BS__ENCODE(string_need(len), cbor_encode_bytestring_start(len, DST, LEFT));
  return put_payload(w, p, len);
}

int bs__write_array(bs_writer *w, uint64_t n) {
  BS__IMMEDIATE(4u, n);
  if (!fits_size(n) && w->err == 0) w->err = BS_ETOOBIG;
  BS__ENCODE(BS__HEAD_MAX, cbor_encode_array_start((size_t)n, DST, LEFT));
  return 0;
}

int bs_write_map(bs_writer *w, uint64_t n) {
  BS__IMMEDIATE(5u, n);
  if (!fits_size(n) && w->err == 0) w->err = BS_ETOOBIG;
  BS__ENCODE(BS__HEAD_MAX, cbor_encode_map_start((size_t)n, DST, LEFT));
  return 0;
}

int bs_write_tag(bs_writer *w, uint64_t tag) {
  BS__ENCODE(BS__HEAD_MAX, cbor_encode_tag(tag, DST, LEFT));
  return 0;
}

int bs_write_raw(bs_writer *w, const void *p, size_t len) {
  if (w->err != 0) return w->err;
  return put_payload(w, p, len);
}
