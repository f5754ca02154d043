/* Engine: lifecycle, loops, run modes, user handles, re-entrancy, fairness. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "bst.h"

static bst_alloc A;

/* ---- Lifecycle --------------------------------------------------------------- */

Test(engine, options_init_fills_the_documented_defaults, .timeout = 10) {
  bs_engine_options o;
  memset(&o, 0x5a, sizeof o);
  bs_engine_options_init(&o);
  cr_assert_null(o.allocator.fn);
  cr_assert_null(o.allocator.ud);
  cr_assert_eq(o.batch, 64);
  cr_assert_eq(o.drain_budget, 4096);
  cr_assert_eq(o.request_timeout_ms, 0);
  cr_assert_null(o.on_dead_letter);
  cr_assert_null(o.dead_letter_ud);
}

Test(engine, new_and_free_without_actors_leaves_nothing, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  cr_assert_gt(A.allocs, 0, "the engine did not use the allocator");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.actors, 0);
  cr_assert_eq(s.sent, 0);
  cr_assert_eq(s.bytes_live, A.bytes_live,
               "stats.bytes_live %zu, allocator sees %zu", s.bytes_live,
               A.bytes_live);
  bst_engine_free_checked(e, &A);
}

Test(engine, new_with_null_options_uses_defaults, .timeout = 10) {
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  cr_assert_not_null(e);
  cr_assert_not_null(bs_engine_loop(e));
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  cr_assert_eq(bst_add(r, 4), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 4);
  bs_engine_free(e);
}

Test(engine, bad_arguments_are_einval, .timeout = 10) {
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(NULL, NULL), BS_EINVAL);
  cr_assert_eq(bs_engine_new_on_loop(&e, NULL, NULL), BS_EINVAL);
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  cr_assert_eq(bs_engine_new_on_loop(NULL, &loop, NULL), BS_EINVAL);
  cr_assert_eq(uv_loop_close(&loop), 0);
  cr_assert_eq(bs_engine_run(NULL, BS_RUN_NOWAIT), BS_EINVAL);
  bs_engine_free(NULL); /* no-op */
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  cr_assert_eq(bs_engine_run(e, (bs_run_mode)42), BS_EINVAL);
  bs_engine_free(e);
}

Test(engine, free_deinitialises_every_live_actor, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  char id[16];
  for (int i = 0; i < 8; i++) {
    bs_ref r;
    snprintf(id, sizeof id, "c%d", i);
    cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), 0);
    if (i < 5) cr_assert_eq(bst_add(r, i), 0); /* 5 active, 3 never */
  }
  bs_ref p;
  cr_assert_eq(bs_actor_get(e, &bst_probe_type, "probe", &p), 0);
  cr_assert_eq(bst_send0(p, &bst_probe_methods[BST_PROBE_WHOAMI]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 5);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.active, 6);
  cr_assert_eq(s.actors, 6, "the three that never had mail have no cell");
  cr_assert_eq(bst_g.counter_deinits, 0);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 5);
  cr_assert_eq(bst_g.probe_deinits, 1);
}

Test(engine, two_engines_are_independent, .timeout = 10) {
  bst_reset();
  bst_alloc a2;
  bs_engine *e1 = bst_engine(&A, 0, 0);
  bs_engine *e2 = bst_engine(&a2, 0, 0);
  bs_ref r1, r2;
  cr_assert_eq(bs_actor_get(e1, &bst_counter_type, "same", &r1), 0);
  cr_assert_eq(bs_actor_get(e2, &bst_recorder_type, "same", &r2), 0);
  cr_assert_not(bs_ref_equal(&r1, &r2));
  cr_assert_eq(bst_add(r1, 5), 0);
  bst_run(e2);
  cr_assert_eq(bst_g.counter_adds, 0, "e2's run dispatched e1's mail");
  bst_run(e1);
  cr_assert_eq(bst_g.counter_adds, 1);
  cr_assert_eq(bst_stats(e2).sent, 0);
  bst_engine_free_checked(e1, &A);
  bst_engine_free_checked(e2, &a2);
}

/* ---- Caller-provided loop --------------------------------------------------- */

