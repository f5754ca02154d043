/* xcount: senders on one shard, a counter on another. Each sender sends its
 * share in windows of XCOUNT_WINDOW increments, each followed by a request
 * (sync) whose reply is the window's acknowledgement; at most
 * XCOUNT_WINDOWS windows are unacknowledged (flow control, so the counter's
 * backlog stays bounded). When all its windows are acknowledged, a sender
 * tells the collector "xcount-done". */
#ifndef BENCH_XCOUNT_H
#define BENCH_XCOUNT_H

#include <backstage.h>

#define XCOUNT_WINDOW 1000
#define XCOUNT_WINDOWS 2

// @generate-proxy
typedef struct XCounter {
  bs_context *ctx;
  int64_t total;
} XCounter;

int XCounter_init(XCounter *self, bs_context *ctx);
void XCounter_deinit(XCounter *self);

int XCounter_add(XCounter *self, int32_t x);
/* A sender's window acknowledgement: the total so far. */
int64_t XCounter_sync(XCounter *self);
int64_t XCounter_total(const XCounter *self);

// @generate-proxy
typedef struct XSender {
  bs_context *ctx;
  bs_ref counter;   /* set by run */
  int64_t left;     /* increments still to send in the current run */
  int32_t inflight; /* windows sent, not yet acknowledged */
  int32_t failed;
} XSender;

int XSender_init(XSender *self, bs_context *ctx);
void XSender_deinit(XSender *self);

/* Sends `n` increments to the XCounter `counter_id`. */
int XSender_run(XSender *self, const char *counter_id, int64_t n);

#endif
