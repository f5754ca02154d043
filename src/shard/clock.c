/* A shard's clock: its bs_timer heap and request deadlines share one libuv
 * timer armed for the earliest of the two, or, in test mode, the engine's
 * virtual clock that only bs_test_advance moves.
 *
 * Due times saturate at UINT64_MAX ("never"): a timer or deadline so far
 * away that it would wrap is not armed at all, instead of firing at once or
 * forever. */
#include "internal.h"

enum { TIMER_WEAK = 1u };

uint64_t bs__now(const bs__shard *s) {
  return s->engine->opts.virtual_time ? s->engine->vnow : uv_now(s->loop);
}

uint64_t bs_engine_now(const bs_engine *e) {
  if (!e) return 0;
  bs__shard *s = bs__here((bs_engine *)e);
  return bs__now(s ? s : e->shards[0]);
}

/* ---- Timer heap: a binary min-heap on (due, seq) ------------------------- */

static bool earlier(const bs_timer *a, const bs_timer *b) {
  return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_set(bs__shard *s, size_t i, bs_timer *t) {
  s->timers[i] = t;
  t->slot = i + 1;
}

static void sift_up(bs__shard *s, size_t i) {
  bs_timer *t = s->timers[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!earlier(t, s->timers[parent])) break;
    heap_set(s, i, s->timers[parent]);
    i = parent;
  }
  heap_set(s, i, t);
}

static void sift_down(bs__shard *s, size_t i) {
  bs_timer *t = s->timers[i];
  for (;;) {
    size_t l = 2 * i + 1, best = i;
    bs_timer *b = t;
    if (l < s->ntimers && earlier(s->timers[l], b)) best = l, b = s->timers[l];
    if (l + 1 < s->ntimers && earlier(s->timers[l + 1], b)) best = l + 1, b = s->timers[l + 1];
    if (best == i) break;
    heap_set(s, i, b);
    i = best;
  }
  heap_set(s, i, t);
}

static void heap_remove(bs__shard *s, bs_timer *t) {
  size_t i = t->slot - 1;
  t->slot = 0;
  if (!(t->flags & TIMER_WEAK)) s->strong_timers--;
  bs_timer *last = s->timers[--s->ntimers];
  if (last == t) return;
  heap_set(s, i, last);
  sift_up(s, i);
  sift_down(s, last->slot - 1);
}

static int heap_reserve(bs__shard *s) {
  if (s->ntimers < s->captimers) return 0;
  size_t ncap = s->captimers ? s->captimers * 2 : 16;
  bs_timer **n = bs__realloc(&s->heap, s->timers, s->captimers * sizeof *n, ncap * sizeof *n);
  if (!n) return BS_ENOMEM;
  s->timers = n;
  s->captimers = ncap;
  return 0;
}

static void heap_push(bs__shard *s, bs_timer *t) {
  t->seq = s->timer_seq++;
  if (!(t->flags & TIMER_WEAK)) s->strong_timers++;
  s->timers[s->ntimers] = t;
  sift_up(s, s->ntimers++);
}

/* ---- Arming ---------------------------------------------------------------- */

static void clock_cb(uv_timer_t *t) {
  bs__shard *s = t->data;
  bs__shard *prev = bs__enter(s);
  bs__clock_fire(s, uv_now(s->loop));
  bs__leave(prev);
}

/* The earliest due time of a timer or a deadline; false if none. */
bool bs__clock_next(const bs__shard *s, uint64_t *due) {
  bool any = false;
  if (s->dl_head) {
    *due = bs__req(s->dl_head)->deadline;
    any = true;
  }
  if (s->ntimers && (!any || s->timers[0]->due < *due)) {
    *due = s->timers[0]->due;
    any = true;
  }
  return any;
}