Test(engine, runs_on_a_caller_loop_which_closes_cleanly, .timeout = 10) {
  bst_reset();
  bst_alloc_init(&A);
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  bs_engine_options o = bst_options(&A);
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new_on_loop(&e, &loop, &o), 0);
  cr_assert_eq(bs_engine_loop(e), &loop);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  for (int i = 1; i <= 3; i++) cr_assert_eq(bst_add(r, i), 0);
  bst_run(e);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 6);
  bs_engine_free(e);
  cr_assert_eq(bst_g.counter_deinits, 1);
  /* The caller runs its loop once more so the engine's handles close. */
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(uv_loop_close(&loop), 0, "the engine left handles open");
  bst_assert_no_leak(&A);
}

Test(engine, caller_uv_run_drives_the_engine_and_returns_when_idle,
     .timeout = 10) {
  bst_reset();
  bst_alloc_init(&A);
  uv_loop_t loop;
  cr_assert_eq(uv_loop_init(&loop), 0);
  bs_engine_options o = bst_options(&A);
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new_on_loop(&e, &loop, &o), 0);
  cr_assert_eq(uv_loop_alive(&loop), 0, "an idle engine keeps the loop alive");
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  for (int i = 0; i < 10; i++) cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_neq(uv_loop_alive(&loop), 0, "pending mail does not keep the loop alive");
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(bst_g.counter_adds, 10);
  cr_assert_eq(uv_loop_alive(&loop), 0, "the drain handle stays active when idle");
  bs_engine_free(e);
  cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  cr_assert_eq(uv_loop_close(&loop), 0);
  bst_assert_no_leak(&A);
}

/* ---- Run modes ----------------------------------------------------------------- */

Test(engine, idle_engine_returns_at_once_from_until_done, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_NOWAIT), 0);
  cr_assert_eq(uv_loop_alive(bs_engine_loop(e)), 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  cr_assert_eq(bst_add(r, 1), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 1);
  /* Idle again: the drain handle is inactive, nothing keeps the loop up. */
  cr_assert_eq(uv_loop_alive(bs_engine_loop(e)), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_ONCE), 0);
  bst_engine_free_checked(e, &A);
}

static void mode_returns_one_while_mail_remains(bs_run_mode mode) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 1, 1); /* one message per iteration */
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_eq(bs_engine_run(e, mode), 1);
  cr_assert_leq(bst_g.counter_adds, 1, "more than drain_budget in one iteration");
  cr_assert_geq(bs_ref_pending(&r), 2);
  int ones = 1, calls = 1, rc = 1;
  while (rc == 1 && calls < 1000) {
    rc = bs_engine_run(e, mode);
    calls++;
    if (rc == 1) ones++;
  }
  cr_assert_eq(rc, 0);
  cr_assert_geq(ones, 2, "only %d iterations reported remaining mail", ones);
  cr_assert_eq(bst_g.counter_adds, 3);
  cr_assert_eq(bs_ref_pending(&r), 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(engine, nowait_returns_one_while_mail_remains, .timeout = 10) {
  mode_returns_one_while_mail_remains(BS_RUN_NOWAIT);
}

Test(engine, once_returns_one_while_mail_remains, .timeout = 10) {
  mode_returns_one_while_mail_remains(BS_RUN_ONCE);
}

Test(engine, drain_budget_bounds_messages_per_iteration, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 64, 10);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &r), 0);
  for (int i = 0; i < 35; i++) cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_NOWAIT), 1);
  cr_assert_leq(bst_g.counter_adds, 10);
  cr_assert_geq(bst_g.counter_adds, 1);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 35);
  bst_engine_free_checked(e, &A);
}

/* ---- User handles on the engine's loop ---------------------------------------- */

typedef struct ticker {
  uv_timer_t timer;
  bs_engine *engine;
  bs_ref target;
  int ticks;
  int max;
  int run_rc;
  int send_rc;
  bool stop_engine;
} ticker;

static void on_tick(uv_timer_t *t) {
  ticker *k = (ticker *)t;
  k->ticks++;
  k->send_rc = bst_add(k->target, 10);
  if (k->stop_engine && k->ticks == k->max) {
    bs_engine_stop(k->engine);
    return;
  }
  if (k->ticks == k->max) {
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, NULL);
  }
}

