/* Pluggable allocation.
 *
 * The engine takes every byte of memory it owns through one function, in the
 * style of Lua's lua_Alloc:
 *
 *   fn(ud, NULL, 0, n)        allocate n bytes (n > 0); NULL on failure
 *   fn(ud, p, old, n)         resize p from old to n bytes (n > 0); NULL on
 *                             failure, in which case p is left untouched
 *   fn(ud, p, old, 0)         free p (p may be NULL); returns NULL
 *
 * `old` is always the size the engine asked for when it got `p`, so an
 * allocator can account bytes without headers. The engine never aborts when
 * the allocator fails: the call that needed memory returns BS_ENOMEM and the
 * engine stays consistent.
 *
 * All calls happen on the engine's loop thread (foreign-thread posts use
 * caller-owned memory, see bs_engine_post), so the function needs no locking
 * unless it is shared between engines on different threads.
 */
#ifndef BACKSTAGE_ALLOC_H
#define BACKSTAGE_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *(*bs_alloc_fn)(void *ud, void *ptr, size_t old_size,
                             size_t new_size);

typedef struct bs_allocator {
  bs_alloc_fn fn; /* NULL: the C library's malloc/realloc/free */
  void *ud;
} bs_allocator;

/* The default allocator (malloc/realloc/free). */
void *bs_default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size);

#ifdef __cplusplus
}
#endif
#endif
