/* Diagnostics in the compilers' format, `file:line:col: error: message`, so
 * editors and IDEs jump to the spot. Errors are printed as found and
 * counted; the run writes nothing if any was reported. Warnings
 * (`file:line:col: warning: message`) are printed and do not stop it. */
#ifndef BS_GEN_DIAG_H
#define BS_GEN_DIAG_H

#include "model.h"

void gen_error(gen_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports the same location+message only once (a bad struct used by many
 * methods is one error, not many). */
void gen_error_once(gen_loc loc, const char *msg);
/* A warning: printed (once per location and message), not counted; the run
 * still writes its output. */
void gen_warning(gen_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error with no source location (bad usage, I/O). */
void gen_error_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned gen_error_count(void);

#endif
