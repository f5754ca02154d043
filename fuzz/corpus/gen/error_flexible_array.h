#include <backstage.h>
typedef struct Packet {
  size_t len;
  uint8_t data[];
} Packet;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_send(Bad *self, Packet p);
