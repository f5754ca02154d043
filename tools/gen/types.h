/* Mapping C types (as libclang sees them) onto the generator's wire types.
 *
 * Resolution is pure: it never prints. It returns the type or fills a
 * gen_err naming the place and the reason, and the caller decides whether
 * that is an error (method parameters, message structs) or just a field to
 * leave out (the actor state encoder). */
#ifndef BS_GEN_TYPES_H
#define BS_GEN_TYPES_H

#include <clang-c/Index.h>

#include "model.h"

typedef struct gen_err {
  gen_loc loc;
  const char *msg;
} gen_err;

/* Structs are only generated for headers among `inputs`. */
void gen_types_init(const gen_vec *inputs);

gen_loc gen_cursor_loc(CXCursor c);
char *gen_cx_string(CXString s); /* copies and disposes */
char *gen_type_spelling(CXType t); /* without top-level qualifiers */
char *gen_code_spelling(CXType t); /* clang's, with bool for _Bool */
bool gen_is_size_t(CXType t);

/* Resolves `t`, the type of `what` ("parameter 'x' of Greeter_move") at
 * `loc`. `next` is the type of the following parameter or field (NULL if
 * none): a const pointer followed by a size_t makes a pointer + length pair
 * and sets *pair. Returns NULL with *err filled when unsupported. */
gen_type *gen_resolve(CXType t, const CXType *next, gen_loc loc,
                      const char *what, bool *pair, gen_err *err);

/* Marks every struct reachable from `t` as used, so its codec is emitted. */
void gen_type_mark_used(gen_type *t);

/* Marks every struct reachable from `t` as used by a state encoder (and
 * used), so its S__encode_named is emitted too. */
void gen_type_mark_state(gen_type *t);

/* Resolves the fields of the struct defined at `def` that can be encoded,
 * leaving out the others: the actor state encoder's view of the state. */
void gen_resolve_lenient_fields(CXCursor def, gen_vec *out);

/* The stored fields of persistent actor `actor`'s state, defined at `def`
 * in `in`: every field but pointers to bs_context and fields marked
 * `@transient` (in a comment on the field's line, or on a comment line
 * right above it). Each must encode and be a value (no pointer inside:
 * a stored state outlives every pointer); otherwise an error says to
 * change it or mark it transient. Returns false after errors. */
bool gen_resolve_persist_fields(CXCursor def, const gen_input *in,
                                const char *actor, gen_vec *out);

#endif
