/* Streams with generated code: struct element types (bs_stream_Headline)
 * and subscriber helpers (bs_subscriber("id", ReaderProxy_handleNews)),
 * end to end through the engine. The fixtures are fixtures/news.h and
 * streams_impl.c; compile-time type checks are in compile_fail.c. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <backstage/testkit.h>

#include "news.bs.h"
#include "streams_impl.h"

static bs_engine *engine;

/* Dead letters, by reason, with the last one's target and method. */
static int dead[BS_DL__COUNT];
static char dead_target[32], dead_method[32];

static void on_dead_letter(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  dead[dl->reason]++;
  snprintf(dead_target, sizeof dead_target, "%s", dl->target_id);
  snprintf(dead_method, sizeof dead_method, "%s",
           dl->method_name ? dl->method_name : "");
}

static void setup(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.on_dead_letter = on_dead_letter;
  cr_assert_eq(bs_engine_new(&engine, &o), 0);
  news_reset();
  memset(dead, 0, sizeof dead);
}

static void teardown(void) { bs_engine_free(engine); }

TestSuite(gen_stream, .init = setup, .fini = teardown, .timeout = 30);

static void run(void) { cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0); }

static bs_engine_stats engine_stats(void) {
  bs_engine_stats st;
  bs_engine_stats_get(engine, &st);
  return st;
}

static bs_stream_stats stream_stats(bs_stream *s) {
  bs_stream_stats st;
  bs_stream_stats_get(s, &st);
  return st;
}

static void assert_lines(const char *id, int n, const char *const *want) {
  news_log *l = news_log_for(id);
  cr_assert_eq(l->n, n, "%s got %d elements, not %d", id, l->n, n);
  for (int i = 0; i < n; i++)
    cr_assert_str_eq(l->lines[i], want[i], "%s, element %d", id, i);
}

/* ---- The seed's pub/sub ----------------------------------------------------- */

/* docs/streams.md, "In five lines", from main. */
Test(gen_stream, the_docs_snippet_compiles_and_delivers) {
  bs_stream_cstr news;
  cr_assert_eq(bs_get_stream(engine, cstr, "news", &news), 0);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("reader-1", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_next(news, "Backstage ships streams"), 1);
  run();
  const char *want[] = {"Backstage ships streams"};
  assert_lines("reader-1", 1, want);
}

/* The publisher is an actor: it gets the stream through its bs_context
 * (Newsroom_subscribe / Newsroom_publish in streams_impl.c). */
Test(gen_stream, a_publisher_actor_reaches_every_reader_with_every_headline_in_order) {
  enum { READERS = 5, HEADLINES = 40 };
  NewsroomProxy room;
  cr_assert_eq(bs_get_actor(engine, Newsroom, "newsroom", &room), 0);
  char id[32], text[32];
  for (int r = 0; r < READERS; r++) {
    snprintf(id, sizeof id, "reader-%d", r);
    cr_assert_eq(NewsroomProxy_subscribe(room, id), 0);
  }
  for (int i = 0; i < HEADLINES; i++) {
    snprintf(text, sizeof text, "headline %d", i);
    cr_assert_eq(NewsroomProxy_publish(room, text), 0);
    if (i % 7 == 0) bs_engine_run(engine, BS_RUN_NOWAIT); /* deliver some mid-way */
  }
  run();
  for (int r = 0; r < READERS; r++) {
    snprintf(id, sizeof id, "reader-%d", r);
    news_log *l = news_log_for(id);
    cr_assert_eq(l->n, HEADLINES, "%s got %d", id, l->n);
    cr_assert_eq(l->inits, 1);
    for (int i = 0; i < HEADLINES; i++) {
      snprintf(text, sizeof text, "headline %d", i);
      cr_assert_str_eq(l->lines[i], text, "%s, element %d", id, i);
    }
  }
  bs_stream_cstr news;
  cr_assert_eq(bs_get_stream(engine, cstr, "news", &news), 0); /* the same stream */
  bs_stream_stats st = stream_stats(news.s);
  cr_assert_eq(st.published, HEADLINES);
  cr_assert_eq(st.subscribers, READERS);
  cr_assert_eq(st.deliveries, READERS * HEADLINES);
  cr_assert_eq(st.encodes, HEADLINES);
  cr_assert_eq(engine_stats().dead_letters, 0);
}

