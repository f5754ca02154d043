/* xfanout: a publisher actor and the subscribers of the i64 stream
 * "xevents" (bench/backstage.c places them). The publisher publishes in
 * windows of XFANOUT_WINDOW events, each followed by a request (sync) to
 * the subscriber that subscribed last, whose reply acknowledges the window;
 * at most XFANOUT_WINDOWS windows are unacknowledged (flow control, as in
 * xcount). Each event's value is the number of events left in the run,
 * itself included: a subscriber that receives 1 has had the whole run and
 * tells the collector "xfanout-done". With `work`, each delivery runs
 * bench_work (bench.h). */
#ifndef BENCH_XFANOUT_H
#define BENCH_XFANOUT_H

#include <backstage.h>

#define XFANOUT_WINDOW 10
#define XFANOUT_WINDOWS 2

// @generate-proxy
typedef struct XSub {
  bs_context *ctx;
  int64_t total; /* events received, all runs */
  uint32_t work; /* bench_work iterations per event, 0: none */
  uint32_t acc;
} XSub;

int XSub_init(XSub *self, bs_context *ctx);
void XSub_deinit(XSub *self);

int XSub_setWork(XSub *self, int32_t work);
int XSub_onEvent(XSub *self, int64_t v);
/* A window's acknowledgement: the events received so far. */
int64_t XSub_sync(XSub *self);
int64_t XSub_total(const XSub *self);

// @generate-proxy
typedef struct XPub {
  bs_context *ctx;
  bs_ref last;      /* the subscriber acknowledging windows, set by run */
  int64_t left;     /* events still to publish in the current run */
  int64_t published;
  int32_t inflight; /* windows published, not yet acknowledged */
  int32_t failed;
} XPub;

int XPub_init(XPub *self, bs_context *ctx);
void XPub_deinit(XPub *self);

/* Publishes `events` events on "xevents"; the XSub `last_id` acknowledges
 * the windows. */
int XPub_run(XPub *self, const char *last_id, int64_t events);
int64_t XPub_published(const XPub *self);

#endif
