#include <backstage.h>
// @generate-proxy
typedef struct Du {
  int n;
} Du;
int Du_init(Du *self, bs_context *ctx);
void Du_deinit(Du *self);
int Du__encode_state(const void *self, bs_writer *w);
int Du__init(Du *self);
int Du_put(Du *self, int32_t v);
static inline int Du__invoke_put(void *self, bs_call *call) {
  (void)self;
  (void)call;
  return 0;
}
