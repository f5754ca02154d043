/* The sending actor: forwards every text it is given to the receiver.
 *
 * Its state does not hold a ReceiverProxy: that type is generated from
 * receiver.h, after this header is parsed. Actors find each other by id
 * through their context instead (a hash lookup, no allocation). */
#ifndef SENDER_H
#define SENDER_H

#include <backstage.h>

// @generate-proxy
typedef struct Sender {
  bs_context *ctx;
  char receiver_id[32]; /* which receiver to talk to */
  uint32_t sent;
} Sender;

int Sender_init(Sender *self, bs_context *ctx);
void Sender_deinit(Sender *self);

int Sender_connect(Sender *self, const char *receiver_id);
int Sender_send(Sender *self, const char *text);

#endif
