/* Request/reply: await from outside, continuations on the caller's turn,
 * errors instead of hangs, call cycles, orphaned replies, deadlines. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "bst.h"

static bst_alloc A;

static bs_ref get(bs_engine *e, const bs_actor_type *t, const char *id) {
  bs_ref r;
  int rc = bs_actor_get(e, t, id, &r);
  cr_assert_eq(rc, 0, "bs_actor_get(%s) = %s", id, bs_errname(rc));
  return r;
}

static int ask(bs_ref pinger, const char *type, const char *id, uint32_t mid) {
  return bst_send_text_text_u64(pinger, &bst_pinger_methods[BST_PINGER_ASK],
                                type, id, mid);
}

/* ---- Await -------------------------------------------------------------------- */

Test(reply, await_from_main_gets_the_value, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 40), 0);
  cr_assert_eq(bst_add(c, 2), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 42);
  /* The mail queued before the request ran first (FIFO), without a run. */
  cr_assert_eq(bst_g.counter_adds, 2);
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_with_a_timeout_gets_the_value_when_in_time, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 7), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 10000), 0);
  cr_assert_eq(v, 7);
  bst_run(e); /* the timeout's timer must not linger */
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_returns_etimedout_when_the_callee_is_busy_past_the_deadline,
     .timeout = 20) {
  bst_reset();
  /* One message per loop iteration: the spin runs in one iteration, the
   * request cannot be served before the next, whose timers phase finds
   * the await's deadline long gone. */
  bs_engine *e = bst_engine(&A, 1, 1);
  bs_ref c = get(e, &bst_counter_type, "slow");
  cr_assert_eq(bst_send_u64(c, &bst_counter_methods[BST_COUNTER_SPIN], 300), 0);
  int64_t v = -1;
  int rc = bst_get_await(c, &v, 20);
  cr_assert_eq(rc, BS_ETIMEDOUT, "await returned %d (%s)", rc, bs_errname(rc));
  cr_assert_eq(v, -1, "the out value was written on timeout");
  cr_assert_eq(bst_g.spins, 1);
  /* The late reply is an orphan, nothing else. */
  bst_run(e);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_ORPHAN_REPLY], 1);
  cr_assert_eq(bst_dl_by_reason[BS_DL_ORPHAN_REPLY], 1);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  /* The engine is still fine: a normal await works. */
  cr_assert_eq(bst_add(c, 3), 0);
  cr_assert_eq(bst_get_await(c, &v, 10000), 0);
  cr_assert_eq(v, 3);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_of_a_dead_lettered_request_returns_its_error_not_a_hang,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  int64_t v = -1;
  int rc = bst_await0_i64(c, &bst_bogus_method, &v, 0);
  cr_assert_eq(rc, BS_ENOMETHOD, "await returned %s", bs_errname(rc));
  rc = bst_await0_i64(c, &bst_bogus_method, &v, 5000);
  cr_assert_eq(rc, BS_ENOMETHOD, "await returned %s", bs_errname(rc));
  cr_assert_eq(v, -1);
  cr_assert_eq(bst_g.bogus_invokes, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_of_a_stopped_callee_returns_estopped, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  int64_t v = -1;
  int rc = bst_get_await(c, &v, 0);
  cr_assert_eq(rc, BS_ESTOPPED, "await returned %s", bs_errname(rc));
  cr_assert_eq(bst_g.counter_deinits, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_of_an_actor_whose_init_fails_returns_einit, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bst_g.failinit_code = BS_ENOTFOUND; /* any failure maps to EINIT */
  bs_ref f = get(e, &bst_failinit_type, "f");
  int64_t v = -1;
  int rc = bst_await0_i64(f, &bst_failinit_methods[BST_FAILINIT_PING], &v, 0);
  cr_assert_eq(rc, BS_EINIT, "await returned %s", bs_errname(rc));
  cr_assert_eq(bst_g.failinit_method_calls, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, await_inside_a_turn_is_edeadlk_and_sends_nothing, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_probe_type, "probe");
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_send_text(p, &bst_probe_methods[BST_PROBE_AWAIT_INSIDE], "c"),
               0);
  bst_run(e);
  cr_assert_eq(bst_g.probe_calls, 1);
  cr_assert_eq(bst_g.probe_await_rc, BS_EDEADLK, "await in a turn returned %d",
               bst_g.probe_await_rc);
  cr_assert_eq(bst_g.probe_sent_after_await, bst_g.probe_sent_before_await,
               "the refused await still sent its request");
  cr_assert_eq(bst_g.counter_inits, 0, "the callee was reached");
  cr_assert_eq(bs_ref_pending(&c), 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  cr_assert_eq(s.sent, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

typedef struct awaiter {
  uv_timer_t timer;
  bs_ref target;
  int rc;
  int64_t v;
} awaiter;

static void await_from_timer(uv_timer_t *t) {
  awaiter *a = (awaiter *)t;
  a->rc = bst_get_await(a->target, &a->v, 1000);
  uv_close((uv_handle_t *)t, NULL);
}

/* A libuv callback is outside any actor turn but inside the running loop:
 * awaiting there would re-enter uv_run. It must fail, not recurse or hang. */
Test(reply, await_from_a_loop_callback_fails_instead_of_reentering,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  awaiter a;
  memset(&a, 0, sizeof a);
  a.rc = 1000;
  a.v = -1;
  a.target = get(e, &bst_counter_type, "c");
  cr_assert_eq(uv_timer_init(bs_engine_loop(e), &a.timer), 0);
  cr_assert_eq(uv_timer_start(&a.timer, await_from_timer, 0, 0), 0);
  bst_run(e);
  cr_assert(a.rc == BS_EDEADLK || a.rc == BS_EBUSY, "await returned %d (%s)",
            a.rc, bs_errname(a.rc));
  cr_assert_eq(a.v, -1);
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

/* An await loop from main drains the engine itself while it has mail: a
 * libuv timer and a socket on the same loop must still be served while
 * the awaits go on, as bs_engine_run serves them. */
typedef struct fairness {
  uv_timer_t timer;
  uv_pipe_t sock;
  int fd[2];
  bool timer_fired;
  bool read_done;
  char got;
} fairness;

static void fair_timer_cb(uv_timer_t *t) {
  fairness *f = t->data;
  f->timer_fired = true;
}

static void fair_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  fairness *f = h->data;
  (void)size;
  *buf = uv_buf_init(&f->got, 1);
}

static void fair_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  fairness *f = s->data;
  (void)buf;
  if (n > 0) {
    f->read_done = true;
    uv_read_stop(s);
  }
}

static void await_loop_serves_timer_and_socket(uint32_t shards) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  o.shards = shards;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  /* On 2 shards, a counter on the other one: replies come through the
   * inbox. */
  char id[32];
  bs_ref c;
  for (int i = 0;; i++) {
    snprintf(id, sizeof id, "c-%d", i);
    c = get(e, &bst_counter_type, id);
    if (bs_ref_shard(&c) == shards - 1) break;
  }
  fairness f;
  memset(&f, 0, sizeof f);
  uv_loop_t *loop = bs_engine_loop(e);
  cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, f.fd), 0);
  cr_assert_eq(uv_pipe_init(loop, &f.sock, 0), 0);
  cr_assert_eq(uv_pipe_open(&f.sock, f.fd[0]), 0);
  f.sock.data = &f;
  cr_assert_eq(uv_read_start((uv_stream_t *)&f.sock, fair_alloc_cb, fair_read_cb), 0);
  cr_assert_eq(uv_timer_init(loop, &f.timer), 0);
  f.timer.data = &f;
  cr_assert_eq(uv_timer_start(&f.timer, fair_timer_cb, 5, 0), 0);
  cr_assert_eq(write(f.fd[1], "x", 1), 1);
  /* Awaits until both fired (not a timing check: the bound only turns a
   * starved loop into a failure instead of a hang). */
  uint64_t until = uv_hrtime() + 5000000000ull, awaits = 0;
  while (!(f.timer_fired && f.read_done) && uv_hrtime() < until) {
    cr_assert_eq(bst_add(c, 1), 0);
    int64_t v = -1;
    cr_assert_eq(bst_get_await(c, &v, 0), 0);
    cr_assert_eq(v, (int64_t)++awaits);
  }
  cr_assert(f.timer_fired, "the timer did not fire during %llu awaits",
            (unsigned long long)awaits);
  cr_assert(f.read_done, "the socket was not read during %llu awaits",
            (unsigned long long)awaits);
  cr_assert_eq(f.got, 'x');
  uv_close((uv_handle_t *)&f.timer, NULL);
  uv_close((uv_handle_t *)&f.sock, NULL);
  close(f.fd[1]);
  bs_engine_run(e, BS_RUN_NOWAIT); /* the close callbacks */
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, a_long_await_loop_still_serves_a_libuv_timer_and_a_socket,
     .timeout = 20) {
  await_loop_serves_timer_and_socket(1);
}

