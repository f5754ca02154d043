/* foreign_thread: worker threads compute results and hand them to an actor
 * through bs_engine_post, the one engine call that is thread-safe. */
#define _POSIX_C_SOURCE 200809L /* pthreads under strict C11 */

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "aggregator.bs.h"

enum { THREADS = 4, RESULTS = 2500 };

/* Shared by the threads (read-only) and the loop thread. */
typedef struct App {
  bs_engine *engine;
  AggregatorProxy aggregator;
  uint32_t threads_done; /* touched on the loop thread only */
} App;

/* One result in flight from a thread to the loop: caller-owned memory with
 * the bs_post node inside. */
typedef struct Result {
  bs_post post;
  App *app;
  uint32_t worker, seq;
  uint64_t value;
} Result;

typedef struct Worker {
  pthread_t thread;
  App *app;
  uint32_t index;
  bs_post done; /* posted last; preallocated so it cannot fail */
} Worker;

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

/* The work: steps of the Collatz sequence from n down to 1. */
static uint64_t collatz_steps(uint64_t n) {
  uint64_t steps = 0;
  for (; n != 1; steps++) n = (n % 2) ? 3 * n + 1 : n / 2;
  return steps;
}

/* Runs on the loop thread. `e` is NULL if the engine was freed first:
 * then only release the memory. */
static void deliver_result(bs_engine *e, bs_post *p) {
  Result *r = (Result *)((char *)p - offsetof(Result, post));
  if (e) check(AggregatorProxy_add(r->app->aggregator, r->worker, r->seq, r->value), "add");
  free(r);
}

static void deliver_done(bs_engine *e, bs_post *p) {
  Worker *w = (Worker *)((char *)p - offsetof(Worker, done));
  /* The last thread lets BS_RUN_UNTIL_DONE finish once the mail is out. */
  if (e && ++w->app->threads_done == THREADS) bs_engine_release(e);
}

static void *worker_main(void *arg) {
  Worker *w = arg;
  for (uint32_t seq = 0; seq < RESULTS; seq++) {
    Result *r = malloc(sizeof *r);
    if (!r) break; /* the report will show the missing results */
    *r = (Result){.app = w->app, .worker = w->index, .seq = seq,
                  .value = collatz_steps((uint64_t)w->index * RESULTS + seq + 1)};
    if (check(bs_engine_post(w->app->engine, &r->post, deliver_result), "post") < 0)
      free(r);
  }
  check(bs_engine_post(w->app->engine, &w->done, deliver_done), "post done");
  return NULL;
}

/* The same sums, computed here, to check the actor's. */
static uint64_t expected_sum(uint32_t worker) {
  uint64_t sum = 0;
  for (uint32_t seq = 0; seq < RESULTS; seq++)
    sum += collatz_steps((uint64_t)worker * RESULTS + seq + 1);
  return sum;
}

static int print_report(const Report *r) {
  int bad = 0;
  uint32_t total = 0;
  for (uint32_t i = 0; i < THREADS; i++) {
    uint64_t want = expected_sum(i);
    printf("thread %" PRIu32 ": %" PRIu32 " results, sum %" PRIu64 " (%s)\n", i,
           r->received[i], r->sums[i], r->sums[i] == want ? "correct" : "WRONG");
    bad |= r->received[i] != RESULTS || r->sums[i] != want;
    total += r->received[i];
  }
  printf("main: %" PRIu32 " results from %d threads, %" PRIu32 " out of order\n",
         total, THREADS, r->out_of_order);
  return bad || r->out_of_order ? -1 : 0;
}

int main(void) {
  App app = {0};
  if (check(bs_engine_new(&app.engine, NULL), "bs_engine_new") < 0) return 1;
  int rc = check(bs_get_actor(app.engine, Aggregator, "aggregator", &app.aggregator), "get");

  /* Keep BS_RUN_UNTIL_DONE running while threads may still post. */
  Worker workers[THREADS];
  uint32_t started = 0;
  bs_engine_hold(app.engine);
  for (uint32_t i = 0; rc == 0 && i < THREADS; i++) {
    workers[i] = (Worker){.app = &app, .index = i};
    if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
      rc = -1;
    else
      started++;
  }
  printf("main: %" PRIu32 " threads posting %d results each\n", started, RESULTS);

  if (rc == 0) bs_engine_run(app.engine, BS_RUN_UNTIL_DONE);
  else bs_engine_release(app.engine); /* a thread failed to start */
  for (uint32_t i = 0; i < started; i++) pthread_join(workers[i].thread, NULL);

  Report report;
  if (rc == 0) rc = check(AggregatorProxy_report_await(app.aggregator, &report), "report");
  if (rc == 0) rc = print_report(&report);

  bs_engine_free(app.engine);
  return rc == 0 ? 0 : 1;
}
