/* Finding the headers to scan and the `@generate-proxy` markers in them. */
#ifndef BS_GEN_INPUTS_H
#define BS_GEN_INPUTS_H

#include "model.h"

/* Adds `arg` (a header, or a directory scanned recursively for *.h) to
 * `inputs` (gen_input *), in a deterministic order: arguments as given,
 * directory entries sorted. Skips generated *.bs.h files and anything under
 * `skip_real` (the output directory). Returns 0 or -1 (error reported). */
int gen_inputs_add(gen_vec *inputs, const char *arg, const char *skip_real);

/* Reports inputs whose outputs would collide. Returns 0 or -1. */
int gen_inputs_check(const gen_vec *inputs);

/* Fills in->markers with the offsets just past each `@generate-proxy`
 * comment in in->text. Comments are found with a small lexer that knows
 * string and character literals, so a marker inside a string is not one. */
void gen_find_markers(gen_input *in);

#endif
