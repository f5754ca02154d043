/* Message pool: size classes of 64 B .. 128 KiB of body capacity, each a
 * free list of blocks. After warm-up a message costs no allocation: blocks
 * go back to their class's list and come out again. Each list keeps at most
 * `keep` blocks (about 4 MiB per class, at least 64), so a burst does not
 * pin its peak memory forever. Bodies above 128 KiB get a block of their own
 * size, freed on release. */
#include "internal.h"

#define BS__CLASS_KEEP_BYTES (4u << 20)

static size_t block_size(size_t cap) { return sizeof(bs__msg) + cap; }

void bs__pool_init(bs__pool *p) {
  memset(p, 0, sizeof *p);
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

bs__msg *bs__msg_get_slow(bs__pool *p, bs__heap *h, size_t cap) {
  unsigned k = class_of(cap);
  bs__msg *m;
  if (BS__LIKELY(k < BS__NCLASSES && p->free[k])) {
    m = p->free[k];
    p->free[k] = m->next;
    p->nfree[k]--;
  } else {
    if (cap > UINT32_MAX - sizeof(bs__msg)) return NULL;
    size_t c = k < BS__NCLASSES ? (size_t)BS__CLASS_MIN << k : (cap + 15) & ~(size_t)15;
    m = bs__alloc(h, block_size(c));
    if (!m) return NULL;
    m->cap = (uint32_t)c;
    m->klass = k < BS__NCLASSES ? (uint8_t)k : BS__CLASS_HUGE;
  }
  bs__msg_clear(m);
  return m;
}

void bs__msg_free(bs__heap *h, bs__msg *m) { bs__free(h, m, block_size(m->cap)); }

void bs__pool_free(bs__pool *p, bs__heap *h) {
  for (unsigned k = 0; k < BS__NCLASSES; k++) {
    while (p->free[k]) {
      bs__msg *m = p->free[k];
      p->free[k] = m->next;
      bs__free(h, m, block_size(m->cap));
    }
    p->nfree[k] = 0;
  }
}