Test(engine, until_done_waits_for_a_user_timer_that_sends_to_actors,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  ticker k;
  memset(&k, 0, sizeof k);
  k.engine = e;
  k.max = 3;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &k.target), 0);
  cr_assert_eq(uv_timer_init(bs_engine_loop(e), &k.timer), 0);
  cr_assert_eq(uv_timer_start(&k.timer, on_tick, 1, 1), 0);
  bst_run(e);
  cr_assert_eq(k.ticks, 3);
  cr_assert_eq(k.send_rc, 0);
  cr_assert_eq(bst_g.counter_adds, 3, "mail sent by the last tick was not run");
  int64_t v = 0;
  cr_assert_eq(bst_get_await(k.target, &v, 0), 0);
  cr_assert_eq(v, 30);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(engine, engine_stop_makes_run_return_one, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  ticker k;
  memset(&k, 0, sizeof k);
  k.engine = e;
  k.max = 3;
  k.stop_engine = true;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &k.target), 0);
  cr_assert_eq(uv_timer_init(bs_engine_loop(e), &k.timer), 0);
  cr_assert_eq(uv_timer_start(&k.timer, on_tick, 1, 1), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 1);
  cr_assert_eq(k.ticks, 3);
  uv_timer_stop(&k.timer);
  uv_close((uv_handle_t *)&k.timer, NULL);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 3);
  bst_engine_free_checked(e, &A);
}

static void on_tick_run(uv_timer_t *t) {
  ticker *k = (ticker *)t;
  k->ticks++;
  k->run_rc = bs_engine_run(k->engine, BS_RUN_NOWAIT);
  uv_close((uv_handle_t *)t, NULL);
}

Test(engine, run_from_a_loop_callback_is_ebusy, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  ticker k;
  memset(&k, 0, sizeof k);
  k.engine = e;
  k.run_rc = 1000;
  cr_assert_eq(uv_timer_init(bs_engine_loop(e), &k.timer), 0);
  cr_assert_eq(uv_timer_start(&k.timer, on_tick_run, 0, 0), 0);
  bst_run(e);
  cr_assert_eq(k.ticks, 1);
  cr_assert_eq(k.run_rc, BS_EBUSY);
  bst_engine_free_checked(e, &A);
}

Test(engine, run_from_inside_an_actor_turn_is_ebusy, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p, c;
  cr_assert_eq(bs_actor_get(e, &bst_probe_type, "probe", &p), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_send0(p, &bst_probe_methods[BST_PROBE_RUN_ENGINE]), 0);
  cr_assert_eq(bst_add(c, 1), 0); /* must not be dispatched by the inner run */
  bst_run(e);
  cr_assert_eq(bst_g.probe_run_rc, BS_EBUSY);
  cr_assert_eq(bst_g.counter_adds, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(engine, in_turn_is_true_only_inside_a_turn, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  cr_assert_eq(bs_in_turn(e), false);
  bs_ref p;
  cr_assert_eq(bs_actor_get(e, &bst_probe_type, "probe", &p), 0);
  cr_assert_eq(bst_send0(p, &bst_probe_methods[BST_PROBE_WHOAMI]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.probe_in_turn, true);
  cr_assert_eq(bs_in_turn(e), false);
  bst_engine_free_checked(e, &A);
}

/* ---- Scheduling ------------------------------------------------------------------ */

Test(engine, messages_sent_during_a_turn_are_queued_not_run_reentrantly,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r1, r2;
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "r1", &r1), 0);
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "r2", &r2), 0);
  cr_assert_eq(bst_send_text_i64(r1, &bst_recorder_methods[BST_RECORDER_RELAY],
                                 "r2", 100),
               0);
  bst_run(e);
  cr_assert_eq(bst_trace_len, 4, "trace has %zu events", bst_trace_len);
  cr_assert_str_eq(bst_trace[0].who, "r1");
  cr_assert_eq(bst_trace[0].kind, BST_EV_RELAY_BEGIN);
  cr_assert_str_eq(bst_trace[1].who, "r1");
  cr_assert_eq(bst_trace[1].kind, BST_EV_RELAY_END,
               "a message sent by relay ran before relay returned");
  cr_assert_eq(bst_trace[1].v, 0, "a send inside the turn failed: %lld",
               (long long)bst_trace[1].v);
  /* The other two are the queued notes, in either order. */
  bool saw_r2 = false, saw_self = false;
  for (int i = 2; i < 4; i++) {
    cr_assert_eq(bst_trace[i].kind, BST_EV_NOTE);
    if (strcmp(bst_trace[i].who, "r2") == 0 && bst_trace[i].v == 100)
      saw_r2 = true;
    if (strcmp(bst_trace[i].who, "r1") == 0 && bst_trace[i].v == 101)
      saw_self = true;
  }
  cr_assert(saw_r2 && saw_self);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(engine, batch_bounds_a_turn_and_busy_actors_interleave, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 4, 0);
  bs_ref r1, r2;
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "r1", &r1), 0);
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "r2", &r2), 0);
  const bs_method *note = &bst_recorder_methods[BST_RECORDER_NOTE];
  for (int i = 0; i < 10; i++) cr_assert_eq(bst_send_i64(r1, note, i), 0);
  for (int i = 0; i < 10; i++) cr_assert_eq(bst_send_i64(r2, note, i), 0);
  bst_run(e);
  cr_assert_eq(bst_trace_len, 20);
  /* FIFO per actor. */
  int64_t next1 = 0, next2 = 0;
  for (size_t i = 0; i < bst_trace_len; i++) {
    if (strcmp(bst_trace[i].who, "r1") == 0)
      cr_assert_eq(bst_trace[i].v, next1++, "r1 out of order at %zu", i);
    else
      cr_assert_eq(bst_trace[i].v, next2++, "r2 out of order at %zu", i);
  }
  /* Turns of at most 4, alternating: r1 got mail first. */
  static const int expect_runs[] = {4, 4, 4, 4, 2, 2};
  size_t run = 0, i = 0;
  while (i < bst_trace_len) {
    size_t j = i;
    while (j < bst_trace_len && strcmp(bst_trace[j].who, bst_trace[i].who) == 0)
      j++;
    cr_assert_leq(j - i, 4, "a turn of %zu messages with batch 4", j - i);
    cr_assert_lt(run, 6u, "more turns than expected");
    cr_assert_eq((int)(j - i), expect_runs[run], "turn %zu had %zu messages",
                 run, j - i);
    cr_assert_str_eq(bst_trace[i].who, run % 2 == 0 ? "r1" : "r2");
    run++;
    i = j;
  }
  cr_assert_eq(run, 6u);
  bst_engine_free_checked(e, &A);
}

