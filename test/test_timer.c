/* bs_timer on the real loop (test/test_testkit.c covers the virtual clock). */
#include <criterion/criterion.h>

#include "bst.h"

static int ticks;
static uint64_t first_at, last_at;
static bs_ref target;

static void on_tick(bs_timer *t) {
  uint64_t now = bs_engine_now(t->engine);
  if (ticks == 0) first_at = now;
  last_at = now;
  cr_assert_not(bs_in_turn(t->engine), "timer callbacks run outside actor turns");
  cr_assert_eq(bst_add(target, 1), 0);
  if (++ticks == 3) bs_timer_stop(t);
}

Test(timer, a_repeating_timer_ticks_until_stopped_and_then_lets_the_loop_end, .timeout = 10) {
  bst_reset();
  ticks = 0;
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &target), 0);
  bs_timer t;
  cr_assert_eq(bs_timer_init(e, &t), 0);
  uint64_t start = bs_engine_now(e);
  cr_assert_eq(bs_timer_start(&t, on_tick, 5, 5), 0);
  cr_assert(bs_timer_active(&t));
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(ticks, 3);
  cr_assert_not(bs_timer_active(&t));
  cr_assert_eq(bst_g.counter_total, 3, "each tick's message was delivered");
  /* Repeats keep their cadence from the first due time (start + 5), so a
   * late first tick does not push the later ones back. */
  cr_assert_geq(first_at, start + 5);
  cr_assert_geq(last_at, start + 15);
  bst_engine_free_checked(e, &a);
}

static void never(bs_timer *t) { cr_assert_fail("a stopped timer fired"); }

Test(timer, stop_restart_and_bad_arguments, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_timer t;
  cr_assert_eq(bs_timer_init(NULL, &t), BS_EINVAL);
  cr_assert_eq(bs_timer_init(e, NULL), BS_EINVAL);
  cr_assert_eq(bs_timer_init(e, &t), 0);
  cr_assert_eq(bs_timer_start(&t, NULL, 1, 0), BS_EINVAL);
  cr_assert_eq(bs_timer_start(&t, never, 1, 0), 0);
  bs_timer_stop(&t);
  bs_timer_stop(&t); /* twice is fine */
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  ticks = 0;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &target), 0);
  cr_assert_eq(bs_timer_start(&t, on_tick, 1000, 0), 0);
  cr_assert_eq(bs_timer_start(&t, on_tick, 1, 0), 0, "restart reschedules");
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  cr_assert_eq(ticks, 1);
  bs_engine_free(e);
}

Test(timer, active_timers_at_engine_free_are_dropped, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_timer ts[40];
  for (int i = 0; i < 40; i++) {
    cr_assert_eq(bs_timer_init(e, &ts[i]), 0);
    cr_assert_eq(bs_timer_start(&ts[i], never, 100000 + (uint64_t)i, 0), 0);
  }
  for (int i = 0; i < 40; i += 3) bs_timer_stop(&ts[i]);
  bst_engine_free_checked(e, &a);
  for (int i = 0; i < 40; i++) cr_assert_not(bs_timer_active(&ts[i]));
}
