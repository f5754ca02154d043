#include <backstage.h>
typedef struct Shape {
  int kind;
  union {
    int radius;
    int side;
  };
} Shape;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_draw(Bad *self, Shape s);
