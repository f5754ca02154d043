/* The test kit: stepping, virtual time, probes, tracing, seeded schedules. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"
#include "backstage/testkit.h"

/* ---- Fixture: a bank ----------------------------------------------------------
 * Account: deposit(i64) [1], withdraw(i64) [2] (records an overdraft instead
 *   of going negative), balance() -> i64 [3].
 * Client: go(text account, i64 amount) [1]: positive deposits, negative
 *   withdraws; ask(text account) [2] requests balance() with a continuation.
 */
typedef struct Account { bs_context *ctx; int64_t balance; } Account;
typedef struct Client { bs_context *ctx; } Client;

static int overdrafts;
static int64_t last_balance = -1;
static int last_status = 1;

static int acc_init(void *self, bs_context *ctx) { ((Account *)self)->ctx = ctx; return 0; }

static int acc_deposit(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  ((Account *)self)->balance += v;
  return 0;
}

static int acc_withdraw(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  Account *a = self;
  if (a->balance < v) {
    overdrafts++;
    call->result = BS_EMETHOD;
    return 0;
  }
  a->balance -= v;
  return 0;
}

static int acc_balance(void *self, bs_call *call) {
  if (call->reply) bs_write_int(call->reply, ((Account *)self)->balance);
  return 0;
}

static const bs_method acc_methods[] = {
    {"deposit", 1, 1, acc_deposit},
    {"withdraw", 2, 1, acc_withdraw},
    {"balance", 3, 0, acc_balance},
};
static const bs_actor_type account_type = {"Account", sizeof(Account), 0, acc_init, NULL,
                                           acc_methods, 3, NULL, NULL, NULL};

static int cli_init(void *self, bs_context *ctx) { ((Client *)self)->ctx = ctx; return 0; }

static int cli_go(void *self, bs_call *call) {
  const char *acct = NULL;
  int64_t amount = 0;
  bs_read_cstr(&call->args, &acct);
  if (bs_read_i64(&call->args, &amount) < 0) return call->args.err;
  bs_ref a;
  cr_assert_eq(bs_actor_get(bs_context_engine(((Client *)self)->ctx), &account_type, acct, &a), 0);
  bs_writer w;
  bs_send_begin(&a, &acc_methods[amount >= 0 ? 0 : 1], &w);
  bs_write_int(&w, amount >= 0 ? amount : -amount);
  return bs_send_end(&w);
}

static void on_balance(void *ud, int status, int64_t v) {
  last_status = status;
  last_balance = v;
}

static int cli_ask(void *self, bs_call *call) {
  const char *acct = NULL;
  if (bs_read_cstr(&call->args, &acct) < 0) return call->args.err;
  bs_ref a;
  bs_actor_get(bs_context_engine(((Client *)self)->ctx), &account_type, acct, &a);
  return bst_request0_i64(a, &acc_methods[2], on_balance, NULL);
}

static const bs_method cli_methods[] = {{"go", 1, 2, cli_go}, {"ask", 2, 1, cli_ask}};
static const bs_actor_type client_type = {"Client", sizeof(Client), 0, cli_init, NULL,
                                          cli_methods, 2, NULL, NULL, NULL};

static bs_ref get(bs_engine *e, const bs_actor_type *t, const char *id) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, t, id, &r), 0);
  return r;
}

static int go(bs_engine *e, const char *client, const char *acct, int64_t amount) {
  return bst_send_text_i64(get(e, &client_type, client), &cli_methods[0], acct, amount);
}

static uint32_t g_shards = 1; /* opts.shards of the engines below */

static bs_engine *engine(uint64_t seed, bool virtual_time) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = g_shards;
  o.schedule_seed = seed;
  o.virtual_time = virtual_time;
  o.on_dead_letter = bst_dl_hook;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

static void reset(void) {
  bst_reset();
  overdrafts = 0;
  last_balance = -1;
  last_status = 1;
}

/* ---- Stepping ------------------------------------------------------------------- */

