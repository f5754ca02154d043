#include "gallery.h"

#include <stdio.h>

uint32_t frame_checksum(const bs_blob *frame) {
  const unsigned char *p = bs_blob_data(frame);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < bs_blob_size(frame); i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

int Gallery_init(Gallery *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Gallery_deinit(Gallery *self) { bs_blob_release(self->latest); }

int Gallery_add(Gallery *self, const char *title, const bs_blob *frame) {
  /* Keep a reference of our own; let go of the one we had. */
  const bs_blob *old = self->latest;
  self->latest = bs_blob_retain(frame);
  bs_blob_release(old);
  self->frames++;
  printf("[gallery] frame %u \"%s\": %zu bytes, checksum %08x\n", self->frames, title,
         bs_blob_size(frame), frame_checksum(frame));
  return 0;
}

const bs_blob *Gallery_latest(Gallery *self) { return self->latest; }

int Viewer_init(Viewer *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Viewer_deinit(Viewer *self) { (void)self; }

int Viewer_show(Viewer *self, const bs_blob *frame) {
  self->shown++;
  printf("[%s] showing %zu bytes, checksum %08x\n", bs_context_id(self->ctx),
         bs_blob_size(frame), frame_checksum(frame));
  return 0;
}
