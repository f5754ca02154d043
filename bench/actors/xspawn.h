/* xspawn: spawners that create short-lived workers (ids "<spawner
 * id>-<seq>", on whichever shard they hash to); each worker is activated by
 * one message, answers its spawner and stops. A spawner creates workers in
 * windows of XSPAWN_WINDOW and keeps at most XSPAWN_WINDOWS windows
 * unanswered (flow control, as in xcount). */
#ifndef BENCH_XSPAWN_H
#define BENCH_XSPAWN_H

#include <backstage.h>

#define XSPAWN_WINDOW 1000
#define XSPAWN_WINDOWS 2

// @generate-proxy
typedef struct XSpawner {
  bs_context *ctx;
  int64_t left;    /* workers still to create in the current run */
  int64_t seq;     /* workers created, all runs (the next id) */
  int64_t answers; /* answers received, all runs */
  int32_t failed;
} XSpawner;

int XSpawner_init(XSpawner *self, bs_context *ctx);
void XSpawner_deinit(XSpawner *self);

/* Creates `n` workers. */
int XSpawner_run(XSpawner *self, int64_t n);
int XSpawner_answer(XSpawner *self, int32_t x);
int64_t XSpawner_answers(const XSpawner *self);

// @generate-proxy
typedef struct XWorker {
  bs_context *ctx;
} XWorker;

int XWorker_init(XWorker *self, bs_context *ctx);
void XWorker_deinit(XWorker *self);

/* Answers the XSpawner `spawner_id`, then stops. */
int XWorker_hello(XWorker *self, const char *spawner_id);

#endif
