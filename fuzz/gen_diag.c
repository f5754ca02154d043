/* tools/gen/diag.c for fuzz_gen, plus a reset of its globals between runs
 * (the generator is written as a one-shot process). */
#include "../tools/gen/diag.c"

void fuzz_gen_reset_diag(void);
void fuzz_gen_reset_diag(void) {
  error_count = 0;
  memset(&reported, 0, sizeof reported);
}
