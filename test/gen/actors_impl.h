/* The fixture actors' methods (fixtures/greeter.h, fixtures/kitchen.h),
 * for the tests. Fire-and-forget methods describe what they received in
 * gen_seen, a printf-style line, so tests can compare one string. */
#ifndef GEN_ACTORS_IMPL_H
#define GEN_ACTORS_IMPL_H

#include "greeter.h"
#include "kitchen.h"

extern char gen_seen[4096];
extern int gen_inits, gen_deinits;

#endif
