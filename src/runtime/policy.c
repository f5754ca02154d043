/* Per-engine and per-type policies: mailbox capacity, what a method error
 * does, and the idle timeout. A handful of types at most carry overrides,
 * so they are a small array searched linearly, and only when an override
 * of that kind is set at all.
 *
 * Shards read the array without a lock: a change (home thread only)
 * publishes a new copy with a release store, and the old copy stays alive
 * until the engine is freed, so a shard reading it meanwhile is safe. */
#include "internal.h"

static const bs__policy *find(const bs_engine *e, const bs_actor_type *t) {
  const bs__policies *ps = BS__LOAD(&e->policies, ACQUIRE);
  if (!ps) return NULL;
  for (size_t i = 0; i < ps->n; i++)
    if (ps->items[i].type == t) return &ps->items[i];
  return NULL;
}

static size_t policies_size(size_t n) {
  return sizeof(bs__policies) + n * sizeof(bs__policy);
}

int bs_engine_set_type_policy(bs_engine *e, const bs_actor_type *type,
                              const bs_type_policy *policy) {
  if (!e || !type || !policy) return BS_EINVAL;
  if (policy->on_method_error > BS_ON_ERROR_RESTART) return BS_EINVAL;
  bs__shard *s = bs__here(e);
  BS__API_CHECK(s && s->index == 0, "bs_engine_set_type_policy",
                "called from a thread other than the engine's home thread", BS_EWRONGTHREAD);
  bs__policies *old = e->policies;
  size_t n = old ? old->n : 0;
  bool present = find(e, type) != NULL;
  bs__policies *ps = bs__alloc(&e->heap, policies_size(n + !present));
  if (!ps) return BS_ENOMEM;
  ps->n = n;
  if (n) memcpy(ps->items, old->items, n * sizeof *ps->items);
  bs__policy *slot = NULL;
  for (size_t i = 0; i < n; i++)
    if (ps->items[i].type == type) slot = &ps->items[i];
  if (!slot) {
    slot = &ps->items[ps->n++];
    slot->type = type;
  }
  slot->p = *policy;
  ps->older = old;
  BS__STORE(&e->policies, ps, RELEASE);
  if (policy->mailbox_capacity) BS__STORE(&e->bounded, 1, RELAXED);
  if (policy->idle_timeout_ms && policy->idle_timeout_ms != BS_IDLE_NEVER)
    BS__STORE(&e->idle_types, 1, RELAXED);
  return 0;
}

bool bs__full_slow(const bs_engine *e, const bs_cell *c) {
  const bs__policy *p = find(e, c->type);
  uint32_t cap = p && p->p.mailbox_capacity ? p->p.mailbox_capacity : e->opts.mailbox_capacity;
  return cap && c->mb.len >= cap;
}

bool bs__restart_on_error(const bs_engine *e, const bs_actor_type *t) {
  const bs__policy *p = find(e, t);
  bs_error_policy pol = p && p->p.on_method_error ? p->p.on_method_error : e->opts.on_method_error;
  return pol == BS_ON_ERROR_RESTART;
}

uint64_t bs__idle_timeout(const bs_engine *e, const bs_actor_type *t) {
  const bs__policy *p = find(e, t);
  uint64_t ms = p && p->p.idle_timeout_ms ? p->p.idle_timeout_ms : e->opts.idle_timeout_ms;
  return ms == BS_IDLE_NEVER ? 0 : ms;
}

void bs__policies_free(bs_engine *e) {
  bs__policies *ps = e->policies;
  while (ps) {
    bs__policies *older = ps->older;
    bs__free(&e->heap, ps, policies_size(ps->n));
    ps = older;
  }
  e->policies = NULL;
}