Test(gen_stream, two_publishers_every_reader_sees_the_same_order) {
  NewsroomProxy a, b;
  bs_get_actor(engine, Newsroom, "desk-a", &a);
  bs_get_actor(engine, Newsroom, "desk-b", &b);
  NewsroomProxy_subscribe(a, "r1");
  NewsroomProxy_subscribe(b, "r2"); /* the same stream, from another actor */
  NewsroomProxy_subscribe(a, "r2"); /* again: one subscription */
  run();
  bs_stream_cstr news;
  cr_assert_eq(bs_get_stream(engine, cstr, "news", &news), 0);
  cr_assert_eq(stream_stats(news.s).subscribers, 2);
  char text[16];
  for (int i = 0; i < 20; i++) {
    snprintf(text, sizeof text, "a%02d", i);
    NewsroomProxy_publish(a, text);
    snprintf(text, sizeof text, "b%02d", i);
    NewsroomProxy_publish(b, text);
  }
  run();
  news_log *r1 = news_log_for("r1"), *r2 = news_log_for("r2");
  cr_assert_eq(r1->n, 40);
  cr_assert_eq(r2->n, 40);
  int next_a = 0, next_b = 0;
  for (int i = 0; i < 40; i++) {
    cr_assert_str_eq(r1->lines[i], r2->lines[i], "element %d", i);
    snprintf(text, sizeof text, "%c%02d", r1->lines[i][0],
             r1->lines[i][0] == 'a' ? next_a++ : next_b++);
    cr_assert_str_eq(r1->lines[i], text, "publisher order, element %d", i);
  }
}

/* ---- Struct elements through the generated codecs ------------------------------ */

Test(gen_stream, struct_elements_with_nested_fields_and_strings_arrive_intact) {
  bs_stream_Headline hs;
  cr_assert_eq(bs_get_stream(engine, Headline, "headlines", &hs), 0);
  cr_assert_eq(bs_stream_elem_type(hs.s), &bs_elem_Headline);
  cr_assert_str_eq(bs_elem_Headline.name, "Headline");
  cr_assert_eq(bs_stream_subscribe(hs, bs_subscriber("by-pointer", ReaderProxy_onHeadline)), 0);
  cr_assert_eq(bs_stream_subscribe(hs, bs_subscriber("by-value", ReaderProxy_onHeadlineCopy)), 0);

  const Point path[3] = {{1, 2}, {-3, 4}, {2147483647, -2147483647 - 1}};
  const Point at = {10, -20};
  Headline h = {.seq = 18446744073709551615u,
                .title = "Streams land in C",
                .by = {.author = "Ada", .desk = "systems"},
                .path = path,
                .path_count = 3,
                .where = &at,
                .priority = -5};
  cr_assert_eq(bs_stream_next(hs, &h), 2);
  Headline bare = {.seq = 2}; /* NULL strings, no path, no where */
  cr_assert_eq(bs_stream_next(hs, &bare), 2);
  /* a non-const pointer converts, as for any function argument */
  Headline *mutable_h = &bare;
  bare.title = "";
  cr_assert_eq(bs_stream_next(hs, mutable_h), 2);
  run();
  const char *want[] = {
      "#18446744073709551615 Streams land in C by Ada/systems p-5 path 1,2 "
      "-3,4 2147483647,-2147483648 at 10,-20",
      "#2 (null) by (null)/ p0 path nowhere",
      "#2  by (null)/ p0 path nowhere",
  };
  assert_lines("by-pointer", 3, want);
  news_log *copy = news_log_for("by-value");
  cr_assert_eq(copy->n, 3);
  for (int i = 0; i < 3; i++) {
    char line[200];
    snprintf(line, sizeof line, "copy %s", want[i]);
    cr_assert_str_eq(copy->lines[i], line);
  }
  cr_assert_eq(stream_stats(hs.s).encodes, 3);
}

/* A Headline decoded by one actor's thunk is published again from inside
 * it: the element's wire form is exactly Headline__encode's. */
Test(gen_stream, a_struct_element_relayed_by_an_actor_is_unchanged) {
  bs_stream_Headline wire, headlines;
  bs_get_stream(engine, Headline, "wire", &wire);
  bs_get_stream(engine, Headline, "headlines", &headlines);
  bs_stream_subscribe(wire, bs_subscriber("newsroom", NewsroomProxy_publishHeadline));
  bs_stream_subscribe(headlines, bs_subscriber("reader", ReaderProxy_onHeadline));
  const Point path[1] = {{7, 8}};
  Headline h = {.seq = 42, .title = "relayed", .by = {"Grace", "wire"},
                .path = path, .path_count = 1, .priority = 3};
  cr_assert_eq(bs_stream_next(wire, &h), 1);
  run();
  const char *want[] = {"#42 relayed by Grace/wire p3 path 7,8 nowhere"};
  assert_lines("reader", 1, want);

  /* and the same bytes as the codec writes directly */
  uint8_t direct[256], elem[256];
  bs_writer w;
  bs_writer_init(&w, direct, sizeof direct);
  cr_assert_eq(Headline__encode(&w, &h), 0);
  size_t direct_len = w.len;
  const Headline *hp = &h;
  bs_writer_init(&w, elem, sizeof elem);
  cr_assert_eq(bs_elem_Headline.encode(&w, &hp), 0);
  cr_assert_eq(w.len, direct_len);
  cr_assert_arr_eq(elem, direct, direct_len);
}

/* A typed handle of a struct from the actor's own header cannot be a state
 * field (the header is parsed before the handle type is generated): the
 * Newsroom keeps the handle's bs_stream * from init on, and publishes
 * through bs_stream_from(Headline, self->headlines). */
