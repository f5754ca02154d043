/* Emitting C: values (emit_value.c), struct codecs and state encoders
 * (emit_codec.c), stream element types and subscriber helpers
 * (emit_stream.c), actors (emit_actor.c) and whole files (emit_file.c).
 *
 * Generated code is meant to be read when debugging: one statement per
 * line, two-space indents, the wire keys and ids in comments. Every
 * function here appends to a gen_sbuf; none can fail. */
#ifndef BS_GEN_EMIT_H
#define BS_GEN_EMIT_H

#include "model.h"

/* "T name", also for arrays ("int32_t name[4]") and pointers. */
const char *emit_decl(const gen_type *t, const char *name);

/* Statements writing `expr` (and `count`, for pointer + length pairs) to
 * the bs_writer * expression `w`. `depth` keeps loop variables unique. */
void emit_encode(gen_sbuf *b, const gen_type *t, const char *w,
                 const char *expr, const char *count, int depth, int ind);
/* The same for actor state encoders: structs, at any depth, are written by
 * S__encode_named (maps keyed by field name) instead of S__encode. */
void emit_encode_named(gen_sbuf *b, const gen_type *t, const char *w,
                       const char *expr, const char *count, int depth,
                       int ind);
/* Statements reading into the lvalue `lv` (and `count`) from the
 * bs_reader * expression `r`. Errors stay in r->err (sticky). */
void emit_decode(gen_sbuf *b, const gen_type *t, const char *r,
                 const char *lv, const char *count, int depth, int ind);
/* A zero-initialised local `name` of type `t` (plus `name_n` for pairs). */
/* The local an argument is decoded into: as emit_local, but what its
 * decoder zeroes anyway (structs, fixed arrays) is not zeroed twice. Only
 * for values whose decoding always runs. */
void emit_arg_local(gen_sbuf *b, const gen_type *t, const char *name, int ind);
void emit_local(gen_sbuf *b, const gen_type *t, const char *name, int ind);
/* true if decoded values of `t` point into the message. */
bool emit_has_pointers(const gen_type *t);
/* Whether a value of `t` holds a blob reference, at any depth. */
bool emit_holds_blob(const gen_type *t);
/* Whether an await of a method returning `ret` needs the caller's arena
 * (pointers into the reply; a blob is retained for the caller instead). */
bool emit_await_arena(const gen_type *ret);
bool emit_is_pair(const gen_type *t);

void emit_struct_prototypes(gen_sbuf *h, const gen_struct *st);
void emit_struct_codec(gen_sbuf *c, const gen_struct *st);

/* Streams (emit_stream.c). The element token of a struct (its codec
 * prefix), or NULL when its name is one of the library's built-in tokens
 * or ends in _array. */
const char *emit_struct_token(const gen_struct *st);
/* The token of a method's single parameter ("i64", "Headline", and for a
 * dynamic array pair "i64_array", "Headline_array", for a byte pair
 * "bytes"), or NULL: not one parameter, or a type without a stream element
 * type (enums, fixed arrays, arrays of those). */
const char *emit_method_token(const gen_method *m);
void emit_struct_stream_decl(gen_sbuf *h, const gen_struct *st);
void emit_struct_stream_impl(gen_sbuf *c, const gen_struct *st);
void emit_subscriber(gen_sbuf *h, const gen_actor *a, const gen_method *m);

void emit_state_encoder(gen_sbuf *c, const gen_actor *a);
/* A persistent actor's T__save_state and T__load_state. */
void emit_persist_codec(gen_sbuf *c, const gen_actor *a);
void emit_actor_header(gen_sbuf *h, const gen_actor *a);
void emit_actor_source(gen_sbuf *c, const gen_actor *a);

/* The .bs.h and .bs.c of one input. */
void emit_file_header(gen_sbuf *h, const gen_input *in);
void emit_file_source(gen_sbuf *c, const gen_input *in, const gen_vec *inputs);

#endif
