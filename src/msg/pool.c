/* Message pool: size classes of 64 B .. 128 KiB of data capacity, each a
 * free list of blocks. After warm-up a message costs no allocation: blocks
 * go back to their class's list and come out again. Each list keeps at most
 * `keep` blocks (about 4 MiB per class, at least 64), so a burst does not
 * pin its peak memory forever. Data above 128 KiB gets a block of its own
 * size, freed on release.
 *
 * One pool per shard, touched only by its shard's thread, except for
 * `remote_free`: other shards push the blocks they are done with onto it
 * and the owner takes them back when a free list runs dry. */
#include "internal.h"

#define BS__CLASS_KEEP_BYTES (4u << 20)

static size_t block_size(size_t cap) { return sizeof(bs__msg) + cap; }

void bs__pool_init(bs__pool *p, bs__heap *h, uint16_t home) {
  memset(p, 0, sizeof *p);
  p->heap = h;
  p->home = home;
  for (unsigned k = 0; k < BS__NCLASSES; k++) {
    size_t n = BS__CLASS_KEEP_BYTES / block_size((size_t)BS__CLASS_MIN << k);
    p->keep[k] = n < 64 ? 64 : (uint32_t)n;
  }
}

/* Smallest class whose capacity is >= cap, or BS__NCLASSES if none. */
static unsigned class_of(size_t cap) {
  if (cap <= BS__CLASS_MIN) return 0;
  unsigned k = (unsigned)(64 - __builtin_clzll((unsigned long long)(cap - 1))) - 6;
  return k < BS__NCLASSES ? k : BS__NCLASSES;
}

void bs__pool_remote_put(bs__pool *home, bs__msg *first, bs__msg *last) {
  bs__msg *old = BS__LOAD(&home->remote_free, RELAXED);
  do {
    last->next = old;
  } while (!BS__CAS(&home->remote_free, &old, first, RELEASE));
}

void bs__pool_reclaim(bs__pool *p) {
  if (!BS__LOAD(&p->remote_free, RELAXED)) return;
  bs__msg *m = BS__XCHG(&p->remote_free, NULL, ACQUIRE);
  while (m) {
    bs__msg *next = m->next;
    bs__msg_put(p, m);
    m = next;
  }
}

static bs__msg *pop_class(bs__pool *p, unsigned k) {
  bs__msg *m = p->free[k];
  if (!m) return NULL;
  BS__UNPOISON(m->data, m->cap);
  p->free[k] = m->next;
  p->nfree[k]--;
  return m;
}

bs__msg *bs__msg_get_slow(bs__pool *p, size_t cap) {
  unsigned k = class_of(cap);
  bs__msg *m = NULL;
  if (BS__LIKELY(k < BS__NCLASSES)) {
    m = pop_class(p, k);
    if (!m && BS__LOAD(&p->remote_free, RELAXED)) {
      bs__pool_reclaim(p);
      m = pop_class(p, k);
    }
  }
  if (!m) {
    if (cap > UINT32_MAX - sizeof(bs__msg)) return NULL;
    size_t c = k < BS__NCLASSES ? (size_t)BS__CLASS_MIN << k : (cap + 15) & ~(size_t)15;
    m = bs__alloc(p->heap, block_size(c));
    if (!m) return NULL;
    m->cap = (uint32_t)c;
    m->klass = k < BS__NCLASSES ? (uint8_t)k : BS__CLASS_HUGE;
    m->home = p->home;
  }
  bs__msg_clear(m);
  return m;
}

void bs__msg_free(bs__pool *p, bs__msg *m) {
  BS__UNPOISON(m->data, m->cap);
  bs__free(p->heap, m, block_size(m->cap));
}

void bs__pool_free(bs__pool *p) {
  bs__pool_reclaim(p);
  for (unsigned k = 0; k < BS__NCLASSES; k++) {
    while (p->free[k]) bs__msg_free(p, pop_class(p, k));
    p->nfree[k] = 0;
  }
}
