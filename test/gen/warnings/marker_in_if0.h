#include <backstage.h>
#if 0
// @generate-proxy
int not_a_struct(void);
#endif
#ifndef BACKSTAGE_GEN
/* @generate-proxy */
#endif
// @generate-proxy
typedef struct Live {
  int n;
} Live;
int Live_init(Live *self, bs_context *ctx);
void Live_deinit(Live *self);
