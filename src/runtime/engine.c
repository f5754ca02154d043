/* Engine lifecycle, running the home loop, the termination check over the
 * shards, references and statistics. */
#include <stdlib.h>

#include "internal.h"
#include "inspector/insp.h"
#include "store/store.h"

#define BS__SHARDS_MAX 1024u
#define BS__SPIN_DEFAULT_US 50u

void bs_engine_options_init(bs_engine_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->batch = 64;
  o->drain_budget = 4096;
  o->shards = 1;
  o->max_decode_bytes = BS_MAX_DECODE_BYTES_DEFAULT;
}

/* ---- Where am I --------------------------------------------------------- */

/* The engine this thread was last found to be the home thread of: main's
 * sends, requests and awaits skip the thread comparison. Cleared when that
 * engine is freed (on this thread), so a later engine at the same address
 * is compared again. */
static _Thread_local bs_engine *tls_home;

bs__shard *bs__here_slow(bs_engine *e) {
  if (!e) return NULL;
  if (tls_home == e) return e->shards[0];
  uv_thread_t self = uv_thread_self();
  if (!uv_thread_equal(&self, &e->home)) return NULL;
  tls_home = e;
  return e->shards[0];
}

static bool on_home(bs_engine *e) {
  uv_thread_t self = uv_thread_self();
  return uv_thread_equal(&self, &e->home);
}

bool bs__inside_loop(bs_engine *e) {
  if (e->running || e->shards[0]->current || bs__tls_shard) return true;
  return e->foreign_run && bs__in_uv_run();
}

/* Handles on the engine's own loop that are not the engine's. */
static void count_foreign(uv_handle_t *h, void *arg) {
  bs_engine *e = ((void **)arg)[0];
  size_t *n = ((void **)arg)[1];
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__handles *hs = e->shards[i] ? e->shards[i]->h : NULL;
    if (hs && (h == (uv_handle_t *)&hs->drain || h == (uv_handle_t *)&hs->clock ||
               h == (uv_handle_t *)&hs->async || h == (uv_handle_t *)&hs->watch))
      return;
  }
  if (!uv_is_closing(h)) (*n)++;
}

/* Freeing closes and frees the engine's own loop; that loop must not be
 * running (we would free it under uv_run) nor carry the user's handles
 * (they would be closed under the user's feet, or never). */
static bool own_loop_busy(bs_engine *e) {
  bs__shard *home = e->shards[0];
  if (!home || !home->own_loop) return false;
  size_t n = 0;
  void *arg[2] = {e, &n};
  uv_walk(home->loop, count_foreign, arg);
  return n > 0 || (e->foreign_run && bs__in_uv_run());
}

/* ---- Termination ---------------------------------------------------------
 * Mattern's four-counter method over the shards: every inbox push is
 * counted by its sender (xsent) before the message is visible, every take
 * by its receiver (xrecv), and a shard raises `idle` only when its loop has
 * nothing to do. Two consecutive reads that agree, with every shard idle
 * and as many messages taken as sent, mean nothing is running and nothing
 * is in flight: no message can appear any more except from outside (the
 * home thread, posts, I/O), which the home loop sees itself. */
typedef struct wave {
  uint64_t sent, recv;
  bool idle;
} wave;

static wave read_wave(bs_engine *e, uint64_t *sig) {
  wave w = {0, 0, true};
  uint64_t h = 0;
#ifdef BS_WITH_CLUSTER
  /* Batches from other nodes, pushed by the cluster's threads. */
  if (e->cluster) w.sent = bs__cl_xsent(e);
  h = w.sent;
#endif
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__shard *s = e->shards[i];
    uint64_t sent = BS__LOAD(&s->xsent, ACQUIRE);
    uint64_t recv = BS__LOAD(&s->xrecv, ACQUIRE);
    w.idle = w.idle && BS__LOAD(&s->idle, ACQUIRE);
    w.sent += sent;
    w.recv += recv;
    h = (h ^ sent) * 0x100000001b3ull;
    h = (h ^ recv) * 0x100000001b3ull;
  }
  *sig = h;
  return w;
}