void bs__clock_arm(bs__shard *s) {
  if (s->engine->opts.virtual_time || !s->h) return;
  uv_timer_t *clock = &s->h->clock;
  uint64_t due;
  if (!bs__clock_next(s, &due)) {
    uv_timer_stop(clock);
  } else {
    uint64_t now = uv_now(s->loop);
    uv_timer_start(clock, clock_cb, due > now ? due - now : 0, 0);
  }
  /* Only strong timers and deadlines keep the loop (and UNTIL_DONE) alive. */
  if (bs__clock_holds(s)) uv_ref((uv_handle_t *)clock);
  else uv_unref((uv_handle_t *)clock);
  bs__update_idle(s);
}


/* Expires deadlines, then fires due timers in (due, start order). A
 * callback may start or stop timers, itself included. */
void bs__clock_fire(bs__shard *s, uint64_t now) {
  bs__deadlines_fire(s, now);
  while (s->ntimers && s->timers[0]->due <= now) {
    bs_timer *t = s->timers[0];
    heap_remove(s, t);
    if (t->repeat) {
      uint64_t next = bs__add_ms(t->due, t->repeat);
      t->due = next > now ? next : bs__add_ms(now, t->repeat);
      if (t->due != UINT64_MAX) heap_push(s, t); /* cannot fail: slot just freed */
    }
    t->cb(t);
  }
  bs__clock_arm(s);
  bs__flush(s);
}

/* ---- Public timer API ------------------------------------------------------ */

static bs__shard *timer_shard(const bs_timer *t) { return (bs__shard *)t->shard; }

/* The timer's shard, if the calling thread runs it. */
static bool on_timer_shard(const bs_timer *t) {
  bs__shard *s = timer_shard(t);
  bs__shard *here = bs__here(t->engine);
  return here == s || (here && !t->engine->threaded);
}

int bs_timer_init(bs_engine *e, bs_timer *t) {
  if (!e || !t) return BS_EINVAL;
  bs__shard *s = bs__here(e);
  BS__API_CHECK(s != NULL, "bs_timer_init",
                "called from a thread that runs none of the engine's shards",
                BS_EWRONGTHREAD);
  memset(t, 0, sizeof *t);
  t->engine = e;
  t->shard = s;
  return 0;
}

void bs__timer_set_weak(bs_timer *t) { t->flags |= TIMER_WEAK; }

int bs_timer_start(bs_timer *t, bs_timer_fn cb, uint64_t timeout_ms,
                   uint64_t repeat_ms) {
  if (!t || !t->engine || !cb) return BS_EINVAL;
  BS__API_CHECK(on_timer_shard(t), "bs_timer_start",
                "called from a thread other than the timer's shard", BS_EWRONGTHREAD);
  bs__shard *s = timer_shard(t);
  if (bs__freeing(s->engine)) return BS_ECANCELED;
  if (t->slot) heap_remove(s, t);
  else if (heap_reserve(s) < 0) return BS_ENOMEM;
  if (!s->engine->opts.virtual_time) uv_update_time(s->loop);
  t->cb = cb;
  t->due = bs__add_ms(bs__now(s), timeout_ms);
  t->repeat = repeat_ms;
  /* Due past the clock's end: it would never fire, so it is not started. */
  if (t->due != UINT64_MAX) heap_push(s, t);
  bs__clock_arm(s);
  return 0;
}

void bs_timer_stop(bs_timer *t) {
  if (!t || !t->engine || !t->slot) return;
  BS__API_CHECK_VOID(on_timer_shard(t), "bs_timer_stop",
                     "called from a thread other than the timer's shard");
  bs__shard *s = timer_shard(t);
  heap_remove(s, t);
  bs__clock_arm(s);
}

bool bs_timer_active(const bs_timer *t) { return t && t->slot; }

void bs__timers_free(bs__shard *s) {
  for (size_t i = 0; i < s->ntimers; i++) s->timers[i]->slot = 0;
  bs__free(&s->heap, s->timers, s->captimers * sizeof *s->timers);
  s->timers = NULL;
  s->ntimers = s->captimers = 0;
  s->strong_timers = 0;
}