Test(reply, a_long_await_loop_across_shards_serves_a_timer_and_a_socket,
     .timeout = 20) {
  await_loop_serves_timer_and_socket(2);
}

Test(reply, bad_arguments_to_request_calls_are_einval_and_release,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[BST_COUNTER_GET], &w), 0);
  cr_assert_eq(bs_request_end(&w, NULL, NULL, NULL), BS_EINVAL);
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[BST_COUNTER_GET], &w), 0);
  int64_t v;
  cr_assert_eq(bs_request_await(&w, NULL, &v, 0), BS_EINVAL);
  cr_assert_eq(bs_request_end(NULL, bst_reply_i64, NULL, NULL), BS_EINVAL);
  cr_assert_eq(bs_request_await(NULL, bst_reply_i64, &v, 0), BS_EINVAL);
  cr_assert_eq(bs_ref_pending(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_inits, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A); /* the released messages are not leaked */
}

/* ---- Continuations ----------------------------------------------------------- */

Test(reply, main_continuation_runs_once_from_the_loop, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 9), 0);
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, (void *)(intptr_t)5),
               0);
  cr_assert_eq(bst_reply_count, 0, "continuation ran inside the send");
  cr_assert_eq(bst_stats(e).requests_pending, 1);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, 0);
  cr_assert_eq(bst_replies[0].value, 9);
  cr_assert_eq(bst_replies[0].marker, 5);
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1, "continuation ran twice");
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, many_outstanding_requests_each_complete_once_in_order,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(bst_add(c, 1), 0);
    cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                  bst_main_cont, (void *)(intptr_t)i),
                 0);
  }
  cr_assert_eq(bst_stats(e).requests_pending, 100);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 100);
  for (int i = 0; i < 100; i++) {
    cr_assert_eq(bst_replies[i].status, 0);
    cr_assert_eq(bst_replies[i].marker, i);
    cr_assert_eq(bst_replies[i].value, i + 1);
  }
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  cr_assert_eq(s.sent, 300);
  cr_assert_eq(s.delivered, 300);
  bst_engine_free_checked(e, &A);
}

