#include <backstage.h>
typedef struct Node {
  int value;
  const struct Node *next;
} Node;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_push(Bad *self, Node n);
