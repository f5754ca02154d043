/* Allocation failure everywhere: the failure-injecting allocator (bst_alloc)
 * over one scenario per area of the runtime - engine and registry, streams,
 * requests/replies/awaits, bounded mailboxes (both policies), timers and
 * deadlines, the test kit's probes and stepping. (Generated proxies:
 * test/soak/test_alloc_gen.c.)
 *
 * Each scenario is run with the N-th allocation failing, for N = 1, 2, ...
 * until a run in which nothing failed, and again with every allocation from
 * the N-th on failing. Every run checks:
 *   - each call returns 0 or a clean, documented error (BS_ENOMEM, or the
 *     code its situation calls for), never anything else;
 *   - afterwards, with the allocator healthy again, the engine works: a new
 *     actor gets a message and answers an await with the right value;
 *   - sent == delivered + dead_letters, no request left pending, the engine's
 *     failure count equals the allocator's;
 *   - after bs_engine_free, every byte is back (bst_assert_no_leak, which
 *     under ASan also runs LeakSanitizer).
 * The run without failures checks the exact results. The number of
 * allocations a clean run makes is the number of sites each sweep covers;
 * the tests log it (criterion --verbose, or the ctest output). */
#define _POSIX_C_SOURCE 200809L
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <backstage/testkit.h>

#include "bst.h"

static bst_alloc A;
static uint64_t N;        /* the allocation being failed */
static bool FROM;         /* ... and every one after it */
static const char *SCEN;  /* scenario name, for messages */
static bool VIRT;         /* the engine runs on virtual time */

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      cr_log_error("[%s, fail %s allocation %llu]", SCEN,                      \
                   FROM ? "from" : "only", (unsigned long long)N);             \
      cr_assert(cond, __VA_ARGS__);                                            \
    }                                                                          \
  } while (0)

/* Calls that allocate: success or BS_ENOMEM. */
static bool ok(int rc, const char *what) {
  CHECK(rc == 0 || rc == BS_ENOMEM, "%s returned %d (%s)", what, rc,
        bs_errname(rc));
  return rc == 0;
}

static bool known(int rc) {
  return rc == 0 || (rc < 0 && strcmp(bs_errname(rc), "UNKNOWN") != 0);
}

/* A request continuation from main: counts runs and keeps the status. */
typedef struct cont_rec {
  int runs;
  int status;
  int64_t value;
} cont_rec;

static void cont(void *ud, int status, int64_t value) {
  cont_rec *c = ud;
  c->runs++;
  c->status = status;
  c->value = value;
}

/* Distinct allocation paths: in one extra run without failures, the call
 * stack of every allocation (its innermost frames) is hashed; the number of
 * different hashes is the number of distinct places (and ways) the scenario
 * allocates. */
#define MAX_PATHS 4096
static bool recording;
static uint64_t paths[MAX_PATHS];
static size_t npaths;

static void record_path(void) {
  void *frames[10];
  int n = backtrace(frames, 10);
  uint64_t h = 1469598103934665603ull;
  for (int i = 2; i < n; i++) { /* above this function and the wrapper */
    h ^= (uint64_t)(uintptr_t)frames[i];
    h *= 1099511628211ull;
  }
  for (size_t i = 0; i < npaths; i++)
    if (paths[i] == h) return;
  if (npaths < MAX_PATHS) paths[npaths++] = h;
}

static void *recording_alloc(void *ud, void *ptr, size_t old, size_t n) {
  if (recording && n > 0) record_path();
  return bst_alloc_fn(ud, ptr, old, n);
}

static bs_engine *start(bs_engine_options *o) {
  bs_engine *e = NULL;
  o->allocator = (bs_allocator){recording_alloc, &A};
  o->on_dead_letter = bst_dl_hook;
  VIRT = o->virtual_time;
  int rc = bs_engine_new(&e, o);
  ok(rc, "bs_engine_new");
  if (rc != 0) {
    CHECK(e == NULL, "a failed bs_engine_new left *out set");
    bst_assert_no_leak(&A);
  }
  return rc == 0 ? e : NULL;
}

static void run_until_done(bs_engine *e) {
  int rc = VIRT ? bs_test_run(e, 0) : bs_engine_run(e, BS_RUN_UNTIL_DONE);
  CHECK(rc >= 0, "running the engine returned %d (%s)", rc, bs_errname(rc));
}

/* Heals the allocator, checks the engine still works and is consistent,
 * frees it and checks that every byte came back. Returns true when no
 * allocation had failed (the sweep is over). */
