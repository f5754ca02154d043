/* The test kit: stepping, the virtual clock, tracing, probes and seeded
 * schedule exploration. The engine's own hooks (seeded pick, virtual clock,
 * probe flag) are single branches on its hot paths, taken only in tests. */
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

/* ---- Naming what a message does --------------------------------------------- */

const char *bs_test_next_method(bs_ref r) {
  if (!r.cell || !r.cell->mb.head) return NULL;
  uint32_t id;
  bs_reader args;
  return bs__msg_name(r.cell, r.cell->mb.head, &id, &args);
}

void bs_test_set_trace(bs_engine *e, bs_test_trace_fn fn, void *ud) {
  if (!e) return;
  e->trace_fn = fn;
  e->trace_ud = ud;
}

void bs__trace(bs_engine *e, bs_cell *c, const bs__msg *m) {
  uint32_t id;
  bs_reader args;
  e->trace_fn(e->trace_ud, c->id, bs__msg_name(c, m, &id, &args));
}

/* ---- Stepping and the virtual clock ---------------------------------------- */

int bs_test_step(bs_engine *e) {
  if (!e) return BS_EINVAL;
  if (e->running || e->current) return BS_EBUSY;
  bs__post_flush(e, true);
  if (!e->rq_head) return 0;
  e->running = true;
  uint32_t n = bs__turn_next(e, 1);
  e->running = false;
  return n > 0 ? 1 : 0;
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

int bs_test_advance(bs_engine *e, uint64_t ms) {
  if (!e || !e->opts.virtual_time) return BS_EINVAL;
  if (e->running || e->current) return BS_EBUSY;
  uint64_t target = e->vnow + ms, due;
  int rc = bs_test_run(e, 0);
  while (rc >= 0 && bs__clock_next(e, &due) && due <= target) {
    if (due > e->vnow) e->vnow = due;
    bs__clock_fire(e, e->vnow);
    rc = bs_test_run(e, 0);
  }
  e->vnow = target;
  return rc < 0 ? rc : 0;
}

/* ---- Probes ------------------------------------------------------------------ */

struct bs_probe {
  bs_engine *engine;
  bs_cell *cell;
  bs__mailbox captured;
  bs__msg *taken;       /* the message *out of bs_probe_next points into */
  bs_arena arena;       /* for bs_read_cstr on its arguments */
  struct bs_probe *next;
};

void bs__probe_capture(bs_engine *e, bs_cell *c, bs__msg *m) {
  if (m->kind == BS__MSG_REPLY) {
    /* An answer to a request the actor made before it stopped: no instance
     * is left whose continuation could run, probe or not. */
    bs__dead_letter(e, c, m, BS_DL_ORPHAN_REPLY, BS_ESTOPPED);
    return;
  }
  bs_probe *p = c->state;
  bs__mb_push(&p->captured, m);
  if (m->kind != BS__MSG_STOP) e->stats.delivered++;
}

int bs_probe_new(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_probe **out) {
  if (!out) return BS_EINVAL;
  bs_ref r;
  int rc = bs_actor_get(e, type, id, &r);
  if (rc < 0) return rc;
  if (r.cell->state) return BS_EBUSY; /* active, or probed already */
  bs_probe *p = bs__calloc(&e->heap, sizeof *p);
  if (!p) return BS_ENOMEM;
  p->engine = e;
  p->cell = r.cell;
  bs_arena_init(&p->arena, bs__heap_allocator(&e->heap));
  r.cell->state = p;
  r.cell->flags |= BS__CELL_PROBED;
  bs__msg *m;
  while ((m = bs__mb_pop(&r.cell->mb))) bs__probe_capture(e, r.cell, m);
  p->next = e->probes;
  e->probes = p;
  *out = p;
  return 0;
}

size_t bs_probe_pending(const bs_probe *p) { return p ? p->captured.len : 0; }

/* Ends a captured message: a request is told no reply will come. */
static void release(bs_probe *p, bs__msg *m) {
  bs_engine *e = p->engine;
  if (m->kind == BS__MSG_CALL && m->req) {
    bs__request_complete(e, m->req, BS_ENOTFOUND, NULL);
    bs__request_unref(e, m->req);
    m->req = NULL;
  }
  bs__msg_release(e, m);
}

static void drop_taken(bs_probe *p) {
  if (p->taken) bs__msg_release(p->engine, p->taken);
  p->taken = NULL;
  bs_arena_reset(&p->arena);
}

int bs_probe_next(bs_probe *p, bs_probed *out) {
  if (!p || !out) return BS_EINVAL;
  drop_taken(p);
  bs__msg *m = bs__mb_pop(&p->captured);
  if (!m) return 0;
  out->method = bs__msg_name(p->cell, m, &out->method_id, &out->args);
  out->args.arena = &p->arena;
  out->request = m->kind == BS__MSG_CALL && m->req;
  if (m->kind == BS__MSG_CALL && m->req) {
    bs__request_complete(p->engine, m->req, BS_ENOTFOUND, NULL);
    bs__request_unref(p->engine, m->req);
    m->req = NULL;
  }
  p->taken = m;
  return 1;
}

static void unlink_probe(bs_engine *e, bs_probe *p) {
  for (bs_probe **pp = &e->probes; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

void bs_probe_free(bs_probe *p) {
  if (!p) return;
  bs_engine *e = p->engine;
  drop_taken(p);
  bs__msg *m;
  while ((m = bs__mb_pop(&p->captured))) release(p, m);
  bs_arena_free(&p->arena);
  p->cell->state = NULL;
  p->cell->flags &= (uint8_t)~BS__CELL_PROBED;
  unlink_probe(e, p);
  bs__free(&e->heap, p, sizeof *p);
}

void bs__probes_free(bs_engine *e) {
  while (e->probes) bs_probe_free(e->probes);
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
