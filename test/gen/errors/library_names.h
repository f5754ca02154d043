#include <backstage.h>
typedef struct stats {
  int32_t n;
} stats;
// @generate-proxy
typedef struct Lib {
  int n;
} Lib;
int Lib_init(Lib *self, bs_context *ctx);
void Lib_deinit(Lib *self);
int Lib_put(Lib *self, stats s);