static bool finish(bs_engine *e) {
  bool clean = A.failures == 0;
  recording = false; /* the paths of the scenario, not of the check below */
  A.fail_at = 0;
  A.fail_from = false;
  run_until_done(e);

  /* The engine still works: a new actor, a message, an await. */
  bs_ref after;
  int rc = bs_actor_get(e, &bst_counter_type, "after-the-failure", &after);
  CHECK(rc == 0, "bs_actor_get after healing: %d", rc);
  CHECK(bst_add(after, 7) == 0, "send after healing");
  int64_t v = -1;
  rc = bst_get_await(after, &v, 0);
  CHECK(rc == 0 && v == 7, "await after healing: %d (%s), value %lld", rc,
        bs_errname(rc), (long long)v);
  run_until_done(e);

  bs_engine_stats s = bst_stats(e);
  CHECK(bst_invariant(&s), "sent %llu != delivered %llu + dead %llu",
        (unsigned long long)s.sent, (unsigned long long)s.delivered,
        (unsigned long long)s.dead_letters);
  CHECK(s.requests_pending == 0, "%llu requests pending",
        (unsigned long long)s.requests_pending);
  CHECK(s.alloc_failures == A.failures, "stats.alloc_failures %llu, allocator %llu",
        (unsigned long long)s.alloc_failures, (unsigned long long)A.failures);
  CHECK(s.bytes_live == A.bytes_live, "stats.bytes_live %zu, allocator %zu",
        s.bytes_live, A.bytes_live);
  bs_engine_free(e);
  bst_assert_no_leak(&A);
  return clean;
}

typedef bool (*scenario_fn)(void);

/* Runs `fn` failing allocation 1, 2, ... (or from 1, 2, ... on) until a run
 * without failure. Returns the allocations a clean run makes. */
static uint64_t sweep(const char *name, scenario_fn fn, bool from) {
  SCEN = name;
  FROM = from;
  for (N = 1; N < 100000; N++) {
    bst_reset();
    bst_alloc_init(&A);
    A.fail_at = N;
    A.fail_from = from;
    if (fn()) break;
  }
  CHECK(N < 100000, "never reached a run without failures");
  return N - 1;
}

static void sweep_both(const char *name, scenario_fn fn, uint64_t min_sites) {
  uint64_t once = sweep(name, fn, false);
  uint64_t from = sweep(name, fn, true);
  /* One more clean run, recording where the allocations come from. */
  bst_reset();
  bst_alloc_init(&A);
  npaths = 0;
  recording = true;
  cr_assert(fn(), "%s: the recording run failed an allocation", name);
  cr_log_info("alloc_everywhere: %-16s %4llu allocations on %zu distinct call "
              "paths, each failed alone and from there on", name,
              (unsigned long long)once, npaths);
  printf("alloc_everywhere: %-16s %4llu allocation sites failed (on %zu "
         "distinct call paths), once and from there on\n", name,
         (unsigned long long)once, npaths);
  fflush(stdout);
  cr_assert_eq(once, from, "%s: %llu sites failing once, %llu failing from",
               name, (unsigned long long)once, (unsigned long long)from);
  cr_assert_geq(once, min_sites, "%s: only %llu allocation sites exercised",
                name, (unsigned long long)once);
}

/* ---- Engine, registry, policies, stop and reactivation -------------------- */

static bool sc_engine(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.batch = 2;
  bs_engine *e = start(&o);
  if (!e) return false;
  int rc = bs_engine_set_type_policy(
      e, &bst_counter_type,
      &(bs_type_policy){.on_method_error = BS_ON_ERROR_RESTART});
  ok(rc, "bs_engine_set_type_policy");
  rc = bs_engine_set_type_policy(e, &bst_echo_type,
                                 &(bs_type_policy){.mailbox_capacity = 100});
  ok(rc, "bs_engine_set_type_policy (echo)");

  /* Enough actors to grow the registry a few times. */
  enum { NC = 40 };
  bs_ref c[NC];
  bool have[NC];
  int sent_ok = 0;
  for (int i = 0; i < NC; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    have[i] = ok(bs_actor_get(e, &bst_counter_type, id, &c[i]), "bs_actor_get");
    if (have[i]) sent_ok += ok(bst_add(c[i], i), "send add");
  }
  /* A method error restarts the instance; the next message reactivates. */
  if (have[0]) {
    ok(bst_send_i64(c[0], &bst_counter_methods[BST_COUNTER_FAIL_WITH], BS_EMETHOD),
       "send fail_with");
    ok(bst_add(c[0], 100), "send after the failing one");
  }
  /* A stop, mail behind it, and a reactivation later. */
  if (have[1]) {
    ok(bs_stop(&c[1]), "bs_stop");
    ok(bst_add(c[1], 1000), "send behind the pill");
  }
  /* Messages in several pool classes, and one with a block of its own. */
  bs_ref echo;
  static uint8_t big[100000];
  bst_fill(big, sizeof big, 5);
  int echo_ok = 0;
  if (ok(bs_actor_get(e, &bst_echo_type, "echo", &echo), "bs_actor_get(echo)")) {
    size_t sizes[] = {10, 3000, 70000, sizeof big};
    for (size_t k = 0; k < 4; k++) {
      bst_fill(big, sizes[k], (uint32_t)sizes[k]);
      echo_ok += ok(bst_send_bytes(echo, &bst_echo_methods[BST_ECHO_TAKE], big,
                                   sizes[k]),
                    "send bytes");
    }
  }
  run_until_done(e);
  if (have[1]) ok(bst_add(c[1], 1), "send after the stop completed");
  run_until_done(e);

  if (A.failures == 0) {
    bs_engine_stats s = bst_stats(e);
    CHECK(sent_ok == NC && echo_ok == 4, "sends");
    CHECK(bst_g.echo_takes == 4 && bst_g.echo_bad_pattern == 0, "echo");
    CHECK(s.restarts == 1 && s.method_errors == 1, "restart");
    CHECK(s.dead_by_reason[BS_DL_STOPPED] == 1, "stopped");
    /* NC counters and the echo, c0 after its restart, c1 after its stop. */
    CHECK(s.activations == NC + 3, "activations %llu",
          (unsigned long long)s.activations);
  }
  return finish(e);
}

