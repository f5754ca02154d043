/* Foreign threads: bs_engine_post from several pthreads, hold/release, and
 * posts left at free.
 *
 * Must pass under ThreadSanitizer: the shared state below is touched only
 * on the loop thread (post callbacks run there) or by main after joining
 * the workers; the counting allocator is called only on the loop thread, so
 * an allocation made on a posting thread would show up as a race.
 *
 * Under TSan the scenarios run through bst_mt.h's own runner, so they use
 * CHECK and local helpers, not cr_assert or the asserting bst_* helpers. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BST_SUITE threads
#include "bst_mt.h"
#include "bst.h"

static bst_alloc A;

typedef struct item {
  uint32_t stream;
  uint32_t seq;
  bs_post post; /* embedded, caller-owned */
} item;

typedef struct shared {
  bs_ref sink;
  uint64_t total;
  uint64_t done;
  uint64_t send_errors;
  uint64_t null_engine;
  bool release_at_end;
} shared;

static shared S; /* loop thread only */

static void deliver(bs_engine *e, bs_post *p) {
  item *it = (item *)((char *)p - offsetof(item, post));
  if (e == NULL) {
    S.null_engine++;
    return;
  }
  if (bst_send_u64_u64(S.sink, &bst_seq_methods[BST_SEQ_PUSH], it->stream,
                       it->seq) != 0)
    S.send_errors++;
  if (++S.done == S.total && S.release_at_end) bs_engine_release(e);
}

typedef struct worker {
  pthread_t tid;
  bs_engine *engine;
  item *items;
  uint32_t stream;
  uint32_t count;
  unsigned delay_ms;
  uint32_t post_errors; /* written by the worker, read after join */
} worker;

static void sleep_ms(unsigned ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void *worker_main(void *arg) {
  worker *w = arg;
  if (w->delay_ms) sleep_ms(w->delay_ms);
  for (uint32_t i = 0; i < w->count; i++) {
    w->items[i].stream = w->stream;
    w->items[i].seq = i;
    if (bs_engine_post(w->engine, &w->items[i].post, deliver) != 0)
      w->post_errors++;
    if ((i & 1023) == 0) sched_yield();
  }
  return NULL;
}

static void start_workers(worker *ws, int n, bs_engine *e, uint32_t count,
                          unsigned delay_ms) {
  for (int t = 0; t < n; t++) {
    ws[t].engine = e;
    ws[t].stream = (uint32_t)t;
    ws[t].count = count;
    ws[t].delay_ms = delay_ms;
    ws[t].post_errors = 0;
    ws[t].items = calloc(count, sizeof(item));
    CHECK(ws[t].items != NULL);
    CHECK(pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) == 0);
  }
}

static void join_workers(worker *ws, int n) {
  for (int t = 0; t < n; t++) {
    CHECK(pthread_join(ws[t].tid, NULL) == 0);
    CHECKM(ws[t].post_errors == 0, "thread %d: %u posts failed", t,
          ws[t].post_errors);
  }
}

static void free_workers(worker *ws, int n) {
  for (int t = 0; t < n; t++) free(ws[t].items);
}

/* ---- Non-asserting engine helpers (usable without Criterion) ------------- */

static bs_engine *new_engine(void) {
  bst_reset();
  memset(&S, 0, sizeof S);
  bst_alloc_init(&A);
  bs_engine_options o = bst_options(&A);
  bs_engine *e = NULL;
  int rc = bs_engine_new(&e, &o);
  CHECKM(rc == 0, "bs_engine_new = %s", bs_errname(rc));
  rc = bs_actor_get(e, &bst_seq_type, "sink", &S.sink);
  CHECKM(rc == 0, "bs_actor_get = %s", bs_errname(rc));
  return e;
}

static void run(bs_engine *e) {
  int rc = bs_engine_run(e, BS_RUN_UNTIL_DONE);
  CHECKM(rc == 0, "bs_engine_run = %d", rc);
}

