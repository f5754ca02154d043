/* Dead letters: every reason the runtime can produce, counted in the stats
 * and passed to the hook with (target id, type, method, reason, code).
 *
 * Not produced here: MAILBOX_FULL (reserved for bounded mailboxes; no option
 * bounds a mailbox yet). NO_MEMORY is produced by forcing an allocation
 * failure at activation; test_alloc_failure.c covers it more broadly. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include <backstage/testkit.h>

#include "bst.h"

static bst_alloc A;

static bs_ref get(bs_engine *e, const bs_actor_type *t, const char *id) {
  bs_ref r;
  int rc = bs_actor_get(e, t, id, &r);
  cr_assert_eq(rc, 0, "bs_actor_get(%s) = %s", id, bs_errname(rc));
  return r;
}

/* The stats and the hook agree, reason by reason. */
static void assert_hook_matches_stats(bs_engine *e) {
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(bst_dl_count, s.dead_letters, "hook saw %zu, stats say %llu",
               bst_dl_count, (unsigned long long)s.dead_letters);
  for (int i = 0; i < BS_DL__COUNT; i++)
    cr_assert_eq(bst_dl_by_reason[i], s.dead_by_reason[i], "reason %s",
                 bs_dead_letter_reason_name((bs_dead_letter_reason)i));
  bst_assert_invariant(e);
}

