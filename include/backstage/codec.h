/* CBOR codec helpers: the push-style writer and pull-style reader that the
 * generated proxies and dispatch thunks are made of.
 *
 * Writing goes through libcbor's streaming encoders (cbor_encode_*), reading
 * through its streaming decoder (cbor_stream_decode). Neither allocates: a
 * writer writes into a caller-provided buffer (or one the engine grows from
 * its message pools), and a reader hands out pointers into the buffer it
 * reads (zero-copy text and bytes). The only exception is a NUL-terminated
 * copy of a text string (bs_read_cstr) or memory a decoder needs for decoded
 * arrays (bs_reader_alloc): those come from the reader's arena, which the
 * engine resets after every dispatch, so they stay valid for the duration of
 * the call and cost no malloc in steady state.
 *
 * Errors are sticky: the first failure is stored in `err` and every later
 * call on the same writer/reader does nothing and returns that error. The
 * generated code therefore checks once, at the end.
 */
#ifndef BACKSTAGE_CODEC_H
#define BACKSTAGE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Arena: scratch memory for decoding, released all at once. ---------- */

typedef struct bs__arena_chunk bs__arena_chunk;

typedef struct bs_arena {
  bs_allocator alloc;     /* where chunks come from */
  bs__arena_chunk *head;  /* chunk being filled; older ones follow */
  size_t used;            /* bytes used in head */
  size_t total;           /* bytes held in all chunks */
  /* The most bytes handed out between two resets; 0 (bs_arena_init's
   * choice): no limit. Set it directly. The engine's decoding arena has the
   * engine's max_decode_bytes, so one message cannot make it allocate more
   * than that, whatever its body claims (see bs_reader_alloc). */
  size_t limit;
  size_t taken;           /* bytes handed out since the last reset */
} bs_arena;

void bs_arena_init(bs_arena *a, bs_allocator alloc);
/* Returns `size` bytes aligned to `align` (a power of two <= 16), or NULL
 * when the allocator fails or `size` would take the arena past its limit
 * (then nothing is allocated). `size` 0 returns a valid non-NULL pointer. */
void *bs_arena_alloc(bs_arena *a, size_t size, size_t align);
/* true if `size` more bytes would take `a` past its limit. */
bool bs_arena_over_limit(const bs_arena *a, size_t size);
/* Forgets every allocation but keeps the largest chunk of at most 1 MiB for
 * reuse, so a reset/alloc cycle of the same shape does not allocate again,
 * and the memory a larger cycle (a large message) needed is given back. */
void bs_arena_reset(bs_arena *a);
/* Frees every chunk. The arena may be reused after bs_arena_init. */
void bs_arena_free(bs_arena *a);

/* ---- Writer ------------------------------------------------------------- */

typedef struct bs_writer bs_writer;

/* Called when a write of `need` more bytes does not fit. Must make at least
 * `need` bytes available past w->len (moving w->buf if it likes) and return
 * 0, or return a negative BS_E* code. */
typedef int (*bs_writer_grow_fn)(bs_writer *w, size_t need);

struct bs_writer {
  uint8_t *buf;           /* start of the encoded data */
  size_t len;             /* bytes written so far */
  size_t cap;             /* bytes available at buf */
  int err;                /* first error (sticky), 0 if none */
  bs_writer_grow_fn grow; /* NULL: fixed buffer, overflow is BS_ETOOBIG */
  void *owner;            /* private to whoever set `grow` (the engine) */
  void *owner2;
};

/* A writer over a fixed buffer: overflowing it sets BS_ETOOBIG. */
void bs_writer_init(bs_writer *w, void *buf, size_t cap);

/* Each returns w->err after the write (0 on success). */
static inline int bs_write_uint(bs_writer *w, uint64_t v);
static inline int bs_write_int(bs_writer *w, int64_t v); /* major 0 or 1 */
int bs_write_bool(bs_writer *w, bool v);
int bs_write_null(bs_writer *w);
int bs_write_float(bs_writer *w, float v);     /* single precision */
int bs_write_double(bs_writer *w, double v);   /* double precision */
int bs_write_text(bs_writer *w, const char *s, size_t len);
int bs_write_cstr(bs_writer *w, const char *s); /* NULL is written as null */
int bs_write_bytes(bs_writer *w, const void *p, size_t len);
static inline int bs_write_array(bs_writer *w, uint64_t n); /* definite */
int bs_write_map(bs_writer *w, uint64_t n);    /* definite-length header */
int bs_write_tag(bs_writer *w, uint64_t tag);
int bs_write_raw(bs_writer *w, const void *p, size_t len); /* pre-encoded */

