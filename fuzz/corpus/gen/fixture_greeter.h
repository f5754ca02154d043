/* The smallest useful actor: a string method, a counter and a request. */
#ifndef GREETER_H
#define GREETER_H

#include <backstage.h>

// @generate-proxy
typedef struct Greeter {
  bs_context *ctx; /* set in init; not encodable, left out of the state */
  uint32_t count;
  char last[32];
} Greeter;

int Greeter_init(Greeter *self, bs_context *ctx);
void Greeter_deinit(Greeter *self);

int Greeter_sayHello(Greeter *self, const char *name);
void Greeter_reset(Greeter *self);
uint32_t Greeter_getCount(const Greeter *self);
const char *Greeter_lastName(const Greeter *self);

/* Not methods: a static helper, and a function of another type. */
static inline int Greeter_helper(int x) { return x; }
int Greeter_create(int x);

#endif
