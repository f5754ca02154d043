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
 * Shards: the tick runs on the home thread, but an actor's cell may only be
 * read on its own shard's thread, so each tick posts "sweep a slice" to
 * every shard (bs__shard_post; the home shard, and every shard in test
 * mode, run it at once). A shard sweeps its registry into its own part and
 * hands the complete part over under the inspector's lock. When every
 * shard has handed one over, the home tick merges them, with the streams,
 * into the snapshot every request is answered from.
 *
 * Bounded work: a sweep slice visits at most `slice` registry slots, a
 * merge step copies at most `slice` rows. A registry of more slots is swept
 * over several ticks, each slice at its own dt, so a million actors never
 * stall a loop. */
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

/* ---- A shard's part (on the shard's thread) ----------------------------------- */

/* Keeps one "last sampled" time per slice of the registry as it is now. */
static int fit_slices(bs__insp_part *p, size_t cap, size_t slice, uint64_t now) {
  size_t n = cap ? (cap + slice - 1) / slice : 1;
  if (n == p->nslices) return 0;
  uint64_t seen = p->nslices ? p->slice_seen[0] : now; /* before realloc */
  uint64_t *s = realloc(p->slice_seen, n * sizeof *s);
  if (!s) return BS_ENOMEM;
  for (size_t i = p->nslices; i < n; i++) s[i] = seen;
  p->slice_seen = s;
  p->nslices = n;
  return 0;
}

/* A new sweep of this shard's registry. */
static void part_begin(bs__insp_part *p, const bs__shard *s) {
  if (!p->building) p->building = bs__insp_snap_new();
  else bs__insp_snap_clear(p->building);
  p->cursor = 0;
  p->sweep_cap = s->reg.cap;
}

/* The complete part goes to the inspector (replacing one not merged yet). */
static void part_hand_over(bs__inspector *in, bs__insp_part *p) {
  uv_mutex_lock(&in->lock);
  bs__insp_snap *old = p->ready;
  p->ready = p->building;
  uv_mutex_unlock(&in->lock);
  p->building = old; /* reused, emptied by the next part_begin */
  p->cursor = 0;
  p->sweep_cap = SIZE_MAX;
}

/* One slice of the sweep (`all`: the whole registry at once). A registry
 * that grew (rehashed) under a sweep moves cells between slots, so the
 * sweep starts over rather than list an actor twice or miss one. */
static void part_step(bs__inspector *in, bs__shard *s, bool all) {
  bs__insp_part *p = &in->parts[s->index];
  uint64_t now = bs__now(s);
  size_t slice = all ? SIZE_MAX : in->o.slice;
  if (!p->building || p->sweep_cap != s->reg.cap) part_begin(p, s);
  if (!p->building || fit_slices(p, s->reg.cap, in->o.slice, now) < 0) return;
  size_t end = p->cursor + slice < s->reg.cap && slice != SIZE_MAX ? p->cursor + slice
                                                                   : s->reg.cap;
  if (!p->baselined) {
    bs__insp_rows_sweep(p->building, s, p->cursor, end, NULL);
  } else {
    size_t idx = p->cursor / in->o.slice;
    bs__insp_alphas a = bs__insp_alphas_for((double)(now - p->slice_seen[idx]));
    for (size_t i = idx; i < p->nslices && i * in->o.slice < end; i++) p->slice_seen[i] = now;
    bs__insp_rows_sweep(p->building, s, p->cursor, end, &a);
  }
  p->cursor = end;
  if (p->cursor >= s->reg.cap) {
    p->baselined = true;
    part_hand_over(in, p);
  }
}

static void sweep_on_shard(bs__shard *s, void *arg) {
  bs__inspector *in = arg;
  part_step(in, s, false);
  BS__STORE(&in->parts[s->index].pending, 0, RELEASE);
}

static void baseline_on_shard(bs__shard *s, void *arg) { part_step(arg, s, true); }

