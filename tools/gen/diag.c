#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned error_count;
static gen_vec reported; /* "file:line:col: msg" strings already printed */

static void vreport(gen_loc loc, const char *fmt, va_list ap) {
  fprintf(stderr, "%s:%u:%u: error: ", loc.file, loc.line, loc.col);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  error_count++;
}

void gen_error(gen_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc, fmt, ap);
  va_end(ap);
}

void gen_error_once(gen_loc loc, const char *msg) {
  char *key = gen_printf("%s:%u:%u: %s", loc.file, loc.line, loc.col, msg);
  for (size_t i = 0; i < reported.len; i++)
    if (strcmp(reported.items[i], key) == 0) return;
  gen_vec_push(&reported, key);
  gen_error(loc, "%s", msg);
}

void gen_warning(gen_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = gen_printf("%s:%u:%u: warning: ", loc.file, loc.line, loc.col);
  gen_sbuf b = {0};
  sb_puts(&b, msg);
  sb_vprintf(&b, fmt, ap);
  va_end(ap);
  char *key = gen_strndup(b.data, b.len);
  sb_free(&b);
  for (size_t i = 0; i < reported.len; i++)
    if (strcmp(reported.items[i], key) == 0) return;
  gen_vec_push(&reported, key);
  fprintf(stderr, "%s\n", key);
}

void gen_error_plain(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("backstage-gen: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  error_count++;
}

unsigned gen_error_count(void) { return error_count; }