Test(alloc_everywhere, engine_registry_policies_stop, .timeout = 300) {
  sweep_both("engine", sc_engine, 20);
}

/* ---- Streams: get, subscribe, publish to many, large elements --------------- */

static bool sc_streams(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  bs_engine *e = start(&o);
  if (!e) return false;
  bs_stream_i64 nums;
  bs_stream_bytes blobs;
  bs_stream_cstr news;
  bool have_nums = ok(bs_get_stream(e, i64, "numbers", &nums), "bs_get_stream(i64)");
  bool have_blobs = ok(bs_get_stream(e, bytes, "blobs", &blobs), "bs_get_stream(bytes)");
  bool have_news = ok(bs_get_stream(e, cstr, "news", &news), "bs_get_stream(cstr)");
  if (have_news) /* same id, same type: no allocation */
    CHECK(bs_get_stream(e, cstr, "news", &news) == 0, "second get");

  /* 20 subscribers: the subscription array grows 4 -> 8 -> 16 -> 32. */
  enum { NS = 20 };
  int subs = 0;
  for (int i = 0; i < NS && have_nums; i++) {
    char id[16];
    snprintf(id, sizeof id, "sub%d", i);
    subs += ok(bs_stream_add_subscriber(nums.s, &bst_counter_type, id,
                                        &bst_counter_methods[BST_COUNTER_ADD]),
               "subscribe");
  }
  int total_queued = 0, published = 0;
  for (int k = 0; k < 3 && have_nums; k++) {
    int rc = bs_stream_next(nums, (int64_t)(k + 1));
    CHECK(rc == subs || rc == BS_ENOMEM, "publish returned %d for %d subscribers",
          rc, subs);
    if (rc > 0) {
      total_queued += rc;
      published++;
    }
  }
  /* A large element: one shared body of its own block for two subscribers. */
  static uint8_t big[80000];
  bst_fill(big, sizeof big, (uint32_t)sizeof big);
  int big_subs = 0;
  if (have_blobs) {
    big_subs += ok(bs_stream_add_subscriber(blobs.s, &bst_echo_type, "e1",
                                            &bst_echo_methods[BST_ECHO_TAKE]),
                   "subscribe echo");
    big_subs += ok(bs_stream_add_subscriber(blobs.s, &bst_echo_type, "e2",
                                            &bst_echo_methods[BST_ECHO_TAKE]),
                   "subscribe echo 2");
    int rc = bs_stream_next(blobs, ((bs_bytes){big, sizeof big}));
    CHECK(rc == big_subs || rc == BS_ENOMEM, "big publish returned %d", rc);
  }
  /* Unsubscribe, and a subscriber that stopped. */
  if (subs > 0) {
    int rc = bs_stream_remove_subscriber(nums.s, &bst_counter_type, "sub0",
                                         &bst_counter_methods[BST_COUNTER_ADD]);
    CHECK(rc == 0 || rc == BS_ENOTFOUND || rc == BS_ENOMEM, "unsubscribe %d", rc);
    if (rc == 0) subs--;
  }
  bs_ref s1;
  if (ok(bs_actor_get(e, &bst_counter_type, "sub1", &s1), "get sub1")) {
    run_until_done(e);
    ok(bs_stop(&s1), "stop sub1");
    if (have_nums) {
      int rc = bs_stream_next(nums, (int64_t)1000);
      CHECK(rc >= 0 || rc == BS_ENOMEM, "publish after stop %d", rc);
    }
  }
  if (have_news) CHECK(bs_stream_next(news, "nobody listens") == 0, "no subscribers");
  run_until_done(e);

  if (A.failures == 0) {
    bs_engine_stats s = bst_stats(e);
    CHECK(subs == NS - 1 && published == 3 && total_queued == 3 * NS, "publishes");
    CHECK(bst_g.echo_takes == 2 && bst_g.echo_bad_pattern == 0, "big element");
    /* sub0 unsubscribed; sub1's element queued behind its stop is a dead
     * letter. */
    CHECK(s.dead_by_reason[BS_DL_STOPPED] == 1, "stopped subscriber");
    CHECK(bst_g.counter_total == NS * 6 + (NS - 2) * 1000, "totals %lld",
          (long long)bst_g.counter_total);
  }
  return finish(e);
}

