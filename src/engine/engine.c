/* Engine lifecycle, the run loop, the actor registry's public face, and
 * the run queue. */
#include <stdlib.h>

#include "internal.h"
#include "inspector/insp.h"

void bs_engine_options_init(bs_engine_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->batch = 64;
  o->drain_budget = 4096;
}

/* ---- Run queue ---------------------------------------------------------- */

static void drain_cb(uv_idle_t *idle) { bs__drain(idle->data); }

/* Puts `c` on the run queue unless it is there already, and wakes the drain
 * handle: the only libuv call on the message path, made once per idle->busy
 * transition of the whole engine, not per message. */
void bs__schedule_slow(bs_engine *e, bs_cell *c) {
  c->flags |= BS__CELL_IN_RUNQ;
  c->rq_next = NULL;
  if (e->rq_tail) e->rq_tail->rq_next = c; else e->rq_head = c;
  e->rq_tail = c;
  e->rq_len++;
  if (!e->drain_active && !e->freeing) {
    e->drain_active = true;
    uv_idle_start(&e->h->drain, drain_cb);
  }
}

/* ---- Lifecycle ---------------------------------------------------------- */

static void handle_closed(uv_handle_t *handle) {
  bs__handles *h = handle->data;
  if (--h->open == 0 && h->a.fn) {
    /* Borrowed loop: nobody else will free the block. */
    bs_allocator a = h->a;
    a.fn(a.ud, h, sizeof *h, 0);
  }
}

static int open_handles(bs_engine *e) {
  bs__handles *h = e->h;
  int rc = uv_idle_init(e->loop, &h->drain);
  if (rc == 0) {
    h->open++;
    rc = uv_timer_init(e->loop, &h->clock);
  }
  if (rc == 0) {
    h->open++;
    rc = bs__post_init(e);
  }
  if (rc == 0) h->open++;
  h->drain.data = e;
  h->clock.data = e;
  h->async.data = e;
  return rc;
}

static bs_cell *new_external_cell(bs_engine *e) {
  static const char name[] = "(outside actors)";
  bs_cell *c = bs__calloc(&e->heap, offsetof(bs_cell, id) + sizeof name);
  if (!c) return NULL;
  c->id_len = (uint8_t)(sizeof name - 1);
  memcpy(c->id, name, sizeof name);
  return c;
}

static int engine_alloc(bs_engine **out, const bs_engine_options *opts) {
  bs_engine_options o;
  if (opts) o = *opts; else bs_engine_options_init(&o);
  if (o.batch == 0) o.batch = 64;
  if (o.drain_budget == 0) o.drain_budget = 4096;

  bs__heap heap;
  bs__heap_init(&heap, o.allocator);
  bs_engine *e = bs__calloc(&heap, sizeof *e);
  if (!e) return BS_ENOMEM;
  e->heap = heap;
  e->opts = o;
  e->rng = o.schedule_seed;
  e->bounded = o.mailbox_capacity > 0;
  bs_arena_init(&e->arena, bs__heap_allocator(&e->heap));
  bs__pool_init(&e->pool);
  if (uv_mutex_init(&e->post_lock) != 0) {
    bs__free(&heap, e, sizeof *e);
    return BS_EUV;
  }
  e->h = bs__calloc(&e->heap, sizeof *e->h);
  e->external = e->h ? new_external_cell(e) : NULL;
  if (!e->external) {
    bs__free(&e->heap, e->h, sizeof *e->h);
    uv_mutex_destroy(&e->post_lock);
    heap = e->heap; /* the engine's heap lives inside the block being freed */
    bs__free(&heap, e, sizeof *e);
    return BS_ENOMEM;
  }
  *out = e;
  return 0;
}

static int engine_start(bs_engine *e, uv_loop_t *loop) {
  e->loop = loop;
  int rc = open_handles(e);
  if (rc < 0) return BS_EUV;
  uv_unref((uv_handle_t *)&e->h->async);
  return bs__insp_engine_start(e); /* opts.inspector_addr, $BACKSTAGE_INSPECTOR */
}