Test(reply, continuation_runs_on_the_callers_turn_with_its_state,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_pinger_type, "pinger");
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 5), 0);
  cr_assert_eq(ask(p, "Counter", "c", 2), 0);
  bst_run(e);
  cr_assert_eq(bst_g.pinger_request_rc, 0);
  cr_assert_eq(bst_reply_count, 1);
  bst_reply_rec *r = &bst_replies[0];
  cr_assert_str_eq(r->who, "pinger");
  cr_assert_eq(r->status, 0);
  cr_assert_eq(r->value, 5);
  cr_assert_eq(r->in_turn, true, "continuation ran outside a turn");
  cr_assert_eq(r->marker, 77, "continuation did not see the caller's state");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  cr_assert_eq(s.sent, 4); /* add, ask, request, reply */
  cr_assert_eq(s.delivered, 4);
  bst_engine_free_checked(e, &A);
}

Test(reply, a_call_cycle_completes_both_ways_without_deadlock, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref a = get(e, &bst_pinger_type, "a");
  get(e, &bst_pinger_type, "b");
  /* a asks b.ping_back("a"); inside that method b asks a.value(). */
  cr_assert_eq(bst_send_text(a, &bst_pinger_methods[BST_PINGER_START_CYCLE], "b"),
               0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 2);
  bool a_done = false, b_done = false;
  for (size_t i = 0; i < bst_reply_count; i++) {
    bst_reply_rec *r = &bst_replies[i];
    cr_assert_eq(r->status, 0, "%s got %d", r->who, r->status);
    cr_assert(r->in_turn);
    cr_assert_eq(r->marker, 77);
    if (strcmp(r->who, "a") == 0 && r->value == 7) a_done = true;
    if (strcmp(r->who, "b") == 0 && r->value == 42) b_done = true;
  }
  cr_assert(a_done, "a's request to b never completed");
  cr_assert(b_done, "b's request to a never completed");
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, a_thousand_concurrent_cycles_complete, .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 3, 0);
  char a_id[16], b_id[16];
  for (int i = 0; i < 100; i++) {
    snprintf(a_id, sizeof a_id, "a%d", i);
    snprintf(b_id, sizeof b_id, "b%d", i);
    bs_ref a = get(e, &bst_pinger_type, a_id);
    get(e, &bst_pinger_type, b_id);
    for (int k = 0; k < 10; k++)
      cr_assert_eq(
          bst_send_text(a, &bst_pinger_methods[BST_PINGER_START_CYCLE], b_id), 0);
  }
  bst_run(e);
  cr_assert_eq(bst_reply_count, BST_REPLY_MAX); /* recorded up to the cap */
  for (size_t i = 0; i < bst_reply_count; i++)
    cr_assert_eq(bst_replies[i].status, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  /* 1000 start_cycle + 2000 requests + 2000 replies. */
  cr_assert_eq(s.sent, 5000);
  cr_assert_eq(s.delivered, 5000);
  bst_engine_free_checked(e, &A);
}

