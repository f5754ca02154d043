/* Runtime bugs found while hardening (issue 9), one test each, kept as
 * regression tests. Each comment says what happened and where; "before the
 * fix" is what the test saw then (fixes: edee2e4 for 1 and 2, c642151 for
 * 3).
 *
 * 1. A reply captured by a test-kit probe (src/testkit/testkit.c).
 *    A probe may stand in for an actor that is inactive, including one that
 *    asked something and then stopped: the answer then arrives at the probed
 *    cell, and bs__probe_capture captures it like any message and counts it
 *    as delivered. Afterwards:
 *    - bs_probe_free releases it through release(), which dead-letters it
 *      (ORPHAN_REPLY): counted delivered AND dead, so sent != delivered +
 *      dead_letters;
 *    - bs_probe_next hands it out ("(reply)") and drop_taken() releases it
 *      with bs__msg_release, which puts the REPLY block back but not the
 *      value block it holds (m->req): one pool block leaks, seen at
 *      bs_engine_free.
 *    A reply cannot be for a probe (a probed cell has no instance whose
 *    continuation could run): capture should dead-letter it as an orphan
 *    (ORPHAN_REPLY, not counted delivered) instead of keeping it.
 *
 * 2. Mail sent from the dead-letter hook to the actor whose mailbox is being
 *    swept (src/engine/dispatch.c, bs__sweep_mailbox). The hook may send
 *    (engine.h). When a stop's sweep (STOPPED) or a failed activation's
 *    sweep (INIT_FAILED) reports a dead letter and the hook sends to the same
 *    actor - a retry, the obvious thing to do with a dead letter - the new
 *    message lands in the mailbox being swept and is swept too, in the same
 *    loop: it never reaches the fresh instance the docs promise for mail
 *    sent after a stop ("the next message sent afterwards activates a fresh
 *    instance" / "tries init again"), and a hook that retries every dead
 *    letter never returns: bs_engine_run hangs inside one sweep. The sweep
 *    should detach the mailbox before dead-lettering what it held. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include <criterion/criterion.h>

#include <backstage/testkit.h>

#include "bst.h"

/* Pinger p asks Counter c for its value, then p stops before c answers;
 * a probe then stands in for p and captures the answer. */
static bs_engine *reply_into_probe(bst_alloc *a, bs_probe **probe) {
  bst_reset();
  bs_engine *e = bst_engine(a, 0, 0);
  bs_ref p, c;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &p), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  cr_assert_eq(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK],
                                      "Counter", "c",
                                      bst_counter_methods[BST_COUNTER_GET].id),
               0);
  cr_assert_eq(bst_add(c, 5), 0);
  cr_assert_eq(bs_test_step(e), 1); /* p: ask; the request queues behind add */
  cr_assert_eq(bs_stop(&p), 0);
  cr_assert_eq(bs_test_step(e), 1); /* c: add */
  cr_assert_eq(bs_test_step(e), 1); /* p: the pill; p is inactive, empty */
  cr_assert_not(bs_ref_active(&p));
  cr_assert_eq(bs_probe_new(e, &bst_pinger_type, "p", probe), 0);
  cr_assert_eq(bs_test_step(e), 1); /* c: get; the reply goes to p's cell */
  /* Not captured: an orphan, as with no probe. */
  cr_assert_eq(bs_probe_pending(*probe), 0);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_ORPHAN_REPLY], 1);
  return e;
}

