/* The sending actor: forwards every text it is given to the receiver.
 *
 * Its state cannot hold a ReceiverProxy: that type is generated from
 * receiver.h, after this header is parsed. It holds the receiver's bs_ref
 * instead, and turns it back into a ReceiverProxy with
 * ReceiverProxy_from_ref, which checks that it refers to a Receiver. */
#ifndef SENDER_H
#define SENDER_H

#include <backstage.h>

// @generate-proxy
typedef struct Sender {
  bs_context *ctx;
  bs_ref receiver; /* which receiver to talk to (zero: not connected) */
  uint32_t sent;
} Sender;

int Sender_init(Sender *self, bs_context *ctx);
void Sender_deinit(Sender *self);

int Sender_connect(Sender *self, const char *receiver_id);
int Sender_send(Sender *self, const char *text);

#endif
