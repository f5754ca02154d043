/* The cluster's internals (docs/cluster.md has the user's view).
 *
 * Who does what, and on which thread:
 *
 *   shard threads (route.c)   decide where mail for a placed actor goes by
 *                             the partition table, encode remote mail into
 *                             batches per destination node, hand finished
 *                             batches to the sender; take incoming batches
 *                             from their inbox and deliver them; check on
 *                             every dispatch that this node still serves the
 *                             actor's partition (fencing); park mail that
 *                             has no owner for a while.
 *   the sender thread (nats.c) publishes batches (the only thread that
 *                             writes to the data connection), subscribes
 *                             and unsubscribes stream subjects, sends acks.
 *   libnats' delivery thread  receives batches on this node's subject and
 *   (nats.c)                  on stream subjects and pushes them, as one
 *                             NODE message each, into the inbox of the
 *                             shard they are for: the same inbox as
 *                             cross-shard mail. Never blocks.
 *   the lease thread (nats.c) refreshes this node's membership key; when it
 *                             cannot for 3/5 of the lease, the node is
 *                             fenced (shards stop serving at once, by the
 *                             clock) and takes a new generation.
 *   the placement thread      watches the partition table and membership,
 *   (nats.c, place.c)         confirms deaths, hands partitions over, and
 *                             on the leader assigns orphans and rebalances.
 *                             Every blocking KV call is made here or on the
 *                             lease thread, never on a loop thread.
 *
 * The partition table: P entries, each {owner, epoch, state} packed in a
 * 64-bit word that shards read with one relaxed load. Only the placement
 * thread writes it (and shards, with "moved" hints about other nodes, by
 * compare-and-swap to a higher epoch). Owners are directory indexes.
 *
 * The directory: one bs__node per incarnation (name, boot id, generation)
 * this node has heard of, appended under dir_lock, never freed before the
 * engine, so a shard can hold an index and read the record without a lock.
 */
#ifndef BACKSTAGE_CLUSTER_INTERNAL_H
#define BACKSTAGE_CLUSTER_INTERNAL_H

#include "internal.h"

#define BS__WIRE_VERSION 1
#define BS__NODES_MAX 1024u        /* directory entries (incarnations) */
#define BS__NODE_NAME_MAX BS_CLUSTER_NAME_MAX
#define BS__BATCH_BYTES (60u * 1024u) /* a batch is sent once this full */
#define BS__HOPS_MAX 8u            /* "moved" answers before a dead letter */
#define BS__LINK_SHARDS 1024u      /* sender shards a receiver tracks */
#define BS__STRANGERS_MAX 64u      /* directory entries of unconfirmed senders */

/* ---- Partition table entries ----------------------------------------------- */

enum { BS__PART_NONE = 0, BS__PART_OWN = 1, BS__PART_GIVE = 2 };

/* [epoch:32][owner:16][state:8] */
static inline uint64_t bs__part_pack(uint32_t epoch, uint16_t owner, uint8_t state) {
  return (uint64_t)epoch << 32 | (uint64_t)owner << 16 | state;
}
static inline uint32_t bs__part_epoch(uint64_t v) { return (uint32_t)(v >> 32); }
static inline uint16_t bs__part_owner(uint64_t v) { return (uint16_t)(v >> 16); }
static inline uint8_t bs__part_state(uint64_t v) { return (uint8_t)v; }

/* The partition of an actor: its type's wire id and its id hash, mixed
 * (murmur3's finalizer) and scaled to P. Every node computes the same. */
static inline uint32_t bs__partition(uint32_t type_id, uint32_t hash, uint32_t nparts) {
  uint32_t h = hash ^ (type_id * 0x9e3779b1u);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return (uint32_t)(((uint64_t)h * nparts) >> 32);
}

/* The shard of an id hash on a node with `n` shards (bs__shard_of). */
static inline uint32_t bs__shard_in(uint32_t hash, uint32_t n) {
  return (uint32_t)(((uint64_t)hash * (n ? n : 1)) >> 32);
}

/* ---- Wire format (wire.c; docs/wire-format.md, "Between nodes") ------------- */

enum { BS__FR_MAIL = 1, BS__FR_STREAM = 2, BS__FR_ACK = 3 };
enum {
  BS__ENV_CALL = 1,
  BS__ENV_STOP = 2,
  BS__ENV_ELEM = 3,
  BS__ENV_VALUE = 4,
  BS__ENV_MOVED = 5
};
enum { BS__EF_REQUEST = 1u << 0 }; /* envelope flags; hops in bits 4..7 */