Test(hardening_findings, probe_free_with_a_captured_reply_keeps_the_invariant) {
  bst_alloc a;
  bs_probe *probe;
  bs_engine *e = reply_into_probe(&a, &probe);
  bs_probe_free(probe);
  bs_test_run(e, 0);
  /* Before the fix: sent 4, delivered 4, dead_letters 1 (the reply is counted
   * delivered at capture and ORPHAN_REPLY at release). */
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(hardening_findings, probe_next_on_a_captured_reply_does_not_leak) {
  bst_alloc a;
  bs_probe *probe;
  bs_engine *e = reply_into_probe(&a, &probe);
  bs_probed m;
  cr_assert_eq(bs_probe_next(probe, &m), 0, "a reply is never handed out");
  bs_probe_free(probe);
  bs_test_run(e, 0);
  bst_assert_invariant(e);
  /* Before the fix: the reply's value block (128 bytes) is never given back. */
  bst_engine_free_checked(e, &a);
}

/* ---- 2. Sends from the dead-letter hook into the mailbox being swept ------ */

static bs_ref retry_target;
static int retries, retry_limit;
static bs_dead_letter_reason retry_reason;

/* Retries a dead letter of `retry_reason` by sending Counter.add(1) (or
 * FailInit.ping) to the same actor, at most retry_limit times in all. */
static void retry_hook(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  bst_dl_hook(NULL, dl);
  if (dl->reason != retry_reason || retries >= retry_limit) return;
  retries++;
  if (bs_ref_type(&retry_target) == &bst_counter_type)
    bst_add(retry_target, 1);
  else
    bst_send0(retry_target, &bst_failinit_methods[BST_FAILINIT_PING]);
}

Test(hardening_findings, a_send_from_the_hook_after_a_stop_reaches_a_fresh_instance) {
  bst_alloc a;
  bst_reset();
  bst_alloc_init(&a);
  bs_engine_options o = bst_options(&a);
  o.on_dead_letter = retry_hook;
  retry_reason = BS_DL_STOPPED;
  retries = 0;
  retry_limit = 1;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &retry_target), 0);
  cr_assert_eq(bst_add(retry_target, 1), 0);
  cr_assert_eq(bs_stop(&retry_target), 0);
  cr_assert_eq(bst_add(retry_target, 1), 0); /* behind the pill: STOPPED */
  bst_run(e);
  cr_assert_eq(retries, 1);
  /* The retry was sent after the stop was dispatched: it should activate a
   * fresh instance. Before the fix: it is swept with the rest (STOPPED 2,
   * adds 1); with retry_limit unbounded bs_engine_run never returns. */
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_STOPPED], 1,
               "the retry was swept as STOPPED too (%llu STOPPED)",
               (unsigned long long)bst_stats(e).dead_by_reason[BS_DL_STOPPED]);
  cr_assert_eq(bst_g.counter_adds, 2);
  cr_assert_eq(bst_g.counter_inits, 2);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(hardening_findings, a_send_from_the_hook_after_an_init_failure_tries_init_again) {
  bst_alloc a;
  bst_reset();
  bst_alloc_init(&a);
  bs_engine_options o = bst_options(&a);
  o.on_dead_letter = retry_hook;
  retry_reason = BS_DL_INIT_FAILED;
  retries = 0;
  retry_limit = 1;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  cr_assert_eq(bs_actor_get(e, &bst_failinit_type, "f", &retry_target), 0);
  cr_assert_eq(bst_send0(retry_target, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
  bst_run(e);
  cr_assert_eq(retries, 1);
  /* "The next message sent afterwards tries init again." Before the fix: the
   * retry is swept by the same failed activation (1 init, 2 INIT_FAILED). */
  cr_assert_eq(bst_g.failinit_inits, 2, "init ran %d time(s)",
               bst_g.failinit_inits);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

/* A hook that retries every STOPPED dead letter: with the fix, each retry
 * reaches a fresh instance and the run ends. Before the fix this never returned from
 * one bs__sweep_mailbox; Criterion's timeout reports it. */
Test(hardening_findings, a_hook_that_retries_every_dead_letter_does_not_hang,
     .timeout = 10) {
  bst_alloc a;
  bst_reset();
  bst_alloc_init(&a);
  bs_engine_options o = bst_options(&a);
  o.on_dead_letter = retry_hook;
  retry_reason = BS_DL_STOPPED;
  retries = 0;
  retry_limit = 1 << 30;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &retry_target), 0);
  cr_assert_eq(bst_add(retry_target, 1), 0);
  cr_assert_eq(bs_stop(&retry_target), 0);
  cr_assert_eq(bst_add(retry_target, 1), 0);
  bst_run(e);
  cr_assert_eq(retries, 1);
  cr_assert_eq(bst_g.counter_adds, 2);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

/* ---- 3. An await on a probed actor (src/engine/request.c, bs_request_await)
 *
 * A probe captures the request and answers it only when taken
 * (bs_probe_next: BS_ENOTFOUND, docs/testing.md). An await from main cannot
 * take it: bs_request_await found nothing to run (uv_run returns 0) and
 * gave up with BS_ECANCELED - which actor.h does not list for an await and
 * which means "the engine is being freed" - while the request stays pending
 * with the await's `out` as its ud. When the probe is later taken or freed
 * the request completes and the await's reply thunk runs after the await
 * has returned, with `out` pointing at whatever the caller's stack holds
 * now. (Generated await thunks do not touch `out` on an error status, so
 * only hand-written thunks that do would write through it.) Expected: the
 * await ends its own request - BS_ENOTFOUND, as the docs say a probed
 * request's caller gets - and its thunk never runs afterwards. */

static bool await_returned;
static int late_thunk_calls;

static int await_thunk(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  (void)value;
  (void)fn;
  (void)ud;
  if (await_returned) late_thunk_calls++;
  return status;
}

Test(hardening_findings, an_await_on_a_probed_actor_ends_its_request) {
  bst_alloc a;
  bst_reset();
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_probe *probe;
  cr_assert_eq(bs_probe_new(e, &bst_counter_type, "c", &probe), 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[BST_COUNTER_GET], &w), 0);
  int64_t out = 0;
  await_returned = false;
  late_thunk_calls = 0;
  int rc = bs_request_await(&w, await_thunk, &out, 0);
  await_returned = true;
  /* Before the fix: BS_ECANCELED, and the request stayed pending. */
  cr_expect_eq(rc, BS_ENOTFOUND, "the await returned %d (%s)", rc, bs_errname(rc));
  cr_expect_eq(bst_stats(e).requests_pending, 0,
               "the await returned with its request still pending");
  bs_probe_free(probe);
  bst_run(e);
  cr_expect_eq(late_thunk_calls, 0,
               "the await's thunk ran %d time(s) after the await returned",
               late_thunk_calls);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}
