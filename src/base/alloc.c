/* The default allocator and the heap: every allocation the engine makes
 * goes through one of these, so memory is counted and a test can fail the
 * N-th allocation. */
#include <stdlib.h>

#include "internal.h"

void *bs_default_alloc(void *ud, void *ptr, size_t old_size, size_t new_size) {
  (void)ud;
  (void)old_size;
  if (new_size == 0) {
    free(ptr);
    return NULL;
  }
  return ptr ? realloc(ptr, new_size) : malloc(new_size);
}

void bs__heap_init(bs__heap *h, bs_allocator a, bool shared) {
  memset(h, 0, sizeof *h);
  h->a.fn = a.fn ? a.fn : bs_default_alloc;
  h->a.ud = a.fn ? a.ud : NULL;
  h->shared = shared;
}

/* Adds `v` to a counter: a read-modify-write for the shared heap, a single
 * writer's relaxed bump otherwise. */
static inline void count(const bs__heap *h, uint64_t *c, uint64_t v) {
  if (BS__UNLIKELY(h->shared)) BS__ADD(c, v, RELAXED);
  else BS__BUMP(c, v);
}

void *bs__alloc(bs__heap *h, size_t n) {
  void *p = h->a.fn(h->a.ud, NULL, 0, n);
  count(h, &h->alloc_calls, 1);
  if (BS__UNLIKELY(!p)) {
    count(h, &h->failures, 1);
    return NULL;
  }
  count(h, &h->bytes_live, n);
  return p;
}

void bs__heap_failed(bs__heap *h) { count(h, &h->failures, 1); }

void *bs__calloc(bs__heap *h, size_t n) {
  void *p = bs__alloc(h, n);
  if (p) memset(p, 0, n);
  return p;
}

void *bs__realloc(bs__heap *h, void *p, size_t old_n, size_t new_n) {
  void *q = h->a.fn(h->a.ud, p, old_n, new_n);
  count(h, &h->alloc_calls, 1);
  if (BS__UNLIKELY(!q)) {
    count(h, &h->failures, 1);
    return NULL;
  }
  count(h, &h->bytes_live, (uint64_t)new_n - (uint64_t)old_n); /* mod 2^64 */
  return q;
}

void bs__free(bs__heap *h, void *p, size_t n) {
  if (!p) return;
  h->a.fn(h->a.ud, p, n, 0);
  count(h, &h->free_calls, 1);
  count(h, &h->bytes_live, (uint64_t)0 - (uint64_t)n);
}

/* An allocator that routes through `h`, so memory taken by helpers that
 * speak bs_allocator (the decoding arena) is counted like the engine's own. */
static void *heap_fn(void *ud, void *ptr, size_t old_size, size_t new_size) {
  bs__heap *h = ud;
  if (new_size == 0) {
    bs__free(h, ptr, old_size);
    return NULL;
  }
  return ptr ? bs__realloc(h, ptr, old_size, new_size) : bs__alloc(h, new_size);
}

bs_allocator bs__heap_allocator(bs__heap *h) {
  bs_allocator a = {heap_fn, h};
  return a;
}
