/* large_struct: a 4 MiB, deeply nested document sent to an actor in one
 * message; both sides checksum it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.bs.h"

enum { LAYERS = 8, TILES_PER_LAYER = 32, TILE_SIDE = 64, TILE_BYTES = TILE_SIDE * TILE_SIDE * 4 };

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

/* The document and the memory behind it. */
typedef struct Built {
  Document doc;
  Layer layers[LAYERS];
  Tile tiles[LAYERS][TILES_PER_LAYER];
  uint8_t *pixels; /* LAYERS * TILES_PER_LAYER * TILE_BYTES */
} Built;

/* A deterministic pseudo-random pixel stream (xorshift32). */
static void fill_pixels(uint8_t *p, size_t n) {
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

static void build_tile(Tile *t, uint32_t index, uint8_t *pixels) {
  int32_t col = (int32_t)(index % 8), row = (int32_t)(index / 8);
  t->bounds.min = (Point){col * TILE_SIDE, row * TILE_SIDE};
  t->bounds.max = (Point){(col + 1) * TILE_SIDE, (row + 1) * TILE_SIDE};
  t->index = index;
  t->pixels = (bs_bytes){pixels, TILE_BYTES};
}

static int build_document(Built *b) {
  static const char *const keywords[] = {"harbour", "dawn", "boats", "fog"};
  memset(b, 0, sizeof *b);
  b->pixels = malloc((size_t)LAYERS * TILES_PER_LAYER * TILE_BYTES);
  if (!b->pixels) return BS_ENOMEM;
  fill_pixels(b->pixels, (size_t)LAYERS * TILES_PER_LAYER * TILE_BYTES);

  for (uint32_t i = 0; i < LAYERS; i++) {
    Layer *l = &b->layers[i];
    snprintf(l->name, sizeof l->name, "layer-%" PRIu32, i);
    l->opacity = 1.0f - 0.1f * (float)i;
    l->blend[0] = (uint8_t)i;
    for (uint32_t j = 0; j < TILES_PER_LAYER; j++)
      build_tile(&b->tiles[i][j], j,
                 b->pixels + ((size_t)i * TILES_PER_LAYER + j) * TILE_BYTES);
    l->tiles = b->tiles[i];
    l->tiles_count = TILES_PER_LAYER;
  }
  b->doc.meta = (Meta){"Harbour at dawn", "J. M. W. Turner", 1840u, keywords, 4};
  b->doc.layers = b->layers;
  b->doc.layers_count = LAYERS;
  for (int i = 0; i < 64; i++) b->doc.histogram[i] = (double)i * 0.015625;
  return 0;
}

int main(void) {
  Built *b = malloc(sizeof *b);
  if (!b || check(build_document(b), "build") < 0) {
    free(b);
    return 1;
  }
  uint64_t sent_sum = document_checksum(&b->doc);
  printf("main: sending \"%s\": %zu layers, %zu tiles, %" PRIu64
         " pixel bytes, checksum %016" PRIx64 "\n",
         b->doc.meta.title, b->doc.layers_count, document_tile_count(&b->doc),
         document_pixel_bytes(&b->doc), sent_sum);

  bs_engine *engine = NULL;
  int rc = check(bs_engine_new(&engine, NULL), "bs_engine_new");
  ArchiveProxy archive;
  if (rc == 0) rc = check(bs_get_actor(engine, Archive, "archive", &archive), "get");

  /* One call: the proxy encodes the whole tree into one message. Receipt
   * holds no pointers, so awaiting it needs no arena. */
  Receipt receipt;
  if (rc == 0) rc = check(ArchiveProxy_store_await(archive, b->doc, &receipt), "store");
  if (rc == 0) {
    printf("main: receipt checksum %016" PRIx64 ": %s\n", receipt.checksum,
           receipt.checksum == sent_sum ? "the document arrived intact"
                                        : "MISMATCH");
    if (receipt.checksum != sent_sum) rc = -1;
  }

  bs_engine_free(engine);
  free(b->pixels);
  free(b);
  return rc == 0 ? 0 : 1;
}