bool bs__quiescent(bs_engine *e) {
  uint64_t s1, s2;
  wave a = read_wave(e, &s1);
  if (!a.idle || a.sent != a.recv) return false;
  wave b = read_wave(e, &s2);
  return b.idle && s1 == s2 && b.sent == a.sent && b.recv == a.recv;
}

/* ---- Creation ------------------------------------------------------------- */

static uint32_t resolve_shards(uint32_t n) {
  if (n == 0) n = uv_available_parallelism();
  if (n == 0) n = 1;
  return n > BS__SHARDS_MAX ? BS__SHARDS_MAX : n;
}

static int engine_alloc(bs_engine **out, const bs_engine_options *opts) {
  bs_engine_options o;
  if (opts) o = *opts; else bs_engine_options_init(&o);
  if (o.batch == 0) o.batch = 64;
  if (o.drain_budget == 0) o.drain_budget = 4096;
  if (o.max_decode_bytes == 0) o.max_decode_bytes = BS_MAX_DECODE_BYTES_DEFAULT;
  o.shards = resolve_shards(o.shards);

  bs__heap heap;
  bs__heap_init(&heap, o.allocator, true);
  bs_engine *e = bs__calloc(&heap, sizeof *e);
  *out = e;
  if (!e) return BS_ENOMEM;
  e->heap = heap;
  e->opts = o;
  e->nshards = o.shards;
  e->home = uv_thread_self();
  e->test_mode = o.virtual_time || o.schedule_seed;
  e->threaded = e->nshards > 1 && !e->test_mode;
  e->rng = o.schedule_seed;
  e->bounded = o.mailbox_capacity > 0;
  e->idle_types = o.idle_timeout_ms > 0;
  uint32_t spin = o.shard_spin_us ? o.shard_spin_us : BS__SPIN_DEFAULT_US;
  e->spin_ns = spin == BS_SPIN_OFF || !e->threaded ? 0 : (uint64_t)spin * 1000u;
  int rc = 0;
  if (uv_mutex_init(&e->post_lock) != 0) rc = BS_EUV;
  else if (uv_mutex_init(&e->streams_lock) != 0) rc = BS_EUV;
  else if (uv_mutex_init(&e->quit_lock) != 0) rc = BS_EUV;
  else if (uv_cond_init(&e->quit_cond) != 0) rc = BS_EUV;
  if (rc == 0) {
    e->shards = bs__calloc(&e->heap, e->nshards * sizeof *e->shards);
    if (!e->shards) rc = BS_ENOMEM;
  }
  *out = e;
  return rc; /* on error the caller frees what was made (bs_engine_free) */
}

static int engine_start(bs_engine *e, uv_loop_t *loop) {
  /* The store first: shards give themselves an inbox for its completions. */
  if (e->opts.store || e->opts.store_path) {
    int rc = bs__storage_new(e);
    if (rc < 0) return rc;
  }
  for (uint32_t i = 0; i < e->nshards; i++) {
    /* Single-threaded engines (and test mode) run every shard on the home
     * loop; threaded ones give each other shard a loop of its own. */
    uv_loop_t *l = i == 0 ? loop : e->threaded ? NULL : e->shards[0]->loop;
    int rc = bs__shard_new(e, (uint16_t)i, l, &e->shards[i]);
    if (rc < 0) return rc;
  }
  /* The cluster's state exists before the shards' threads start (they
   * read it without locks); joining needs them running. */
  int rc = bs__cluster_prepare(e); /* opts.cluster, $BACKSTAGE_CLUSTER */
  if (rc < 0) return rc;
  for (uint32_t i = 1; i < e->nshards; i++) {
    rc = bs__shard_start(e->shards[i]);
    if (rc < 0) return rc;
  }
  rc = bs__insp_engine_start(e); /* opts.inspector_addr, $BACKSTAGE_INSPECTOR */
  if (rc < 0) return rc;
  return bs__cluster_join(e);
}

static int engine_new(bs_engine **out, uv_loop_t *loop, const bs_engine_options *opts) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  bs_engine *e = NULL;
  int rc = engine_alloc(&e, opts);
  if (rc == 0) rc = engine_start(e, loop);
  if (rc < 0) {
    bs_engine_free(e);
    return rc;
  }
  *out = e;
  return 0;
}

