/* Rates and snapshots. Once per sample interval (a bs_timer on the virtual
 * clock of test mode, so it is exact there; its own libuv timer on real
 * time) the sampler reads each actor's `processed` counter and derives:
 *
 *   rate  = (processed - processed at the previous sample) / dt
 *   avgT  += (1 - exp(-dt / T)) * (rate - avgT)    for T = 1 s, 10 s, 60 s
 *
 * an exponentially weighted moving average with time constant T (the way
 * Unix load averages are kept), exact for any dt. Engine-wide throughput
 * (delivered messages) is sampled the same way on every tick.
 *
 * Bounded work: one tick visits at most `slice` registry slots, copying a
 * row per actor (then per stream) into the snapshot being built. A registry
 * of more slots is swept over several ticks, each slice at its own dt, so a
 * million actors never stall the loop. When a sweep completes, its snapshot
 * becomes the one every request is answered from. */
#include <math.h>
#include <stdlib.h>

#include "inspector/insp.h"

double bs__insp_ewma(double avg, double rate, double dt_ms, double tau_ms) {
  return avg + (1.0 - exp(-dt_ms / tau_ms)) * (rate - avg);
}

bs__insp_alphas bs__insp_alphas_for(double dt_ms) {
  bs__insp_alphas a = {dt_ms, 1.0 - exp(-dt_ms / 1000.0), 1.0 - exp(-dt_ms / 10000.0),
                       1.0 - exp(-dt_ms / 60000.0)};
  return a;
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
  return 0;
}

/* A new sweep into a fresh snapshot (or the failed one, emptied). */
static void sweep_begin(bs__inspector *in) {
  if (!in->building) in->building = bs__insp_snap_new();
  else bs__insp_snap_clear(in->building);
  in->cursor = 0;
  in->sweep_cap = in->e->reg.cap;
  in->sweep_scap = in->e->streams.cap;
}

/* The completed sweep becomes what requests are answered from. The one it
 * replaces is reused for the next sweep unless an answer still holds it. */
static void publish(bs__inspector *in, uint64_t now) {
  bs__insp_snap *old = in->current;
  in->current = in->building;
  in->current->seq = ++in->seq;
  in->current->taken_at = now;
  in->building = old && old->refs == 1 ? old : NULL;
  if (!in->building) bs__insp_snap_unref(old);
  bs__insp_pages_free(in); /* pages of the old snapshot: never served again */
  sweep_begin(in);
}

/* One slice: actor slots first, then stream slots. A registry that grew
 * (rehashed) under a sweep moves cells between slots, so the sweep starts
 * over rather than list an actor twice or miss one. */
static void sweep_slice(bs__inspector *in, uint64_t now) {
  bs_engine *e = in->e;
  if (!in->building) sweep_begin(in);
  if (!in->building || fit_slices(in, now) < 0) return;
  if (in->sweep_cap != e->reg.cap || in->sweep_scap != e->streams.cap) sweep_begin(in);
  size_t budget = in->o.slice;
  if (in->cursor < e->reg.cap) {
    size_t idx = in->cursor / in->o.slice;
    bs__insp_alphas a = bs__insp_alphas_for((double)(now - in->slice_seen[idx]));
    in->slice_seen[idx] = now;
    size_t end = in->cursor + budget < e->reg.cap ? in->cursor + budget : e->reg.cap;
    bs__insp_rows_sweep(in->building, &e->reg, in->cursor, end, &a);
    budget -= end - in->cursor;
    in->cursor = end;
  }
  size_t scur = in->cursor - e->reg.cap;
  if (in->cursor >= e->reg.cap && budget > 0 && scur < e->streams.cap) {
    size_t end = scur + budget < e->streams.cap ? scur + budget : e->streams.cap;
    bs__insp_rows_sweep_streams(in->building, &e->streams, scur, end);
    in->cursor += end - scur;
  }
  if (in->cursor >= e->reg.cap + e->streams.cap) publish(in, now);
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
 * One pass over the registry, once, also gives the first snapshot. */
static int baseline(bs__inspector *in, uint64_t now) {
  bs_engine *e = in->e;
  sweep_begin(in);
  if (!in->building) return BS_ENOMEM;
  bs__insp_rows_sweep(in->building, &e->reg, 0, e->reg.cap, NULL);
  bs__insp_rows_sweep_streams(in->building, &e->streams, 0, e->streams.cap);
  if (in->building->oom) return BS_ENOMEM;
  publish(in, now);
  return in->building ? 0 : BS_ENOMEM;
}

int bs__insp_sampler_start(bs__inspector *in) {
  bs_engine *e = in->e;
  uint64_t now = bs__now(e);
  in->started_at = in->last_tick = now;
  in->delivered_prev = e->stats.delivered;
  int rc = baseline(in, now);
  if (rc == 0) rc = fit_slices(in, now);
  return rc < 0 ? rc : ticker_start(in);
}

void bs__insp_sampler_stop(bs__inspector *in) {
  ticker_stop(in);
  free(in->slice_seen);
  in->slice_seen = NULL;
  in->nslices = 0;
  bs__insp_snap_unref(in->building);
  bs__insp_snap_unref(in->current);
  in->building = in->current = NULL;
  bs__insp_buf_unref(in->summary);
  in->summary = NULL;
  bs__insp_pages_free(in);
}
