#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_pay(Bad *self, int64_t amount);
int Bad_pay__args(Bad *self);
void Bad_ping(Bad *self);
int Bad_ping__args(Bad *self);
