/* Per-engine and per-type policies: mailbox capacity and what a method
 * error does. A handful of types at most carry overrides, so they are a
 * small array searched linearly, and only when a capacity is set at all. */
#include "internal.h"

typedef struct bs__policy {
  const bs_actor_type *type;
  bs_type_policy p;
} bs__policy;

static const bs__policy *find(const bs_engine *e, const bs_actor_type *t) {
  for (size_t i = 0; i < e->npolicies; i++)
    if (e->policies[i].type == t) return &e->policies[i];
  return NULL;
}

int bs_engine_set_type_policy(bs_engine *e, const bs_actor_type *type,
                              const bs_type_policy *policy) {
  if (!e || !type || !policy) return BS_EINVAL;
  if (policy->on_method_error > BS_ON_ERROR_RESTART) return BS_EINVAL;
  bs__policy *slot = (bs__policy *)find(e, type);
  if (!slot) {
    bs__policy *n = bs__realloc(&e->heap, e->policies, e->npolicies * sizeof *n,
                                (e->npolicies + 1) * sizeof *n);
    if (!n) return BS_ENOMEM;
    e->policies = n;
    slot = &n[e->npolicies++];
    slot->type = type;
  }
  slot->p = *policy;
  if (policy->mailbox_capacity) e->bounded = true;
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

void bs__policies_free(bs_engine *e) {
  bs__free(&e->heap, e->policies, e->npolicies * sizeof *e->policies);
  e->policies = NULL;
  e->npolicies = 0;
}
