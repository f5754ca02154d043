#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_get(Bad *self);
uint32_t Bad_size(Bad *self);
int Bad_size_await(Bad *self);
