/* Internal declarations shared by the runtime's modules. Names are bs__*:
 * visible across files of the library, never part of the public API. */
#ifndef BACKSTAGE_INTERNAL_H
#define BACKSTAGE_INTERNAL_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <uv.h>

#include "backstage.h"

#define BS__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BS__LIKELY(x) __builtin_expect(!!(x), 1)

/* ---- Heap: the engine's allocator plus accounting (src/util/alloc.c) ---- */

typedef struct bs__heap {
  bs_allocator a;
  uint64_t alloc_calls;
  uint64_t free_calls;
  uint64_t failures;
  size_t bytes_live;
} bs__heap;

void bs__heap_init(bs__heap *h, bs_allocator a);
void *bs__alloc(bs__heap *h, size_t n);
void *bs__calloc(bs__heap *h, size_t n);
void *bs__realloc(bs__heap *h, void *p, size_t old_n, size_t new_n);
void bs__free(bs__heap *h, void *p, size_t n);
bs_allocator bs__heap_allocator(bs__heap *h);

/* ---- Messages (src/mailbox/pool.c) -------------------------------------- */

typedef enum bs__msg_kind {
  BS__MSG_CALL,  /* [method_id, args...] for an actor method */
  BS__MSG_STOP,  /* poison pill, empty body */
  BS__MSG_REPLY, /* completion of a request; the block holds a bs__request */
  BS__MSG_ELEM   /* stream element: body shared with other subscribers */
} bs__msg_kind;

typedef struct bs__msg bs__msg;

/* Header-first: the body follows the header in the same pooled block
 * (`data`), unless `body` points at a shared buffer. */
struct bs__msg {
  bs__msg *next;            /* mailbox link */
  uint8_t *body;            /* encoded body (usually data) */
  uint32_t len;             /* body length */
  uint32_t cap;             /* capacity of data[] */
  uint8_t kind;             /* bs__msg_kind */
  uint8_t klass;            /* pool size class, BS__CLASS_HUGE if none */
  uint16_t pad_;
  uint32_t refs;            /* REPLY blocks (see bs__request) and shared
                               stream bodies: holders of this block */
  int32_t status;           /* REPLY: completion status */
  bs_cell *target;          /* CALL/STOP: the receiving actor */
  const bs_method *method;  /* CALL: the sender's method (lookup hint) */
  bs__msg *req;             /* CALL: request block wanting the reply;
                               REPLY: message holding the encoded value;
                               ELEM: the shared block holding the body */
  alignas(16) uint8_t data[];
};

#define BS__NCLASSES 12                 /* data capacities 64 B .. 128 KiB */
#define BS__CLASS_MIN 64u
#define BS__CLASS_HUGE 0xff

typedef struct bs__pool {
  bs__msg *free[BS__NCLASSES];
  uint32_t nfree[BS__NCLASSES];
  uint32_t keep[BS__NCLASSES];          /* most blocks cached per class */
} bs__pool;

void bs__pool_init(bs__pool *p);
void bs__pool_free(bs__pool *p, bs__heap *h);
/* The pool's slow paths: a larger class or a fresh block; a block beyond
 * the class's cache. */
bs__msg *bs__msg_get_slow(bs__pool *p, bs__heap *h, size_t cap);
void bs__msg_free(bs__heap *h, bs__msg *m);

static inline void bs__msg_clear(bs__msg *m) {
  m->next = NULL;
  m->body = m->data;
  m->len = 0;
  m->refs = 0;
  m->status = 0;
  m->target = NULL;
  m->method = NULL;
  m->req = NULL;
}

/* A block with at least `cap` bytes of body. Inline for the common case: a
 * small message from the first class's free list. */
static inline bs__msg *bs__msg_get(bs__pool *p, bs__heap *h, size_t cap) {
  bs__msg *m = p->free[0];
  if (BS__UNLIKELY(cap > BS__CLASS_MIN || !m)) return bs__msg_get_slow(p, h, cap);
  p->free[0] = m->next;
  p->nfree[0]--;
  bs__msg_clear(m);
  return m;
}

