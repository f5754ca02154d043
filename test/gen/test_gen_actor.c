/* Generated proxies end to end: proxy -> CBOR -> engine -> dispatch thunk
 * -> method, and replies back through continuations and awaits. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "actors_impl.h"
#include "greeter.bs.h"
#include "kitchen.bs.h"

static bs_engine *engine;
static bs_arena arena;

static void setup(void) {
  cr_assert_eq(bs_engine_new(&engine, NULL), 0);
  bs_arena_init(&arena, (bs_allocator){0});
  gen_seen[0] = '\0';
}

static void teardown(void) {
  bs_engine_free(engine);
  bs_arena_free(&arena);
}

TestSuite(gen_actor, .init = setup, .fini = teardown, .timeout = 30);

static KitchenProxy kitchen(void) {
  KitchenProxy k;
  cr_assert_eq(bs_get_actor(engine, Kitchen, "kitchen", &k), 0);
  return k;
}

static void run(void) { cr_assert_eq(bs_engine_run(engine, BS_RUN_UNTIL_DONE), 0); }

Test(gen_actor, fire_and_forget_calls_reach_the_method_in_order) {
  GreeterProxy g;
  uint32_t n = 0;
  cr_assert_eq(GreeterProxy_get(engine, "greeter", &g), 0);
  cr_assert_eq(GreeterProxy_sayHello(g, "World"), 0);
  cr_assert_eq(GreeterProxy_sayHello(g, "C"), 0);
  cr_assert_eq(GreeterProxy_getCount_await(g, &n), 0);
  cr_assert_eq(n, 2);
  const char *last = NULL;
  cr_assert_eq(GreeterProxy_lastName_await(g, &arena, &last), 0);
  cr_assert_str_eq(last, "C");
  cr_assert_eq(gen_inits, 1);
}

static void on_count(void *ud, int status, uint32_t value) {
  cr_assert_eq(status, 0);
  *(uint32_t *)ud = value + 1000;
}

Test(gen_actor, a_continuation_receives_the_reply_later) {
  GreeterProxy g;
  uint32_t got = 0;
  bs_get_actor(engine, Greeter, "g", &g);
  GreeterProxy_sayHello(g, "x");
  cr_assert_eq(GreeterProxy_getCount(g, on_count, &got), 0);
  cr_assert_eq(got, 0);
  run();
  cr_assert_eq(got, 1001);
}

Test(gen_actor, stop_runs_deinit_and_a_later_call_reactivates) {
  GreeterProxy g;
  uint32_t n = 9;
  bs_get_actor(engine, Greeter, "g", &g);
  GreeterProxy_sayHello(g, "x");
  cr_assert_eq(GreeterProxy_stop(g), 0);
  run();
  cr_assert_eq(gen_deinits, 1);
  cr_assert_eq(GreeterProxy_getCount_await(g, &n), 0);
  cr_assert_eq(n, 0);
  cr_assert_eq(gen_inits, 2);
}

Test(gen_actor, every_integer_type_arrives_intact_at_its_limits) {
  KitchenProxy k = kitchen();
  KitchenProxy_integers(k, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN,
                        UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX);
  run();
  cr_assert_str_eq(gen_seen, "-128 -32768 -2147483648 -9223372036854775808 "
                             "255 65535 4294967295 18446744073709551615");
  KitchenProxy_cTypes(k, 'q', -1, 200, -300, 60000, -7, 4000000000u, -5L,
                      6UL, -8LL, 9ULL, (size_t)123456789);
  run();
  cr_assert_str_eq(gen_seen, "q -1 200 -300 60000 -7 4000000000 -5 6 -8 9 "
                             "123456789");
}

Test(gen_actor, bools_floats_doubles_and_enums_arrive_intact) {
  KitchenProxy_scalars(kitchen(), true, 0.5f, -2.25, MODE_ON, COLOR_BLUE);
  run();
  cr_assert_str_eq(gen_seen, "1 0.500 -2.250000 1 -3");
}

Test(gen_actor, strings_arrive_nul_terminated_and_null_stays_null) {
  KitchenProxy_text(kitchen(), "hello", NULL);
  run();
  cr_assert_str_eq(gen_seen, "hello|NULL");
}

Test(gen_actor, byte_buffers_arrive_in_all_three_spellings) {
  const uint8_t raw[3] = {1, 2, 250};
  bs_bytes blob = {"blob", 4};
  KitchenProxy_bytes(kitchen(), blob, "data", 4, raw, 3);
  run();
  cr_assert_str_eq(gen_seen, "4:blob 4:data 3:250");
}

Test(gen_actor, dynamic_arrays_of_numbers_structs_and_strings_arrive) {
  const int32_t values[5] = {1, -2, 3, -4, 5};
  const Point points[2] = {{1, 2}, {3, 4}};
  const char *const names[3] = {"a", "bb", "ccc"};
  KitchenProxy_arrays(kitchen(), values, 5, points, 2, names, 3);
  run();
  cr_assert_str_eq(gen_seen, "5: 1 -2 3 -4 2: (1,2) (3,4) 3: a bb ccc");
}

Test(gen_actor, fixed_arrays_arrive_including_arrays_of_arrays) {
  const int32_t v[4] = {1, 2, 3, 4};
  const double m[2][3] = {{0.5, 0, 0}, {0, 0, 9.5}};
  const uint8_t digest[4] = {0, 0, 0, 77};
  const char label[8] = "label";
  KitchenProxy_matrix(kitchen(), v, m, label, digest);
  run();
  cr_assert_str_eq(gen_seen, "1 4 0.5 9.5 label 77");
}

Test(gen_actor, nested_structs_by_value_and_by_pointer_arrive) {
  Polygon poly;
  struct Scene scene;
  memset(&poly, 0, sizeof poly);
  memset(&scene, 0, sizeof scene);
  poly.name = "tri";
  poly.color = COLOR_GREEN;
  poly.corners[2].x = 5;
  poly.corners[2].y = 6;
  scene.polygons = &poly;
  scene.polygon_count = 1;
  scene.thumbnail.data = "abc";
  scene.thumbnail.len = 3;
  KitchenProxy_structs(kitchen(), (Point){1, -1}, &poly, scene);
  run();
  cr_assert_str_eq(gen_seen, "(1,-1) tri 2 (5,6) 0 1 3");
  KitchenProxy_structs(kitchen(), (Point){0, 0}, NULL, scene);
  run();
  cr_assert_str_eq(gen_seen, "(0,0) NULL 0 (0,0) 0 1 3");
}

Test(gen_actor, parameters_named_like_proxy_locals_still_work) {
  KitchenProxy_clash(kitchen(), 1, 2, 3);
  run();
  cr_assert_str_eq(gen_seen, "1 2 3");
  const int32_t t[2] = {7, 8};
  KitchenProxy_shadow(kitchen(), "x", 5, t, 2);
  run();
  cr_assert_str_eq(gen_seen, "x 5 2: 7 8");
}

Test(gen_actor, request_methods_return_every_kind_of_value) {
  KitchenProxy k = kitchen();
  Point p;
  cr_assert_eq(KitchenProxy_where_await(k, &p), 0);
  cr_assert_eq(p.x, 7);
  cr_assert_eq(p.y, -7);
  bool flag = false;
  cr_assert_eq(KitchenProxy_flag_await(k, &flag), 0);
  cr_assert(flag);
  double ratio = 0;
  cr_assert_eq(KitchenProxy_ratio_await(k, 1.0f, 4.0f, &ratio), 0);
  cr_assert_eq(ratio, 0.25);
  Mode mode = MODE_OFF;
  cr_assert_eq(KitchenProxy_mode_await(k, &mode), 0);
  cr_assert_eq(mode, MODE_ON);
  const int64_t values[3] = {INT64_MAX, -1, -2};
  int64_t sum = 0;
  cr_assert_eq(KitchenProxy_sum_await(k, values, 3, &sum), 0);
  cr_assert_eq(sum, INT64_MAX - 3);
}

Test(gen_actor, awaited_pointers_live_in_the_callers_arena) {
  KitchenProxy k = kitchen();
  Polygon poly;
  cr_assert_eq(KitchenProxy_polygon_await(k, 10, &arena, &poly), 0);
  bs_engine_run(engine, BS_RUN_NOWAIT); /* messages recycled meanwhile */
  cr_assert_str_eq(poly.name, "triangle");
  cr_assert_eq(poly.color, COLOR_BLUE);
  cr_assert_eq(poly.corners[2].y, -20);
  cr_assert_eq(poly.extra_count, 2);
  cr_assert_eq(poly.extra[1].x, 300);
  cr_assert_eq(poly.weights[1][1], 5.0);
  struct Scene scene;
  cr_assert_eq(KitchenProxy_scene_await(k, &arena, &scene), 0);
  cr_assert_eq(scene.origin->x, 7);
  cr_assert_eq(scene.tag_count, 2);
  cr_assert_str_eq(scene.tags[1], "bb");
  cr_assert_eq(((const uint8_t *)scene.thumbnail.data)[2], 3);
  cr_assert_eq(scene.id[15], 0xee);
  const Point *maybe = (const Point *)1;
  cr_assert_eq(KitchenProxy_maybePoint_await(k, false, &arena, &maybe), 0);
  cr_assert_null(maybe);
  cr_assert_eq(KitchenProxy_maybePoint_await(k, true, &arena, &maybe), 0);
  cr_assert_eq(maybe->y, -7);
}