Test(gen_stream, an_actor_keeps_its_stream_in_its_state) {
  bs_stream_Headline headlines;
  bs_get_stream(engine, Headline, "headlines", &headlines);
  bs_stream_subscribe(headlines, bs_subscriber("reader", ReaderProxy_onHeadline));
  NewsroomProxy room;
  cr_assert_eq(bs_get_actor(engine, Newsroom, "newsroom", &room), 0);
  Headline h = {.seq = 5, .title = "kept"};
  cr_assert_eq(NewsroomProxy_publishKept(room, &h), 0);
  h.seq = 6;
  cr_assert_eq(NewsroomProxy_publishKept(room, &h), 0);
  run();
  const char *want[] = {"#5 kept by (null)/ p0 path nowhere",
                        "#6 kept by (null)/ p0 path nowhere"};
  assert_lines("reader", 2, want);
  cr_assert_eq(stream_stats(headlines.s).published, 2);
  cr_assert_eq(engine_stats().method_errors, 0);
}

Test(gen_stream, from_retypes_only_a_stream_of_its_element_type) {
  bs_stream_Headline hs;
  cr_assert_eq(bs_get_stream(engine, Headline, "headlines", &hs), 0);
  bs_stream_Headline same = bs_stream_from(Headline, hs.s);
  cr_assert_eq(same.s, hs.s);
  cr_assert_eq(same.vt, hs.vt);
  bs_stream_Notice notices = bs_stream_from(Notice, hs.s);
  cr_assert_null(notices.s);
  cr_assert_null(notices.vt);
  Notice n = {"not a headline"};
  cr_assert_eq(bs_stream_next(notices, &n), BS_EINVAL);
  cr_assert_eq(bs_stream_subscribe(notices,
                                   bs_subscriber("r", ReaderProxy_onNotice)),
               BS_EINVAL);
  bs_stream_Headline_array arrays = bs_stream_from(Headline_array, hs.s);
  cr_assert_null(arrays.vt);
  bs_stream_cstr none = bs_stream_from(cstr, NULL);
  cr_assert_null(none.vt);
  cr_assert_eq(bs_stream_next(none, "x"), BS_EINVAL);
  bs_stream_i64_array batches;
  cr_assert_eq(bs_get_stream(engine, i64_array, "batches", &batches), 0);
  cr_assert_not_null(bs_stream_from(i64_array, batches.s).vt);
  cr_assert_eq(stream_stats(hs.s).published, 0);
}

Test(gen_stream, a_NULL_struct_element_is_EINVAL_and_queues_nothing) {
  bs_stream_Headline hs;
  bs_get_stream(engine, Headline, "headlines", &hs);
  bs_stream_subscribe(hs, bs_subscriber("reader", ReaderProxy_onHeadline));
  uint64_t sent = engine_stats().sent;
  cr_assert_eq(bs_stream_next(hs, NULL), BS_EINVAL);
  cr_assert_eq(engine_stats().sent, sent);
  bs_stream_stats st = stream_stats(hs.s);
  cr_assert_eq(st.published, 0);
  cr_assert_eq(st.encodes, 0);
  run();
  cr_assert_eq(news_log_for("reader")->n, 0);
}

/* ---- Every element token ------------------------------------------------------- */

