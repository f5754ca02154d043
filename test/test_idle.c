/* Idle collection: actors with no mail for idle_timeout_ms are deactivated
 * (deinit runs) and their cells freed; the next message activates them
 * again. Driven by the virtual clock, so every time here is exact. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"
#include "backstage/testkit.h"

static bst_alloc A;

static bs_engine *engine(uint64_t idle_ms, uint32_t shards) {
  bst_reset();
  bs_engine_options o = bst_options(&A);
  o.virtual_time = true;
  o.idle_timeout_ms = idle_ms;
  o.shards = shards;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

static bs_ref counter(bs_engine *e, const char *id) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), 0);
  return r;
}

static void activate_n(bs_engine *e, const char *prefix, int n) {
  char id[32];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s%d", prefix, i);
    cr_assert_eq(bst_add(counter(e, id), 1), 0);
  }
  cr_assert_geq(bs_test_run(e, 0), n);
}

static void idle_actors_are_collected(uint32_t shards) {
  bs_engine *e = engine(1000, shards);
  activate_n(e, "c", 50);
  cr_assert_eq(bst_stats(e).active, 50);
  cr_assert_eq(bs_test_advance(e, 999), 0);
  cr_assert_eq(bst_stats(e).active, 50, "collected before the timeout");
  cr_assert_eq(bs_test_advance(e, 300), 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.actors, 0, "cells freed");
  cr_assert_eq(s.idle_deactivations, 50);
  cr_assert_eq(s.collected, 50);
  cr_assert_eq(bst_g.counter_deinits, 50);
  /* The next message activates a fresh instance. */
  bs_ref c3 = counter(e, "c3");
  cr_assert_eq(bst_add(c3, 5), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c3, &v, 0), 0);
  cr_assert_eq(v, 5, "the old state is gone");
  cr_assert(bs_ref_active(&c3));
  cr_assert_eq(bst_g.counter_inits, 51);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 51);
}

Test(idle, actors_idle_past_the_timeout_are_deactivated_and_freed, .timeout = 20) {
  idle_actors_are_collected(1);
}

Test(idle, collection_works_on_every_shard, .timeout = 20) {
  idle_actors_are_collected(3);
}

Test(idle, mail_keeps_an_actor_alive, .timeout = 20) {
  bs_engine *e = engine(1000, 1);
  bs_ref busy = counter(e, "busy"), lazy = counter(e, "lazy");
  cr_assert_eq(bst_add(busy, 1), 0);
  cr_assert_eq(bst_add(lazy, 1), 0);
  for (int t = 0; t < 10; t++) {
    cr_assert_eq(bs_test_advance(e, 500), 0);
    cr_assert_eq(bst_add(busy, 1), 0);
    bs_test_run(e, 0);
  }
  cr_assert(bs_ref_active(&busy), "an actor with mail every 500 ms was collected");
  cr_assert_not(bs_ref_active(&lazy));
  cr_assert_eq(bst_g.counter_inits, 2);
  cr_assert_eq(bst_g.counter_deinits, 1);
  bst_engine_free_checked(e, &A);
}

Test(idle, a_type_policy_sets_its_own_timeout_or_opts_out, .timeout = 20) {
  bs_engine *e = engine(0, 1); /* the engine never collects */
  bs_type_policy p;
  memset(&p, 0, sizeof p);
  p.idle_timeout_ms = 200;
  cr_assert_eq(bs_engine_set_type_policy(e, &bst_counter_type, &p), 0);
  p.idle_timeout_ms = BS_IDLE_NEVER;
  cr_assert_eq(bs_engine_set_type_policy(e, &bst_pinger_type, &p), 0);
  bs_ref c = counter(e, "c"), pinger;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &pinger), 0);
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bst_send0(pinger, &bst_pinger_methods[BST_PINGER_VALUE]), 0);
  bs_test_run(e, 0);
  cr_assert_eq(bs_test_advance(e, 10000), 0);
  cr_assert_not(bs_ref_active(&c));
  cr_assert(bs_ref_active(&pinger), "BS_IDLE_NEVER was collected");
  cr_assert_eq(bst_stats(e).idle_deactivations, 1);
  bst_engine_free_checked(e, &A);
}

