/* Tests for the CBOR codec: arena, writer and reader.
 *
 * Buffers handed to the code under test are heap blocks of the exact size in
 * question, so an ASan build turns any read or write past the end into a
 * failure rather than a silent pass.
 */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstage/codec.h"

/* ---- Helpers ------------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  cr_assert_leq(n, cap, "hex literal too long for the test buffer");
  for (size_t i = 0; i < n; i++) {
    unsigned v = 0;
    cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1, "bad hex %s", hex);
    out[i] = (uint8_t)v;
  }
  return n;
}

static const char *tohex(const uint8_t *p, size_t n) {
  static char buf[2 * 512 + 4];
  size_t i = 0;
  buf[0] = '\0';
  for (; i < n && i < 512; i++) snprintf(buf + 2 * i, 3, "%02x", p[i]);
  if (i < n) strcpy(buf + 2 * i, "...");
  return buf;
}

/* A heap copy of exactly `n` bytes, so ASan sees reads past its end. */
static uint8_t *exact_copy(const void *src, size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  cr_assert_not_null(p);
  if (n) memcpy(p, src, n);
  return p;
}

static void expect_bytes(const bs_writer *w, const char *hex) {
  uint8_t want[600];
  size_t n = unhex(hex, want, sizeof want);
  cr_assert_eq(w->err, 0, "writer error %d for %s", w->err, hex);
  cr_expect_eq(w->len, n, "length %zu, want %zu (%s)", w->len, n, hex);
  cr_expect(w->len == n && memcmp(w->buf, want, n) == 0, "got %s, want %s",
            tohex(w->buf, w->len), hex);
}

/* A reader over a heap copy of the hex input; free with free_reader. */
static bs_reader reader_hex(const char *hex, bs_arena *arena) {
  uint8_t tmp[600];
  size_t n = unhex(hex, tmp, sizeof tmp);
  bs_reader r;
  bs_reader_init(&r, exact_copy(tmp, n), n, arena);
  return r;
}

static void free_reader(bs_reader *r, const char *hex) {
  free((void *)(uintptr_t)(r->end - strlen(hex) / 2));
}

/* Counting allocator: tracks calls and live bytes, checks that old_size is
 * what was asked for, and can fail the N-th allocation. */
typedef struct counting {
  long calls;      /* allocations and reallocations attempted */
  long fail_at;    /* fail the call with this index (0-based); -1 never */
  size_t live;     /* bytes currently held */
  long blocks;     /* blocks currently held */
} counting;

static void *counting_fn(void *ud, void *ptr, size_t old, size_t n) {
  counting *c = ud;
  if (n == 0) {
    if (ptr) {
      c->live -= old;
      c->blocks--;
    }
    free(ptr);
    return NULL;
  }
  if (c->calls++ == c->fail_at) return NULL;
  void *q = realloc(ptr, n);
  if (q == NULL) return NULL;
  if (ptr) c->live -= old; else c->blocks++;
  c->live += n;
  return q;
}

static bs_allocator counting_alloc(counting *c) {
  return (bs_allocator){.fn = counting_fn, .ud = c};
}

/* ---- Writer: exact encodings -------------------------------------------- */

typedef struct { uint64_t v; const char *hex; } uint_case;
static const uint_case uint_cases[] = {
    {0, "00"},
    {23, "17"},
    {24, "1818"},
    {255, "18ff"},
    {256, "190100"},
    {65535, "19ffff"},
    {65536, "1a00010000"},
    {UINT32_MAX, "1affffffff"},
    {(uint64_t)UINT32_MAX + 1, "1b0000000100000000"},
    {UINT64_MAX, "1bffffffffffffffff"},
};

