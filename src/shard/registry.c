/* A shard's actor registry: (type, id) -> cell, open addressing with linear
 * probing and a control byte per slot (shard.h). Cells come and go
 * (collect.c frees those nothing needs), so removal shifts the following
 * entries back instead of leaving tombstones, and the table shrinks when it
 * is mostly empty: a million actors that have come and gone leave no trace.
 *
 * Also the cells themselves: one block per cell holding its id and, for an
 * actor type, room for its bs_context and state, taken from the shard's
 * cache of free blocks when it has one of the right size. */
#include "internal.h"

/* The smallest table (9 bytes a slot). */
#define MIN_CAP 64u

bs_cell *bs__registry_find_id(const bs__registry *r, const char *id, size_t len,
                              uint32_t hash) {
  if (!r->cap) return NULL;
  size_t mask = r->cap - 1;
  uint8_t tag = bs__reg_tag(hash);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint8_t k = r->ctrl[i];
    if (!k) return NULL;
    bs_cell *c = r->slots[i];
    if (k == tag && c->hash == hash && c->id_len == len && bs__id_eq(c->id, id, len))
      return c;
  }
}

static size_t table_bytes(size_t cap) { return cap * (sizeof(bs_cell *) + 1); }

static void place(bs_cell **slots, uint8_t *ctrl, size_t cap, bs_cell *c) {
  size_t mask = cap - 1;
  size_t i = c->hash & mask;
  while (ctrl[i]) i = (i + 1) & mask;
  slots[i] = c;
  ctrl[i] = bs__reg_tag(c->hash);
}

static int resize(bs__registry *r, bs__heap *h, size_t ncap) {
  if (ncap > SIZE_MAX / (sizeof(bs_cell *) + 1)) return BS_ENOMEM;
  bs_cell **ns = bs__calloc(h, table_bytes(ncap));
  if (!ns) return BS_ENOMEM;
  uint8_t *nc = (uint8_t *)(ns + ncap);
  for (size_t i = 0; i < r->cap; i++)
    if (r->ctrl[i]) place(ns, nc, ncap, r->slots[i]);
  bs__free(h, r->slots, table_bytes(r->cap));
  r->slots = ns;
  r->ctrl = nc;
  r->cap = ncap;
  return 0;
}

int bs__registry_reserve(bs__registry *r, bs__heap *h) {
  /* Keep the load factor at or below 3/4: with the control bytes a miss
   * reads a few bytes of one line, and a slot costs 12-24 bytes per actor. */
  if ((r->count + 1) * 4 <= r->cap * 3) return 0;
  return resize(r, h, r->cap ? r->cap * 2 : MIN_CAP);
}

void bs__registry_insert(bs__registry *r, bs_cell *c) {
  place(r->slots, r->ctrl, r->cap, c);
  BS__STORE(&r->count, r->count + 1, RELAXED);
}

/* Backward-shift deletion: after emptying slot i, entries further along the
 * probe run move back into the hole when their home slot allows it, so every
 * lookup still finds its entry before the first empty slot. */
void bs__registry_remove(bs__registry *r, bs__heap *h, bs_cell *c) {
  size_t mask = r->cap - 1;
  size_t i = c->hash & mask;
  while (r->slots[i] != c) i = (i + 1) & mask;
  for (size_t j = (i + 1) & mask; r->ctrl[j]; j = (j + 1) & mask) {
    size_t home = r->slots[j]->hash & mask;
    /* Move j into i unless its home lies cyclically in (i, j]. */
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    r->slots[i] = r->slots[j];
    r->ctrl[i] = r->ctrl[j];
    i = j;
  }
  r->slots[i] = NULL;
  r->ctrl[i] = 0;
  BS__STORE(&r->count, r->count - 1, RELAXED);
  /* Shrink at 1/16 load to a quarter: amortised O(1), and a population that
   * swings between none and a few hundred actors (bursts of short-lived
   * ones) does not pay a resize each way on every swing. */
  if (r->cap > MIN_CAP && r->count * 16 < r->cap)
    (void)resize(r, h, r->cap / 4 > MIN_CAP ? r->cap / 4 : MIN_CAP);
}