Test(idle, an_actor_waiting_for_a_reply_is_not_idle, .timeout = 20) {
  bs_engine *e = engine(100, 1);
  bs_probe *probe;
  cr_assert_eq(bs_probe_new(e, &bst_counter_type, "silent", &probe), 0);
  bs_ref pinger;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "asker", &pinger), 0);
  /* asker asks Counter "silent".get(): the probe holds the request */
  cr_assert_eq(bst_send_text_text_u64(pinger, &bst_pinger_methods[BST_PINGER_ASK], "Counter",
                                      "silent", bst_counter_methods[BST_COUNTER_GET].id),
               0);
  bs_test_run(e, 0);
  cr_assert_eq(bs_test_advance(e, 1000), 0);
  cr_assert(bs_ref_active(&pinger), "collected while its request was pending");
  bs_probed got;
  cr_assert_eq(bs_probe_next(probe, &got), 1); /* answers BS_ENOTFOUND */
  bs_test_run(e, 0);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_ENOTFOUND);
  cr_assert_eq(bs_test_advance(e, 1000), 0);
  cr_assert_not(bs_ref_active(&pinger), "idle once answered");
  bs_probe_free(probe);
  bst_engine_free_checked(e, &A);
}

Test(idle, deinit_runs_at_collection_and_may_send, .timeout = 20) {
  bs_engine *e = engine(100, 2);
  bst_g.pinger_deinit_notify = "notes";
  bs_ref pinger, notes = counter(e, "notes");
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "p", &pinger), 0);
  cr_assert_eq(bst_send0(pinger, &bst_pinger_methods[BST_PINGER_VALUE]), 0);
  bs_test_run(e, 0);
  cr_assert_eq(bs_test_advance(e, 130), 0);
  cr_assert_eq(bst_g.pinger_deinits, 1);
  cr_assert_eq(bst_g.pinger_deinit_send_rc, 0);
  cr_assert_eq(bst_g.counter_adds, 1, "deinit's message was delivered");
  (void)notes;
  bst_engine_free_checked(e, &A);
}

/* Ids that come and go leave nothing behind: after collection the engine
 * holds what it held before them - the cells, the registry's growth and the
 * shard's cache of freed cell blocks all given back. A hundred thousand
 * here, in batches, as a service would see them (with a million: baseline
 * 197,032 bytes, peak 291 MB, after 197,032, on 1 shard and on 2). */
static void memory_returns_after_collection(uint32_t shards) {
  bs_engine *e = engine(1000, shards);
  char id[32];
  /* Warm-up: pools and tables at their working size. */
  for (int b = 0; b < 4; b++) {
    for (int i = 0; i < 1000; i++) {
      snprintf(id, sizeof id, "warm-%d-%d", b, i);
      cr_assert_eq(bst_add(counter(e, id), 1), 0);
    }
    bs_test_run(e, 0);
  }
  cr_assert_eq(bs_test_advance(e, 2000), 0);
  cr_assert_eq(bst_stats(e).actors, 0);
  uint64_t baseline = bst_stats(e).bytes_live;
  for (int b = 0; b < 100; b++) {
    for (int i = 0; i < 1000; i++) {
      snprintf(id, sizeof id, "user-%d", b * 1000 + i);
      cr_assert_eq(bst_add(counter(e, id), 1), 0);
    }
    bs_test_run(e, 0);
  }
  bs_engine_stats mid = bst_stats(e);
  cr_assert_eq(mid.actors, 100000);
  cr_assert_gt(mid.bytes_live, baseline + 100000 * 64, "the actors took memory");
  cr_assert_eq(bs_test_advance(e, 2000), 0);
  bs_engine_stats after = bst_stats(e);
  cr_assert_eq(after.actors, 0);
  cr_assert_eq(after.idle_deactivations, 104000);
  double grew = (double)after.bytes_live - (double)baseline;
  cr_log_info("shards %u: baseline %llu bytes, peak %llu, after %llu", shards,
              (unsigned long long)baseline, (unsigned long long)mid.bytes_live,
              (unsigned long long)after.bytes_live);
  cr_assert(grew <= 0.01 * (double)baseline, "bytes_live %llu vs baseline %llu",
            (unsigned long long)after.bytes_live, (unsigned long long)baseline);
  bst_engine_free_checked(e, &A);
}

Test(idle, memory_returns_to_baseline_after_100k_ids_are_collected, .timeout = 60) {
  memory_returns_after_collection(1);
}

Test(idle, memory_returns_to_baseline_on_two_shards_too, .timeout = 60) {
  memory_returns_after_collection(2);
}