typedef struct { int64_t v; const char *hex; } int_case;
static const int_case int_cases[] = {
    {0, "00"},
    {-1, "20"},
    {-24, "37"},
    {-25, "3818"},
    {-256, "38ff"},
    {-257, "390100"},
    {-65536, "39ffff"},
    {-65537, "3a00010000"},
    {-(int64_t)UINT32_MAX - 1, "3affffffff"},
    {-(int64_t)UINT32_MAX - 2, "3b0000000100000000"},
    {INT64_MIN, "3b7fffffffffffffff"},
    {INT64_MAX, "1b7fffffffffffffff"},
    {23, "17"},
    {24, "1818"},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

Test(writer, uint_uses_shortest_head_at_every_boundary) {
  for (size_t i = 0; i < N_ELEMS(uint_cases); i++) {
    uint8_t buf[16];
    bs_writer w;
    bs_writer_init(&w, buf, sizeof buf);
    cr_assert_eq(bs_write_uint(&w, uint_cases[i].v), 0);
    expect_bytes(&w, uint_cases[i].hex);
  }
}

Test(writer, int_picks_major_type_0_or_1_at_every_boundary) {
  for (size_t i = 0; i < N_ELEMS(int_cases); i++) {
    uint8_t buf[16];
    bs_writer w;
    bs_writer_init(&w, buf, sizeof buf);
    cr_assert_eq(bs_write_int(&w, int_cases[i].v), 0);
    expect_bytes(&w, int_cases[i].hex);
  }
}

Test(writer, simple_values_and_floats_have_exact_encodings) {
  uint8_t buf[64];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_bool(&w, false);
  bs_write_bool(&w, true);
  bs_write_null(&w);
  bs_write_float(&w, 1.0f);
  bs_write_float(&w, INFINITY);
  bs_write_float(&w, NAN);
  bs_write_double(&w, 1.1);
  bs_write_double(&w, -INFINITY);
  expect_bytes(&w, "f4f5f6"
                   "fa3f800000" "fa7f800000" "fa7fc00000"
                   "fb3ff199999999999a" "fbfff0000000000000");
}

Test(writer, strings_and_containers_have_exact_encodings) {
  uint8_t buf[128];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_text(&w, "", 0);
  bs_write_text(&w, "IETF", 4);
  bs_write_cstr(&w, "a");
  bs_write_cstr(&w, NULL);
  bs_write_bytes(&w, NULL, 0);
  bs_write_bytes(&w, "\x01\x02\x03\x04", 4);
  bs_write_array(&w, 3);
  bs_write_map(&w, 2);
  bs_write_array(&w, 25);
  bs_write_map(&w, 65536);
  bs_write_tag(&w, 1);
  bs_write_tag(&w, 6); /* a tag libcbor's decoder does not know */
  bs_write_tag(&w, 24);
  bs_write_tag(&w, UINT64_MAX);
  bs_write_raw(&w, "\x82\x01\x02", 3);
  bs_write_raw(&w, NULL, 0);
  expect_bytes(&w, "60" "6449455446" "6161" "f6" "40" "4401020304"
                   "83" "a2" "9819" "ba00010000"
                   "c1" "c6" "d818" "dbffffffffffffffff" "820102");
}

Test(writer, long_strings_use_wider_length_heads) {
  static char big[70000];
  memset(big, 'x', sizeof big);
  size_t lens[] = {23, 24, 255, 256, 65535, 65536};
  uint8_t heads[][5] = {{0x77}, {0x78, 24}, {0x78, 255}, {0x79, 1, 0},
                        {0x79, 0xff, 0xff}, {0x7a, 0, 1, 0, 0}};
  size_t head_len[] = {1, 2, 2, 3, 3, 5};
  uint8_t *buf = malloc(sizeof big + 16);
  for (size_t i = 0; i < N_ELEMS(lens); i++) {
    bs_writer w;
    bs_writer_init(&w, buf, sizeof big + 16);
    cr_assert_eq(bs_write_text(&w, big, lens[i]), 0);
    cr_assert_eq(w.len, head_len[i] + lens[i]);
    cr_expect_eq(memcmp(buf, heads[i], head_len[i]), 0, "head for %zu", lens[i]);
    cr_expect_eq(memcmp(buf + head_len[i], big, lens[i]), 0);
  }
  free(buf);
}

/* ---- Writer: errors, overflow, growth ----------------------------------- */

static const uint8_t blob[300] = {1, 2, 3, [299] = 0xee};

/* A message using every write function; the reader tests read it back. */
static int write_sample(bs_writer *w) {
  bs_write_map(w, 3);
  bs_write_cstr(w, "id");
  bs_write_uint(w, 65536);
  bs_write_text(w, "vals", 4);
  bs_write_array(w, 9);
  bs_write_int(w, INT64_MIN);
  bs_write_int(w, -1);
  bs_write_bool(w, true);
  bs_write_null(w);
  bs_write_float(w, 1.5f);
  bs_write_double(w, -2.25);
  bs_write_uint(w, UINT64_MAX);
  bs_write_text(w, "", 0);
  bs_write_cstr(w, NULL);
  bs_write_text(w, "blob", 4);
  bs_write_tag(w, 24);
  bs_write_bytes(w, blob, sizeof blob);
  return bs_write_raw(w, "\x82\x01\x02", 3);
}

static size_t sample_bytes(uint8_t *out, size_t cap) {
  bs_writer w;
  bs_writer_init(&w, out, cap);
  cr_assert_eq(write_sample(&w), 0);
  return w.len;
}

Test(writer, errors_are_sticky) {
  uint8_t buf[2];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(bs_write_uint(&w, 1000), BS_ETOOBIG);
  cr_expect_eq(w.len, 0);
  /* Would fit, but the writer has failed already. */
  cr_expect_eq(bs_write_null(&w), BS_ETOOBIG);
  cr_expect_eq(bs_write_raw(&w, "x", 1), BS_ETOOBIG);
  cr_expect_eq(bs_write_text(&w, "", 0), BS_ETOOBIG);
  cr_expect_eq(w.len, 0);
  cr_expect_eq(w.err, BS_ETOOBIG);
}

Test(writer, fixed_buffer_overflow_is_etoobig_at_every_truncation) {
  uint8_t ref[1024];
  size_t need = sample_bytes(ref, sizeof ref);
  for (size_t cap = 0; cap < need; cap++) {
    uint8_t *buf = cap ? malloc(cap) : NULL; /* exact size: ASan guards it */
    bs_writer w;
    bs_writer_init(&w, buf, cap);
    cr_expect_eq(write_sample(&w), BS_ETOOBIG, "cap %zu", cap);
    cr_expect_leq(w.len, cap);
    cr_expect(w.len == 0 || memcmp(buf, ref, w.len) == 0,
              "prefix written at cap %zu differs", cap);
    free(buf);
  }
  uint8_t *buf = malloc(need);
  bs_writer w;
  bs_writer_init(&w, buf, need);
  cr_expect_eq(write_sample(&w), 0);
  cr_expect_eq(memcmp(buf, ref, need), 0);
  free(buf);
}

typedef struct grow_log {
  int calls;
  size_t last_need;
  int fail_with; /* return this instead of growing when non-zero */
  bool lie;      /* claim success without growing */
} grow_log;

/* Grows to exactly len + need into a fresh block, so the buffer always
 * moves and a too-small `need` shows up as an ASan error. */
static int grow_move_exact(bs_writer *w, size_t need) {
  grow_log *g = w->owner;
  g->calls++;
  g->last_need = need;
  if (g->fail_with) return g->fail_with;
  if (g->lie) return 0;
  uint8_t *nb = malloc(w->len + need);
  if (nb == NULL) return BS_ENOMEM;
  if (w->len) memcpy(nb, w->buf, w->len);
  free(w->buf);
  w->buf = nb;
  w->cap = w->len + need;
  return 0;
}

Test(writer, grow_callback_can_move_the_buffer) {
  uint8_t ref[1024];
  size_t n = sample_bytes(ref, sizeof ref);
  grow_log g = {0};
  bs_writer w;
  bs_writer_init(&w, NULL, 0);
  w.grow = grow_move_exact;
  w.owner = &g;
  cr_assert_eq(write_sample(&w), 0);
  cr_expect_eq(w.len, n);
  cr_expect_eq(memcmp(w.buf, ref, n), 0);
  cr_expect_gt(g.calls, 2, "exact growth is asked for repeatedly");
  free(w.buf);
}

Test(writer, grow_asks_for_the_whole_string_at_once) {
  grow_log g = {0};
  bs_writer w;
  bs_writer_init(&w, NULL, 0);
  w.grow = grow_move_exact;
  w.owner = &g;
  cr_assert_eq(bs_write_bytes(&w, blob, sizeof blob), 0);
  cr_expect_eq(g.calls, 1);
  cr_expect_geq(g.last_need, 3 + sizeof blob);
  free(w.buf);
}

Test(writer, grow_failure_is_sticky) {
  grow_log g = {.fail_with = BS_ENOMEM};
  uint8_t buf[1];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  w.grow = grow_move_exact;
  w.owner = &g;
  cr_expect_eq(bs_write_uint(&w, 5), 0);
  cr_expect_eq(bs_write_uint(&w, 5), BS_ENOMEM);
  cr_expect_eq(bs_write_null(&w), BS_ENOMEM);
  cr_expect_eq(g.calls, 1);
  cr_expect_eq(w.len, 1);
}

Test(writer, grow_that_does_not_grow_cannot_cause_overflow) {
  grow_log g = {.lie = true};
  uint8_t *buf = malloc(3);
  bs_writer w;
  bs_writer_init(&w, buf, 3);
  w.grow = grow_move_exact;
  w.owner = &g;
  cr_expect_eq(bs_write_text(&w, "hello", 5), BS_ETOOBIG);
  cr_expect_leq(w.len, 3);
  free(buf);
}

/* ---- Reader: round trips -------------------------------------------------- */

static bs_writer big_writer(uint8_t *buf, size_t cap) {
  bs_writer w;
  bs_writer_init(&w, buf, cap);
  return w;
}

Test(reader, uint_round_trips_at_every_boundary) {
  for (size_t i = 0; i < N_ELEMS(uint_cases); i++) {
    bs_reader r = reader_hex(uint_cases[i].hex, NULL);
    uint64_t v = 1;
    cr_expect_eq(bs_read_uint(&r, &v), 0);
    cr_expect_eq(v, uint_cases[i].v, "%s", uint_cases[i].hex);
    cr_expect(bs_reader_at_end(&r));
    free_reader(&r, uint_cases[i].hex);
  }
}

Test(reader, int_round_trips_at_every_boundary) {
  for (size_t i = 0; i < N_ELEMS(int_cases); i++) {
    bs_reader r = reader_hex(int_cases[i].hex, NULL);
    int64_t v = 1;
    cr_expect_eq(bs_read_int(&r, &v), 0);
    cr_expect_eq(v, int_cases[i].v, "%s", int_cases[i].hex);
    cr_expect(bs_reader_at_end(&r));
    free_reader(&r, int_cases[i].hex);
  }
}

Test(reader, int_rejects_values_outside_int64) {
  const char *bad[] = {"1b8000000000000000", "1bffffffffffffffff",
                       "3b8000000000000000", "3bffffffffffffffff"};
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    bs_reader r = reader_hex(bad[i], NULL);
    int64_t v = 42;
    cr_expect_eq(bs_read_int(&r, &v), BS_EDECODE, "%s", bad[i]);
    cr_expect_eq(v, 42, "out must stay untouched");
    free_reader(&r, bad[i]);
  }
}