Test(engine, method_errors_are_counted_and_still_delivered, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  const bs_method *fail = &bst_counter_methods[BST_COUNTER_FAIL_WITH];
  cr_assert_eq(bst_send_i64(c, fail, BS_ENOTFOUND), 0);
  cr_assert_eq(bst_send_i64(c, fail, -1000), 0);
  cr_assert_eq(bst_send_i64(c, fail, 0), 0);
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.method_errors, 2);
  cr_assert_eq(s.sent, 3);
  cr_assert_eq(s.delivered, 3);
  cr_assert_eq(s.dead_letters, 0);
  bst_engine_free_checked(e, &A);
}

Test(engine, stats_account_every_allocator_call, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  for (int i = 0; i < 100; i++) cr_assert_eq(bst_add(c, 1), 0);
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.bytes_live, A.bytes_live, "stats %zu vs allocator %zu",
               s.bytes_live, A.bytes_live);
  cr_assert_eq(s.alloc_calls, A.attempts, "stats %llu vs allocator %llu",
               (unsigned long long)s.alloc_calls,
               (unsigned long long)A.attempts);
  cr_assert_eq(s.free_calls, A.frees, "stats %llu vs allocator %llu",
               (unsigned long long)s.free_calls, (unsigned long long)A.frees);
  cr_assert_eq(s.alloc_failures, 0);
  bst_engine_free_checked(e, &A);
}

Test(engine, free_while_held_does_not_hang_or_leak, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_engine_hold(e);
  bs_engine_hold(e);
  bs_engine_release(e);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_NOWAIT), 1, "held: work remains");
  cr_assert_eq(bst_g.counter_adds, 1);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1);
}

Test(engine, release_without_hold_is_harmless, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_engine_release(e);
  bs_engine_release(e);
  bst_run(e); /* returns: the count did not go negative */
  bs_engine_hold(e);
  bs_engine_release(e);
  bst_run(e);
  bs_engine_hold(NULL);
  bs_engine_release(NULL);
  bs_engine_stop(NULL);
  bst_engine_free_checked(e, &A);
}
