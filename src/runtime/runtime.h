/* The engine: what all shards share (Lua's global_State): options, the
 * shards themselves, per-type policies, the stream table, foreign-thread
 * posts, test-mode state and the termination check. Written by the home
 * thread (the one that created the engine) or under a lock, read by all. */
#ifndef BACKSTAGE_RUNTIME_H
#define BACKSTAGE_RUNTIME_H

#include "shard/shard.h"

typedef struct bs__policy {
  const bs_actor_type *type;
  bs_type_policy p;
} bs__policy;

/* Copy-on-write: shards read the current array without a lock; a change
 * publishes a new one and keeps the old until the engine is freed (policies
 * are set a handful of times per program). */
typedef struct bs__policies {
  struct bs__policies *older;
  size_t n;
  bs__policy items[];
} bs__policies;

/* A type registered with the cluster and its wire id (types.c). */
typedef struct bs__ctype {
  const bs_actor_type *type;
  uint32_t id;              /* FNV-1a hash of its name */
} bs__ctype;

typedef struct bs__types {
  struct bs__types *older;
  size_t n;
  bs__ctype items[];        /* sorted by id */
} bs__types;

struct bs_engine {
  bs_engine_options opts;
  bs__heap heap;              /* shared: engine-wide objects */
  uint32_t nshards;
  bs__shard **shards;
  uv_thread_t home;           /* the creating thread; runs shard 0 */
  bool threaded;              /* shards 1.. run on threads of their own */
  bool test_mode;             /* virtual_time or schedule_seed */
  bool running;               /* home: inside run, await or a test step */
  bool foreign_run;           /* home loop run by someone else's uv_run: a
                                 borrowed loop, or an own loop seen so */
  uint32_t freeing;           /* atomic: bs_engine_free has begun */
  uint32_t holds;
  uint32_t waiting;           /* atomic: home waits for the others to idle */
  uint64_t spin_ns;           /* threaded: how long an idle shard polls */
  /* Foreign-thread posts (post.c), run on the home shard. */
  uv_mutex_t post_lock;
  bs_post *post_head;
  bs_post *post_tail;
  /* Policies (policy.c). */
  bs__policies *policies;     /* atomic pointer */
  uint32_t bounded;           /* atomic: some mailbox capacity is set */
  uint32_t idle_types;        /* atomic: some idle timeout is set */
  /* Streams (stream.c): id -> bs_stream, under the lock. */
  uv_mutex_t streams_lock;
  struct bs_stream **streams;
  size_t streams_cap;
  size_t streams_count;
  /* Test mode. */
  uint64_t vnow;              /* virtual clock, ms */
  uint64_t rng;               /* seeded scheduling state */
  void (*trace_fn)(void *ud, const char *actor_id, const char *what);
  void *trace_ud;
  struct bs__inspector *inspector; /* NULL unless started */
  struct bs__storage *storage;     /* persistent state: NULL without a store */
  bs__types *types;           /* atomic pointer: registered types */
  struct bs__cluster *cluster; /* NULL unless joined (src/cluster) */
  /* Shutdown (engine.c): shards acknowledge each phase. */
  uv_mutex_t quit_lock;
  uv_cond_t quit_cond;
  uint32_t quit_acks;
};

/* ---- Where: shards and threads (engine.c, shard.c) ------------------------ */

/* The shard an id hash lives on: the high bits (the registry uses the low
 * ones), scaled to the shard count without a division. */
static inline uint32_t bs__shard_of(const bs_engine *e, uint32_t hash) {
  return (uint32_t)(((uint64_t)hash * e->nshards) >> 32);
}

bs__shard *bs__here_slow(bs_engine *e);
/* The shard the calling thread runs for `e`, or NULL (a foreign thread). */
static inline bs__shard *bs__here(bs_engine *e) {
  bs__shard *s = bs__tls_shard;
  if (BS__LIKELY(s && s->engine == e)) return s;
  return bs__here_slow(e);
}