Test(gen_actor, a_reply_over_one_mebibyte_arrives_whole) {
  bs_bytes b = {0};
  size_t size = (size_t)3 << 19; /* 1.5 MiB */
  cr_assert_eq(KitchenProxy_blob_await(kitchen(), size, &arena, &b), 0);
  cr_assert_eq(b.len, size);
  const uint8_t *p = b.data;
  for (size_t i = 0; i < size; i += 4099) cr_assert_eq(p[i], (uint8_t)(i * 31u));
}

Test(gen_actor, a_struct_with_every_type_survives_request_and_reply) {
  static uint8_t big[(size_t)1 << 20];
  const uint64_t nums[2] = {5, UINT64_MAX};
  const Point opt = {3, 4};
  AllTypes in, out;
  memset(&in, 0, sizeof in);
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)i;
  in.i64 = INT64_MIN;
  in.u64 = UINT64_MAX;
  in.text = "text";
  strcpy(in.fixed_text, "fixed");
  in.blob.data = big;
  in.blob.len = sizeof big;
  in.numbers = nums;
  in.numbers_count = 2;
  in.optional = &opt;
  in.shapes[1].name = "s1";
  in.shapes[1].extra = &opt;
  in.shapes[1].extra_count = 1;
  in.grid[1][2] = -3;
  in.level = LEVEL_HIGH;
  cr_assert_eq(KitchenProxy_echo_await(kitchen(), in, &arena, &out), 0);
  cr_assert_eq(out.i64, INT64_MIN);
  cr_assert_eq(out.u64, UINT64_MAX);
  cr_assert_str_eq(out.text, "text");
  cr_assert_str_eq(out.fixed_text, "fixed");
  cr_assert_eq(out.blob.len, sizeof big);
  cr_assert(memcmp(out.blob.data, big, sizeof big) == 0);
  cr_assert_eq(out.numbers[1], UINT64_MAX);
  cr_assert_eq(out.optional->y, 4);
  cr_assert_null(out.missing);
  cr_assert_str_eq(out.shapes[1].name, "s1");
  cr_assert_eq(out.shapes[1].extra[0].x, 3);
  cr_assert_null(out.shapes[0].name);
  cr_assert_eq(out.grid[1][2], -3);
  cr_assert_eq(out.level, LEVEL_HIGH);
}