#define BS__FRAME_FIXED 41u /* header bytes before the sender's name */

typedef struct bs__frame {
  uint8_t kind;             /* BS__FR_* */
  uint16_t sshard;          /* sending shard */
  uint16_t dshard;          /* MAIL: destination shard */
  uint64_t sboot;           /* sender's boot id */
  uint32_t sgen;            /* sender's generation */
  uint32_t count;           /* envelopes, elements or ack entries */
  uint64_t dboot;           /* MAIL, ACK: the destination process's boot id */
  uint64_t pos;             /* MAIL: envelopes this link carried before */
  const char *sname;        /* sender's name (not NUL-terminated) */
  uint8_t sname_len;
} bs__frame;

typedef struct bs__env {
  uint8_t kind;             /* BS__ENV_* */
  uint8_t inner;            /* CALL, STOP, ELEM: the same; MOVED: the kind
                               of the envelope it carries back */
  uint8_t flags;            /* BS__EF_* */
  uint8_t hops;
  uint32_t type_id;         /* CALL, STOP, ELEM */
  uint32_t epoch;
  const char *id;
  uint8_t id_len;
  uint64_t req_id;          /* request CALL, VALUE */
  uint16_t reply_shard;
  uint32_t remaining_ms;    /* request CALL: time left, 0: no deadline */
  uint32_t method_id;       /* ELEM */
  int32_t status;           /* VALUE */
  const uint8_t *body;
  uint32_t body_len;
  /* MOVED: what the bouncing node believes, then the envelope itself
   * (the fields above). */
  uint32_t hint_epoch;
  uint8_t hint_state;
  const char *hint_name;    /* NULL: no hint */
  uint8_t hint_name_len;
  uint64_t hint_boot;
  uint32_t hint_gen;
} bs__env;

typedef struct bs__wire_cur {
  const uint8_t *p, *end;
  uint32_t left;            /* envelopes still announced */
} bs__wire_cur;

/* Decodes a frame's header; `c` then walks its envelopes. 0 or BS_EDECODE
 * (BS_EVERSION for another version). Never reads outside p[0..n). */
int bs__wire_frame(const uint8_t *p, size_t n, bs__frame *f, bs__wire_cur *c);
/* The next MAIL envelope: 1 with *e filled, 0 at the end, BS_EDECODE. */
int bs__wire_env(bs__wire_cur *c, bs__env *e);
/* The next STREAM element: 1, 0 at the end, BS_EDECODE. */
int bs__wire_elem(bs__wire_cur *c, const char **id, uint8_t *id_len, const uint8_t **body,
                  uint32_t *body_len);
/* The next ACK entry: 1, 0, BS_EDECODE. */
int bs__wire_ack(bs__wire_cur *c, uint16_t *shard, uint64_t *pos);

/* Writers: each returns the bytes it wrote at p (the caller made room:
 * the *_size functions say how much). */
size_t bs__wire_frame_size(uint8_t sname_len);
size_t bs__wire_put_frame(uint8_t *p, const bs__frame *f);
/* Patches count and pos of a frame written at p. */
void bs__wire_patch_frame(uint8_t *p, uint32_t count, uint64_t pos);
size_t bs__wire_env_size(const bs__env *e);
size_t bs__wire_put_env(uint8_t *p, const bs__env *e);
size_t bs__wire_elem_size(uint8_t id_len, uint32_t body_len);
size_t bs__wire_put_elem(uint8_t *p, const char *id, uint8_t id_len, const uint8_t *body,
                         uint32_t body_len);
size_t bs__wire_put_ack(uint8_t *p, uint16_t shard, uint64_t pos);
#define BS__WIRE_ACK_SIZE 10u


/* ---- The directory ---------------------------------------------------------- */

