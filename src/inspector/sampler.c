/* Rates. Once per sample interval (a bs_timer, so the virtual clock of
 * test mode drives it exactly), the sampler reads each actor's `processed`
 * counter and derives:
 *
 *   rate  = (processed - processed at the previous sample) / dt
 *   avgT  += (1 - exp(-dt / T)) * (rate - avgT)    for T = 1 s, 10 s, 60 s
 *
 * an exponentially weighted moving average with time constant T (the way
 * Unix load averages are kept), exact for any dt. Engine-wide throughput
 * (delivered messages) is sampled the same way on every tick.
 *
 * Bounded work: one tick visits at most `slice` registry slots. A registry
 * of more slots is swept over several ticks, each slice at its own dt, so a
 * million actors never stall the loop; per-type totals are published when
 * a sweep completes. */
#include <math.h>
#include <stdlib.h>

#include "inspector/insp.h"

double bs__insp_ewma(double avg, double rate, double dt_ms, double tau_ms) {
  return avg + (1.0 - exp(-dt_ms / tau_ms)) * (rate - avg);
}

bs__insp_type *bs__insp_type_of(bs__inspector *in, const bs_actor_type *t) {
  for (size_t i = 0; i < in->ntypes; i++)
    if (in->types[i].t == t) return &in->types[i];
  if (in->ntypes == in->captypes) {
    size_t ncap = in->captypes ? in->captypes * 2 : 8;
    bs__insp_type *n = realloc(in->types, ncap * sizeof *n);
    if (!n) return NULL;
    in->types = n;
    in->captypes = ncap;
  }
  bs__insp_type *ty = &in->types[in->ntypes++];
  memset(ty, 0, sizeof *ty);
  ty->t = t;
  return ty;
}

typedef struct alphas {
  double dt_ms, a1, a10, a60;
} alphas;

static alphas alphas_for(double dt_ms) {
  alphas a = {dt_ms, 1.0 - exp(-dt_ms / 1000.0), 1.0 - exp(-dt_ms / 10000.0),
              1.0 - exp(-dt_ms / 60000.0)};
  return a;
}

static void sample_cell(bs_cell *c, const alphas *a) {
  bs__insp_cell *s = &c->insp;
  uint64_t delta = s->processed - s->sampled;
  s->sampled = s->processed;
  if (delta == 0 && s->rate == 0 && s->avg1 == 0 && s->avg10 == 0 && s->avg60 == 0)
    return; /* idle and settled: the common case for most actors */
  double rate = a->dt_ms > 0 ? (double)delta * 1000.0 / a->dt_ms : 0;
  s->rate = (float)rate;
  s->avg1 = (float)(s->avg1 + a->a1 * (rate - s->avg1));
  s->avg10 = (float)(s->avg10 + a->a10 * (rate - s->avg10));
  s->avg60 = (float)(s->avg60 + a->a60 * (rate - s->avg60));
}

static void count_cell(bs__inspector *in, const bs_cell *c) {
  bs__insp_type *ty = bs__insp_type_of(in, c->type); /* types are few */
  if (!ty) return;
  ty->n_actors++;
  ty->n_active += c->state != NULL;
  ty->n_received += c->insp.received;
  ty->n_processed += c->insp.processed;
  ty->n_mailbox += c->mb.len;
  ty->n_rate += c->insp.rate;
}

static void publish_types(bs__inspector *in) {
  for (size_t i = 0; i < in->ntypes; i++) {
    bs__insp_type *t = &in->types[i];
    t->actors = t->n_actors, t->active = t->n_active;
    t->received = t->n_received, t->processed = t->n_processed;
    t->mailbox = t->n_mailbox, t->rate = t->n_rate;
    t->n_actors = t->n_active = t->n_received = t->n_processed = t->n_mailbox = 0;
    t->n_rate = 0;
  }
}

/* Keeps one "last sampled" time per slice of the registry as it is now. */
static int fit_slices(bs__inspector *in, uint64_t now) {
  size_t cap = in->e->reg.cap, slice = in->o.slice;
  size_t n = cap ? (cap + slice - 1) / slice : 1;
  if (n == in->nslices) return 0;
  uint64_t seen = in->nslices ? in->slice_seen[0] : now; /* before realloc */
  uint64_t *s = realloc(in->slice_seen, n * sizeof *s);
  if (!s) return BS_ENOMEM;
  for (size_t i = in->nslices; i < n; i++) s[i] = seen;
  in->slice_seen = s;
  in->nslices = n;
  if (in->cursor >= cap) in->cursor = 0;
  return 0;
}