Test(testkit, step_dispatches_exactly_one_message, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  bs_ref acct = get(e, &account_type, "acct");
  bst_send_i64(acct, &acc_methods[0], 10);
  bst_send_i64(acct, &acc_methods[1], 3);
  cr_assert_eq(bs_ref_pending(&acct), 2);
  cr_assert_str_eq(bs_test_next_method(&acct), "deposit");
  cr_assert_eq(bs_test_step(e), 1);
  cr_assert_eq(bs_ref_pending(&acct), 1);
  cr_assert_str_eq(bs_test_next_method(&acct), "withdraw");
  cr_assert_eq(bs_test_step(e), 1);
  cr_assert_null(bs_test_next_method(&acct));
  cr_assert_eq(bs_test_step(e), 0, "quiescent");
  int64_t bal = 0;
  cr_assert_eq(bst_await0_i64(acct, &acc_methods[2], &bal, 0), 0);
  cr_assert_eq(bal, 7);
  bs_engine_free(e);
}

Test(testkit, run_until_quiescent_follows_chains_of_messages, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  go(e, "c1", "acct", 5);
  go(e, "c2", "acct", 6);
  cr_assert_eq(bs_test_run(e, 0), 4); /* two go() + two deposits */
  cr_assert_eq(bs_test_run(e, 0), 0);
  go(e, "c1", "acct", 1);
  cr_assert_eq(bs_test_run(e, 1), 1, "max_messages bounds the run");
  cr_assert_eq(bs_test_run(e, 0), 1);
  bs_engine_free(e);
}

Test(testkit, next_method_names_replies_stops_and_unknown_ids, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  bs_ref acct = get(e, &account_type, "acct");
  bst_send0(acct, &bst_bogus_method);
  cr_assert_str_eq(bs_test_next_method(&acct), "(unknown)");
  bs_test_run(e, 0);
  bs_ref c = get(e, &client_type, "c");
  bst_send_text(c, &cli_methods[1], "acct"); /* c asks acct.balance() */
  bs_test_step(e);                             /* c sends the request */
  cr_assert_str_eq(bs_test_next_method(&acct), "balance");
  bs_test_step(e);                             /* acct replies */
  cr_assert_str_eq(bs_test_next_method(&c), "(reply)");
  cr_assert_eq(bs_stop(&acct), 0);
  cr_assert_str_eq(bs_test_next_method(&acct), "(stop)");
  bs_test_run(e, 0);
  cr_assert_eq(last_status, 0);
  bs_engine_free(e);
}

Test(testkit, stepping_inside_a_running_engine_is_EBUSY, .timeout = 10) {
  cr_assert_eq(bs_test_step(NULL), BS_EINVAL);
  cr_assert_eq(bs_test_advance(NULL, 1), BS_EINVAL);
}

/* ---- Virtual time ------------------------------------------------------------------ */

static uint64_t fired_at[16];
static int nfired;
static bs_timer chained;

static void record_tick(bs_timer *t) {
  if (nfired < 16) fired_at[nfired] = bs_engine_now(t->engine);
  nfired++;
}

Test(testkit, virtual_timers_fire_exactly_at_their_due_times_in_order, .timeout = 10) {
  reset();
  nfired = 0;
  bs_engine *e = engine(0, true);
  cr_assert_eq(bs_engine_now(e), 0);
  bs_timer every10, once25;
  bs_timer_init(e, &every10);
  bs_timer_init(e, &once25);
  cr_assert_eq(bs_timer_start(&every10, record_tick, 10, 10), 0);
  cr_assert_eq(bs_timer_start(&once25, record_tick, 25, 0), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0, "virtual timers do not hold the loop");
  cr_assert_eq(nfired, 0, "nothing fires on real time");
  cr_assert_eq(bs_test_advance(e, 35), 0);
  cr_assert_eq(nfired, 4);
  uint64_t want[] = {10, 20, 25, 30};
  for (int i = 0; i < 4; i++) cr_assert_eq(fired_at[i], want[i], "tick %d at %llu", i, (unsigned long long)fired_at[i]);
  cr_assert_eq(bs_engine_now(e), 35);
  cr_assert_not(bs_timer_active(&once25));
  bs_timer_stop(&every10);
  cr_assert_eq(bs_test_advance(e, 100), 0);
  cr_assert_eq(nfired, 4);
  bs_engine_free(e);
}