/* Each helper names its own method, of its actor's table, with argc 1. */
Test(gen_stream, helpers_point_at_their_method_in_the_descriptor) {
#define CHECK_HELPER(sub, method_name)                                         \
  do {                                                                         \
    cr_assert_str_eq((sub).actor_id, "id");                                    \
    cr_assert_eq((sub).type, &Reader_actor_type);                              \
    cr_assert_geq((sub).method, Reader_actor_type.methods);                    \
    cr_assert_lt((sub).method,                                                 \
                 Reader_actor_type.methods + Reader_actor_type.method_count);  \
    cr_assert_str_eq((sub).method->name, method_name);                         \
    cr_assert_eq((sub).method->argc, 1);                                       \
  } while (0)
  bs_subscriber_cstr s1 = bs_subscriber("id", ReaderProxy_handleNews);
  CHECK_HELPER(s1, "handleNews");
  bs_subscriber_Headline s2 = bs_subscriber("id", ReaderProxy_onHeadline);
  CHECK_HELPER(s2, "onHeadline");
  bs_subscriber_Headline s3 = bs_subscriber("id", ReaderProxy_onHeadlineCopy);
  CHECK_HELPER(s3, "onHeadlineCopy");
  bs_subscriber_Notice s4 = bs_subscriber("id", ReaderProxy_onNotice);
  CHECK_HELPER(s4, "onNotice");
  bs_subscriber_Point s5 = bs_subscriber("id", ReaderProxy_onPoint);
  CHECK_HELPER(s5, "onPoint");
  bs_subscriber_i8 s6 = bs_subscriber("id", ReaderProxy_onI8);
  CHECK_HELPER(s6, "onI8");
  bs_subscriber_i16 s7 = bs_subscriber("id", ReaderProxy_onI16);
  CHECK_HELPER(s7, "onI16");
  bs_subscriber_i32 s8 = bs_subscriber("id", ReaderProxy_onInt);
  CHECK_HELPER(s8, "onInt");
  bs_subscriber_i64 s9 = bs_subscriber("id", ReaderProxy_onCount);
  CHECK_HELPER(s9, "onCount");
  bs_subscriber_u8 s10 = bs_subscriber("id", ReaderProxy_onU8);
  CHECK_HELPER(s10, "onU8");
  bs_subscriber_u16 s11 = bs_subscriber("id", ReaderProxy_onU16);
  CHECK_HELPER(s11, "onU16");
  bs_subscriber_u32 s12 = bs_subscriber("id", ReaderProxy_onU32);
  CHECK_HELPER(s12, "onU32");
  bs_subscriber_u64 s13 = bs_subscriber("id", ReaderProxy_onSize);
  CHECK_HELPER(s13, "onSize");
  bs_subscriber_boolean s14 = bs_subscriber("id", ReaderProxy_onFlag);
  CHECK_HELPER(s14, "onFlag");
  bs_subscriber_float s15 = bs_subscriber("id", ReaderProxy_onRatio);
  CHECK_HELPER(s15, "onRatio");
  bs_subscriber_double s16 = bs_subscriber("id", ReaderProxy_onLevel);
  CHECK_HELPER(s16, "onLevel");
  bs_subscriber_bytes s17 = bs_subscriber("id", ReaderProxy_onBlob);
  CHECK_HELPER(s17, "onBlob");
  bs_subscriber_i32 s18 = bs_subscriber("id", ReaderProxy_add);
  CHECK_HELPER(s18, "add");
  bs_subscriber_bytes s19 = bs_subscriber("id", ReaderProxy_onRaw);
  CHECK_HELPER(s19, "onRaw");
  /* one dynamic array pair: one argument on the wire, argc 1 */
  bs_subscriber_Headline_array a1 = bs_subscriber("id", ReaderProxy_onHeadlines);
  CHECK_HELPER(a1, "onHeadlines");
  bs_subscriber_Point_array a2 = bs_subscriber("id", ReaderProxy_onPoints);
  CHECK_HELPER(a2, "onPoints");
  bs_subscriber_i8_array a3 = bs_subscriber("id", ReaderProxy_onI8s);
  CHECK_HELPER(a3, "onI8s");
  bs_subscriber_i16_array a4 = bs_subscriber("id", ReaderProxy_onI16s);
  CHECK_HELPER(a4, "onI16s");
  bs_subscriber_i32_array a5 = bs_subscriber("id", ReaderProxy_onValues);
  CHECK_HELPER(a5, "onValues");
  bs_subscriber_i64_array a6 = bs_subscriber("id", ReaderProxy_onBatch);
  CHECK_HELPER(a6, "onBatch");
  bs_subscriber_u16_array a7 = bs_subscriber("id", ReaderProxy_onU16s);
  CHECK_HELPER(a7, "onU16s");
  bs_subscriber_u32_array a8 = bs_subscriber("id", ReaderProxy_onU32s);
  CHECK_HELPER(a8, "onU32s");
  bs_subscriber_u64_array a9 = bs_subscriber("id", ReaderProxy_onSizes);
  CHECK_HELPER(a9, "onSizes");
  bs_subscriber_boolean_array a10 = bs_subscriber("id", ReaderProxy_onFlags);
  CHECK_HELPER(a10, "onFlags");
  bs_subscriber_float_array a11 = bs_subscriber("id", ReaderProxy_onRatios);
  CHECK_HELPER(a11, "onRatios");
  bs_subscriber_double_array a12 = bs_subscriber("id", ReaderProxy_onLevels);
  CHECK_HELPER(a12, "onLevels");
  bs_subscriber_cstr_array a13 = bs_subscriber("id", ReaderProxy_onNames);
  CHECK_HELPER(a13, "onNames");
  bs_subscriber_bytes_array a14 = bs_subscriber("id", ReaderProxy_onBlobs);
  CHECK_HELPER(a14, "onBlobs");
#undef CHECK_HELPER
}

/* The library's built-in encoders and the generated thunks agree, at the
 * edges of every range. */