int bs_engine_new(bs_engine **out, const bs_engine_options *opts) {
  return engine_new(out, NULL, opts);
}

int bs_engine_new_on_loop(bs_engine **out, uv_loop_t *loop,
                          const bs_engine_options *opts) {
  if (!loop) {
    if (out) *out = NULL;
    return BS_EINVAL;
  }
  int rc = engine_new(out, loop, opts);
  /* The caller runs this loop with its own uv_run: from the start, an
   * await or a run outside bs_engine_run checks it is not inside it. */
  if (rc == 0) (*out)->foreign_run = true;
  return rc;
}

/* ---- Freeing ---------------------------------------------------------------
 * Shards with threads are shut down in two phases, each acknowledged: first
 * every shard deinits its actors on its own thread (sends made meanwhile
 * are dead-lettered, since `freeing` is set), then, when none of them can
 * push any more, every thread closes its handles and exits. What is left in
 * inboxes is swept by the home thread after the joins. */

static void wait_acks(bs_engine *e, uint32_t want) {
  uv_mutex_lock(&e->quit_lock);
  while (e->quit_acks < want) uv_cond_wait(&e->quit_cond, &e->quit_lock);
  e->quit_acks = 0;
  uv_mutex_unlock(&e->quit_lock);
}

void bs__quit_ack(bs_engine *e) {
  uv_mutex_lock(&e->quit_lock);
  e->quit_acks++;
  uv_cond_signal(&e->quit_cond);
  uv_mutex_unlock(&e->quit_lock);
}


/* Phase 1, on every shard: deinit the actors (on their own threads). */
static void stop_all_actors(bs_engine *e) {
  uint32_t started = 0;
  for (uint32_t i = 1; i < e->nshards; i++)
    if (e->shards[i] && e->shards[i]->threaded) started++;
  for (uint32_t i = 1; i < e->nshards; i++)
    if (e->shards[i] && e->shards[i]->threaded) bs__send_ctrl(e, i, 1 /* stop actors */);
  if (started) wait_acks(e, started);
  for (uint32_t i = 0; i < e->nshards; i++)
    if (e->shards[i] && !e->shards[i]->threaded) bs__shard_stop_actors(e->shards[i]);
}

/* Phase 2: the threads exit. */
static void shutdown_threads(bs_engine *e) {
  for (uint32_t i = 1; i < e->nshards; i++)
    if (e->shards[i] && e->shards[i]->threaded) bs__send_ctrl(e, i, 2 /* exit */);
  for (uint32_t i = 1; i < e->nshards; i++)
    if (e->shards[i] && e->shards[i]->threaded) bs__shard_close(e->shards[i]);
}

void bs_engine_free(bs_engine *e) {
  if (!e) return;
  BS__API_CHECK_VOID(!e->shards || on_home(e), "bs_engine_free",
                     "called from a thread other than the engine's home thread");
  bs__shard *home = e->shards ? e->shards[0] : NULL;
  BS__API_CHECK_VOID(!home || (!e->running && !home->current && !bs__tls_shard),
                     "bs_engine_free", "called from inside the running engine");
  bs__insp_engine_stop(e); /* its handles are closing now: not the user's */
  BS__API_CHECK_VOID(!home || !own_loop_busy(e), "bs_engine_free",
                     "the engine's loop is running or still has handles of yours "
                     "(close them, and free the engine outside uv_run)");
  /* Leave the cluster first: placed actors stop while this node still
   * serves them, then no thread of the cluster's pushes any more. */
  bs__cluster_stop(e);
  BS__STORE(&e->freeing, 1, SEQ_CST);
  if (tls_home == e) tls_home = NULL;
  if (e->shards) {
    stop_all_actors(e);
    /* Their last writes commit before any thread goes away. */
    if (e->storage) bs__storage_drain(e);
    shutdown_threads(e);
    /* Everything below runs with no other thread left. */
    for (uint32_t i = 0; i < e->nshards; i++)
      if (e->shards[i]) bs__shard_close(e->shards[i]);
    for (uint32_t i = 0; i < e->nshards; i++)
      if (e->shards[i]) bs__shard_clear(e->shards[i]);
    bs__cluster_free(e); /* after the inboxes were swept, before the pools */
    bs__streams_free(e);
    if (home) bs__post_flush(e, false);
    for (uint32_t i = 0; i < e->nshards; i++)
      if (e->shards[i]) bs__shard_free(e->shards[i]);
    bs__free(&e->heap, e->shards, e->nshards * sizeof *e->shards);
  }
  if (e->storage) bs__storage_free(e);
  if (!e->shards) bs__cluster_free(e);
  bs__policies_free(e);
  bs__types_free(e);
  uv_cond_destroy(&e->quit_cond);
  uv_mutex_destroy(&e->quit_lock);
  uv_mutex_destroy(&e->streams_lock);
  uv_mutex_destroy(&e->post_lock);
  bs__heap heap = e->heap;
  bs__free(&heap, e, sizeof *e);
}

