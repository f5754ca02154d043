/* A shard's actor registry: (type, id) -> cell, open addressing with linear
 * probing. Cells come and go (collect.c frees those nothing needs), so
 * removal shifts the following entries back instead of leaving tombstones,
 * and the table shrinks when it is mostly empty: a million actors that
 * have come and gone leave no trace. */
#include "internal.h"

#define MIN_CAP 64u

bs_cell *bs__registry_find_id(const bs__registry *r, const char *id, size_t len,
                              uint32_t hash) {
  if (!r->cap) return NULL;
  size_t mask = r->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    bs_cell *c = r->slots[i];
    if (!c) return NULL;
    if (c->hash == hash && c->id_len == len && bs__id_eq(c->id, id, len)) return c;
  }
}

static void place(bs_cell **slots, size_t cap, bs_cell *c) {
  size_t mask = cap - 1;
  size_t i = c->hash & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = c;
}

static int resize(bs__registry *r, bs__heap *h, size_t ncap) {
  if (ncap > SIZE_MAX / sizeof(bs_cell *)) return BS_ENOMEM;
  bs_cell **ns = bs__calloc(h, ncap * sizeof *ns);
  if (!ns) return BS_ENOMEM;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slots[i]) place(ns, ncap, r->slots[i]);
  bs__free(h, r->slots, r->cap * sizeof *r->slots);
  r->slots = ns;
  r->cap = ncap;
  return 0;
}

int bs__registry_reserve(bs__registry *r, bs__heap *h) {
  /* Keep the load factor at or below 3/4: linear probes stay short (about
   * 2.5 slots on a miss) and a slot costs 8-11 bytes per actor. */
  if ((r->count + 1) * 4 <= r->cap * 3) return 0;
  return resize(r, h, r->cap ? r->cap * 2 : MIN_CAP);
}

void bs__registry_insert(bs__registry *r, bs_cell *c) {
  place(r->slots, r->cap, c);
  BS__STORE(&r->count, r->count + 1, RELAXED);
}

/* Backward-shift deletion: after emptying slot i, entries further along the
 * probe run move back into the hole when their home slot allows it, so every
 * lookup still finds its entry before the first empty slot. */
void bs__registry_remove(bs__registry *r, bs__heap *h, bs_cell *c) {
  size_t mask = r->cap - 1;
  size_t i = c->hash & mask;
  while (r->slots[i] != c) i = (i + 1) & mask;
  for (size_t j = (i + 1) & mask; r->slots[j]; j = (j + 1) & mask) {
    size_t home = r->slots[j]->hash & mask;
    /* Move j into i unless its home lies cyclically in (i, j]. */
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    r->slots[i] = r->slots[j];
    i = j;
  }
  r->slots[i] = NULL;
  BS__STORE(&r->count, r->count - 1, RELAXED);
  /* Shrink at 1/8 load to half: amortised O(1), never thrashing. */
  if (r->cap > MIN_CAP && r->count * 8 < r->cap) (void)resize(r, h, r->cap / 2);
}

void bs__registry_free(bs__registry *r, bs__heap *h) {
  bs__free(h, r->slots, r->cap * sizeof *r->slots);
  memset(r, 0, sizeof *r);
}

/* ---- Cells ------------------------------------------------------------------ */

static size_t cell_size(size_t id_len) { return offsetof(bs_cell, id) + id_len + 1; }

int bs__cell_get(bs__shard *s, const bs_actor_type *t, const char *id,
                 size_t len, uint32_t hash, bs_cell **out) {
  bs_cell *c = bs__registry_find(&s->reg, t, id, len, hash);
  if (c) {
    *out = c;
    return 0;
  }
  if (bs__registry_reserve(&s->reg, &s->heap) < 0) return BS_ENOMEM;
  c = bs__calloc(&s->heap, cell_size(len));
  if (!c) return BS_ENOMEM;
  c->type = t;
  c->hash = hash;
  c->id_len = (uint8_t)len;
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
  bs__free(&s->heap, c, cell_size(c->id_len));
}

void bs__collect(bs__shard *s, bs_cell *c) {
  if (c->state || c->mb.len || c->nreq || s->current == c ||
      (c->flags & (BS__CELL_IN_RUNQ | BS__CELL_PROBED | BS__CELL_EXTERNAL)))
    return;
  bs__registry_remove(&s->reg, &s->heap, c);
  bs__cell_free(s, c);
  BS__STAT(s, collected);
}

bs_cell *bs__external_new(bs__shard *s) {
  static const char name[] = "(outside actors)";
  bs_cell *c = bs__calloc(&s->heap, cell_size(sizeof name - 1));
  if (!c) return NULL;
  c->id_len = (uint8_t)(sizeof name - 1);
  c->flags = BS__CELL_EXTERNAL;
  memcpy(c->id, name, sizeof name);
  return c;
}
