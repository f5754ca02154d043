#include "todo_list.h"

#include <stdlib.h>
#include <string.h>

int TodoList_init(TodoList *self, bs_context *ctx) {
  self->ctx = ctx; /* items, count and cap start zeroed */
  return 0;
}

void TodoList_deinit(TodoList *self) {
  for (size_t i = 0; i < self->count; i++) free(self->items[i]);
  free(self->items);
}

static char *copy_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (c) memcpy(c, s, n);
  return c;
}

/* Doubles the capacity when full. */
static int reserve(TodoList *self, size_t extra) {
  if (self->count + extra <= self->cap) return 0;
  size_t cap = self->cap ? self->cap : 4;
  while (cap < self->count + extra) cap *= 2;
  char **items = realloc(self->items, cap * sizeof *items);
  if (!items) return BS_ENOMEM;
  self->items = items;
  self->cap = cap;
  return 0;
}

int TodoList_add(TodoList *self, const char *item) {
  if (!item) return BS_EINVAL;
  int rc = reserve(self, 1);
  if (rc < 0) return rc;
  /* `item` points into the message: keep a copy. */
  char *copy = copy_string(item);
  if (!copy) return BS_ENOMEM;
  self->items[self->count++] = copy;
  return 0;
}

int TodoList_addAll(TodoList *self, const char *const *items, size_t count) {
  int rc = reserve(self, count);
  for (size_t i = 0; rc == 0 && i < count; i++) rc = TodoList_add(self, items[i]);
  return rc;
}

static size_t find(const TodoList *self, const char *item) {
  for (size_t i = 0; i < self->count; i++)
    if (strcmp(self->items[i], item) == 0) return i;
  return self->count;
}

int TodoList_remove(TodoList *self, const char *item) {
  size_t i = item ? find(self, item) : self->count;
  if (i == self->count) return BS_ENOTFOUND;
  free(self->items[i]);
  memmove(&self->items[i], &self->items[i + 1],
          (self->count - i - 1) * sizeof *self->items);
  self->count--;
  return 0;
}

uint32_t TodoList_size(const TodoList *self) { return (uint32_t)self->count; }

bool TodoList_contains(const TodoList *self, const char *item) {
  return item && find(self, item) < self->count;
}

Page TodoList_page(const TodoList *self, uint32_t offset, uint32_t limit) {
  /* The reply is encoded as soon as this returns: pointing into the
   * state is safe, no copy is needed. */
  Page p = {offset, (uint32_t)self->count, NULL, 0};
  if (offset < self->count) {
    p.items = (const char *const *)(self->items + offset);
    p.item_count = self->count - offset < limit ? self->count - offset : limit;
  }
  return p;
}