static void record_which(bs_timer *t) {
  if (nfired < 16) fired_at[nfired] = (uint64_t)(intptr_t)t->data;
  nfired++;
}

Test(testkit, timers_due_together_fire_in_start_order, .timeout = 10) {
  reset();
  nfired = 0;
  bs_engine *e = engine(0, true);
  bs_timer t[3];
  for (int i = 0; i < 3; i++) {
    bs_timer_init(e, &t[i]);
    t[i].data = (void *)(intptr_t)i;
  }
  bs_timer_start(&t[2], record_which, 5, 0);
  bs_timer_start(&t[0], record_which, 5, 0);
  bs_timer_start(&t[1], record_which, 5, 0);
  bs_test_advance(e, 5);
  cr_assert_eq(nfired, 3);
  cr_assert_eq(fired_at[0], 2);
  cr_assert_eq(fired_at[1], 0);
  cr_assert_eq(fired_at[2], 1);
  bs_engine_free(e);
}

/* A timer whose callback sends; the handler starts a timer 5 ms later. */
static bs_ref chain_target;
static void chained_fire(bs_timer *t) { record_tick(t); }
static void first_fire(bs_timer *t) {
  record_tick(t);
  bst_send_i64(chain_target, &acc_methods[0], 1);
}
static int chain_deposit(void *self, bs_call *call) {
  int64_t v;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  bs_timer_start(&chained, chained_fire, 5, 0);
  return 0;
}
static const bs_method chain_methods[] = {{"deposit", 1, 1, chain_deposit}};
static const bs_actor_type chain_type = {"Chain", 8, 0, NULL, NULL, chain_methods, 1, NULL, NULL, NULL};

Test(testkit, a_timer_started_by_a_message_fires_within_the_same_advance, .timeout = 10) {
  reset();
  nfired = 0;
  bs_engine *e = engine(0, true);
  chain_target = get(e, &chain_type, "chain");
  bs_timer first;
  bs_timer_init(e, &first);
  bs_timer_init(e, &chained);
  bs_timer_start(&first, first_fire, 10, 0);
  cr_assert_eq(bs_test_advance(e, 30), 0);
  cr_assert_eq(nfired, 2);
  cr_assert_eq(fired_at[0], 10);
  cr_assert_eq(fired_at[1], 15);
  bs_engine_free(e);
}

Test(testkit, request_deadlines_follow_the_virtual_clock, .timeout = 10) {
  reset();
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.virtual_time = true;
  o.request_timeout_ms = 50;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), 0); /* swallows the request */
  go(e, "unused", "other", 0); /* unrelated traffic */
  bst_send_text(get(e, &client_type, "c"), &cli_methods[1], "acct");
  cr_assert_eq(bs_test_advance(e, 49), 0);
  cr_assert_eq(last_status, 1, "not yet");
  cr_assert_eq(bs_test_advance(e, 1), 0);
  cr_assert_eq(last_status, BS_ETIMEDOUT);
  bs_engine_free(e);
}

Test(testkit, advance_needs_virtual_time, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  cr_assert_eq(bs_test_advance(e, 1), BS_EINVAL);
  bs_engine_free(e);
}

/* ---- Probes ------------------------------------------------------------------------- */

