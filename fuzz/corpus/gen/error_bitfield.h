#include <backstage.h>
typedef struct Flags {
  unsigned ready : 1;
  unsigned done : 1;
} Flags;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_set(Bad *self, Flags f);
