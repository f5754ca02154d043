#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  max_align_t data[];
} chunk;

static chunk *arena_head;

static void out_of_memory(void) {
  fputs("backstage-gen: out of memory\n", stderr);
  exit(2);
}

void *gen_alloc(size_t size) {
  size_t align = sizeof(max_align_t);
  size = (size + align - 1) / align * align;
  if (arena_head == NULL || arena_head->cap - arena_head->used < size) {
    size_t cap = size > 65536 ? size : 65536;
    chunk *c = malloc(sizeof *c + cap);
    if (c == NULL) out_of_memory();
    c->next = arena_head;
    c->used = 0;
    c->cap = cap;
    arena_head = c;
  }
  void *p = (char *)arena_head->data + arena_head->used;
  arena_head->used += size;
  memset(p, 0, size);
  return p;
}

void gen_arena_release(void) {
  while (arena_head != NULL) {
    chunk *next = arena_head->next;
    free(arena_head);
    arena_head = next;
  }
}

char *gen_strndup(const char *s, size_t n) {
  char *d = gen_alloc(n + 1);
  memcpy(d, s, n);
  return d;
}

char *gen_strdup(const char *s) { return gen_strndup(s, strlen(s)); }

char *gen_printf(const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = gen_alloc((size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

void gen_vec_push(gen_vec *v, void *item) {
  if (v->len == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    void **items = gen_alloc(cap * sizeof *items);
    if (v->len) memcpy(items, v->items, v->len * sizeof *items);
    v->items = items;
    v->cap = cap;
  }
  v->items[v->len++] = item;
}

static void sb_reserve(gen_sbuf *b, size_t extra) {
  if (b->cap - b->len > extra) return;
  size_t cap = b->cap ? b->cap : 1024;
  while (cap - b->len <= extra) cap *= 2;
  char *data = realloc(b->data, cap);
  if (data == NULL) out_of_memory();
  b->data = data;
  b->cap = cap;
}

void sb_puts(gen_sbuf *b, const char *s) {
  size_t n = strlen(s);
  sb_reserve(b, n);
  memcpy(b->data + b->len, s, n + 1);
  b->len += n;
}

void sb_vprintf(gen_sbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  sb_reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  b->len += (size_t)n;
}

void sb_printf(gen_sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sb_vprintf(b, fmt, ap);
  va_end(ap);
}

void sb_indent(gen_sbuf *b, int level) {
  for (int i = 0; i < level; i++) sb_puts(b, "  ");
}

void sb_free(gen_sbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

uint32_t gen_fnv1a32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}
