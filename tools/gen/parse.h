/* Parsing one header with libclang and discovering its actors. */
#ifndef BS_GEN_PARSE_H
#define BS_GEN_PARSE_H

#include <clang-c/Index.h>

#include "model.h"

/* Parses `in` with `args` (the user's compiler flags plus ours), records
 * the files it read in in->deps and the file-scope names it saw in
 * in->decls, and fills in->actors for every marked struct (markers in code
 * the preprocessor skipped mark nothing). Errors are reported; the caller
 * checks gen_error_count(). */
void gen_parse_input(CXIndex index, gen_input *in, const char *const *args,
                     int nargs);

#endif
