/* Types and helpers that backstage-gen's output is written against.
 *
 * Users see two things here: bs_bytes (a byte buffer parameter or field) and
 * BS_ARRAY (sugar for the pointer + length convention of dynamic arrays).
 * Everything named bs_gen_* is for generated code only: small inline
 * helpers that keep the generated files short and readable. They follow the
 * codec's sticky-error rule: once r->err / w->err is set they do nothing.
 *
 * See docs/generator.md for the conventions and docs/wire-format.md for the
 * encoding.
 */
#ifndef BACKSTAGE_GEN_H
#define BACKSTAGE_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blob.h"
#include "codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte buffer, encoded as one CBOR byte string. A receiver's `data`
 * points into the message (zero-copy), valid for the duration of the call. */
typedef struct bs_bytes {
  const void *data;
  size_t len;
} bs_bytes;

/* Dynamic array convention: a `const T *` immediately followed by a
 * `size_t` (struct fields or parameters) is one array of that many T.
 * BS_ARRAY(T, name) declares such a pair as struct fields:
 *   struct Path { BS_ARRAY(Point, points); };  // points, points_count
 * The const goes after T, so that a pointer T stays const at both levels:
 * BS_ARRAY(const char *, names) is `const char *const *names`. */
#define BS_ARRAY(T, name)                                                      \
  T const *name;                                                               \
  size_t name##_count

/* ---- For generated code -------------------------------------------------- */

/* Integers go through 64-bit reads and are range-checked against the
 * destination type, whatever C type spells it (char, long long, ...). */
static inline int64_t bs_gen_read_int(bs_reader *r, int64_t min, int64_t max) {
  int64_t v = 0;
  if (bs_read_int(r, &v) == 0 && (v < min || v > max)) r->err = BS_EDECODE;
  return r->err == 0 ? v : 0;
}

static inline uint64_t bs_gen_read_uint(bs_reader *r, uint64_t max) {
  uint64_t v = 0;
  if (bs_read_uint(r, &v) == 0 && v > max) r->err = BS_EDECODE;
  return r->err == 0 ? v : 0;
}

/* A map key of a struct field. Keys of any other CBOR type (a newer
 * encoding we do not know) are skipped with their value: *known is false. */
static inline uint64_t bs_gen_read_key(bs_reader *r, bool *known) {
  uint64_t key = 0;
  *known = false;
  if (bs_peek(r) != BS_CBOR_UINT) {
    bs_read_skip(r);
    bs_read_skip(r);
    return 0;
  }
  *known = bs_read_uint(r, &key) == 0;
  return key;
}

/* Header of a dynamic array: `n` elements of `size` bytes from the
 * reader's arena (NULL when n is 0). A count larger than the remaining
 * input is rejected before allocating (every element takes at least one
 * byte), so the count is bounded by the input. The bytes are not: an empty
 * CBOR map is one byte and may decode into a struct of kilobytes, so n
 * such maps ask for n * size bytes. What bounds that is the arena's limit
 * (the engine's max_decode_bytes per message): past it this fails with
 * BS_ETOOBIG before allocating anything. */
static inline void *bs_gen_read_array(bs_reader *r, size_t *n, size_t size,
                                      size_t align) {
  uint64_t count = 0;
  void *items = NULL;
  *n = 0;
  if (bs_read_array(r, &count) != 0) return NULL;
  if (count > (uint64_t)(r->end - r->p) || count > SIZE_MAX / size) {
    r->err = BS_EDECODE;
    return NULL;
  }
  if (count == 0) return NULL;
  items = bs_reader_alloc(r, (size_t)count * size, align);
  if (items != NULL) *n = (size_t)count;
  return items;
}

/* A `const T *` to one struct: CBOR null decodes to NULL, anything else to
 * zeroed arena memory for the caller to decode into. */
static inline void *bs_gen_read_ref(bs_reader *r, size_t size, size_t align) {
  void *p;
  if (r->err != 0) return NULL;
  if (bs_peek(r) == BS_CBOR_NULL) {
    bs_read_null(r);
    return NULL;
  }
  p = bs_reader_alloc(r, size, align);
  if (p != NULL) memset(p, 0, size);
  return p;
}

/* char[N] travels as text (up to the first NUL). A longer text than fits
 * is truncated at the receiver, which always NUL-terminates. */
static inline int bs_gen_write_charbuf(bs_writer *w, const char *s, size_t cap) {
  size_t len = 0;
  while (len < cap && s[len] != '\0') len++;
  return bs_write_text(w, s, len);
}

static inline int bs_gen_read_charbuf(bs_reader *r, char *buf, size_t cap) {
  const char *s = NULL;
  size_t len = 0;
  if (bs_read_text(r, &s, &len) != 0 || cap == 0) return r->err;
  if (len >= cap) len = cap - 1;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return 0;
}

/* uint8_t[N] travels as a byte string; extra bytes are dropped, missing
 * ones stay zero (so a fixed buffer may grow between versions). */
static inline int bs_gen_read_fixbytes(bs_reader *r, void *buf, size_t cap) {
  const void *p = NULL;
  size_t len = 0;
  if (bs_read_bytes(r, &p, &len) != 0) return r->err;
  memcpy(buf, p, len < cap ? len : cap);
  return 0;
}

/* Await results that hold pointers must outlive the reply message: the
 * rest of `value` is copied into the caller's arena and decoded from
 * there, so strings, bytes and arrays in the result live as long as it. */
typedef struct bs_gen_await_slot {
  void *out;
  bs_arena *arena;
} bs_gen_await_slot;

static inline int bs_gen_reader_rebase(const bs_reader *value, bs_arena *arena,
                                       bs_reader *out) {
  size_t len = (size_t)(value->end - value->p);
  void *copy = bs_arena_alloc(arena, len, 1);
  if (copy == NULL)
    return bs_arena_over_limit(arena, len) ? BS_ETOOBIG : BS_ENOMEM;
  if (len > 0) memcpy(copy, value->p, len);
  bs_reader_init(out, copy, len, arena);
  out->refs = value->refs;
  return 0;
}

#ifdef __cplusplus
}
#endif
#endif
