/* An actor whose methods take and return a custom struct. */
#ifndef GREETER_H
#define GREETER_H

#include <backstage.h>

#include "person.h"

// @generate-proxy
typedef struct Greeter {
  bs_context *ctx;
  uint32_t count;
  /* The oldest person greeted so far. The name is copied into the state:
   * what a method receives is only valid during the call. */
  char oldest_name[32];
  uint8_t oldest_age;
  Address oldest_home;
} Greeter;

int Greeter_init(Greeter *self, bs_context *ctx);
void Greeter_deinit(Greeter *self);

/* A struct by value as a parameter. */
int Greeter_greet(Greeter *self, Person person);

/* A struct as a result. It holds a pointer (the name), so the awaiting
 * caller passes an arena that will own the copy it gets back. */
Person Greeter_oldest(const Greeter *self);

#endif
