/* Allocation-failure injection over the engine's allocation sites.
 *
 * For N = 1, 2, 3, ... a full scenario (engine new, several actors, sends,
 * a large message, requests with continuations from main and from inside
 * an actor, an await, a stop, mail left at free) runs with an allocator that
 * fails the N-th allocation (or every allocation from the N-th on). Every
 * call must return 0 or a clean error code, the engine must stay usable and
 * freeable, and the allocator must get every byte back. The loop ends at
 * the first N the scenario never reaches: a run with no failure at all,
 * whose results are then checked exactly. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <uv.h>

#include "bst.h"

static bst_alloc A;
static uint64_t N; /* the allocation being failed, for messages */

#define CHECK(cond, ...)                                                       \
  cr_assert(cond, "[fail_at=%llu] " __VA_ARGS__)
#define NM (unsigned long long)N

static bool known_code(int rc) {
  return rc == 0 || (rc < 0 && strcmp(bs_errname(rc), "UNKNOWN") != 0);
}

/* Calls that allocate directly: success or ENOMEM, nothing else. */
static void check_sync(int rc, const char *what) {
  CHECK(rc == 0 || rc == BS_ENOMEM, "%s returned %d (%s)", NM, what, rc,
        bs_errname(rc));
}

typedef struct outcome {
  bool engine;        /* bs_engine_new succeeded */
  bool clean;         /* no allocation failed at all */
} outcome;

