/* actor_to_actor: main talks to a sender actor, which talks to a receiver
 * actor it looks up through its own context. */
#include <inttypes.h>
#include <stdio.h>

#include "receiver.bs.h"
#include "sender.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  SenderProxy sender;
  int rc = check(bs_get_actor(engine, Sender, "sender", &sender), "get sender");
  if (rc == 0) rc = check(SenderProxy_connect(sender, "receiver"), "connect");

  static const char *const texts[] = {"ping", "pong", "done"};
  for (size_t i = 0; rc == 0 && i < 3; i++)
    rc = check(SenderProxy_send(sender, texts[i]), "send");

  /* Run until no mail is left: the sender's turn first (it queues three
   * messages for the receiver), then the receiver's. */
  if (rc == 0) bs_engine_run(engine, BS_RUN_UNTIL_DONE);

  ReceiverProxy receiver;
  uint32_t received = 0;
  if (rc == 0) rc = check(bs_get_actor(engine, Receiver, "receiver", &receiver), "get receiver");
  if (rc == 0) rc = check(ReceiverProxy_received_await(receiver, &received), "received");
  if (rc == 0) printf("main: the receiver got %" PRIu32 " messages\n", received);

  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
