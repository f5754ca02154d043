/* tools/gen/types.c for fuzz_gen, plus a reset of its globals between runs. */
#include "../tools/gen/types.c"

void fuzz_gen_reset_types(void);
void fuzz_gen_reset_types(void) {
  g_inputs = NULL;
  memset(&g_structs, 0, sizeof g_structs);
}