/* ---- Requests that cannot be served -------------------------------------------- */

Test(reply, request_to_an_unknown_method_completes_with_enomethod,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_pinger_type, "pinger");
  get(e, &bst_counter_type, "c");
  cr_assert_eq(ask(p, "Counter", "c", BST_BOGUS_ID), 0);
  bst_run(e);
  cr_assert_eq(bst_g.pinger_request_rc, 0);
  cr_assert_eq(bst_g.bogus_invokes, 0);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_ENOMETHOD, "status %s",
               bs_errname(bst_replies[0].status));
  cr_assert(bst_replies[0].in_turn);
  cr_assert_eq(bst_replies[0].marker, 77);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNKNOWN_METHOD], 1);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, request_to_an_actor_whose_init_fails_completes_with_einit,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bst_g.failinit_code = BS_ENOTFOUND;
  bs_ref p = get(e, &bst_pinger_type, "pinger");
  get(e, &bst_failinit_type, "f");
  cr_assert_eq(ask(p, "FailInit", "f", 1), 0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_EINIT, "status %s",
               bs_errname(bst_replies[0].status));
  cr_assert(bst_replies[0].in_turn);
  cr_assert_eq(bst_g.failinit_inits, 1);
  cr_assert_eq(bst_g.failinit_method_calls, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_INIT_FAILED], 1);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, request_queued_behind_a_stop_completes_with_estopped,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(bs_stop(&c), 0);
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, NULL),
               0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_ESTOPPED, "status %s",
               bs_errname(bst_replies[0].status));
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_STOPPED], 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, undecodable_request_completes_with_edecode, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  /* fail_with(int) given a text string. */
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[BST_COUNTER_FAIL_WITH], &w),
               0);
  bs_write_cstr(&w, "not an int");
  cr_assert_eq(bs_request_end(&w, bst_reply_i64, (bs_fnptr)bst_main_cont, NULL),
               0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, BS_EDECODE, "status %s",
               bs_errname(bst_replies[0].status));
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_UNDECODABLE], 1);
  cr_assert_eq(bst_stats(e).method_errors, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, unencodable_reply_completes_the_caller_with_an_error,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  int64_t v = -1;
  int rc = bst_await0_i64(c, &bst_counter_methods[BST_COUNTER_GET_UNENCODABLE],
                          &v, 0);
  cr_assert_lt(rc, 0);
  cr_assert_neq(rc, BS_ETIMEDOUT);
  cr_assert_str_neq(bs_errname(rc), "UNKNOWN");
  cr_assert_eq(v, -1);
  cr_assert_eq(bst_stats(e).dead_by_reason[BS_DL_REPLY_UNENCODABLE], 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, caller_stopping_before_the_reply_orphans_it, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_pinger_type, "pinger");
  get(e, &bst_counter_type, "c");
  cr_assert_eq(ask(p, "Counter", "c", 2), 0);
  cr_assert_eq(bs_stop(&p), 0); /* right behind the ask */
  bst_run(e);
  cr_assert_eq(bst_g.pinger_request_rc, 0);
  cr_assert_eq(bst_g.pinger_deinits, 1);
  cr_assert_eq(bst_reply_count, 0, "the continuation ran on a stopped caller");
  cr_assert_eq(bst_g.pinger_inits, 1, "the reply re-activated the caller");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_ORPHAN_REPLY], 1);
  cr_assert_eq(bst_dl_by_reason[BS_DL_ORPHAN_REPLY], 1);
  const bst_dl_rec *dl = bst_dl_find(BS_DL_ORPHAN_REPLY);
  cr_assert_not_null(dl);
  cr_assert_str_eq(dl->target, "pinger");
  cr_assert(dl->method_null, "a reply has no method name");
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

/* ---- Deadlines -------------------------------------------------------------------- */

