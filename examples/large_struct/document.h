/* A deeply nested document: Document > Layer[] > Tile[] > Rect > Point,
 * with strings, fixed and dynamic arrays and byte buffers on the way. A
 * default document is 8 layers x 32 tiles x 16 KiB of pixels: 4 MiB. */
#ifndef DOCUMENT_H
#define DOCUMENT_H

#include <backstage.h>

typedef struct Point {
  int32_t x;
  int32_t y;
} Point;

typedef struct Rect {
  Point min;
  Point max;
} Rect;

typedef struct Tile {
  Rect bounds;
  uint32_t index;
  bs_bytes pixels; /* RGBA, a byte string: zero-copy at the receiver */
} Tile;

typedef struct Layer {
  char name[32];
  float opacity;
  uint8_t blend[4];     /* fixed bytes */
  BS_ARRAY(Tile, tiles); /* const Tile *tiles; size_t tiles_count */
} Layer;

typedef struct Meta {
  const char *title;
  const char *author;
  uint64_t created;
  const char *const *keywords; /* an array of strings */
  size_t keyword_count;
} Meta;

typedef struct Document {
  Meta meta;
  BS_ARRAY(Layer, layers);
  double histogram[64]; /* fixed array of numbers */
} Document;

/* What the archive answers: its own view of what arrived. */
typedef struct Receipt {
  uint64_t checksum;
  uint64_t pixel_bytes;
  uint32_t layers;
  uint32_t tiles;
} Receipt;

/* Helpers shared by both sides (not methods: no actor in this header). */
uint64_t document_checksum(const Document *doc);
uint64_t document_pixel_bytes(const Document *doc);
size_t document_tile_count(const Document *doc);

#endif
