/* Version 1 of a message struct (test/gen/test_gen_versions.c). Only the
 * field names matter on the wire, so v1 and v2 may have different C names
 * and both live in one test binary. */
#ifndef ITEM_V1_H
#define ITEM_V1_H

#include <backstage.h>

typedef struct Dims1 {
  uint32_t w;
  uint32_t h;
} Dims1;

typedef struct Item1 {
  uint32_t id;
  const char *name;
  int32_t qty;          /* dropped in v2 */
  Dims1 dims;           /* v2 adds a field to the nested struct */
  int16_t scores[2];    /* v2 grows the fixed array to 4 */
} Item1;

// @generate-proxy
typedef struct Store1 {
  uint32_t count;
} Store1;

int Store1_init(Store1 *self, bs_context *ctx);
void Store1_deinit(Store1 *self);
int Store1_put(Store1 *self, Item1 item);

#endif
