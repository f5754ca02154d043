#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
void Bad_init(Bad *self);
int Bad_deinit(Bad *self, int how);