Test(gen_actor, await_checks_its_out_and_arena_arguments) {
  KitchenProxy k = kitchen();
  Polygon poly;
  cr_assert_eq(KitchenProxy_polygon_await(k, 1, NULL, &poly), BS_EINVAL);
  cr_assert_eq(KitchenProxy_where_await(k, NULL), BS_EINVAL);
}

/* ---- The descriptor and the thunks, without the engine ------------------- */

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

Test(gen_actor, method_tables_are_sorted_by_stable_name_hash_ids) {
  const bs_actor_type *types[2] = {&Greeter_actor_type, &Kitchen_actor_type};
  for (int t = 0; t < 2; t++) {
    cr_assert_eq(bs_actor_type_check(types[t]), 0);
    for (size_t i = 0; i < types[t]->method_count; i++) {
      const bs_method *m = &types[t]->methods[i];
      cr_assert_eq(m->id, fnv1a(m->name), "%s", m->name);
      if (i > 0) cr_assert_lt(types[t]->methods[i - 1].id, m->id);
    }
  }
  cr_assert_eq(Greeter_actor_type.method_count, 4);
  cr_assert_str_eq(Greeter_actor_type.name, "Greeter");
  cr_assert_eq(Greeter_actor_type.state_size, sizeof(Greeter));
}

