/* Registry: get-or-create by id, id validation, type checks, descriptors,
 * lazy activation and the actor's context. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

static bst_alloc A;

Test(registry, same_id_returns_the_same_cell, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r1, r2;
  memset(&r1, 0, sizeof r1);
  memset(&r2, 0xab, sizeof r2);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r1), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r2), 0);
  cr_assert_not_null(r1.cell);
  cr_assert_eq(r1.cell, r2.cell);
  cr_assert_eq(r1.engine, e);
  cr_assert_eq(r2.engine, e);
  cr_assert_eq(bst_stats(e).actors, 1);
  bst_engine_free_checked(e, &A);
}

Test(registry, different_ids_get_different_cells, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref a, b, c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "a", &a), 0);
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "b", &b), 0);
  /* Same id as "a" but another type would be ETYPE; different id, other
   * type is just another actor. */
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "c", &c), 0);
  cr_assert_neq(a.cell, b.cell);
  cr_assert_neq(a.cell, c.cell);
  cr_assert_neq(b.cell, c.cell);
  cr_assert_str_eq(bs_ref_id(a), "a");
  cr_assert_str_eq(bs_ref_id(b), "b");
  cr_assert_str_eq(bs_ref_id(c), "c");
  cr_assert_eq(bs_ref_type(a), &bst_counter_type);
  cr_assert_eq(bs_ref_type(c), &bst_recorder_type);
  cr_assert_eq(bst_stats(e).actors, 3);
  bst_engine_free_checked(e, &A);
}

#define MANY 20000

static int cmp_cells(const void *x, const void *y) {
  uintptr_t a = (uintptr_t) * (bs_cell *const *)x;
  uintptr_t b = (uintptr_t) * (bs_cell *const *)y;
  return a < b ? -1 : a > b;
}

Test(registry, twenty_thousand_ids_are_distinct_and_stable, .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref *refs = calloc(MANY, sizeof *refs);
  cr_assert_not_null(refs);
  char id[32];
  for (int i = 0; i < MANY; i++) {
    snprintf(id, sizeof id, "actor-%d", i);
    cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &refs[i]), 0, "%s", id);
  }
  cr_assert_eq(bst_stats(e).actors, MANY);
  /* Cells are distinct: sort the pointers and look for neighbours. */
  bs_cell **cells = calloc(MANY, sizeof *cells);
  cr_assert_not_null(cells);
  for (int i = 0; i < MANY; i++) cells[i] = refs[i].cell;
  qsort(cells, MANY, sizeof *cells, cmp_cells);
  for (int i = 1; i < MANY; i++)
    cr_assert_neq(cells[i - 1], cells[i], "two ids share a cell");
  /* Getting them again (in another order) returns the same cells. */
  for (int i = MANY - 1; i >= 0; i--) {
    snprintf(id, sizeof id, "actor-%d", i);
    bs_ref again;
    cr_assert_eq(bs_actor_get(e, &bst_counter_type, id, &again), 0);
    cr_assert_eq(again.cell, refs[i].cell, "%s moved", id);
    cr_assert_str_eq(bs_ref_id(refs[i]), id);
  }
  cr_assert_eq(bst_stats(e).actors, MANY);
  cr_assert_eq(bst_stats(e).active, 0);
  cr_assert_eq(bst_g.counter_inits, 0);
  free(cells);
  free(refs);
  bst_engine_free_checked(e, &A);
}

Test(registry, id_is_copied_and_interned, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  char buf[16];
  strcpy(buf, "original");
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, buf, &r), 0);
  const char *interned = bs_ref_id(r);
  cr_assert_neq((const void *)interned, (const void *)buf);
  strcpy(buf, "changed");
  cr_assert_str_eq(bs_ref_id(r), "original");
  bs_ref again;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "original", &again), 0);
  cr_assert_eq(again.cell, r.cell);
  cr_assert_eq(bs_ref_id(again), interned, "the id is interned once");
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
  cr_assert_eq(strlen(bs_ref_id(r)), (size_t)BS_ID_MAX);
  cr_assert_str_eq(bs_ref_id(r), id);
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

Test(registry, same_id_with_another_type_is_etype, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r, other;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "shared", &r), 0);
  cr_assert_eq(bs_actor_get(e, &bst_recorder_type, "shared", &other), BS_ETYPE);
  /* The original is untouched. */
  cr_assert_eq(bs_ref_type(r), &bst_counter_type);
  cr_assert_eq(bst_stats(e).actors, 1);
  cr_assert_eq(bst_add(r, 2), 0);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(r, &v, 0), 0);
  cr_assert_eq(v, 2);
  bst_engine_free_checked(e, &A);
}

Test(registry, zero_ref_accessors_are_safe, .timeout = 10) {
  bs_ref z;
  memset(&z, 0, sizeof z);
  cr_assert_null(bs_ref_id(z));
  cr_assert_eq(bs_ref_active(z), false);
  cr_assert_eq(bs_ref_pending(z), 0);
  cr_assert_eq(bs_stop(z), BS_EINVAL);
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(z, &bst_counter_methods[0], &w), BS_EINVAL);
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
  bs_actor_type t = {"Good", 16, 8, noop_init, NULL, sorted, 3, NULL};
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
  cr_assert_eq(bs_ref_active(r), false);
  /* Running an engine with no mail activates nothing either. */
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 0);
  cr_assert_eq(bs_ref_active(r), false);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.active, 0);
  cr_assert_eq(s.activations, 0);
  cr_assert_eq(s.actors, 1);
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
  cr_assert_eq(bs_ref_active(r), false);
  cr_assert_eq(bs_ref_pending(r), 1);
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
  cr_assert(bs_ref_active(r));
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
  cr_assert_eq(bst_g.probe_self.cell, r.cell);
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
  cr_assert_eq(bs_ref_pending(a), 0);
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_add(a, 1), 0);
  cr_assert_eq(bst_add(b, 1), 0);
  cr_assert_eq(bs_ref_pending(a), 5);
  cr_assert_eq(bs_ref_pending(b), 1);
  bst_run(e);
  cr_assert_eq(bs_ref_pending(a), 0);
  cr_assert_eq(bs_ref_pending(b), 0);
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
  cr_assert_eq(bs_ref_active(r), false);
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
  cr_assert(bs_ref_active(r));
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
                     aligned_methods, 1, NULL};
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