Test(testkit, a_probe_captures_what_an_actor_sent_with_typed_arguments, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), 0);
  go(e, "alice", "acct", 100);
  go(e, "bob", "acct", -30);
  bs_test_run(e, 0);
  cr_assert_eq(bs_probe_pending(p), 2);
  bs_probed m;
  cr_assert_eq(bs_probe_next(p, &m), 1);
  cr_assert_str_eq(m.method, "deposit");
  cr_assert_eq(m.method_id, 1);
  cr_assert_not(m.request);
  int64_t amount = 0;
  cr_assert_eq(bs_read_i64(&m.args, &amount), 0);
  cr_assert_eq(amount, 100);
  cr_assert_eq(bs_probe_next(p, &m), 1);
  cr_assert_str_eq(m.method, "withdraw");
  cr_assert_eq(bs_read_i64(&m.args, &amount), 0);
  cr_assert_eq(amount, 30);
  cr_assert_eq(bs_probe_next(p, &m), 0);
  bs_ref real = get(e, &account_type, "acct");
  cr_assert_not(bs_ref_active(&real), "the real actor never ran");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, s.delivered + s.dead_letters);
  bs_engine_free(e);
}

Test(testkit, a_captured_request_completes_with_ENOTFOUND, .timeout = 10) {
  reset();
  bs_engine *e = engine(0, false);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), 0);
  bst_send_text(get(e, &client_type, "c"), &cli_methods[1], "acct");
  bs_test_run(e, 0);
  bs_probed m;
  cr_assert_eq(bs_probe_next(p, &m), 1);
  cr_assert_str_eq(m.method, "balance");
  cr_assert(m.request);
  bs_test_run(e, 0);
  cr_assert_eq(last_status, BS_ENOTFOUND);
  bs_engine_free(e);
}

Test(testkit, freeing_a_probe_lets_later_mail_reach_the_actor, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_ref acct = get(e, &account_type, "acct");
  bst_send_i64(acct, &acc_methods[0], 7); /* queued before the probe: captured */
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), 0);
  cr_assert_eq(bs_probe_pending(p), 1);
  bs_probe_free(p);
  bst_send_i64(acct, &acc_methods[0], 5);
  int64_t bal = 0;
  cr_assert_eq(bst_await0_i64(acct, &acc_methods[2], &bal, 0), 0);
  cr_assert_eq(bal, 5);
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), BS_EBUSY, "active actors cannot be probed");
  bst_engine_free_checked(e, &a);
}

Test(testkit, probes_left_at_engine_free_are_freed, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &account_type, "acct", &p), 0);
  go(e, "alice", "acct", 1);
  bs_test_run(e, 0);
  bst_engine_free_checked(e, &a);
}

/* ---- Seeded schedules ------------------------------------------------------------------ */

#define TRACE_MAX 256
typedef struct trace { char lines[TRACE_MAX][48]; int n; } trace;

static void record(void *ud, const char *id, const char *what) {
  trace *t = ud;
  if (t->n < TRACE_MAX) snprintf(t->lines[t->n], sizeof t->lines[0], "%s.%s", id, what);
  t->n++;
}

/* Ten clients each deposit into one of three accounts. */
static void busy_scenario(uint64_t seed, trace *t) {
  memset(t, 0, sizeof *t);
  bs_engine *e = engine(seed, false);
  bs_test_set_trace(e, record, t);
  static const char *accts[] = {"a", "b", "c"};
  for (int i = 0; i < 10; i++) {
    char id[8];
    snprintf(id, sizeof id, "cl%d", i);
    go(e, id, accts[i % 3], i + 1);
  }
  bs_test_run(e, 0);
  bs_engine_free(e);
}

Test(testkit, the_same_seed_gives_the_same_delivery_trace, .timeout = 10) {
  reset();
  static trace a, b;
  busy_scenario(42, &a);
  busy_scenario(42, &b);
  cr_assert_eq(a.n, 20);
  cr_assert_eq(a.n, b.n);
  for (int i = 0; i < a.n; i++) cr_assert_str_eq(a.lines[i], b.lines[i]);
}

