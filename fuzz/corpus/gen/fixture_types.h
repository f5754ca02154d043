/* One field of every supported type, nested structs with arrays of structs
 * included: the round-trip tests encode and decode these. */
#ifndef TYPES_H
#define TYPES_H

#include <backstage.h>

#include "shapes.h"

typedef enum Level { LEVEL_LOW = -1, LEVEL_MID = 0, LEVEL_HIGH = 1 } Level;
enum Flags { FLAG_A = 1, FLAG_B = 2 }; /* unsigned underlying type */

typedef struct AllTypes {
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  char c;
  long l;
  unsigned long long ull;
  size_t size;
  bool flag;
  float f;
  double d;
  Level level;
  enum Flags flags;
  Color color;
  const char *text;
  char fixed_text[12];
  uint8_t digest[8];
  bs_bytes blob;
  const void *raw;
  size_t raw_len;
  int16_t grid[2][3];
  Point corner;
  Polygon shapes[2];
  BS_ARRAY(Polygon, more);
  BS_ARRAY(uint64_t, numbers);
  const Point *optional;
  const Point *missing;
} AllTypes;

#endif
