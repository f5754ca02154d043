/* Stopping: the poison pill, dead-lettering behind it, and re-activation. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

static bst_alloc A;

static bs_ref counter(bs_engine *e, const char *id) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), 0);
  return r;
}

Test(stop, mail_before_the_pill_is_handled_then_deinit_runs_once,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "c");
  for (int i = 1; i <= 3; i++) cr_assert_eq(bst_add(c, i), 0);
  cr_assert_eq(bs_stop(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 3);
  cr_assert_eq(bst_g.counter_total, 6);
  cr_assert_eq(bst_g.counter_inits, 1);
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bs_ref_active(&c), false);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.actors, 0, "a stopped actor's cell is collected");
  cr_assert_eq(s.collected, 1);
  cr_assert_eq(s.dead_letters, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1, "deinit ran again at engine free");
}

Test(stop, mail_after_the_pill_is_dead_lettered_as_stopped, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "victim");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bst_add(c, 100), 0);
  cr_assert_eq(bst_add(c, 200), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 1);
  cr_assert_eq(bst_g.counter_total, 1);
  cr_assert_eq(bst_g.counter_inits, 1, "mail behind the pill re-activated");
  cr_assert_eq(bst_g.counter_deinits, 1);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_STOPPED], 2);
  cr_assert_eq(s.dead_letters, 2);
  cr_assert_eq(bst_dl_count, 2);
  for (size_t i = 0; i < 2; i++) {
    cr_assert_eq(bst_dls[i].reason, BS_DL_STOPPED);
    cr_assert_str_eq(bst_dls[i].target, "victim");
    cr_assert_str_eq(bst_dls[i].type, "Counter");
    cr_assert_str_eq(bst_dls[i].method, "add");
    cr_assert_eq(bst_dls[i].method_id, 1);
  }
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(stop, a_message_after_the_stop_activates_a_fresh_zeroed_instance,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "phoenix");
  cr_assert_eq(bst_add(c, 3), 0);
  cr_assert_eq(bs_stop(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bs_ref_active(&c), false);
  cr_assert_eq(bst_add(c, 5), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 5, "the new instance saw the old state");
  cr_assert_eq(bst_g.counter_inits, 2);
  cr_assert_eq(bst_g.counter_dirty_inits, 0, "state not zeroed at re-activation");
  cr_assert(bs_ref_active(&c));
  bs_ref again = counter(e, "phoenix");
  cr_assert(bs_ref_equal(&again, &c), "the reference survived the stop");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.activations, 2);
  cr_assert_eq(s.active, 1);
  cr_assert_eq(s.dead_letters, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 2);
}

Test(stop, stopping_an_inactive_idle_actor_is_a_noop, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "idle");
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bs_ref_pending(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 0, "a stop activated the actor");
  cr_assert_eq(bst_g.counter_deinits, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, 0);
  cr_assert_eq(s.dead_letters, 0);
  cr_assert_eq(s.activations, 0);
  /* And the actor works normally afterwards. */
  cr_assert_eq(bst_add(c, 2), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(bst_g.counter_inits, 1);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1);
}

Test(stop, stopping_a_stopped_actor_again_is_a_noop, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  bst_run(e);
  cr_assert_eq(bs_stop(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 1);
  cr_assert_eq(bst_g.counter_deinits, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(stop, two_pills_in_a_row_deinitialise_once_and_activate_nothing,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bs_stop(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 1, "a pill activated a fresh instance");
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bs_ref_active(&c), false);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1);
}

Test(stop, stopping_an_inactive_actor_with_mail_handles_the_mail_first,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 2), 0);
  cr_assert_eq(bs_ref_active(&c), false);
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bst_add(c, 4), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 1);
  cr_assert_eq(bst_g.counter_total, 3);
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_STOPPED], 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(stop, an_actor_can_stop_itself_after_its_queued_mail, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_send0(c, &bst_counter_methods[BST_COUNTER_STOP_SELF]), 0);
  cr_assert_eq(bst_add(c, 2), 0); /* queued before the pill stop_self sends */
  bst_run(e);
  cr_assert_eq(bst_g.probe_stop_rc, 0);
  cr_assert_eq(bst_g.counter_total, 3);
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bs_ref_active(&c), false);
  cr_assert_eq(bst_stats(e).dead_letters, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1);
}

Test(stop, stop_of_one_actor_leaves_others_running, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref a = counter(e, "a"), b = counter(e, "b");
  cr_assert_eq(bst_add(a, 1), 0);
  cr_assert_eq(bst_add(b, 1), 0);
  cr_assert_eq(bs_stop(&a), 0);
  cr_assert_eq(bst_add(a, 10), 0);
  cr_assert_eq(bst_add(b, 10), 0);
  bst_run(e);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(b, &v, 0), 0);
  cr_assert_eq(v, 11);
  cr_assert(bs_ref_active(&b));
  cr_assert_eq(bs_ref_active(&a), false);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_STOPPED], 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 2);
}

Test(stop, many_stop_restart_cycles_keep_counts_and_memory_straight,
     .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = counter(e, "cycler");
  for (int i = 0; i < 1000; i++) {
    cr_assert_eq(bst_add(c, i), 0);
    cr_assert_eq(bs_stop(&c), 0);
    bst_run(e);
  }
  cr_assert_eq(bst_g.counter_inits, 1000);
  cr_assert_eq(bst_g.counter_deinits, 1000);
  cr_assert_eq(bst_g.counter_dirty_inits, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.activations, 1000);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.dead_letters, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(stop, deinit_may_send_and_its_mail_is_delivered, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &p), 0);
  bs_ref c = counter(e, "obituaries");
  bst_g.pinger_deinit_notify = "obituaries";
  cr_assert_eq(bst_send0(p, &bst_pinger_methods[BST_PINGER_VALUE]), 0);
  cr_assert_eq(bs_stop(&p), 0);
  bst_run(e);
  cr_assert_eq(bst_g.pinger_deinits, 1);
  cr_assert_eq(bst_g.pinger_deinit_send_rc, 0);
  cr_assert_eq(bst_g.counter_adds, 1, "the message sent by deinit was lost");
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(stop, mail_sent_by_deinit_at_engine_free_is_dead_lettered,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &p), 0);
  counter(e, "obituaries");
  bst_g.pinger_deinit_notify = "obituaries";
  cr_assert_eq(bst_send0(p, &bst_pinger_methods[BST_PINGER_VALUE]), 0);
  bst_run(e);
  bst_engine_free_checked(e, &A); /* must terminate */
  cr_assert_eq(bst_g.pinger_deinits, 1);
  cr_assert_eq(bst_g.counter_adds, 0, "a message ran during engine free");
  if (bst_g.pinger_deinit_send_rc == 0)
    cr_assert_eq(bst_dl_by_reason[BS_DL_ENGINE_FREED], 1,
                 "the message deinit sent was neither refused nor "
                 "dead-lettered");
  else
    cr_assert_str_neq(bs_errname(bst_g.pinger_deinit_send_rc), "UNKNOWN");
}