Test(alloc_everywhere, streams_get_subscribe_publish, .timeout = 300) {
  sweep_both("streams", sc_streams, 15);
}

/* ---- Requests, replies, awaits ------------------------------------------------ */

static bool sc_requests(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  bs_engine *e = start(&o);
  if (!e) return false;
  bs_ref c, p, q, echo, fail, caller;
  bool hc = ok(bs_actor_get(e, &bst_counter_type, "c", &c), "get c");
  bool hp = ok(bs_actor_get(e, &bst_pinger_type, "p", &p), "get p");
  bool hq = ok(bs_actor_get(e, &bst_pinger_type, "q", &q), "get q");
  bool he = ok(bs_actor_get(e, &bst_echo_type, "echo", &echo), "get echo");
  bool hf = ok(bs_actor_get(e, &bst_failinit_type, "fail", &fail), "get fail");
  bool hcl = ok(bs_actor_get(e, &bst_pinger_type, "caller", &caller), "get caller");
  cont_rec r_main = {0}, r_unknown = {0}, r_unenc = {0}, r_fail = {0};
  int rc_main = -100, rc_unknown = -100, rc_unenc = -100, rc_fail = -100;

  if (hc) {
    ok(bst_add(c, 5), "add");
    rc_main = bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET], cont, &r_main);
    ok(rc_main, "request get");
    rc_unknown = bst_request0_i64(c, &bst_bogus_method, cont, &r_unknown);
    ok(rc_unknown, "request unknown method");
    rc_unenc = bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET_UNENCODABLE],
                                cont, &r_unenc);
    ok(rc_unenc, "request unencodable");
  }
  if (hf) {
    rc_fail = bst_request0_i64(fail, &bst_failinit_methods[BST_FAILINIT_PING], cont,
                               &r_fail);
    ok(rc_fail, "request to failing init");
  }
  /* From inside actors: a request with a continuation, and a cycle. */
  if (hp) ok(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK], "Counter",
                                    "c", bst_counter_methods[BST_COUNTER_GET].id),
             "send ask");
  if (hp && hq)
    ok(bst_send_text(p, &bst_pinger_methods[BST_PINGER_START_CYCLE], "q"),
       "send start_cycle");
  /* An orphan: the caller stops before its answer comes back. */
  if (hcl) {
    ok(bst_send_text_text_u64(caller, &bst_pinger_methods[BST_PINGER_ASK], "Pinger",
                              "q", bst_pinger_methods[BST_PINGER_VALUE].id),
       "send ask (orphan)");
    ok(bs_stop(&caller), "stop caller");
  }
  /* Awaits: a small value and a large reply. */
  int64_t v = -1;
  int rc_await = BS_EINVAL;
  if (hc) {
    rc_await = bst_get_await(c, &v, 0);
    CHECK(known(rc_await) && rc_await != BS_ETIMEDOUT && rc_await != BS_EDEADLK,
          "await returned %d", rc_await);
  }
  static uint8_t in[150000], out[150000];
  bst_fill(in, sizeof in, 11);
  bst_bytes_out bo = {out, sizeof out, 0};
  int rc_big = BS_EINVAL;
  if (he) {
    bs_writer w;
    memset(&w, 0, sizeof w);
    if (ok(bs_send_begin(&echo, &bst_echo_methods[BST_ECHO_ECHO], &w), "begin echo")) {
      bs_write_bytes(&w, in, sizeof in);
      rc_big = bs_request_await(&w, bst_reply_bytes, &bo, 0);
      CHECK(known(rc_big) && rc_big != BS_ETIMEDOUT, "big await %d", rc_big);
    }
  }
  run_until_done(e);

  /* Continuations: exactly once for each accepted request, known statuses. */
  cont_rec *recs[] = {&r_main, &r_unknown, &r_unenc, &r_fail};
  int rcs[] = {rc_main, rc_unknown, rc_unenc, rc_fail};
  for (int i = 0; i < 4; i++) {
    CHECK(recs[i]->runs == (rcs[i] == 0 ? 1 : 0), "continuation %d ran %d times",
          i, recs[i]->runs);
    if (recs[i]->runs) CHECK(known(recs[i]->status), "status %d", recs[i]->status);
  }
  if (A.failures == 0) {
    bs_engine_stats s = bst_stats(e);
    CHECK(r_main.status == 0 && r_main.value == 5, "main reply");
    CHECK(r_unknown.status == BS_ENOMETHOD, "unknown: %d", r_unknown.status);
    CHECK(r_unenc.status < 0, "unencodable: %d", r_unenc.status);
    CHECK(r_fail.status == BS_EINIT, "init failure: %d", r_fail.status);
    CHECK(rc_await == 0 && v == 5, "await");
    CHECK(rc_big == 0 && bo.len == sizeof in && memcmp(in, out, sizeof in) == 0,
          "large reply");
    CHECK(s.dead_by_reason[BS_DL_ORPHAN_REPLY] == 1, "orphan %llu",
          (unsigned long long)s.dead_by_reason[BS_DL_ORPHAN_REPLY]);
  }
  return finish(e);
}