static inline bool bs__freeing(const bs_engine *e) {
  return BS__LOAD(&e->freeing, RELAXED) != 0;
}

/* Whether the home thread is inside the engine's loop: running it (run,
 * await, a test step), in one of the engine's callbacks or an actor turn,
 * or in a callback of the user's own uv_run on that loop. There it must not
 * run the loop again, nor free it. */
bool bs__inside_loop(bs_engine *e);
/* Whether every shard is idle with no mail in flight (threaded engines). */
bool bs__quiescent(bs_engine *e);
/* The home shard's termination watch, on while the home thread waits for
 * the other shards (bs_engine_run UNTIL_DONE, await). */
void bs__home_watch(bs_engine *e, bool on);
/* References or unreferences the home async handle (holds, the watch). */
void bs__hold_update(bs_engine *e);
/* Shutdown (engine.c, shard.c): a shard acknowledges a phase; the home
 * thread sends a phase (1: stop actors, 2: exit) to shard `to`. */
void bs__quit_ack(bs_engine *e);
void bs__send_ctrl(bs_engine *e, uint32_t to, uint8_t op);

/* ---- Shards (shard.c) --------------------------------------------------------- */

int bs__shard_new(bs_engine *e, uint16_t index, uv_loop_t *loop, bs__shard **out);
int bs__shard_start(bs__shard *s);        /* its thread, if threaded */
void bs__shard_close(bs__shard *s);       /* handles; joins its thread */
void bs__shard_clear(bs__shard *s);     /* after every thread stopped */
void bs__shard_free(bs__shard *s);      /* after every shard was cleared */
/* Deinit every live actor and dead-letter what is queued (shutdown). */
void bs__shard_stop_actors(bs__shard *s);
/* Runs `fn` with the thread-local shard set to `s`. */
bs__shard *bs__enter(bs__shard *s);
static inline void bs__leave(bs__shard *prev) { bs__tls_shard = prev; }

void bs__schedule_slow(bs__shard *s, bs_cell *c);
/* Puts `c` on the run queue unless it is there already. */
static inline void bs__schedule(bs__shard *s, bs_cell *c) {
  if (!(c->flags & (BS__CELL_IN_RUNQ | BS__CELL_PARKED))) bs__schedule_slow(s, c);
}
/* Publishes whether the shard's loop has nothing to do (termination). */
void bs__update_idle(bs__shard *s);
/* Starts the drain handle (mail or inbox work to do). */
void bs__wake(bs__shard *s);
void bs__drain(bs__shard *s);
/* Takes messages from the inbox into mailboxes until `budget` is spent (a
 * store completion costs more than mail); returns what was spent. */
uint32_t bs__take_inbox(bs__shard *s, uint32_t budget);
/* Messages taken off the shard's mailboxes so far, and queued there now
 * (BS_RUN_DRAIN). */
uint64_t bs__shard_handled(const bs__shard *s);
uint64_t bs__shard_queued(const bs__shard *s);
/* Sends the batched cross-shard mail and returned blocks. */
void bs__flush(bs__shard *s);
/* Only the mail for other shards (not the blocks given back). */
void bs__flush_mail(bs__shard *s);
/* Hands `m` to shard `to`'s inbox (batched inside a drain). */
void bs__push(bs__shard *s, uint32_t to, bs__msg *m);

/* Work for another shard's thread (the inspector's sweeps and live reads):
 * fn(s, arg) runs on shard `to`, in its loop, between turns. From the home
 * thread or a shard's thread; where the target runs on the calling thread
 * (itself, or every shard in test mode) it runs at once. bs__shard_post
 * returns at once (BS_ENOMEM if no message could be had); bs__shard_call
 * waits until fn has run. */
typedef void (*bs__shard_fn)(bs__shard *s, void *arg);
int bs__shard_post(bs_engine *e, uint32_t to, bs__shard_fn fn, void *arg);
int bs__shard_call(bs_engine *e, uint32_t to, bs__shard_fn fn, void *arg);

