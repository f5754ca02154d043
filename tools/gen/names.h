/* Name checks: every file-scope name the generated files would declare
 * must be new. Run after parsing (it needs every actor and every used
 * struct), before anything is written. */
#ifndef BS_GEN_NAMES_H
#define BS_GEN_NAMES_H

#include "model.h"

/* Reports, as errors:
 *   - a generated name made twice (a method `get` and TProxy_get; two
 *     actors or structs of the same name in different headers), at the
 *     declaration that makes the second;
 *   - a name some parse declared (in->decls) that is also generated: at
 *     that declaration if it is in a scanned header, otherwise (the
 *     library's own names) at what generates it. */
void gen_names_check(const gen_vec *inputs);

#endif