Test(alloc_everywhere, requests_replies_awaits, .timeout = 300) {
  sweep_both("requests", sc_requests, 15);
}

/* ---- Bounded mailboxes -------------------------------------------------------- */

static bool dead_letter_policy;

static bool sc_bounded(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.mailbox_capacity = 3;
  o.mailbox_full = dead_letter_policy ? BS_FULL_DEAD_LETTER : BS_FULL_REJECT;
  bs_engine *e = start(&o);
  if (!e) return false;
  ok(bs_engine_set_type_policy(e, &bst_echo_type,
                               &(bs_type_policy){.mailbox_capacity = 1}),
     "set_type_policy");
  bs_ref c, p;
  bool hc = ok(bs_actor_get(e, &bst_counter_type, "c", &c), "get c");
  bool hp = ok(bs_actor_get(e, &bst_pinger_type, "p", &p), "get p");
  int accepted = 0, full = 0;
  for (int i = 0; i < 5 && hc; i++) {
    int rc = bst_add(c, 1);
    CHECK(rc == 0 || rc == BS_ENOMEM || (!dead_letter_policy && rc == BS_EFULL),
          "send to a bounded mailbox: %d", rc);
    accepted += rc == 0;
    full += rc == BS_EFULL;
  }
  /* A request into the full mailbox. */
  cont_rec r = {0};
  int rc_req = -100;
  if (hc) {
    rc_req = bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET], cont, &r);
    CHECK(rc_req == 0 || rc_req == BS_ENOMEM ||
              (!dead_letter_policy && rc_req == BS_EFULL),
          "request to a full mailbox: %d", rc_req);
  }
  /* A reply into a full mailbox is always accepted: fill the pinger's
   * mailbox behind an ask. */
  if (hp) {
    ok(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK], "Counter",
                              "c2", bst_counter_methods[BST_COUNTER_GET].id),
       "send ask");
    for (int i = 0; i < 3; i++) {
      int rc = bst_send0(p, &bst_pinger_methods[BST_PINGER_VALUE]);
      CHECK(rc == 0 || rc == BS_ENOMEM || rc == BS_EFULL, "fill pinger: %d", rc);
    }
  }
  /* Stream elements to a full subscriber are dead letters. */
  bs_stream_bytes s;
  if (ok(bs_get_stream(e, bytes, "s", &s), "get stream") &&
      ok(bs_stream_add_subscriber(s.s, &bst_echo_type, "echo",
                                  &bst_echo_methods[BST_ECHO_TAKE]),
         "subscribe")) {
    uint8_t b[3] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
      int rc = bs_stream_next(s, ((bs_bytes){b, sizeof b}));
      CHECK(rc == 0 || rc == 1 || rc == BS_ENOMEM, "publish %d", rc);
    }
  }
  run_until_done(e);
  if (rc_req == 0) CHECK(r.runs == 1, "continuation ran %d times", r.runs);
  if (rc_req != 0) CHECK(r.runs == 0, "rejected request's continuation ran");
  if (A.failures == 0) {
    bs_engine_stats st = bst_stats(e);
    if (dead_letter_policy) {
      CHECK(accepted == 5 && st.dead_by_reason[BS_DL_MAILBOX_FULL] >= 3 &&
                r.status == BS_EFULL,
            "dead-letter policy: accepted %d, full %llu, status %d", accepted,
            (unsigned long long)st.dead_by_reason[BS_DL_MAILBOX_FULL], r.status);
    } else {
      CHECK(accepted == 3 && full == 2 && rc_req == BS_EFULL && st.rejected >= 3,
            "reject policy: accepted %d, full %d, request %d", accepted, full,
            rc_req);
    }
    CHECK(bst_g.pinger_request_rc == 0 && bst_reply_count == 1 &&
              bst_replies[0].status == 0,
          "the reply into a full mailbox was lost");
    CHECK(bst_g.echo_takes == 1, "echo takes %llu",
          (unsigned long long)bst_g.echo_takes);
  }
  return finish(e);
}

static bool sc_bounded_reject(void) {
  dead_letter_policy = false;
  return sc_bounded();
}

static bool sc_bounded_dead(void) {
  dead_letter_policy = true;
  return sc_bounded();
}

Test(alloc_everywhere, bounded_mailboxes_reject, .timeout = 300) {
  sweep_both("bounded/reject", sc_bounded_reject, 8);
}

Test(alloc_everywhere, bounded_mailboxes_dead_letter, .timeout = 300) {
  sweep_both("bounded/dead", sc_bounded_dead, 8);
}

