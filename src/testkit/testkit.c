/* The test kit: stepping, the virtual clock, tracing, probes and seeded
 * schedule exploration. The engine's own hooks (seeded pick, virtual clock,
 * probe flag) are single branches on its hot paths, taken only in tests.
 *
 * Test mode (virtual_time or schedule_seed) runs every shard on the home
 * thread, so a test is deterministic whatever opts.shards is: a step picks
 * what happens next - one hand-off from a shard's inbox, or one message of
 * an actor on a shard's run queue - by the seed, so cross-shard deliveries
 * interleave with turns reproducibly. */
#include <limits.h>

#include "internal.h"
#include "backstage/testkit.h"

/* splitmix64: tiny, and a fixed function of the seed on every platform. */
uint64_t bs__rand(bs_engine *e) {
  uint64_t z = (e->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static bool on_home(bs_engine *e) {
  bs__shard *s = bs__here(e);
  return s && (s->index == 0 || !e->threaded);
}

/* ---- Naming what a message does --------------------------------------------- */

const char *bs_test_next_method(const bs_ref *r) {
  if (!r || !r->engine || !r->type || !r->len) return NULL;
  bs_engine *e = r->engine;
  if (!on_home(e)) return NULL;
  bs__shard *s = e->shards[bs__shard_of(e, r->hash)];
  bs_cell *c = bs__cell_find(s, r->type, r->id, r->len, r->hash);
  if (!c || !c->mb.head) return NULL;
  uint32_t id;
  bs_reader args;
  return bs__msg_name(c, c->mb.head, &id, &args);
}

void bs_test_set_trace(bs_engine *e, bs_test_trace_fn fn, void *ud) {
  if (!e) return;
  e->trace_fn = fn;
  e->trace_ud = ud;
}

void bs__trace(bs__shard *s, bs_cell *c, const bs__msg *m) {
  uint32_t id;
  bs_reader args;
  bs_engine *e = s->engine;
  e->trace_fn(e->trace_ud, c->id, bs__msg_name(c, m, &id, &args));
}

/* ---- Stepping ----------------------------------------------------------------- */

/* What a step can do next on shard `i`: take one hand-off from its inbox
 * (action 2i) or run one message of its run queue (action 2i + 1). */
static uint32_t actions(bs_engine *e, uint32_t *list) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__shard *s = e->shards[i];
    if (s->inbox.stub && bs__inbox_busy(&s->inbox)) list[n++] = 2 * i;
    if (s->rq_head) list[n++] = 2 * i + 1;
  }
  return n;
}

/* One action: the seed's choice, or in FIFO mode the first one. */
static int act(bs_engine *e, uint32_t *list, uint32_t n) {
  uint32_t a = list[e->opts.schedule_seed ? bs__rand(e) % n : 0];
  bs__shard *s = e->shards[a / 2];
  bs__shard *prev = bs__enter(s);
  int dispatched = 0;
  if (a % 2 == 0) {
    (void)bs__take_inbox(s, 1);
  } else {
    s->in_drain = true;
    dispatched = bs__turn_next(s, 1) > 0;
    s->in_drain = false;
  }
  bs__flush(s);
  bs__leave(prev);
  return dispatched;
}

#define STEP_ACTIONS_ON_STACK 64

int bs_test_step(bs_engine *e) {
  if (!e) return BS_EINVAL;
  BS__API_CHECK(on_home(e), "bs_test_step",
                "called from a thread other than the engine's home thread", BS_EWRONGTHREAD);
  if (bs__inside_loop(e)) return BS_EBUSY;
  if (e->threaded) return BS_EINVAL; /* threads run shards on their own */
  bs__post_flush(e, true);
  uint32_t stack[STEP_ACTIONS_ON_STACK];
  uint32_t *list = stack;
  if (2 * e->nshards > STEP_ACTIONS_ON_STACK) {
    list = bs__alloc(&e->heap, 2 * e->nshards * sizeof *list);
    if (!list) return BS_ENOMEM;
  }
  e->running = true;
  int rc = 0;
  uint32_t n;
  while (rc == 0 && (n = actions(e, list)) > 0) rc = act(e, list, n);
  e->running = false;
  if (list != stack) bs__free(&e->heap, list, 2 * e->nshards * sizeof *list);
  return rc;
}

int bs_test_run(bs_engine *e, uint64_t max_messages) {
  uint64_t n = 0;
  int rc;
  while ((max_messages == 0 || n < max_messages) && (rc = bs_test_step(e)) != 0) {
    if (rc < 0) return rc;
    n++;
  }
  return n > INT_MAX ? INT_MAX : (int)n;
}

/* ---- The virtual clock ------------------------------------------------------------ */

/* The earliest due time over all shards; false if none. */
static bool next_due(bs_engine *e, uint64_t *due) {
  bool any = false;
  for (uint32_t i = 0; i < e->nshards; i++) {
    uint64_t d;
    if (bs__clock_next(e->shards[i], &d) && (!any || d < *due)) {
      *due = d;
      any = true;
    }
  }
  return any;
}

static void fire_all(bs_engine *e, uint64_t now) {
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__shard *prev = bs__enter(e->shards[i]);
    bs__clock_fire(e->shards[i], now);
    bs__leave(prev);
  }
}

int bs_test_advance(bs_engine *e, uint64_t ms) {
  if (!e || !e->opts.virtual_time) return BS_EINVAL;
  BS__API_CHECK(on_home(e), "bs_test_advance",
                "called from a thread other than the engine's home thread", BS_EWRONGTHREAD);
  if (bs__inside_loop(e)) return BS_EBUSY;
  uint64_t target = bs__add_ms(e->vnow, ms), due = 0;
  int rc = bs_test_run(e, 0);
  while (rc >= 0 && next_due(e, &due) && due <= target) {
    if (due > e->vnow) e->vnow = due;
    fire_all(e, e->vnow);
    rc = bs_test_run(e, 0);
  }
  e->vnow = target;
  return rc < 0 ? rc : 0;
}