static outcome scenario(uint64_t fail_at, bool fail_from) {
  outcome out = {false, false};
  N = fail_at;
  bst_reset();
  bst_alloc_init(&A);
  A.fail_at = fail_at;
  A.fail_from = fail_from;
  bs_engine_options o = bst_options(&A);
  o.batch = 3; /* more turns, more scheduling paths */
  bs_engine *e = (bs_engine *)(uintptr_t)1;
  int rc = bs_engine_new(&e, &o);
  check_sync(rc, "bs_engine_new");
  if (rc != 0) {
    bst_assert_no_leak(&A);
    return out;
  }
  out.engine = true;

  /* Actors: counters c0..c3, an echo and a pinger. */
  bs_ref c[4], echo, pinger;
  bool have[4], have_echo, have_pinger;
  char id[8];
  for (int i = 0; i < 4; i++) {
    snprintf(id, sizeof id, "c%d", i);
    rc = bs_actor_get(e, &bst_counter_type, id, &c[i]);
    check_sync(rc, "bs_actor_get");
    have[i] = rc == 0;
  }
  rc = bs_actor_get(e, &bst_echo_type, "echo", &echo);
  check_sync(rc, "bs_actor_get(echo)");
  have_echo = rc == 0;
  rc = bs_actor_get(e, &bst_pinger_type, "pinger", &pinger);
  check_sync(rc, "bs_actor_get(pinger)");
  have_pinger = rc == 0;

  /* One-way sends. */
  int adds_ok[4] = {0};
  for (int i = 0; i < 4; i++) {
    if (!have[i]) continue;
    for (int k = 0; k < 2; k++) {
      rc = bst_add(c[i], i + 1);
      check_sync(rc, "send add");
      adds_ok[i] += rc == 0;
    }
  }
  static uint8_t big[100000];
  bst_fill(big, sizeof big, (uint32_t)sizeof big);
  bool big_sent = false;
  if (have_echo) {
    rc = bst_send_bytes(echo, &bst_echo_methods[BST_ECHO_TAKE], big, sizeof big);
    check_sync(rc, "send 100 kB");
    big_sent = rc == 0;
  }

  /* A request from main with a continuation, and one from inside an actor. */
  bool main_req = false, pinger_ask = false;
  if (have[1]) {
    rc = bst_request0_i64(c[1], &bst_counter_methods[BST_COUNTER_GET],
                          bst_main_cont, (void *)(intptr_t)1);
    check_sync(rc, "request from main");
    main_req = rc == 0;
  }
  if (have_pinger) {
    rc = bst_send_text_text_u64(pinger, &bst_pinger_methods[BST_PINGER_ASK],
                                "Counter", "c2", 2);
    check_sync(rc, "send ask");
    pinger_ask = rc == 0;
  }

  /* An await (runs the loop). */
  int64_t v = -1;
  int await_rc = BS_EINVAL;
  if (have[0]) {
    await_rc = bst_get_await(c[0], &v, 20000);
    CHECK(known_code(await_rc), "await returned %d", NM, await_rc);
    CHECK(await_rc != BS_ETIMEDOUT && await_rc != BS_EDEADLK,
          "await returned %s", NM, bs_errname(await_rc));
  }

  /* Stop c3, and mail behind the pill. */
  if (have[3]) {
    rc = bs_stop(&c[3]);
    check_sync(rc, "bs_stop");
    rc = bst_add(c[3], 100);
    check_sync(rc, "send behind the pill");
  }

  rc = bs_engine_run(e, BS_RUN_UNTIL_DONE);
  CHECK(rc == 0, "bs_engine_run returned %d", NM, rc);

  /* Every message ended delivered or dead-lettered. */
  bs_engine_stats s = bst_stats(e);
  CHECK(bst_invariant(&s), "sent %llu != delivered %llu + dead %llu", NM,
        (unsigned long long)s.sent, (unsigned long long)s.delivered,
        (unsigned long long)s.dead_letters);
  CHECK(s.alloc_failures == A.failures, "stats.alloc_failures %llu vs %llu",
        NM, (unsigned long long)s.alloc_failures,
        (unsigned long long)A.failures);
  CHECK(s.requests_pending == 0, "%llu requests still pending", NM,
        (unsigned long long)s.requests_pending);

  /* Mail left at free (ENGINE_FREED path). */
  if (have[2]) check_sync(bst_add(c[2], 1000), "send before free");

  /* Continuations ran exactly once each. */
  size_t main_replies = 0, pinger_replies = 0;
  for (size_t i = 0; i < bst_reply_count; i++) {
    CHECK(known_code(bst_replies[i].status), "reply status %d", NM,
          bst_replies[i].status);
    if (strcmp(bst_replies[i].who, "main") == 0) main_replies++;
    if (strcmp(bst_replies[i].who, "pinger") == 0) pinger_replies++;
  }
  CHECK(main_replies == (main_req ? 1u : 0u), "main continuation ran %zu times",
        NM, main_replies);
  if (bst_g.pinger_request_rc == 0)
    CHECK(pinger_replies == 1, "pinger continuation ran %zu times", NM,
          pinger_replies);

  out.clean = A.failures == 0;
  if (out.clean) {
    /* Nothing failed: the results must be exact. */
    CHECK(await_rc == 0 && v == 2, "await %d, v %lld", NM, await_rc,
          (long long)v);
    CHECK(adds_ok[0] == 2 && adds_ok[3] == 2, "sends", NM);
    CHECK(big_sent && bst_g.echo_takes == 1 && bst_g.echo_bad_pattern == 0,
          "large message", NM);
    CHECK(main_replies == 1 && bst_replies[0].status == 0, "main reply", NM);
    CHECK(pinger_ask && pinger_replies == 1, "pinger reply", NM);
    CHECK(bst_g.counter_deinits == 1, "stop ran deinit %d times", NM,
          bst_g.counter_deinits);
    CHECK(s.dead_by_reason[BS_DL_STOPPED] == 1, "stopped", NM);
  }

  bs_engine_free(e);
  bst_assert_no_leak(&A);
  return out;
}

/* The other allocation sites: an engine on a caller's loop, a request
 * deadline (timer), registry growth, and a reply large enough to need its
 * own block. */
