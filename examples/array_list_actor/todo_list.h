/* An actor that owns a growable list of strings: dynamic arrays as
 * parameters (addAll) and inside results (page). */
#ifndef TODO_LIST_H
#define TODO_LIST_H

#include <backstage.h>

/* A slice of the list. `items` + `item_count` is one dynamic array. */
typedef struct Page {
  uint32_t offset;
  uint32_t total;
  const char *const *items;
  size_t item_count;
} Page;

// @generate-proxy
typedef struct TodoList {
  bs_context *ctx;
  /* The actor owns this memory (copies of the strings it was sent) and
   * frees it in deinit. Non-const pointers are fine in the state: they are
   * simply left out of the state encoder. */
  char **items;
  size_t count;
  size_t cap;
} TodoList;

int TodoList_init(TodoList *self, bs_context *ctx);
void TodoList_deinit(TodoList *self);

int TodoList_add(TodoList *self, const char *item);
/* A dynamic array parameter: a const pointer followed by a size_t. */
int TodoList_addAll(TodoList *self, const char *const *items, size_t count);
/* BS_ENOTFOUND (counted as a method error) when the item is not there. */
int TodoList_remove(TodoList *self, const char *item);

uint32_t TodoList_size(const TodoList *self);
bool TodoList_contains(const TodoList *self, const char *item);
/* A struct result that holds a dynamic array. */
Page TodoList_page(const TodoList *self, uint32_t offset, uint32_t limit);

#endif
