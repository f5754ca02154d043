/* Round trips of every supported type through the generated struct codecs
 * (no engine): extremes, nesting to depth 4 with arrays of structs, payloads
 * over 1 MiB, and hostile or truncated input. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "shapes.bs.h"
#include "types.bs.h"

static bs_arena arena;

static void setup(void) { bs_arena_init(&arena, (bs_allocator){0}); }
static void teardown(void) { bs_arena_free(&arena); }

TestSuite(gen_codec, .init = setup, .fini = teardown);

static const Point extra[3] = {{1, 2}, {-3, 4}, {INT32_MIN, INT32_MAX}};
static const uint64_t numbers[3] = {0, 1, UINT64_MAX};
static const Point optional_point = {42, -42};

static void fill_polygon(Polygon *p, int seed) {
  memset(p, 0, sizeof *p);
  p->name = seed % 2 ? "odd" : "even";
  p->color = seed % 3 == 0 ? COLOR_BLUE : COLOR_GREEN;
  for (int i = 0; i < 3; i++) {
    p->corners[i].x = seed + i;
    p->corners[i].y = -seed - i;
  }
  p->extra = extra;
  p->extra_count = (size_t)(seed % 4);
  p->weights[0][1] = seed * 0.25;
  p->weights[1][0] = -seed * 0.5;
}

static void assert_polygon_eq(const Polygon *a, const Polygon *b) {
  cr_assert_str_eq(a->name, b->name);
  cr_assert_eq(a->color, b->color);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(a->corners[i].x, b->corners[i].x);
    cr_assert_eq(a->corners[i].y, b->corners[i].y);
  }
  cr_assert_eq(a->extra_count, b->extra_count);
  for (size_t i = 0; i < a->extra_count; i++) {
    cr_assert_eq(a->extra[i].x, b->extra[i].x);
    cr_assert_eq(a->extra[i].y, b->extra[i].y);
  }
  cr_assert(memcmp(a->weights, b->weights, sizeof a->weights) == 0);
}

static void fill_all(AllTypes *t, size_t blob_len) {
  static const uint8_t raw[4] = {9, 8, 7, 6};
  memset(t, 0, sizeof *t);
  t->i8 = INT8_MIN;
  t->i16 = INT16_MIN;
  t->i32 = INT32_MIN;
  t->i64 = INT64_MIN;
  t->u8 = UINT8_MAX;
  t->u16 = UINT16_MAX;
  t->u32 = UINT32_MAX;
  t->u64 = UINT64_MAX;
  t->c = 'z';
  t->l = -1234567890123L;
  t->ull = 18446744073709551614ull;
  t->size = (size_t)1 << 40;
  t->flag = true;
  t->f = 3.25f;
  t->d = -1e300;
  t->level = LEVEL_LOW;
  t->flags = FLAG_B;
  t->color = COLOR_BLUE;
  t->text = "h\xc3\xa9llo, world";
  strcpy(t->fixed_text, "fixed");
  memcpy(t->digest, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  uint8_t *blob = malloc(blob_len ? blob_len : 1);
  for (size_t i = 0; i < blob_len; i++) blob[i] = (uint8_t)(i * 7u);
  t->blob.data = blob;
  t->blob.len = blob_len;
  t->raw = raw;
  t->raw_len = sizeof raw;
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) t->grid[i][j] = (int16_t)(i * 10 - j);
  t->corner.x = -5;
  t->corner.y = 5;
  fill_polygon(&t->shapes[0], 1);
  fill_polygon(&t->shapes[1], 2);
  t->numbers = numbers;
  t->numbers_count = 3;
  t->optional = &optional_point;
  t->missing = NULL;
}

static size_t encode_all(const AllTypes *t, uint8_t **out) {
  size_t cap = t->blob.len + t->more_count * 256 + 65536;
  *out = malloc(cap);
  bs_writer w;
  bs_writer_init(&w, *out, cap);
  cr_assert_eq(AllTypes__encode(&w, t), 0);
  return w.len;
}

static void decode_all(const uint8_t *buf, size_t len, AllTypes *t) {
  bs_reader r;
  bs_reader_init(&r, buf, len, &arena);
  cr_assert_eq(AllTypes__decode(&r, t), 0, "decode: %s", bs_strerror(r.err));
  cr_assert(bs_reader_at_end(&r));
}

static void assert_all_eq(const AllTypes *a, const AllTypes *b) {
  cr_assert_eq(a->i8, b->i8);
  cr_assert_eq(a->i16, b->i16);
  cr_assert_eq(a->i32, b->i32);
  cr_assert_eq(a->i64, b->i64);
  cr_assert_eq(a->u8, b->u8);
  cr_assert_eq(a->u16, b->u16);
  cr_assert_eq(a->u32, b->u32);
  cr_assert_eq(a->u64, b->u64);
  cr_assert_eq(a->c, b->c);
  cr_assert_eq(a->l, b->l);
  cr_assert_eq(a->ull, b->ull);
  cr_assert_eq(a->size, b->size);
  cr_assert_eq(a->flag, b->flag);
  cr_assert_eq(a->f, b->f);
  cr_assert_eq(a->d, b->d);
  cr_assert_eq(a->level, b->level);
  cr_assert_eq(a->flags, b->flags);
  cr_assert_eq(a->color, b->color);
  cr_assert_str_eq(a->text, b->text);
  cr_assert_str_eq(a->fixed_text, b->fixed_text);
  cr_assert(memcmp(a->digest, b->digest, 8) == 0);
  cr_assert_eq(a->blob.len, b->blob.len);
  cr_assert(a->blob.len == 0 || memcmp(a->blob.data, b->blob.data, a->blob.len) == 0);
  cr_assert_eq(a->raw_len, b->raw_len);
  cr_assert(memcmp(a->raw, b->raw, a->raw_len) == 0);
  cr_assert(memcmp(a->grid, b->grid, sizeof a->grid) == 0);
  cr_assert_eq(a->corner.x, b->corner.x);
  cr_assert_eq(a->corner.y, b->corner.y);
  assert_polygon_eq(&a->shapes[0], &b->shapes[0]);
  assert_polygon_eq(&a->shapes[1], &b->shapes[1]);
  cr_assert_eq(a->more_count, b->more_count);
  for (size_t i = 0; i < a->more_count; i++)
    assert_polygon_eq(&a->more[i], &b->more[i]);
  cr_assert_eq(a->numbers_count, b->numbers_count);
  cr_assert(memcmp(a->numbers, b->numbers, a->numbers_count * 8) == 0);
  cr_assert_eq(a->optional == NULL, b->optional == NULL);
  if (a->optional) {
    cr_assert_eq(a->optional->x, b->optional->x);
    cr_assert_eq(a->optional->y, b->optional->y);
  }
  cr_assert_null(b->missing);
}

Test(gen_codec, every_supported_type_round_trips_with_extreme_values) {
  AllTypes in, out;
  uint8_t *buf;
  fill_all(&in, 5);
  size_t len = encode_all(&in, &buf);
  decode_all(buf, len, &out);
  assert_all_eq(&in, &out);
  free(buf);
  free((void *)in.blob.data);
}

Test(gen_codec, nested_arrays_of_structs_over_one_mebibyte_round_trip) {
  enum { N = 20000 };
  AllTypes in, out;
  uint8_t *buf;
  Polygon *more = calloc(N, sizeof *more);
  fill_all(&in, (size_t)1 << 20);
  for (int i = 0; i < N; i++) fill_polygon(&more[i], i);
  in.more = more;
  in.more_count = N;
  size_t len = encode_all(&in, &buf);
  cr_assert_gt(len, (size_t)2 << 20, "payload is only %zu bytes", len);
  decode_all(buf, len, &out);
  assert_all_eq(&in, &out);
  free(buf);
  free(more);
  free((void *)in.blob.data);
}

Test(gen_codec, decoded_text_and_bytes_live_in_the_message_and_arena) {
  Polygon in, out;
  uint8_t buf[512];
  bs_writer w;
  fill_polygon(&in, 3);
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Polygon__encode(&w, &in), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(Polygon__decode(&r, &out), 0);
  cr_assert_neq(out.name, in.name); /* a copy, NUL-terminated */
  cr_assert(arena.total > 0);
  cr_assert_str_eq(out.name, "odd");
}

