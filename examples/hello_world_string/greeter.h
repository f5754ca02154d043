/* The smallest actor: a struct, a lifecycle, a message and a request.
 *
 * The `@generate-proxy` marker tells backstage-gen to write greeter.bs.h
 * and greeter.bs.c, which declare a GreeterProxy with one function per
 * method below. Everything here is plain C: no macros, no registration. */
#ifndef GREETER_H
#define GREETER_H

#include <backstage.h>

// @generate-proxy
typedef struct Greeter {
  bs_context *ctx; /* the actor's view of the engine, set in init */
  uint32_t count;  /* greetings handled by this instance */
} Greeter;

/* Required lifecycle: init runs on activation (the first message), deinit
 * when the actor stops or the engine is freed. */
int Greeter_init(Greeter *self, bs_context *ctx);
void Greeter_deinit(Greeter *self);

/* An int method is fire-and-forget: the caller gets 0 once it is queued. */
int Greeter_sayHello(Greeter *self, const char *name);

/* Any other return type makes a request: the caller gets the value back. */
uint32_t Greeter_getCount(const Greeter *self);

#endif
