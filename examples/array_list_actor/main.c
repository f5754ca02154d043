/* array_list_actor: an actor holding a growable list; arrays go in as
 * parameters and come back inside results. */
#include <inttypes.h>
#include <stdio.h>

#include "todo_list.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

static int fill(TodoListProxy list) {
  static const char *const chores[] = {"water the plants", "pay rent",
                                       "call mum", "fix the bike",
                                       "buy coffee", "book flights"};
  int rc = check(TodoListProxy_add(list, "write examples"), "add");
  /* One message carries the whole array. */
  if (rc == 0) rc = check(TodoListProxy_addAll(list, chores, 6), "addAll");
  if (rc == 0) rc = check(TodoListProxy_remove(list, "pay rent"), "remove");
  /* Queued fine; the actor's BS_ENOTFOUND shows up as a method error. */
  if (rc == 0) rc = check(TodoListProxy_remove(list, "learn Zig"), "remove");
  return rc;
}

/* Prints the list a page at a time: every page comes back in one reply. */
static int print_pages(TodoListProxy list, uint32_t per_page) {
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){0});
  int rc = 0;
  for (uint32_t offset = 0;; offset += per_page) {
    Page page;
    rc = check(TodoListProxy_page_await(list, offset, per_page, &arena, &page), "page");
    if (rc < 0 || page.item_count == 0) break;
    printf("page at %" PRIu32 " of %" PRIu32 ":", page.offset, page.total);
    for (size_t i = 0; i < page.item_count; i++) printf(" [%s]", page.items[i]);
    printf("\n");
    bs_arena_reset(&arena); /* this page's strings are no longer needed */
  }
  bs_arena_free(&arena);
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  TodoListProxy list;
  int rc = check(bs_get_actor(engine, TodoList, "todo", &list), "get");
  if (rc == 0) rc = fill(list);

  uint32_t size = 0;
  bool has_rent = true, has_coffee = false;
  if (rc == 0) rc = check(TodoListProxy_size_await(list, &size), "size");
  if (rc == 0) rc = check(TodoListProxy_contains_await(list, "pay rent", &has_rent), "contains");
  if (rc == 0) rc = check(TodoListProxy_contains_await(list, "buy coffee", &has_coffee), "contains");
  if (rc == 0)
    printf("main: %" PRIu32 " items, pay rent: %s, buy coffee: %s\n", size,
           has_rent ? "yes" : "no", has_coffee ? "yes" : "no");

  if (rc == 0) rc = print_pages(list, 4);

  bs_engine_stats stats;
  bs_engine_stats_get(engine, &stats);
  printf("main: %" PRIu64 " method error(s)\n", stats.method_errors);

  bs_engine_free(engine); /* TodoList_deinit frees the strings */
  return rc == 0 ? 0 : 1;
}