void bs__registry_free(bs__registry *r, bs__heap *h) {
  bs__free(h, r->slots, table_bytes(r->cap));
  memset(r, 0, sizeof *r);
}

/* ---- Cell blocks --------------------------------------------------------------
 * [bs_cell, id, NUL][pad][bs_context][state]: the state sits at its type's
 * alignment with the context right before it. Its offset assumes the block
 * is aligned to max_align_t, as malloc's are; when the allocator's block is
 * not aligned enough for the state (or the type asks for more than
 * max_align_t), the block is made align - 1 bytes larger (BS__CELL_SLACK)
 * and the state placed from the block's actual address. While the actor is
 * inactive its context and state are poisoned under ASan, like freed
 * memory. */

/* The state's alignment, and at least the context's (it sits right
 * before the state). */
static size_t state_align(const bs_actor_type *t) {
  size_t a = t->state_align ? t->state_align : alignof(max_align_t);
  return a < alignof(bs_context) ? alignof(bs_context) : a;
}

static size_t head_size(size_t id_len) { return offsetof(bs_cell, id) + id_len + 1; }

/* Bytes of a block for (t, id_len), or 0 when that overflows. */
static size_t block_size(const bs_actor_type *t, size_t id_len, bool slack) {
  size_t at = head_size(id_len) + sizeof(bs_context);
  if (!t) return head_size(id_len);
  size_t a = state_align(t);
  at = slack ? at + a - 1 : (at + a - 1) & ~(a - 1);
  return t->state_size > SIZE_MAX - at ? 0 : at + t->state_size;
}

static size_t cell_block_size(const bs_cell *c) {
  return block_size(c->type, c->id_len, (c->flags & BS__CELL_SLACK) != 0);
}

/* The context and state of `c`, as one region: the state at its alignment
 * from the block's actual address, the context right before it. */
static void *state_region(const bs_cell *c, size_t *n) {
  size_t a = state_align(c->type);
  uintptr_t at = (uintptr_t)c + head_size(c->id_len) + sizeof(bs_context);
  uint8_t *state = (uint8_t *)((at + a - 1) & ~(uintptr_t)(a - 1));
  *n = sizeof(bs_context) + c->type->state_size;
  return state - sizeof(bs_context);
}

void bs__cell_state_open(bs_cell *c) {
  size_t n;
  void *p = state_region(c, &n);
  BS__UNPOISON(p, n);
  memset(p, 0, n);
  c->state = (uint8_t *)p + sizeof(bs_context);
}

void bs__cell_state_close(bs_cell *c) {
  size_t n;
  void *p = state_region(c, &n);
  c->state = NULL;
  BS__POISON(p, n);
}

/* The cache class of a block of `n` bytes (cached blocks are exactly
 * 16 * (class + 1) bytes), or BS__CELL_CLASSES when not cached. */
static unsigned class_of(size_t n) {
  return n && n <= BS__CELL_CACHE_MAX ? (unsigned)((n - 1) / 16) : BS__CELL_CLASSES;
}

static void *block_get(bs__shard *s, size_t n) {
  bs__cellcache *cc = &s->cells;
  unsigned k = class_of(n);
  if (k == BS__CELL_CLASSES) return bs__alloc(&s->heap, n);
  void *b = cc->free[k];
  size_t size = 16u * (k + 1);
  if (!b) return bs__alloc(&s->heap, size);
  BS__UNPOISON(b, size);
  memcpy(&cc->free[k], b, sizeof(void *));
  cc->n[k]--;
  cc->bytes -= size;
  return b;
}

static void block_put(bs__shard *s, void *b, size_t n) {
  bs__cellcache *cc = &s->cells;
  unsigned k = class_of(n);
  if (k == BS__CELL_CLASSES) {
    bs__free(&s->heap, b, n);
    return;
  }
  size_t size = 16u * (k + 1);
  if (cc->bytes + size > BS__CELL_CACHE_BYTES) {
    BS__UNPOISON(b, size);
    bs__free(&s->heap, b, size);
    return;
  }
  memcpy(b, &cc->free[k], sizeof(void *));
  cc->free[k] = b;
  cc->n[k]++;
  cc->bytes += size;
  BS__POISON(b, size);
}

