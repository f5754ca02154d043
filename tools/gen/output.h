/* Writing the results: all or nothing. */
#ifndef BS_GEN_OUTPUT_H
#define BS_GEN_OUTPUT_H

#include "model.h"

typedef struct gen_file {
  const char *path;
  gen_sbuf text;
} gen_file;

/* Writes every file to a temporary next to it, then renames them all into
 * place, so a failed run (or one killed midway) never leaves a truncated
 * output that a build would compile. Returns 0 or -1 (error reported). */
int gen_write_all(gen_file *files, size_t n);

/* A Make-syntax depfile: `target: every file any parse read`, so a build
 * regenerates when any of them changes. */
int gen_write_depfile(const char *path, const char *target,
                      const gen_vec *inputs);

#endif
