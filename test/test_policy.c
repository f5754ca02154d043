/* Bounded mailboxes and method-error policies. */
#include <stdio.h>

#include <criterion/criterion.h>

#include "bst.h"
#include "backstage/testkit.h"

#define ADD (&bst_counter_methods[BST_COUNTER_ADD])
#define GET (&bst_counter_methods[BST_COUNTER_GET])
#define FAIL_WITH (&bst_counter_methods[BST_COUNTER_FAIL_WITH])

static bs_engine *engine_with(bst_alloc *a, uint32_t cap, bs_full_policy full,
                              bs_error_policy on_error) {
  bst_alloc_init(a);
  bs_engine_options o = bst_options(a);
  o.mailbox_capacity = cap;
  o.mailbox_full = full;
  o.on_method_error = on_error;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

static bs_ref counter(bs_engine *e, const char *id) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), 0);
  return r;
}

/* ---- Bounded mailboxes -------------------------------------------------------- */

Test(policy, a_full_mailbox_rejects_sends_with_EFULL, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 3, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_ref c = counter(e, "c");
  for (int i = 0; i < 3; i++) cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 1), BS_EFULL);
  cr_assert_eq(bs_ref_pending(&c), 3);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.rejected, 1);
  cr_assert_eq(s.sent, 3, "a rejected message was never sent");
  bst_run(e);
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(c, GET, &v, 0), 0, "room again once drained");
  cr_assert_eq(v, 3);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(policy, a_rejected_request_never_runs_its_continuation, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 1, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_request0_i64(c, GET, bst_main_cont, (void *)1), BS_EFULL);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  bst_engine_free_checked(e, &a);
}

Test(policy, the_dead_letter_policy_accepts_the_send_and_reports_it, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 2, BS_FULL_DEAD_LETTER, BS_ON_ERROR_DEFAULT);
  bs_ref c = counter(e, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 1), 0, "accepted, then dead-lettered");
  cr_assert_eq(bst_request0_i64(c, GET, bst_main_cont, (void *)7), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_total, 2);
  cr_assert_eq(bst_dl_by_reason[BS_DL_MAILBOX_FULL], 2);
  const bst_dl_rec *dl = bst_dl_find(BS_DL_MAILBOX_FULL);
  cr_assert_str_eq(dl->target, "c");
  cr_assert_str_eq(dl->method, "add");
  cr_assert_eq(dl->code, BS_EFULL);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_EFULL, "the request's caller hears why");
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(policy, replies_are_accepted_into_a_full_mailbox, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 1, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_ref pinger;
  counter(e, "target");
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &pinger), 0);
  cr_assert_eq(bst_send_text_text_u64(pinger, &bst_pinger_methods[BST_PINGER_ASK], "Counter",
                                      "target", 2),
               0);
  cr_assert_eq(bs_test_step(e), 1); /* p asks target.get() */
  cr_assert_eq(bst_send_text_i64(pinger, &bst_pinger_methods[BST_PINGER_SEND_ADD], "target", 1),
               0); /* p's mailbox is now full */
  cr_assert_eq(bst_send_text_i64(pinger, &bst_pinger_methods[BST_PINGER_SEND_ADD], "target", 1),
               BS_EFULL);
  cr_assert_eq(bs_test_step(e), 1); /* target replies into p's full mailbox */
  cr_assert_eq(bs_ref_pending(&pinger), 2, "the reply got in beside the full mailbox");
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(policy, a_per_type_capacity_overrides_the_engine_default, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 0, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_type_policy p = {.mailbox_capacity = 2};
  cr_assert_eq(bs_engine_set_type_policy(e, &bst_counter_type, &p), 0);
  cr_assert_eq(bs_engine_set_type_policy(NULL, &bst_counter_type, &p), BS_EINVAL);
  bs_type_policy bad = {.on_method_error = (bs_error_policy)9};
  cr_assert_eq(bs_engine_set_type_policy(e, &bst_counter_type, &bad), BS_EINVAL);
  bs_ref c = counter(e, "c");
  bs_ref rec;
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "r", &rec), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_add(c, 1), BS_EFULL);
  for (int i = 0; i < 100; i++)
    cr_assert_eq(bst_send_i64(rec, &bst_recorder_methods[BST_RECORDER_NOTE], i), 0,
                 "other types stay unbounded");
  bst_run(e);
  bst_engine_free_checked(e, &a);
}

/* A subscriber that records into the counter globals. */
static int on_elem(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  bst_g.counter_total += v;
  return 0;
}
static const bs_method sub_methods[] = {{"onElem", 1, 1, on_elem}};
static const bs_actor_type sub_type = {"Sub", 8, 0, NULL, NULL, sub_methods, 1, NULL, NULL, NULL};