/* ---- Running ---------------------------------------------------------------- */

uv_loop_t *bs_engine_loop(bs_engine *e) { return e ? e->shards[0]->loop : NULL; }
uint32_t bs_engine_shards(const bs_engine *e) { return e ? e->nshards : 0; }


/* The inspector's handles are unreferenced: they never keep the loop alive
 * (so never UNTIL_DONE running, nor the result above 0). ONCE and NOWAIT
 * still serve it: its anchor makes libuv poll for one iteration, and ONCE
 * on an otherwise finished loop does not wait for the inspector. */
static int run_once_or_more(bs_engine *e, uv_loop_t *loop, uv_run_mode m) {
  if (m == UV_RUN_DEFAULT) return uv_run(loop, m);
  if (m == UV_RUN_ONCE && !uv_loop_alive(loop)) m = UV_RUN_NOWAIT;
  BS__INSP(bs__insp_anchor(e, true));
  uv_run(loop, m);
  BS__INSP(bs__insp_anchor(e, false));
  return uv_loop_alive(loop);
}

static uv_run_mode uv_mode(bs_run_mode mode) {
  return mode == BS_RUN_ONCE ? UV_RUN_ONCE
         : mode == BS_RUN_UNTIL_DONE ? UV_RUN_DEFAULT
                                     : UV_RUN_NOWAIT;
}

/* Work left anywhere: the home loop's own, or another shard's. */
static bool work_left(bs_engine *e, int alive) {
  return alive || bs__post_pending(e) || (e->threaded && !bs__quiescent(e));
}


int bs_engine_run(bs_engine *e, bs_run_mode mode) {
  if (!e) return BS_EINVAL;
  if (mode != BS_RUN_UNTIL_DONE && mode != BS_RUN_ONCE && mode != BS_RUN_NOWAIT &&
      mode != BS_RUN_DRAIN)
    return BS_EINVAL;
  BS__API_CHECK(on_home(e), "bs_engine_run",
                "called from a thread other than the engine's home thread", BS_EWRONGTHREAD);
  bs__shard *home = e->shards[0];
  if (bs__inside_loop(e)) return BS_EBUSY;
  uv_run_mode m = uv_mode(mode);
  e->running = true;
  bs__shard *prev = bs__enter(home);
  if (e->threaded && mode == BS_RUN_UNTIL_DONE) bs__home_watch(e, true);
  int alive;
  if (mode == BS_RUN_DRAIN) {
    uint64_t target = bs__shard_handled(home) + bs__shard_queued(home);
    do {
      bs__post_flush(e, true);
      alive = run_once_or_more(e, home->loop, UV_RUN_NOWAIT);
    } while (bs__shard_queued(home) && bs__shard_handled(home) < target);
  } else {
    /* Posts made while the loop was not running (its async handle is
     * unreferenced, so uv_run may not poll for them): run them first, and
     * once more before returning for ones that raced with the loop's end. */
    do {
      bs__post_flush(e, true);
      alive = run_once_or_more(e, home->loop, m);
    } while (m == UV_RUN_DEFAULT && !alive && bs__post_pending(e));
  }
  if (e->threaded && mode == BS_RUN_UNTIL_DONE) bs__home_watch(e, false);
  bs__leave(prev);
  e->running = false;
  return work_left(e, alive) ? 1 : 0;
}

