#include <backstage.h>
typedef struct Inner {
  int32_t *p;
} Inner;
typedef struct Outer {
  Inner inner[2];
} Outer;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_a(Bad *self, Outer o);
int Bad_b(Bad *self, const Outer *o);
