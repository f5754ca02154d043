#include <backstage.h>
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_run(Bad *self);
