/* Actors that share one large frame instead of copying it: a Gallery that
 * keeps the latest frame it was given, and Viewers subscribed to a stream
 * of frames. */
#ifndef GALLERY_H
#define GALLERY_H

#include <backstage.h>

// @generate-proxy
typedef struct Gallery {
  bs_context *ctx;
  const bs_blob *latest; /* a reference of its own (retained) */
  uint32_t frames;
} Gallery;

int Gallery_init(Gallery *self, bs_context *ctx);
void Gallery_deinit(Gallery *self);
/* Keeps `frame` (borrowed for the call: it retains it). */
int Gallery_add(Gallery *self, const char *title, const bs_blob *frame);
/* Lends the latest frame to the reply (NULL if none). */
const bs_blob *Gallery_latest(Gallery *self);

// @generate-proxy
typedef struct Viewer {
  bs_context *ctx;
  uint32_t shown;
} Viewer;

int Viewer_init(Viewer *self, bs_context *ctx);
void Viewer_deinit(Viewer *self);
/* A subscriber of a blob stream: every viewer gets the same frame. */
int Viewer_show(Viewer *self, const bs_blob *frame);

/* FNV-1a over a blob's bytes. */
uint32_t frame_checksum(const bs_blob *frame);

#endif