Test(gen_stream, every_token_from_a_built_in_stream_to_a_generated_subscriber) {
#define ONE(T, method, value)                                                  \
  do {                                                                         \
    bs_stream_##T s;                                                           \
    cr_assert_eq(bs_get_stream(engine, T, #T, &s), 0);                         \
    cr_assert_eq(bs_stream_subscribe(s, bs_subscriber("all", method)), 0);     \
    cr_assert_eq(bs_stream_next(s, value), 1, #T);                             \
  } while (0)
  static const uint8_t blob[4] = {0xde, 0xad, 0xbe, 0xef};
  const Point p = {-1, 1};
  const Notice n = {"mind the gap"};
  ONE(cstr, ReaderProxy_handleNews, "text");
  ONE(i8, ReaderProxy_onI8, INT8_MIN);
  ONE(i16, ReaderProxy_onI16, INT16_MIN);
  ONE(i32, ReaderProxy_onInt, INT32_MIN);
  ONE(i64, ReaderProxy_onCount, INT64_MIN);
  ONE(u8, ReaderProxy_onU8, UINT8_MAX);
  ONE(u16, ReaderProxy_onU16, UINT16_MAX);
  ONE(u32, ReaderProxy_onU32, UINT32_MAX);
  ONE(u64, ReaderProxy_onSize, UINT64_MAX);
  ONE(boolean, ReaderProxy_onFlag, true);
  ONE(float, ReaderProxy_onRatio, 1.5f);
  ONE(double, ReaderProxy_onLevel, 0.1);
  ONE(bytes, ReaderProxy_onBlob, ((bs_bytes){blob, sizeof blob}));
  ONE(Point, ReaderProxy_onPoint, &p);
  ONE(Notice, ReaderProxy_onNotice, &n);
  /* a `const void *, size_t` byte pair subscribes to bytes, like bs_bytes */
  bs_stream_bytes raw;
  cr_assert_eq(bs_get_stream(engine, bytes, "raw", &raw), 0);
  cr_assert_eq(bs_stream_subscribe(raw, bs_subscriber("all", ReaderProxy_onRaw)), 0);
  cr_assert_eq(bs_stream_next(raw, ((bs_bytes){blob, sizeof blob})), 1);
#undef ONE
  run();
  const char *want[] = {
      "text",
      "i8 -128",
      "i16 -32768",
      "i32 -2147483648",
      "i64 -9223372036854775808",
      "u8 255",
      "u16 65535",
      "u32 4294967295",
      "u64 18446744073709551615",
      "boolean true",
      "float 1.500",
      "double 0.100000",
      "bytes 4 deadbeef",
      "point -1,1",
      "notice mind the gap",
      "raw 4 deadbeef",
  };
  assert_lines("all", 16, want);
  cr_assert_eq(engine_stats().dead_letters, 0);
  cr_assert_eq(news_log_for("all")->inits, 1, "one actor, one activation");
}

/* ---- Dynamic arrays ------------------------------------------------------------ */

/* Every built-in array token, from the library's encoder to a generated
 * thunk decoding a `const T *, size_t` pair: edge values, and empty arrays
 * (NULL or not). */
Test(gen_stream, every_array_token_from_a_built_in_stream_to_a_generated_subscriber) {
#define ARR(T, method, ...)                                                    \
  do {                                                                         \
    bs_stream_##T##_array s;                                                   \
    cr_assert_eq(bs_get_stream(engine, T##_array, #T "[]", &s), 0);            \
    cr_assert_eq(bs_stream_subscribe(s, bs_subscriber("all", method)), 0);     \
    cr_assert_eq(bs_stream_next(s, __VA_ARGS__), 1, #T);                       \
  } while (0)
  const int8_t i8s[] = {INT8_MIN, 0, INT8_MAX, -1};
  const int16_t i16s[] = {INT16_MIN, INT16_MAX};
  const int32_t i32s[] = {INT32_MIN, 0, INT32_MAX};
  const int64_t i64s[] = {INT64_MIN, 1, 0, -1, INT64_MAX};
  const uint16_t u16s[] = {0, UINT16_MAX};
  const uint32_t u32s[] = {UINT32_MAX};
  const uint64_t u64s[] = {0, 1, UINT64_MAX};
  const bool flags[] = {true, false, true};
  const float ratios[] = {1.5f, -0.25f};
  const double levels[] = {0.1, -2.5};
  const char *const names[] = {"ada", "", NULL, "grace"};
  static const uint8_t blob[4] = {0xde, 0xad, 0xbe, 0xef};
  const bs_bytes blobs[] = {{blob, 4}, {NULL, 0}, {blob, 1}};
  ARR(i8, ReaderProxy_onI8s, bs_array(i8, i8s, 4));
  ARR(i16, ReaderProxy_onI16s, bs_array(i16, i16s, 2));
  ARR(i32, ReaderProxy_onValues, bs_array(i32, i32s, 3));
  ARR(i64, ReaderProxy_onBatch, bs_array(i64, i64s, 5));
  ARR(u16, ReaderProxy_onU16s, bs_array(u16, u16s, 2));
  ARR(u32, ReaderProxy_onU32s, bs_array(u32, u32s, 1));
  ARR(u64, ReaderProxy_onSizes, bs_array(u64, u64s, 3));
  ARR(boolean, ReaderProxy_onFlags, bs_array(boolean, flags, 3));
  ARR(float, ReaderProxy_onRatios, bs_array(float, ratios, 2));
  ARR(double, ReaderProxy_onLevels, bs_array(double, levels, 2));
  ARR(cstr, ReaderProxy_onNames, bs_array(cstr, names, 4));
  ARR(bytes, ReaderProxy_onBlobs, bs_array(bytes, blobs, 3));
#undef ARR
  /* empty arrays, NULL or not; a compound literal in its own parentheses */
  bs_stream_i32_array s;
  cr_assert_eq(bs_get_stream(engine, i32_array, "i32[]", &s), 0);
  cr_assert_eq(bs_stream_next(s, ((bs_array_i32){NULL, 0})), 1);
  cr_assert_eq(bs_stream_next(s, ((bs_array_i32){i32s, 0})), 1);
  run();
  const char *want[] = {
      "i8[4] -128 0 127 .. -1",
      "i16[2] -32768 32767",
      "i32[3] -2147483648 0 2147483647",
      "i64[5] -9223372036854775808 1 0 .. 9223372036854775807 sum -1",
      "u16[2] 0 65535",
      "u32[1] 4294967295",
      "u64[3] 0 1 18446744073709551615",
      "boolean[3] true false true",
      "float[2] 1.500 -0.250",
      "double[2] 0.100000 -2.500000",
      "cstr[4] ada  (null) .. grace",
      "bytes[3] 4 0 1",
      "i32[0]",
      "i32[0]",
  };
  assert_lines("all", 14, want);
  cr_assert_eq(engine_stats().dead_letters, 0);
  cr_assert_eq(news_log_for("all")->inits, 1, "one actor, one activation");
}

/* Arrays of structs: a generated S_array of a struct from this header
 * (nested struct, strings, an array of Points, an optional Point) and of
 * one from another header (shapes.h). */
Test(gen_stream, struct_arrays_arrive_intact_and_empty_ones_too) {
  bs_stream_Headline_array hs;
  bs_stream_Point_array ps;
  cr_assert_eq(bs_get_stream(engine, Headline_array, "editions", &hs), 0);
  cr_assert_eq(bs_get_stream(engine, Point_array, "tracks", &ps), 0);
  cr_assert_eq(bs_stream_elem_type(hs.s), &bs_elem_Headline_array);
  cr_assert_str_eq(bs_elem_Headline_array.name, "Headline_array");
  cr_assert_eq(bs_stream_subscribe(hs, bs_subscriber("desk", ReaderProxy_onHeadlines)), 0);
  cr_assert_eq(bs_stream_subscribe(ps, bs_subscriber("desk", ReaderProxy_onPoints)), 0);

  const Point path[2] = {{1, 2}, {-3, 4}};
  const Point at = {10, -20};
  const Headline edition[3] = {
      {.seq = 1, .title = "first", .by = {"Ada", "systems"}, .path = path,
       .path_count = 2, .where = &at, .priority = -5},
      {.seq = 2}, /* NULL strings, no path, no where */
      {.seq = 3, .title = "third", .by = {"Grace", "wire"}, .priority = 9},
  };
  cr_assert_eq(bs_stream_next(hs, bs_array(Headline, edition, 3)), 1);
  cr_assert_eq(bs_stream_next(hs, bs_array(Headline, NULL, 0)), 1);
  cr_assert_eq(bs_stream_next(ps, bs_array(Point, path, 2)), 1);
  cr_assert_eq(bs_stream_next(ps, ((bs_array_Point){path, 0})), 1);
  run();
  const char *want[] = {
      "Headline[3]",
      "#1 first by Ada/systems p-5 path 1,2 -3,4 at 10,-20",
      "#2 (null) by (null)/ p0 path nowhere",
      "#3 third by Grace/wire p9 path nowhere",
      "Headline[0]",
      "Point[2] 1,2 -3,4",
      "Point[0]",
  };
  assert_lines("desk", 7, want);
  cr_assert_eq(stream_stats(hs.s).encodes, 2);
}

Test(gen_stream, NULL_items_with_a_count_are_EINVAL_and_queue_nothing) {
  bs_stream_Headline_array hs;
  bs_stream_i64_array is;
  bs_get_stream(engine, Headline_array, "editions", &hs);
  bs_get_stream(engine, i64_array, "batches", &is);
  bs_stream_subscribe(hs, bs_subscriber("r", ReaderProxy_onHeadlines));
  bs_stream_subscribe(is, bs_subscriber("r", ReaderProxy_onBatch));
  uint64_t sent = engine_stats().sent;
  cr_assert_eq(bs_stream_next(hs, bs_array(Headline, NULL, 2)), BS_EINVAL);
  cr_assert_eq(bs_stream_next(is, bs_array(i64, NULL, 1)), BS_EINVAL);
  cr_assert_eq(engine_stats().sent, sent);
  cr_assert_eq(stream_stats(hs.s).published, 0);
  cr_assert_eq(stream_stats(is.s).published, 0);
  run();
  cr_assert_eq(news_log_for("r")->n, 0);
}

/* The element's bytes are the bytes of a proxy call passing the same
 * array: a probe standing in for the subscriber captures both. */
Test(gen_stream, an_array_element_is_encoded_as_the_proxy_encodes_the_pair) {
  bs_probe *probe;
  cr_assert_eq(bs_probe_new(engine, &Reader_actor_type, "wire", &probe), 0);
  ReaderProxy wire;
  cr_assert_eq(bs_get_actor(engine, Reader, "wire", &wire), 0);
  bs_stream_i64_array is;
  bs_stream_Headline_array hs;
  bs_get_stream(engine, i64_array, "batches", &is);
  bs_get_stream(engine, Headline_array, "editions", &hs);
  bs_stream_subscribe(is, bs_subscriber("wire", ReaderProxy_onBatch));
  bs_stream_subscribe(hs, bs_subscriber("wire", ReaderProxy_onHeadlines));
  const int64_t v[4] = {INT64_MIN, 0, 24, INT64_MAX};
  const Point path[1] = {{5, 6}};
  const Headline h[2] = {{.seq = 7, .title = "t", .by = {"A", "d"}, .path = path,
                          .path_count = 1, .priority = 2},
                         {.seq = 8}};
  cr_assert_eq(ReaderProxy_onBatch(wire, v, 4), 0);
  cr_assert_eq(bs_stream_next(is, bs_array(i64, v, 4)), 1);
  cr_assert_eq(ReaderProxy_onHeadlines(wire, h, 2), 0);
  cr_assert_eq(bs_stream_next(hs, bs_array(Headline, h, 2)), 1);
  cr_assert_eq(ReaderProxy_onBatch(wire, NULL, 0), 0);
  cr_assert_eq(bs_stream_next(is, bs_array(i64, NULL, 0)), 1);
  for (int pair = 0; pair < 3; pair++) {
    bs_probed a, b;
    uint8_t first[512];
    cr_assert_eq(bs_probe_next(probe, &a), 1);
    size_t n = (size_t)(a.args.end - a.args.p);
    cr_assert_leq(n, sizeof first);
    memcpy(first, a.args.p, n);
    cr_assert_eq(bs_probe_next(probe, &b), 1);
    cr_assert_str_eq(a.method, b.method);
    cr_assert_eq((size_t)(b.args.end - b.args.p), n, "%s", a.method);
    cr_assert_arr_eq(b.args.p, first, n, "%s", a.method);
  }
  /* and the generated argument decoder reads the element */
  cr_assert_eq(bs_stream_next(is, bs_array(i64, v, 4)), 1);
  bs_probed m;
  cr_assert_eq(bs_probe_next(probe, &m), 1);
  const int64_t *got = NULL;
  size_t count = 0;
  cr_assert_eq(ReaderProxy_onBatch__args(&m.args, &got, &count), 0);
  cr_assert_eq(count, 4);
  cr_assert_arr_eq(got, v, sizeof v);
  bs_probe_free(probe);
}

/* A large array, fanned out: one encode of ~900 KB shared by every
 * subscriber, each decoding all of it. */
Test(gen_stream, a_large_array_fanned_out_is_encoded_once_and_arrives_whole) {
  enum { N = 150000, READERS = 8 };
  static int64_t v[N];
  int64_t sum = 0;
  for (int i = 0; i < N; i++) {
    v[i] = (int64_t)i * 1000003 - 7;
    sum += v[i];
  }
  bs_stream_i64_array batches;
  cr_assert_eq(bs_get_stream(engine, i64_array, "batches", &batches), 0);
  char id[32];
  for (int r = 0; r < READERS; r++) {
    snprintf(id, sizeof id, "sink-%d", r);
    cr_assert_eq(bs_stream_subscribe(batches, bs_subscriber(id, ReaderProxy_onBatch)), 0);
  }
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, v, N)), READERS);
  bs_stream_stats st = stream_stats(batches.s);
  cr_assert_eq(st.encodes, 1);
  cr_assert_eq(st.deliveries, READERS);
  run();
  char want[160];
  snprintf(want, sizeof want, "i64[%d] %" PRId64 " %" PRId64 " %" PRId64 " .. %" PRId64
           " sum %" PRId64, N, v[0], v[1], v[2], v[N - 1], sum);
  for (int r = 0; r < READERS; r++) {
    snprintf(id, sizeof id, "sink-%d", r);
    const char *lines[] = {want};
    assert_lines(id, 1, lines);
  }
  cr_assert_eq(engine_stats().dead_letters, 0);
}

/* A request/reply method as a subscriber: it runs, its state persists, the
 * return value goes nowhere (no reply, no dead letter). */
Test(gen_stream, a_request_method_subscribes_and_its_return_value_is_dropped) {
  bs_stream_i32 s;
  bs_get_stream(engine, i32, "amounts", &s);
  cr_assert_eq(bs_stream_subscribe(s, bs_subscriber("acc", ReaderProxy_add)), 0);
  bs_stream_next(s, 5);
  bs_stream_next(s, 7);
  bs_stream_next(s, -2);
  run();
  const char *want[] = {"add 5 total 5", "add 7 total 12", "add -2 total 10"};
  assert_lines("acc", 3, want);
  /* the same actor still answers requests */
  ReaderProxy acc;
  bs_get_actor(engine, Reader, "acc", &acc);
  int32_t total = 0;
  cr_assert_eq(ReaderProxy_add_await(acc, 1, &total), 0);
  cr_assert_eq(total, 11);
  bs_engine_stats st = engine_stats();
  cr_assert_eq(st.dead_letters, 0);
  cr_assert_eq(st.requests_pending, 0);
}

/* ---- Fan-out ------------------------------------------------------------------ */

Test(gen_stream, fanout_of_one_struct_to_100_subscribers_is_one_encode) {
  bs_stream_Headline hs;
  bs_get_stream(engine, Headline, "headlines", &hs);
  char id[32];
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "reader-%03d", i);
    cr_assert_eq(bs_stream_subscribe(hs, bs_subscriber(id, ReaderProxy_onHeadline)), 0);
  }
  const Point path[2] = {{1, 1}, {2, 2}};
  Headline h = {.seq = 1, .title = "to everyone", .by = {"Bob", "desk"},
                .path = path, .path_count = 2, .priority = 1};
  bs_engine_stats before = engine_stats();
  cr_assert_eq(bs_stream_next(hs, &h), 100);
  bs_stream_stats st = stream_stats(hs.s);
  cr_assert_eq(st.encodes, 1);
  cr_assert_eq(st.deliveries, 100);
  cr_assert_eq(st.published, 1);
  cr_assert_eq(st.subscribers, 100);
  run();
  bs_engine_stats after = engine_stats();
  cr_assert_eq(after.delivered - before.delivered, 100);
  cr_assert_eq(after.dead_letters, 0);
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "reader-%03d", i);
    const char *want[] = {"#1 to everyone by Bob/desk p1 path 1,1 2,2 nowhere"};
    assert_lines(id, 1, want);
  }
}