static inline void bs__msg_put(bs__pool *p, bs__heap *h, bs__msg *m) {
  unsigned k = m->klass;
  if (BS__LIKELY(k < BS__NCLASSES && p->nfree[k] < p->keep[k])) {
    m->next = p->free[k];
    p->free[k] = m;
    p->nfree[k]++;
    return;
  }
  bs__msg_free(h, m);
}

/* A FIFO of messages, intrusive through bs__msg.next. */
typedef struct bs__mailbox {
  bs__msg *head;
  bs__msg *tail;
  uint32_t len;
} bs__mailbox;

static inline void bs__mb_push(bs__mailbox *mb, bs__msg *m) {
  m->next = NULL;
  if (mb->tail) mb->tail->next = m; else mb->head = m;
  mb->tail = m;
  mb->len++;
}

static inline bs__msg *bs__mb_pop(bs__mailbox *mb) {
  bs__msg *m = mb->head;
  if (m) {
    mb->head = m->next;
    if (!mb->head) mb->tail = NULL;
    mb->len--;
  }
  return m;
}

/* ---- Requests (src/engine/request.c) ------------------------------------ */

typedef enum bs__req_state {
  BS__REQ_PENDING,   /* waiting for the callee */
  BS__REQ_COMPLETED, /* completion queued to the caller */
  BS__REQ_DONE,      /* continuation ran (or the reply was dropped) */
} bs__req_state;

/* Lives in the data of a REPLY-kind block, which is itself the node queued
 * to the caller on completion, so completing a request (even with an error,
 * even out of memory) never needs to allocate. The block is shared by the
 * CALL message (one ref) and the caller side (one ref, plus one while an
 * await is watching it); it returns to the pool when the last ref drops. */
typedef struct bs__request {
  bs__msg *dl_prev;       /* deadline list, sorted by deadline */
  bs__msg *dl_next;
  bs_cell *caller;        /* NULL: outside any actor (engine's external box) */
  bs_reply_fn thunk;
  bs_fnptr fn;
  void *ud;
  uint64_t deadline;      /* loop time in ms; 0 = none */
  uint32_t caller_epoch;  /* caller's activation the continuation belongs to */
  int32_t result;         /* thunk's return, for await */
  uint8_t state;          /* bs__req_state */
} bs__request;

static inline bs__request *bs__req(bs__msg *m) { return (bs__request *)m->data; }

/* ---- Actor cells (src/engine/registry.c) -------------------------------- */

enum {
  BS__CELL_IN_RUNQ = 1u << 0,
  BS__CELL_PROBED = 1u << 1, /* test kit: mail is captured; state is the probe */
  BS__CELL_SLACK = 1u << 2,  /* state block has alignment slack (dispatch.c) */
};

/* ---- Inspector counters (compiled in with -DBACKSTAGE_INSPECTOR=ON) ------
 * BS__INSP(statement) keeps the hooks on the hot paths to one line each and
 * compiles them out entirely otherwise. */
#ifdef BS_WITH_INSPECTOR
#define BS__INSP(x) x
#define BS__INSP_TRACE_N 16
typedef struct bs__insp_trace {
  const char *what[BS__INSP_TRACE_N]; /* method names, oldest overwritten */
  uint32_t next;                      /* total recorded */
} bs__insp_trace;
typedef struct bs__insp_cell {
  uint64_t received;      /* messages queued to it */
  uint64_t processed;     /* messages dispatched (incl. dead-lettered ones) */
  uint64_t activated_at;  /* engine ms of the current activation; 0 if none */
  uint64_t last_activity; /* engine ms of the last dispatch */
  uint64_t sampled;       /* inspector: `processed` at its last sample */
  float rate;             /* inspector: msg/s over the last sample */
  float avg1, avg10, avg60; /* inspector: rolling averages, msg/s */
  bs__insp_trace *trace;  /* per-actor tracing; NULL (no cost) when off */
} bs__insp_cell;
#else
#define BS__INSP(x) ((void)0)
#endif

struct bs_cell {
  bs__mailbox mb;
  bs_cell *rq_next;           /* run queue link */
  const bs_actor_type *type;
  void *state;                /* NULL while inactive */
  uint32_t hash;
  uint32_t epoch;             /* activations so far */
  uint8_t flags;
  uint8_t id_len;
#ifdef BS_WITH_INSPECTOR
  bs__insp_cell insp;
#endif
  char id[];                  /* NUL-terminated, interned */
};