/* ---- Timers and deadlines (virtual time) ---------------------------------------- */

static bs_ref tick_target;
static int ticks, tick_send_fail;

static void on_tick(bs_timer *t) {
  (void)t;
  ticks++;
  int rc = bst_add(tick_target, 1);
  CHECK(rc == 0 || rc == BS_ENOMEM, "send from a timer: %d", rc);
  tick_send_fail += rc != 0;
}

static bool sc_timers(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true;
  o.request_timeout_ms = 50;
  ticks = tick_send_fail = 0;
  bs_engine *e = start(&o);
  if (!e) return false;
  bool have = ok(bs_actor_get(e, &bst_counter_type, "ticked", &tick_target), "get");
  /* 20 timers: the timer heap grows past its first 16 slots. */
  enum { NT = 20 };
  bs_timer timers[NT];
  int started = 0;
  for (int i = 0; i < NT && have; i++) {
    CHECK(bs_timer_init(e, &timers[i]) == 0, "timer init");
    int rc = bs_timer_start(&timers[i], on_tick, 10 + (uint64_t)i, i % 2 ? 100 : 0);
    ok(rc, "bs_timer_start");
    started += rc == 0;
  }
  /* A request that times out: its callee is a probe, which never answers
   * until taken. */
  bs_probe *probe = NULL;
  cont_rec r = {0};
  int rc_req = -100;
  if (ok(bs_probe_new(e, &bst_counter_type, "silent", &probe), "bs_probe_new")) {
    bs_ref silent;
    CHECK(bs_actor_get(e, &bst_counter_type, "silent", &silent) == 0, "get silent");
    rc_req = bst_request0_i64(silent, &bst_counter_methods[BST_COUNTER_GET], cont, &r);
    ok(rc_req, "request to the probe");
  }
  CHECK(bs_test_advance(e, 1000) == 0, "advance");
  for (int i = 0; i < NT && have; i++) bs_timer_stop(&timers[i]);
  if (rc_req == 0) CHECK(r.runs == 1 && r.status == BS_ETIMEDOUT,
                         "deadline: runs %d status %d", r.runs, r.status);
  if (A.failures == 0) {
    /* 10 one-shot timers fire once, 10 repeating ones 10 times each. */
    CHECK(started == NT && ticks == 10 + 10 * 10 && tick_send_fail == 0,
          "ticks %d", ticks);
    CHECK(bst_g.counter_total == ticks, "total %lld", (long long)bst_g.counter_total);
  }
  if (probe) bs_probe_free(probe);
  return finish(e);
}

Test(alloc_everywhere, timers_and_deadlines, .timeout = 300) {
  sweep_both("timers", sc_timers, 5);
}

/* ---- Test kit: probes, stepping, seeded schedules, traces ---------------------- */

static int traced;
static void trace(void *ud, const char *actor_id, const char *what) {
  (void)ud;
  (void)actor_id;
  (void)what;
  traced++;
}

static bool sc_testkit(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true;
  o.schedule_seed = 42;
  traced = 0;
  bs_engine *e = start(&o);
  if (!e) return false;
  bs_test_set_trace(e, trace, NULL);
  bs_probe *probe = NULL, *probe2 = NULL;
  bool hp = ok(bs_probe_new(e, &bst_recorder_type, "rec", &probe), "probe rec");
  bool hp2 = ok(bs_probe_new(e, &bst_counter_type, "cnt", &probe2), "probe cnt");
  bs_ref rec, cnt, p;
  int captured = 0;
  int64_t sent_values[3];
  if (hp) {
    CHECK(bs_actor_get(e, &bst_recorder_type, "rec", &rec) == 0, "get rec");
    /* relay(text, int): bs_read_cstr copies the text into the probe's arena. */
    for (int i = 0; i < 3; i++)
      if (ok(bst_send_text_i64(rec, &bst_recorder_methods[BST_RECORDER_RELAY],
                               "a text long enough to need the arena", i),
             "send to probe"))
        sent_values[captured++] = i;
  }
  cont_rec r = {0};
  int rc_req = -100;
  if (hp2) {
    CHECK(bs_actor_get(e, &bst_counter_type, "cnt", &cnt) == 0, "get cnt");
    rc_req = bst_request0_i64(cnt, &bst_counter_methods[BST_COUNTER_GET], cont, &r);
    ok(rc_req, "request to a probe");
    ok(bst_add(cnt, 1), "add to a probe");
  }
  /* Real actors stepped in a seeded order. */
  int adds = 0;
  if (ok(bs_actor_get(e, &bst_pinger_type, "p", &p), "get p")) {
    for (int i = 0; i < 4; i++) {
      char id[8];
      snprintf(id, sizeof id, "n%d", i);
      adds += ok(bst_send_text_i64(p, &bst_pinger_methods[BST_PINGER_SEND_ADD], id, i),
                 "send_add");
    }
  }
  int steps = 0;
  while (steps < 3 && bs_test_step(e) == 1) steps++;
  int rc = bs_test_run(e, 0);
  CHECK(rc >= 0, "bs_test_run %d", rc);
  int taken = 0;
  bs_probed m;
  if (hp) {
    while (bs_probe_next(probe, &m) == 1) {
      const char *s = NULL;
      int64_t v = 0;
      int rr = bs_read_cstr(&m.args, &s);
      CHECK(rr == 0 || rr == BS_ENOMEM, "reading a captured text: %d", rr);
      CHECK(taken < captured, "more captured than sent");
      if (rr == 0)
        CHECK(bs_read_i64(&m.args, &v) == 0 && v == sent_values[taken],
              "captured arg %lld, sent %lld", (long long)v,
              (long long)sent_values[taken]);
      taken++;
    }
  }
  if (hp2) bs_probe_free(probe2); /* the request among its mail: ENOTFOUND */
  run_until_done(e);
  if (rc_req == 0) CHECK(r.runs == 1 && r.status == BS_ENOTFOUND,
                         "probe request: runs %d status %d", r.runs, r.status);
  if (A.failures == 0) {
    CHECK(captured == 3 && taken == 3, "captured %d taken %d", captured, taken);
    CHECK(adds == 4 && bst_g.counter_adds == 4, "adds %d/%llu", adds,
          (unsigned long long)bst_g.counter_adds);
    CHECK(traced > 0, "trace");
  }
  if (hp) bs_probe_free(probe);
  return finish(e);
}

