#include "sender.h"

#include <inttypes.h>
#include <stdio.h>

#include "receiver.bs.h" /* the receiver's proxy, to call it */

int Sender_init(Sender *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Sender_deinit(Sender *self) { (void)self; }

int Sender_connect(Sender *self, const char *receiver_id) {
  snprintf(self->receiver_id, sizeof self->receiver_id, "%s", receiver_id);
  return 0;
}

int Sender_send(Sender *self, const char *text) {
  if (self->receiver_id[0] == '\0') return BS_EINVAL; /* not connected */

  /* Get the receiver through the context: the same call as from main. */
  ReceiverProxy receiver;
  int rc = bs_get_actor(self->ctx, Receiver, self->receiver_id, &receiver);
  if (rc < 0) return rc;

  self->sent++;
  printf("[%s] #%" PRIu32 " -> %s: \"%s\"\n", bs_context_id(self->ctx),
         self->sent, self->receiver_id, text);
  /* Queued, not run: the receiver handles it on its own turn, after this
   * method returns. The text is copied into the message. */
  return ReceiverProxy_receive(receiver, bs_context_id(self->ctx), self->sent, text);
}