/* Asks every shard for its next slice (one request in flight per shard). */
static void request_sweeps(bs__inspector *in) {
  bs_engine *e = in->e;
  for (uint32_t k = 0; k < e->nshards; k++) {
    bs__insp_part *p = &in->parts[k];
    if (BS__XCHG(&p->pending, 1, ACQ_REL)) continue;
    if (bs__shard_post(e, k, sweep_on_shard, in) < 0) BS__STORE(&p->pending, 0, RELEASE);
  }
}

/* ---- Merging the parts (home thread) -------------------------------------------- */

/* The completed merge becomes what requests are answered from. The one it
 * replaces is reused for the next merge unless an answer still holds it. */
static void publish(bs__inspector *in, uint64_t now) {
  bs__insp_snap *old = in->current;
  in->current = in->building;
  in->current->seq = ++in->seq;
  in->current->taken_at = now;
  in->building = old && old->refs == 1 ? old : NULL;
  if (!in->building) bs__insp_snap_unref(old);
  bs__insp_pages_free(in); /* pages of the old snapshot: never served again */
  in->merge_on = false;
}

/* Starts a merge when every shard has handed over a part. */
static bool merge_begin(bs__inspector *in) {
  bs_engine *e = in->e;
  uv_mutex_lock(&in->lock);
  bool all = true;
  for (uint32_t k = 0; k < e->nshards && all; k++) all = in->parts[k].ready != NULL;
  if (all) {
    for (uint32_t k = 0; k < e->nshards; k++) {
      in->merging[k] = in->parts[k].ready;
      in->parts[k].ready = NULL;
    }
  }
  uv_mutex_unlock(&in->lock);
  if (!all) return false;
  if (e->nshards == 1) { /* the one part is the snapshot: nothing to copy */
    bs__insp_snap_unref(in->building);
    in->building = in->merging[0];
    in->merging[0] = NULL;
  } else if (!in->building) {
    in->building = bs__insp_snap_new();
  } else {
    bs__insp_snap_clear(in->building);
  }
  in->merge_on = true;
  in->merge_k = in->merge_i = 0;
  return in->building != NULL;
}

/* Copies rows of the parts into the merged snapshot, at most *budget. */
static void merge_rows(bs__inspector *in, size_t *budget) {
  bs__insp_snap *m = in->building;
  for (; in->merge_k < in->e->nshards; in->merge_k++, in->merge_i = 0) {
    bs__insp_snap *p = in->merging[in->merge_k];
    if (!p) continue;
    m->oom |= p->oom;
    for (; in->merge_i < p->nrows && *budget > 0; in->merge_i++, (*budget)--) {
      const bs__insp_row *r = &p->rows[in->merge_i];
      bs__insp_snap_add(m, r, bs__insp_row_id(p, r->id_off));
    }
    if (in->merge_i < p->nrows) return;
    bs__insp_snap_unref(p);
    in->merging[in->merge_k] = NULL;
  }
}

/* One step of the merge: rows; then the streams, all at once (the table
 * can grow from any thread, so it is read in one go under its lock; the
 * rows of even many streams copy quickly); publishes when done. */
static void merge_step(bs__inspector *in, uint64_t now, bool all) {
  if (!in->merge_on && !merge_begin(in)) return;
  size_t budget = all ? SIZE_MAX : in->o.slice;
  merge_rows(in, &budget);
  if (in->merge_k < in->e->nshards) return;
  bs__insp_rows_sweep_streams(in->building, in->e, 0, SIZE_MAX);
  publish(in, now);
}

/* ---- The tick ------------------------------------------------------------------------ */