typedef struct bs__node {
  char name[BS__NODE_NAME_MAX + 1];
  uint8_t name_len;
  uint16_t index;
  uint64_t boot;            /* the process's random id */
  uint32_t gen;             /* its generation (fencings so far + 1) */
  uint32_t shards;          /* its shard count; 1 until known (atomic) */
  uint32_t alive;           /* atomic: a current member */
  uint32_t gone;            /* atomic: confirmed departed; never back */
  bool stranger;            /* added by the data path, not yet a member
                               (placement thread clears it) */
  uint32_t owned;           /* partitions it owns in our table (placement) */
  char subject[160];        /* its mail subject */
  char advertise[128];      /* its advertised text: written once, before
                               adv_set (release) */
  uint32_t adv_set;
  uint64_t seen_ms;         /* placement thread: last heartbeat seen */
  /* Links (counted in envelopes). sent[k]: what our shard k sent it;
   * acked[k]: what it acknowledged of that; rpos[k]: receive thread's next
   * expected position from its shard k (allocated on first use). */
  uint64_t *sent;           /* [our nshards], written by shard k */
  uint64_t *acked;          /* [our nshards], written on ACK arrival */
  uint64_t *rpos;           /* [BS__LINK_SHARDS], receive thread */
  uint64_t *racked;         /* [BS__LINK_SHARDS], what we last acked */
  uint32_t rdirty;          /* atomic: rpos moved since the last ack */
  uint64_t settled;         /* lost in transit already counted (placement) */
  uint64_t msgs_out;        /* atomic */
  uint64_t msgs_in;         /* atomic */
} bs__node;

/* ---- Counters ----------------------------------------------------------------- */

typedef struct bs__clstats {
  uint64_t msgs_out, msgs_in, batches_out, batches_in, bytes_out, bytes_in;
  uint64_t moved_out, moved_in, parked, unreachable, lost, undecodable, stale;
  uint64_t handoffs, fenced, stream_out, stream_in;
} bs__clstats;

#define BS__CL_ADD(cl, f, n) BS__ADD(&(cl)->st.f, (n), RELAXED)

/* ---- The cluster --------------------------------------------------------------- */

typedef struct bs__nats bs__nats; /* nats.c: connections, threads, KV handles */

typedef struct bs__cluster {
  bs_engine *engine;
  bs_cluster_options o;     /* copied; strings point into `strs` */
  char *strs;
  size_t strs_len;
  char name[BS__NODE_NAME_MAX + 1];  /* cluster name */
  char node[BS__NODE_NAME_MAX + 1];  /* this node's name */
  uint32_t nparts;
  uint64_t *parts;          /* [nparts] routing view (atomic words) */
  uint64_t boot;
  /* Directory. */
  uv_mutex_t dir_lock;
  bs__node *nodes[BS__NODES_MAX]; /* [0] unused: index 0 is "nobody" */
  uint32_t nnodes;          /* atomic: entries published */
  uint32_t self;            /* atomic: our current incarnation's index */
  uint32_t gen;             /* atomic: our generation */
  uint32_t leader;          /* atomic: 1 while we lead */
  uint32_t strangers;       /* atomic: directory entries of strangers */
  uint32_t owned;           /* atomic: partitions we own (placement) */
  /* Fencing: shards serve only while the monotonic clock is below this. */
  uint64_t lease_until;     /* atomic, ns (uv_hrtime scale) */
  uint64_t fence_ns;        /* 3/5 of the lease */
  /* Batches for the sender thread: a Vyukov queue, woken on empty ->
   * non-empty (the inbox code), plus the bytes queued (backpressure). */
  bs__inbox outq;
  bs__msg *outq_stub;
  uint64_t outq_bytes;      /* atomic */
  uint64_t outq_max;
  uint64_t max_frame;       /* the NATS server's max_payload (join) */
  /* Foreign pushes into shard inboxes, for the termination count. */
  uint64_t xsent;           /* atomic */
  uint32_t stopping;        /* atomic: leaving; callbacks drop input */
  bs__clstats st;
  bs__nats *nats;           /* NULL: offline (tests, the fuzzer) */
  /* Gives back what a received frame lives in (a NATS message; offline, a
   * heap copy). */
  void (*frame_done)(struct bs__cluster *cl, void *keep);
} bs__cluster;

/* Per shard. */
typedef struct bs__clout {  /* one open batch */
  bs__msg *b;               /* the frame being filled (a pooled block) */
  struct bs_stream *st;     /* STREAM frame: its stream; NULL: MAIL */
  uint16_t node;            /* MAIL: destination */
  uint16_t dshard;
  uint32_t n;               /* envelopes (elements) in it */
  uint32_t used;            /* bytes written */
} bs__clout;

#define BS__OUT_OPEN 64u    /* open batches per shard before a flush */

typedef struct bs__clshard {
  bs__clout out[BS__OUT_OPEN];
  uint32_t nout;
  /* Mail waiting for its partition to have a serving owner, and which
   * partitions it is for: later mail for them queues behind it, so a
   * hand-off does not let a sender's newer mail overtake its older. */
  bs__mailbox parked;
  uint8_t *parked_parts;    /* nparts bits */
  bs_timer park_timer;
  bool park_timer_on;
  /* Last type looked up by pointer, in the registry `types_seen`. */
  const bs__types *types_seen;
  const bs_actor_type *last_type;
  uint32_t last_type_id;
  bool last_placed;
  /* bs__cl_store_check's answer (atomic: read by the thread that asked). */
  uint32_t store_busy;
} bs__clshard;

