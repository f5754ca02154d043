#include "newsroom.h"

#include <stdio.h>

#include "headline.bs.h" /* bs_stream_Headline */

int Newsroom_init(Newsroom *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Newsroom_deinit(Newsroom *self) { (void)self; }

int Newsroom_publish(Newsroom *self, const char *desk, const char *title) {
  /* Streams are found by id, from an actor's context or from the engine. */
  bs_stream_Headline news;
  int rc = bs_get_stream(self->ctx, Headline, "news", &news);
  if (rc < 0) return rc;

  Headline h = {.seq = self->published + 1, .title = title};
  snprintf(h.desk, sizeof h.desk, "%s", desk);
  /* Encoded once; every subscriber gets a message sharing that body.
   * Returns how many subscribers it was queued for. */
  rc = bs_stream_next(news, &h);
  if (rc < 0) return rc;
  self->published++;
  return 0;
}
