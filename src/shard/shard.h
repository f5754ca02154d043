/* Shards: one loop's world (Lua's lua_State to the engine's global_State).
 *
 * A shard owns a libuv loop, a registry of actor cells, a run queue, a
 * message pool, a decoding arena, its requests and their deadlines, its
 * timers and an inbox for mail from other shards. Everything in it is
 * touched only by the thread that runs its loop, except the inbox (any
 * shard pushes), the pool's remote-free stack (any shard gives blocks
 * back) and the counters that others read (statistics, termination).
 *
 * An actor lives on the shard its id hashes to (bs__shard_of) and only
 * ever runs there, so actor code needs no locks and sees one message at a
 * time. */
#ifndef BACKSTAGE_SHARD_H
#define BACKSTAGE_SHARD_H

#include <uv.h>

#include "msg/msg.h"
#include "observe/observe.h"

typedef struct bs__shard bs__shard;

/* ---- Actor cells ---------------------------------------------------------- */

enum {
  BS__CELL_IN_RUNQ = 1u << 0,
  BS__CELL_PROBED = 1u << 1,   /* test kit: mail is captured; state is the probe */
  BS__CELL_SLACK = 1u << 2,    /* block has alignment slack for the state */
  BS__CELL_EXTERNAL = 1u << 3, /* the shard's box for replies outside actors */
  BS__CELL_IN_LRU = 1u << 4,   /* on its type's idle list (collect.c) */
  BS__CELL_PARKED = 1u << 5,   /* waits for its state to load: not scheduled,
                                  its mail kept (store/persist.c) */
  BS__CELL_PLACED = 1u << 6    /* its type is placed across a cluster: it
                                  may run only while this node serves its
                                  partition (src/cluster) */
};

/* A cell exists while its actor is active, has mail, is probed or waits for
 * replies to requests it made (nreq); otherwise it is freed (collect.c) and
 * the next message creates a new one. Nothing outside the shard points at a
 * cell: other shards and refs name the actor by key. */
struct bs_cell {
  bs__mailbox mb;
  bs_cell *rq_next;           /* run queue link */
  const bs_actor_type *type;
  void *state;                /* NULL while inactive; the state area of
                                 this block while active (a test kit
                                 probe while probed) */
  bs_cell *lru_prev;          /* idle list, least recently run first */
  bs_cell *lru_next;
  uint64_t last_turn;         /* engine ms of its last turn (idle list) */
  uint32_t hash;
  uint32_t epoch;             /* activations so far */
  uint32_t nreq;              /* its requests still pending */
  struct bs__pcell *persist;  /* persistent types: versions, writes, held
                                 replies (store/persist.c); else NULL */
  uint8_t flags;
  uint8_t id_len;
  uint16_t part;              /* PLACED: its cluster partition */
  BS__OBS_CELL_FIELDS         /* observer counters (inspector), if any */
  char id[];                  /* NUL-terminated */
};

/* What bs_context points at: placed right before the actor's state, in
 * the cell's block: [bs_cell, id, NUL][pad][bs_context][state]. */
struct bs_context {
  bs_engine *engine;
  bs_cell *cell;
};

/* ---- Registry: (type, id) -> cell, per shard (registry.c) ---------------- */

/* Open addressing with linear probing and backward-shift delete. Beside
 * each slot a control byte: 0 for an empty slot, otherwise 0x80 and seven
 * bits of the hash (bs__reg_tag). A probe reads the control bytes (64 per
 * cache line) and touches a cell only when its tag matches, so looking up
 * or inserting an id that is not there costs no miss on other cells. */
typedef struct bs__registry {
  bs_cell **slots;  /* NULL where empty (the inspector walks them) */
  uint8_t *ctrl;    /* [cap], in the same block, after the slots */
  size_t cap;       /* power of two, or 0 */
  size_t count;     /* written by the owner, read by others (stats) */
} bs__registry;

/* The tag of a hash: bits the home slot does not use (a multiplicative mix
 * of all of them), with the top bit set. */
static inline uint8_t bs__reg_tag(uint32_t hash) {
  return (uint8_t)(0x80u | ((hash * 0x9e3779b1u) >> 25));
}

/* The cell of (t, id), or NULL: inline, it is on every send. */
static inline bs_cell *bs__registry_find(const bs__registry *r, const bs_actor_type *t,
                                         const char *id, size_t len, uint32_t hash) {
  if (BS__UNLIKELY(!r->cap)) return NULL;
  size_t mask = r->cap - 1;
  uint8_t tag = bs__reg_tag(hash);
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint8_t k = r->ctrl[i];
    if (!k) return NULL;
    if (k != tag) continue;
    bs_cell *c = r->slots[i];
    if (c->hash == hash && c->type == t && c->id_len == len && bs__id_eq(c->id, id, len))
      return c;
  }
}
/* The first cell with this id, whatever its type (the inspector). */
bs_cell *bs__registry_find_id(const bs__registry *r, const char *id, size_t len,
                              uint32_t hash);