static void sample_engine(bs__inspector *in, uint64_t now) {
  double dt = (double)(now - in->last_tick);
  uint64_t d = bs__insp_delivered(in->e);
  double rate = dt > 0 ? (double)(d - in->delivered_prev) * 1000.0 / dt : 0;
  in->delivered_prev = d;
  in->last_tick = now;
  in->rate = rate;
  in->avg1 = bs__insp_ewma(in->avg1, rate, dt, 1000.0);
  in->avg10 = bs__insp_ewma(in->avg10, rate, dt, 10000.0);
  in->avg60 = bs__insp_ewma(in->avg60, rate, dt, 60000.0);
  bs_cluster_stats cs;
  if (bs_cluster_stats_get(in->e, &cs) == 0) {
    in->cl_out_rate = dt > 0 ? (double)(cs.msgs_out - in->cl_out_prev) * 1000.0 / dt : 0;
    in->cl_in_rate = dt > 0 ? (double)(cs.msgs_in - in->cl_in_prev) * 1000.0 / dt : 0;
    in->cl_out_prev = cs.msgs_out;
    in->cl_in_prev = cs.msgs_in;
  }
  in->history[in->hist_next] = (float)rate;
  in->hist_next = (in->hist_next + 1) % BS__INSP_HISTORY;
  if (in->hist_len < BS__INSP_HISTORY) in->hist_len++;
  in->samples++;
}

static void tick(bs__inspector *in) {
  uint64_t now = bs__now(in->e->shards[0]);
  sample_engine(in, now);
  request_sweeps(in);
  merge_step(in, now, false);
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
  uv_loop_t *loop = bs_engine_loop(in->e);
  if (in->e->opts.virtual_time) {
    bs_timer_init(in->e, &in->tick);
    in->tick.data = in;
    return bs_timer_start(&in->tick, bs_tick_cb, iv, iv);
  }
  in->rt_tick = malloc(sizeof *in->rt_tick);
  if (!in->rt_tick) return BS_ENOMEM;
  uv_timer_init(loop, in->rt_tick); /* cannot fail */
  in->rt_tick->data = in;
  uv_update_time(loop);
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
 * One whole sweep of every shard (waited for), merged at once, also gives
 * the first snapshot. */
static int baseline(bs__inspector *in, uint64_t now) {
  bs_engine *e = in->e;
  for (uint32_t k = 0; k < e->nshards; k++) {
    int rc = bs__shard_call(e, k, baseline_on_shard, in);
    if (rc < 0) return rc;
  }
  merge_step(in, now, true);
  return in->current && !in->current->oom ? 0 : BS_ENOMEM;
}

int bs__insp_sampler_start(bs__inspector *in) {
  bs_engine *e = in->e;
  uint64_t now = bs__now(e->shards[0]);
  in->started_at = in->last_tick = now;
  in->delivered_prev = bs__insp_delivered(e);
  in->parts = calloc(e->nshards, sizeof *in->parts);
  in->merging = calloc(e->nshards, sizeof *in->merging);
  if (!in->parts || !in->merging) return BS_ENOMEM;
  if (uv_mutex_init(&in->lock) != 0) {
    free(in->parts);
    in->parts = NULL;
    return BS_EUV;
  }
  int rc = baseline(in, now);
  return rc < 0 ? rc : ticker_start(in);
}

static void nothing(bs__shard *s, void *arg) {
  (void)s;
  (void)arg;
}

void bs__insp_sampler_stop(bs__inspector *in) {
  bs_engine *e = in->e;
  ticker_stop(in);
  if (in->parts) {
    /* A call behind any sweep still queued to a shard: once it has run,
     * no shard touches the inspector any more. */
    for (uint32_t k = 0; k < e->nshards; k++)
      if (BS__LOAD(&in->parts[k].pending, ACQUIRE)) (void)bs__shard_call(e, k, nothing, NULL);
    for (uint32_t k = 0; k < e->nshards; k++) {
      bs__insp_part *p = &in->parts[k];
      free(p->slice_seen);
      bs__insp_snap_unref(p->building);
      bs__insp_snap_unref(p->ready);
    }
    uv_mutex_destroy(&in->lock);
  }
  for (uint32_t k = 0; in->merging && k < e->nshards; k++) bs__insp_snap_unref(in->merging[k]);
  free(in->parts);
  free(in->merging);
  in->parts = NULL;
  in->merging = NULL;
  bs__insp_snap_unref(in->building);
  bs__insp_snap_unref(in->current);
  in->building = in->current = NULL;
  bs__insp_buf_unref(in->summary);
  in->summary = NULL;
  bs__insp_pages_free(in);
}
