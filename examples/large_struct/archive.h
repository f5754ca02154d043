/* An actor that receives whole documents and answers with a receipt. */
#ifndef ARCHIVE_H
#define ARCHIVE_H

#include <backstage.h>

#include "document.h"

// @generate-proxy
typedef struct Archive {
  bs_context *ctx;
  uint32_t stored;
} Archive;

int Archive_init(Archive *self, bs_context *ctx);
void Archive_deinit(Archive *self);

/* A request: the whole Document travels by value, the Receipt comes back. */
Receipt Archive_store(Archive *self, Document doc);

#endif
