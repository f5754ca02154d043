/* fuzz_gen: backstage-gen on malformed and hostile headers, in process.
 *
 * The generator's sources are compiled into this target (main.c renamed,
 * see gen_main.c; the globals of diag.c and types.c reset between runs, see
 * gen_diag.c and gen_types.c), so libFuzzer sees its coverage. Each input is
 * written to <tmp>/in/fuzz.h and run exactly as the build would run it:
 *
 *   backstage-gen <tmp>/out <tmp>/in/fuzz.h -- -I include -I test/gen/fixtures
 *
 * Checked for every input:
 *   - no crash, no sanitizer report, no exit (the generator exits only on
 *     out of memory);
 *   - status 0 or 1 (2 is bad usage or I/O, which a header cannot cause);
 *   - status 1 comes with at least one error, and every line it prints
 *     is a diagnostic, in the compilers' format ("file:line:col: error:
 *     message", or "warning:") or "backstage-gen: error: ...";
 *   - status 1 writes nothing (no output, no temporary left behind);
 *   - status 0 prints nothing but warnings and writes fuzz.bs.h and
 *     fuzz.bs.c, and if the
 *     header compiles (libclang, the same flags) so does the generated
 *     fuzz.bs.c. (A header without a marker is not parsed at all, so a
 *     broken one is accepted: that is not a finding.)
 * Set FUZZ_GEN_NO_COMPILE=1 to skip the last check (twice the speed). */
#include <dirent.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clang-c/Index.h>

#ifndef FUZZ_INCLUDE_DIR
#define FUZZ_INCLUDE_DIR "include"
#endif
#ifndef BS_GEN_RESOURCE_DIR
#define BS_GEN_RESOURCE_DIR ""
#endif

/* From the generator (tools/gen) and the wrappers. */
int fuzz_gen_run(int argc, char **argv);
unsigned gen_error_count(void);
void gen_arena_release(void);
void fuzz_gen_reset_diag(void);
void fuzz_gen_reset_types(void);

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(real_stderr, "fuzz_gen: check failed at %s:%d: %s\n", __FILE__,  \
              __LINE__, #cond);                                                \
      fprintf(real_stderr, __VA_ARGS__);                                       \
      fputc('\n', real_stderr);                                                \
      abort();                                                                 \
    }                                                                          \
  } while (0)

static FILE *real_stderr;
static char dir[256], in_dir[300], out_dir[300], header[320];
static char fixtures[512];
static regex_t diag_line, warning_line;
static bool compile_check = true;

static void cleanup(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "fuzz_gen: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  real_stderr = stderr;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/bs-fuzz-gen-%ld", tmp && *tmp ? tmp : "/tmp",
           (long)getpid());
  snprintf(in_dir, sizeof in_dir, "%s/in", dir);
  snprintf(out_dir, sizeof out_dir, "%s/out", dir);
  snprintf(header, sizeof header, "%s/fuzz.h", in_dir);
  snprintf(fixtures, sizeof fixtures, "%s/../test/gen/fixtures",
           FUZZ_INCLUDE_DIR);
  if (mkdir(dir, 0700) != 0 || mkdir(in_dir, 0700) != 0 ||
      mkdir(out_dir, 0700) != 0) {
    perror("fuzz_gen: mkdir");
    exit(1);
  }
  atexit(cleanup);
  if (regcomp(&diag_line,
              "^(.+:[0-9]+:[0-9]+: (error|warning): .+|backstage-gen: error: .+)$",
              REG_EXTENDED | REG_NOSUB) != 0 ||
      regcomp(&warning_line, "^.+:[0-9]+:[0-9]+: warning: .+$",
              REG_EXTENDED | REG_NOSUB) != 0)
    abort();
  const char *nc = getenv("FUZZ_GEN_NO_COMPILE");
  compile_check = !(nc && *nc && *nc != '0');
  return 0;
}