#define RANGE_CASE(fn, T, hex, ok, want)                                       \
  do {                                                                         \
    bs_reader r_ = reader_hex(hex, NULL);                                      \
    T v_ = 0;                                                                  \
    int rc_ = fn(&r_, &v_);                                                    \
    cr_expect_eq(rc_, (ok) ? 0 : BS_EDECODE, #fn " on %s: %d", hex, rc_);     \
    if (ok) cr_expect(v_ == (T)(want), #fn " on %s", hex);                     \
    free_reader(&r_, hex);                                                     \
  } while (0)

Test(reader, fixed_width_reads_check_their_range) {
  RANGE_CASE(bs_read_u8, uint8_t, "18ff", true, 255);
  RANGE_CASE(bs_read_u8, uint8_t, "190100", false, 0);
  RANGE_CASE(bs_read_u8, uint8_t, "20", false, 0);
  RANGE_CASE(bs_read_u16, uint16_t, "19ffff", true, 65535);
  RANGE_CASE(bs_read_u16, uint16_t, "1a00010000", false, 0);
  RANGE_CASE(bs_read_u32, uint32_t, "1affffffff", true, UINT32_MAX);
  RANGE_CASE(bs_read_u32, uint32_t, "1b0000000100000000", false, 0);
  RANGE_CASE(bs_read_u64, uint64_t, "1bffffffffffffffff", true, UINT64_MAX);
  RANGE_CASE(bs_read_u64, uint64_t, "20", false, 0);
  RANGE_CASE(bs_read_i8, int8_t, "387f", true, -128);
  RANGE_CASE(bs_read_i8, int8_t, "187f", true, 127);
  RANGE_CASE(bs_read_i8, int8_t, "3880", false, 0);
  RANGE_CASE(bs_read_i8, int8_t, "1880", false, 0);
  RANGE_CASE(bs_read_i16, int16_t, "397fff", true, INT16_MIN);
  RANGE_CASE(bs_read_i16, int16_t, "197fff", true, INT16_MAX);
  RANGE_CASE(bs_read_i16, int16_t, "398000", false, 0);
  RANGE_CASE(bs_read_i16, int16_t, "198000", false, 0);
  RANGE_CASE(bs_read_i32, int32_t, "3a7fffffff", true, INT32_MIN);
  RANGE_CASE(bs_read_i32, int32_t, "1a7fffffff", true, INT32_MAX);
  RANGE_CASE(bs_read_i32, int32_t, "3a80000000", false, 0);
  RANGE_CASE(bs_read_i32, int32_t, "1a80000000", false, 0);
  RANGE_CASE(bs_read_i64, int64_t, "3b7fffffffffffffff", true, INT64_MIN);
  RANGE_CASE(bs_read_i64, int64_t, "1b7fffffffffffffff", true, INT64_MAX);
  RANGE_CASE(bs_read_i64, int64_t, "1b8000000000000000", false, 0);
}

static bool same_double(double a, double b) {
  if (isnan(a)) return isnan(b);
  return a == b && signbit(a) == signbit(b);
}

Test(reader, floats_round_trip_including_nan_and_infinities) {
  const float fs[] = {0.0f, -0.0f, 1.5f, FLT_MAX, -FLT_MAX, FLT_MIN,
                      FLT_TRUE_MIN, INFINITY, -INFINITY, NAN};
  const double ds[] = {0.0, -0.0, 1.1, DBL_MAX, DBL_MIN, DBL_TRUE_MIN,
                       1e300, INFINITY, -INFINITY, NAN};
  uint8_t buf[256];
  bs_writer w = big_writer(buf, sizeof buf);
  for (size_t i = 0; i < N_ELEMS(fs); i++) bs_write_float(&w, fs[i]);
  for (size_t i = 0; i < N_ELEMS(ds); i++) bs_write_double(&w, ds[i]);
  cr_assert_eq(w.err, 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  for (size_t i = 0; i < N_ELEMS(fs); i++) {
    float f = 7;
    cr_expect_eq(bs_peek(&r), BS_CBOR_FLOAT);
    cr_expect_eq(bs_read_float(&r, &f), 0);
    cr_expect(same_double(f, fs[i]), "float %zu: %a vs %a", i, (double)f, (double)fs[i]);
  }
  for (size_t i = 0; i < N_ELEMS(ds); i++) {
    double d = 7;
    cr_expect_eq(bs_read_double(&r, &d), 0);
    cr_expect(same_double(d, ds[i]), "double %zu: %a vs %a", i, d, ds[i]);
  }
  cr_expect(bs_reader_at_end(&r));
}

Test(reader, floats_accept_half_single_and_double_encodings) {
  struct { const char *hex; double want; } cases[] = {
      {"f93c00", 1.0}, {"f9c400", -4.0}, {"f97bff", 65504.0},
      {"f90001", 5.960464477539063e-08}, {"f97c00", INFINITY},
      {"f9fc00", -INFINITY}, {"f97e00", NAN}, {"f98000", -0.0},
      {"fa47c35000", 100000.0}, {"fb3ff199999999999a", 1.1}};
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    bs_reader r = reader_hex(cases[i].hex, NULL);
    double d = 0;
    cr_expect_eq(bs_read_double(&r, &d), 0, "%s", cases[i].hex);
    cr_expect(same_double(d, cases[i].want), "%s: %a", cases[i].hex, d);
    free_reader(&r, cases[i].hex);
    r = reader_hex(cases[i].hex, NULL);
    float f = 0;
    cr_expect_eq(bs_read_float(&r, &f), 0, "%s", cases[i].hex);
    cr_expect(same_double(f, (float)cases[i].want), "%s: %a", cases[i].hex, (double)f);
    free_reader(&r, cases[i].hex);
  }
}

Test(reader, float_rejects_finite_doubles_beyond_float_range) {
  bs_reader r = reader_hex("fb7e37e43c8800759c", NULL); /* 1e300 */
  float f = 3;
  cr_expect_eq(bs_read_float(&r, &f), BS_EDECODE);
  cr_expect_eq(f, 3);
  free_reader(&r, "fb7e37e43c8800759c");
}

Test(reader, strings_are_zero_copy) {
  static char big[70000];
  memset(big, 'y', sizeof big);
  uint8_t *buf = malloc(sizeof big + 512);
  bs_writer w = big_writer(buf, sizeof big + 512);
  bs_write_text(&w, "", 0);
  bs_write_text(&w, "h\0llo", 5);
  bs_write_text(&w, big, sizeof big);
  bs_write_bytes(&w, blob, sizeof blob);
  bs_write_bytes(&w, NULL, 0);
  cr_assert_eq(w.err, 0);

  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  const char *s = NULL;
  const void *p = NULL;
  size_t n = 99;
  cr_expect_eq(bs_read_text(&r, &s, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect_eq(bs_read_text(&r, &s, &n), 0);
  cr_expect(n == 5 && memcmp(s, "h\0llo", 5) == 0);
  cr_expect_eq(bs_read_text(&r, &s, &n), 0);
  cr_expect_eq(n, sizeof big);
  cr_expect((const uint8_t *)s > buf && (const uint8_t *)s < buf + w.len,
            "text must point into the input");
  cr_expect_eq(memcmp(s, big, n), 0);
  cr_expect_eq(bs_read_bytes(&r, &p, &n), 0);
  cr_expect(n == sizeof blob && memcmp(p, blob, n) == 0);
  cr_expect_eq(bs_read_bytes(&r, &p, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect(bs_reader_at_end(&r));
  free(buf);
}

Test(reader, indefinite_strings_are_joined_into_the_arena) {
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  const char *hex = "7f657374726561646d696e67ff" "5f42010243030405ff" "7fff";
  bs_reader r = reader_hex(hex, &a);
  const char *s = NULL;
  const void *p = NULL;
  size_t n = 0;
  cr_expect_eq(bs_peek(&r), BS_CBOR_TEXT);
  cr_expect_eq(bs_read_text(&r, &s, &n), 0);
  cr_expect(n == 9 && memcmp(s, "streaming", 9) == 0);
  cr_expect_eq(bs_read_bytes(&r, &p, &n), 0);
  cr_expect(n == 5 && memcmp(p, "\1\2\3\4\5", 5) == 0);
  cr_expect_eq(bs_read_text(&r, &s, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect(bs_reader_at_end(&r));
  free_reader(&r, hex);
  bs_arena_free(&a);
}

Test(reader, indefinite_string_without_arena_is_enomem) {
  const char *hex = "7f6161ff";
  bs_reader r = reader_hex(hex, NULL);
  const char *s = NULL;
  size_t n = 0;
  cr_expect_eq(bs_read_text(&r, &s, &n), BS_ENOMEM);
  cr_expect_null(s);
  free_reader(&r, hex);
}

Test(reader, malformed_indefinite_strings_are_rejected) {
  const char *bad[] = {
      "7f4161ff",   /* byte chunk inside text */
      "5f6161ff",   /* text chunk inside bytes */
      "7f7f6161ffff", /* nested indefinite chunk */
      "7f01ff",     /* integer chunk */
      "7f6161",     /* no break */
      "7f63616263", /* chunk truncated */
  };
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    bs_arena a;
    bs_arena_init(&a, (bs_allocator){0});
    bs_reader r = reader_hex(bad[i], &a);
    const char *s = NULL;
    const void *p = NULL;
    size_t n = 0;
    int rc = bad[i][0] == '5' ? bs_read_bytes(&r, &p, &n) : bs_read_text(&r, &s, &n);
    cr_expect_eq(rc, BS_EDECODE, "%s", bad[i]);
    free_reader(&r, bad[i]);
    r = reader_hex(bad[i], &a);
    cr_expect_eq(bs_read_skip(&r), BS_EDECODE, "skip %s", bad[i]);
    free_reader(&r, bad[i]);
    bs_arena_free(&a);
  }
}

Test(reader, cstr_copies_into_the_arena_with_nul) {
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  const char *hex = "6449455446" "f6" "60" "7f626162626364ff";
  bs_reader r = reader_hex(hex, &a);
  const char *s = "unset";
  cr_expect_eq(bs_read_cstr(&r, &s), 0);
  cr_expect_str_eq(s, "IETF");
  const char *in = (const char *)r.end - strlen(hex) / 2;
  cr_expect(s < in || s >= (const char *)r.end,
            "cstr must be a copy, not a pointer into the input");
  cr_expect_eq(bs_read_cstr(&r, &s), 0);
  cr_expect_null(s);
  cr_expect_eq(bs_read_cstr(&r, &s), 0);
  cr_expect_str_eq(s, "");
  cr_expect_eq(bs_read_cstr(&r, &s), 0);
  cr_expect_str_eq(s, "abcd");
  cr_expect(bs_reader_at_end(&r));
  free_reader(&r, hex);
  bs_arena_free(&a);
}

Test(reader, cstr_rejects_embedded_nul_and_needs_an_arena) {
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  bs_reader r = reader_hex("6261006161", &a);
  const char *s = "unset";
  cr_expect_eq(bs_read_cstr(&r, &s), BS_EDECODE);
  cr_expect_str_eq(s, "unset");
  free_reader(&r, "6261006161");
  r = reader_hex("6161", NULL);
  cr_expect_eq(bs_read_cstr(&r, &s), BS_ENOMEM);
  free_reader(&r, "6161");
  r = reader_hex("01", &a);
  cr_expect_eq(bs_read_cstr(&r, &s), BS_EDECODE);
  free_reader(&r, "01");
  bs_arena_free(&a);
}

Test(reader, nested_containers_round_trip) {
  uint8_t buf[256];
  bs_writer w = big_writer(buf, sizeof buf);
  bs_write_map(&w, 2);
  bs_write_cstr(&w, "a");
  bs_write_array(&w, 2);
  bs_write_array(&w, 0);
  bs_write_map(&w, 1);
  bs_write_int(&w, -5);
  bs_write_tag(&w, 1);
  bs_write_double(&w, 0.5);
  bs_write_uint(&w, 7);
  bs_write_map(&w, 0);
  expect_bytes(&w, "a2" "6161" "82" "80" "a1" "24" "c1" "fb3fe0000000000000"
                   "07" "a0");

  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  uint64_t n = 9, tag = 0;
  const char *s = NULL;
  size_t len = 0;
  int64_t i = 0;
  double d = 0;
  uint64_t u = 0;
  cr_expect_eq(bs_read_map(&r, &n), 0);
  cr_expect_eq(n, 2);
  cr_expect_eq(bs_read_text(&r, &s, &len), 0);
  cr_expect(len == 1 && s[0] == 'a');
  cr_expect_eq(bs_read_array(&r, &n), 0);
  cr_expect_eq(n, 2);
  cr_expect_eq(bs_read_array(&r, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect_eq(bs_read_map(&r, &n), 0);
  cr_expect_eq(n, 1);
  cr_expect_eq(bs_read_int(&r, &i), 0);
  cr_expect_eq(i, -5);
  cr_expect_eq(bs_read_tag(&r, &tag), 0);
  cr_expect_eq(tag, 1);
  cr_expect_eq(bs_read_double(&r, &d), 0);
  cr_expect_eq(d, 0.5);
  cr_expect_eq(bs_read_uint(&r, &u), 0);
  cr_expect_eq(u, 7);
  cr_expect_eq(bs_read_map(&r, &n), 0);
  cr_expect_eq(n, 0);
  cr_expect(bs_reader_at_end(&r));
  cr_expect_eq(r.err, 0);
}

Test(reader, containers_reject_indefinite_and_impossible_counts) {
  const char *cases[] = {"9fff", "bfff", "9a00000002" "01", "b9000101",
                         "9bffffffffffffffff", "bb8000000000000000" "0000"};
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    bs_reader r = reader_hex(cases[i], NULL);
    uint64_t n = 77;
    int rc = cases[i][0] == '9' ? bs_read_array(&r, &n) : bs_read_map(&r, &n);
    cr_expect_eq(rc, BS_EDECODE, "%s", cases[i]);
    cr_expect_eq(n, 77);
    free_reader(&r, cases[i]);
  }
}

Test(reader, tags_round_trip_including_ones_libcbor_does_not_know) {
  const uint64_t tags[] = {0, 5, 6, 20, 21, 23, 24, 255, 256, 65536,
                           UINT64_MAX};
  uint8_t buf[256];
  bs_writer w = big_writer(buf, sizeof buf);
  for (size_t i = 0; i < N_ELEMS(tags); i++) {
    bs_write_tag(&w, tags[i]);
    bs_write_null(&w);
  }
  bs_reader r;
  bs_reader_init(&r, buf, w.len, NULL);
  for (size_t i = 0; i < N_ELEMS(tags); i++) {
    uint64_t t = 1;
    cr_expect_eq(bs_peek(&r), BS_CBOR_TAG, "tag %llu", (unsigned long long)tags[i]);
    cr_expect_eq(bs_read_tag(&r, &t), 0);
    cr_expect_eq(t, tags[i]);
    cr_expect_eq(bs_read_null(&r), 0);
  }
  cr_expect(bs_reader_at_end(&r));
}

Test(reader, peek_reports_every_kind_without_consuming) {
  struct { const char *hex; bs_cbor_type t; } cases[] = {
      {"", BS_CBOR_END},        {"17", BS_CBOR_UINT},
      {"3b7fffffffffffffff", BS_CBOR_NEGINT},
      {"4101", BS_CBOR_BYTES},  {"5fff", BS_CBOR_BYTES},
      {"6161", BS_CBOR_TEXT},   {"7fff", BS_CBOR_TEXT},
      {"80", BS_CBOR_ARRAY},    {"9fff", BS_CBOR_ARRAY},
      {"a0", BS_CBOR_MAP},      {"bfff", BS_CBOR_MAP},
      {"c1", BS_CBOR_TAG},      {"d4", BS_CBOR_TAG},
      {"f93c00", BS_CBOR_FLOAT}, {"fa3f800000", BS_CBOR_FLOAT},
      {"fb3ff199999999999a", BS_CBOR_FLOAT},
      {"f4", BS_CBOR_BOOL},     {"f5", BS_CBOR_BOOL},
      {"f6", BS_CBOR_NULL},     {"f7", BS_CBOR_UNDEFINED},
      {"e0", BS_CBOR_SIMPLE},   {"f3", BS_CBOR_SIMPLE},
      {"f820", BS_CBOR_SIMPLE}, {"f8ff", BS_CBOR_SIMPLE},
      {"ff", BS_CBOR_BREAK},
      /* malformed or truncated */
      {"1c", BS_CBOR_INVALID},  {"3f", BS_CBOR_INVALID},
      {"5c", BS_CBOR_INVALID},  {"7e", BS_CBOR_INVALID},
      {"9c", BS_CBOR_INVALID},  {"bd", BS_CBOR_INVALID},
      {"dc", BS_CBOR_INVALID},  {"df", BS_CBOR_INVALID},
      {"fc", BS_CBOR_INVALID},  {"f818", BS_CBOR_INVALID},
      {"f8", BS_CBOR_INVALID},  {"1901", BS_CBOR_INVALID},
      {"6361", BS_CBOR_INVALID}, {"fa3f80", BS_CBOR_INVALID},
  };
  for (size_t i = 0; i < N_ELEMS(cases); i++) {
    bs_reader r = reader_hex(cases[i].hex, NULL);
    const uint8_t *before = r.p;
    cr_expect_eq(bs_peek(&r), cases[i].t, "peek %s: %d", cases[i].hex, bs_peek(&r));
    cr_expect_eq(r.p, before);
    cr_expect_eq(r.err, 0);
    free_reader(&r, cases[i].hex);
  }
}

Test(reader, type_mismatch_is_edecode_and_leaves_output_untouched) {
  bs_reader r = reader_hex("f5", NULL);
  uint64_t u = 11;
  cr_expect_eq(bs_read_uint(&r, &u), BS_EDECODE);
  cr_expect_eq(u, 11);
  cr_expect_eq(r.p, r.end - 1, "a failed read must not consume");
  free_reader(&r, "f5");

  r = reader_hex("01", NULL);
  bool b = false;
  double d = 3;
  const char *s = "x";
  size_t n = 5;
  cr_expect_eq(bs_read_bool(&r, &b), BS_EDECODE);
  r.err = 0;
  cr_expect_eq(bs_read_double(&r, &d), BS_EDECODE);
  r.err = 0;
  cr_expect_eq(bs_read_text(&r, &s, &n), BS_EDECODE);
  r.err = 0;
  cr_expect_eq(bs_read_null(&r), BS_EDECODE);
  r.err = 0;
  cr_expect_eq(bs_read_tag(&r, &u), BS_EDECODE);
  cr_expect(!b && d == 3 && n == 5 && u == 11);
  free_reader(&r, "01");

  r = reader_hex("6161", NULL);
  const void *p = NULL;
  cr_expect_eq(bs_read_bytes(&r, &p, &n), BS_EDECODE);
  free_reader(&r, "6161");
}

Test(reader, errors_are_sticky) {
  bs_reader r = reader_hex("f60102", NULL);
  uint64_t u = 0;
  cr_expect_eq(bs_read_uint(&r, &u), BS_EDECODE);
  cr_expect_eq(bs_read_null(&r), BS_EDECODE, "valid item after an error");
  cr_expect_eq(bs_read_skip(&r), BS_EDECODE);
  cr_expect_null(bs_reader_alloc(&r, 1, 1));
  cr_expect_eq(r.err, BS_EDECODE);
  cr_expect_eq(bs_peek(&r), BS_CBOR_NULL, "peek ignores the error");
  free_reader(&r, "f60102");
}

Test(reader, reads_at_end_of_input_are_edecode) {
  bs_reader r;
  bs_reader_init(&r, NULL, 0, NULL);
  uint64_t u = 0;
  cr_expect_eq(bs_peek(&r), BS_CBOR_END);
  cr_expect(bs_reader_at_end(&r));
  cr_expect_eq(bs_read_uint(&r, &u), BS_EDECODE);
  bs_reader_init(&r, NULL, 0, NULL);
  cr_expect_eq(bs_read_skip(&r), BS_EDECODE);
}

/* Reads the sample back; returns the reader's error. Values are checked
 * only when `check` (the input is complete). */
static int read_sample(bs_reader *r, bool check) {
  uint64_t n = 0, u = 0, tag = 0;
  int64_t i1 = 0;
  bool b = false;
  float f = 0;
  double d = 0;
  const char *s = NULL, *id = NULL, *none = "x";
  const void *p = NULL;
  size_t len = 0, blen = 0;
  bs_read_map(r, &n);
  bs_read_cstr(r, &id);
  bs_read_u32(r, &(uint32_t){0});
  bs_read_text(r, &s, &len);
  bs_read_array(r, &n);
  bs_read_int(r, &i1);
  bs_read_i8(r, &(int8_t){0});
  bs_read_bool(r, &b);
  bs_read_null(r);
  bs_read_float(r, &f);
  bs_read_double(r, &d);
  bs_read_uint(r, &u);
  bs_read_text(r, &s, &len);
  bs_read_cstr(r, &none);
  bs_read_skip(r); /* "blob" */
  bs_read_tag(r, &tag);
  bs_read_bytes(r, &p, &blen);
  bs_read_skip(r);
  if (check && r->err == 0) {
    cr_expect_str_eq(id, "id");
    cr_expect(i1 == INT64_MIN && b && f == 1.5f && d == -2.25 && u == UINT64_MAX);
    cr_expect(len == 0 && none == NULL && tag == 24);
    cr_expect(blen == sizeof blob && memcmp(p, blob, blen) == 0);
    cr_expect(bs_reader_at_end(r));
  }
  return r->err;
}

Test(reader, every_truncation_is_edecode_without_reading_past_end) {
  uint8_t ref[1024];
  size_t need = sample_bytes(ref, sizeof ref);
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  for (size_t k = 0; k <= need; k++) {
    int want = k == need ? 0 : BS_EDECODE;
    uint8_t *buf = exact_copy(ref, k);
    bs_reader r;
    bs_reader_init(&r, buf, k, &a);
    cr_expect_eq(read_sample(&r, k == need), want, "prefix %zu of %zu", k, need);
    cr_expect_leq(r.p, r.end);
    bs_reader_init(&r, buf, k, &a);
    int rc = bs_read_skip(&r);
    if (rc == 0) rc = bs_read_skip(&r);
    cr_expect_eq(rc, want, "skip of prefix %zu of %zu", k, need);
    free(buf);
    bs_arena_reset(&a);
  }
  bs_arena_free(&a);
}

Test(reader, every_truncation_of_indefinite_items_is_edecode) {
  /* {_ "a": [_ 1, 1.0], "b": (_ "a", "b"), "_": (_ h'01'),
   *    "c": 24([{}, [], 0]), "def": undefined} */
  const char *hex = "bf" "6161" "9f01f93c00ff" "6162" "7f61616162ff"
                    "615f" "5f4101ff" "6163" "d81883a08000" "63646566" "f7"
                    "ff";
  uint8_t full[128];
  size_t need = unhex(hex, full, sizeof full);
  bs_reader r;
  bs_reader_init(&r, full, need, NULL);
  cr_assert_eq(bs_read_skip(&r), 0);
  cr_assert(bs_reader_at_end(&r));
  for (size_t k = 0; k < need; k++) {
    uint8_t *buf = exact_copy(full, k);
    bs_reader_init(&r, buf, k, NULL);
    cr_expect_eq(bs_read_skip(&r), BS_EDECODE, "prefix %zu", k);
    cr_expect_eq(r.p, buf, "a failed skip must not consume");
    free(buf);
  }
}

/* ---- Reader: skip ---------------------------------------------------------- */

Test(reader, skip_steps_over_one_complete_item_of_any_kind) {
  const char *items[] = {
      "00", "3b7fffffffffffffff", "4401020304", "6449455446", "5f4101ff",
      "8301820203820405", "a26161016162820203", "9f018202039f0405ffff",
      "bf61610161629f0203ffff", "c11a514b67b0", "c249010000000000000000",
      "d4f6", "f93c00", "f4", "f6", "f7", "f0", "f8ff", "80", "a0", "9fff",
      "bfff", "c0c1c2c3c6d4d818d9ffffdaffffffffdbffffffffffffffff00",
  };
  for (size_t i = 0; i < N_ELEMS(items); i++) {
    char hex[256];
    snprintf(hex, sizeof hex, "%s01", items[i]); /* a trailing item stays */
    bs_reader r = reader_hex(hex, NULL);
    uint64_t u = 0;
    cr_expect_eq(bs_read_skip(&r), 0, "skip %s", items[i]);
    cr_expect_eq(bs_read_uint(&r, &u), 0, "after %s", items[i]);
    cr_expect(u == 1 && bs_reader_at_end(&r), "%s", items[i]);
    free_reader(&r, hex);
  }
}

Test(reader, skip_rejects_malformed_structure) {
  const char *bad[] = {
      "ff",                    /* break outside an indefinite item */
      "81ff",                  /* break inside a definite array */
      "bf01ff",                /* indefinite map with a key and no value */
      "a101",                  /* definite map missing a value */
      "9f01",                  /* indefinite array without break */
      "9bffffffffffffffff00",  /* count beyond the input */
      "bb800000000000000000",  /* count * 2 overflows */
      "c1",                    /* tag without its item */
      "8201f818",              /* two-byte simple value below 32 */
      "1c", "5f01ff",
  };
  for (size_t i = 0; i < N_ELEMS(bad); i++) {
    bs_reader r = reader_hex(bad[i], NULL);
    cr_expect_eq(bs_read_skip(&r), BS_EDECODE, "%s", bad[i]);
    free_reader(&r, bad[i]);
  }
}

/* `depth` containers of kind `open` (one head byte each), nested, each
 * holding the next; the innermost holds `leaf`. */
static uint8_t *nest(size_t depth, uint8_t open, const char *leaf_hex,
                     const char *close_hex, size_t *len) {
  uint8_t leaf[16], close[4];
  size_t nl = unhex(leaf_hex, leaf, sizeof leaf);
  size_t nc = unhex(close_hex, close, sizeof close);
  uint8_t *buf = malloc(depth * (1 + nc) + nl);
  size_t n = 0;
  for (size_t i = 0; i < depth; i++) buf[n++] = open;
  memcpy(buf + n, leaf, nl);
  n += nl;
  for (size_t i = 0; i < depth; i++) {
    memcpy(buf + n, close, nc);
    n += nc;
  }
  *len = n;
  return buf;
}

static int skip_nested(size_t depth, uint8_t open, const char *leaf,
                       const char *close) {
  size_t len = 0;
  uint8_t *buf = nest(depth, open, leaf, close, &len);
  bs_reader r;
  bs_reader_init(&r, buf, len, NULL);
  int rc = bs_read_skip(&r);
  if (rc == 0 && !bs_reader_at_end(&r)) rc = 1;
  free(buf);
  return rc;
}

Test(reader, skip_enforces_the_depth_limit) {
  const size_t max = BS_CBOR_MAX_DEPTH;
  /* definite arrays, tags, indefinite arrays, maps-as-values */
  cr_expect_eq(skip_nested(max, 0x81, "00", ""), 0);
  cr_expect_eq(skip_nested(max + 1, 0x81, "00", ""), BS_EDECODE);
  cr_expect_eq(skip_nested(max, 0x81, "80", ""), BS_EDECODE,
               "an empty container counts as a level too");
  cr_expect_eq(skip_nested(max - 1, 0x81, "80", ""), 0);
  cr_expect_eq(skip_nested(max, 0xc1, "00", ""), 0);
  cr_expect_eq(skip_nested(max + 1, 0xc1, "00", ""), BS_EDECODE);
  cr_expect_eq(skip_nested(max, 0x9f, "00", "ff"), 0);
  cr_expect_eq(skip_nested(max + 1, 0x9f, "00", "ff"), BS_EDECODE);
}

Test(reader, skip_survives_hostile_depth) {
  cr_expect_eq(skip_nested(100000, 0x81, "00", ""), BS_EDECODE);
  cr_expect_eq(skip_nested(100000, 0x9f, "", ""), BS_EDECODE);
}

Test(reader, skip_of_wide_containers_is_iterative) {
  size_t n = 100000;
  uint8_t *buf = malloc(n + 5);
  buf[0] = 0x9a;
  buf[1] = 0;
  buf[2] = 0x01;
  buf[3] = 0x86;
  buf[4] = 0xa0; /* 100000 */
  memset(buf + 5, 0x80, n);
  bs_reader r;
  bs_reader_init(&r, buf, n + 5, NULL);
  cr_expect_eq(bs_read_skip(&r), 0);
  cr_expect(bs_reader_at_end(&r));
  free(buf);
}

/* ---- Arena ------------------------------------------------------------------ */

Test(arena, allocations_are_aligned_and_distinct) {
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  uint8_t *prev = NULL;
  for (int round = 0; round < 200; round++) {
    for (size_t align = 1; align <= 16; align *= 2) {
      size_t size = (size_t)(round * 7 + 1);
      uint8_t *p = bs_arena_alloc(&a, size, align);
      cr_assert_not_null(p);
      cr_expect_eq((uintptr_t)p % align, 0, "align %zu", align);
      memset(p, 0xab, size); /* ASan: the block really is that big */
      cr_expect(p != prev);
      prev = p;
    }
  }
  void *z1 = bs_arena_alloc(&a, 0, 8);
  void *z2 = bs_arena_alloc(&a, 0, 1);
  cr_expect(z1 != NULL && z2 != NULL, "size 0 gives a valid pointer");
  cr_expect_null(bs_arena_alloc(&a, 8, 3), "alignment must be a power of two");
  cr_expect_null(bs_arena_alloc(&a, 8, 32), "alignment is at most 16");
  cr_expect_null(bs_arena_alloc(&a, SIZE_MAX - 4, 8), "sizes must not wrap");
  bs_arena_free(&a);
}

Test(arena, large_allocations_get_their_own_chunk) {
  counting c = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  uint8_t *small = bs_arena_alloc(&a, 10, 1);
  uint8_t *big = bs_arena_alloc(&a, 1 << 20, 16);
  cr_assert(small && big);
  memset(big, 1, 1 << 20);
  cr_expect_geq(a.total, (size_t)1 << 20);
  bs_arena_free(&a);
  cr_expect_eq(c.live, 0);
  cr_expect_eq(c.blocks, 0);
  cr_expect(a.head == NULL && a.total == 0 && a.used == 0);
}

/* One "dispatch" worth of scratch: several strings and arrays. */
static void arena_cycle(bs_arena *a, size_t scale) {
  for (size_t i = 0; i < 40; i++) {
    size_t size = (i * 37 % 200 + 1) * scale;
    uint8_t *p = bs_arena_alloc(a, size, (size_t)1 << (i % 5));
    cr_assert_not_null(p);
    memset(p, (int)i, size);
  }
}

Test(arena, steady_reset_cycle_stops_allocating) {
  for (size_t scale = 1; scale <= 64; scale *= 4) {
    counting c = {.fail_at = -1};
    bs_arena a;
    bs_arena_init(&a, counting_alloc(&c));
    for (int warm = 0; warm < 4; warm++) {
      arena_cycle(&a, scale);
      bs_arena_reset(&a);
    }
    long before = c.calls;
    for (int i = 0; i < 200; i++) {
      arena_cycle(&a, scale);
      bs_arena_reset(&a);
    }
    cr_expect_eq(c.calls, before, "scale %zu: %ld allocations in steady state",
                 scale, c.calls - before);
    cr_expect_eq(c.blocks, 1, "reset keeps exactly one chunk");
    bs_arena_free(&a);
    cr_expect_eq(c.live, 0);
  }
}

Test(arena, reset_after_a_single_chunk_cycle_never_allocates_again) {
  counting c = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  for (int i = 0; i < 100; i++) {
    cr_assert_not_null(bs_arena_alloc(&a, 100, 8));
    cr_assert_not_null(bs_arena_alloc(&a, 5, 1));
    bs_arena_reset(&a);
  }
  cr_expect_eq(c.calls, 1);
  bs_arena_free(&a);
}

Test(arena, reset_keeps_the_largest_chunk) {
  counting c = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  bs_arena_alloc(&a, 100, 1);
  bs_arena_alloc(&a, 50000, 1);
  bs_arena_alloc(&a, 3000, 1);
  bs_arena_reset(&a);
  cr_expect_eq(c.blocks, 1);
  cr_expect_geq(a.total, 50000);
  cr_expect_eq(a.used, 0);
  long calls = c.calls;
  cr_expect_not_null(bs_arena_alloc(&a, 50000, 16));
  cr_expect_eq(c.calls, calls);
  bs_arena_free(&a);
  cr_expect_eq(c.live, 0);
}

/* One large cycle (a large message) must not pin its memory: a reset keeps
 * at most a 1 MiB chunk. */
Test(arena, reset_gives_back_chunks_over_one_mebibyte) {
  counting c = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  cr_assert_not_null(bs_arena_alloc(&a, 100, 1));
  cr_assert_not_null(bs_arena_alloc(&a, (size_t)3 << 20, 1));
  bs_arena_reset(&a);
  cr_expect_eq(c.blocks, 1, "the small chunk stays");
  cr_expect_leq(a.total, (size_t)1 << 20);
  cr_expect_leq(c.live, ((size_t)1 << 20) + 64);
  bs_arena_free(&a);

  bs_arena_init(&a, counting_alloc(&c));
  cr_assert_not_null(bs_arena_alloc(&a, (size_t)2 << 20, 1)); /* one chunk */
  bs_arena_reset(&a);
  cr_expect_eq(c.blocks, 0, "nothing small enough to keep");
  cr_expect(a.head == NULL && a.total == 0 && a.used == 0);
  cr_expect_not_null(bs_arena_alloc(&a, 10, 1), "and usable again");
  bs_arena_free(&a);
  cr_expect_eq(c.live, 0);
}

Test(arena, a_limit_bounds_what_one_cycle_takes) {
  counting c = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  cr_expect_eq(a.limit, 0, "no limit by default");
  a.limit = 4096;
  cr_assert_not_null(bs_arena_alloc(&a, 4000, 8));
  long calls = c.calls;
  cr_expect(bs_arena_over_limit(&a, 97));
  cr_expect_null(bs_arena_alloc(&a, 97, 1));
  cr_expect_null(bs_arena_alloc(&a, SIZE_MAX, 1));
  cr_expect_eq(c.calls, calls, "refused without asking the allocator");
  cr_expect_not_null(bs_arena_alloc(&a, 96, 1), "up to the limit exactly");
  cr_expect_eq(a.taken, 4096);
  bs_arena_reset(&a);
  cr_expect_eq(a.taken, 0);
  cr_expect_not_null(bs_arena_alloc(&a, 4096, 1), "the limit is per cycle");
  bs_arena_reset(&a);

  /* A reader tells the limit from a failing allocator. */
  static const uint8_t none[1];
  bs_reader r;
  bs_reader_init(&r, none, 0, &a);
  cr_expect_null(bs_reader_alloc(&r, 5000, 1));
  cr_expect_eq(r.err, BS_ETOOBIG);
  bs_arena_free(&a);
  cr_expect_eq(c.live, 0);

  counting failing = {.fail_at = 0};
  bs_arena_init(&a, counting_alloc(&failing));
  a.limit = 4096;
  bs_reader_init(&r, none, 0, &a);
  cr_expect_null(bs_reader_alloc(&r, 100, 1));
  cr_expect_eq(r.err, BS_ENOMEM);
  bs_arena_free(&a);
}

/* Runs a growing allocation sequence; returns how many allocations failed. */
static int arena_sequence(bs_arena *a) {
  int failures = 0;
  for (size_t i = 0; i < 30; i++) {
    void *p = bs_arena_alloc(a, 700 * (i + 1), 8);
    if (p == NULL) failures++;
    else memset(p, 0, 700 * (i + 1));
  }
  return failures;
}

Test(arena, failing_allocator_gives_null_and_leaks_nothing) {
  counting clean = {.fail_at = -1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&clean));
  cr_assert_eq(arena_sequence(&a), 0);
  bs_arena_free(&a);
  cr_assert_geq(clean.calls, 3, "the sequence should need several chunks");
  for (long fail_at = 0; fail_at < clean.calls; fail_at++) {
    counting c = {.fail_at = fail_at};
    bs_arena_init(&a, counting_alloc(&c));
    cr_expect_eq(arena_sequence(&a), 1, "fail_at %ld", fail_at);
    bs_arena_reset(&a);
    bs_arena_free(&a);
    cr_expect_eq(c.live, 0, "fail_at %ld leaked %zu bytes", fail_at, c.live);
    cr_expect_eq(c.blocks, 0);
  }
}

Test(arena, reusable_after_free_and_init) {
  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  cr_assert_not_null(bs_arena_alloc(&a, 10, 1));
  bs_arena_free(&a);
  bs_arena_free(&a); /* harmless */
  bs_arena_init(&a, (bs_allocator){0});
  cr_assert_not_null(bs_arena_alloc(&a, 10, 1));
  bs_arena_reset(&a);
  bs_arena_free(&a);
  bs_arena_reset(&a); /* empty arena */
}

Test(arena, reader_alloc_uses_the_arena_and_enomem_is_sticky) {
  counting c = {.fail_at = 1};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(&c));
  bs_reader r;
  bs_reader_init(&r, "\x01", 1, &a);
  void *p = bs_reader_alloc(&r, 24, 8);
  cr_expect(p != NULL && (uintptr_t)p % 8 == 0);
  cr_expect_null(bs_reader_alloc(&r, 1 << 20, 8)); /* second chunk fails */
  cr_expect_eq(r.err, BS_ENOMEM);
  cr_expect_null(bs_reader_alloc(&r, 1, 1), "sticky even though it would fit");
  uint64_t u = 0;
  cr_expect_eq(bs_read_uint(&r, &u), BS_ENOMEM);
  bs_arena_free(&a);
  cr_expect_eq(c.live, 0);

  bs_reader_init(&r, "\x01", 1, NULL);
  cr_expect_null(bs_reader_alloc(&r, 1, 1));
  cr_expect_eq(r.err, BS_ENOMEM);
}

/* Reads three long strings as C strings through an arena whose allocator
 * fails call `fail_at`; returns the reader's error. */
static int read_cstrs(long fail_at, counting *c) {
  static char big[5000];
  memset(big, 'q', sizeof big);
  size_t cap = 3 * (sizeof big + 8);
  uint8_t *buf = malloc(cap);
  bs_writer w = big_writer(buf, cap);
  for (int i = 0; i < 3; i++) bs_write_text(&w, big, sizeof big);
  *c = (counting){.fail_at = fail_at};
  bs_arena a;
  bs_arena_init(&a, counting_alloc(c));
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &a);
  const char *s = NULL;
  for (int i = 0; i < 3; i++) bs_read_cstr(&r, &s);
  bs_arena_free(&a);
  free(buf);
  return r.err;
}

Test(arena, cstr_with_failing_allocator_is_enomem_without_leak) {
  counting c;
  cr_assert_eq(read_cstrs(-1, &c), 0);
  long calls = c.calls;
  cr_assert_geq(calls, 2);
  for (long fail_at = 0; fail_at < calls; fail_at++) {
    cr_expect_eq(read_cstrs(fail_at, &c), BS_ENOMEM, "fail_at %ld", fail_at);
    cr_expect_eq(c.live, 0);
    cr_expect_eq(c.blocks, 0);
  }
}
