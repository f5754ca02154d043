/* The receiving actor: counts what it gets and says who sent it. */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <backstage.h>

// @generate-proxy
typedef struct Receiver {
  bs_context *ctx;
  uint32_t received;
} Receiver;

int Receiver_init(Receiver *self, bs_context *ctx);
void Receiver_deinit(Receiver *self);

int Receiver_receive(Receiver *self, const char *from, uint32_t seq,
                     const char *text);
uint32_t Receiver_received(const Receiver *self);

#endif
