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

bs_cell *bs__insp_find(bs__shard *s, const char *id, size_t len, uint32_t hash) {
  return bs__registry_find_id(&s->reg, id, len, hash);
}

int bs__insp_shard_of(bs_engine *e, const char *id, size_t *len, uint32_t *hash) {
  int rc = bs__check_id(id, len);
  if (rc < 0) return rc;
  *hash = bs__hash_id(id, *len);
  return (int)bs__shard_of(e, *hash);
}

bool bs__insp_engine_busy(bs_engine *e) {
  for (uint32_t k = 0; k < e->nshards; k++)
    if (!BS__LOAD(&e->shards[k]->idle, RELAXED)) return true;
  return false;
}

void bs__insp_cell_freed(bs__shard *s, bs_cell *c) {
  (void)s;
  free(c->insp.trace);
  c->insp.trace = NULL;
}

size_t bs__insp_trace_names(const bs_cell *c, const char **names, size_t cap) {
  const bs__insp_trace *t = c->insp.trace;
  if (!t) return 0;
  uint32_t have = t->next < BS__INSP_TRACE_N ? t->next : BS__INSP_TRACE_N;
  uint32_t first = t->next - have;
  size_t n = 0;
  for (uint32_t i = 0; i < have && n < cap; i++)
    names[n++] = t->what[(first + i) % BS__INSP_TRACE_N];
  return n;
}

/* ---- Calls made on the actor's shard ------------------------------------------- */

typedef struct trace_call {
  const char *id;
  size_t len;
  uint32_t hash;
  bool on;
  const char **names;
  size_t cap;
  int rc;
} trace_call;

static void switch_on_shard(bs__shard *s, void *arg) {
  trace_call *t = arg;
  bs_cell *c = bs__insp_find(s, t->id, t->len, t->hash);
  t->rc = c ? 0 : BS_ENOTFOUND;
  if (!c) return;
  if (t->on && !c->insp.trace) {
    c->insp.trace = calloc(1, sizeof *c->insp.trace);
    if (!c->insp.trace) t->rc = BS_ENOMEM;
  } else if (!t->on && c->insp.trace) {
    free(c->insp.trace);
    c->insp.trace = NULL;
  }
}

static void names_on_shard(bs__shard *s, void *arg) {
  trace_call *t = arg;
  bs_cell *c = bs__insp_find(s, t->id, t->len, t->hash);
  t->rc = c ? (int)bs__insp_trace_names(c, t->names, t->cap) : BS_ENOTFOUND;
}

static int on_actors_shard(bs_engine *e, const char *id, bs__shard_fn fn, trace_call *t) {
  if (!e || !e->inspector) return BS_ENOTFOUND;
  t->id = id;
  int k = bs__insp_shard_of(e, id, &t->len, &t->hash);
  if (k < 0) return BS_ENOTFOUND;
  int rc = bs__shard_call(e, (uint32_t)k, fn, t);
  return rc < 0 ? rc : t->rc;
}

int bs_inspector_trace(bs_engine *e, const char *actor_id, bool on) {
  trace_call t = {0};
  t.on = on;
  return on_actors_shard(e, actor_id, switch_on_shard, &t);
}

int bs_inspector_trace_get(bs_engine *e, const char *actor_id,
                           const char **names, size_t cap) {
  trace_call t = {0};
  t.names = names;
  t.cap = cap;
  return on_actors_shard(e, actor_id, names_on_shard, &t);
}

/* Traces live only while the inspector runs (one pass at stop, on each
 * shard). */
static void traces_free_on_shard(bs__shard *s, void *arg) {
  (void)arg;
  const bs__registry *r = &s->reg;
  for (size_t i = 0; i < r->cap; i++)
    if (r->slots[i]) bs__insp_cell_freed(s, r->slots[i]);
}

void bs__insp_traces_free(bs_engine *e) {
  for (uint32_t k = 0; k < e->nshards; k++) (void)bs__shard_call(e, k, traces_free_on_shard, NULL);
}
