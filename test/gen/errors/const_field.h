/* A const-qualified field in a message struct: decoding assigns it. */
#include <backstage.h>

typedef struct Node {
  int32_t value;
  const int32_t id;
} Node;

// @generate-proxy
typedef struct Holder {
  bs_context *ctx;
} Holder;

int Holder_init(Holder *self, bs_context *ctx);
void Holder_deinit(Holder *self);
int Holder_push(Holder *self, Node n);
