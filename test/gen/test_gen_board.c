/* The Board fixture (fixtures/board.h):
 * - its state encoder writes maps keyed by field NAME, nested structs and
 *   arrays of structs included, and leaves out what it cannot encode; the
 *   inspector's /api/actor shows that state as JSON with the field names
 *   (when the inspector is compiled in);
 * - wire encoders keep the hashed keys;
 * - BS_ARRAY(const char *, tags) is `const char *const *tags` and round
 *   trips through the codec, a proxy and a reply;
 * - TProxy_from_ref and TProxy_self. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "board.bs.h"
#include "greeter.bs.h"

#ifdef GEN_BOARD_HTTP
#include "insp_test.h"
#endif

/* BS_ARRAY(const char *, tags) declares both levels const. */
_Static_assert(_Generic(((Pin *)0)->tags, const char *const *: 1, default: 0),
               "BS_ARRAY(const char *, tags) is const char *const *");

static bs_arena arena;
static bs_engine *engine;

static void setup(void) {
  bs_arena_init(&arena, (bs_allocator){0});
  cr_assert_eq(bs_engine_new(&engine, NULL), 0);
}

static void teardown(void) {
  bs_engine_free(engine);
  bs_arena_free(&arena);
}

TestSuite(gen_board, .init = setup, .fini = teardown, .timeout = 30);

static uint32_t fnv1a(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

static void expect_key(bs_reader *r, const char *name) {
  const char *s = NULL;
  size_t n = 0;
  cr_assert_eq(bs_peek(r), BS_CBOR_TEXT, "key %s is not text", name);
  cr_assert_eq(bs_read_text(r, &s, &n), 0);
  cr_assert(n == strlen(name) && memcmp(s, name, n) == 0,
            "key '%.*s', expected '%s'", (int)n, s, name);
}

static void expect_point(bs_reader *r, int64_t x, int64_t y) {
  uint64_t n = 0;
  int64_t v = 0;
  cr_assert_eq(bs_read_map(r, &n), 0);
  cr_assert_eq(n, 2);
  expect_key(r, "x");
  cr_assert_eq(bs_read_int(r, &v), 0);
  cr_assert_eq(v, x);
  expect_key(r, "y");
  cr_assert_eq(bs_read_int(r, &v), 0);
  cr_assert_eq(v, y);
}

static const char *const tags[] = {"red", "round"};

Test(gen_board, the_state_encoder_keys_fields_by_name_at_every_depth) {
  Board b;
  memset(&b, 0, sizeof b);
  b.ctx = (bs_context *)&b;
  b.moves = -3;
  b.title = "t";
  strcpy(b.owner, "me");
  b.zoom = 2.0;
  b.origin = (Point){1, 2};
  strcpy(b.pins[1].label, "p");
  b.pins[1].at = (Point){5, 6};
  b.pins[1].tags = tags;
  b.pins[1].tags_count = 2;
  b.focus = &b.pins[1];
  b.scratch = &b;
  b.color = COLOR_BLUE;
  b.palette[0] = COLOR_GREEN;
  b.palette[2] = (Color)-9;
  uint8_t buf[512];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Board_actor_type.encode_state(&b, &w), 0);

  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  uint64_t n = 0;
  int64_t i = 0;
  const char *s = NULL;
  bool flag = true;
  double d = 0;
  cr_assert_eq(bs_read_map(&r, &n), 0);
  cr_assert_eq(n, 14); /* not ctx, scratch, peer */
  expect_key(&r, "moves");
  cr_assert_eq(bs_read_int(&r, &i), 0);
  cr_assert_eq(i, -3);
  expect_key(&r, "title");
  cr_assert_eq(bs_read_cstr(&r, &s), 0);
  cr_assert_str_eq(s, "t");
  expect_key(&r, "owner");
  cr_assert_eq(bs_read_cstr(&r, &s), 0);
  cr_assert_str_eq(s, "me");
  expect_key(&r, "open");
  cr_assert_eq(bs_read_bool(&r, &flag), 0);
  cr_assert(!flag);
  expect_key(&r, "zoom");
  cr_assert_eq(bs_read_double(&r, &d), 0);
  cr_assert_eq(d, 2.0);
  expect_key(&r, "origin");
  expect_point(&r, 1, 2);
  expect_key(&r, "pins");
  cr_assert_eq(bs_read_array(&r, &n), 0);
  cr_assert_eq(n, 2);
  for (int k = 0; k < 2; k++) {
    cr_assert_eq(bs_read_map(&r, &n), 0);
    cr_assert_eq(n, 3);
    expect_key(&r, "label");
    cr_assert_eq(bs_read_cstr(&r, &s), 0);
    cr_assert_str_eq(s, k ? "p" : "");
    expect_key(&r, "at");
    expect_point(&r, k ? 5 : 0, k ? 6 : 0);
    expect_key(&r, "tags");
    cr_assert_eq(bs_read_array(&r, &n), 0);
    cr_assert_eq(n, k ? 2u : 0u);
    for (uint64_t t = 0; t < n; t++) {
      cr_assert_eq(bs_read_cstr(&r, &s), 0);
      cr_assert_str_eq(s, tags[t]);
    }
  }
  expect_key(&r, "extra");
  cr_assert_eq(bs_read_array(&r, &n), 0);
  cr_assert_eq(n, 0);
  expect_key(&r, "focus"); /* a const Pin *: by name too */
  cr_assert_eq(bs_read_map(&r, &n), 0);
  cr_assert_eq(n, 3);
  expect_key(&r, "label");
  cr_assert_eq(bs_read_skip(&r), 0);
  expect_key(&r, "at");
  expect_point(&r, 5, 6);
  expect_key(&r, "tags");
  cr_assert_eq(bs_read_skip(&r), 0);
  expect_key(&r, "names");
  cr_assert_eq(bs_read_skip(&r), 0);
  expect_key(&r, "digest");
  cr_assert_eq(bs_peek(&r), BS_CBOR_BYTES);
  cr_assert_eq(bs_read_skip(&r), 0);
  expect_key(&r, "last_tags");
  cr_assert_eq(bs_read_skip(&r), 0);
  /* enums by their enumerator's name; a value without one as the number */
  expect_key(&r, "color");
  expect_key(&r, "COLOR_BLUE");
  expect_key(&r, "palette");
  cr_assert_eq(bs_read_array(&r, &n), 0);
  cr_assert_eq(n, 3);
  expect_key(&r, "COLOR_GREEN");
  cr_assert_eq(bs_read_int(&r, &i), 0);
  cr_assert_eq(i, 0); /* zeroed: COLOR_RED is 1, nothing is 0 */
  cr_assert_eq(bs_read_int(&r, &i), 0);
  cr_assert_eq(i, -9);
  cr_assert(bs_reader_at_end(&r));
}