Test(alloc_everywhere, testkit_probes_and_stepping, .timeout = 300) {
  sweep_both("testkit", sc_testkit, 8);
}

/* ---- Shards: cross-shard mail, requests, streams, stops, collection ----------------
 * Test mode runs the three shards on this thread, so each run with the N-th
 * allocation failing is the same run: the sweep is deterministic. Covers
 * the cross-shard paths: routed keys, cells made on arrival, answers routed
 * back, stream hand-offs, subscriber caches, the idle collector. */

static bool sc_shards(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = 3;
  o.virtual_time = true;
  o.idle_timeout_ms = 1000;
  bs_engine *e = start(&o);
  if (!e) return false;
  enum { NC = 12 };
  bs_ref c[NC];
  int sent_ok = 0;
  uint32_t shards_hit = 0;
  for (int i = 0; i < NC; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    CHECK(bs_actor_get(e, &bst_counter_type, id, &c[i]) == 0, "get");
    shards_hit |= 1u << bs_ref_shard(&c[i]);
    sent_ok += ok(bst_add(c[i], i), "send add");
  }
  /* Requests from main to every shard, one to an unknown method. */
  cont_rec r[NC], r_unknown = {0};
  memset(r, 0, sizeof r);
  int rc_req[NC];
  for (int i = 0; i < NC; i++) {
    rc_req[i] = bst_request0_i64(c[i], &bst_counter_methods[BST_COUNTER_GET], cont, &r[i]);
    ok(rc_req[i], "request get");
  }
  int rc_unknown = bst_request0_i64(c[1], &bst_bogus_method, cont, &r_unknown);
  ok(rc_unknown, "request unknown");
  /* Actor to actor across shards: a Pinger asks Counters on other shards. */
  bs_ref p;
  CHECK(bs_actor_get(e, &bst_pinger_type, "p", &p) == 0, "get p");
  for (int i = 4; i < 7; i++) {
    char id[16];
    snprintf(id, sizeof id, "c%d", i);
    ok(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK], "Counter", id,
                              bst_counter_methods[BST_COUNTER_GET].id),
       "send ask");
  }
  /* A stream with subscribers on every shard. */
  bs_stream_i64 s;
  int subs = 0, published = 0;
  if (ok(bs_get_stream(e, i64, "ticks", &s), "stream")) {
    for (int i = 0; i < NC; i++)
      subs += ok(bs_stream_add_subscriber(s.s, &bst_counter_type, bs_ref_id(&c[i]),
                                          &bst_counter_methods[BST_COUNTER_ADD]),
                 "subscribe");
    for (int k = 0; k < 3; k++) {
      int rc = bs_stream_next(s, 1000);
      CHECK(rc >= 0 || rc == BS_ENOMEM, "publish: %d", rc);
      published += rc > 0;
    }
  }
  /* A stop across shards, and mail behind it. */
  ok(bs_stop(&c[2]), "stop");
  ok(bst_add(c[2], 1), "send behind the pill");
  run_until_done(e);
  /* Collection of the idle ones, then a re-activation. */
  CHECK(bs_test_advance(e, 2000) == 0, "advance");
  ok(bst_add(c[3], 5), "send after collection");
  run_until_done(e);

  for (int i = 0; i < NC; i++)
    CHECK(r[i].runs == (rc_req[i] == 0 ? 1 : 0), "continuation %d ran %d times", i,
          r[i].runs);
  if (A.failures == 0) {
    bs_engine_stats st = bst_stats(e);
    CHECK(shards_hit == 7u, "the counters cover all three shards");
    CHECK(sent_ok == NC && subs == NC && published == 3, "sends");
    for (int i = 0; i < NC; i++) CHECK(r[i].status == 0 && r[i].value == i, "reply %d", i);
    CHECK(r_unknown.status == BS_ENOMETHOD, "unknown: %d", r_unknown.status);
    CHECK(bst_reply_count == 3, "actor continuations %zu", bst_reply_count);
    CHECK(st.remote_out > 0 && st.remote_out == st.remote_in, "cross-shard traffic");
    CHECK(st.idle_deactivations > 0, "collected");
    CHECK(st.dead_by_reason[BS_DL_STOPPED] == 1, "stopped %llu",
          (unsigned long long)st.dead_by_reason[BS_DL_STOPPED]);
  }
  return finish(e);
}

