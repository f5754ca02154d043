#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_note(Bad *self, const char *text);
int Bad_note__subscriber(Bad *self);
int Bad_pair(Bad *self, int a, int b);
int Bad_pair__subscriber(Bad *self);
