/* backstage-gen: type-safe proxies for `// @generate-proxy` structs.
 *
 *   backstage-gen [--depfile FILE [--depfile-target T]] OUTPUT_DIR
 *                 SOURCE_DIR_OR_FILE... [-- compiler flags]
 *
 * The run has three phases, and only the last touches the file system:
 * collect the inputs and parse the marked ones (building the model), check
 * it (every error is reported, not just the first; the generated names last,
 * once every actor and struct is known), then emit every file and write
 * them all. Exit status: 0 done, 1 errors in the input, 2 bad usage
 * or I/O. See docs/generator.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <clang-c/Index.h>

#include "diag.h"
#include "emit.h"
#include "inputs.h"
#include "names.h"
#include "output.h"
#include "parse.h"
#include "types.h"

#ifndef BS_GEN_RESOURCE_DIR
#define BS_GEN_RESOURCE_DIR ""
#endif
#ifndef BS_GEN_VERSION
#define BS_GEN_VERSION "0"
#endif

typedef struct options {
  const char *depfile, *depfile_target, *out_dir;
  gen_vec sources; /* const char * */
  gen_vec flags;   /* const char *, after "--" */
} options;

static void usage(FILE *f) {
  fputs("usage: backstage-gen [--depfile FILE [--depfile-target T]] "
        "OUTPUT_DIR\n"
        "                     SOURCE_DIR_OR_FILE... [-- compiler flags]\n"
        "Generates <name>.bs.h/.bs.c under OUTPUT_DIR for every header "
        "(directories\nare scanned recursively for *.h). Compiler flags "
        "(-I, -D, -std=) are those\nthe build uses for the headers. See "
        "docs/generator.md.\n", f);
}

static int parse_args(int argc, char **argv, options *o) {
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(argv[i], "--version") == 0) {
      printf("backstage-gen %s\n", BS_GEN_VERSION);
      exit(0);
    } else if (strcmp(argv[i], "--depfile") == 0 && i + 1 < argc) {
      o->depfile = argv[++i];
    } else if (strcmp(argv[i], "--depfile-target") == 0 && i + 1 < argc) {
      o->depfile_target = argv[++i];
    } else {
      fprintf(stderr, "backstage-gen: unknown option '%s'\n", argv[i]);
      return -1;
    }
  }
  if (i < argc && strcmp(argv[i], "--") != 0) o->out_dir = argv[i++];
  for (; i < argc && strcmp(argv[i], "--") != 0; i++)
    gen_vec_push(&o->sources, argv[i]);
  for (i++; i < argc; i++) gen_vec_push(&o->flags, argv[i]);
  if (o->out_dir == NULL || o->sources.len == 0) {
    usage(stderr);
    return -1;
  }
  return 0;
}

/* Our flags first, the user's after (theirs win: a later -std= overrides
 * ours). -resource-dir lets libclang find its own <stddef.h> etc., which a
 * libclang used outside the clang driver does not locate by itself. */
static const char **clang_args(const options *o, int *n) {
  const char **args = gen_alloc((o->flags.len + 8) * sizeof *args);
  int k = 0;
  args[k++] = "-xc";
  args[k++] = "-std=c11";
  args[k++] = "-DBACKSTAGE_GEN=1";
  const char *res = getenv("BACKSTAGE_GEN_RESOURCE_DIR");
  if (res == NULL || !res[0]) res = BS_GEN_RESOURCE_DIR;
  struct stat st;
  if (res[0] && stat(res, &st) == 0) {
    args[k++] = "-resource-dir";
    args[k++] = res;
  }
  for (size_t i = 0; i < o->flags.len; i++) args[k++] = o->flags.items[i];
  *n = k;
  return args;
}

static void parse_all(const options *o, gen_vec *inputs) {
  int nargs;
  const char **args = clang_args(o, &nargs);
  CXIndex index = clang_createIndex(0, 0);
  gen_types_init(inputs);
  for (size_t i = 0; i < inputs->len; i++) {
    gen_input *in = inputs->items[i];
    gen_find_markers(in);
    /* Headers without markers need no parse: their structs are found
     * through the headers that use them. */
    if (in->markers.len > 0) gen_parse_input(index, in, args, nargs);
  }
  clang_disposeIndex(index);
}

static int by_offset(const void *x, const void *y) {
  const gen_struct *a = *(gen_struct *const *)x, *b = *(gen_struct *const *)y;
  return a->def_offset < b->def_offset ? -1 : a->def_offset > b->def_offset;
}

/* Each used struct's codec lives in the output of the header defining it. */
static void place_structs(void) {
  gen_vec *all = gen_struct_all();
  for (size_t i = 0; i < all->len; i++) {
    gen_struct *st = all->items[i];
    if (st->used && st->state == GEN_OK && st->home != NULL)
      gen_vec_push(&st->home->structs, st);
  }
  for (size_t i = 0; i < all->len; i++) {
    gen_struct *st = all->items[i];
    gen_vec *v = st->home ? &st->home->structs : NULL;
    if (v && v->len > 1) qsort(v->items, v->len, sizeof(void *), by_offset);
  }
}

static const char *out_path(const options *o, const gen_input *in,
                            const char *ext) {
  size_t n = strlen(o->out_dir);
  while (n > 1 && o->out_dir[n - 1] == '/') n--;
  return gen_printf("%.*s/%s.bs.%s", (int)n, o->out_dir, in->stem, ext);
}

static int emit_all(const options *o, const gen_vec *inputs) {
  size_t n = inputs->len * 2;
  gen_file *files = gen_alloc(n * sizeof *files);
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    files[2 * i].path = out_path(o, in, "h");
    emit_file_header(&files[2 * i].text, in);
    files[2 * i + 1].path = out_path(o, in, "c");
    emit_file_source(&files[2 * i + 1].text, in, inputs);
  }
  int rc = gen_write_all(files, n);
  if (rc == 0 && o->depfile != NULL)
    rc = gen_write_depfile(o->depfile,
                           o->depfile_target ? o->depfile_target
                                             : files[0].path,
                           inputs);
  for (size_t i = 0; i < n; i++) sb_free(&files[i].text);
  return rc;
}

static int run(const options *o) {
  gen_vec inputs = {0};
  char *skip = realpath(o->out_dir, NULL);
  const char *skip_real = skip ? gen_strdup(skip) : NULL;
  free(skip);
  for (size_t i = 0; i < o->sources.len; i++)
    if (gen_inputs_add(&inputs, o->sources.items[i], skip_real) != 0) return 2;
  if (inputs.len == 0) {
    gen_error_plain("no headers (*.h) found in the given sources");
    return 2;
  }
  if (gen_inputs_check(&inputs) != 0) return 2;
  parse_all(o, &inputs);
  if (gen_error_count() > 0) return 1;
  place_structs();
  gen_names_check(&inputs);
  if (gen_error_count() > 0) return 1;
  return emit_all(o, &inputs) == 0 ? 0 : 2;
}

int main(int argc, char **argv) {
  options o = {0};
  int rc = parse_args(argc, argv, &o) == 0 ? run(&o) : 2;
  if (rc != 0 && gen_error_count() > 0)
    fprintf(stderr, "backstage-gen: %u error%s, nothing written\n",
            gen_error_count(), gen_error_count() == 1 ? "" : "s");
  gen_arena_release();
  return rc;
}
