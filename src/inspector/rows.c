/* Rows: what the sampler copies out of the engine, and the snapshots that
 * hold them. bs__insp_rows_sweep is the one step that reads actor cells
 * for the table (and samples their rates on the way), run by each shard
 * over its own registry; everything the HTTP side answers comes from the
 * rows. */
#include <stdlib.h>

#include "inspector/insp.h"
#include "store/store.h"

bs__insp_snap *bs__insp_snap_new(void) {
  bs__insp_snap *s = calloc(1, sizeof *s);
  if (s) s->refs = 1;
  return s;
}

bs__insp_snap *bs__insp_snap_ref(bs__insp_snap *s) {
  if (s) s->refs++;
  return s;
}

static void orders_free(bs__insp_snap *s) {
  for (int k = 0; k < BS__SORT_N; k++) {
    free(s->order[k].idx);
    free(s->order[k].tmp);
    memset(&s->order[k], 0, sizeof s->order[k]);
  }
}

void bs__insp_snap_unref(bs__insp_snap *s) {
  if (!s || --s->refs) return;
  orders_free(s);
  free(s->rows);
  free(s->streams);
  free(s->ids);
  free(s->types);
  free(s);
}

void bs__insp_snap_clear(bs__insp_snap *s) {
  orders_free(s);
  s->nrows = s->nstreams = s->idlen = s->ntypes = 0;
  s->oom = false;
}

/* ---- Growing ------------------------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return true;
  size_t ncap = *cap ? *cap : 64;
  while (ncap < need) ncap *= 2;
  void *np = realloc(*p, ncap * size);
  if (!np) return false;
  *p = np;
  *cap = ncap;
  return true;
}

/* Copies id (and a NUL) into the id block; false out of room. */
static bool add_id(bs__insp_snap *s, const char *id, size_t len, uint32_t *off) {
  if (s->idlen + len + 1 > UINT32_MAX || !grow((void **)&s->ids, &s->idcap, s->idlen + len + 1, 1))
    return false;
  *off = (uint32_t)s->idlen;
  memcpy(s->ids + s->idlen, id, len + 1);
  s->idlen += len + 1;
  return true;
}

/* The sums of type `name` (types are few: a linear search). */
static bs__insp_tsum *tsum_of(bs__insp_snap *s, const char *name) {
  for (size_t i = 0; i < s->ntypes; i++)
    if (s->types[i].name == name) return &s->types[i];
  if (!grow((void **)&s->types, &s->captypes, s->ntypes + 1, sizeof *s->types)) return NULL;
  bs__insp_tsum *t = &s->types[s->ntypes++];
  memset(t, 0, sizeof *t);
  t->name = name;
  return t;
}

void bs__insp_snap_add(bs__insp_snap *s, const bs__insp_row *r, const char *id) {
  bs__insp_tsum *t = tsum_of(s, r->type);
  if (!t || !grow((void **)&s->rows, &s->caprows, s->nrows + 1, sizeof *s->rows)) {
    s->oom = true;
    return;
  }
  bs__insp_row *row = &s->rows[s->nrows];
  *row = *r;
  if (!add_id(s, id, r->id_len, &row->id_off)) {
    s->oom = true;
    return;
  }
  s->nrows++;
  t->actors++;
  t->active += (r->flags & BS__ROW_ACTIVE) != 0;
  t->received += r->received;
  t->processed += r->processed;
  t->mailbox += r->mailbox;
  t->rate += r->rate;
}

/* ---- The sweep ---------------------------------------------------------------- */

static void sample_cell(bs_cell *c, const bs__insp_alphas *a) {
  bs__insp_cell *s = &c->insp;
  uint64_t delta = s->processed - s->sampled;
  s->sampled = s->processed;
  if (!a) {
    s->rate = s->avg1 = s->avg10 = s->avg60 = 0; /* a baseline, not a rate */
    return;
  }
  if (delta == 0 && s->rate == 0 && s->avg1 == 0 && s->avg10 == 0 && s->avg60 == 0)
    return; /* idle and settled: the common case for most actors */
  double rate = a->dt_ms > 0 ? (double)delta * 1000.0 / a->dt_ms : 0;
  s->rate = (float)rate;
  s->avg1 = (float)(s->avg1 + a->a1 * (rate - s->avg1));
  s->avg10 = (float)(s->avg10 + a->a10 * (rate - s->avg10));
  s->avg60 = (float)(s->avg60 + a->a60 * (rate - s->avg60));
}

void bs__insp_row_of(const bs_cell *c, bs__insp_row *r) {
  const bs__insp_cell *s = &c->insp;
  memset(r, 0, sizeof *r);
  r->received = s->received;
  r->processed = s->processed;
  r->mailbox = c->mb.len;
  r->activated_at = s->activated_at;
  r->last_activity = s->last_activity;
  r->rate = s->rate;
  r->avg1 = s->avg1;
  r->avg10 = s->avg10;
  r->avg60 = s->avg60;
  r->type = c->type->name;
  r->id_len = c->id_len;
  r->flags = (uint8_t)((c->state && !(c->flags & BS__CELL_PROBED) ? BS__ROW_ACTIVE : 0) |
                       (s->trace ? BS__ROW_TRACING : 0));
  if (c->persist) {
    r->flags |= BS__ROW_PERSISTENT;
    r->version = c->persist->version;
    r->saved_at = c->persist->saved_at;
    r->store_errors = c->persist->errors;
    r->store_last_error = c->persist->last_error;
  }
}

void bs__insp_rows_sweep(bs__insp_snap *s, bs__shard *sh, size_t from, size_t to,
                         const bs__insp_alphas *a) {
  bs__registry *reg = &sh->reg;
  for (size_t i = from; i < to && i < reg->cap; i++) {
    bs_cell *c = reg->slots[i];
    if (!c) continue;
    sample_cell(c, a);
    bs__insp_row r;
    bs__insp_row_of(c, &r);
    r.shard = sh->index;
    bs__insp_snap_add(s, &r, c->id);
  }
}

static void add_stream(bs__insp_snap *s, const bs_stream *st) {
  if (!grow((void **)&s->streams, &s->capstreams, s->nstreams + 1, sizeof *s->streams)) {
    s->oom = true;
    return;
  }
  bs_stream_stats ss;
  bs_stream_stats_get(st, &ss);
  bs__insp_srow *r = &s->streams[s->nstreams];
  memset(r, 0, sizeof *r);
  r->published = ss.published;
  r->deliveries = ss.deliveries;
  r->encodes = ss.encodes;
  r->subscribers = ss.subscribers;
  r->type = bs_stream_elem_type(st)->name;
  const char *id = bs_stream_id(st);
  r->id_len = (uint8_t)strlen(id);
  if (!add_id(s, id, r->id_len, &r->id_off)) {
    s->oom = true;
    return;
  }
  s->nstreams++;
}

/* Streams are engine-wide (any thread may create one): read under the
 * stream table's lock; their counters are atomics. */
void bs__insp_rows_sweep_streams(bs__insp_snap *s, bs_engine *e, size_t from, size_t to) {
  uv_mutex_lock(&e->streams_lock);
  for (size_t i = from; i < to && i < e->streams_cap && !s->oom; i++)
    if (e->streams[i]) add_stream(s, e->streams[i]);
  uv_mutex_unlock(&e->streams_lock);
}