Test(testkit, different_seeds_give_different_interleavings, .timeout = 10) {
  reset();
  static trace base, other;
  busy_scenario(1, &base);
  int differing = 0;
  for (uint64_t seed = 2; seed < 12; seed++) {
    busy_scenario(seed, &other);
    cr_assert_eq(other.n, base.n);
    if (memcmp(base.lines, other.lines, sizeof base.lines) != 0) differing++;
  }
  cr_assert_geq(differing, 8, "only %d of 10 seeds changed the schedule", differing);
}

Test(testkit, seeded_schedules_keep_per_sender_fifo, .timeout = 10) {
  reset();
  for (uint64_t seed = 1; seed <= 20; seed++) {
    bs_engine *e = engine(seed, false);
    bs_ref acct = get(e, &account_type, "acct");
    /* one sender (main) into acct: deposit 1, withdraw 1, ... never overdraws in order */
    for (int i = 0; i < 20; i++) {
      bst_send_i64(acct, &acc_methods[0], 1);
      bst_send_i64(acct, &acc_methods[1], 1);
      go(e, "noise", "other", 1);
    }
    overdrafts = 0;
    bs_test_run(e, 0);
    cr_assert_eq(overdrafts, 0, "seed %llu reordered one sender's mail", (unsigned long long)seed);
    bs_engine_free(e);
  }
}

/* The deliberately order-dependent bug: alice deposits, bob withdraws; the
 * test "forgets" that bob may run first. */
static int overdraft_scenario(uint64_t seed, void *ud) {
  trace *t = ud;
  if (t) memset(t, 0, sizeof *t);
  bs_engine *e = engine(seed, false);
  if (t) bs_test_set_trace(e, record, t);
  overdrafts = 0;
  go(e, "alice", "acct", 100);
  go(e, "bob", "acct", -50);
  bs_test_run(e, 0);
  bs_engine_free(e);
  return overdrafts;
}

Test(testkit, exploring_seeds_finds_an_order_bug_and_its_seed_replays_it, .timeout = 20) {
  reset();
  cr_assert_eq(overdraft_scenario(0, NULL), 0, "FIFO order hides the bug");
  uint64_t bad = 0;
  cr_assert_eq(bs_test_explore(overdraft_scenario, NULL, 1, 200, &bad), 1);
  cr_assert_neq(bad, 0);
  cr_log_info("overdraft found with seed %llu", (unsigned long long)bad);
  static trace first, again;
  cr_assert_neq(overdraft_scenario(bad, &first), 0, "the reported seed fails again");
  cr_assert_neq(overdraft_scenario(bad, &again), 0);
  cr_assert_eq(first.n, again.n);
  for (int i = 0; i < first.n; i++) cr_assert_str_eq(first.lines[i], again.lines[i]);
  int withdraw = -1, deposit = -1;
  for (int i = 0; i < first.n; i++) {
    if (strcmp(first.lines[i], "acct.withdraw") == 0) withdraw = i;
    if (strcmp(first.lines[i], "acct.deposit") == 0) deposit = i;
  }
  cr_assert(withdraw >= 0 && deposit > withdraw, "bob's withdraw ran first");
}

Test(testkit, explore_reports_no_seed_when_all_pass, .timeout = 10) {
  reset();
  uint64_t bad = 12345;
  cr_assert_eq(bs_test_explore(overdraft_scenario, NULL, 0, 0, &bad), 0);
  cr_assert_eq(bad, 12345);
  cr_assert_eq(bs_test_explore(NULL, NULL, 1, 1, &bad), BS_EINVAL);
}

/* ---- Test mode with several shards ----------------------------------------------------
 * Every shard runs on the calling thread; a step picks, by the seed, either
 * one hand-off from a shard's inbox or one message on a shard's run queue,
 * so cross-shard deliveries interleave with turns - reproducibly. */

