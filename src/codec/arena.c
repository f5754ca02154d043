/* Arena: a chunked bump allocator for decode scratch memory.
 *
 * Chunks come from the arena's bs_allocator and form a list, newest first
 * (a->head). Allocation bumps a->used inside the head chunk; when the head is
 * full a new chunk at least twice the size of everything held so far becomes
 * the head, so the number of chunks stays logarithmic in the peak demand.
 *
 * bs_arena_reset keeps only the largest chunk of at most BS__ARENA_KEEP
 * bytes. Because chunk sizes double, a cycle that needed several chunks
 * grows the largest one each time, so a steady cycle of the same shape stops
 * allocating after a short warm-up (one cycle in the common case that the
 * demand fits one chunk). A larger chunk is only ever needed by a large
 * message: it is freed, so one such message does not pin its memory.
 *
 * `limit` bounds what one cycle may take (decoding one message, for the
 * engine's arena): past it allocations fail without asking the allocator,
 * whatever the input claims to need.
 *
 * Cleanups (bs__arena_defer) run when the arena is reset or freed: what a
 * decoder made outside the arena (a blob decoded from a byte string) lives
 * exactly as long as the arena's own allocations.
 */
#include <stdint.h>
#include <string.h>

#include "backstage/codec.h"
#include "base/base.h"

/* Smallest chunk we ask for: big enough that typical messages (a few short
 * strings and arrays) fit in one chunk from the first dispatch on. */
#define BS__ARENA_MIN_CHUNK 1024u
#define BS__ARENA_MAX_ALIGN 16u
/* The largest chunk a reset keeps for reuse. */
#define BS__ARENA_KEEP ((size_t)1 << 20)

typedef struct bs__arena_cleanup {
  struct bs__arena_cleanup *next;
  void (*fn)(const void *arg);
  const void *arg;
} bs__arena_cleanup;

struct bs__arena_chunk {
  bs__arena_chunk *next; /* older chunk */
  size_t size;           /* usable bytes after the header */
  bs__arena_cleanup *cleanups; /* registered while it was the head */
};

/* Chunk data starts right after the header; alignment is computed from
 * actual addresses, so any allocator alignment works. */
static unsigned char *chunk_data(bs__arena_chunk *c) {
  return (unsigned char *)(c + 1);
}

static bs_alloc_fn arena_fn(const bs_arena *a) {
  return a->alloc.fn ? a->alloc.fn : bs_default_alloc;
}

static void chunk_release(bs_arena *a, bs__arena_chunk *c) {
  arena_fn(a)(a->alloc.ud, c, sizeof(*c) + c->size, 0);
}

void bs_arena_init(bs_arena *a, bs_allocator alloc) {
  a->alloc = alloc;
  a->head = NULL;
  a->used = 0;
  a->total = 0;
  a->limit = 0;
  a->taken = 0;
}

bool bs_arena_over_limit(const bs_arena *a, size_t size) {
  return a->limit != 0 && size > a->limit - a->taken;
}

/* Bytes of padding that align `used` bytes into chunk `c` to `align`. */
static size_t align_pad(bs__arena_chunk *c, size_t used, size_t align) {
  uintptr_t at = (uintptr_t)(chunk_data(c) + used);
  return (size_t)(-at & (uintptr_t)(align - 1));
}

/* Pushes a fresh chunk that can hold `size` bytes at any alignment <= 16.
 * Returns false (arena unchanged) when the allocator fails or sizes overflow. */
static bool arena_grow(bs_arena *a, size_t size) {
  size_t want = size + (BS__ARENA_MAX_ALIGN - 1);
  if (want < size) return false;
  size_t doubled = a->total <= SIZE_MAX / 2 ? a->total * 2 : SIZE_MAX;
  if (want < doubled) want = doubled;
  if (want < BS__ARENA_MIN_CHUNK) want = BS__ARENA_MIN_CHUNK;
  if (want > SIZE_MAX - sizeof(bs__arena_chunk)) return false;

  bs__arena_chunk *c = arena_fn(a)(a->alloc.ud, NULL, 0, sizeof(*c) + want);
  if (c == NULL) return false;
  c->next = a->head;
  c->size = want;
  c->cleanups = NULL;
  a->head = c;
  a->used = 0;
  a->total += want;
  return true;
}

void *bs_arena_alloc(bs_arena *a, size_t size, size_t align) {
  if (align == 0) align = 1;
  if (align > BS__ARENA_MAX_ALIGN || (align & (align - 1)) != 0) return NULL;
  if (bs_arena_over_limit(a, size)) return NULL;

  bs__arena_chunk *c = a->head;
  if (c != NULL) {
    size_t pad = align_pad(c, a->used, align);
    size_t left = c->size - a->used;
    if (pad <= left && size <= left - pad) {
      void *p = chunk_data(c) + a->used + pad;
      a->used += pad + size;
      a->taken += size;
      return p;
    }
  }
  if (!arena_grow(a, size)) return NULL;
  c = a->head;
  size_t pad = align_pad(c, 0, align);
  a->used = pad + size;
  a->taken += size;
  return chunk_data(c) + pad;
}

int bs__arena_defer(bs_arena *a, void (*fn)(const void *arg), const void *arg) {
  size_t limit = a->limit;
  a->limit = 0; /* the record is bookkeeping, not decoded data */
  bs__arena_cleanup *k = bs_arena_alloc(a, sizeof *k, alignof(bs__arena_cleanup));
  a->limit = limit;
  if (k == NULL) return BS_ENOMEM;
  a->taken -= sizeof *k;
  k->fn = fn;
  k->arg = arg;
  k->next = a->head->cleanups;
  a->head->cleanups = k;
  return 0;
}

/* Runs every cleanup, newest first. */
static void run_cleanups(bs_arena *a) {
  for (bs__arena_chunk *c = a->head; c != NULL; c = c->next) {
    bs__arena_cleanup *k = c->cleanups;
    c->cleanups = NULL;
    for (; k != NULL; k = k->next) k->fn(k->arg);
  }
}

void bs_arena_reset(bs_arena *a) {
  a->taken = 0;
  /* Nothing taken since the last reset (the common case per dispatch). */
  if (a->used == 0 && (a->head == NULL || a->head->next == NULL) &&
      (a->head == NULL || a->head->size <= BS__ARENA_KEEP))
    return;
  run_cleanups(a);
  bs__arena_chunk *keep = NULL;
  for (bs__arena_chunk *c = a->head; c != NULL; c = c->next) {
    if (c->size <= BS__ARENA_KEEP && (keep == NULL || c->size > keep->size))
      keep = c;
  }
  bs__arena_chunk *c = a->head;
  while (c != NULL) {
    bs__arena_chunk *next = c->next;
    if (c != keep) chunk_release(a, c);
    c = next;
  }
  if (keep != NULL) keep->next = NULL;
  a->head = keep;
  a->used = 0;
  a->total = keep != NULL ? keep->size : 0;
}

void bs_arena_free(bs_arena *a) {
  run_cleanups(a);
  bs__arena_chunk *c = a->head;
  while (c != NULL) {
    bs__arena_chunk *next = c->next;
    chunk_release(a, c);
    c = next;
  }
  a->head = NULL;
  a->used = 0;
  a->total = 0;
  a->taken = 0;
}