Test(reply, request_timeout_option_completes_a_late_request_with_etimedout,
     .timeout = 20) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  o.batch = 1;
  o.drain_budget = 1;
  o.request_timeout_ms = 20;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref c = get(e, &bst_counter_type, "slow");
  cr_assert_eq(bst_send_u64(c, &bst_counter_methods[BST_COUNTER_SPIN], 300), 0);
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, NULL),
               0);
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1, "continuation ran %zu times",
               bst_reply_count);
  cr_assert_eq(bst_replies[0].status, BS_ETIMEDOUT, "status %s",
               bs_errname(bst_replies[0].status));
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, request_timeout_option_lets_prompt_replies_through,
     .timeout = 10) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  o.request_timeout_ms = 60000;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref c = get(e, &bst_counter_type, "c");
  cr_assert_eq(bst_add(c, 11), 0);
  cr_assert_eq(bst_request0_i64(c, &bst_counter_methods[BST_COUNTER_GET],
                                bst_main_cont, NULL),
               0);
  /* UNTIL_DONE must not wait out the 60 s deadline once the reply is in. */
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_eq(bst_replies[0].status, 0);
  cr_assert_eq(bst_replies[0].value, 11);
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 11);
  cr_assert_eq(bst_stats(e).requests_pending, 0);
  bst_engine_free_checked(e, &A);
}

Test(reply, an_actor_can_ask_itself, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref p = get(e, &bst_pinger_type, "narcissus");
  cr_assert_eq(ask(p, "Pinger", "narcissus", 5), 0); /* value() -> 42 */
  bst_run(e);
  cr_assert_eq(bst_reply_count, 1);
  cr_assert_str_eq(bst_replies[0].who, "narcissus");
  cr_assert_eq(bst_replies[0].status, 0);
  cr_assert_eq(bst_replies[0].value, 42);
  cr_assert(bst_replies[0].in_turn);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

/* ---- Requests outliving their caller --------------------------------------- */

Test(reply, engine_freed_right_after_an_await_timed_out_leaks_nothing,
     .timeout = 20) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 1, 1);
  bs_ref c = get(e, &bst_counter_type, "slow");
  cr_assert_eq(bst_send_u64(c, &bst_counter_methods[BST_COUNTER_SPIN], 200), 0);
  int64_t v = -1;
  cr_assert_eq(bst_get_await(c, &v, 20), BS_ETIMEDOUT);
  /* The request (or its reply) is still in flight. */
  bst_engine_free_checked(e, &A);
  cr_assert_eq(bst_reply_count, 0);
}

Test(reply, a_deadline_passing_after_the_caller_stopped_runs_nothing,
     .timeout = 20) {
  bst_reset();
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  o.batch = 1;
  o.drain_budget = 1;
  o.request_timeout_ms = 20;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  bs_ref p = get(e, &bst_pinger_type, "caller");
  bs_ref c = get(e, &bst_counter_type, "slow");
  cr_assert_eq(bst_send_u64(c, &bst_counter_methods[BST_COUNTER_SPIN], 200), 0);
  cr_assert_eq(ask(p, "Counter", "slow", 2), 0);
  cr_assert_eq(bs_stop(&p), 0);
  bst_run(e);
  cr_assert_eq(bst_g.pinger_request_rc, 0);
  cr_assert_eq(bst_g.pinger_deinits, 1);
  cr_assert_eq(bst_reply_count, 0, "a continuation ran on a stopped caller");
  cr_assert_eq(bst_g.pinger_inits, 1);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(reply, a_reply_never_reaches_a_fresh_instance_of_a_stopped_caller,
     .timeout = 20) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 1, 1);
  bs_ref p = get(e, &bst_pinger_type, "caller");
  bs_ref c = get(e, &bst_counter_type, "busy");
  for (int i = 0; i < 5; i++) cr_assert_eq(bst_add(c, 1), 0);
  cr_assert_eq(ask(p, "Counter", "busy", 2), 0);
  cr_assert_eq(bs_stop(&p), 0);
  bool revived = false;
  for (int steps = 0; steps < 1000; steps++) {
    int rc = bs_engine_run(e, BS_RUN_NOWAIT);
    if (!revived && bst_g.pinger_deinits == 1) {
      /* The caller is gone, its request still queued at the callee:
       * wake a new instance of the same id before the reply comes. */
      cr_assert_eq(bst_stats(e).requests_pending, 1,
                   "the reply came back before the caller was revived");
      cr_assert_eq(bst_send0(p, &bst_pinger_methods[BST_PINGER_VALUE]), 0);
      revived = true;
      continue;
    }
    if (rc == 0) break;
  }
  bst_run(e);
  cr_assert(revived);
  cr_assert_eq(bst_g.pinger_inits, 2);
  cr_assert_eq(bst_reply_count, 0,
               "the old instance's continuation ran on the new instance");
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_ORPHAN_REPLY], 1);
  cr_assert_eq(s.requests_pending, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}
