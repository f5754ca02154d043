/* fuzz_codec: the CBOR reader on arbitrary input.
 *
 * Every input runs four passes over the same bytes, each with a decoding
 * arena on a counting allocator:
 *
 *   1. typed walk: bs_peek says what comes next and the matching bs_read_*
 *      reads it (bs_read_skip for what has no reader), item after item;
 *   2. op tape: the first byte says how many of the following bytes are ops
 *      (its top bit: a reader without an arena);
 *      each op calls one reader (any of them, whatever comes next), so
 *      mismatches and errors are exercised, and errors are cleared to go on;
 *   3. differential: every top-level item is skipped with bs_read_skip and,
 *      separately, walked recursively with the typed readers; both must
 *      agree on success and on where the item ends;
 *   4. round trip: each scalar read is written back with the bs_write_* of
 *      its kind and read again, which must give the same value.
 *
 * Checked after every call: the reader never moves outside its input, a
 * failed read consumes nothing and leaves the error sticky, a successful one
 * makes progress; every byte of every string handed out is read (so ASan
 * sees a bad pointer or length); the arena gives back every byte.
 * Any violation aborts: libFuzzer saves the input as a crash. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <backstage.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_codec: check failed at %s:%d: %s\n", __FILE__,     \
              __LINE__, #cond);                                                \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ---- Counting allocator for the arena ---------------------------------- */

static size_t live_bytes;
static long live_blocks;

static void *count_alloc(void *ud, void *p, size_t old, size_t n) {
  (void)ud;
  if (n == 0) {
    if (p) {
      live_bytes -= old;
      live_blocks--;
    }
    free(p);
    return NULL;
  }
  void *q = realloc(p, n);
  if (!q) return NULL;
  if (p) live_bytes -= old; else live_blocks++;
  live_bytes += n;
  return q;
}

/* Reads every byte, so ASan checks the whole range. */
static volatile uint64_t sink;
static void touch(const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = 0;
  for (size_t i = 0; i < n; i++) h = h * 31 + b[i];
  sink += h;
}

/* After a call on `r` that started at `before`: consistent state. */
static void check_after(const bs_reader *r, const uint8_t *lo,
                        const uint8_t *before, int rc, int err_before) {
  CHECK(r->p >= lo && r->p <= r->end);
  if (err_before != 0) {
    /* Sticky: nothing happens, the same error comes back. */
    CHECK(rc == err_before && r->err == err_before && r->p == before);
    return;
  }
  if (rc != 0) {
    CHECK(rc == r->err);
    CHECK(rc == BS_EDECODE || rc == BS_ENOMEM);
    CHECK(r->p == before); /* nothing consumed */
  } else {
    CHECK(r->err == 0);
    CHECK(r->p > before); /* every item takes at least one byte */
  }
}

/* ---- Round trips of scalars -------------------------------------------- */

