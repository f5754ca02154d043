/* The blob fixture actors' methods (fixtures/media.h), for
 * test_gen_blob.c: what the methods saw, kept in globals that outlive the
 * actors. */
#ifndef GEN_MEDIA_IMPL_H
#define GEN_MEDIA_IMPL_H

#include "media.h"

typedef struct media_seen {
  const void *last_data;   /* bs_blob_data of the last blob a method saw */
  const bs_blob *last;     /* and the blob */
  uint32_t last_tag;
  int looks, keeps, drops, frames, manys, fetches;
  int locker_inits, locker_deinits;
  int viewer_blobs, viewer_frames;
  size_t last_many;        /* count of the last many() */
  bool null_seen;          /* a NULL blob arrived */
  /* When set, look() fails with this status (restart-on-error tests). */
  int look_fails;
} media_seen;

extern media_seen media_g;
void media_reset(void);
/* FNV-1a of a blob's bytes (0 for NULL). */
uint32_t media_sum(const bs_blob *b);

#endif
