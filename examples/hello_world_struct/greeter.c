#include "greeter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int Greeter_init(Greeter *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Greeter_deinit(Greeter *self) { (void)self; }

int Greeter_greet(Greeter *self, Person person) {
  self->count++;
  printf("[%s] Hello, %s (%u) from %s %05" PRIu32 "! (message %" PRIu32 ")\n",
         bs_context_id(self->ctx), person.name, (unsigned)person.age,
         person.home.city, person.home.postcode, self->count);

  if (person.age > self->oldest_age) {
    /* Keep a copy: person.name points into the message. */
    snprintf(self->oldest_name, sizeof self->oldest_name, "%s", person.name);
    self->oldest_age = person.age;
    self->oldest_home = person.home; /* no pointers inside: plain copy */
  }
  return 0;
}

Person Greeter_oldest(const Greeter *self) {
  /* The reply is encoded as soon as this returns, so pointing into the
   * actor's own state is fine. */
  Person p;
  memset(&p, 0, sizeof p);
  p.name = self->oldest_name;
  p.age = self->oldest_age;
  p.home = self->oldest_home;
  return p;
}
