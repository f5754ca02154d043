/* An actor named like the one in twin_a.h (gen_error_actors_named_alike). */
#include <backstage.h>
// @generate-proxy
typedef struct Twin {
  long n;
} Twin;
int Twin_init(Twin *self, bs_context *ctx);
void Twin_deinit(Twin *self);