void bs_engine_stop(bs_engine *e) {
  if (!e) return;
  BS__API_CHECK_VOID(on_home(e), "bs_engine_stop",
                     "called from a thread other than the engine's home thread");
  uv_stop(e->shards[0]->loop);
}


void bs_engine_hold(bs_engine *e) {
  if (!e) return;
  BS__API_CHECK_VOID(on_home(e), "bs_engine_hold",
                     "called from a thread other than the engine's home thread");
  e->holds++;
  bs__hold_update(e);
}

void bs_engine_release(bs_engine *e) {
  if (!e) return;
  BS__API_CHECK_VOID(on_home(e), "bs_engine_release",
                     "called from a thread other than the engine's home thread");
  if (e->holds > 0) e->holds--;
  bs__hold_update(e);
}

bool bs_in_turn(const bs_engine *e) {
  if (!e) return false;
  bs__shard *s = bs__here((bs_engine *)e);
  return s && s->current && !(s->current->flags & BS__CELL_EXTERNAL);
}

/* ---- Statistics ----------------------------------------------------------------- */

static void add_shard(bs_engine_stats *o, const bs__shard *s) {
  const bs__stats *t = &s->stats;
  o->sent += BS__GET(&t->sent);
  o->delivered += BS__GET(&t->delivered);
  o->dead_letters += BS__GET(&t->dead_letters);
  for (int i = 0; i < BS_DL__COUNT; i++) o->dead_by_reason[i] += BS__GET(&t->dead_by_reason[i]);
  o->method_errors += BS__GET(&t->method_errors);
  o->restarts += BS__GET(&t->restarts);
  o->rejected += BS__GET(&t->rejected);
  o->activations += BS__GET(&t->activations);
  o->init_failures += BS__GET(&t->init_failures);
  o->active += BS__GET(&t->active);
  o->requests_pending += BS__GET(&t->requests_pending);
  o->idle_deactivations += BS__GET(&t->idle_deactivations);
  o->collected += BS__GET(&t->collected);
  o->remote_out += BS__GET(&t->remote_out);
  o->remote_in += BS__GET(&t->remote_in);
  o->store_loads += BS__GET(&t->store_loads);
  o->store_writes += BS__GET(&t->store_writes);
  o->store_errors += BS__GET(&t->store_errors);
  o->store_conflicts += BS__GET(&t->store_conflicts);
  o->store_corrupt += BS__GET(&t->store_corrupt);
  o->store_bytes += BS__GET(&t->store_bytes);
  o->store_pending += BS__GET(&s->store_pending);
  o->actors += BS__GET(&s->reg.count);
  o->alloc_calls += BS__GET(&s->heap.alloc_calls);
  o->free_calls += BS__GET(&s->heap.free_calls);
  o->alloc_failures += BS__GET(&s->heap.failures);
  o->bytes_live += (size_t)BS__GET(&s->heap.bytes_live);
}

void bs_engine_stats_get(const bs_engine *e, bs_engine_stats *out) {
  if (!e || !out) return;
  memset(out, 0, sizeof *out);
  for (uint32_t i = 0; i < e->nshards; i++) add_shard(out, e->shards[i]);
#ifdef BS_WITH_CLUSTER
  /* Mail lost between nodes is counted in bulk, not by any shard. */
  if (e->cluster) {
    uint64_t lost = bs__cl_lost(e);
    out->dead_letters += lost;
    out->dead_by_reason[BS_DL_LOST] += lost;
  }
#endif
  out->alloc_calls += BS__GET(&e->heap.alloc_calls);
  out->free_calls += BS__GET(&e->heap.free_calls);
  out->alloc_failures += BS__GET(&e->heap.failures);
  out->bytes_live += (size_t)BS__GET(&e->heap.bytes_live);
  if (e->storage) {
    out->store_commits = BS__GET(&e->storage->commits);
    out->store_commit_ns = BS__GET(&e->storage->commit_ns);
    out->store_commit_max_ns = BS__GET(&e->storage->commit_max_ns);
  }
}

