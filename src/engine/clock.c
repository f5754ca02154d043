/* The engine's clock: bs_timer heap and request deadlines share one libuv
 * timer armed for the earliest of the two, or, in test mode, a virtual
 * clock that only bs_test_advance moves. */
#include "internal.h"

uint64_t bs__now(const bs_engine *e) {
  return e->opts.virtual_time ? e->vnow : uv_now(e->loop);
}

uint64_t bs_engine_now(const bs_engine *e) { return e ? bs__now(e) : 0; }

/* ---- Timer heap: a binary min-heap on (due, seq) ------------------------- */

static bool earlier(const bs_timer *a, const bs_timer *b) {
  return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_set(bs_engine *e, size_t i, bs_timer *t) {
  e->timers[i] = t;
  t->slot = i + 1;
}

static void sift_up(bs_engine *e, size_t i) {
  bs_timer *t = e->timers[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(t, e->timers[parent])) break;
    heap_set(e, i, e->timers[parent]);
    i = parent;
  }
  heap_set(e, i, t);
}

static void sift_down(bs_engine *e, size_t i) {
  bs_timer *t = e->timers[i];
  for (;;) {
    size_t l = 2 * i + 1, best = i;
    bs_timer *b = t;
    if (l < e->ntimers && earlier(e->timers[l], b)) best = l, b = e->timers[l];
    if (l + 1 < e->ntimers && earlier(e->timers[l + 1], b)) best = l + 1, b = e->timers[l + 1];
    if (best == i) break;
    heap_set(e, i, b);
    i = best;
  }
  heap_set(e, i, t);
}

static void heap_remove(bs_engine *e, bs_timer *t) {
  size_t i = t->slot - 1;
  t->slot = 0;
  bs_timer *last = e->timers[--e->ntimers];
  if (last == t) return;
  heap_set(e, i, last);
  sift_up(e, i);
  sift_down(e, last->slot - 1);
}

static int heap_reserve(bs_engine *e) {
  if (e->ntimers < e->captimers) return 0;
  size_t ncap = e->captimers ? e->captimers * 2 : 16;
  bs_timer **n = bs__realloc(&e->heap, e->timers, e->captimers * sizeof *n, ncap * sizeof *n);
  if (!n) return BS_ENOMEM;
  e->timers = n;
  e->captimers = ncap;
  return 0;
}

static void heap_push(bs_engine *e, bs_timer *t) {
  t->seq = e->timer_seq++;
  e->timers[e->ntimers] = t;
  sift_up(e, e->ntimers++);
}

/* ---- Arming ---------------------------------------------------------------- */

static void clock_cb(uv_timer_t *t) {
  bs_engine *e = t->data;
  bs__clock_fire(e, uv_now(e->loop));
}

/* The earliest due time of a timer or a deadline; false if none. */
bool bs__clock_next(const bs_engine *e, uint64_t *due) {
  bool any = false;
  if (e->dl_head) {
    *due = bs__req(e->dl_head)->deadline;
    any = true;
  }
  if (e->ntimers && (!any || e->timers[0]->due < *due)) {
    *due = e->timers[0]->due;
    any = true;
  }
  return any;
}

void bs__clock_arm(bs_engine *e) {
  if (e->opts.virtual_time || e->freeing) return;
  uint64_t due;
  if (!bs__clock_next(e, &due)) {
    uv_timer_stop(&e->h->clock);
    return;
  }
  uint64_t now = uv_now(e->loop);
  uv_timer_start(&e->h->clock, clock_cb, due > now ? due - now : 0, 0);
}

/* Expires deadlines, then fires due timers in (due, start order). A
 * callback may start or stop timers, itself included. */
void bs__clock_fire(bs_engine *e, uint64_t now) {
  while (e->dl_head && bs__req(e->dl_head)->deadline <= now)
    bs__request_complete(e, e->dl_head, BS_ETIMEDOUT, NULL);
  while (e->ntimers && e->timers[0]->due <= now) {
    bs_timer *t = e->timers[0];
    heap_remove(e, t);
    if (t->repeat) {
      t->due = t->due + t->repeat > now ? t->due + t->repeat : now + t->repeat;
      heap_push(e, t); /* cannot fail: the slot was just freed */
    }
    t->cb(t);
  }
  bs__clock_arm(e);
}

/* ---- Public timer API ------------------------------------------------------ */

int bs_timer_init(bs_engine *e, bs_timer *t) {
  if (!e || !t) return BS_EINVAL;
  memset(t, 0, sizeof *t);
  t->engine = e;
  return 0;
}

int bs_timer_start(bs_timer *t, bs_timer_fn cb, uint64_t timeout_ms,
                   uint64_t repeat_ms) {
  if (!t || !t->engine || !cb) return BS_EINVAL;
  bs_engine *e = t->engine;
  if (e->freeing) return BS_ECANCELED;
  if (t->slot) heap_remove(e, t);
  else if (heap_reserve(e) < 0) return BS_ENOMEM;
  if (!e->opts.virtual_time) uv_update_time(e->loop);
  t->cb = cb;
  t->due = bs__now(e) + timeout_ms;
  t->repeat = repeat_ms;
  heap_push(e, t);
  if (e->timers[0] == t) bs__clock_arm(e);
  return 0;
}

void bs_timer_stop(bs_timer *t) {
  if (!t || !t->engine || !t->slot) return;
  heap_remove(t->engine, t);
  if (!t->engine->ntimers && !t->engine->dl_head) bs__clock_arm(t->engine);
}

bool bs_timer_active(const bs_timer *t) { return t && t->slot; }

void bs__timers_free(bs_engine *e) {
  for (size_t i = 0; i < e->ntimers; i++) e->timers[i]->slot = 0;
  bs__free(&e->heap, e->timers, e->captimers * sizeof *e->timers);
  e->timers = NULL;
  e->ntimers = e->captimers = 0;
}
