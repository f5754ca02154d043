/* Idle collection: actors of a type with an idle timeout (engine-wide or
 * per type) sit on their type's idle list on their shard, least recently
 * run first. A turn moves the actor to the back (O(1)); a weak timer sweeps
 * from the front, deinitialises those idle longer than the timeout and
 * frees their cells. The next message re-activates the actor from scratch.
 *
 * Costs nothing unless a timeout is set: the flag test in bs__idle_touch is
 * the only trace on the message path. An actor waiting for the answer to a
 * request it made, or with mail, or with a write of its state out or due,
 * is not idle. */
#include "internal.h"

#define SWEEP_MAX 4096u /* deactivations per timer callback */

static bs__lru *lru_for(bs__shard *s, const bs_actor_type *t, uint64_t timeout) {
  for (size_t i = 0; i < s->nlrus; i++)
    if (s->lrus[i].type == t) return &s->lrus[i];
  bs__lru *n = bs__realloc(&s->heap, s->lrus, s->nlrus * sizeof *n, (s->nlrus + 1) * sizeof *n);
  if (!n) return NULL;
  s->lrus = n;
  bs__lru *l = &n[s->nlrus++];
  memset(l, 0, sizeof *l);
  l->type = t;
  l->timeout_ms = timeout;
  return l;
}

static bs__lru *lru_of(bs__shard *s, const bs_actor_type *t) {
  for (size_t i = 0; i < s->nlrus; i++)
    if (s->lrus[i].type == t) return &s->lrus[i];
  return NULL;
}

static void unlink_cell(bs__lru *l, bs_cell *c) {
  if (c->lru_prev) c->lru_prev->lru_next = c->lru_next; else l->head = c->lru_next;
  if (c->lru_next) c->lru_next->lru_prev = c->lru_prev; else l->tail = c->lru_prev;
  c->lru_prev = c->lru_next = NULL;
}

static void append(bs__lru *l, bs_cell *c) {
  c->lru_next = NULL;
  c->lru_prev = l->tail;
  if (l->tail) l->tail->lru_next = c; else l->head = c;
  l->tail = c;
}

static void sweep_cb(bs_timer *t);

/* The sweep runs every quarter of the shortest timeout (at least 1 ms), so
 * an actor is collected between timeout and 1.25 x timeout after its last
 * turn. */
static void arm(bs__shard *s, uint64_t timeout) {
  uint64_t every = timeout / 4 ? timeout / 4 : 1;
  if (s->collect_every && s->collect_every <= every) return;
  s->collect_every = every;
  if (!s->collector.engine) {
    memset(&s->collector, 0, sizeof s->collector);
    s->collector.engine = s->engine;
    s->collector.shard = s;
    bs__timer_set_weak(&s->collector);
  }
  (void)bs_timer_start(&s->collector, sweep_cb, every, every);
}

void bs__idle_activated(bs__shard *s, bs_cell *c) {
  bs_engine *e = s->engine;
  if (!BS__LOAD(&e->idle_types, RELAXED)) return;
  uint64_t timeout = bs__idle_timeout(e, c->type);
  if (!timeout) return;
  bs__lru *l = lru_for(s, c->type, timeout);
  if (!l) return; /* out of memory: this instance is simply not collected */
  c->last_turn = bs__now(s);
  append(l, c);
  c->flags |= BS__CELL_IN_LRU;
  arm(s, timeout);
}

void bs__idle_touch_slow(bs__shard *s, bs_cell *c) {
  bs__lru *l = lru_of(s, c->type);
  c->last_turn = bs__now(s);
  if (l->tail == c) return;
  unlink_cell(l, c);
  append(l, c);
}

void bs__idle_forget(bs__shard *s, bs_cell *c) {
  if (!(c->flags & BS__CELL_IN_LRU)) return;
  unlink_cell(lru_of(s, c->type), c);
  c->flags &= (uint8_t)~BS__CELL_IN_LRU;
}

/* Deactivates the actors of `l` idle since before `now - timeout`; returns
 * how many, at most `budget`. */
static uint32_t sweep_list(bs__shard *s, bs__lru *l, uint64_t now, uint32_t budget) {
  uint32_t n = 0;
  l->timeout_ms = bs__idle_timeout(s->engine, l->type); /* policies may change */
  if (!l->timeout_ms) return 0;
  bs_cell *stop = l->tail;
  while (n < budget && l->head) {
    bs_cell *c = l->head;
    if (bs__add_ms(c->last_turn, l->timeout_ms) > now) break;
    if (c->mb.len || c->nreq || (c->flags & BS__CELL_PROBED) ||
        (c->persist && bs__store_busy(c))) {
      bs__idle_touch_slow(s, c); /* busy, not idle */
    } else {
      bs__deactivate(s, c);
      BS__STAT(s, idle_deactivations);
      bs__collect(s, c);
      n++;
    }
    if (c == stop) break;
  }
  return n;
}

static void sweep_cb(bs_timer *t) {
  bs__shard *s = t->shard;
  uint64_t now = bs__now(s);
  uint32_t budget = SWEEP_MAX;
  for (size_t i = 0; i < s->nlrus && budget; i++)
    budget -= sweep_list(s, &s->lrus[i], now, budget);
  bs__cell_cache_sweep(s);
  if (!budget) (void)bs_timer_start(t, sweep_cb, 0, s->collect_every); /* more soon */
}

void bs__idle_free(bs__shard *s) {
  if (s->collector.slot) bs_timer_stop(&s->collector);
  bs__free(&s->heap, s->lrus, s->nlrus * sizeof *s->lrus);
  s->lrus = NULL;
  s->nlrus = 0;
}
