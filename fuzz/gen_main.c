/* tools/gen/main.c for fuzz_gen: its main() renamed, and an entry point
 * that runs one generation (parse, check, emit, write) in process. */
#define main backstage_gen_main
#include "../tools/gen/main.c"
#undef main

int fuzz_gen_run(int argc, char **argv);
int fuzz_gen_run(int argc, char **argv) {
  options o = {0};
  return parse_args(argc, argv, &o) == 0 ? run(&o) : 2;
}