/* Makes room for one more entry (may allocate). */
int bs__registry_reserve(bs__registry *r, bs__heap *h);
void bs__registry_insert(bs__registry *r, bs_cell *c);
void bs__registry_remove(bs__registry *r, bs__heap *h, bs_cell *c);
void bs__registry_free(bs__registry *r, bs__heap *h);

/* ---- Cell blocks (registry.c) -----------------------------------------------
 * A cell, its id and - for an actor type - its bs_context and state are one
 * block: activating an actor allocates nothing. Blocks up to
 * BS__CELL_CACHE_MAX bytes are kept, per 16-byte size class, on the shard
 * for the next cell of that size (at most BS__CELL_CACHE_BYTES in all), so
 * actors that come and go reuse warm memory instead of calling the
 * allocator twice each. With idle collection on, a sweep that finds the
 * shard made no cell since the previous one gives the cache back. */
#define BS__CELL_CLASSES 64                      /* 16 .. 1024 bytes */
#define BS__CELL_CACHE_MAX (16u * BS__CELL_CLASSES)
#define BS__CELL_CACHE_BYTES ((size_t)1 << 20)  /* per shard */

typedef struct bs__cellcache {
  void *free[BS__CELL_CLASSES]; /* linked through their first word */
  uint32_t n[BS__CELL_CLASSES];
  size_t bytes;                 /* cached in all */
  uint64_t made;                /* cells made so far (the sweep's clock) */
  uint64_t made_at_sweep;       /* `made` at the last sweep */
} bs__cellcache;

/* ---- Requests (request.c) ---------------------------------------------------
 * A request is identified by (caller's shard, id); the id names a slot of
 * the caller shard's table and the slot's generation, so a late answer to a
 * request that timed out finds a newer generation (or a free slot) and is
 * an orphan, never a write into reused memory. The bookkeeping lives in a
 * REPLY-kind block of the caller's pool, which is itself what is queued to
 * the caller on completion: completing a request, even with an error, even
 * out of memory, never allocates. */
typedef enum bs__req_state {
  BS__REQ_PENDING,   /* waiting for the callee */
  BS__REQ_COMPLETED, /* completion queued to the caller */
  BS__REQ_DONE,      /* continuation ran (or the completion was dropped) */
} bs__req_state;

typedef struct bs__request {
  bs__msg *dl_prev;       /* deadline list, sorted by deadline */
  bs__msg *dl_next;
  bs_cell *caller;        /* pinned by caller->nreq until completion */
  bs_reply_fn thunk;
  bs_fnptr fn;
  void *ud;
  uint64_t deadline;      /* engine ms; 0 = none */
  uint64_t id;
  uint32_t caller_epoch;  /* caller's activation the continuation belongs to */
  int32_t result;         /* thunk's return, for await */
  uint16_t node;          /* cluster: the node it waits on (0: this one) */
  uint8_t state;          /* bs__req_state */
} bs__request;

static inline bs__request *bs__req(bs__msg *m) { return (bs__request *)m->data; }

typedef struct bs__reqslot {
  bs__msg *req;           /* NULL when free */
  uint32_t gen;
  uint32_t next_free;     /* 1-based, 0: none */
} bs__reqslot;

typedef struct bs__reqtab {
  bs__reqslot *slots;
  uint32_t cap;
  uint32_t free_head;     /* 1-based, 0: none */
} bs__reqtab;

/* ---- Statistics -------------------------------------------------------------
 * Per shard, written by its thread with BS__BUMP, summed by
 * bs_engine_stats_get on any thread. */
typedef struct bs__stats {
  uint64_t sent, delivered, dead_letters, dead_by_reason[BS_DL__COUNT];
  uint64_t method_errors, restarts, rejected, activations, init_failures;
  uint64_t active, requests_pending, idle_deactivations, collected;
  uint64_t remote_out, remote_in;
  uint64_t store_loads, store_writes, store_errors, store_conflicts, store_corrupt;
  uint64_t store_bytes;
} bs__stats;

#define BS__STAT(s, f) BS__BUMP(&(s)->stats.f, 1)
#define BS__STAT_DEC(s, f) BS__BUMP(&(s)->stats.f, (uint64_t)-1)

