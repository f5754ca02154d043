/* fanout: a subscriber of the i64 stream "events". */
#ifndef BENCH_SUBSCRIBER_H
#define BENCH_SUBSCRIBER_H

#include <backstage.h>

// @generate-proxy
typedef struct Subscriber {
  bs_context *ctx;
  int64_t total;
} Subscriber;

int Subscriber_init(Subscriber *self, bs_context *ctx);
void Subscriber_deinit(Subscriber *self);

/* One element of the stream (bs_subscriber("id", SubscriberProxy_onEvent)). */
int Subscriber_onEvent(Subscriber *self, int64_t v);
int64_t Subscriber_total(const Subscriber *self);

#endif