/* Releases the blob references of `m` (blob.c). */
void bs__blobs_drop(bs__shard *s, bs__msg *m);

/* Gives `m` back to its home pool (directly, or batched for another shard),
 * with the blobs its body held. */
static inline void bs__give_back(bs__shard *s, bs__msg *m) {
  if (BS__UNLIKELY(m->blobs != NULL)) bs__blobs_drop(s, m);
  if (BS__LIKELY(m->home == s->index)) {
    bs__msg_put(&s->pool, m);
    return;
  }
  bs__chain *c = &s->rfree[m->home];
  m->next = NULL;
  if (c->last) c->last->next = m; else c->first = m;
  c->last = m;
  c->n++;
  if (++s->nrfree >= 256) bs__flush(s);
}

/* Releases a finished message and its share of a stream body. */
static inline void bs__release(bs__shard *s, bs__msg *m) {
  if ((m->kind == BS__MSG_ELEM || m->kind == BS__MSG_FANOUT) && m->shared &&
      BS__SUB(&m->shared->refs, 1, ACQ_REL) == 0)
    bs__give_back(s, m->shared);
  bs__give_back(s, m);
}

/* ---- Registry and cells (registry.c) -------------------------------------- */

static inline bs_cell *bs__cell_find(bs__shard *s, const bs_actor_type *t, const char *id,
                                     size_t len, uint32_t hash) {
  return bs__registry_find(&s->reg, t, id, len, hash);
}
/* Finds or creates the cell for (t, id) on `s` (which must be its shard). */
int bs__cell_get(bs__shard *s, const bs_actor_type *t, const char *id,
                 size_t len, uint32_t hash, bs_cell **out);
void bs__cell_free(bs__shard *s, bs_cell *c);
/* The state of `c`'s type in its block: opening it unpoisons and zeroes it
 * (with its bs_context) and sets c->state; closing it clears c->state and
 * poisons it again. */
void bs__cell_state_open(bs_cell *c);
void bs__cell_state_close(bs_cell *c);
/* Frees the shard's cached cell blocks: all of them, or (the idle sweep)
 * all of them if no cell was made since the previous sweep. */
void bs__cell_cache_free(bs__shard *s);
void bs__cell_cache_sweep(bs__shard *s);
/* Frees `c` if nothing needs it any more (see struct bs_cell). */
void bs__collect(bs__shard *s, bs_cell *c);
bs_cell *bs__external_new(bs__shard *s);

/* ---- Dispatch (dispatch.c) ------------------------------------------------------ */

void bs__dead_letter(bs__shard *s, bs_cell *c, bs__msg *m,
                     bs_dead_letter_reason reason, int code);
/* Counts and reports a dead letter without consuming `m`. */
void bs__report(bs__shard *s, const bs_actor_type *t, const char *id,
                const bs__msg *m, bs_dead_letter_reason reason, int code);
void bs__deactivate(bs__shard *s, bs_cell *c);
void bs__sweep_mailbox(bs__shard *s, bs_cell *c, bs_dead_letter_reason reason,
                       int code);
uint32_t bs__turn_next(bs__shard *s, uint32_t limit);
const bs_method *bs__find_method(const bs_actor_type *t, uint32_t id);
const char *bs__msg_name(const bs_cell *c, const bs__msg *m, uint32_t *id,
                         bs_reader *args);

/* Activation in steps, for persistent types whose state loads first
 * (store/persist.c): a zeroed state behind its context; init on it (0, or
 * init's error with the state freed again); a failed activation, whose
 * mail (`m` first, if any) is dead-lettered. */
int bs__instance_new(bs__shard *s, bs_cell *c);
int bs__instance_init(bs__shard *s, bs_cell *c);
void bs__instance_drop(bs__shard *s, bs_cell *c);
void bs__fail_activation(bs__shard *s, bs_cell *c, bs__msg *m, int rc);

/* ---- Sending and arriving (route/send.c) ------------------------------------ */