Test(gen_board, a_null_struct_pointer_in_the_state_is_null) {
  Board b;
  memset(&b, 0, sizeof b);
  uint8_t buf[512];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Board__encode_state(&b, &w), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  uint64_t n = 0;
  cr_assert_eq(bs_read_map(&r, &n), 0);
  for (int k = 0; k < 8; k++) { /* moves ... extra */
    cr_assert_eq(bs_read_skip(&r), 0);
    cr_assert_eq(bs_read_skip(&r), 0);
  }
  expect_key(&r, "focus");
  cr_assert_eq(bs_peek(&r), BS_CBOR_NULL);
}

Test(gen_board, wire_encoders_keep_the_hashed_keys) {
  Pin p = {"x", {1, 2}, tags, 2};
  uint8_t buf[128];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Pin__encode(&w, &p), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  uint64_t n = 0, key = 0;
  cr_assert_eq(bs_read_map(&r, &n), 0);
  cr_assert_eq(bs_read_uint(&r, &key), 0);
  cr_assert_eq(key, fnv1a("label"));
}

/* ---- Arrays of strings in structs ------------------------------------------ */

Test(gen_board, string_arrays_in_structs_round_trip_through_the_codec) {
  const char *const many[] = {"a", "", NULL, "a longer tag with spaces"};
  Pin in = {"pin", {-1, 1}, many, 4};
  uint8_t buf[256];
  bs_writer w;
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Pin__encode(&w, &in), 0);
  bs_reader r;
  bs_reader_init(&r, buf, w.len, &arena);
  Pin out;
  cr_assert_eq(Pin__decode(&r, &out), 0);
  cr_assert_str_eq(out.label, "pin");
  cr_assert_eq(out.at.x, -1);
  cr_assert_eq(out.tags_count, 4);
  cr_assert_str_eq(out.tags[0], "a");
  cr_assert_str_eq(out.tags[1], "");
  cr_assert_null(out.tags[2]); /* NULL travels as null */
  cr_assert_str_eq(out.tags[3], "a longer tag with spaces");

  Pin empty = {"e", {0, 0}, NULL, 0};
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Pin__encode(&w, &empty), 0);
  bs_reader_init(&r, buf, w.len, &arena);
  cr_assert_eq(Pin__decode(&r, &out), 0);
  cr_assert_null(out.tags);
  cr_assert_eq(out.tags_count, 0);

  /* truncated at every byte: an error, never a crash */
  bs_writer_init(&w, buf, sizeof buf);
  cr_assert_eq(Pin__encode(&w, &in), 0);
  for (size_t cut = 0; cut < w.len; cut++) {
    bs_reader_init(&r, buf, cut, &arena);
    cr_assert_neq(Pin__decode(&r, &out), 0, "cut at %zu", cut);
  }
}

