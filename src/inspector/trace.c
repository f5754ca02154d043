/* The dispatch hook (counters, and the optional per-actor trace ring). */
#include <stdlib.h>

#include "inspector/insp.h"

static void record(bs_cell *c, const bs__msg *m) {
  bs__insp_trace *t = c->insp.trace;
  uint32_t id;
  bs_reader args;
  t->what[t->next % BS__INSP_TRACE_N] = bs__msg_name(c, m, &id, &args);
  t->next++;
}

/* On every dispatch, before the message runs (dead-lettered ones too).
 * Off the inspector's run time state: the two counters are all it costs
 * unless this actor is traced. */
void bs__insp_dispatched(bs__shard *s, bs_cell *c, const bs__msg *m) {
  c->insp.processed++;
  c->insp.last_activity = bs__now(s);
  if (BS__UNLIKELY(c->insp.trace != NULL)) record(c, m);
}

bs_cell *bs__insp_find(bs_engine *e, const char *id) {
  size_t len;
  if (bs__check_id(id, &len) < 0) return NULL;
  uint32_t hash = bs__hash_id(id, len);
  return bs__registry_find_id(&e->shards[bs__shard_of(e, hash)]->reg, id, len, hash);
}

void bs__insp_cell_freed(bs__shard *s, bs_cell *c) {
  (void)s;
  free(c->insp.trace);
  c->insp.trace = NULL;
}

int bs_inspector_trace(bs_engine *e, const char *actor_id, bool on) {
  if (!e || !e->inspector) return BS_ENOTFOUND;
  bs_cell *c = bs__insp_find(e, actor_id);
  if (!c) return BS_ENOTFOUND;
  if (on && !c->insp.trace) {
    c->insp.trace = calloc(1, sizeof *c->insp.trace);
    if (!c->insp.trace) return BS_ENOMEM;
  } else if (!on && c->insp.trace) {
    free(c->insp.trace);
    c->insp.trace = NULL;
  }
  return 0;
}

int bs_inspector_trace_get(bs_engine *e, const char *actor_id,
                           const char **names, size_t cap) {
  if (!e || !e->inspector) return BS_ENOTFOUND;
  bs_cell *c = bs__insp_find(e, actor_id);
  if (!c) return BS_ENOTFOUND;
  const bs__insp_trace *t = c->insp.trace;
  if (!t) return 0;
  uint32_t have = t->next < BS__INSP_TRACE_N ? t->next : BS__INSP_TRACE_N;
  uint32_t first = t->next - have;
  size_t n = 0;
  for (uint32_t i = 0; i < have && n < cap; i++)
    names[n++] = t->what[(first + i) % BS__INSP_TRACE_N];
  return (int)n;
}

/* Traces live only while the inspector runs (one pass at stop). */
void bs__insp_traces_free(bs_engine *e) {
  for (uint32_t k = 0; k < e->nshards; k++) {
    const bs__registry *r = &e->shards[k]->reg;
    for (size_t i = 0; i < r->cap; i++)
      if (r->slots[i]) bs__insp_cell_freed(e->shards[k], r->slots[i]);
  }
}