/* ---- Life (cluster.c) ------------------------------------------------------------ */

/* bs_engine_new, home thread. Prepare (before the shards' threads start,
 * so they see their state from the start): if opts.cluster or
 * $BACKSTAGE_CLUSTER asks for a cluster, checks the options and makes the
 * cluster's and each shard's state. Join (after): connects, checks the
 * cluster's settings and takes the node's name. */
int bs__cluster_prepare(bs_engine *e);
int bs__cluster_join(bs_engine *e);
/* Leaves: stops serving, deactivates placed actors, deletes the membership
 * key, stops the threads (first thing bs_engine_free does). */
void bs__cluster_stop(bs_engine *e);
/* Frees what is left (after the shards are gone). */
void bs__cluster_free(bs_engine *e);

/* An offline cluster for tests and the fuzzer: no NATS; this node owns
 * every partition; batches for other nodes are dropped and counted. */
int bs__cluster_offline(bs_engine *e, const bs_cluster_options *o);

/* Directory (cluster.c). Finds or adds (name, boot, gen); 0 if full. */
uint16_t bs__node_get(bs__cluster *cl, const char *name, size_t len, uint64_t boot,
                      uint32_t gen);
/* The same from the data path: an unknown sender is added only while
 * fewer than BS__STRANGERS_MAX such entries wait to be seen as members. */
uint16_t bs__node_add(bs__cluster *cl, const char *name, size_t len, uint64_t boot, uint32_t gen,
                      bool member);
/* Finds without adding; 0 if unknown. */
uint16_t bs__node_lookup(bs__cluster *cl, const char *name, size_t len, uint64_t boot,
                         uint32_t gen);
static inline bs__node *bs__node_at(bs__cluster *cl, uint16_t i) {
  return i && i < BS__LOAD(&cl->nnodes, ACQUIRE) ? cl->nodes[i] : NULL;
}

/* The monotonic clock the lease is kept in (cheap: coarse). */
uint64_t bs__cl_now_ns(void);
static inline bool bs__cl_lease_ok(bs__cluster *cl) {
  return bs__cl_now_ns() < BS__LOAD(&cl->lease_until, ACQUIRE);
}

/* Hands a finished frame to the sender thread (any thread); offline, it
 * is dropped (counted as sent). */
void bs__cl_outq_push(bs__cluster *cl, bs__msg *b);
/* Gives a frame or command the sender is done with back where it came from. */
void bs__cl_out_done(bs__cluster *cl, bs__msg *b);
/* A frame received on this node's subject (MAIL, ACK) or on a stream's
 * (`stream`), from any thread: checks the header, counts the link, and
 * hands it to its shard. `keep` owns the bytes p[0..n): cl->frame_done
 * gives it back once the shard is through with it (or at once). */
void bs__cl_frame_in(bs__cluster *cl, bool stream, const uint8_t *p, size_t n, void *keep);
/* Offline: a copy of p[0..n) received as from NATS (the fuzzer, tests). */
void bs__cl_offline_frame(bs_engine *e, bool stream, const uint8_t *p, size_t n);
/* Pushes a NODE message into shard `to`'s inbox from a foreign thread. */
void bs__cl_inbox_push(bs__cluster *cl, uint32_t to, bs__msg *m);
/* A NODE message from the engine's heap: kind NODE, `op`, `cap` bytes. */
bs__msg *bs__cl_node_msg(bs__cluster *cl, uint8_t op, size_t cap);
void bs__cl_node_msg_free(bs__cluster *cl, bs__msg *m);

/* What the sender thread's queue carries (m->ctrl): frames from shards'
 * pools, commands from the engine's heap (home UINT16_MAX). */
enum {
  BS__OUT_MAIL = 1,    /* publish m->data to node m->rnode */
  BS__OUT_STREAM,      /* publish m->data on stream m->ptr's subject */
  BS__OUT_SUB,         /* subscribe to the stream whose id is m->data */
  BS__OUT_UNSUB        /* unsubscribe from it */
};

