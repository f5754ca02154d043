/* Old and new versions of a struct read each other: versions/v1/item_v1.h
 * and versions/v2/item_v2.h are generated into separate directories and
 * bytes written by one are decoded by the other. */
#include <criterion/criterion.h>
#include <string.h>

#include "versions_impl.h"

static bs_arena arena;
static uint8_t buf[1024];

static void setup(void) { bs_arena_init(&arena, (bs_allocator){0}); }
static void teardown(void) { bs_arena_free(&arena); }

TestSuite(gen_versions, .init = setup, .fini = teardown, .timeout = 30);

static Item1 item1(void) {
  Item1 a;
  memset(&a, 0, sizeof a);
  a.id = 7;
  a.name = "widget";
  a.qty = -3;
  a.dims.w = 10;
  a.dims.h = 20;
  a.scores[0] = 1;
  a.scores[1] = 2;
  return a;
}

static const uint32_t tags[2] = {100, 200};

static Item2 item2(void) {
  Item2 b;
  memset(&b, 0, sizeof b);
  b.id = 8;
  b.name = "gadget";
  b.price = 9.5;
  b.tags = tags;
  b.tags_count = 2;
  b.dims.w = 11;
  b.dims.h = 21;
  b.dims.depth = 31;
  for (int i = 0; i < 4; i++) b.scores[i] = (int16_t)(i + 1);
  b.featured = true;
  return b;
}

Test(gen_versions, a_new_reader_decodes_old_bytes_with_new_fields_zeroed) {
  Item1 a = item1();
  Item2 b;
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Item1__encode(&w, &a), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  memset(&b, 0xab, sizeof b);
  cr_assert_eq(Item2__decode(&r, &b), 0);
  cr_assert(bs_reader_at_end(&r));
  cr_assert_eq(b.id, 7);
  cr_assert_str_eq(b.name, "widget");
  cr_assert_eq(b.dims.w, 10);
  cr_assert_eq(b.dims.h, 20);
  cr_assert_eq(b.dims.depth, 0);
  cr_assert_eq(b.scores[1], 2);
  cr_assert_eq(b.scores[2], 0);
  cr_assert_eq(b.price, 0.0);
  cr_assert_null(b.tags);
  cr_assert_eq(b.tags_count, 0);
  cr_assert_eq(b.featured, false);
}

Test(gen_versions, an_old_reader_skips_new_fields_and_zeroes_dropped_ones) {
  Item2 b = item2();
  Item1 a;
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Item2__encode(&w, &b), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  memset(&a, 0xab, sizeof a);
  cr_assert_eq(Item1__decode(&r, &a), 0);
  cr_assert(bs_reader_at_end(&r));
  cr_assert_eq(a.id, 8);
  cr_assert_str_eq(a.name, "gadget");
  cr_assert_eq(a.qty, 0);
  cr_assert_eq(a.dims.w, 11);
  cr_assert_eq(a.dims.h, 21);
  cr_assert_eq(a.scores[0], 1);
  cr_assert_eq(a.scores[1], 2); /* scores[2..3] were skipped */
}

static const bs_method *find(const bs_actor_type *t, const char *name) {
  for (size_t i = 0; i < t->method_count; i++)
    if (strcmp(t->methods[i].name, name) == 0) return &t->methods[i];
  return NULL;
}

Test(gen_versions, adding_a_method_leaves_the_other_ids_unchanged) {
  const bs_method *p1 = find(&Store1_actor_type, "put");
  const bs_method *p2 = find(&Store2_actor_type, "put");
  cr_assert_not_null(p1);
  cr_assert_not_null(p2);
  cr_assert_eq(p1->id, p2->id);
  cr_assert_eq(Store2_actor_type.method_count, 2);
}

Test(gen_versions, a_v2_method_thunk_accepts_a_v1_call) {
  Item1 a = item1();
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Item1__encode(&w, &a), 0); /* the argument of v1's put */
  Store2 s;
  memset(&s, 0, sizeof s);
  bs_call call;
  memset(&call, 0, sizeof call);
  bs_reader_init(&call.args, buf, w.len, &arena);
  cr_assert_eq(find(&Store2_actor_type, "put")->invoke(&s, &call), 0);
  cr_assert_eq(s.count, 1);
  cr_assert_eq(store2_last.id, 7);
  cr_assert_str_eq(store_name, "widget");
  cr_assert_eq(store2_last.dims.h, 20);
}

/* An old sender's proxy talking to a new actor through the engine: the
 * engine finds the method by its wire id in the receiver's table. */
Test(gen_versions, an_old_proxy_calls_a_new_actor_through_the_engine) {
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  Store2Proxy s2;
  cr_assert_eq(Store2Proxy_get(e, "store", &s2), 0);
  Store1Proxy old = {s2.ref};
  cr_assert_eq(Store1Proxy_put(old, item1()), 0);
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  cr_assert_eq(store2_last.id, 7);
  cr_assert_str_eq(store_name, "widget");
  cr_assert_eq(store2_last.dims.w, 10);
  bs_engine_free(e);
}
