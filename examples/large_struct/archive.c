#include "archive.h"

#include <inttypes.h>
#include <stdio.h>

int Archive_init(Archive *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Archive_deinit(Archive *self) { (void)self; }

Receipt Archive_store(Archive *self, Document doc) {
  /* `doc` was decoded from the message: its strings and arrays live in the
   * message's arena and the pixels point into the message itself. All of
   * it is valid until this method returns. */
  Receipt r;
  r.checksum = document_checksum(&doc);
  r.pixel_bytes = document_pixel_bytes(&doc);
  r.layers = (uint32_t)doc.layers_count;
  r.tiles = (uint32_t)document_tile_count(&doc);
  self->stored++;
  printf("[archive] received \"%s\" by %s: %" PRIu32 " layers, %" PRIu32
         " tiles, %" PRIu64 " pixel bytes, checksum %016" PRIx64 "\n",
         doc.meta.title, doc.meta.author, r.layers, r.tiles, r.pixel_bytes,
         r.checksum);
  return r;
}
