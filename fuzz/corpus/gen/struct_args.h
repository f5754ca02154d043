#include <backstage.h>
typedef struct P { const char *s; BS_ARRAY(uint16_t, v); uint8_t id[3]; } P;
/* @generate-proxy */
struct D { bs_context *ctx; };
typedef struct D D;
int D_init(D *self, bs_context *ctx);
void D_deinit(D *self);
P D_get(D *self, const P *in, P copy);
void D_put(const D *self, const P *items, size_t n);