/* ---- Probes ------------------------------------------------------------------ */

struct bs_probe {
  bs__shard *shard;
  bs_cell *cell;
  bs__mailbox captured;
  bs__msg *taken;       /* the message *out of bs_probe_next points into */
  bs__refs refs;        /* its blob references, for bs_read_blob */
  bs_arena arena;       /* for bs_read_cstr on its arguments */
  struct bs_probe *next;
};

void bs__probe_capture(bs__shard *s, bs_cell *c, bs__msg *m) {
  if (m->kind == BS__MSG_REPLY) {
    /* An answer to a request the actor made before it stopped: no instance
     * is left whose continuation could run, probe or not. */
    bs__dead_letter(s, c, m, BS_DL_ORPHAN_REPLY, BS_ESTOPPED);
    return;
  }
  bs_probe *p = c->state;
  bs__mb_push(&p->captured, m);
  if (m->kind != BS__MSG_STOP) BS__STAT(s, delivered);
}

int bs_probe_new(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_probe **out) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  bs_ref r;
  int rc = bs_actor_get(e, type, id, &r);
  if (rc < 0) return rc;
  bs__shard *s = e->shards[bs__shard_of(e, r.hash)];
  BS__API_CHECK(bs__here(e) == s || (!e->threaded && on_home(e)), "bs_probe_new",
                "called from a thread other than the actor's shard", BS_EWRONGTHREAD);
  bs_cell *c;
  rc = bs__cell_get(s, type, r.id, r.len, r.hash, &c);
  if (rc < 0) return rc;
  if (c->state) return BS_EBUSY; /* active, or probed already */
  bs_probe *p = bs__calloc(&s->heap, sizeof *p);
  if (!p) {
    bs__collect(s, c);
    return BS_ENOMEM;
  }
  p->shard = s;
  p->cell = c;
  bs_arena_init(&p->arena, bs__heap_allocator(&s->heap));
  c->state = p;
  c->flags |= BS__CELL_PROBED;
  s->queued -= c->mb.len;
  bs__msg *m;
  while ((m = bs__mb_pop(&c->mb))) bs__probe_capture(s, c, m);
  p->next = s->probes;
  s->probes = p;
  *out = p;
  return 0;
}

size_t bs_probe_pending(const bs_probe *p) { return p ? p->captured.len : 0; }

/* A captured request is told no reply will come: BS_ENOTFOUND, carried by
 * a block of its own (the message stays readable), or by the message
 * itself when it is being released anyway. */
static int refuse(bs__shard *s, bs__msg *m, bool keep) {
  if (m->kind != BS__MSG_CALL || !m->req_id) return 0;
  bs__msg *v = keep ? bs__msg_get(&s->pool, 0) : m;
  if (!v) return BS_ENOMEM;
  uint64_t id = m->req_id;
  uint32_t to = m->reply_shard;
  m->req_id = 0;
  v->kind = BS__MSG_VALUE;
  v->req_id = id;
  v->status = BS_ENOTFOUND;
  v->len = 0;
  bs__answer(s, to, v);
  return 1;
}

static void drop_taken(bs_probe *p) {
  if (p->taken) bs__release(p->shard, p->taken);
  p->taken = NULL;
  bs_arena_reset(&p->arena);
}

int bs_probe_next(bs_probe *p, bs_probed *out) {
  if (!p || !out) return BS_EINVAL;
  drop_taken(p);
  bs__msg *m = p->captured.head;
  if (!m) return 0;
  bool request = m->kind == BS__MSG_CALL && m->req_id;
  if (refuse(p->shard, m, true) < 0) return BS_ENOMEM; /* still captured */
  (void)bs__mb_pop(&p->captured);
  out->method = bs__msg_name(p->cell, m, &out->method_id, &out->args);
  out->args.arena = &p->arena;
  out->args.refs = bs__refs_of(p->shard, m, &p->refs);
  out->request = request;
  p->taken = m;
  bs__flush(p->shard);
  return 1;
}

static void unlink_probe(bs__shard *s, bs_probe *p) {
  for (bs_probe **pp = &s->probes; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

void bs_probe_free(bs_probe *p) {
  if (!p) return;
  bs__shard *s = p->shard;
  drop_taken(p);
  bs__msg *m;
  while ((m = bs__mb_pop(&p->captured))) {
    if (refuse(s, m, false) == 0) bs__release(s, m);
  }
  bs_arena_free(&p->arena);
  bs_cell *c = p->cell;
  c->state = NULL;
  c->flags &= (uint8_t)~BS__CELL_PROBED;
  unlink_probe(s, p);
  bs__free(&s->heap, p, sizeof *p);
  bs__flush(s);
  bs__collect(s, c);
}

void bs__probes_free(bs__shard *s) {
  while (s->probes) bs_probe_free(s->probes);
}

/* ---- Exploration ---------------------------------------------------------------- */

int bs_test_explore(bs_test_scenario_fn fn, void *ud, uint64_t first_seed,
                    uint32_t count, uint64_t *failing_seed) {
  if (!fn) return BS_EINVAL;
  uint64_t seed = first_seed;
  for (uint32_t i = 0; i < count; i++, seed++) {
    if (seed == 0) seed++; /* 0 means FIFO, not a seed */
    if (fn(seed, ud) != 0) {
      if (failing_seed) *failing_seed = seed;
      return 1;
    }
  }
  return 0;
}