Test(gen_codec, every_truncation_of_a_message_is_an_error_not_a_crash) {
  AllTypes in, out;
  uint8_t *buf;
  fill_all(&in, 64);
  size_t len = encode_all(&in, &buf);
  for (size_t cut = 0; cut < len; cut++) {
    bs_reader r;
    bs_reader_init(&r, buf, cut, &arena);
    cr_assert_neq(AllTypes__decode(&r, &out), 0, "prefix %zu decoded", cut);
    bs_arena_reset(&arena);
  }
  free(buf);
  free((void *)in.blob.data);
}

/* key of AllTypes.numbers, as in the generated code */
static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

Test(gen_codec, a_hostile_array_count_is_rejected_before_allocating) {
  uint8_t buf[64];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_map(&w, 1);
  bs_write_uint(&w, fnv1a("numbers"));
  bs_write_array(&w, (uint64_t)1 << 40);
  bs_write_uint(&w, 1);
  AllTypes out;
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(AllTypes__decode(&r, &out), BS_EDECODE);
  cr_assert_lt(arena.total, (size_t)1 << 20);
}

Test(gen_codec, an_integer_out_of_the_fields_range_is_a_decode_error) {
  uint8_t buf[64];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_map(&w, 1);
  bs_write_uint(&w, fnv1a("x"));
  bs_write_int(&w, (int64_t)1 << 40);
  Point out;
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(Point__decode(&r, &out), BS_EDECODE);
}

Test(gen_codec, unknown_keys_of_any_type_are_skipped_and_missing_fields_zeroed) {
  uint8_t buf[128];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_map(&w, 3);
  bs_write_text(&w, "future", 6); /* a text key: skipped with its value */
  bs_write_array(&w, 2);
  bs_write_uint(&w, 1);
  bs_write_cstr(&w, "x");
  bs_write_uint(&w, 12345);       /* an unknown numeric key */
  bs_write_map(&w, 0);
  bs_write_uint(&w, fnv1a("y"));
  bs_write_int(&w, -9);
  Point out = {77, 77};
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(Point__decode(&r, &out), 0);
  cr_assert_eq(out.x, 0);
  cr_assert_eq(out.y, -9);
  cr_assert(bs_reader_at_end(&r));
}

Test(gen_codec, null_strings_and_null_struct_pointers_round_trip_as_null) {
  struct Scene in, out;
  uint8_t buf[256];
  memset(&in, 0, sizeof in);
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Scene__encode(&w, &in), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(Scene__decode(&r, &out), 0);
  cr_assert_null(out.highlight);
  cr_assert_null(out.origin);
  cr_assert_null(out.polygons);
  cr_assert_eq(out.polygon_count, 0);
  cr_assert_eq(out.thumbnail.len, 0);
}

Test(gen_codec, a_too_long_text_is_truncated_into_a_char_array) {
  uint8_t buf[128];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_map(&w, 1);
  bs_write_uint(&w, fnv1a("fixed_text"));
  bs_write_cstr(&w, "0123456789abcdef");
  AllTypes out;
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(AllTypes__decode(&r, &out), 0);
  cr_assert_str_eq(out.fixed_text, "0123456789a");
}