Test(alloc_everywhere, shards_cross_shard_paths, .timeout = 300) {
  sweep_both("shards", sc_shards, 30);
}

/* ---- Persistent state: loads, writes, held replies, collection, flushes ------ */

static const char *persist_path;

/* A fresh store for each run: the runs must not see each other's states. */
static void fresh_store(void) {
  if (!persist_path) persist_path = bst_store_path();
  const char *ext[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s%s", persist_path, ext[i]);
    remove(p);
  }
}

static int ledger_request(bs_ref r, int method, int64_t arg, bool with_arg, cont_rec *rec) {
  bs_writer w;
  bs_send_begin(&r, &bst_ledger_methods[method], &w);
  if (with_arg) bs_write_int(&w, arg);
  return bs_request_end(&w, bst_reply_i64, (bs_fnptr)cont, rec);
}

static bool sc_persist(void) {
  fresh_store();
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true; /* the store runs in step, on this thread */
  o.shards = 2;
  o.idle_timeout_ms = 100;
  o.store_path = persist_path;
  bs_engine *e = start(&o);
  if (!e) return false;
  enum { NL = 12 };
  bs_ref l[NL];
  bool have[NL];
  cont_rec r[NL];
  int rc_req[NL];
  memset(r, 0, sizeof r);
  for (int i = 0; i < NL; i++) {
    char id[16];
    snprintf(id, sizeof id, "l%d", i);
    rc_req[i] = -100;
    have[i] = ok(bs_actor_get(e, &bst_ledger_type, id, &l[i]), "bs_actor_get");
    if (!have[i]) continue;
    ok(bst_send_i64(l[i], &bst_ledger_methods[BST_LEDGER_ADD], i), "add");
    rc_req[i] = ledger_request(l[i], BST_LEDGER_DEPOSIT, 100, true, &r[i]);
    ok(rc_req[i], "deposit");
  }
  /* A stop behind persisted mail, a forget, then collection and reloads. */
  if (have[0]) ok(bs_stop(&l[0]), "stop");
  if (have[1]) ok(bst_send0(l[1], &bst_ledger_methods[BST_LEDGER_FORGET]), "forget");
  run_until_done(e);
  CHECK(bs_test_advance(e, 1000) == 0, "advance");
  cont_rec again = {0};
  int rc_again = have[2] ? ledger_request(l[2], BST_LEDGER_GET, 0, false, &again) : -100;
  if (have[2]) ok(rc_again, "get after collection");
  run_until_done(e);

  for (int i = 0; i < NL; i++) {
    CHECK(r[i].runs == (rc_req[i] == 0 ? 1 : 0), "continuation %d ran %d times", i, r[i].runs);
    CHECK(r[i].runs == 0 || r[i].status == 0 || r[i].status == BS_ENOMEM,
          "deposit %d: %d (%s)", i, r[i].status, bs_errname(r[i].status));
  }
  CHECK(again.runs == (rc_again == 0 ? 1 : 0), "get ran %d times", again.runs);
  CHECK(again.runs == 0 || again.status == 0 || again.status == BS_ENOMEM, "get: %d",
        again.status);
  if (A.failures == 0) {
    bs_engine_stats st = bst_stats(e);
    for (int i = 0; i < NL; i++)
      CHECK(r[i].status == 0 && r[i].value == i + 100, "deposit %d: %lld", i,
            (long long)r[i].value);
    CHECK(again.status == 0 && again.value == 102, "reloaded: %lld", (long long)again.value);
    /* Test steps run one message per turn: add and deposit write apart. */
    CHECK(st.store_writes == 2 * NL + 1 && st.store_errors == 0, "writes %llu, errors %llu",
          (unsigned long long)st.store_writes, (unsigned long long)st.store_errors);
    CHECK(st.store_loads == NL + 1, "loads %llu", (unsigned long long)st.store_loads);
    CHECK(st.idle_deactivations == NL - 1, "collected %llu",
          (unsigned long long)st.idle_deactivations);
  }
  return finish(e);
}

Test(alloc_everywhere, persistent_state, .timeout = 300) {
  sweep_both("persist", sc_persist, 20);
}