/* Queues `m` to `c` (or to its test kit probe) and schedules it. */
void bs__mailbox_put(bs__shard *s, bs_cell *c, bs__msg *m);
/* A message sent: counted, then bs__mailbox_put. */
void bs__enqueue(bs__shard *s, bs_cell *c, bs__msg *m);
/* A CALL, STOP or ELEM for an actor on this shard, by key: finds or creates
 * its cell and queues it (checking the mailbox bound). */
void bs__deliver_local(bs__shard *s, bs__msg *m);
/* What the inbox brought: mail, an answer, a stream hand-off, control. */
void bs__arrive(bs__shard *s, bs__msg *m);
/* The target's key of a routed message. */
static inline const char *bs__msg_key(const bs__msg *m) { return (const char *)m->data; }

/* ---- Requests (request.c) ----------------------------------------------------- */

int bs__writer_grow(bs_writer *w, size_t need);
/* An answer for request `req_id` of shard `to`: routed there. `v` is a
 * VALUE message (status, body) that the caller's shard consumes. */
void bs__answer(bs__shard *s, uint32_t to, bs__msg *v);
/* On the caller's shard: the answer `v` has arrived. */
void bs__answer_arrived(bs__shard *s, bs__msg *v);
/* A request made on `s` by its current actor (or its external box), with
 * `refs` holders of the block and an optional timeout. */
int bs__request_new(bs__shard *s, bs_reply_fn thunk, bs_fnptr fn, void *ud,
                    uint8_t refs, uint64_t timeout_ms, bs__msg **out);
/* Ends a pending request without completing it (an await gave up). */
void bs__request_abandon(bs__shard *s, bs__msg *r);
/* Expires the deadlines due at `now` (clock.c). */
void bs__deadlines_fire(bs__shard *s, uint64_t now);
void bs__request_complete(bs__shard *s, bs__msg *req, int status, bs__msg *value);
void bs__deliver_reply(bs__shard *s, bs_cell *c, bs__msg *r);
void bs__request_unref(bs__shard *s, bs__msg *r);
/* Cluster: request `id` of this shard now waits on node `node`; every
 * pending request waiting on `node` completes with `status`. */
void bs__request_set_node(bs__shard *s, uint64_t id, uint16_t node);
void bs__requests_fail_node(bs__shard *s, uint16_t node, int status);
void bs__requests_free(bs__shard *s);

/* A writer over pooled message `m` of shard `s`, growing into larger
 * blocks. The body starts after the routing key, if any. */
static inline void bs__writer_bind(bs__shard *s, bs_writer *w, bs__msg *m) {
  w->buf = m->body;
  w->len = 0;
  w->cap = m->cap - (size_t)(m->body - m->data);
  w->err = 0;
  w->grow = bs__writer_grow;
  w->owner = m;
  w->owner2 = s;
}

/* The message out of the writer, as is (on error). */
static inline bs__msg *bs__writer_unbind(bs_writer *w) {
  bs__msg *m = w->owner;
  w->owner = NULL;
  return m;
}

/* The message out of the writer, its length set. */
static inline bs__msg *bs__writer_finish(bs_writer *w) {
  bs__msg *m = bs__writer_unbind(w);
  m->len = (uint32_t)w->len;
  return m;
}

/* ---- Blob references (msg/blob.c) --------------------------------------------- */

/* The block whose blob references m's body names: m itself, or a stream
 * element's shared body. */
static inline const bs__msg *bs__msg_holder(const bs__msg *m) {
  return m->kind == BS__MSG_ELEM || m->kind == BS__MSG_FANOUT ? m->shared : m;
}

/* Whether m's body names blobs. */
static inline bool bs__msg_has_blobs(const bs__msg *m) {
  const bs__msg *h = bs__msg_holder(m);
  return h && h->blobs;
}

/* What a reader of m's body resolves blob references with: the shard's
 * empty set, or m's (a stream element's: its shared body's) described in
 * *buf. Inline: every dispatch asks. */
