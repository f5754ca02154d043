/* A subscriber. A method with one parameter of a stream's element type can
 * be subscribed to that stream: the generator writes a
 * ReaderProxy_onHeadline__subscriber helper for bs_subscriber(). */
#ifndef READER_H
#define READER_H

#include <backstage.h>

#include "headline.h"

/* What a reader has seen so far. */
typedef struct Progress {
  uint32_t read;
  uint32_t last_seq;
  bool in_order;
} Progress;

// @generate-proxy
typedef struct Reader {
  bs_context *ctx;
  uint32_t read;
  uint32_t last_seq;
  bool out_of_order;
} Reader;

int Reader_init(Reader *self, bs_context *ctx);
void Reader_deinit(Reader *self);

int Reader_onHeadline(Reader *self, const Headline *h);
Progress Reader_progress(const Reader *self);

#endif