static const bs_method *find(const bs_actor_type *t, const char *name) {
  for (size_t i = 0; i < t->method_count; i++)
    if (strcmp(t->methods[i].name, name) == 0) return &t->methods[i];
  return NULL;
}

Test(gen_actor, an_undecodable_argument_is_an_error_and_the_method_is_not_called) {
  uint8_t buf[16];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  bs_write_uint(&w, 5); /* a number where sayHello takes a string */
  Greeter g;
  memset(&g, 0, sizeof g);
  bs_call call;
  memset(&call, 0, sizeof call);
  bs_reader_init(&call.args, buf, w.len, &arena);
  const bs_method *m = find(&Greeter_actor_type, "sayHello");
  cr_assert_not_null(m);
  cr_assert_eq(m->invoke(&g, &call), BS_EDECODE);
  cr_assert_eq(g.count, 0);
}

Test(gen_actor, a_thunk_encodes_the_return_value_when_asked) {
  uint8_t out[16];
  bs_writer reply;
  bs_writer_init(&reply, out, sizeof out);
  Greeter g;
  memset(&g, 0, sizeof g);
  g.count = 500;
  bs_call call;
  memset(&call, 0, sizeof call);
  call.reply = &reply;
  bs_reader_init(&call.args, out, 0, &arena);
  cr_assert_eq(find(&Greeter_actor_type, "getCount")->invoke(&g, &call), 0);
  bs_reader r;
  bs_reader_init(&r, out, reply.len, NULL);
  uint32_t v = 0;
  cr_assert_eq(bs_read_u32(&r, &v), 0);
  cr_assert_eq(v, 500);
}

Test(gen_actor, the_state_encoder_skips_what_it_cannot_encode) {
  Greeter g;
  uint8_t buf[128];
  memset(&g, 0, sizeof g);
  g.ctx = (bs_context *)&g;
  g.count = 3;
  strcpy(g.last, "Ada");
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Greeter_actor_type.encode_state(&g, &w), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  uint64_t n = 0, count = 0;
  const char *key = NULL, *last = NULL;
  cr_assert_eq(bs_read_map(&r, &n), 0);
  cr_assert_eq(n, 2); /* count, last: not ctx */
  /* keyed by field name, not by its hash: the state is for the inspector
   * (fixtures/board.h and test_gen_board.c test it in depth) */
  cr_assert_eq(bs_read_cstr(&r, &key), 0);
  cr_assert_str_eq(key, "count");
  bs_read_uint(&r, &count);
  cr_assert_eq(count, 3);
  cr_assert_eq(bs_read_cstr(&r, &key), 0);
  cr_assert_str_eq(key, "last");
  cr_assert_eq(bs_read_cstr(&r, &last), 0);
  cr_assert_str_eq(last, "Ada");
}