Test(gen_board, string_arrays_in_structs_round_trip_through_proxies) {
  BoardProxy b;
  cr_assert_eq(BoardProxy_get(engine, "b", &b), 0);
  const char *const t[] = {"x", "y", "z"};
  Pin p = {"flag", {4, 5}, t, 3};
  cr_assert_eq(BoardProxy_pin(b, p, 1), 0);
  const char *last = NULL;
  cr_assert_eq(BoardProxy_lastTags_await(b, &arena, &last), 0);
  cr_assert_str_eq(last, "x,y,z");
  Pin got;
  cr_assert_eq(BoardProxy_pinAt_await(b, 0, &arena, &got), 0);
  cr_assert_str_eq(got.label, "home");
  cr_assert_eq(got.tags_count, 2);
  cr_assert_str_eq(got.tags[0], "red");
  cr_assert_str_eq(got.tags[1], "round");
  cr_assert_eq(BoardProxy_pinAt_await(b, 1, &arena, &got), 0);
  cr_assert_str_eq(got.label, "flag");
  cr_assert_eq(got.at.y, 5);
  cr_assert_eq(got.tags_count, 0); /* Board_pin keeps the tags as text only */
}

/* ---- TProxy_from_ref, TProxy_self ------------------------------------------ */

Test(gen_board, from_ref_checks_the_actor_type) {
  BoardProxy b;
  GreeterProxy g;
  cr_assert_eq(BoardProxy_get(engine, "b", &b), 0);
  cr_assert_eq(GreeterProxy_get(engine, "g", &g), 0);

  BoardProxy again = BoardProxy_from_ref(b.ref);
  cr_assert(bs_ref_equal(&again.ref, &b.ref));
  cr_assert_eq(again.ref.engine, b.ref.engine);
  cr_assert_eq(BoardProxy_move(again, 1, 1), 0);

  BoardProxy wrong = BoardProxy_from_ref(g.ref); /* a Greeter */
  cr_assert_null(wrong.ref.type);
  cr_assert_null(wrong.ref.engine);
  cr_assert_eq(BoardProxy_move(wrong, 1, 1), BS_EINVAL);
  BoardProxy zero = BoardProxy_from_ref((bs_ref){0});
  cr_assert_null(zero.ref.type);
  cr_assert_eq(BoardProxy_move(zero, 1, 1), BS_EINVAL);
  cr_assert_null(GreeterProxy_from_ref(b.ref).ref.type);
  GreeterProxy g2 = GreeterProxy_from_ref(g.ref);
  cr_assert(bs_ref_equal(&g2.ref, &g.ref));
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
}

Test(gen_board, a_stored_ref_becomes_a_proxy_inside_an_actor) {
  BoardProxy a, peer;
  cr_assert_eq(BoardProxy_get(engine, "a", &a), 0);
  cr_assert_eq(BoardProxy_get(engine, "peer", &peer), 0);
  cr_assert_eq(BoardProxy_link(a, "peer"), 0);
  cr_assert_eq(BoardProxy_nudgePeer(a, 5), 0);
  cr_assert_eq(BoardProxy_nudgePeer(a, 2), 0);
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  Point at = {0, 0};
  cr_assert_eq(BoardProxy_where_await(peer, &at), 0);
  cr_assert_eq(at.x, 7);
  cr_assert_eq(BoardProxy_where_await(a, &at), 0);
  cr_assert_eq(at.x, 0);
  bs_engine_stats st;
  bs_engine_stats_get(engine, &st);
  cr_assert_eq(st.method_errors, 0);

  /* a peer of another type: the send fails inside the actor, nothing is
   * sent, and the method's status counts as a method error */
  GreeterProxy g;
  cr_assert_eq(GreeterProxy_get(engine, "greeter", &g), 0);
  cr_assert_eq(BoardProxy_link(a, "Greeter:greeter"), 0);
  cr_assert_eq(BoardProxy_nudgePeer(a, 1), 0);
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  bs_engine_stats_get(engine, &st);
  cr_assert_eq(st.method_errors, 1);
  cr_assert(!bs_ref_active(&g.ref)); /* never activated: nothing reached it */
}