/* ---- Reader ------------------------------------------------------------- */

typedef enum bs_cbor_type {
  BS_CBOR_END = 0,  /* no more input */
  BS_CBOR_UINT,     /* major type 0 */
  BS_CBOR_NEGINT,   /* major type 1 */
  BS_CBOR_BYTES,    /* major type 2, definite or indefinite */
  BS_CBOR_TEXT,     /* major type 3, definite or indefinite */
  BS_CBOR_ARRAY,    /* major type 4, definite or indefinite */
  BS_CBOR_MAP,      /* major type 5, definite or indefinite */
  BS_CBOR_TAG,      /* major type 6 */
  BS_CBOR_FLOAT,    /* half, single or double */
  BS_CBOR_BOOL,
  BS_CBOR_NULL,
  BS_CBOR_UNDEFINED,
  BS_CBOR_SIMPLE,   /* other simple values */
  BS_CBOR_BREAK,    /* 0xff, end of an indefinite item */
  BS_CBOR_INVALID   /* malformed or truncated */
} bs_cbor_type;

/* Nesting deeper than this is rejected by bs_read_skip (BS_EDECODE), so
 * hostile input cannot exhaust the stack. */
#define BS_CBOR_MAX_DEPTH 64

struct bs__refs;

typedef struct bs_reader {
  const uint8_t *p;   /* next byte to read */
  const uint8_t *end; /* one past the last byte */
  int err;            /* first error (sticky), 0 if none */
  bs_arena *arena;    /* for bs_read_cstr / bs_reader_alloc; may be NULL */
  /* The blob references of the message being read (set by the engine;
   * bs_reader_init: none). Copy it along with the reader. */
  const struct bs__refs *refs;
} bs_reader;

void bs_reader_init(bs_reader *r, const void *buf, size_t len, bs_arena *arena);

/* Type of the next item without consuming it (BS_CBOR_END at end of input,
 * BS_CBOR_INVALID if malformed). Does not touch r->err. */
bs_cbor_type bs_peek(const bs_reader *r);

static inline bool bs_reader_at_end(const bs_reader *r) { return r->p >= r->end; }

/* Each consumes one item and returns r->err afterwards (0 on success). On a
 * type mismatch or malformed input they set BS_EDECODE and leave *out
 * untouched; integers out of the target's range are BS_EDECODE too. */
static inline int bs_read_uint(bs_reader *r, uint64_t *out);
static inline int bs_read_int(bs_reader *r, int64_t *out);
int bs_read_bool(bs_reader *r, bool *out);
int bs_read_null(bs_reader *r);
/* Floats accept half, single and double encodings. */
int bs_read_float(bs_reader *r, float *out);
int bs_read_double(bs_reader *r, double *out);
/* Zero-copy: *s points into the input, not NUL-terminated. An indefinite
 * string is joined into the arena (BS_ENOMEM without one). */
int bs_read_text(bs_reader *r, const char **s, size_t *len);
int bs_read_bytes(bs_reader *r, const void **p, size_t *len);
/* A NUL-terminated copy of a text string in the arena; a CBOR null yields
 * *s == NULL. */
int bs_read_cstr(bs_reader *r, const char **s);
/* Definite-length container headers; indefinite ones are BS_EDECODE here
 * (use bs_read_skip to step over them). */
static inline int bs_read_array(bs_reader *r, uint64_t *n);
int bs_read_map(bs_reader *r, uint64_t *n);
int bs_read_tag(bs_reader *r, uint64_t *tag);
/* Skips one complete item of any type, nested and indefinite ones
 * included, up to BS_CBOR_MAX_DEPTH. */
int bs_read_skip(bs_reader *r);
/* `size` bytes from the reader's arena; on failure NULL and a sticky
 * error: BS_ETOOBIG past the arena's limit, BS_ENOMEM otherwise (also
 * without an arena). */
void *bs_reader_alloc(bs_reader *r, size_t size, size_t align);

/* ---- Hot paths ----------------------------------------------------------
 * Message framing is mostly small integers, 32-bit method ids and short
 * array headers. Those cases are handled inline here; everything else (and
 * every error) goes to the library's bs__* functions, which share the
 * contract of the names above. */
int bs__write_uint(bs_writer *w, uint64_t v);
int bs__write_int(bs_writer *w, int64_t v);
int bs__write_array(bs_writer *w, uint64_t n);
int bs__read_uint(bs_reader *r, uint64_t *out);
int bs__read_int(bs_reader *r, int64_t *out);
int bs__read_array(bs_reader *r, uint64_t *n);

static inline int bs__put1(bs_writer *w, unsigned byte) {
  w->buf[w->len++] = (uint8_t)byte;
  return 0;
}

