/* Steady state: after warm-up, messages cost no allocation at all.
 *
 * Measured with the counting allocator (every allocation and resize the
 * engine makes goes through it). The numbers are logged with cr_log_info;
 * run with --verbose to see them. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "bst.h"

static bst_alloc A;

#define BATCH 1000
#define TOTAL 1000000

Test(steady_state, a_million_sends_through_one_actor_allocate_nothing,
     .timeout = 120) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "hot", &c), 0);
  /* Warm-up: one batch of the same shape fills the pools. */
  for (int i = 0; i < BATCH; i++) cr_assert_eq(bst_add(c, 1), 0);
  bst_run(e);
  uint64_t allocs0 = A.attempts, frees0 = A.frees;
  size_t live0 = A.bytes_live;
  uint64_t sent = BATCH;
  while (sent < TOTAL) {
    for (int i = 0; i < BATCH; i++) {
      int rc = bst_add(c, 1);
      if (rc != 0) cr_assert_eq(rc, 0, "send %llu", (unsigned long long)sent);
    }
    sent += BATCH;
    bst_run(e);
  }
  uint64_t allocs = A.attempts - allocs0, frees = A.frees - frees0;
  cr_log_info("steady state: %llu allocations and %llu frees over %d messages "
              "after a %d-message warm-up (%.6f allocations per message); "
              "%zu bytes live, %zu peak",
              (unsigned long long)allocs, (unsigned long long)frees,
              TOTAL - BATCH, BATCH, (double)allocs / (TOTAL - BATCH),
              A.bytes_live, A.bytes_peak);
  cr_assert_eq(bst_g.counter_adds, TOTAL);
  cr_assert_eq(allocs, 0, "%llu allocations after warm-up",
               (unsigned long long)allocs);
  cr_assert_eq(frees, 0, "%llu frees after warm-up", (unsigned long long)frees);
  cr_assert_eq(A.bytes_live, live0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, TOTAL);
  cr_assert_eq(s.delivered, TOTAL);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, TOTAL);
  bst_engine_free_checked(e, &A);
}

Test(steady_state, requests_between_actors_allocate_nothing_after_warm_up,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p, c;
  cr_assert_eq(bs_actor_get(e, &bst_pinger_type, "pinger", &p), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  const bs_method *ask = &bst_pinger_methods[BST_PINGER_ASK];
  for (int i = 0; i < 100; i++)
    cr_assert_eq(bst_send_text_text_u64(p, ask, "Counter", "c", 2), 0);
  bst_run(e);
  uint64_t allocs0 = A.attempts;
  for (int round = 0; round < 100; round++) {
    for (int i = 0; i < 100; i++)
      cr_assert_eq(bst_send_text_text_u64(p, ask, "Counter", "c", 2), 0);
    bst_run(e);
  }
  uint64_t allocs = A.attempts - allocs0;
  cr_log_info("steady state: %llu allocations over 10000 requests from an "
              "actor (ask + request + reply each)",
              (unsigned long long)allocs);
  cr_assert_eq(bst_g.pinger_request_rc, 0);
  cr_assert_eq(allocs, 0, "%llu allocations after warm-up",
               (unsigned long long)allocs);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, 3 * 10100);
  cr_assert_eq(s.delivered, 3 * 10100);
  bst_engine_free_checked(e, &A);
}

Test(steady_state, awaits_from_main_allocate_nothing_after_warm_up,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  int64_t v = 0;
  for (int i = 0; i < 10; i++) cr_assert_eq(bst_get_await(c, &v, 0), 0);
  uint64_t allocs0 = A.attempts;
  for (int i = 0; i < 10000; i++) {
    int rc = bst_add(c, 1);
    if (rc == 0) rc = bst_get_await(c, &v, 0);
    if (rc != 0) cr_assert_eq(rc, 0);
  }
  cr_assert_eq(v, 10000);
  uint64_t allocs = A.attempts - allocs0;
  cr_log_info("steady state: %llu allocations over 10000 send+await pairs",
              (unsigned long long)allocs);
  cr_assert_eq(allocs, 0, "%llu allocations after warm-up",
               (unsigned long long)allocs);
  bst_engine_free_checked(e, &A);
}

/* A stream with more subscribers than a publish keeps on its stack: their
 * cells go into an array the shard keeps, not one allocated per element. */
Test(steady_state, publishing_to_a_hundred_subscribers_allocates_nothing,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "ticks", &s), 0);
  char id[16];
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "sub-%d", i);
    cr_assert_eq(bs_stream_add_subscriber(s.s, &bst_counter_type, id,
                                          &bst_counter_methods[BST_COUNTER_ADD]),
                 0);
  }
  for (int i = 0; i < 10; i++) cr_assert_eq(bs_stream_next(s, 1), 100);
  bst_run(e);
  uint64_t allocs0 = A.attempts;
  for (int b = 0; b < 100; b++) {
    for (int i = 0; i < 10; i++) {
      int rc = bs_stream_next(s, 1);
      if (rc != 100) cr_assert_eq(rc, 100);
    }
    bst_run(e);
  }
  uint64_t allocs = A.attempts - allocs0;
  cr_assert_eq(allocs, 0, "%llu allocations for 1000 elements", (unsigned long long)allocs);
  cr_assert_eq(bst_g.counter_adds, 1010 * 100);
  bst_engine_free_checked(e, &A);
}
