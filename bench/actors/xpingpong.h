/* xpingpong: pingpong between two shards. XPing and XPong learn each
 * other's id by a message (bench/backstage.c picks ids that hash to
 * different shards). With `record`, XPing stamps the end of every round
 * trip into bench_lat (bench.h) for the latency percentiles. */
#ifndef BENCH_XPINGPONG_H
#define BENCH_XPINGPONG_H

#include <backstage.h>

// @generate-proxy
typedef struct XPing {
  bs_context *ctx;
  bs_ref pong;    /* XPongProxy's reference, set by link */
  int64_t left;   /* round trips still to go in the current run */
  int64_t trips;  /* round trips completed, all runs */
  int32_t record; /* stamp each round trip of the current run */
} XPing;

int XPing_init(XPing *self, bs_context *ctx);
void XPing_deinit(XPing *self);

int XPing_link(XPing *self, const char *pong_id);
/* Starts `rounds` round trips; record != 0 stamps each one. */
int XPing_start(XPing *self, int64_t rounds, int32_t record);
int XPing_pong(XPing *self, int32_t x);
int64_t XPing_trips(const XPing *self);

// @generate-proxy
typedef struct XPong {
  bs_context *ctx;
  bs_ref ping; /* XPingProxy's reference, set by link */
} XPong;

int XPong_init(XPong *self, bs_context *ctx);
void XPong_deinit(XPong *self);

int XPong_link(XPong *self, const char *ping_id);
int XPong_ping(XPong *self, int32_t x);

#endif
