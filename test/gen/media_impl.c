#include "media_impl.h"

#include <string.h>

#include "media.bs.h"

media_seen media_g;

void media_reset(void) { memset(&media_g, 0, sizeof media_g); }

uint32_t media_sum(const bs_blob *b) {
  const unsigned char *p = bs_blob_data(b);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < bs_blob_size(b); i++) h = (h ^ p[i]) * 16777619u;
  return b ? h : 0;
}

static void saw(Locker *self, const bs_blob *b) {
  media_g.last = b;
  media_g.last_data = bs_blob_data(b);
  if (!b) media_g.null_seen = true;
  self->seen += bs_blob_size(b);
  self->checksum = media_sum(b);
}

int Locker_init(Locker *self, bs_context *ctx) {
  self->ctx = ctx;
  media_g.locker_inits++;
  return 0;
}

void Locker_deinit(Locker *self) {
  bs_blob_release(self->kept);
  media_g.locker_deinits++;
}

int Locker_look(Locker *self, const bs_blob *b, uint32_t tag) {
  media_g.looks++;
  media_g.last_tag = tag;
  saw(self, b);
  return media_g.look_fails;
}

int Locker_keep(Locker *self, const bs_blob *b) {
  media_g.keeps++;
  saw(self, b);
  const bs_blob *old = self->kept;
  self->kept = bs_blob_retain(b);
  bs_blob_release(old);
  return 0;
}

int Locker_drop(Locker *self) {
  media_g.drops++;
  bs_blob_release(self->kept);
  self->kept = NULL;
  return 0;
}

const bs_blob *Locker_fetch(Locker *self) {
  media_g.fetches++;
  return self->kept;
}

int Locker_frame(Locker *self, Frame f) {
  media_g.frames++;
  self->frames = f.seq;
  saw(self, f.pixels);
  return 0;
}

int Locker_frameRef(Locker *self, const Frame *f) {
  media_g.frames++;
  self->frames = f ? f->seq : 0;
  saw(self, f ? f->pixels : NULL);
  return 0;
}

int Locker_many(Locker *self, const bs_blob *const *items, size_t count) {
  media_g.manys++;
  media_g.last_many = count;
  for (size_t i = 0; i < count; i++) saw(self, items[i]);
  return 0;
}

uint64_t Locker_seen(const Locker *self) { return self->seen; }
uint32_t Locker_checksum(const Locker *self) { return self->checksum; }

int Viewer_init(Viewer *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Viewer_deinit(Viewer *self) { (void)self; }

int Viewer_onBlob(Viewer *self, const bs_blob *b) {
  media_g.viewer_blobs++;
  media_g.last = b;
  media_g.last_data = bs_blob_data(b);
  self->count++;
  self->bytes += bs_blob_size(b);
  return 0;
}

int Viewer_onFrame(Viewer *self, const Frame *f) {
  media_g.viewer_frames++;
  media_g.last = f->pixels;
  media_g.last_data = bs_blob_data(f->pixels);
  self->count++;
  self->bytes += bs_blob_size(f->pixels);
  return 0;
}

uint32_t Viewer_count(const Viewer *self) { return self->count; }
uint64_t Viewer_bytes(const Viewer *self) { return self->bytes; }
