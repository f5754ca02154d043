/* One 1 MiB frame, made once, shared by reference: sent to a Gallery that
 * keeps it, published to three Viewers, and awaited back. No message copies
 * its bytes; the last release frees it. */
#include <stdio.h>
#include <string.h>

#include "gallery.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  /* Make the frame: the only writable view of its bytes is `pixels`. */
  enum { SIZE = 1 << 20 };
  void *pixels;
  const bs_blob *frame = bs_blob_new(SIZE, &pixels);
  if (!frame) return 1;
  for (size_t i = 0; i < SIZE; i++) ((unsigned char *)pixels)[i] = (unsigned char)(i * 7 + i / 4096);
  printf("main: made a frame of %zu bytes, checksum %08x\n", bs_blob_size(frame),
         frame_checksum(frame));

  GalleryProxy gallery;
  bs_stream_blob frames;
  int rc = check(bs_get_actor(engine, Gallery, "gallery", &gallery), "get gallery");
  if (rc == 0) rc = check(bs_get_stream(engine, blob, "frames", &frames), "get stream");
  const char *viewers[] = {"viewer-1", "viewer-2", "viewer-3"};
  for (int i = 0; rc == 0 && i < 3; i++)
    rc = check(bs_stream_subscribe(frames, bs_subscriber(viewers[i], ViewerProxy_show)),
               "subscribe");

  /* Each message takes a reference of its own; ours stays ours. */
  if (rc == 0) rc = check(GalleryProxy_add(gallery, "harbour", frame), "add");
  if (rc == 0) rc = check(bs_stream_next(frames, frame), "publish");
  if (rc >= 0) printf("main: published to %d viewers\n", rc);
  const void *mine = bs_blob_data(frame);
  bs_blob_release(frame); /* the gallery and the messages hold it now */

  /* The await hands back a reference of our own: the very same bytes. */
  const bs_blob *back = NULL;
  if (rc >= 0) rc = check(GalleryProxy_latest_await(gallery, &back), "latest");
  if (rc == 0)
    printf("main: the gallery's latest frame is %s (%zu bytes)\n",
           bs_blob_data(back) == mine ? "the one main made, not a copy" : "a copy",
           bs_blob_size(back));
  bs_blob_release(back);

  bs_engine_run(engine, BS_RUN_UNTIL_DONE);
  bs_engine_free(engine); /* the gallery's deinit releases the last reference */
  return rc < 0 ? 1 : 0;
}