/* NODE message operations (m->ctrl). */
enum {
  BS__NODE_MAIL = 1,   /* a MAIL frame at m->body (m->len bytes), in the
                          NATS message m->ptr (or in m->data, ptr NULL) */
  BS__NODE_STREAM,     /* a STREAM frame */
  BS__NODE_CALL        /* run fn(s, arg) on the shard (bs__clcall in data) */
};

typedef void (*bs__clfn)(bs__shard *s, const void *arg);
typedef struct bs__clwait bs__clwait;

/* A NODE_CALL message's data: this, then a copy of the argument. */
typedef struct bs__clcall {
  bs__clfn fn;
  bs__clwait *wait;    /* posted after fn ran, or NULL */
} bs__clcall;

/* Runs fn(s, copy of arg) on every shard (from a foreign thread); with
 * `wait`, until all have run or the cluster is stopping (BS_ECANCELED). */
int bs__cl_each_shard(bs__cluster *cl, bs__clfn fn, const void *arg, size_t arglen,
                      bool wait);
/* A shard ran a call that someone waits for. */
void bs__cl_wait_done(bs__cluster *cl, bs__clwait *w);

/* ---- Shard side (route.c) --------------------------------------------------------- */

int bs__cl_shard_init(bs__shard *s);
void bs__cl_shard_free(bs__shard *s);
/* Routes a CALL or STOP for a placed actor that this node does not serve:
 * to its owner, or parked. Returns 1 if it took `m`, 0 if the actor is
 * local (the caller queues it as usual). */
int bs__cl_route(bs__shard *s, bs__msg *m);
/* Whether this node serves c's partition now (dispatch, every message). */
bool bs__cl_serving(bs__shard *s, const bs_cell *c);
/* c's partition is not served here: deinit, and route `m` and the rest of
 * its mailbox elsewhere. */
void bs__cl_unserve(bs__shard *s, bs_cell *c, bs__msg *m);
/* Arriving mail for a placed type on its shard: 1 to deliver here, 0 if it
 * was re-routed, answered "moved" or parked. */
int bs__cl_accept(bs__shard *s, bs__msg *m);
/* An answer for a request made on node m->rnode. Consumes v. */
void bs__cl_answer(bs__shard *s, bs__msg *v);
/* A NODE message from the inbox. Consumes it. */
void bs__cl_arrive(bs__shard *s, bs__msg *m);
/* Sends the open batches (end of a drain). */
void bs__cl_flush(bs__shard *s);
/* Placed-type lookup: fills the type's wire id; false if not placed. */
bool bs__cl_placed(bs__shard *s, const bs_actor_type *t, uint32_t *type_id);
/* Marks a new cell PLACED with its partition, if its type is placed. */
void bs__cl_cell_made(bs__shard *s, bs_cell *c);
/* Stream element published here: to the other nodes (one NATS message per
 * stream subject, batched). */
void bs__cl_stream_out(bs__shard *s, struct bs_stream *st, const bs__msg *body);
/* Interest in stream `st` on this node changed (0 <-> some subscribers). */
void bs__cl_stream_interest(bs_engine *e, struct bs_stream *st, bool on);
/* A node is gone: pending requests to it fail with BS_EUNREACHABLE (on
 * each shard). */
void bs__cl_node_gone(bs__shard *s, const void *arg);
/* Partitions released (bitmap `arg`, nparts bits): placed cells in them
 * are deactivated and their mail routed elsewhere. */
void bs__cl_release(bs__shard *s, const void *arg);
/* Partitions released (bitmap `arg`): how many placed persistent cells in
 * them still have a load or a write of their state out or due, into
 * s->cl->store_busy. A partition is handed over only once this is 0 on
 * every shard, so the new owner loads the last state written. */
void bs__cl_store_check(bs__shard *s, const void *arg);
/* Retries parked mail (a table change). */
void bs__cl_retry(bs__shard *s, const void *arg);

/* A remote loss report (undecodable input): counted, hook called. */
void bs__cl_report(bs__shard *s, const char *what, bs_dead_letter_reason reason, int code);

/* ---- Transport (nats.c, or nothing offline) ----------------------------------------- */

int bs__nats_start(bs__cluster *cl);
void bs__nats_leave(bs__cluster *cl);
void bs__nats_stop(bs__cluster *cl);
void bs__nats_free(bs__cluster *cl);
/* Wakes the sender thread (queue went non-empty). */
void bs__nats_wake(bs__cluster *cl);
/* Subject of a stream (for the sender thread's publish/subscribe). */
void bs__nats_stream_subject(bs__cluster *cl, const char *id, size_t len, char *out,
                             size_t cap);

#endif