/* ---- The shard -------------------------------------------------------------- */

/* libuv handles live in their own block so that a shard on a borrowed loop
 * can be freed before the handles' close callbacks run (they free this
 * block, with a copy of the allocator, when the last one has closed). */
typedef struct bs__handles {
  uv_idle_t drain;     /* active only while there is mail or inbox work */
  uv_async_t async;    /* wakes the loop: inbox mail, foreign-thread posts */
  uv_timer_t clock;    /* earliest bs_timer or request deadline */
  uv_prepare_t watch;  /* home shard of a threaded engine: termination */
  bs_allocator a;
  int open;            /* handles not yet closed */
} bs__handles;

/* A chain of messages bound for one shard, sent as one inbox push. */
typedef struct bs__chain {
  bs__msg *first;
  bs__msg *last;
  uint32_t n;
} bs__chain;

#define BS__CHECKED_TYPES 4

/* The idle list of one actor type with an idle timeout (collect.c). */
typedef struct bs__lru {
  const bs_actor_type *type;
  uint64_t timeout_ms;
  bs_cell *head;  /* least recently run */
  bs_cell *tail;
} bs__lru;

struct bs__shard {
  bs_engine *engine;
  uint16_t index;
  bool threaded;              /* runs on a thread of its own */
  bool own_loop;
  bool drain_active;
  bool in_drain;              /* batching cross-shard mail (turns) */
  bool watching;              /* home: termination watch on */
  bool stopping;              /* told to exit: no more wake-ups */
  uv_loop_t *loop;
  bs__handles *h;
  uv_loop_t own_loop_storage;
  bs__msg *ctrl[2];           /* shutdown messages, taken up front */
  uint64_t handled;           /* messages taken off mailboxes */
  uint64_t polled_at;         /* `handled` when an await last ran the loop */
  uint32_t fast_drains;       /* drains an await ran since then */
  uint64_t queued;            /* messages in mailboxes now */
  uv_thread_t thread;
  bs__heap heap;
  bs__pool pool;
  bs_arena arena;             /* scratch for decoding, reset per dispatch */
  bs__refs norefs;            /* the references of a body that holds none */
  bs__registry reg;
  bs__cellcache cells;        /* free cell blocks, by size (registry.c) */
  bs_cell *rq_head;           /* run queue of cells with mail */
  bs_cell *rq_tail;
  uint32_t rq_len;
  bs_cell *current;           /* actor whose turn it is, or NULL */
  bs_cell *external;          /* replies to callers outside actors */
  const bs_actor_type *checked_type[BS__CHECKED_TYPES]; /* descriptors that
                                 passed the checks lately (bs_actor_get) */
  uint32_t checked_next;
  bs__reqtab reqs;
  bs__msg *dl_head;           /* requests with deadlines, soonest first */
  bs__msg *dl_tail;
  bs_timer **timers;          /* min-heap on (due, seq) */
  size_t ntimers;
  size_t captimers;
  uint64_t timer_seq;
  uint32_t strong_timers;     /* active timers that keep the loop alive */
  bs__inbox inbox;
  bs__chain *out;             /* [nshards] mail batched per destination */
  bs__chain *rfree;           /* [nshards] blocks to give back, per home */
  uint32_t nout;              /* messages in `out` */
  uint32_t nrfree;            /* blocks in `rfree` */
  bs__lru *lrus;              /* idle lists, one per type with a timeout */
  size_t nlrus;
  bs_timer collector;         /* sweeps the idle lists (weak) */
  uint64_t collect_every;     /* its period, ms; 0 = not started */
  struct bs_probe *probes;    /* test kit probes, linked */
  struct bs__subcache *subcache; /* [stream index] this shard's copy of its
                                    subscribers of each stream (stream.c) */
  uint32_t nsubcache;
  bs__chain store_out;        /* store jobs made in this drain (persist.c) */
  uint32_t store_pending;     /* store jobs out, not yet completed here */
  struct bs_cell **scratch;   /* publishing: the cells of many subscribers */
  uint32_t nscratch;
  bool scratch_busy;          /* in use by a publish (one may nest in a hook) */
  struct bs__clshard *cl;     /* cluster state (src/cluster), or NULL */
  /* Read by other threads: */
  uint64_t xsent;             /* inbox pushes made by this shard */
  uint64_t xrecv;             /* inbox messages taken by this shard */
  uint32_t idle;              /* 1 while its loop has nothing to do */
  bs__stats stats;
  BS__OBS_SHARD_FIELDS
};

/* The thread-local shard: set while a shard's loop runs callbacks. */
extern _Thread_local bs__shard *bs__tls_shard;

#endif