/* ---- Subscriptions ---------------------------------------------------------------- */

Test(gen_stream, subscribe_twice_is_one_and_unsubscribe_takes_the_same_helper) {
  bs_stream_cstr news;
  bs_get_stream(engine, cstr, "news", &news);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_handleNews)), 0);
  cr_assert_eq(stream_stats(news.s).subscribers, 1);
  cr_assert_eq(bs_stream_next(news, "one"), 1);
  cr_assert_eq(bs_stream_unsubscribe(news, bs_subscriber("r", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_unsubscribe(news, bs_subscriber("r", ReaderProxy_handleNews)),
               BS_ENOTFOUND);
  cr_assert_eq(bs_stream_next(news, "two"), 0);
  run();
  const char *want[] = {"one"};
  assert_lines("r", 1, want);
}

Test(gen_stream, type_mismatches_found_at_run_time_are_ETYPE) {
  bs_stream_cstr news;
  bs_stream_Headline as_headlines;
  bs_stream_Notice as_notices;
  cr_assert_eq(bs_get_stream(engine, cstr, "news", &news), 0);
  cr_assert_eq(bs_get_stream(engine, Headline, "news", &as_headlines), BS_ETYPE);
  cr_assert_null(as_headlines.s);
  cr_assert_eq(bs_get_stream(engine, Headline, "h", &as_headlines), 0);
  cr_assert_eq(bs_get_stream(engine, Notice, "h", &as_notices), BS_ETYPE);
  /* an actor of another type with the same id is another actor: the
   * Reader "room" subscribes, the Newsroom "room" hears nothing */
  NewsroomProxy room;
  bs_get_actor(engine, Newsroom, "room", &room);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("room", ReaderProxy_handleNews)), 0);
  cr_assert_eq(bs_stream_subscribe(news, bs_subscriber("", ReaderProxy_handleNews)),
               BS_EIDLEN);
}