static void free_engine(bs_engine *e) {
  bs_engine_free(e);
  CHECKM(A.bytes_live == 0 && A.blocks_live == 0, "%zu bytes leaked",
        A.bytes_live);
  CHECKM(A.size_mismatches == 0 && A.bad_frees == 0, "allocator misuse");
}

static void check_invariant(bs_engine *e) {
  bs_engine_stats s = bst_stats(e);
  CHECKM(bst_invariant(&s), "sent %llu, delivered %llu, dead %llu",
        (unsigned long long)s.sent, (unsigned long long)s.delivered,
        (unsigned long long)s.dead_letters);
}

static void check_all_arrived(int threads, uint32_t posts) {
  uint64_t total = (uint64_t)threads * posts;
  CHECKM(S.done == total, "%llu of %llu posts ran", (unsigned long long)S.done,
        (unsigned long long)total);
  CHECK(S.send_errors == 0);
  CHECKM(bst_g.seq_received == total, "%llu of %llu messages arrived",
        (unsigned long long)bst_g.seq_received, (unsigned long long)total);
  CHECKM(bst_g.seq_order_errors == 0, "%llu out of per-thread order",
        (unsigned long long)bst_g.seq_order_errors);
  for (int t = 0; t < threads; t++)
    CHECKM(bst_g.seq_next[t] == posts, "thread %d", t);
}

/* ---- Scenarios ------------------------------------------------------------ */

#define THREADS 4
#define POSTS 20000

static void posts_from_threads_all_arrive_in_per_thread_order(void) {
  bs_engine *e = new_engine();
  S.total = (uint64_t)THREADS * POSTS;
  S.release_at_end = true;
  bs_engine_hold(e);
  worker ws[THREADS];
  start_workers(ws, THREADS, e, POSTS, 0);
  run(e); /* returns once the last post released the hold and mail drained */
  join_workers(ws, THREADS);
  check_all_arrived(THREADS, POSTS);
  check_invariant(e);
  free_engine(e);
  free_workers(ws, THREADS);
}

static void hold_keeps_until_done_waiting_for_late_posts(void) {
  bs_engine *e = new_engine();
  S.total = 2 * 10;
  S.release_at_end = true;
  bs_engine_hold(e);
  worker ws[2];
  start_workers(ws, 2, e, 10, 200); /* nothing arrives for a while */
  run(e);
  /* UNTIL_DONE did not return while idle and held. */
  check_all_arrived(2, 10);
  join_workers(ws, 2);
  free_engine(e);
  free_workers(ws, 2);
}

static void posts_made_before_running_are_delivered_without_hold(void) {
  bs_engine *e = new_engine();
  S.total = (uint64_t)THREADS * 1000;
  worker ws[THREADS];
  start_workers(ws, THREADS, e, 1000, 0);
  join_workers(ws, THREADS);
  run(e);
  check_all_arrived(THREADS, 1000);
  check_invariant(e);
  free_engine(e);
  free_workers(ws, THREADS);
}

static void the_loop_thread_may_post_too(void) {
  bs_engine *e = new_engine();
  S.total = 100;
  item *items = calloc(100, sizeof *items);
  CHECK(items != NULL);
  for (uint32_t i = 0; i < 100; i++) {
    items[i].stream = 5;
    items[i].seq = i;
    CHECK(bs_engine_post(e, &items[i].post, deliver) == 0);
  }
  run(e);
  CHECKM(S.done == 100, "%llu of 100 posts ran", (unsigned long long)S.done);
  CHECK(bst_g.seq_next[5] == 100);
  CHECK(bst_g.seq_order_errors == 0);
  free_engine(e);
  free(items);
}

static void posts_still_queued_at_free_run_with_a_null_engine(void) {
  bs_engine *e = new_engine();
  worker ws[2];
  start_workers(ws, 2, e, 50, 0);
  join_workers(ws, 2);
  free_engine(e); /* never ran */
  CHECKM(S.null_engine + S.done == 100, "%llu posts lost at free",
        (unsigned long long)(100 - S.null_engine - S.done));
  CHECKM(S.null_engine == 100, "%llu posts ran with the engine instead of NULL at free",
        (unsigned long long)S.done);
  free_workers(ws, 2);
}