static void sweep_slice(bs__inspector *in, uint64_t now) {
  bs_engine *e = in->e;
  if (fit_slices(in, now) < 0) return;
  size_t idx = in->cursor / in->o.slice;
  alphas a = alphas_for((double)(now - in->slice_seen[idx]));
  in->slice_seen[idx] = now;
  size_t end = in->cursor + in->o.slice;
  if (end > e->reg.cap) end = e->reg.cap;
  for (size_t i = in->cursor; i < end; i++) {
    bs_cell *c = e->reg.slots[i];
    if (!c) continue;
    sample_cell(c, &a);
    count_cell(in, c);
  }
  in->cursor = end;
  if (in->cursor >= e->reg.cap) {
    in->cursor = 0;
    publish_types(in);
  }
}

static void sample_engine(bs__inspector *in, uint64_t now) {
  double dt = (double)(now - in->last_tick);
  uint64_t d = in->e->stats.delivered;
  double rate = dt > 0 ? (double)(d - in->delivered_prev) * 1000.0 / dt : 0;
  in->delivered_prev = d;
  in->last_tick = now;
  in->rate = rate;
  in->avg1 = bs__insp_ewma(in->avg1, rate, dt, 1000.0);
  in->avg10 = bs__insp_ewma(in->avg10, rate, dt, 10000.0);
  in->avg60 = bs__insp_ewma(in->avg60, rate, dt, 60000.0);
  in->history[in->hist_next] = (float)rate;
  in->hist_next = (in->hist_next + 1) % BS__INSP_HISTORY;
  if (in->hist_len < BS__INSP_HISTORY) in->hist_len++;
  in->samples++;
}

static void tick(bs__inspector *in) {
  uint64_t now = bs__now(in->e);
  sample_engine(in, now);
  sweep_slice(in, now);
  if (in->srv) bs__insp_server_tick(in);
}

/* The tick. On the virtual clock (test mode) a bs_timer, so bs_test_advance
 * drives it exactly. On real time the inspector's own libuv timer,
 * unreferenced: a bs_timer arms the engine's clock, which holds the loop,
 * and the inspector must never keep BS_RUN_UNTIL_DONE from returning. That
 * timer is a block of its own, freed by its close callback (which may run
 * after the inspector is gone). */
static void bs_tick_cb(bs_timer *t) { tick(t->data); }
static void uv_tick_cb(uv_timer_t *t) { tick(t->data); }
static void uv_tick_closed(uv_handle_t *h) { free(h); }

static int ticker_start(bs__inspector *in) {
  uint64_t iv = in->o.sample_interval_ms;
  if (in->e->opts.virtual_time) {
    bs_timer_init(in->e, &in->tick);
    in->tick.data = in;
    return bs_timer_start(&in->tick, bs_tick_cb, iv, iv);
  }
  in->rt_tick = malloc(sizeof *in->rt_tick);
  if (!in->rt_tick) return BS_ENOMEM;
  uv_timer_init(in->e->loop, in->rt_tick); /* cannot fail */
  in->rt_tick->data = in;
  uv_update_time(in->e->loop);
  uv_timer_start(in->rt_tick, uv_tick_cb, iv, iv);
  uv_unref((uv_handle_t *)in->rt_tick);
  return 0;
}

static void ticker_stop(bs__inspector *in) {
  bs_timer_stop(&in->tick);
  if (in->rt_tick) uv_close((uv_handle_t *)in->rt_tick, uv_tick_closed);
  in->rt_tick = NULL;
}

/* Baseline: what actors did before the inspector started is not a rate.
 * One pass over the registry, once, also fills the per-type totals. */
static void baseline(bs__inspector *in) {
  bs_engine *e = in->e;
  for (size_t i = 0; i < e->reg.cap; i++) {
    bs_cell *c = e->reg.slots[i];
    if (!c) continue;
    c->insp.sampled = c->insp.processed;
    c->insp.rate = c->insp.avg1 = c->insp.avg10 = c->insp.avg60 = 0;
    count_cell(in, c);
  }
  publish_types(in);
}

int bs__insp_sampler_start(bs__inspector *in) {
  bs_engine *e = in->e;
  uint64_t now = bs__now(e);
  in->started_at = in->last_tick = now;
  in->delivered_prev = e->stats.delivered;
  baseline(in);
  if (fit_slices(in, now) < 0) return BS_ENOMEM;
  return ticker_start(in);
}

void bs__insp_sampler_stop(bs__inspector *in) {
  ticker_stop(in);
  free(in->slice_seen);
  free(in->types);
  in->slice_seen = NULL;
  in->types = NULL;
  in->nslices = in->ntypes = in->captypes = 0;
}
