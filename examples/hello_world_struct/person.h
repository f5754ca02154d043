/* Plain data types that travel in messages. No marker is needed: a struct
 * gets its encoder and decoder because an actor method uses it, as long as
 * this header is among the generator's inputs. */
#ifndef PERSON_H
#define PERSON_H

#include <backstage.h>

typedef struct Address {
  char city[24];   /* fixed text: travels as a string, truncated if longer */
  uint32_t postcode;
} Address;

typedef struct Person {
  const char *name; /* a string: the receiver gets a NUL-terminated copy */
  uint8_t age;
  Address home;     /* nested struct, by value, to any depth */
} Person;

#endif
