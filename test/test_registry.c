/* Registry: get-or-create by id, id validation, type checks, descriptors,
 * lazy activation and the actor's context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

static bst_alloc A;

Test(registry, same_key_gives_equal_refs_and_creates_nothing, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r1, r2;
  memset(&r1, 0, sizeof r1);
  memset(&r2, 0xab, sizeof r2);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r1), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r2), 0);
  cr_assert(bs_ref_equal(&r1, &r2));
  cr_assert_eq(r1.engine, e);
  cr_assert_eq(r2.engine, e);
  /* A reference is a key: getting one creates nothing in the engine. */
  cr_assert_eq(bst_stats(e).actors, 0);
  cr_assert_eq(bst_add(r1, 2), 0);
  cr_assert_eq(bst_stats(e).actors, 1, "mail makes the cell");
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r2, &v, 0), 0);
  cr_assert_eq(v, 2, "both refs name one actor");
  bst_engine_free_checked(e, &A);
}

Test(registry, different_keys_are_different_actors, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref a, b, c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "a", &a), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "b", &b), 0);
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "c", &c), 0);
  cr_assert_not(bs_ref_equal(&a, &b));
  cr_assert_not(bs_ref_equal(&a, &c));
  cr_assert_not(bs_ref_equal(&b, &c));
  cr_assert_str_eq(bs_ref_id(&a), "a");
  cr_assert_str_eq(bs_ref_id(&b), "b");
  cr_assert_str_eq(bs_ref_id(&c), "c");
  cr_assert_eq(bs_ref_type(&a), &bst_counter_type);
  cr_assert_eq(bs_ref_type(&c), &bst_recorder_type);
  cr_assert_eq(bst_add(a, 1), 0);
  cr_assert_eq(bst_add(b, 5), 0);
  int64_t va = 0, vb = 0;
  cr_assert_eq(bst_get_await(a, &va, 0), 0);
  cr_assert_eq(bst_get_await(b, &vb, 0), 0);
  cr_assert_eq(va, 1);
  cr_assert_eq(vb, 5);
  cr_assert_eq(bst_stats(e).actors, 2);
  bst_engine_free_checked(e, &A);
}

#define MANY 20000

Test(registry, twenty_thousand_actors_are_distinct_and_collected, .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref *refs = calloc(MANY, sizeof *refs);
  cr_assert_not_null(refs);
  char id[32];
  for (int i = 0; i < MANY; i++) {
    snprintf(id, sizeof id, "actor-%d", i);
    cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &refs[i]), 0, "%s", id);
    cr_assert_eq(bst_add(refs[i], i), 0);
  }
  bst_run(e);
  cr_assert_eq(bst_stats(e).actors, MANY);
  cr_assert_eq(bst_stats(e).active, MANY);
  /* Each key has its own state: the registry never mixes two up, also
   * while it grows (asked in another order). */
  for (int i = MANY - 1; i >= 0; i--) {
    int64_t v = -1;
    cr_assert_eq(bst_get_await(refs[i], &v, 0), 0);
    cr_assert_eq(v, i, "actor-%d has another's state", i);
  }
  /* Stopped, every cell is collected: nothing is kept per id. */
  for (int i = 0; i < MANY; i++) cr_assert_eq(bs_stop(&refs[i]), 0);
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.actors, 0);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.collected, MANY);
  cr_assert_eq(bst_g.counter_inits, MANY);
  cr_assert_eq(bst_g.counter_deinits, MANY);
  free(refs);
  bst_engine_free_checked(e, &A);
}

Test(registry, ref_carries_a_copy_of_the_id, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  char buf[16];
  strcpy(buf, "original");
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, buf, &r), 0);
  cr_assert_neq((const void *)bs_ref_id(&r), (const void *)buf);
  strcpy(buf, "changed");
  cr_assert_str_eq(bs_ref_id(&r), "original");
  bs_ref again;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "original", &again), 0);
  cr_assert(bs_ref_equal(&again, &r));
  /* A copy of a ref is the same actor, with its own copy of the id. */
  bs_ref copy = r;
  memset(&r, 0, sizeof r);
  cr_assert_str_eq(bs_ref_id(&copy), "original");
  cr_assert(bs_ref_equal(&copy, &again));
  bst_engine_free_checked(e, &A);
}

