#include <backstage.h>
typedef struct Holder {
  const bs_blob *b;
} Holder;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
Holder Bad_give(Bad *self);
