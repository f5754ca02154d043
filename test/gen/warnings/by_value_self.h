#include <backstage.h>
// @generate-proxy
typedef struct T {
  int n;
} T;
int T_init(T *self, bs_context *ctx);
void T_deinit(T *self);
int T_bump(T self, int by);
int T_add(T *self, int by);
int T_helper(int x); /* not a method, and not mistaken for one: silent */