Test(dead_letters, unknown_method, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-1");
  cr_assert_eq(bst_send0(c, &bst_bogus_method), 0);
  bst_run(e);
  cr_assert_eq(bst_g.bogus_invokes, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNKNOWN_METHOD], 1);
  cr_assert_eq(s.dead_letters, 1);
  cr_assert_eq(s.sent, 1);
  cr_assert_eq(s.delivered, 0);
  cr_assert_eq(bst_dl_count, 1);
  const bst_dl_rec *d = &bst_dls[0];
  cr_assert_eq(d->reason, BS_DL_UNKNOWN_METHOD);
  cr_assert_str_eq(d->target, "target-1");
  cr_assert_str_eq(d->type, "Counter");
  cr_assert_eq(d->method_id, BST_BOGUS_ID);
  cr_assert(d->method_null, "an unknown method has no name");
  cr_assert_eq(d->code, BS_ENOMETHOD, "code %s", bs_errname(d->code));
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, undecodable_arguments, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-2");
  /* add(int64) with a text argument, and with no argument at all. */
  cr_assert_eq(bst_send_text(c, &bst_counter_methods[BST_COUNTER_ADD], "five"),
               0);
  cr_assert_eq(bst_send0(c, &bst_counter_methods[BST_COUNTER_ADD]), 0);
  cr_assert_eq(bst_add(c, 5), 0); /* a good one still goes through */
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 1);
  cr_assert_eq(bst_g.counter_total, 5);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNDECODABLE], 2);
  cr_assert_eq(s.delivered, 1);
  cr_assert_eq(s.method_errors, 0);
  cr_assert_eq(bst_dl_count, 2);
  for (int i = 0; i < 2; i++) {
    const bst_dl_rec *d = &bst_dls[i];
    cr_assert_eq(d->reason, BS_DL_UNDECODABLE);
    cr_assert_str_eq(d->target, "target-2");
    cr_assert_str_eq(d->method, "add");
    cr_assert_eq(d->method_id, 1);
    cr_assert_eq(d->code, BS_EDECODE, "code %s", bs_errname(d->code));
  }
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, stopped, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-3");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bst_send_i64(c, &bst_counter_methods[BST_COUNTER_SET], 9), 0);
  bst_run(e);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_STOPPED], 1);
  cr_assert_eq(bst_dl_count, 1);
  cr_assert_eq(bst_dls[0].reason, BS_DL_STOPPED);
  cr_assert_str_eq(bst_dls[0].target, "target-3");
  cr_assert_str_eq(bst_dls[0].method, "set");
  cr_assert_eq(bst_dls[0].method_id, 7);
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, init_failed_dead_letters_the_whole_mailbox, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref f = get(e, &bst_failinit_type, "target-4");
  for (int i = 0; i < 3; i++)
    cr_assert_eq(bst_send0(f, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.failinit_inits, 1, "init retried within one mailbox");
  cr_assert_eq(bst_g.failinit_method_calls, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_INIT_FAILED], 3);
  cr_assert_eq(s.init_failures, 1);
  cr_assert_eq(bst_dl_count, 3);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(bst_dls[i].reason, BS_DL_INIT_FAILED);
    cr_assert_str_eq(bst_dls[i].target, "target-4");
    cr_assert_str_eq(bst_dls[i].type, "FailInit");
    cr_assert_str_eq(bst_dls[i].method, "ping");
    cr_assert_eq(bst_dls[i].method_id, 1);
  }
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, orphan_reply_of_a_stopped_caller, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_pinger_type, "caller");
  get(e, &bst_counter_type, "callee");
  cr_assert_eq(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK],
                                      "Counter", "callee", 2),
               0);
  cr_assert_eq(bs_stop(&p), 0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 0);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_ORPHAN_REPLY], 1);
  const bst_dl_rec *d = bst_dl_find(BS_DL_ORPHAN_REPLY);
  cr_assert_not_null(d);
  cr_assert_str_eq(d->target, "caller");
  cr_assert(d->method_null);
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, reply_unencodable, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-6");
  cr_assert_eq(bst_request0_i64(c,
                                &bst_counter_methods[BST_COUNTER_GET_UNENCODABLE],
                                bst_main_cont, NULL),
               0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1, "the caller was left waiting");
  cr_assert_lt(bst_replies[0].status, 0);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_REPLY_UNENCODABLE], 1);
  const bst_dl_rec *d = bst_dl_find(BS_DL_REPLY_UNENCODABLE);
  cr_assert_not_null(d);
  cr_assert_str_eq(d->target, "target-6");
  cr_assert_str_eq(d->method, "get_unencodable");
  cr_assert_eq(d->method_id, 5);
  cr_assert_eq(d->code, BS_EENCODE, "code %s", bs_errname(d->code));
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, engine_freed_with_mail_pending, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref active = get(e, &bst_counter_type, "active");
  bs_ref inactive = get(e, &bst_counter_type, "inactive");
  cr_assert_eq(bst_add(active, 1), 0);
  bst_run(e);
  cr_assert_eq(bst_add(active, 2), 0);
  cr_assert_eq(bst_add(active, 3), 0);
  cr_assert_eq(bst_add(inactive, 4), 0);
  cr_assert_eq(bst_request0_i64(active, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, NULL),
               0);
  cr_assert_eq(bst_dl_count, 0);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_dl_by_reason[BS_DL_ENGINE_FREED], 4);
  cr_assert_eq(bst_dl_count, 4);
  int for_active = 0, for_inactive = 0;
  for (size_t i = 0; i < bst_dl_count; i++) {
    cr_assert_eq(bst_dls[i].reason, BS_DL_ENGINE_FREED);
    if (strcmp(bst_dls[i].target, "active") == 0) for_active++;
    if (strcmp(bst_dls[i].target, "inactive") == 0) {
      for_inactive++;
      cr_assert_str_eq(bst_dls[i].method, "add");
    }
  }
  cr_assert_eq(for_active, 3);
  cr_assert_eq(for_inactive, 1);
  cr_assert_eq(bst_reply_count, 0, "a request continuation ran at free");
  cr_assert_eq(bst_g.counter_adds, 1);
  cr_assert_eq(bst_g.counter_inits, 1, "free activated an actor");
  cr_assert_eq(bst_g.counter_deinits, 1);
}

/* The state lives in the cell's block, made when the first message was
 * queued: activating the actor needs no memory, so it starts even when every
 * allocation fails from then on. */
Test(dead_letters, activation_needs_no_memory, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-8");
  cr_assert_eq(bst_add(c, 1), 0);
  uint64_t attempts = A.attempts;
  A.fail_at = A.attempts + 1;
  A.fail_from = true;
  bst_run(e);
  A.fail_at = 0;
  cr_assert_eq(A.attempts, attempts, "no allocation in activation and dispatch");
  cr_assert_eq(bst_g.counter_inits, 1);
  cr_assert_eq(bst_g.counter_adds, 1);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_letters, 0);
  cr_assert_eq(s.activations, 1);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 1);
  bst_engine_free_checked(e, &A);
}

/* A message whose cell cannot be made is a dead letter NO_MEMORY: here one
 * from another shard, whose cell is made when it arrives. */
