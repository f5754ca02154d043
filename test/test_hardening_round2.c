/* Issue 13, hardening round two: the engine's findings, one regression test
 * each (the item numbers are the issue's). Before the fixes:
 *
 *  9. bs_timer_start(t, cb, 0, UINT64_MAX) fired forever inside one clock
 *     callback: the next due time wrapped to a time already past.
 * 10. An await timeout of UINT64_MAX (or request_timeout_ms = UINT64_MAX)
 *     wrapped to a deadline in the past: BS_ETIMEDOUT at once; a deadline
 *     that wrapped to exactly 0 was never unlinked and the next clock fire
 *     looped forever. Deadline arithmetic now saturates: past the clock's
 *     end there is no deadline.
 * 11. bs_engine_free from a libuv callback while the user drove the
 *     engine's own loop with plain uv_run: the loop was run again, closed
 *     and freed under uv_run (SEGV in libuv). Now refused (test_api_checks
 *     covers the abort of debug builds); on a borrowed loop it is fine.
 * 12. An await from a libuv callback on a borrowed loop driven by the user's
 *     own uv_run nested uv_run and re-entered the callback. Now BS_EDEADLK.
 *  -  BS_RUN_NOWAIT handles at most drain_budget messages, so a producer
 *     calling it periodically built a backlog: BS_RUN_DRAIN handles what is
 *     queued.
 *  -  Released pooled messages were not poisoned under ASan, so a use
 *     after release went unnoticed. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include <criterion/criterion.h>
#include <uv.h>

#include <backstage/testkit.h>

#include "bst.h"
#include "internal.h"

static bst_alloc A;

/* ---- 9: a timer with a huge repeat ------------------------------------------ */

static int fires;
static void count_fire(bs_timer *t) {
  (void)t;
  fires++;
}

Test(round2, a_timer_with_a_repeat_past_the_clocks_end_fires_once, .timeout = 10) {
  bst_reset();
  fires = 0;
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_timer t;
  cr_assert_eq(bs_timer_init(e, &t), 0);
  cr_assert_eq(bs_timer_start(&t, count_fire, 0, UINT64_MAX), 0);
  bst_run(e);
  cr_assert_eq(fires, 1);
  cr_assert_not(bs_timer_active(&t), "its next time is past the clock's end");
  /* a timeout past the end: never fires, never holds the loop */
  cr_assert_eq(bs_timer_start(&t, count_fire, UINT64_MAX, 0), 0);
  cr_assert_not(bs_timer_active(&t));
  bst_run(e);
  cr_assert_eq(fires, 1);
  bst_engine_free_checked(e, &A);
}

Test(round2, a_huge_repeat_on_the_virtual_clock_fires_once, .timeout = 10) {
  bst_reset();
  fires = 0;
  bs_engine_options o = bst_options(&A);
  o.virtual_time = true;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  cr_assert_eq(bs_test_advance(e, 5), 0);
  bs_timer t;
  cr_assert_eq(bs_timer_init(e, &t), 0);
  cr_assert_eq(bs_timer_start(&t, count_fire, 10, UINT64_MAX - 7), 0);
  cr_assert_eq(bs_test_advance(e, 100000), 0);
  cr_assert_eq(fires, 1);
  bst_engine_free_checked(e, &A);
}

/* ---- 10: saturated deadlines ----------------------------------------------------- */

Test(round2, an_await_timeout_of_uint64_max_waits_for_the_answer, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_add(c, 4), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, UINT64_MAX), 0);
  cr_assert_eq(v, 4);
  bst_engine_free_checked(e, &A);
}

Test(round2, request_timeout_of_uint64_max_means_no_deadline, .timeout = 10) {
  bst_reset();
  bs_engine_options o = bst_options(&A);
  o.request_timeout_ms = UINT64_MAX;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_add(c, 2), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(bst_stats(e).dead_letters, 0);
  bst_engine_free_checked(e, &A);
}

