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
  /* Get the receiver through the context: the same call as from main. */
  ReceiverProxy receiver;
  int rc = bs_get_actor(self->ctx, Receiver, receiver_id, &receiver);
  if (rc < 0) return rc;
  self->receiver = receiver.ref; /* valid as long as the engine */
  return 0;
}

int Sender_send(Sender *self, const char *text) {
  if (bs_ref_id(&self->receiver) == NULL) return BS_EINVAL; /* not connected */

  /* Back to the typed proxy (zeroed, so sends fail, if it were no Receiver). */
  ReceiverProxy receiver = ReceiverProxy_from_ref(self->receiver);
  self->sent++;
  printf("[%s] #%" PRIu32 " -> %s: \"%s\"\n", bs_context_id(self->ctx),
         self->sent, bs_ref_id(&self->receiver), text);
  /* Queued, not run: the receiver handles it on its own turn, after this
   * method returns. The text is copied into the message. */
  return ReceiverProxy_receive(receiver, bs_context_id(self->ctx), self->sent, text);
}