/* What bs_context points at: placed right before the actor's state. */
struct bs_context {
  bs_engine *engine;
  bs_cell *cell;
};

typedef struct bs__registry {
  bs_cell **slots;  /* open addressing, linear probing; never shrinks */
  size_t cap;       /* power of two, or 0 */
  size_t count;
} bs__registry;

uint32_t bs__hash_id(const char *id, size_t len);
bs_cell *bs__registry_find(const bs__registry *r, const char *id, size_t len,
                           uint32_t hash);
/* Makes room for one more entry (may allocate). */
int bs__registry_reserve(bs__registry *r, bs__heap *h);
void bs__registry_insert(bs__registry *r, bs_cell *c);
void bs__registry_free(bs__registry *r, bs__heap *h);

/* ---- Engine ------------------------------------------------------------- */

/* libuv handles live in their own block so that an engine on a borrowed loop
 * can be freed before the handles' close callbacks run (they free this
 * block, with a copy of the allocator, when the last one has closed). */
typedef struct bs__handles {
  uv_idle_t drain;     /* active only while the run queue is non-empty */
  uv_async_t async;    /* foreign-thread posts; referenced only while held */
  uv_timer_t clock;    /* earliest bs_timer or request deadline */
  uv_loop_t own_loop;  /* used when the engine owns its loop */
  bs_allocator a;
  int open;            /* handles not yet closed */
} bs__handles;

struct bs_engine {
  bs__heap heap;
  uv_loop_t *loop;
  bs__handles *h;
  bool own_loop;
  bool drain_active;
  bool freeing;
  bool running;
  bs_engine_options opts;
  bs__registry reg;
  bs__registry streams;       /* cells with no type whose state is a bs_stream */
  bs_cell *rq_head;           /* run queue of cells with mail */
  bs_cell *rq_tail;
  bs_cell *current;           /* actor whose turn it is, or NULL */
  bs__pool pool;
  bs_arena arena;             /* scratch for decoding, reset per dispatch */
  const bs_actor_type *checked_type; /* last descriptor that passed checks */
  bs__msg *dl_head;           /* requests with deadlines, soonest first */
  bs__msg *dl_tail;
  bs_timer **timers;          /* min-heap on (due, seq) */
  size_t ntimers;
  size_t captimers;
  uint64_t timer_seq;
  uint64_t vnow;              /* virtual clock (test mode), ms */
  uint64_t rng;               /* seeded scheduling state (test mode) */
  uint32_t rq_len;            /* cells on the run queue */
  void (*trace_fn)(void *ud, const char *actor_id, const char *what);
  void *trace_ud;
  struct bs_probe *probes;    /* test kit probes, linked */
  struct bs__policy *policies; /* per-type overrides (policy.c) */
  size_t npolicies;
  bool bounded;               /* some mailbox capacity is set */
  struct bs__inspector *inspector; /* NULL unless started */
  uint32_t holds;
  uv_mutex_t post_lock;
  bs_post *post_head;
  bs_post *post_tail;
  bs_engine_stats stats;
  /* Replies to callers outside actors are queued here; it sits in the run
   * queue like an actor's cell, with no type and no state. */
  bs_cell *external;
};

/* Releases a finished message (and its share of a stream body). */
static inline void bs__msg_release(bs_engine *e, bs__msg *m) {
  if (m->kind == BS__MSG_ELEM && m->req && --m->req->refs == 0)
    bs__msg_put(&e->pool, &e->heap, m->req);
  bs__msg_put(&e->pool, &e->heap, m);
}

/* policy.c: true if `c`'s mailbox is at its capacity (always false when
 * unbounded, decided inline). */
bool bs__full_slow(const bs_engine *e, const bs_cell *c);
static inline bool bs__full(const bs_engine *e, const bs_cell *c) {
  return BS__UNLIKELY(e->bounded) && bs__full_slow(e, c);
}

/* engine.c */
void bs__schedule_slow(bs_engine *e, bs_cell *c);