/* Names in out_dir (files the run left there). */
static int list_out(char names[][256], int max) {
  DIR *d = opendir(out_dir);
  int n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
      continue;
    if (n < max) snprintf(names[n], 256, "%s", e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static void clear_out(void) {
  char names[16][256];
  int n = list_out(names, 16);
  for (int i = 0; i < n && i < 16; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", out_dir, names[i]);
    unlink(p);
  }
}

/* Parses `src` (the generated source, or the input header itself); returns
 * the first error, or NULL. */
static char *compile_errors(const char *src) {
  char inc_out[320], inc_in[320], inc_inc[600], inc_fx[600];
  snprintf(inc_out, sizeof inc_out, "-I%s", out_dir);
  snprintf(inc_in, sizeof inc_in, "-I%s", in_dir);
  snprintf(inc_inc, sizeof inc_inc, "-I%s", FUZZ_INCLUDE_DIR);
  snprintf(inc_fx, sizeof inc_fx, "-I%s", fixtures);
  const char *args[10];
  int k = 0;
  args[k++] = "-xc";
  args[k++] = "-std=c11";
  args[k++] = "-DBACKSTAGE_GEN=1";
  args[k++] = inc_out;
  args[k++] = inc_in;
  args[k++] = inc_inc;
  args[k++] = inc_fx;
  struct stat st;
  if (BS_GEN_RESOURCE_DIR[0] && stat(BS_GEN_RESOURCE_DIR, &st) == 0) {
    args[k++] = "-resource-dir";
    args[k++] = BS_GEN_RESOURCE_DIR;
  }
  CXIndex index = clang_createIndex(0, 0);
  CXTranslationUnit tu = NULL;
  char *err = NULL;
  if (clang_parseTranslationUnit2(index, src, args, k, NULL, 0,
                                  CXTranslationUnit_KeepGoing, &tu) !=
          CXError_Success ||
      tu == NULL) {
    err = strdup("libclang could not parse the generated source");
  } else {
    unsigned n = clang_getNumDiagnostics(tu);
    for (unsigned i = 0; i < n && !err; i++) {
      CXDiagnostic d = clang_getDiagnostic(tu, i);
      if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error) {
        CXString s = clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions());
        err = strdup(clang_getCString(s));
        clang_disposeString(s);
      }
      clang_disposeDiagnostic(d);
    }
    clang_disposeTranslationUnit(tu);
  }
  clang_disposeIndex(index);
  return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 64 * 1024) return 0;
  FILE *f = fopen(header, "wb");
  if (!f) abort();
  if (size) fwrite(data, 1, size, f);
  fclose(f);
  clear_out();

  /* Capture what the generator prints; sanitizer reports still go to fd 2. */
  char *text = NULL;
  size_t text_len = 0;
  FILE *cap = open_memstream(&text, &text_len);
  if (!cap) abort();
  stderr = cap;
  char *argv[] = {"backstage-gen", out_dir, header, "--",
                  "-I" FUZZ_INCLUDE_DIR, NULL, NULL};
  char fx[600];
  snprintf(fx, sizeof fx, "-I%s", fixtures);
  argv[5] = fx;
  int rc = fuzz_gen_run(6, argv);
  unsigned errors = gen_error_count();
  fflush(cap);
  stderr = real_stderr;
  fclose(cap);

  gen_arena_release();
  fuzz_gen_reset_diag();
  fuzz_gen_reset_types();

  char names[16][256];
  int nout = list_out(names, 16);
  CHECK(rc == 0 || rc == 1, "status %d; it printed:\n%s", rc, text);
  if (rc == 1) {
    CHECK(errors > 0 && text_len > 0, "status 1 with no diagnostic");
    char *save = NULL;
    bool in_clang_report = false;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      /* libclang prints its own report when it crashes (and recovers);
       * the generator's error for it follows and is checked like any. */
      if (strncmp(line, "libclang: crash detected", 24) == 0) in_clang_report = true;
      if (in_clang_report) {
        if (strcmp(line, "}") == 0) in_clang_report = false;
        continue;
      }
      CHECK(regexec(&diag_line, line, 0, NULL, 0) == 0,
            "not a diagnostic line: '%s'", line);
    }
    CHECK(nout == 0, "status 1 but %d file(s) left in the output directory "
          "(first: %s)", nout, nout ? names[0] : "");
  } else {
    CHECK(errors == 0, "status 0 with %u errors", errors);
    char *save = NULL;
    for (char *line = text_len ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save))
      CHECK(regexec(&warning_line, line, 0, NULL, 0) == 0,
            "status 0 but it printed '%s'", line);
    CHECK(nout == 2, "status 0 but %d output file(s)", nout);
    if (compile_check) {
      /* Headers without a marker are not parsed by the generator, so a
       * broken one is accepted (garbage in): only a header that compiles
       * must give output that compiles. */
      char src[400];
      snprintf(src, sizeof src, "%s/fuzz.bs.c", out_dir);
      char *err = compile_errors(src);
      char *in_err = err ? compile_errors(header) : NULL;
      CHECK(err == NULL || in_err != NULL, "the generator accepted a header "
            "that compiles, but its output does not compile:\n%s", err);
      free(err);
      free(in_err);
    }
  }
  free(text);
  return 0;
}