Test(gen_board, self_gives_the_actors_own_proxy) {
  BoardProxy b;
  cr_assert_eq(BoardProxy_get(engine, "b", &b), 0);
  bool ok = false;
  cr_assert_eq(BoardProxy_selfCheck_await(b, &ok), 0);
  cr_assert(ok);
  cr_assert_eq(BoardProxy_nudgeSelf(b, 3), 0);
  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  Point at = {0, 0};
  cr_assert_eq(BoardProxy_where_await(b, &at), 0);
  cr_assert_eq(at.y, 3); /* the move(0, 3) it sent itself */
  bs_engine_stats st;
  bs_engine_stats_get(engine, &st);
  cr_assert_eq(st.method_errors, 0);
}

Test(gen_board, self_and_from_ref_reject_null_arguments) {
  BoardProxy out;
  memset(&out, 0xff, sizeof out);
  cr_assert_eq(BoardProxy_self(NULL, &out), BS_EINVAL);
  cr_assert_null(out.ref.type);
  cr_assert_eq(BoardProxy_self(NULL, NULL), BS_EINVAL);
}

/* A failed get zeroes *out, like self and from_ref: a proxy left over from
 * an earlier get must not keep reaching that actor. */
Test(gen_board, a_failed_get_zeroes_its_out) {
  GreeterProxy g;
  cr_assert_eq(GreeterProxy_get(engine, "greeter", &g), 0);
  BoardProxy out;
  memset(&out, 0xff, sizeof out);
  cr_assert_eq(BoardProxy_get(engine, NULL, &out), BS_EINVAL);
  cr_assert_null(out.ref.engine);
  cr_assert_null(out.ref.type);
  cr_assert_eq(BoardProxy_get(engine, "b", &out), 0);
  cr_assert_not_null(out.ref.type);
  cr_assert_eq(BoardProxy_get(engine, "", &out), BS_EIDLEN);
  cr_assert_null(out.ref.type);
  cr_assert_eq(out.ref.len, 0);
  cr_assert_eq(BoardProxy_move(out, 1, 1), BS_EINVAL);
  /* the id of an actor of another type is just another Board */
  cr_assert_eq(BoardProxy_get(engine, "greeter", &out), 0);
  memset(&out, 0xff, sizeof out);
  cr_assert_eq(BoardProxy_get(NULL, "b", &out), BS_EINVAL);
  cr_assert_null(out.ref.type);
  cr_assert_eq(BoardProxy_get(engine, "b", NULL), BS_EINVAL);
}

/* ---- The inspector's JSON ------------------------------------------------------ */

#ifdef GEN_BOARD_HTTP
Test(gen_board, the_inspector_shows_the_state_by_field_name) {
  bs_engine *e = it_engine_http();
  BoardProxy b;
  cr_assert_eq(BoardProxy_get(e, "b-1", &b), 0);
  cr_assert_eq(BoardProxy_move(b, 2, 3), 0);
  cr_assert_eq(BoardProxy_nudgeSelf(b, 1), 0); /* move(0, 1) */
  const char *const t[] = {"x", "y"};
  cr_assert_eq(BoardProxy_pin(b, (Pin){"flag", {4, 5}, t, 2}, 1), 0);
  bs_test_run(e, 0);

  cJSON *j = it_json(e, "/api/actor?id=b-1");
  cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "state_error")));
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(j, "state");
  cJSON *want = cJSON_Parse(
      "{\"moves\": 2, \"title\": \"board\", \"owner\": \"b-1\", \"open\": true,"
      " \"zoom\": 1.5, \"origin\": {\"x\": 2, \"y\": 4},"
      " \"pins\": [{\"label\": \"home\", \"at\": {\"x\": 0, \"y\": 0},"
      "             \"tags\": [\"red\", \"round\"]},"
      "            {\"label\": \"flag\", \"at\": {\"x\": 4, \"y\": 5}, \"tags\": []}],"
      " \"extra\": [{\"label\": \"spare\", \"at\": {\"x\": 7, \"y\": 8}, \"tags\": []}],"
      " \"focus\": {\"label\": \"flag\", \"at\": {\"x\": 4, \"y\": 5}, \"tags\": []},"
      " \"names\": [\"ada\", \"grace\"], \"digest\": \"0102feff\","
      " \"last_tags\": \"x,y\", \"color\": \"COLOR_GREEN\","
      " \"palette\": [\"COLOR_RED\", \"COLOR_BLUE\", 7]}");
  cr_assert_not_null(want);
  char *got_s = cJSON_PrintUnformatted(state);
  cr_assert(cJSON_Compare(state, want, true), "state is %s", got_s);
  /* in declaration order, and nothing else (no ctx, scratch, peer) */
  const cJSON *g = state->child, *x = want->child;
  for (; g && x; g = g->next, x = x->next) cr_assert_str_eq(g->string, x->string);
  cr_assert(g == NULL && x == NULL, "state is %s", got_s);
  free(got_s);
  cJSON_Delete(want);
  cJSON_Delete(j);
  it_free(e);
}
#endif