Test(registry, empty_id_is_eidlen, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "", &r), BS_EIDLEN);
  cr_assert_eq(bst_stats(e).actors, 0);
  bst_engine_free_checked(e, &A);
}

Test(registry, id_of_exactly_id_max_bytes_is_accepted, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  char id[BS_ID_MAX + 1];
  memset(id, 'x', BS_ID_MAX);
  id[BS_ID_MAX] = 0;
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), 0);
  cr_assert_eq(strlen(bs_ref_id(&r)), (size_t)BS_ID_MAX);
  cr_assert_str_eq(bs_ref_id(&r), id);
  /* And it works end to end. */
  cr_assert_eq(bst_add(r, 3), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 3);
  bst_engine_free_checked(e, &A);
}

Test(registry, id_longer_than_id_max_is_eidlen, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  char id[BS_ID_MAX + 2];
  memset(id, 'y', BS_ID_MAX + 1);
  id[BS_ID_MAX + 1] = 0;
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &r), BS_EIDLEN);
  /* Much longer too (no reading past a bound, no truncation). */
  char *huge = malloc(100000);
  memset(huge, 'z', 99999);
  huge[99999] = 0;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, huge, &r), BS_EIDLEN);
  free(huge);
  cr_assert_eq(bst_stats(e).actors, 0);
  bst_engine_free_checked(e, &A);
}

Test(registry, null_arguments_are_einval, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(NULL, &bst_counter_type, "x", &r), BS_EINVAL);
  cr_assert_eq(bs_actor_get(e, NULL, "x", &r), BS_EINVAL);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, NULL, &r), BS_EINVAL);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "x", NULL), BS_EINVAL);
  cr_assert_eq(bst_stats(e).actors, 0);
  bst_engine_free_checked(e, &A);
}

Test(registry, same_id_with_another_type_is_another_actor, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r, other;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "shared", &r), 0);
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "shared", &other), 0);
  cr_assert_not(bs_ref_equal(&r, &other));
  cr_assert_eq(bs_ref_type(&r), &bst_counter_type);
  cr_assert_eq(bs_ref_type(&other), &bst_recorder_type);
  cr_assert_eq(bst_add(r, 2), 0);
  cr_assert_eq(bst_send_i64(other, &bst_recorder_methods[BST_RECORDER_NOTE], 7), 0);
  bst_run(e);
  cr_assert_eq(bst_stats(e).actors, 2);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 2);
  cr_assert_eq(bst_trace_len, 1);
  cr_assert_eq(bst_trace[0].kind, BST_EV_NOTE);
  cr_assert_eq(bst_trace[0].v, 7);
  bst_engine_free_checked(e, &A);
}

Test(registry, zero_ref_accessors_are_safe, .timeout = 10) {
  bs_ref z;
  memset(&z, 0, sizeof z);
  cr_assert_null(bs_ref_id(&z));
  cr_assert_eq(bs_ref_active(&z), false);
  cr_assert_eq(bs_ref_pending(&z), 0);
  cr_assert_eq(bs_stop(&z), BS_EINVAL);
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&z, &bst_counter_methods[0], &w), BS_EINVAL);
}

/* ---- Descriptor checks ---------------------------------------------------- */

static int noop_invoke(void *self, bs_call *call) {
  (void)self;
  call->result = 0;
  return 0;
}

static int noop_init(void *self, bs_context *ctx) {
  (void)self;
  (void)ctx;
  return 0;
}

static const bs_method sorted[] = {
    {"a", 1, 0, noop_invoke}, {"b", 5, 0, noop_invoke}, {"c", 9, 0, noop_invoke}};
static const bs_method unsorted[] = {
    {"a", 5, 0, noop_invoke}, {"b", 1, 0, noop_invoke}, {"c", 9, 0, noop_invoke}};
static const bs_method duplicate[] = {
    {"a", 1, 0, noop_invoke}, {"b", 5, 0, noop_invoke}, {"c", 5, 0, noop_invoke}};
static const bs_method unnamed[] = {{NULL, 1, 0, noop_invoke}};
static const bs_method no_thunk[] = {{"a", 1, 0, NULL}};

static bs_actor_type good_type(void) {
  bs_actor_type t = {"Good", 16, 8, noop_init, NULL, sorted, 3, NULL, NULL, NULL};
  return t;
}