static void rt_int(int64_t v) {
  uint8_t buf[16];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  CHECK(bs_write_int(&w, v) == 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  int64_t back = 0;
  CHECK(bs_read_int(&r, &back) == 0 && back == v && bs_reader_at_end(&r));
}

static void rt_uint(uint64_t v) {
  uint8_t buf[16];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  CHECK(bs_write_uint(&w, v) == 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  uint64_t back = 0;
  CHECK(bs_read_uint(&r, &back) == 0 && back == v && bs_reader_at_end(&r));
}

static void rt_double(double v) {
  uint8_t buf[16];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  CHECK(bs_write_double(&w, v) == 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  double back = 0;
  CHECK(bs_read_double(&r, &back) == 0 && bs_reader_at_end(&r));
  CHECK(memcmp(&back, &v, sizeof v) == 0); /* bit for bit, NaN payloads too */
}

static void rt_string(bool text, const void *p, size_t n) {
  static uint8_t buf[1 << 17];
  if (n > sizeof buf - 16) return;
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  CHECK((text ? bs_write_text(&w, p, n) : bs_write_bytes(&w, p, n)) == 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  const void *q = NULL;
  size_t m = 0;
  if (text)
    CHECK(bs_read_text(&r, (const char **)&q, &m) == 0);
  else
    CHECK(bs_read_bytes(&r, &q, &m) == 0);
  CHECK(m == n && (n == 0 || memcmp(p, q, n) == 0) && bs_reader_at_end(&r));
}

/* ---- One read of each kind ------------------------------------------------ */

enum { OP_UINT, OP_INT, OP_BOOL, OP_NULL, OP_FLOAT, OP_DOUBLE, OP_TEXT,
       OP_BYTES, OP_CSTR, OP_ARRAY, OP_MAP, OP_TAG, OP_SKIP, OP_U8, OP_I8,
       OP_U16, OP_I16, OP_U32, OP_I32, OP_I64, OP_ALLOC, OP_PEEK, OP__COUNT };

/* Runs one op on r and checks the reader afterwards. Returns the status. */
static int do_op(bs_reader *r, const uint8_t *lo, int op, bool roundtrip) {
  const uint8_t *before = r->p;
  int err_before = r->err;
  int rc = 0;
  switch (op) {
  case OP_UINT: {
    uint64_t v = 0;
    rc = bs_read_uint(r, &v);
    if (rc == 0 && roundtrip) rt_uint(v);
    break;
  }
  case OP_INT: {
    int64_t v = 0;
    rc = bs_read_int(r, &v);
    if (rc == 0 && roundtrip) rt_int(v);
    break;
  }
  case OP_BOOL: {
    bool v = false;
    rc = bs_read_bool(r, &v);
    break;
  }
  case OP_NULL: rc = bs_read_null(r); break;
  case OP_FLOAT: {
    float v = 0;
    rc = bs_read_float(r, &v);
    break;
  }
  case OP_DOUBLE: {
    double v = 0;
    rc = bs_read_double(r, &v);
    if (rc == 0 && roundtrip) rt_double(v);
    break;
  }
  case OP_TEXT:
  case OP_BYTES: {
    const void *p = NULL;
    size_t n = 0;
    rc = op == OP_TEXT ? bs_read_text(r, (const char **)&p, &n)
                       : bs_read_bytes(r, &p, &n);
    if (rc == 0) {
      touch(p, n);
      if (roundtrip) rt_string(op == OP_TEXT, p, n);
    }
    break;
  }
  case OP_CSTR: {
    const char *s = (const char *)"unchanged";
    rc = bs_read_cstr(r, &s);
    if (rc == 0 && s != NULL) touch(s, strlen(s) + 1);
    break;
  }
  case OP_ARRAY:
  case OP_MAP: {
    uint64_t n = 0;
    rc = op == OP_ARRAY ? bs_read_array(r, &n) : bs_read_map(r, &n);
    /* A count is never larger than the bytes left could hold. */
    if (rc == 0)
      CHECK(n <= (uint64_t)(r->end - r->p) / (op == OP_MAP ? 2u : 1u));
    break;
  }
  case OP_TAG: {
    uint64_t t = 0;
    rc = bs_read_tag(r, &t);
    break;
  }
  case OP_SKIP: rc = bs_read_skip(r); break;
  case OP_U8: { uint8_t v; rc = bs_read_u8(r, &v); break; }
  case OP_I8: { int8_t v; rc = bs_read_i8(r, &v); break; }
  case OP_U16: { uint16_t v; rc = bs_read_u16(r, &v); break; }
  case OP_I16: { int16_t v; rc = bs_read_i16(r, &v); break; }
  case OP_U32: { uint32_t v; rc = bs_read_u32(r, &v); break; }
  case OP_I32: { int32_t v; rc = bs_read_i32(r, &v); break; }
  case OP_I64: { int64_t v; rc = bs_read_i64(r, &v); break; }
  case OP_ALLOC: {
    size_t n = (size_t)(r->end - r->p) & 0xfff;
    void *p = bs_reader_alloc(r, n, (size_t)1 << (n & 7));
    if (err_before == 0 && (((size_t)1 << (n & 7)) <= 16)) {
      CHECK(p != NULL || r->err == BS_ENOMEM);
      if (p) memset(p, 0xab, n);
    }
    CHECK(r->p == before);
    return r->err;
  }
  case OP_PEEK: {
    bs_cbor_type t = bs_peek(r);
    CHECK(t >= BS_CBOR_END && t <= BS_CBOR_INVALID);
    CHECK((t == BS_CBOR_END) == bs_reader_at_end(r));
    CHECK(r->p == before && r->err == err_before);
    return r->err;
  }
  default: return 0;
  }
  /* The narrow integer readers (static inline in codec.h) set the error
   * after consuming the item when the value is out of range: documented as
   * "the output is then left untouched"; consumption is not promised, so
   * only the wide readers are held to "nothing consumed". */
  if (op >= OP_U8 && op <= OP_I64 && rc == BS_EDECODE && err_before == 0) {
    CHECK(r->p >= before && r->p <= r->end);
    return rc;
  }
  check_after(r, lo, before, rc, err_before);
  return rc;
}

/* ---- Pass 1: peek-directed walk ------------------------------------------ */

static void typed_walk(const uint8_t *data, size_t size, bs_arena *a) {
  bs_reader r;
  bs_reader_init(&r, data, size, a);
  for (int guard = 0; guard < 100000 && !bs_reader_at_end(&r) && r.err == 0;
       guard++) {
    int op;
    switch (bs_peek(&r)) {
    case BS_CBOR_UINT: op = OP_UINT; break;
    case BS_CBOR_NEGINT: op = OP_INT; break;
    case BS_CBOR_BYTES: op = OP_BYTES; break;
    case BS_CBOR_TEXT: op = (guard & 1) ? OP_CSTR : OP_TEXT; break;
    case BS_CBOR_ARRAY: op = OP_ARRAY; break;
    case BS_CBOR_MAP: op = OP_MAP; break;
    case BS_CBOR_TAG: op = OP_TAG; break;
    case BS_CBOR_FLOAT: op = (guard & 1) ? OP_FLOAT : OP_DOUBLE; break;
    case BS_CBOR_BOOL: op = OP_BOOL; break;
    case BS_CBOR_NULL: op = (guard & 1) ? OP_NULL : OP_CSTR; break;
    default: op = OP_SKIP; break;
    }
    if (do_op(&r, data, op, true) != 0) {
      /* Indefinite containers have no typed reader: skip them. */
      bs_reader_init(&r, r.p, (size_t)(r.end - r.p), a);
      if (do_op(&r, r.p, OP_SKIP, false) != 0) break;
    }
  }
  bs_arena_reset(a);
}

/* ---- Pass 2: op tape ---------------------------------------------------------- */

static void op_tape(const uint8_t *data, size_t size, bs_arena *a) {
  if (size == 0) return;
  size_t nops = data[0] & 0x7f; /* the top bit: a reader without an arena */
  if (nops > size - 1) nops = size - 1;
  const uint8_t *ops = data + 1;
  const uint8_t *body = ops + nops;
  size_t len = size - 1 - nops;
  bs_reader r;
  bs_reader_init(&r, body, len, (data[0] & 0x80) ? NULL : a);
  for (size_t i = 0; i < nops; i++) {
    int op = ops[i] % OP__COUNT;
    int rc = do_op(&r, body, op, false);
    /* A second call on a failed reader: sticky. */
    if (rc != 0) {
      do_op(&r, body, (op + 1) % OP__COUNT, false);
      bs_arena *keep = r.arena;
      bs_reader_init(&r, r.p, (size_t)(r.end - r.p), keep);
    }
  }
  bs_arena_reset(a);
}

/* ---- Pass 3: skip versus a recursive typed walk ----------------------------- */

/* Reads one item with the typed readers, recursing into definite arrays,
 * maps and tags, with bs_read_skip's depth rule (opening a container while
 * BS_CBOR_MAX_DEPTH are open fails). Items without a typed reader
 * (indefinite containers, undefined, simple values, integers below
 * INT64_MIN) are delegated to bs_read_skip. Returns 0 or an error. */
static bool inexact;

static int walk(bs_reader *r, int depth) {
  uint64_t n = 0;
  switch (bs_peek(r)) {
  case BS_CBOR_UINT: {
    uint64_t v;
    return bs_read_uint(r, &v);
  }
  case BS_CBOR_NEGINT: {
    int64_t v;
    if (bs_read_int(r, &v) == 0) return 0;
    r->err = 0;
    return bs_read_skip(r);
  }
  case BS_CBOR_BYTES: {
    const void *p;
    size_t len;
    if (bs_read_bytes(r, &p, &len) == 0) touch(p, len);
    return r->err;
  }
  case BS_CBOR_TEXT: {
    const char *p;
    size_t len;
    if (bs_read_text(r, &p, &len) == 0) touch(p, len);
    return r->err;
  }
  case BS_CBOR_ARRAY:
  case BS_CBOR_MAP: {
    bool map = bs_peek(r) == BS_CBOR_MAP;
    bs_reader probe = *r;
    if ((map ? bs_read_map(&probe, &n) : bs_read_array(&probe, &n)) != 0) {
      /* Indefinite: skip's business. A bad count: both must fail. A skip
       * from here starts counting depth afresh, so the outcome is only
       * comparable at the top. */
      if (depth > 0) inexact = true;
      return bs_read_skip(r);
    }
    if (depth >= BS_CBOR_MAX_DEPTH) return r->err = BS_EDECODE;
    *r = probe;
    if (map) n *= 2;
    for (uint64_t i = 0; i < n; i++)
      if (walk(r, depth + 1) != 0) return r->err;
    return 0;
  }
  case BS_CBOR_TAG: {
    uint64_t t;
    if (depth >= BS_CBOR_MAX_DEPTH) return r->err = BS_EDECODE;
    if (bs_read_tag(r, &t) != 0) return r->err;
    return walk(r, depth + 1);
  }
  case BS_CBOR_FLOAT: {
    double d;
    return bs_read_double(r, &d);
  }
  case BS_CBOR_BOOL: {
    bool b;
    return bs_read_bool(r, &b);
  }
  case BS_CBOR_NULL: return bs_read_null(r);
  case BS_CBOR_UNDEFINED:
  case BS_CBOR_SIMPLE: return bs_read_skip(r);
  default: return r->err = BS_EDECODE; /* END, BREAK, INVALID */
  }
}

static void differential(const uint8_t *data, size_t size, bs_arena *a) {
  const uint8_t *p = data, *end = data + size;
  while (p < end) {
    bs_reader s, t;
    bs_reader_init(&s, p, (size_t)(end - p), a);
    bs_reader_init(&t, p, (size_t)(end - p), a);
    int rs = bs_read_skip(&s);
    inexact = false;
    int rt = walk(&t, 0);
    if (!inexact && ((rs == 0) != (rt == 0) || (rs == 0 && s.p != t.p))) {
      fprintf(stderr,
              "fuzz_codec: skip and walk disagree at offset %zu: skip %d "
              "(to %zu), walk %d (to %zu)\n",
              (size_t)(p - data), rs, (size_t)(s.p - data), rt,
              (size_t)(t.p - data));
      abort();
    }
    bs_arena_reset(a);
    if (rs != 0) break;
    p = s.p;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Copy to a buffer of exactly `size` bytes (libFuzzer's is already, but
   * an empty input must not be a NULL pointer for the reader). */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  if (size) memcpy(buf, data, size);
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){count_alloc, NULL});
  typed_walk(buf, size, &a);
  op_tape(buf, size, &a);
  differential(buf, size, &a);
  bs_arena_free(&a);
  CHECK(live_bytes == 0 && live_blocks == 0);
  free(buf);
  return 0;
}
