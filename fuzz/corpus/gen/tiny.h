#include <backstage.h>
// @generate-proxy
typedef struct A { int x; } A;
int A_init(A *self, bs_context *ctx);
void A_deinit(A *self);
int A_go(A *self, int32_t v);