static outcome scenario_loop(uint64_t fail_at, bool fail_from) {
  outcome out = {false, false};
  N = fail_at;
  bst_reset();
  bst_alloc_init(&A);
  A.fail_at = fail_at;
  A.fail_from = fail_from;
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  bs_engine_options o = bst_options(&A);
  o.request_timeout_ms = 60000;
  bs_engine *e = NULL;
  int rc = bs_engine_new_on_loop(&e, &loop, &o);
  check_sync(rc, "bs_engine_new_on_loop");
  if (rc == 0) {
    out.engine = true;
    char id[16];
    int got = 0;
    for (int i = 0; i < 100; i++) {
      bs_ref r;
      snprintf(id, sizeof id, "many-%d", i);
      rc = bs_actor_get(e, &bst_counter_type, id, &r);
      check_sync(rc, "bs_actor_get (growth)");
      if (rc == 0) {
        got++;
        check_sync(bst_add(r, 1), "send to many");
      }
    }
    bs_ref echo;
    rc = bs_actor_get(e, &bst_echo_type, "echo", &echo);
    check_sync(rc, "bs_actor_get(echo)");
    static uint8_t in[200000], outbuf[200000];
    bst_fill(in, sizeof in, 3);
    bst_bytes_out bo = {outbuf, sizeof outbuf, 0};
    int await_rc = BS_EINVAL;
    if (rc == 0) {
      bs_writer w;
      memset(&w, 0, sizeof w);
      rc = bs_send_begin(&echo, &bst_echo_methods[BST_ECHO_ECHO], &w);
      check_sync(rc, "bs_send_begin(&echo)");
      if (rc == 0) {
        bs_write_bytes(&w, in, sizeof in);
        await_rc = bs_request_await(&w, bst_reply_bytes, &bo, 0);
        CHECK(known_code(await_rc) && await_rc != BS_ETIMEDOUT,
              "await returned %d", NM, await_rc);
      }
    }
    rc = bs_engine_run(e, BS_RUN_UNTIL_DONE);
    CHECK(rc == 0, "bs_engine_run returned %d", NM, rc);
    bs_engine_stats s = bst_stats(e);
    CHECK(bst_invariant(&s), "sent %llu != delivered %llu + dead %llu", NM,
          (unsigned long long)s.sent, (unsigned long long)s.delivered,
          (unsigned long long)s.dead_letters);
    CHECK(s.requests_pending == 0, "requests pending", NM);
    out.clean = A.failures == 0;
    if (out.clean) {
      CHECK(got == 100 && bst_g.counter_adds == 100, "sends", NM);
      CHECK(await_rc == 0 && bo.len == sizeof in &&
                memcmp(in, outbuf, sizeof in) == 0,
            "large reply", NM);
    }
    bs_engine_free(e);
  } else {
    out.clean = false;
  }
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK(uv_loop_close(&loop) == 0, "the engine left handles on the loop", NM);
  bst_assert_no_leak(&A);
  return out;
}

typedef outcome (*scenario_fn)(uint64_t fail_at, bool fail_from);

static void sweep(scenario_fn fn, bool fail_from, uint64_t *sites) {
  uint64_t n;
  outcome o = {false, false};
  for (n = 1; n < 100000; n++) {
    o = fn(n, fail_from);
    if (o.clean) break;
  }
  CHECK(o.clean, "never reached a run without failures", NM);
  *sites = n - 1;
}

Test(alloc_failure, failing_each_allocation_once_gives_clean_errors_and_no_leak,
     .timeout = 300) {
  uint64_t sites = 0;
  sweep(scenario, false, &sites);
  cr_log_info("alloc_failure: %llu allocation sites failed one at a time, "
              "each cleanly", (unsigned long long)sites);
  /* engine, loop, registry, cells, pools, large block, requests, ... */
  cr_assert_geq(sites, 20, "only %llu allocation sites were exercised",
                (unsigned long long)sites);
}

Test(alloc_failure, failing_every_allocation_from_n_on_gives_clean_errors,
     .timeout = 300) {
  uint64_t sites = 0;
  sweep(scenario, true, &sites);
  cr_log_info("alloc_failure: %llu prefixes with persistent failure",
              (unsigned long long)sites);
  cr_assert_geq(sites, 20);
}

Test(alloc_failure, caller_loop_deadlines_growth_and_large_replies_fail_cleanly,
     .timeout = 300) {
  uint64_t once = 0, from = 0;
  sweep(scenario_loop, false, &once);
  sweep(scenario_loop, true, &from);
  cr_log_info("alloc_failure (caller loop): %llu sites one at a time, %llu "
              "prefixes with persistent failure",
              (unsigned long long)once, (unsigned long long)from);
  cr_assert_geq(once, 10);
}

Test(alloc_failure, engine_recovers_after_a_failure, .timeout = 30) {
  /* A failed send leaves the engine fully usable. */
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  static uint8_t big[1 << 20];
  A.fail_at = A.attempts + 1;
  A.fail_from = true;
  int rc = bst_send_bytes(c, &bst_counter_methods[BST_COUNTER_ADD], big,
                          sizeof big);
  cr_assert_eq(rc, BS_ENOMEM, "a 1 MiB send with no memory returned %d", rc);
  bs_ref d;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "new-id", &d), 0, "a ref allocates nothing");
  cr_assert_eq(bst_add(d, 1), BS_ENOMEM, "its first message needs a cell");
  A.fail_at = 0;
  A.fail_from = false;
  cr_assert_eq(bs_ref_pending(&c), 0);
  cr_assert_eq(bst_add(c, 5), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 5);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.alloc_failures, A.failures);
  cr_assert_eq(s.actors, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}