static inline const bs__refs *bs__refs_of(bs__shard *s, const bs__msg *m, bs__refs *buf) {
  const bs__msg *h = bs__msg_holder(m);
  const bs__msg *t = h ? h->blobs : NULL;
  if (BS__LIKELY(!t)) return &s->norefs;
  buf->items = (const struct bs_blob *const *)(const void *)t->data;
  buf->n = t->len;
  buf->alloc = s->heap.a;
  buf->heap = &s->heap;
  return buf;
}
/* m's body as self-contained CBOR into `w`: each blob reference written as
 * a byte string of the blob's contents, everything else as it is. What a
 * transport sends when a message leaves the process. 0 or the writer's
 * error (BS_EDECODE for a body that is not well-formed). */
int bs__msg_flatten(const bs__msg *m, bs_writer *w);

/* ---- Clock (clock.c) ----------------------------------------------------------- */

uint64_t bs__now(const bs__shard *s);
/* `a` + `b`, saturated: deadlines never wrap. */
static inline uint64_t bs__add_ms(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}
bool bs__clock_next(const bs__shard *s, uint64_t *due);
void bs__clock_arm(bs__shard *s);
void bs__clock_fire(bs__shard *s, uint64_t now);
void bs__timers_free(bs__shard *s);
/* A timer that does not keep BS_RUN_UNTIL_DONE running (the collector, the
 * inspector's sampler). Call before starting it. */
void bs__timer_set_weak(bs_timer *t);
/* Whether the shard has timers or deadlines that keep its loop alive. */
static inline bool bs__clock_holds(const bs__shard *s) {
  return s->strong_timers > 0 || s->dl_head != NULL;
}

/* ---- Idle collection (collect.c) ---------------------------------------------- */

/* c was activated / ran a turn / was deactivated: keeps its idle list. */
void bs__idle_activated(bs__shard *s, bs_cell *c);
static inline void bs__idle_touch(bs__shard *s, bs_cell *c);
void bs__idle_forget(bs__shard *s, bs_cell *c);
void bs__idle_touch_slow(bs__shard *s, bs_cell *c);
static inline void bs__idle_touch(bs__shard *s, bs_cell *c) {
  if (BS__UNLIKELY(c->flags & BS__CELL_IN_LRU)) bs__idle_touch_slow(s, c);
}
void bs__idle_free(bs__shard *s);

/* ---- Policies (policy.c) --------------------------------------------------------- */

bool bs__full_slow(const bs_engine *e, const bs_cell *c);
/* true if `c`'s mailbox is at its capacity (always false when unbounded,
 * decided inline). */
static inline bool bs__full(const bs_engine *e, const bs_cell *c) {
  return BS__UNLIKELY(BS__LOAD(&e->bounded, RELAXED)) && bs__full_slow(e, c);
}
bool bs__restart_on_error(const bs_engine *e, const bs_actor_type *t);
uint64_t bs__idle_timeout(const bs_engine *e, const bs_actor_type *t);
void bs__policies_free(bs_engine *e);

/* ---- Streams (stream.c) --------------------------------------------------------- */

void bs__streams_free(bs_engine *e);
/* A FANOUT hand-off arrived on `s`: one ELEM per local subscriber. */
void bs__fanout_arrived(bs__shard *s, bs__msg *m);
void bs__stream_caches_free(bs__shard *s);
/* A STREAM frame from another node (cluster): each element delivered to
 * this node's subscribers of its stream. */
void bs__stream_arrived(bs__shard *s, const uint8_t *p, size_t n);

/* ---- Registered types (types.c) ------------------------------------------------ */

const bs__ctype *bs__type_by_ptr(const bs_engine *e, const bs_actor_type *t);
const bs__ctype *bs__type_by_id(const bs_engine *e, uint32_t id);
/* Registers without the thread check (the cluster's options). */
int bs__types_add(bs_engine *e, const bs_actor_type *t);
void bs__types_free(bs_engine *e);

