#include <backstage.h>
// @generate-proxy
typedef struct Q {
  int n;
} Q;
int Q_init(Q *self, bs_context *ctx);
void Q_deinit(Q *self);
int Q_x(Q *self);
// @generate-proxy
typedef struct QProxy_x {
  int n;
} QProxy_x;
int QProxy_x_init(QProxy_x *self, bs_context *ctx);
void QProxy_x_deinit(QProxy_x *self);
