/* Actor types registered with the cluster (bs_engine_register_type).
 *
 * Only registered types are placed across nodes; the others stay local to
 * each node, as in a plain engine. On the wire a type is named by the
 * FNV-1a hash of its name (its "wire id", like a method id), so a node can
 * find the descriptor for mail from another node; two registered types with
 * the same wire id are refused.
 *
 * Copy-on-write, like policies: shards read the current array without a
 * lock; a registration (home thread, rare) publishes a new copy sorted by
 * wire id, and old copies live until the engine is freed. */
#include "internal.h"

static size_t types_size(size_t n) { return sizeof(bs__types) + n * sizeof(bs__ctype); }

const bs__ctype *bs__type_by_ptr(const bs_engine *e, const bs_actor_type *t) {
  const bs__types *ts = BS__LOAD(&e->types, ACQUIRE);
  if (!ts) return NULL;
  for (size_t i = 0; i < ts->n; i++)
    if (ts->items[i].type == t) return &ts->items[i];
  return NULL;
}

const bs__ctype *bs__type_by_id(const bs_engine *e, uint32_t id) {
  const bs__types *ts = BS__LOAD(&e->types, ACQUIRE);
  if (!ts) return NULL;
  size_t lo = 0, hi = ts->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ts->items[mid].id == id) return &ts->items[mid];
    if (ts->items[mid].id < id) lo = mid + 1; else hi = mid;
  }
  return NULL;
}

int bs__types_add(bs_engine *e, const bs_actor_type *t) {
  if (bs_actor_type_check(t) < 0) return BS_EINVAL;
  if (bs__type_by_ptr(e, t)) return 0;
  uint32_t id = bs__fnv1a32(t->name, strlen(t->name));
  const bs__ctype *clash = bs__type_by_id(e, id);
  if (clash) return BS_ETYPE; /* another descriptor with this wire id */
  bs__types *old = e->types;
  size_t n = old ? old->n : 0;
  bs__types *ts = bs__alloc(&e->heap, types_size(n + 1));
  if (!ts) return BS_ENOMEM;
  size_t at = 0;
  while (at < n && old->items[at].id < id) at++;
  if (at) memcpy(ts->items, old->items, at * sizeof *ts->items);
  ts->items[at].type = t;
  ts->items[at].id = id;
  if (n > at) memcpy(ts->items + at + 1, old->items + at, (n - at) * sizeof *ts->items);
  ts->n = n + 1;
  ts->older = old;
  BS__STORE(&e->types, ts, RELEASE);
  return 0;
}

int bs_engine_register_type(bs_engine *e, const bs_actor_type *type) {
  if (!e || !type) return BS_EINVAL;
  bs__shard *s = bs__here(e);
  BS__API_CHECK(s && s->index == 0, "bs_engine_register_type",
                "called from a thread other than the engine's home thread", BS_EWRONGTHREAD);
  return bs__types_add(e, type);
}

void bs__types_free(bs_engine *e) {
  bs__types *ts = e->types;
  while (ts) {
    bs__types *older = ts->older;
    bs__free(&e->heap, ts, types_size(ts->n));
    ts = older;
  }
  e->types = NULL;
}
