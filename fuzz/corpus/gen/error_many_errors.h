#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_a(Bad *self, int *p);
int Bad_b(Bad *self, float *q, ...);
union U { int a; };
int Bad_c(Bad *self, union U u);