Test(round2, a_deadline_that_would_wrap_to_zero_does_not_loop, .timeout = 10) {
  bst_reset();
  bs_engine_options o = bst_options(&A);
  o.virtual_time = true;
  o.request_timeout_ms = UINT64_MAX - 999; /* + now (1000) wraps to exactly 0 */
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  cr_assert_eq(bs_test_advance(e, 1000), 0);
  bs_probe *p;
  cr_assert_eq(bs_probe_new(e, &bst_counter_type, "silent", &p), 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "silent", &c), 0);
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET], bst_main_cont, NULL), 0);
  cr_assert_eq(bs_test_advance(e, 10), 0);
  cr_assert_eq(bst_reply_count, 0, "no deadline: still waiting");
  bs_probed got;
  cr_assert_eq(bs_probe_next(p, &got), 1);
  bs_test_run(e, 0);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_ENOTFOUND);
  bs_probe_free(p);
  bst_engine_free_checked(e, &A);
}

/* ---- 11: freeing from a callback of the user's uv_run ------------------------------- */

static bs_engine *g_e;
static int g_rc;

static void free_in_timer(uv_timer_t *t) {
  bs_engine_free(g_e); /* borrowed loop: allowed from a callback */
  g_e = NULL;
  uv_close((uv_handle_t *)t, NULL);
}

Test(round2, freeing_from_a_callback_of_a_borrowed_loop_is_safe, .timeout = 10) {
  bst_reset();
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  bs_engine_options o = bst_options(&A);
  cr_assert_eq(bs_engine_new_on_loop(&g_e, &loop, &o), 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(g_e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  /* The actor is active first (the timer phase of an iteration comes
   * before the engine's drain: on a loaded machine a 5 ms timer could fire
   * before the message ran). */
  for (int i = 0; i < 1000 && bst_g.counter_inits == 0; i++) uv_run(&loop, UV_RUN_NOWAIT);
  cr_assert_eq(bst_g.counter_inits, 1);
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  uv_timer_start(&t, free_in_timer, 5, 0);
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_null(g_e);
  cr_assert_eq(bst_g.counter_deinits, 1, "the active actor was deinitialised by the free");
  cr_assert_eq(uv_loop_close(&loop), 0, "handles left open");
  bst_assert_no_leak(&A);
}

/* ---- 12: awaiting from a callback of the user's uv_run -------------------------------- */

static int g_entries;

static void await_in_timer(uv_timer_t *t) {
  g_entries++;
  bs_ref c;
  bs_actor_get(g_e, &bst_counter_type, "c", &c);
  int64_t v = 0;
  g_rc = bst_get_await(c, &v, 0);
  if (g_entries > 1 || g_rc != BS_EDEADLK) return; /* re-entered: the bug */
  uv_timer_stop(t);
  uv_close((uv_handle_t *)t, NULL);
}

Test(round2, an_await_from_a_callback_of_the_users_uv_run_is_EDEADLK, .timeout = 10) {
  bst_reset();
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  bs_engine_options o = bst_options(&A);
  cr_assert_eq(bs_engine_new_on_loop(&g_e, &loop, &o), 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(g_e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  g_entries = 0;
  g_rc = 1;
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  uv_timer_start(&t, await_in_timer, 1, 1);
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(g_entries, 1, "the callback was re-entered");
  cr_assert_eq(g_rc, BS_EDEADLK);
  cr_assert_eq(bst_g.counter_adds, 1, "the engine ran meanwhile, under the user's uv_run");
  /* From main, outside uv_run, awaiting works as ever. */
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 1);
  bs_engine_free(g_e);
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(uv_loop_close(&loop), 0);
  bst_assert_no_leak(&A);
}

static void await_in_bs_timer(bs_timer *t) {
  (void)t;
  g_entries++;
  bs_ref c;
  bs_actor_get(g_e, &bst_counter_type, "c", &c);
  int64_t v = 0;
  g_rc = bst_get_await(c, &v, 0);
}

Test(round2, an_await_from_a_bs_timer_under_the_users_uv_run_is_EDEADLK, .timeout = 10) {
  bst_reset();
  bs_engine_options o = bst_options(&A);
  cr_assert_eq(bs_engine_new(&g_e, &o), 0);
  g_entries = 0;
  g_rc = 1;
  bs_timer t;
  cr_assert_eq(bs_timer_init(g_e, &t), 0);
  cr_assert_eq(bs_timer_start(&t, await_in_bs_timer, 1, 0), 0);
  cr_assert_eq(uv_run(bs_engine_loop(g_e), UV_RUN_DEFAULT), 0); /* the engine's own loop */
  cr_assert_eq(g_entries, 1);
  cr_assert_eq(g_rc, BS_EDEADLK);
  bst_engine_free_checked(g_e, &A);
}

/* ---- BS_RUN_DRAIN ------------------------------------------------------------------ */

Test(round2, drain_handles_what_is_queued_where_nowait_handles_a_budget, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 1000); /* drain_budget 1000 */
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  for (int i = 0; i < 10000; i++) cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_NOWAIT), 1);
  cr_assert_eq(bst_g.counter_adds, 1000, "NOWAIT: one iteration's budget");
  cr_assert_eq(bs_engine_run(e, BS_RUN_DRAIN), 0);
  cr_assert_eq(bst_g.counter_adds, 10000, "DRAIN: everything queued");
  cr_assert_eq(bs_ref_pending(&c), 0);
  bst_engine_free_checked(e, &A);
}