int bs_engine_new(bs_engine **out, const bs_engine_options *opts) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  bs_engine *e;
  int rc = engine_alloc(&e, opts);
  if (rc < 0) return rc;
  e->own_loop = true;
  if (uv_loop_init(&e->h->own_loop) != 0) {
    e->own_loop = false;
    bs_engine_free(e);
    return BS_EUV;
  }
  rc = engine_start(e, &e->h->own_loop);
  if (rc < 0) {
    bs_engine_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

int bs_engine_new_on_loop(bs_engine **out, uv_loop_t *loop,
                          const bs_engine_options *opts) {
  if (!out || !loop) return BS_EINVAL;
  *out = NULL;
  bs_engine *e;
  int rc = engine_alloc(&e, opts);
  if (rc < 0) return rc;
  rc = engine_start(e, loop);
  if (rc < 0) {
    bs_engine_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

static void close_handles(bs_engine *e) {
  bs__handles *h = e->h;
  if (!e->loop || h->open == 0) {
    if (e->own_loop) uv_loop_close(&h->own_loop);
    bs__free(&e->heap, h, sizeof *h);
    return;
  }
  uv_handle_t *hs[] = {(uv_handle_t *)&h->drain, (uv_handle_t *)&h->clock,
                       (uv_handle_t *)&h->async};
  int open = h->open;
  for (int i = 0; i < open; i++) {
    hs[i]->data = h;
    uv_close(hs[i], handle_closed);
  }
  if (e->own_loop) {
    /* Our loop: finish the closes now, then the block is ours to free. */
    h->a.fn = NULL;
    uv_run(&h->own_loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->own_loop);
    bs__free(&e->heap, h, sizeof *h);
  } else {
    /* The block leaves the engine's accounting; handle_closed frees it. */
    h->a = e->heap.a;
    e->heap.bytes_live -= sizeof *h;
    e->heap.free_calls++;
  }
}

/* Deinit every live actor, then dead-letter whatever mail is left. Actors
 * may send from deinit; with `freeing` set those sends are dead-lettered at
 * once, so this terminates. */
static void stop_all(bs_engine *e) {
  bs__probes_free(e);
  for (size_t i = 0; i < e->reg.cap; i++) {
    bs_cell *c = e->reg.slots[i];
    if (c && c->state) bs__deactivate(e, c);
  }
  for (size_t i = 0; i < e->reg.cap; i++) {
    bs_cell *c = e->reg.slots[i];
    if (c) bs__sweep_mailbox(e, c, BS_DL_ENGINE_FREED, BS_ECANCELED);
  }
  bs__sweep_mailbox(e, e->external, BS_DL_ENGINE_FREED, BS_ECANCELED);
}

static void free_cells(bs_engine *e) {
  for (size_t i = 0; i < e->reg.cap; i++)
    if (e->reg.slots[i]) bs__cell_free(e, e->reg.slots[i]);
  bs__registry_free(&e->reg, &e->heap);
  bs__cell_free(e, e->external);
}

void bs_engine_free(bs_engine *e) {
  if (!e || e->current || e->running) return;
  bs__insp_engine_stop(e);
  e->freeing = true;
  stop_all(e);
  bs__timers_free(e);
  bs__policies_free(e);
  bs__streams_free(e);
  free_cells(e);
  close_handles(e);
  if (e->loop) bs__post_flush(e, false);
  bs__pool_free(&e->pool, &e->heap);
  bs_arena_free(&e->arena);
  uv_mutex_destroy(&e->post_lock);
  bs__heap heap = e->heap;
  bs__free(&heap, e, sizeof *e);
}

uv_loop_t *bs_engine_loop(bs_engine *e) { return e ? e->loop : NULL; }

/* The inspector's handles are unreferenced: they never keep the loop alive
 * (so never UNTIL_DONE running, nor the result above 0). ONCE and NOWAIT
 * still serve it: its anchor makes libuv poll for one iteration, and ONCE
 * on an otherwise finished loop does not wait for the inspector. */
static int run_once_or_more(bs_engine *e, uv_run_mode m) {
  if (m == UV_RUN_DEFAULT) return uv_run(e->loop, m);
  if (m == UV_RUN_ONCE && !uv_loop_alive(e->loop)) m = UV_RUN_NOWAIT;
  BS__INSP(bs__insp_anchor(e, true));
  uv_run(e->loop, m);
  BS__INSP(bs__insp_anchor(e, false));
  return uv_loop_alive(e->loop);
}

int bs_engine_run(bs_engine *e, bs_run_mode mode) {
  if (!e) return BS_EINVAL;
  if (e->running || e->current) return BS_EBUSY;
  uv_run_mode m = mode == BS_RUN_ONCE     ? UV_RUN_ONCE
                  : mode == BS_RUN_NOWAIT ? UV_RUN_NOWAIT
                                          : UV_RUN_DEFAULT;
  if (mode != BS_RUN_UNTIL_DONE && mode != BS_RUN_ONCE && mode != BS_RUN_NOWAIT)
    return BS_EINVAL;
  e->running = true;
  int alive;
  /* Posts made while the loop was not running (its async handle is
   * unreferenced, so uv_run may not poll for them): run them first, and
   * once more before returning for ones that raced with the loop's end. */
  do {
    bs__post_flush(e, true);
    alive = run_once_or_more(e, m);
  } while (m == UV_RUN_DEFAULT && !alive && bs__post_pending(e));
  e->running = false;
  return alive ? 1 : 0;
}

void bs_engine_stop(bs_engine *e) {
  if (e) uv_stop(e->loop);
}

void bs_engine_hold(bs_engine *e) {
  if (e && e->holds++ == 0) uv_ref((uv_handle_t *)&e->h->async);
}

void bs_engine_release(bs_engine *e) {
  if (e && e->holds > 0 && --e->holds == 0)
    uv_unref((uv_handle_t *)&e->h->async);
}

bool bs_in_turn(const bs_engine *e) { return e && e->current; }

void bs_engine_stats_get(const bs_engine *e, bs_engine_stats *out) {
  if (!e || !out) return;
  *out = e->stats;
  out->actors = e->reg.count;
  out->alloc_calls = e->heap.alloc_calls;
  out->free_calls = e->heap.free_calls;
  out->alloc_failures = e->heap.failures;
  out->bytes_live = e->heap.bytes_live;
}

const char *bs_dead_letter_reason_name(bs_dead_letter_reason r) {
  switch (r) {
#define BS__DL_NAME(name, desc)                                                \
  case BS_DL_##name:                                                           \
    return #name;
    BS_DEAD_LETTER_MAP(BS__DL_NAME)
#undef BS__DL_NAME
  default:
    return "UNKNOWN";
  }
}

/* ---- Actors ------------------------------------------------------------- */

int bs_actor_type_check(const bs_actor_type *t) {
  if (!t || !t->name || !t->name[0] || t->state_size == 0) return BS_EINVAL;
  if (t->state_align & (t->state_align - 1)) return BS_EINVAL;
  if (t->method_count && !t->methods) return BS_EINVAL;
  for (size_t i = 0; i < t->method_count; i++) {
    const bs_method *m = &t->methods[i];
    if (!m->name || !m->invoke) return BS_EINVAL;
    if (i > 0 && t->methods[i - 1].id >= m->id) return BS_EINVAL;
  }
  return 0;
}

int bs__check_id(const char *id, size_t *len) {
  if (!id) return BS_EINVAL;
  size_t n = strnlen(id, BS_ID_MAX + 1);
  if (n == 0 || n > BS_ID_MAX) return BS_EIDLEN;
  *len = n;
  return 0;
}

int bs__cell_new(bs_engine *e, bs__registry *r, const bs_actor_type *t,
                 const char *id, size_t len, uint32_t hash, bs_cell **out) {
  if (bs__registry_reserve(r, &e->heap) < 0) return BS_ENOMEM;
  bs_cell *c = bs__calloc(&e->heap, offsetof(bs_cell, id) + len + 1);
  if (!c) return BS_ENOMEM;
  c->type = t;
  c->hash = hash;
  c->id_len = (uint8_t)len;
  memcpy(c->id, id, len);
  c->id[len] = '\0';
  bs__registry_insert(r, c);
  *out = c;
  return 0;
}

void bs__cell_free(bs_engine *e, bs_cell *c) {
  bs__free(&e->heap, c, offsetof(bs_cell, id) + c->id_len + 1u);
}

static int new_cell(bs_engine *e, const bs_actor_type *t, const char *id,
                    size_t len, uint32_t hash, bs_cell **out) {
  if (t != e->checked_type) {
    if (bs_actor_type_check(t) < 0) return BS_EINVAL;
    e->checked_type = t;
  }
  return bs__cell_new(e, &e->reg, t, id, len, hash, out);
}

/* Finds `id` without creating it: 0 with *out the cell, or NULL when there
 * is none (then *len and *hash are ready for creating it); BS_EIDLEN,
 * BS_EINVAL, or BS_ETYPE when it exists with another type. */
static int lookup(bs_engine *e, const bs_actor_type *type, const char *id,
                  size_t *len, uint32_t *hash, bs_cell **out) {
  int rc = bs__check_id(id, len);
  if (rc < 0) return rc;
  *hash = bs__hash_id(id, *len);
  bs_cell *c = bs__registry_find(&e->reg, id, *len, *hash);
  if (c && c->type != type) return BS_ETYPE;
  *out = c;
  return 0;
}

int bs__actor_find(bs_engine *e, const bs_actor_type *type, const char *id,
                   bs_cell **out) {
  size_t len;
  uint32_t hash;
  int rc = lookup(e, type, id, &len, &hash, out);
  return rc < 0 ? rc : *out ? 0 : BS_ENOTFOUND;
}

int bs_actor_get(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_ref *out) {
  size_t len = 0;
  uint32_t hash = 0;
  bs_cell *c = NULL;
  if (!e || !type || !out) return BS_EINVAL;
  int rc = lookup(e, type, id, &len, &hash, &c);
  if (rc < 0) return rc;
  if (e->freeing) return BS_ECANCELED;
  if (!c && (rc = new_cell(e, type, id, len, hash, &c)) < 0) return rc;
  out->engine = e;
  out->cell = c;
  return 0;
}

const char *bs_ref_id(bs_ref r) { return r.cell ? r.cell->id : NULL; }
const bs_actor_type *bs_ref_type(bs_ref r) { return r.cell ? r.cell->type : NULL; }
bool bs_ref_active(bs_ref r) {
  return r.cell && r.cell->state && !(r.cell->flags & BS__CELL_PROBED);
}
size_t bs_ref_pending(bs_ref r) { return r.cell ? r.cell->mb.len : 0; }

int bs_stop(bs_ref r) {
  bs_engine *e = r.engine;
  bs_cell *c = r.cell;
  if (!e || !c) return BS_EINVAL;
  if (e->freeing) return BS_ECANCELED;
  if (!c->state && c->mb.len == 0) return 0;
  bs__msg *m = bs__msg_get(&e->pool, &e->heap, 0);
  if (!m) return BS_ENOMEM;
  m->kind = BS__MSG_STOP;
  m->target = c;
  bs__mailbox_put(e, c, m); /* a pill is control: not counted as sent */
  return 0;
}

bs_engine *bs_context_engine(const bs_context *ctx) { return ctx ? ctx->engine : NULL; }
const char *bs_context_id(const bs_context *ctx) { return ctx ? ctx->cell->id : NULL; }

bs_ref bs_context_self(const bs_context *ctx) {
  bs_ref r = {NULL, NULL};
  if (ctx) {
    r.engine = ctx->engine;
    r.cell = ctx->cell;
  }
  return r;
}
