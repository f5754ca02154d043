/* Version 2 of item_v1.h's Item: fields reordered, one dropped, three
 * added, the nested struct extended, the fixed array grown. */
#ifndef ITEM_V2_H
#define ITEM_V2_H

#include <backstage.h>

typedef struct Dims2 {
  uint32_t h;
  uint32_t w;
  uint32_t depth;       /* new */
} Dims2;

typedef struct Item2 {
  const char *name;
  uint32_t id;
  double price;         /* new */
  BS_ARRAY(uint32_t, tags); /* new */
  Dims2 dims;
  int16_t scores[4];
  bool featured;        /* new */
} Item2;

/* @generate-proxy */
typedef struct Store2 {
  uint32_t count;
} Store2;

int Store2_init(Store2 *self, bs_context *ctx);
void Store2_deinit(Store2 *self);
int Store2_put(Store2 *self, Item2 item);
/* A method v1 does not have: adding it leaves put's id unchanged. */
int Store2_audit(Store2 *self);

#endif
