/* The serve queue: every complete request, and every answer made in steps,
 * waits here for its turn. Turns are paced by a time budget, so that under
 * any request load the actors keep nearly all of the loop:
 *
 *   - while actors have work queued, answering may use
 *     BS__INSP_SHARE_PERMILLE of the loop's time: the time of each answer
 *     or step is measured and charged (plus a fixed BS__INSP_CONN_US per
 *     connection for the accept and read libuv did before), and the budget
 *     refills with wall time, up to a burst of BS__INSP_BURST_US;
 *   - while they have none, nothing is taken from them: answers go as fast
 *     as the loop turns, uncharged (a big /metrics is not slowed for
 *     nothing);
 *   - one loop iteration makes at most BS__INSP_PER_TURN answers or steps,
 *     each bounded by `slice` units of work (rows sorted or scanned,
 *     /metrics lines).
 *
 * A request that finds the budget spent waits (in arrival order) until it
 * refills; nothing is dropped. Clients that loop on requests as fast as
 * they can are thus slowed to the budget, while a dashboard or a scraper,
 * a few requests a second, never notices it. The queue is driven by one
 * unreferenced timer, so it never keeps the loop alive. */
#include "inspector/http.h"

static void pace_cb(uv_timer_t *t);

static void refill(bs__insp_server *s) {
  uint64_t now = uv_hrtime();
  int64_t earned = (int64_t)((now - s->budget_at) / 1000 * BS__INSP_SHARE_PERMILLE / 1000);
  s->budget_at = now;
  s->budget_us = s->budget_us + earned > BS__INSP_BURST_US ? BS__INSP_BURST_US
                                                          : s->budget_us + earned;
}

/* Actors waiting to run on any shard: then answers are paced (the one
 * engine state the server reads). */
static bool actors_busy(const bs__insp_server *s) { return bs__insp_engine_busy(s->in->e); }

/* Runs the queue on the next iteration, or when the budget is back (or
 * within 10 ms, in case the actors went idle meanwhile). */
static void schedule(bs__insp_server *s) {
  if (!s->qhead || !s->in) return;
  uint64_t wait_ms = 0;
  if (s->budget_us <= 0 && actors_busy(s))
    wait_ms = (uint64_t)(-s->budget_us) * 1000 / BS__INSP_SHARE_PERMILLE / 1000 + 1;
  uv_timer_start(&s->pace, pace_cb, wait_ms < 10 ? wait_ms : 10, 0);
}

void bs__insp_queue(bs__insp_client *c) {
  bs__insp_server *s = c->srv;
  if (c->queued || c->closing) return;
  c->queued = true;
  c->qnext = NULL;
  if (s->qtail) s->qtail->qnext = c; else s->qhead = c;
  s->qtail = c;
  if (!uv_is_active((uv_handle_t *)&s->pace)) schedule(s);
}

void bs__insp_unqueue(bs__insp_client *c) {
  bs__insp_server *s = c->srv;
  if (!c->queued) return;
  bs__insp_client **pp = &s->qhead, *prev = NULL;
  while (*pp && *pp != c) prev = *pp, pp = &(*pp)->qnext;
  if (*pp) *pp = c->qnext;
  if (s->qtail == c) s->qtail = prev;
  c->queued = false;
}

static bs__insp_client *pop(bs__insp_server *s) {
  bs__insp_client *c = s->qhead;
  s->qhead = c->qnext;
  if (!s->qhead) s->qtail = NULL;
  c->queued = false;
  return c;
}

static void pace_cb(uv_timer_t *t) {
  bs__insp_server *s = t->data;
  if (!s->in) return;
  refill(s);
  bool busy = actors_busy(s);
  for (int n = 0; n < BS__INSP_PER_TURN && s->qhead && (s->budget_us > 0 || !busy); n++) {
    bs__insp_client *c = pop(s);
    size_t budget = s->in->o.slice;
    uint64_t t0 = uv_hrtime();
    bool first = !c->routed;
    c->routed = true;
    if (first) bs__insp_route(c, &budget);
    else bs__insp_job_step(c, &budget);
    if (busy && s->in)
      s->budget_us -= (int64_t)((uv_hrtime() - t0) / 1000) + (first ? BS__INSP_CONN_US : 0);
  }
  schedule(s);
}

int bs__insp_serve_init(bs__insp_server *s) {
  uv_timer_init(s->loop, &s->pace); /* cannot fail */
  s->open++;
  s->pace.data = s;
  uv_unref((uv_handle_t *)&s->pace);
  s->budget_us = BS__INSP_BURST_US;
  s->budget_at = uv_hrtime();
  return 0;
}

void bs__insp_serve_close(bs__insp_server *s, uv_close_cb closed) {
  s->qhead = s->qtail = NULL;
  if (s->pace.data == s) uv_close((uv_handle_t *)&s->pace, closed);
}