/* ---- Persistent state (store/persist.c) ----------------------------------------
 * Every hook is called only for cells with c->persist (persistent types),
 * so other actors pay one pointer test. */

#define BS__PARKED 1 /* bs__store_activate: the state is loading */

/* A persistent actor is to be activated: its state is loaded first.
 * Returns BS__PARKED (the cell waits, not scheduled, keeping its mail) or
 * a negative code (no store, no memory). */
int bs__store_activate(bs__shard *s, bs_cell *c);
/* The actor's turn ended: a dirty state is written. */
void bs__store_turn_end(bs__shard *s, bs_cell *c);
/* The answer `v` to a request made from shard `to` is held until the
 * writes it depends on have committed; false: send it now. */
bool bs__store_hold(bs__shard *s, bs_cell *c, bs__msg *v, uint32_t to);
/* The instance is being deinitialised: a dirty state is written first. */
void bs__store_closing(bs__shard *s, bs_cell *c);
/* A job came back from the storage thread. */
void bs__store_arrived(bs__shard *s, bs__msg *m);
/* Hands the jobs made since the last flush to the storage thread. */
void bs__store_flush(bs__shard *s);
/* A job is out or a write is due: not idle, not collectable. */
bool bs__store_busy(const bs_cell *c);
void bs__store_cell_free(bs__shard *s, bs_cell *c);

/* ---- Posts (post.c) --------------------------------------------------------------- */

void bs__post_flush(bs_engine *e, bool run);
bool bs__post_pending(bs_engine *e);

/* ---- Test kit (testkit.c) ----------------------------------------------------------- */

uint64_t bs__rand(bs_engine *e);
void bs__trace(bs__shard *s, bs_cell *c, const bs__msg *m);
void bs__probe_capture(bs__shard *s, bs_cell *c, bs__msg *m);
void bs__probes_free(bs__shard *s);

/* ---- Inspector hooks (inspector/) --------------------------------------------------- */

#ifdef BS_WITH_INSPECTOR
void bs__insp_dispatched(bs__shard *s, bs_cell *c, const bs__msg *m);
void bs__insp_cell_freed(bs__shard *s, bs_cell *c);
#endif

/* ---- Cluster hooks (src/cluster; cluster.h explains them) ------------------------- */

#ifdef BS_WITH_CLUSTER
/* Whether shard `s` belongs to a clustered engine. */
#define BS__CLUSTERED(s) BS__UNLIKELY((s)->cl != NULL)
int bs__cl_route(bs__shard *s, bs__msg *m);
bool bs__cl_serving(bs__shard *s, const bs_cell *c);
void bs__cl_unserve(bs__shard *s, bs_cell *c, bs__msg *m);
int bs__cl_accept(bs__shard *s, bs__msg *m);
void bs__cl_answer(bs__shard *s, bs__msg *v);
void bs__cl_arrive(bs__shard *s, bs__msg *m);
void bs__cl_flush(bs__shard *s);
void bs__cl_cell_made(bs__shard *s, bs_cell *c);
bool bs__cl_placed(bs__shard *s, const bs_actor_type *t, uint32_t *type_id);
void bs__cl_stream_out(bs__shard *s, struct bs_stream *st, const bs__msg *body);
void bs__cl_stream_interest(bs_engine *e, struct bs_stream *st, bool on);
void bs__cl_shard_free(bs__shard *s);
uint64_t bs__cl_request_timeout(const bs_engine *e);
uint64_t bs__cl_xsent(const bs_engine *e);
uint64_t bs__cl_lost(const bs_engine *e);
#else
#define BS__CLUSTERED(s) 0
#endif
/* Life (cluster.c, or off.c when compiled out). */
int bs__cluster_prepare(bs_engine *e);
int bs__cluster_join(bs_engine *e);
void bs__cluster_stop(bs_engine *e);
void bs__cluster_free(bs_engine *e);

#endif
