/* The publisher: turns calls into elements of the "news" stream. */
#ifndef NEWSROOM_H
#define NEWSROOM_H

#include <backstage.h>

// @generate-proxy
typedef struct Newsroom {
  bs_context *ctx;
  uint32_t published;
} Newsroom;

int Newsroom_init(Newsroom *self, bs_context *ctx);
void Newsroom_deinit(Newsroom *self);

int Newsroom_publish(Newsroom *self, const char *desk, const char *title);

#endif
