#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_self(Bad *self);
int Bad_from_ref(Bad *self, int32_t n);
int Bad_stop(Bad *self);
uint32_t Bad_ask(Bad *self);
int Bad__reply_ask(Bad *self);
int Bad_actor_type(Bad *self);
