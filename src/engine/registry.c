/* Actor registry: id -> cell, open addressing with linear probing. Cells
 * are never removed while the engine lives (a stopped actor keeps its small
 * cell so every bs_ref stays valid), so there are no tombstones. */
#include "internal.h"

/* Ids are short strings: eight bytes at a time through a multiply-xorshift
 * mix, then a final avalanche so linear probing sees well-spread low bits. */
uint32_t bs__hash_id(const char *id, size_t len) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    memcpy(&w, id + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  memcpy(&tail, id + i, len - i);
  h = (h ^ tail) * 0x94d049bb133111ebull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return (uint32_t)h;
}

bs_cell *bs__registry_find(const bs__registry *r, const char *id, size_t len,
                           uint32_t hash) {
  if (!r->cap) return NULL;
  size_t mask = r->cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    bs_cell *c = r->slots[i];
    if (!c) return NULL;
    if (c->hash == hash && c->id_len == len && memcmp(c->id, id, len) == 0)
      return c;
  }
}

static void place(bs_cell **slots, size_t cap, bs_cell *c) {
  size_t mask = cap - 1;
  size_t i = c->hash & mask;
  while (slots[i]) i = (i + 1) & mask;
  slots[i] = c;
}

int bs__registry_reserve(bs__registry *r, bs__heap *h) {
  /* Keep the load factor at or below 3/4: linear probes stay short (about
   * 2.5 slots on a miss) and a slot costs 8-11 bytes per actor. */
  if ((r->count + 1) * 4 <= r->cap * 3) return 0;
  size_t ncap = r->cap ? r->cap * 2 : 64;
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

void bs__registry_insert(bs__registry *r, bs_cell *c) {
  place(r->slots, r->cap, c);
  r->count++;
}

void bs__registry_free(bs__registry *r, bs__heap *h) {
  bs__free(h, r->slots, r->cap * sizeof *r->slots);
  memset(r, 0, sizeof *r);
}