/* Puts `c` on the run queue unless it is there already. */
static inline void bs__schedule(bs_engine *e, bs_cell *c) {
  if (!(c->flags & BS__CELL_IN_RUNQ)) bs__schedule_slow(e, c);
}
int bs__check_id(const char *id, size_t *len);
/* The cell of an existing actor `id` of `type`: BS_ENOTFOUND if none,
 * BS_ETYPE if of another type; never creates one. */
int bs__actor_find(bs_engine *e, const bs_actor_type *type, const char *id,
                   bs_cell **out);
/* Creates and registers a cell for `id` (not yet present) in `r`. */
int bs__cell_new(bs_engine *e, bs__registry *r, const bs_actor_type *t,
                 const char *id, size_t len, uint32_t hash, bs_cell **out);
void bs__cell_free(bs_engine *e, bs_cell *c);

/* stream.c */
void bs__streams_free(bs_engine *e);
/* dispatch.c */
void bs__drain(bs_engine *e);
void bs__dead_letter(bs_engine *e, bs_cell *c, bs__msg *m,
                     bs_dead_letter_reason reason, int code);
void bs__deactivate(bs_engine *e, bs_cell *c);
void bs__sweep_mailbox(bs_engine *e, bs_cell *c, bs_dead_letter_reason reason,
                       int code);
/* dispatch.c: counts and reports a dead letter without consuming `m`. */
void bs__report(bs_engine *e, bs_cell *c, const bs__msg *m,
                bs_dead_letter_reason reason, int code);
uint32_t bs__turn_next(bs_engine *e, uint32_t limit);
/* The method of `t` with wire id `id` (binary search), or NULL. */
const bs_method *bs__find_method(const bs_actor_type *t, uint32_t id);
/* What `m` runs, named for people (test kit, inspector traces): a method
 * name, "(reply)", "(stop)" or "(unknown)"; its id in *id and *args
 * positioned at its arguments. */
const char *bs__msg_name(const bs_cell *c, const bs__msg *m, uint32_t *id,
                         bs_reader *args);
#ifdef BS_WITH_INSPECTOR
/* inspector/: counters on dispatch (and the optional trace ring). */
void bs__insp_dispatched(bs_engine *e, bs_cell *c, const bs__msg *m);
#endif
/* policy.c */
bool bs__restart_on_error(const bs_engine *e, const bs_actor_type *t);
void bs__policies_free(bs_engine *e);
/* testkit.c */
uint64_t bs__rand(bs_engine *e);
void bs__trace(bs_engine *e, bs_cell *c, const bs__msg *m);
void bs__probe_capture(bs_engine *e, bs_cell *c, bs__msg *m);
void bs__probes_free(bs_engine *e);
/* request.c */
int bs__writer_grow(bs_writer *w, size_t need);

/* A writer over pooled message `m`, growing into larger blocks. */
static inline void bs__writer_bind(bs_engine *e, bs_writer *w, bs__msg *m) {
  w->buf = m->data;
  w->len = 0;
  w->cap = m->cap;
  w->err = 0;
  w->grow = bs__writer_grow;
  w->owner = m;
  w->owner2 = e;
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
/* Queues `m` to `c` (or to its test kit probe) and schedules it; counts
 * nothing. */
void bs__mailbox_put(bs_engine *e, bs_cell *c, bs__msg *m);
/* A message sent: counted, then bs__mailbox_put. */
void bs__enqueue(bs_engine *e, bs_cell *c, bs__msg *m);
void bs__request_complete(bs_engine *e, bs__msg *req, int status,
                          bs__msg *value);
void bs__request_unref(bs_engine *e, bs__msg *req);
void bs__deliver_reply(bs_engine *e, bs_cell *c, bs__msg *m);
/* clock.c */
uint64_t bs__now(const bs_engine *e);
bool bs__clock_next(const bs_engine *e, uint64_t *due);
void bs__clock_arm(bs_engine *e);
void bs__clock_fire(bs_engine *e, uint64_t now);
void bs__timers_free(bs_engine *e);
/* post.c */
int bs__post_init(bs_engine *e);
void bs__post_async_cb(uv_async_t *a);
void bs__post_flush(bs_engine *e, bool run);
bool bs__post_pending(bs_engine *e);

#endif