void bs__cell_cache_free(bs__shard *s) {
  bs__cellcache *cc = &s->cells;
  for (unsigned k = 0; k < BS__CELL_CLASSES; k++) {
    size_t size = 16u * (k + 1);
    while (cc->free[k]) {
      void *b = cc->free[k];
      BS__UNPOISON(b, size);
      memcpy(&cc->free[k], b, sizeof(void *));
      bs__free(&s->heap, b, size);
    }
    cc->n[k] = 0;
  }
  cc->bytes = 0;
}

void bs__cell_cache_sweep(bs__shard *s) {
  bs__cellcache *cc = &s->cells;
  if (cc->made == cc->made_at_sweep) bs__cell_cache_free(s);
  cc->made_at_sweep = cc->made;
}

/* A block for a cell of (t, len) with its header zeroed: the compact size
 * when the block puts the state at its alignment, else one with slack. */
static bs_cell *cell_alloc(bs__shard *s, const bs_actor_type *t, size_t len) {
  size_t n = block_size(t, len, false);
  if (!n) return NULL;
  bs_cell *c = t && state_align(t) > alignof(max_align_t) ? NULL : block_get(s, n);
  uint8_t flags = 0;
  if (t && (!c || (uintptr_t)c % state_align(t))) {
    if (c) block_put(s, c, n);
    n = block_size(t, len, true);
    c = n ? bs__alloc(&s->heap, n) : NULL;
    flags = BS__CELL_SLACK;
  }
  if (!c) return NULL;
  memset(c, 0, offsetof(bs_cell, id));
  c->type = t;
  c->flags = flags;
  c->id_len = (uint8_t)len;
  s->cells.made++;
  if (t) {
    size_t r;
    void *p = state_region(c, &r);
    BS__POISON(p, r);
  }
  return c;
}

int bs__cell_get(bs__shard *s, const bs_actor_type *t, const char *id,
                 size_t len, uint32_t hash, bs_cell **out) {
  bs_cell *c = bs__registry_find(&s->reg, t, id, len, hash);
  if (c) {
    *out = c;
    return 0;
  }
  if (bs__registry_reserve(&s->reg, &s->heap) < 0) return BS_ENOMEM;
  c = cell_alloc(s, t, len);
  if (!c) return BS_ENOMEM;
  c->hash = hash;
  memcpy(c->id, id, len);
  c->id[len] = '\0';
  bs__registry_insert(&s->reg, c);
#ifdef BS_WITH_CLUSTER
  if (BS__CLUSTERED(s)) bs__cl_cell_made(s, c);
#endif
  *out = c;
  return 0;
}

void bs__cell_free(bs__shard *s, bs_cell *c) {
  BS__OBS_CELL_FREED(s, c);
  if (c->persist) bs__store_cell_free(s, c);
  size_t n = cell_block_size(c);
  if (c->flags & BS__CELL_SLACK) {
    BS__UNPOISON(c, n);
    bs__free(&s->heap, c, n);
    return;
  }
  if (c->type) {
    size_t r;
    void *p = state_region(c, &r);
    BS__UNPOISON(p, r);
  }
  block_put(s, c, n);
}

void bs__collect(bs__shard *s, bs_cell *c) {
  if (c->state || c->mb.len || c->nreq || s->current == c ||
      (c->flags & (BS__CELL_IN_RUNQ | BS__CELL_PROBED | BS__CELL_EXTERNAL)) ||
      (c->persist && bs__store_busy(c)))
    return;
  bs__registry_remove(&s->reg, &s->heap, c);
  bs__cell_free(s, c);
  BS__STAT(s, collected);
}

bs_cell *bs__external_new(bs__shard *s) {
  static const char name[] = "(outside actors)";
  bs_cell *c = cell_alloc(s, NULL, sizeof name - 1);
  if (!c) return NULL;
  c->flags = BS__CELL_EXTERNAL;
  memcpy(c->id, name, sizeof name);
  return c;
}
