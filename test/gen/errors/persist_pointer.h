#include <backstage.h>

typedef struct Inner {
  const char *tag;
} Inner;

typedef struct Cache Cache;

// @generate-proxy persistent
typedef struct Keeper {
  bs_context *ctx;
  const char *name;
  Inner inner;
  Cache *cache;
  uint32_t count;
  Cache *fine; // @transient
} Keeper;

int Keeper_init(Keeper *self, bs_context *ctx);
void Keeper_deinit(Keeper *self);
