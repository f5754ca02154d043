/* Building an actor from a marked struct: lifecycle, methods, state. */
#ifndef BS_GEN_ACTOR_H
#define BS_GEN_ACTOR_H

#include <clang-c/Index.h>

#include "model.h"

/* A top-level declaration of the main file, with where its text starts:
 * a marker applies to the first declaration that starts after it. */
typedef struct top_decl {
  CXCursor cursor;
  unsigned start;
} top_decl;

/* `marked` is the declaration after the marker (the struct or its typedef),
 * `def` the struct's definition, `tops` every top-level declaration of the
 * file (top_decl *), where the methods are looked up, `in` the file (its
 * text holds the @transient markers of a persistent actor's fields).
 * Reports errors and returns NULL if the actor cannot be generated. */
gen_actor *gen_actor_build(CXCursor marked, CXCursor def, const gen_vec *tops,
                           const gen_input *in, bool persistent);

#endif
