/* Message structs only (no actor): their codecs are generated here because
 * kitchen.h uses them. */
#ifndef SHAPES_H
#define SHAPES_H

#include <backstage.h>

typedef enum Color { COLOR_RED = 1, COLOR_GREEN = 2, COLOR_BLUE = -3 } Color;

typedef struct Point {
  int32_t x;
  int32_t y;
} Point;

/* Nested struct, fixed array of structs, dynamic array of structs. */
typedef struct Polygon {
  const char *name;
  Color color;
  Point corners[3];
  BS_ARRAY(Point, extra); /* const Point *extra; size_t extra_count */
  double weights[2][2];
} Polygon;

struct Scene {
  const Polygon *polygons;
  size_t polygon_count;
  const Polygon *highlight; /* optional: NULL travels as null */
  const Point *origin;
  bs_bytes thumbnail;
  uint8_t id[16];
  const char *const *tags;
  size_t tag_count;
};

/* Never used by an actor: no codec. */
typedef struct Unused {
  int a;
} Unused;

#endif