Test(dead_letters, no_memory_for_the_cell_of_mail_from_another_shard, .timeout = 10) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  o.shards = 2;
  o.virtual_time = true; /* both shards on this thread */
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  /* An id on shard 1, sent from main (shard 0). */
  char id[32];
  bs_ref c;
  for (int i = 0;; i++) {
    snprintf(id, sizeof id, "far-%d", i);
    c = get(e, &bst_counter_type, id);
    if (bs_ref_shard(&c) == 1) break;
  }
  cr_assert_eq(bst_add(c, 1), 0);
  A.fail_at = A.attempts + 1;
  A.fail_from = true;
  bs_test_run(e, 0);
  A.fail_at = 0;
  cr_assert_gt(A.failures, 0);
  cr_assert_eq(bst_g.counter_inits, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_NO_MEMORY], 1);
  cr_assert_eq(s.alloc_failures, A.failures);
  const bst_dl_rec *d = bst_dl_find(BS_DL_NO_MEMORY);
  cr_assert_not_null(d);
  cr_assert_str_eq(d->target, id);
  cr_assert_str_eq(d->method, "add");
  cr_assert_eq(d->code, BS_ENOMEM);
  assert_hook_matches_stats(e);
  /* Memory is back: the actor works. */
  cr_assert_eq(bst_add(c, 2), 0);
  bs_test_run(e, 0);
  cr_assert_eq(bst_g.counter_adds, 1);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, no_memory_completes_a_waiting_caller_with_enomem,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "target-9");
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, NULL),
               0);
  A.fail_at = A.attempts + 1;
  A.fail_from = true;
  bs_engine_run(e, BS_RUN_UNTIL_DONE);
  A.fail_at = 0;
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1, "continuation ran %zu times",
               bst_reply_count);
  cr_assert_eq(bst_replies[0].status, BS_ENOMEM, "status %s",
               bs_errname(bst_replies[0].status));
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, the_hook_may_send_messages, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  bst_dl_forward = get(e, &bst_counter_type, "dead-letter-office");
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_send0(c, &bst_bogus_method), 0);
  bst_run(e);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(bst_dl_forward, &v, 0), 0);
  cr_assert_eq(v, 5);
  memset(&bst_dl_forward, 0, sizeof bst_dl_forward);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_letters, 5);
  cr_assert_eq(s.delivered, 5 + 2); /* forwarded adds, the get and its reply */
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, counted_without_a_hook, .timeout = 10) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.allocator = bst_allocator(&A);
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_send0(c, &bst_bogus_method), 0);
  cr_assert_eq(bst_send_text(c, &bst_counter_methods[BST_COUNTER_ADD], "x"), 0);
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNKNOWN_METHOD], 1);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNDECODABLE], 1);
  cr_assert_eq(bst_dl_count, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(dead_letters, a_mixed_workload_loses_nothing, .timeout = 20) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 5, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  bs_ref f = get(e, &bst_failinit_type, "f");
  bs_ref p = get(e, &bst_pinger_type, "p");
  get(e, &bst_counter_type, "c2"); /* asked by p; never stopped */
  for (int round = 0; round < 50; round++) {
    cr_assert_eq(bst_add(c, 1), 0);
    cr_assert_eq(bst_send0(c, &bst_bogus_method), 0);
    cr_assert_eq(bst_send_text(c, &bst_counter_methods[BST_COUNTER_ADD], "x"), 0);
    cr_assert_eq(bst_send0(f, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
    cr_assert_eq(bst_send_text_text_u64(p, &bst_pinger_methods[BST_PINGER_ASK],
                                        "Counter", "c2", 2),
                 0);
    cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                  bst_main_cont, NULL),
                 0);
    if (round % 10 == 9) {
      cr_assert_eq(bs_stop(&c), 0);
      cr_assert_eq(bst_add(c, 1000), 0); /* behind the pill */
    }
    bs_engine_run(e, BS_RUN_NOWAIT);
  }
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNKNOWN_METHOD], 50);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNDECODABLE], 50);
  cr_assert_eq(s.dead_by_reason[BS_DL_INIT_FAILED], 50);
  cr_assert_eq(s.dead_by_reason[BS_DL_STOPPED], 5);
  cr_assert_eq(bst_g.counter_adds, 50);
  cr_assert_eq(s.requests_pending, 0);
  cr_assert_eq(bst_reply_count, 100); /* 50 from main, 50 to the pinger */
  for (size_t i = 0; i < bst_reply_count; i++)
    cr_assert_eq(bst_replies[i].status, 0);
  assert_hook_matches_stats(e);
  bst_engine_free_checked(e, &A);
}
