/* The dispatch hook (counters, and the optional per-actor trace ring). */
#include <stdlib.h>

#include "inspector/insp.h"

static const bs_method *find_method(const bs_actor_type *t, uint32_t id) {
  for (size_t i = 0; t && i < t->method_count; i++)
    if (t->methods[i].id == id) return &t->methods[i];
  return NULL;
}

/* What `m` runs, named as bs_test_next_method names it. Reads the method
 * id from the body: only tracing pays for it. */
const char *bs__insp_msg_name(const bs_cell *c, const bs__msg *m) {
  switch (m->kind) {
  case BS__MSG_REPLY: return "(reply)";
  case BS__MSG_STOP: return "(stop)";
  case BS__MSG_ELEM: return m->method->name;
  default: break;
  }
  bs_reader r;
  uint64_t n = 0;
  uint32_t id = 0;
  bs_reader_init(&r, m->body, m->len, NULL);
  if (bs_read_array(&r, &n) < 0 || n == 0 || bs_read_u32(&r, &id) < 0)
    return "(unknown)";
  const bs_method *meth = find_method(c->type, id);
  return meth ? meth->name : "(unknown)";
}

static void record(bs_cell *c, const bs__msg *m) {
  bs__insp_trace *t = c->insp.trace;
  t->what[t->next % BS__INSP_TRACE_N] = bs__insp_msg_name(c, m);
  t->next++;
}

/* On every dispatch, before the message runs (dead-lettered ones too).
 * Off the inspector's run time state: the two counters are all it costs
 * unless this actor is traced. */
void bs__insp_dispatched(bs_engine *e, bs_cell *c, const bs__msg *m) {
  c->insp.processed++;
  c->insp.last_activity = bs__now(e);
  if (BS__UNLIKELY(c->insp.trace != NULL)) record(c, m);
}

bs_cell *bs__insp_find(bs_engine *e, const char *id) {
  size_t len;
  if (bs__check_id(id, &len) < 0) return NULL;
  return bs__registry_find(&e->reg, id, len, bs__hash_id(id, len));
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
  for (size_t i = 0; i < e->reg.cap; i++) {
    bs_cell *c = e->reg.slots[i];
    if (c && c->insp.trace) {
      free(c->insp.trace);
      c->insp.trace = NULL;
    }
  }
}