static inline int bs_write_uint(bs_writer *w, uint64_t v) {
  if (w->err == 0 && w->cap - w->len >= 5 && w->len <= w->cap) {
    /* The shortest head, as CBOR's preferred serialization asks. */
    uint8_t *d = w->buf + w->len;
    if (v < 24) return bs__put1(w, (unsigned)v);
    if (v <= UINT8_MAX) {
      d[0] = 0x18;
      d[1] = (uint8_t)v;
      w->len += 2;
      return 0;
    }
    if (v > UINT16_MAX && v <= UINT32_MAX) {
      d[0] = 0x1a;
      d[1] = (uint8_t)(v >> 24);
      d[2] = (uint8_t)(v >> 16);
      d[3] = (uint8_t)(v >> 8);
      d[4] = (uint8_t)v;
      w->len += 5;
      return 0;
    }
  }
  return bs__write_uint(w, v);
}

static inline int bs_write_int(bs_writer *w, int64_t v) {
  if (w->err == 0 && w->len < w->cap) {
    if (v >= 0 && v < 24) return bs__put1(w, (unsigned)v);
    if (v < 0 && v >= -24) return bs__put1(w, 0x20u | (unsigned)(-1 - v));
  }
  return bs__write_int(w, v);
}

static inline int bs_write_array(bs_writer *w, uint64_t n) {
  if (n < 24 && w->err == 0 && w->len < w->cap) return bs__put1(w, 0x80u | (unsigned)n);
  return bs__write_array(w, n);
}

static inline int bs_read_uint(bs_reader *r, uint64_t *out) {
  const uint8_t *p = r->p;
  if (r->err == 0 && p < r->end) {
    if (*p < 24) {
      *out = *p;
      r->p = p + 1;
      return 0;
    }
    if (*p == 0x1a && r->end - p >= 5) {
      *out = (uint64_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 8 | p[4]);
      r->p = p + 5;
      return 0;
    }
  }
  return bs__read_uint(r, out);
}

static inline int bs_read_int(bs_reader *r, int64_t *out) {
  const uint8_t *p = r->p;
  if (r->err == 0 && p < r->end && *p < 0x38 && (*p & 31) < 24) {
    *out = *p < 0x20 ? (int64_t)*p : -1 - (int64_t)(*p & 31);
    r->p = p + 1;
    return 0;
  }
  return bs__read_int(r, out);
}

/* A count above the bytes left is an error (every item takes at least one
 * byte), so the inline case needs n < the bytes after the head. */
static inline int bs_read_array(bs_reader *r, uint64_t *n) {
  const uint8_t *p = r->p;
  if (r->err == 0 && p < r->end && *p >= 0x80 && *p < 0x98 &&
      (ptrdiff_t)(*p - 0x80) < r->end - p) {
    *n = (uint64_t)(*p - 0x80);
    r->p = p + 1;
    return 0;
  }
  return bs__read_array(r, n);
}

/* Fixed-width helpers for generated code: range-checked. */
#define BS__READ_UNSIGNED(name, T, MAX)                                        \
  static inline int bs_read_##name(bs_reader *r, T *out) {                     \
    uint64_t v = 0;                                                            \
    if (bs_read_uint(r, &v) == 0) {                                            \
      if (v > (MAX)) r->err = BS_EDECODE; else *out = (T)v;                    \
    }                                                                          \
    return r->err;                                                             \
  }
#define BS__READ_SIGNED(name, T, MIN, MAX)                                     \
  static inline int bs_read_##name(bs_reader *r, T *out) {                     \
    int64_t v = 0;                                                             \
    if (bs_read_int(r, &v) == 0) {                                             \
      if (v < (MIN) || v > (MAX)) r->err = BS_EDECODE; else *out = (T)v;       \
    }                                                                          \
    return r->err;                                                             \
  }
BS__READ_UNSIGNED(u8, uint8_t, UINT8_MAX)
BS__READ_UNSIGNED(u16, uint16_t, UINT16_MAX)
BS__READ_UNSIGNED(u32, uint32_t, UINT32_MAX)
BS__READ_UNSIGNED(u64, uint64_t, UINT64_MAX)
BS__READ_SIGNED(i8, int8_t, INT8_MIN, INT8_MAX)
BS__READ_SIGNED(i16, int16_t, INT16_MIN, INT16_MAX)
BS__READ_SIGNED(i32, int32_t, INT32_MIN, INT32_MAX)
BS__READ_SIGNED(i64, int64_t, INT64_MIN, INT64_MAX)

#ifdef __cplusplus
}
#endif
#endif
