/* Small utilities of backstage-gen: a bump allocator for the model, a
 * growable string buffer for output, FNV-1a.
 *
 * The generator is a short-lived process. Everything the model holds comes
 * from one arena released at exit, so the model code never frees pieces and
 * never checks for NULL: running out of memory ends the run (exit 2), and
 * since output is only written at the very end, nothing partial is left. */
#ifndef BS_GEN_UTIL_H
#define BS_GEN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *gen_alloc(size_t size);          /* zeroed; never NULL */
char *gen_strdup(const char *s);
char *gen_strndup(const char *s, size_t n);
char *gen_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gen_arena_release(void);

/* A growable array of pointers (model lists). */
typedef struct gen_vec {
  void **items;
  size_t len, cap;
} gen_vec;
void gen_vec_push(gen_vec *v, void *item);

typedef struct gen_sbuf {
  char *data;
  size_t len, cap;
} gen_sbuf;
void sb_puts(gen_sbuf *b, const char *s);
void sb_printf(gen_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_vprintf(gen_sbuf *b, const char *fmt, va_list ap);
void sb_indent(gen_sbuf *b, int level); /* two spaces per level */
void sb_free(gen_sbuf *b);

/* 32-bit FNV-1a: the stable wire id of a method or struct field name. */
uint32_t gen_fnv1a32(const char *s);

#endif