int bs_engine_shard_stats(const bs_engine *e, uint32_t shard, bs_engine_stats *out) {
  if (!e || !out || shard >= e->nshards) return BS_EINVAL;
  memset(out, 0, sizeof *out);
  add_shard(out, e->shards[shard]);
  return 0;
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

/* ---- Actor types and references ---------------------------------------------- */

int bs_actor_type_check(const bs_actor_type *t) {
  if (!t || !t->name || !t->name[0] || t->state_size == 0) return BS_EINVAL;
  if (t->state_align & (t->state_align - 1)) return BS_EINVAL;
  if (t->method_count && !t->methods) return BS_EINVAL;
  if (!t->save_state != !t->load_state) return BS_EINVAL;
  for (size_t i = 0; i < t->method_count; i++) {
    const bs_method *m = &t->methods[i];
    if (!m->name || !m->invoke) return BS_EINVAL;
    if (i > 0 && t->methods[i - 1].id >= m->id) return BS_EINVAL;
  }
  return 0;
}

/* The descriptor check, once per type per shard in the common case: the
 * shard remembers the last few types that passed. */
static int check_type(bs_engine *e, const bs_actor_type *t) {
  bs__shard *s = bs__here(e);
  if (s)
    for (unsigned i = 0; i < BS__CHECKED_TYPES; i++)
      if (s->checked_type[i] == t) return 0;
  if (bs_actor_type_check(t) < 0) return BS_EINVAL;
  if (s) s->checked_type[s->checked_next++ % BS__CHECKED_TYPES] = t;
  return 0;
}

int bs_actor_get(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_ref *out) {
  size_t len = 0;
  if (!out) return BS_EINVAL;
  memset(out, 0, offsetof(bs_ref, id) + 1);
  if (!e || !type) return BS_EINVAL;
  int rc = bs__check_id(id, &len);
  if (rc < 0) return rc;
  if (check_type(e, type) < 0) return BS_EINVAL;
  out->engine = e;
  out->type = type;
  out->hash = bs__hash_id(id, len);
  out->len = (uint8_t)len;
  memcpy(out->id, id, len);
  out->id[len] = '\0';
  return 0;
}

const char *bs_ref_id(const bs_ref *r) { return r && r->len ? r->id : NULL; }
const bs_actor_type *bs_ref_type(const bs_ref *r) { return r ? r->type : NULL; }

bool bs_ref_equal(const bs_ref *a, const bs_ref *b) {
  if (!a || !b) return a == b;
  return a->engine == b->engine && a->type == b->type && a->len == b->len &&
         a->hash == b->hash && memcmp(a->id, b->id, a->len) == 0;
}

uint32_t bs_ref_shard(const bs_ref *r) {
  return r && r->engine ? bs__shard_of(r->engine, r->hash) : 0;
}

/* The cell of *r on the calling thread's shard, if it lives there. */
static bs_cell *ref_cell(const bs_ref *r, const char *fn) {
  if (!r || !r->engine || !r->type || !r->len) return NULL;
  bs__shard *s = bs__here(r->engine);
  uint32_t at = bs__shard_of(r->engine, r->hash);
  if (!s || (s->index != at && s->engine->threaded)) {
    (void)bs__api_fail(fn, "called for an actor of another shard's thread", 0);
    return NULL;
  }
  return bs__cell_find(r->engine->shards[at], r->type, r->id, r->len, r->hash);
}

bool bs_ref_active(const bs_ref *r) {
  bs_cell *c = ref_cell(r, "bs_ref_active");
  return c && c->state && !(c->flags & BS__CELL_PROBED);
}

size_t bs_ref_pending(const bs_ref *r) {
  bs_cell *c = ref_cell(r, "bs_ref_pending");
  return c ? c->mb.len : 0;
}

bs_engine *bs_context_engine(const bs_context *ctx) { return ctx ? ctx->engine : NULL; }
const char *bs_context_id(const bs_context *ctx) { return ctx ? ctx->cell->id : NULL; }

bs_ref bs_context_self(const bs_context *ctx) {
  bs_ref r;
  memset(&r, 0, offsetof(bs_ref, id) + 1);
  if (ctx) {
    const bs_cell *c = ctx->cell;
    r.engine = ctx->engine;
    r.type = c->type;
    r.hash = c->hash;
    r.len = c->id_len;
    memcpy(r.id, c->id, (size_t)c->id_len + 1);
  }
  return r;
}