Test(policy, stream_elements_for_a_full_subscriber_are_dead_letters, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 0, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_type_policy p = {.mailbox_capacity = 2};
  cr_assert_eq(bs_engine_set_type_policy(e, &sub_type, &p), 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  cr_assert_eq(bs_stream_add_subscriber(s.s, &sub_type, "slow", &sub_methods[0]), 0);
  cr_assert_eq(bs_stream_next(s, 1), 1);
  cr_assert_eq(bs_stream_next(s, 10), 1);
  cr_assert_eq(bs_stream_next(s, 100), 0, "queued for nobody: the one subscriber is full");
  bst_run(e);
  cr_assert_eq(bst_g.counter_total, 11);
  cr_assert_eq(bst_dl_by_reason[BS_DL_MAILBOX_FULL], 1);
  cr_assert_str_eq(bst_dl_find(BS_DL_MAILBOX_FULL)->method, "onElem");
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

/* ---- Method errors ------------------------------------------------------------- */

Test(policy, by_default_a_method_error_is_counted_and_the_instance_kept, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 0, BS_FULL_REJECT, BS_ON_ERROR_DEFAULT);
  bs_ref c = counter(e, "c");
  bst_add(c, 5);
  bst_send_i64(c, FAIL_WITH, BS_EINVAL);
  bst_add(c, 1);
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(c, GET, &v, 0), 0);
  cr_assert_eq(v, 6, "state survived the error");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.method_errors, 1);
  cr_assert_eq(s.restarts, 0);
  cr_assert_eq(bst_g.counter_inits, 1);
  bst_engine_free_checked(e, &a);
}

Test(policy, the_restart_policy_reactivates_a_fresh_instance_on_the_next_message,
     .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 0, BS_FULL_REJECT, BS_ON_ERROR_RESTART);
  bs_ref c = counter(e, "c");
  bst_add(c, 5);
  bst_send_i64(c, FAIL_WITH, BS_EINVAL);
  bst_add(c, 1); /* already queued: handled by the fresh instance */
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(c, GET, &v, 0), 0);
  cr_assert_eq(v, 1, "the fresh instance saw only what came after the error");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.method_errors, 1);
  cr_assert_eq(s.restarts, 1);
  cr_assert_eq(bst_g.counter_inits, 2);
  cr_assert_eq(bst_g.counter_deinits, 1);
  cr_assert_eq(bst_g.counter_dirty_inits, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(policy, a_per_type_error_policy_overrides_the_engine, .timeout = 10) {
  bst_reset();
  bst_alloc a;
  bs_engine *e = engine_with(&a, 0, BS_FULL_REJECT, BS_ON_ERROR_RESTART);
  bs_type_policy keep = {.on_method_error = BS_ON_ERROR_CONTINUE};
  cr_assert_eq(bs_engine_set_type_policy(e, &bst_counter_type, &keep), 0);
  bs_ref c = counter(e, "c");
  bst_add(c, 5);
  bst_send_i64(c, FAIL_WITH, BS_EINVAL);
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(c, GET, &v, 0), 0);
  cr_assert_eq(v, 5);
  cr_assert_eq(bst_stats(e).restarts, 0);
  bst_engine_free_checked(e, &a);
}

static int failures_seen;
static int last_failure_status;
static bool last_restarting;
static char last_failure_method[32];

static void on_failure(void *ud, const bs_method_failure *f) {
  failures_seen++;
  last_failure_status = f->status;
  last_restarting = f->restarting;
  snprintf(last_failure_method, sizeof last_failure_method, "%s", f->method_name);
  cr_assert_str_eq(f->actor_id, "c");
  cr_assert_str_eq(f->type_name, "Counter");
}

Test(policy, the_method_failure_hook_sees_every_failing_method, .timeout = 10) {
  bst_reset();
  failures_seen = 0;
  bst_alloc a;
  bst_alloc_init(&a);
  bs_engine_options o = bst_options(&a);
  o.on_method_failure = on_failure;
  o.on_method_error = BS_ON_ERROR_RESTART;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref c = counter(e, "c");
  bst_add(c, 1);
  bst_send_i64(c, FAIL_WITH, BS_ENOTFOUND);
  bst_run(e);
  cr_assert_eq(failures_seen, 1);
  cr_assert_eq(last_failure_status, BS_ENOTFOUND);
  cr_assert(last_restarting);
  cr_assert_str_eq(last_failure_method, "fail_with");
  bst_engine_free_checked(e, &a);
}