Test(registry, type_check_accepts_the_hand_written_types, .timeout = 10) {
  const bs_actor_type *all[] = {&bst_counter_type, &bst_recorder_type,
                                &bst_echo_type,    &bst_failinit_type,
                                &bst_seq_type,     &bst_probe_type,
                                &bst_pinger_type};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    cr_assert_eq(bs_actor_type_check(all[i]), 0, "%s", all[i]->name);
  bs_actor_type t = good_type();
  cr_assert_eq(bs_actor_type_check(&t), 0);
  t.state_align = 0; /* 0 means max_align_t */
  cr_assert_eq(bs_actor_type_check(&t), 0);
  t.deinit = NULL; /* may be NULL */
  t.encode_state = NULL;
  cr_assert_eq(bs_actor_type_check(&t), 0);
}

Test(registry, type_check_rejects_null_and_missing_name, .timeout = 10) {
  cr_assert_eq(bs_actor_type_check(NULL), BS_EINVAL);
  bs_actor_type t = good_type();
  t.name = NULL;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, type_check_rejects_unsorted_method_ids, .timeout = 10) {
  bs_actor_type t = good_type();
  t.methods = unsorted;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, type_check_rejects_duplicate_method_ids, .timeout = 10) {
  bs_actor_type t = good_type();
  t.methods = duplicate;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, type_check_rejects_zero_state_size, .timeout = 10) {
  bs_actor_type t = good_type();
  t.state_size = 0;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, type_check_rejects_non_power_of_two_alignment, .timeout = 10) {
  bs_actor_type t = good_type();
  t.state_align = 3;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
  t.state_align = 24;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, type_check_rejects_methods_without_name_or_thunk, .timeout = 10) {
  bs_actor_type t = good_type();
  t.methods = unnamed;
  t.method_count = 1;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
  t.methods = no_thunk;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
  t.methods = NULL; /* a count with no table */
  t.method_count = 2;
  cr_assert_eq(bs_actor_type_check(&t), BS_EINVAL);
}

Test(registry, get_with_a_bad_descriptor_is_einval_and_creates_nothing,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_actor_type t = good_type();
  t.methods = unsorted;
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &t, "bad", &r), BS_EINVAL);
  t.methods = duplicate;
  cr_assert_eq(bs_actor_get(e, &t, "bad2", &r), BS_EINVAL);
  cr_assert_eq(bst_stats(e).actors, 0);
  bst_engine_free_checked(e, &A);
}

/* ---- Lazy activation ------------------------------------------------------- */

Test(registry, get_does_not_run_init, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "lazy", &r), 0);
  cr_assert_eq(bst_g.counter_inits, 0);
  cr_assert_eq(bs_ref_active(&r), false);
  /* Running an engine with no mail activates nothing either. */
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 0);
  cr_assert_eq(bs_ref_active(&r), false);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.activations, 0);
  cr_assert_eq(s.actors, 0);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 0, "deinit of a never-active actor");
}

Test(registry, sending_does_not_run_init_before_dispatch, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "lazy", &r), 0);
  cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_eq(bst_g.counter_inits, 0, "init ran inside the send");
  cr_assert_eq(bs_ref_active(&r), false);
  cr_assert_eq(bs_ref_pending(&r), 1);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_inits, 0);
}

Test(registry, init_runs_exactly_once_at_first_dispatch, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "once", &r), 0);
  for (int i = 0; i < 3; i++) cr_assert_eq(bst_add(r, 1), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 1);
  cr_assert_eq(bst_g.counter_dirty_inits, 0, "state was not zeroed");
  cr_assert_eq(bst_g.counter_adds, 3);
  cr_assert(bs_ref_active(&r));
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_add(r, 1), 0);
  bst_run(e);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 8);
  cr_assert_eq(bst_g.counter_inits, 1);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.activations, 1);
  cr_assert_eq(s.active, 1);
  cr_assert_eq(s.init_failures, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.counter_deinits, 1);
}

