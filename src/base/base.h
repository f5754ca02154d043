/* The base layer: branch hints, atomics, the heap (the engine's allocator
 * plus accounting), API checks and id hashing. Everything above builds on
 * these and nothing here knows about actors. */
#ifndef BACKSTAGE_BASE_H
#define BACKSTAGE_BASE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backstage.h"

#define BS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BS__LIKELY(x) __builtin_expect(!!(x), 1)

/* ---- Atomics -------------------------------------------------------------
 * GCC/Clang __atomic builtins on plain fields: the same field can be read
 * plainly by its owner and atomically by others, and ThreadSanitizer sees
 * every access. Counters written by one thread and read by others use
 * BS__BUMP: a relaxed load and store (plain moves on x86-64, no lock
 * prefix), which is enough because there is a single writer. */
#define BS__LOAD(p, order) __atomic_load_n((p), __ATOMIC_##order)
#define BS__STORE(p, v, order) __atomic_store_n((p), (v), __ATOMIC_##order)
#define BS__XCHG(p, v, order) __atomic_exchange_n((p), (v), __ATOMIC_##order)
#define BS__ADD(p, v, order) __atomic_add_fetch((p), (v), __ATOMIC_##order)
#define BS__SUB(p, v, order) __atomic_sub_fetch((p), (v), __ATOMIC_##order)
#define BS__CAS(p, expected, desired, order)                                   \
  __atomic_compare_exchange_n((p), (expected), (desired), false,               \
                              __ATOMIC_##order, __ATOMIC_RELAXED)
#define BS__BUMP(p, v) BS__STORE((p), BS__LOAD((p), RELAXED) + (v), RELAXED)
#define BS__GET(p) BS__LOAD((p), RELAXED)

static inline void bs__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- Heap: the engine's allocator plus accounting (alloc.c) --------------
 * One heap per shard, used only by the shard's thread, plus one shared heap
 * for engine-wide objects (streams, policies) whose counters are updated
 * with atomic read-modify-writes. Counters are read by bs_engine_stats_get
 * from any thread. */
typedef struct bs__heap {
  bs_allocator a;
  uint64_t alloc_calls;
  uint64_t free_calls;
  uint64_t failures;
  uint64_t bytes_live;
  bool shared; /* updated from several threads */
} bs__heap;

void bs__heap_init(bs__heap *h, bs_allocator a, bool shared);
void *bs__alloc(bs__heap *h, size_t n);
void *bs__calloc(bs__heap *h, size_t n);
void *bs__realloc(bs__heap *h, void *p, size_t old_n, size_t new_n);
void bs__free(bs__heap *h, void *p, size_t n);
/* Counts a failed allocation made with h's allocator outside the heap (a
 * blob's: blobs outlive shards, so they are not the heap's). */
void bs__heap_failed(bs__heap *h);
bs_allocator bs__heap_allocator(bs__heap *h);

/* ---- AddressSanitizer hooks -------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define BS__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BS__ASAN 1
#endif
#endif
#ifdef BS__ASAN
void __asan_poison_memory_region(void const volatile *addr, size_t size);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#define BS__POISON(p, n) __asan_poison_memory_region((p), (n))
#define BS__UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define BS__POISON(p, n) ((void)(p), (void)(n))
#define BS__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* ---- API checks (check.c) ------------------------------------------------
 * In the style of Lua's api_check: cheap checks of how the public API is
 * used. A violated check makes the function return its error (release
 * builds), or prints which function was misused and aborts, when the
 * library was built with BS_API_ABORT (Debug and sanitizer builds), so a
 * misuse is found where it happens rather than as corruption later. */
#ifdef BS_API_ABORT
#define BS__API_ABORTS 1
#else
#define BS__API_ABORTS 0
#endif
/* Reports the misuse; aborts when BS__API_ABORTS. Returns `code`. */
int bs__api_fail(const char *fn, const char *what, int code);
#define BS__API_CHECK(cond, fn, what, code)                                    \
  do {                                                                         \
    if (BS__UNLIKELY(!(cond))) return bs__api_fail((fn), (what), (code));      \
  } while (0)
#define BS__API_CHECK_VOID(cond, fn, what)                                     \
  do {                                                                         \
    if (BS__UNLIKELY(!(cond))) {                                               \
      (void)bs__api_fail((fn), (what), 0);                                     \
      return;                                                                  \
    }                                                                          \
  } while (0)

/* ---- Loops (inloop.c) ---------------------------------------------------- */

/* Whether the calling thread is inside a uv_run call (a stack walk). */
bool bs__in_uv_run(void);

/* ---- Decoding arenas (codec/arena.c) ------------------------------------ */

/* Runs fn(arg) when `a` is next reset or freed. BS_ENOMEM if the record
 * cannot be had (then fn is not registered). */
int bs__arena_defer(bs_arena *a, void (*fn)(const void *arg), const void *arg);

/* ---- Ids -------------------------------------------------------------------- */

uint32_t bs__hash_id(const char *id, size_t len);
/* FNV-1a, 32 bits: method ids and the cluster's type ids hash names so. */
uint32_t bs__fnv1a32(const char *s, size_t n);

/* Whether the `len` bytes at a and b are equal: eight bytes at a time, the
 * last word overlapping, reading nothing past either end. Inline, since
 * every send to an actor compares one id (a call to memcmp costs more than
 * the comparison of a short id). */
static inline bool bs__id_eq(const char *a, const char *b, size_t len) {
  uint64_t x, y;
  if (len >= 8) {
    size_t i = 0;
    for (; i + 8 < len; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    memcpy(&x, a + len - 8, 8);
    memcpy(&y, b + len - 8, 8);
    return x == y;
  }
  if (len >= 4) {
    uint32_t p, q, r, t;
    memcpy(&p, a, 4);
    memcpy(&q, b, 4);
    memcpy(&r, a + len - 4, 4);
    memcpy(&t, b + len - 4, 4);
    return p == q && r == t;
  }
  for (size_t i = 0; i < len; i++)
    if (a[i] != b[i]) return false;
  return true;
}
/* 0 with *len set, or BS_EINVAL (NULL) / BS_EIDLEN (empty, too long). */
int bs__check_id(const char *id, size_t *len);

#endif
