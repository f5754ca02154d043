/* Generated names made twice: with twin_b.h (gen_error_actors_named_alike). */
#include <backstage.h>
// @generate-proxy
typedef struct Twin {
  int n;
} Twin;
int Twin_init(Twin *self, bs_context *ctx);
void Twin_deinit(Twin *self);