Test(registry, context_gives_id_engine_and_self, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_probe_type, "probe-7", &r), 0);
  cr_assert_eq(bst_send0(r, &bst_probe_methods[BST_PROBE_WHOAMI]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.probe_calls, 1);
  cr_assert_str_eq(bst_g.probe_id, "probe-7");
  cr_assert_eq(bst_g.probe_engine, e);
  cr_assert(bs_ref_equal(&bst_g.probe_self, &r));
  cr_assert_eq(bst_g.probe_self.engine, e);
  cr_assert_eq(bst_g.probe_in_turn, true);
  cr_assert_eq(bs_in_turn(e), false, "in_turn outside a turn");
  bst_engine_free_checked(e, &A);
}

Test(registry, pending_counts_queued_messages, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref a, b;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "a", &a), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "b", &b), 0);
  cr_assert_eq(bs_ref_pending(&a), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_add(a, 1), 0);
  cr_assert_eq(bst_add(b, 1), 0);
  cr_assert_eq(bs_ref_pending(&a), 5);
  cr_assert_eq(bs_ref_pending(&b), 1);
  bst_run(e);
  cr_assert_eq(bs_ref_pending(&a), 0);
  cr_assert_eq(bs_ref_pending(&b), 0);
  bst_engine_free_checked(e, &A);
}

Test(registry, failing_init_leaves_the_actor_inactive_without_deinit,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_failinit_type, "broken", &r), 0);
  cr_assert_eq(bst_send0(r, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.failinit_inits, 1);
  cr_assert_eq(bst_g.failinit_method_calls, 0, "method ran without init");
  cr_assert_eq(bst_g.failinit_deinits, 0, "deinit after a failed init");
  cr_assert_eq(bs_ref_active(&r), false);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.init_failures, 1);
  cr_assert_eq(s.activations, 0);
  cr_assert_eq(s.active, 0);
  /* The next message tries init again (docs/actors.md). */
  cr_assert_eq(bst_send0(r, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.failinit_inits, 2);
  cr_assert_eq(bst_stats(e).init_failures, 2);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.failinit_deinits, 0);
}

Test(registry, init_can_recover_on_a_later_message, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_failinit_type, "flaky", &r), 0);
  cr_assert_eq(bst_send0(r, &bst_failinit_methods[BST_FAILINIT_PING]), 0);
  bst_run(e);
  cr_assert_eq(bst_g.failinit_method_calls, 0);
  bst_g.failinit_code = 0; /* init succeeds from now on */
  int64_t v = 0;
  cr_assert_eq(bst_await0_i64(r, &bst_failinit_methods[BST_FAILINIT_PING], &v,
                              0),
               0);
  cr_assert_eq(v, 1);
  cr_assert_eq(bst_g.failinit_method_calls, 1);
  cr_assert(bs_ref_active(&r));
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_g.failinit_deinits, 1);
}

/* ---- State allocation: size and alignment from the descriptor ------------- */

static uintptr_t aligned_self;
static size_t aligned_nonzero;

static int aligned_init(void *self, bs_context *ctx) {
  (void)ctx;
  aligned_self = (uintptr_t)self;
  const uint8_t *b = self;
  for (size_t i = 0; i < 1000; i++) aligned_nonzero += b[i] != 0;
  memset(self, 0xee, 1000); /* the whole state is ours to write */
  return 0;
}

static const bs_method aligned_methods[] = {{"noop", 1, 0, noop_invoke}};

static void check_alignment(size_t align) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_actor_type t = {"Aligned", 1000, align, aligned_init, NULL,
                     aligned_methods, 1, NULL, NULL, NULL};
  aligned_self = 1;
  aligned_nonzero = 0;
  bs_ref r;
  /* Several actors, so one lucky allocation cannot pass by chance. */
  for (int i = 0; i < 8; i++) {
    char id[8];
    snprintf(id, sizeof id, "a%d", i);
    cr_assert_eq(bs_actor_get(e, &t, id, &r), 0);
    cr_assert_eq(bst_send0(r, &aligned_methods[0]), 0);
    bst_run(e);
    size_t want = align ? align : _Alignof(max_align_t);
    cr_assert_eq(aligned_self % want, 0, "state %p not aligned to %zu",
                 (void *)aligned_self, want);
  }
  cr_assert_eq(aligned_nonzero, 0, "state not zeroed");
  bst_engine_free_checked(e, &A);
}

Test(registry, state_honours_the_descriptors_alignment, .timeout = 10) {
  check_alignment(0);
  check_alignment(1);
  check_alignment(8);
  check_alignment(64);
  check_alignment(256);
}