/* ---- Virtual subscribers ---------------------------------------------------------- */

Test(gen_stream, a_subscriber_stopped_mid_stream_is_reactivated_by_the_next_element) {
  bs_stream_cstr news;
  bs_get_stream(engine, cstr, "news", &news);
  bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_handleNews));
  bs_stream_subscribe(news, bs_subscriber("other", ReaderProxy_handleNews));
  ReaderProxy r;
  bs_get_actor(engine, Reader, "r", &r);
  bs_stream_next(news, "one");
  bs_stream_next(news, "two");
  cr_assert_eq(ReaderProxy_stop(r), 0);
  bs_stream_next(news, "behind the stop"); /* queued behind the pill */
  run();
  news_log *l = news_log_for("r");
  cr_assert_eq(l->n, 2);
  cr_assert_eq(l->inits, 1);
  cr_assert_eq(l->deinits, 1);
  cr_assert_eq(dead[BS_DL_STOPPED], 1);
  cr_assert_str_eq(dead_target, "r");
  cr_assert_str_eq(dead_method, "handleNews");
  cr_assert_eq(news_log_for("other")->n, 3);

  cr_assert_eq(bs_stream_next(news, "three"), 2, "still subscribed");
  run();
  const char *want[] = {"one", "two", "three"};
  assert_lines("r", 3, want);
  cr_assert_eq(l->inits, 2, "a fresh instance");
  cr_assert_eq(dead[BS_DL_STOPPED], 1);
}

Test(gen_stream, a_subscriber_stopping_itself_gets_what_was_queued_before_its_stop) {
  bs_stream_cstr news;
  bs_get_stream(engine, cstr, "news", &news);
  bs_stream_subscribe(news, bs_subscriber("r", ReaderProxy_handleNews));
  news_stop_after = "two";
  const char *texts[] = {"one", "two", "three", "four"};
  for (int i = 0; i < 4; i++) bs_stream_next(news, texts[i]); /* all before the stop */
  run();
  news_log *l = news_log_for("r");
  cr_assert_eq(l->n, 4);
  cr_assert_eq(l->deinits, 1);
  cr_assert_eq(dead[BS_DL_STOPPED], 0);
  bs_stream_next(news, "five");
  run();
  cr_assert_eq(l->inits, 2);
  cr_assert_str_eq(l->lines[4], "five");
}