/* An actor that sends itself a message per message never lets the queue
 * empty: DRAIN still returns, after the mail queued when it was called. */
static int spin_self(void *self, bs_call *call) {
  (void)call;
  bs_context *ctx = *(bs_context **)self;
  bs_ref me = bs_context_self(ctx);
  bs_writer w;
  extern const bs_method spin_methods[];
  if (bs_send_begin(&me, &spin_methods[0], &w) == 0) bs_send_end(&w);
  bst_g.spins++;
  return 0;
}
static int spin_init(void *self, bs_context *ctx) {
  *(bs_context **)self = ctx;
  return 0;
}
const bs_method spin_methods[] = {{"again", 1, 0, spin_self}};
static const bs_actor_type spin_type = {"Spinner", sizeof(bs_context *), 0, spin_init, NULL,
                                        spin_methods, 1, NULL, NULL, NULL};

Test(round2, drain_returns_even_when_actors_keep_sending, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref s;
  cr_assert_eq(bs_actor_get(e, &spin_type, "s", &s), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_send0(s, &spin_methods[0]), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_DRAIN), 1, "work remains");
  cr_assert_geq(bst_g.spins, 5);
  cr_assert_lt(bst_g.spins, 5 + 4096 * 2);
  bs_engine_free(e);
}

/* ---- Poisoned free blocks -------------------------------------------------------------- */

#ifdef BS__ASAN
int __asan_address_is_poisoned(void const volatile *addr);
#endif

Test(round2, released_messages_are_poisoned_under_asan, .timeout = 10) {
#ifndef BS__ASAN
  cr_skip_test("an AddressSanitizer build checks this");
#else
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs__shard *s = e->shards[0];
  bs__msg *m = bs__msg_get(&s->pool, 100);
  cr_assert_not_null(m);
  m->data[0] = 1; /* usable while held */
  cr_assert_not(__asan_address_is_poisoned(m->data));
  bs__msg_put(&s->pool, m);
  cr_assert(__asan_address_is_poisoned(m->data), "a released block's data is usable");
  cr_assert(__asan_address_is_poisoned(m->data + m->cap - 1));
  bs__msg *again = bs__msg_get(&s->pool, 100);
  cr_assert_eq(again, m, "the pool hands the block out again");
  cr_assert_not(__asan_address_is_poisoned(again->data));
  bs__msg_put(&s->pool, again);
  bst_engine_free_checked(e, &A);
#endif
}