Test(testkit, shards_in_test_mode_replay_the_same_trace_for_a_seed, .timeout = 20) {
  reset();
  g_shards = 3;
  static trace a, b;
  busy_scenario(42, &a);
  busy_scenario(42, &b);
  cr_assert_eq(a.n, 20);
  cr_assert_eq(a.n, b.n);
  for (int i = 0; i < a.n; i++) cr_assert_str_eq(a.lines[i], b.lines[i]);
  int differing = 0;
  static trace other;
  for (uint64_t seed = 43; seed < 53; seed++) {
    busy_scenario(seed, &other);
    cr_assert_eq(other.n, a.n);
    if (memcmp(a.lines, other.lines, sizeof a.lines) != 0) differing++;
  }
  cr_assert_geq(differing, 8, "only %d of 10 seeds changed the schedule", differing);
}

Test(testkit, shards_in_test_mode_keep_per_sender_fifo, .timeout = 20) {
  reset();
  g_shards = 4;
  for (uint64_t seed = 1; seed <= 20; seed++) {
    bs_engine *e = engine(seed, true);
    bs_ref acct = get(e, &account_type, "acct");
    for (int i = 0; i < 20; i++) {
      bst_send_i64(acct, &acc_methods[0], 1);
      bst_send_i64(acct, &acc_methods[1], 1);
      go(e, "noise", "other", 1);
    }
    overdrafts = 0;
    bs_test_run(e, 0);
    cr_assert_eq(overdrafts, 0, "seed %llu reordered one sender's mail", (unsigned long long)seed);
    bs_engine_free(e);
  }
}

Test(testkit, exploring_finds_an_order_bug_across_shards_and_replays_it, .timeout = 20) {
  reset();
  g_shards = 3;
  /* The scenario really crosses shards: its three actors are not together. */
  bs_engine *e = engine(1, false);
  uint32_t s1, s2, s3;
  bs_ref r = get(e, &client_type, "alice");
  s1 = bs_ref_shard(&r);
  r = get(e, &client_type, "bob");
  s2 = bs_ref_shard(&r);
  r = get(e, &account_type, "acct");
  s3 = bs_ref_shard(&r);
  cr_assert(s1 != s3 || s2 != s3, "all on one shard: pick other ids");
  bs_engine_free(e);
  uint64_t bad = 0;
  cr_assert_eq(bs_test_explore(overdraft_scenario, NULL, 1, 200, &bad), 1);
  static trace first, again;
  cr_assert_neq(overdraft_scenario(bad, &first), 0, "the reported seed fails again");
  cr_assert_neq(overdraft_scenario(bad, &again), 0);
  cr_assert_eq(first.n, again.n);
  for (int i = 0; i < first.n; i++) cr_assert_str_eq(first.lines[i], again.lines[i]);
}

Test(testkit, virtual_time_drives_the_deadlines_of_every_shard, .timeout = 20) {
  reset();
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = 3;
  o.virtual_time = true;
  o.request_timeout_ms = 100;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  /* Requests to probes (which never answer) on every shard, from main (the
   * home shard): each times out at exactly 100 ms of virtual time. */
  bs_probe *p[6];
  char id[8];
  uint32_t shards_hit = 0;
  for (int i = 0; i < 6; i++) {
    snprintf(id, sizeof id, "s%d", i);
    cr_assert_eq(bs_probe_new(e, &account_type, id, &p[i]), 0);
    bs_ref r = get(e, &account_type, id);
    shards_hit |= 1u << bs_ref_shard(&r);
    cr_assert_eq(bst_request0_i64(r, &acc_methods[2], bst_main_cont, (void *)(intptr_t)i), 0);
  }
  cr_assert_eq(shards_hit, 7u, "the probes cover all three shards");
  cr_assert_eq(bs_test_advance(e, 99), 0);
  cr_assert_eq(bst_reply_count, 0);
  cr_assert_eq(bs_test_advance(e, 1), 0);
  cr_assert_eq(bst_reply_count, 6);
  for (int i = 0; i < 6; i++) cr_assert_eq(bst_replies[i].status, BS_ETIMEDOUT);
  for (int i = 0; i < 6; i++) bs_probe_free(p[i]);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  cr_assert_eq(st.requests_pending, 0);
  bs_engine_free(e);
}
