#include <backstage.h>
typedef union Value {
  int32_t i;
  float f;
} Value;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_set(Bad *self, Value v);