static void post_with_bad_arguments_is_einval(void) {
  bs_engine *e = new_engine();
  item it;
  memset(&it, 0, sizeof it);
  CHECK(bs_engine_post(NULL, &it.post, deliver) == BS_EINVAL);
  CHECK(bs_engine_post(e, NULL, deliver) == BS_EINVAL);
  CHECK(bs_engine_post(e, &it.post, NULL) == BS_EINVAL);
  run(e);
  free_engine(e);
}

/* A whole engine's life on one thread: it belongs to the thread that made
 * it. Returns the delivered count, or -1 on any failure. */
static void *engine_life(void *arg) {
  (void)arg;
  bs_engine *e = NULL;
  if (bs_engine_new(&e, NULL) != 0) return (void *)(intptr_t)-1;
  bs_ref r;
  uint8_t buf[64];
  bst_fill(buf, sizeof buf, 7);
  intptr_t out = -1;
  if (bs_actor_get(e, &bst_echo_type, "x", &r) == 0) {
    int ok = 1;
    for (int i = 0; i < 1000 && ok; i++)
      ok = bst_send_bytes(r, &bst_echo_methods[BST_ECHO_ECHO], buf, 8) == 0;
    if (ok && bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0) out = (intptr_t)bst_stats(e).delivered;
  }
  bs_engine_free(e);
  return (void *)out;
}

/* Each engine is single-threaded, but two may run on two threads at once.
 * Uses malloc and no globals: nothing is shared between the two. */
static void two_engines_on_two_threads_run_independently(void) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, engine_life, NULL) == 0);
  void *mine = engine_life(NULL);
  void *ret = NULL;
  CHECK(pthread_join(t, &ret) == 0);
  CHECK((intptr_t)ret == 1000);
  CHECK((intptr_t)mine == 1000);
}

/* The rule that makes that safe: an engine is driven by the thread that
 * made it. Another thread gets BS_EWRONGTHREAD (release builds; debug and
 * sanitizer builds abort with the function's name instead, tested in
 * test_api_checks). */
#ifndef BST_API_ABORTS
static void *run_engine_thread(void *arg) {
  return (void *)(intptr_t)bs_engine_run((bs_engine *)arg, BS_RUN_UNTIL_DONE);
}

static void *send_from_thread(void *arg) {
  bs_ref *r = arg;
  return (void *)(intptr_t)bst_send_bytes(*r, &bst_echo_methods[BST_ECHO_ECHO], "x", 1);
}

static void another_thread_may_not_drive_the_engine(void) {
  bs_engine *e = NULL;
  CHECK(bs_engine_new(&e, NULL) == 0);
  bs_ref r;
  CHECK(bs_actor_get(e, &bst_echo_type, "x", &r) == 0);
  pthread_t t;
  void *ret = NULL;
  CHECK(pthread_create(&t, NULL, run_engine_thread, e) == 0);
  CHECK(pthread_join(t, &ret) == 0);
  CHECK((intptr_t)ret == BS_EWRONGTHREAD);
  CHECK(pthread_create(&t, NULL, send_from_thread, &r) == 0);
  CHECK(pthread_join(t, &ret) == 0);
  CHECK((intptr_t)ret == BS_EWRONGTHREAD);
  CHECK(bst_stats(e).sent == 0);
  bs_engine_free(e);
}
#else
static void another_thread_may_not_drive_the_engine(void) {}
#endif

#define SCENARIOS(X)                                                           \
  X(posts_from_threads_all_arrive_in_per_thread_order, 60)                     \
  X(hold_keeps_until_done_waiting_for_late_posts, 30)                          \
  X(posts_made_before_running_are_delivered_without_hold, 30)                  \
  X(the_loop_thread_may_post_too, 10)                                          \
  X(posts_still_queued_at_free_run_with_a_null_engine, 10)                     \
  X(post_with_bad_arguments_is_einval, 10)                                     \
  X(two_engines_on_two_threads_run_independently, 30)                          \
  X(another_thread_may_not_drive_the_engine, 10)

BST_MAIN(SCENARIOS)
