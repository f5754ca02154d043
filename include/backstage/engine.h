/* The engine: virtual actors, their mailboxes and run queues, driven by
 * libuv loops.
 *
 * An engine has one or more shards (opts.shards). Shard 0 runs on the home
 * thread - the thread that created the engine - on the engine's loop
 * (bs_engine_loop); with more shards, each of the others runs its own loop
 * on a thread of its own. An actor lives on the shard its id hashes to and
 * only ever runs there: actor code is single-threaded and lock-free
 * whatever the shard count. Which thread may call what (docs/engine.md,
 * "Threads"): lifecycle and run functions on the home thread; sends,
 * requests, streams and timers on any thread that runs one of the engine's
 * shards (inside actors, in callbacks on a shard's loop, or on the home
 * thread); bs_engine_post, bs_actor_get and bs_engine_stats_get on any
 * thread. A call from a thread that may not make it returns
 * BS_EWRONGTHREAD (or aborts with the function's name in debug builds).
 */
#ifndef BACKSTAGE_ENGINE_H
#define BACKSTAGE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"
#include "alloc.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libuv's loop type, declared here so this header does not pull <uv.h>
 * (and its POSIX feature requirements) into every user file. It is the same
 * type as uv_loop_t. */
struct uv_loop_s;

/* ---- Dead letters -------------------------------------------------------- */

/* XX(NAME, description) */
#define BS_DEAD_LETTER_MAP(XX)                                                 \
  XX(UNKNOWN_METHOD, "no method with that id")                                 \
  XX(UNDECODABLE, "message body could not be decoded")                         \
  XX(STOPPED, "queued behind a stop")                                          \
  XX(INIT_FAILED, "actor init failed")                                         \
  XX(ENGINE_FREED, "engine freed with the message pending")                    \
  XX(ORPHAN_REPLY, "reply to a caller that stopped or timed out")              \
  XX(REPLY_UNENCODABLE, "return value could not be encoded")                   \
  XX(MAILBOX_FULL, "mailbox full") /* reserved */                              \
  XX(NO_MEMORY, "out of memory while dispatching")                            \
  XX(STORE, "state store failed (load or durable write)")                     \
  XX(UNREACHABLE, "no node could take it (owner gone, no owner in time)")     \
  XX(MOVED, "its actor moved too often to be reached")                        \
  XX(NOT_REGISTERED, "actor type not registered with the cluster here")       \
  XX(EXPIRED, "remote request whose deadline passed before it ran")           \
  XX(LOST, "lost between nodes (counted in bulk, see docs/cluster.md)")       \
  XX(UNDECODABLE_REMOTE, "a message from another node was malformed")

typedef enum bs_dead_letter_reason {
#define BS__DL_ENUM(name, desc) BS_DL_##name,
  BS_DEAD_LETTER_MAP(BS__DL_ENUM)
#undef BS__DL_ENUM
  BS_DL__COUNT
} bs_dead_letter_reason;

/* The symbolic name without the prefix ("UNKNOWN_METHOD"); "UNKNOWN"
 * outside the table. */
const char *bs_dead_letter_reason_name(bs_dead_letter_reason r);

typedef struct bs_dead_letter {
  const char *target_id;     /* actor the message was for */
  const char *type_name;     /* its type */
  const char *method_name;   /* NULL for an unknown method or a reply */
  uint32_t method_id;
  bs_dead_letter_reason reason;
  int code;                  /* the BS_E* code behind the reason, if any */
} bs_dead_letter;

/* Called for every dead letter, on the thread of the shard where the
 * message ended (with several shards, concurrently from their threads).
 * Must not free the engine; may send messages. */
typedef void (*bs_dead_letter_fn)(void *ud, const bs_dead_letter *dl);

/* A method that returned a negative status (it ran; the message counts as
 * delivered). */
typedef struct bs_method_failure {
  const char *actor_id;
  const char *type_name;
  const char *method_name;
  int status;               /* what the method returned */
  bool restarting;          /* BS_ON_ERROR_RESTART applies */
} bs_method_failure;

typedef void (*bs_method_failure_fn)(void *ud, const bs_method_failure *f);

/* ---- Policies ------------------------------------------------------------ */

/* What happens to a message sent to a full mailbox (see mailbox_capacity). */
typedef enum bs_full_policy {
  BS_FULL_REJECT = 0,  /* the send returns BS_EFULL; nothing is queued */
  BS_FULL_DEAD_LETTER  /* the send returns 0; the message is a dead letter
                          (MAILBOX_FULL) and a request completes with
                          BS_EFULL */
} bs_full_policy;

/* What happens when a method returns a negative status (always counted in
 * stats.method_errors). */
typedef enum bs_error_policy {
  BS_ON_ERROR_DEFAULT = 0, /* per type: use the engine's; engine: CONTINUE */
  BS_ON_ERROR_CONTINUE,    /* keep the instance; go on with the next message */
  BS_ON_ERROR_RESTART      /* deinit the instance now; the next message
                              activates a fresh one (stats.restarts) */
} bs_error_policy;

/* ---- Options ------------------------------------------------------------- */

typedef struct bs_engine_options {
  bs_allocator allocator;        /* {NULL, NULL}: malloc/realloc/free */
  uint32_t batch;                /* max messages per actor turn (64) */
  uint32_t drain_budget;         /* max messages per loop iteration (4096) */
  /* Shards: 1 (the default) runs everything on the home thread, as a
   * single-threaded engine; N > 1 runs N shards, N - 1 of them on threads
   * of their own; 0 means one per available core. At most 1024. */
  uint32_t shards;
  /* An idle shard polls its inbox this long before its thread sleeps, so a
   * conversation between shards does not pay a wake-up per message.
   * Engines with one shard never poll. 0: the default (50); set
   * BS_SPIN_OFF to sleep at once. */
  uint32_t shard_spin_us;
  /* Idle collection (Orleans' collection age): an active actor that has
   * had no mail for this long is deactivated (deinit runs) and its memory
   * freed; its next message activates it again. 0: never. Per type: see
   * bs_type_policy. */
  uint64_t idle_timeout_ms;
  uint64_t request_timeout_ms;   /* deadline of every request; 0 = none */
  /* Bounded mailboxes: the most messages (calls and stream elements) an
   * actor's mailbox holds; 0 = unbounded. Replies to an actor's own
   * requests are always accepted, so a caller never loses its answer. A
   * stream element for a full subscriber is always a dead letter (the
   * publisher cannot be told per subscriber). Per type: see
   * bs_engine_set_type_policy. */
  uint32_t mailbox_capacity;
  bs_full_policy mailbox_full;
  bs_error_policy on_method_error;
  bs_dead_letter_fn on_dead_letter;
  void *dead_letter_ud;
  /* Called on the actor's shard thread after a method returned a negative
   * status, before the error policy acts; may send messages. */
  bs_method_failure_fn on_method_failure;
  void *method_failure_ud;
  /* Test mode (see backstage/testkit.h). virtual_time: the engine's clock
   * starts at 0 and moves only by bs_test_advance, which fires bs_timers and
   * request deadlines; nothing waits on real time. schedule_seed: non-zero
   * picks the next actor to run pseudo-randomly from this seed, one message
   * per turn (0: FIFO turns of `batch` messages). */
  bool virtual_time;
  uint64_t schedule_seed;
  /* Inspector (backstage/inspector.h, docs/inspector.md): "host:port" to
   * serve the live dashboard, JSON API and /metrics on from this engine's
   * loop ("127.0.0.1:0": any free port). NULL: the environment variable
   * BACKSTAGE_INSPECTOR decides. Non-loopback hosts also need
   * BACKSTAGE_INSPECTOR_ALLOW_REMOTE=1 and BACKSTAGE_INSPECTOR_TOKEN. If it
   * cannot start, bs_engine_new fails with its error. Ignored when the
   * inspector is compiled out (-DBACKSTAGE_INSPECTOR=OFF). */
  const char *inspector_addr;
  /* The most memory decoding one message may take (strings, dynamic
   * arrays, `const S *` structs: what the engine allocates for a method's
   * arguments or a reply's value); 0: BS_MAX_DECODE_BYTES_DEFAULT, SIZE_MAX:
   * no limit. The wire size does not bound it (an empty CBOR map is one
   * byte, the struct it decodes into may be kilobytes). A message over it
   * is not run: a dead letter UNDECODABLE with code BS_ETOOBIG (a request
   * completes with BS_EDECODE); a reply over it reaches its continuation
   * with BS_ETOOBIG. Nothing of it is kept afterwards. */
  size_t max_decode_bytes;
  /* Persistent actors (backstage/store.h, docs/persistence.md): the store
   * their states live in. Either a path, for the embedded store (SQLite),
   * which the engine opens (bs_engine_new fails with BS_ESTORE if it
   * cannot) and closes; or a store of yours (bs_store_open, the NATS store,
   * bs_store_new), which must outlive the engine and serve one engine at a
   * time. Neither: activating a persistent actor fails (BS_ESTORE). */
  const char *store_path;
  bs_store *store;
  bs_corrupt_policy on_corrupt_state;
  /* Called on the actor's shard thread for every failed load or write and
   * every record that did not decode; may send messages. */
  bs_store_error_fn on_store_error;
  void *store_error_ud;
  /* Cluster (backstage/cluster.h, docs/cluster.md): join the cluster these
   * options describe; bs_engine_new fails with the join's error. NULL: the
   * environment variable BACKSTAGE_CLUSTER (NATS URLs) decides, with
   * BACKSTAGE_CLUSTER_NAME and BACKSTAGE_NODE; unset, the engine is
   * standalone. BS_ENOTSUP when the cluster is compiled out
   * (-DBACKSTAGE_CLUSTER=OFF). A clustered engine's BS_RUN_UNTIL_DONE runs
   * until bs_engine_stop. Not with test mode (virtual_time, schedule_seed). */
  const struct bs_cluster_options *cluster;
} bs_engine_options;

#define BS_MAX_DECODE_BYTES_DEFAULT ((size_t)64 << 20) /* 64 MiB */

/* Fills `o` with the defaults above. */
void bs_engine_options_init(bs_engine_options *o);

/* ---- Lifecycle ----------------------------------------------------------- */

/* A new engine on a loop of its own. `opts` may be NULL (defaults). The
 * calling thread becomes the engine's home thread. With opts.shards > 1 the
 * other shards' threads start here and wait for mail. */
int bs_engine_new(bs_engine **out, const bs_engine_options *opts);

/* A new engine whose shard 0 runs on the caller's loop, which must outlive
 * the engine; the calling thread (the loop's) becomes the home thread.
 * After bs_engine_free the caller runs the loop once more (as with any
 * libuv handle) so the engine's handles finish closing and release their
 * memory. */
int bs_engine_new_on_loop(bs_engine **out, struct uv_loop_s *loop,
                          const bs_engine_options *opts);

/* Stops every active actor (deinit runs, on the actor's own shard),
 * dead-letters pending mail (BS_DL_ENGINE_FREED; request continuations are
 * not run), joins the shards' threads and frees all the engine's memory.
 * Home thread only; not from inside an actor turn or a callback of the
 * running loop (there it does nothing: an API check). NULL is a no-op. */
void bs_engine_free(bs_engine *e);

/* The home loop (shard 0's), for the user's own handles, timers and I/O. */
struct uv_loop_s *bs_engine_loop(bs_engine *e);

/* Number of shards (opts.shards resolved). */
uint32_t bs_engine_shards(const bs_engine *e);

typedef enum bs_run_mode {
  BS_RUN_UNTIL_DONE, /* until no mail, timers or I/O remain on any shard */
  BS_RUN_ONCE,       /* one loop iteration, waiting for I/O if no mail */
  BS_RUN_NOWAIT,     /* one loop iteration, never waiting */
  BS_RUN_DRAIN       /* iterations without waiting until the mail queued
                        on the home shard when it was called has been
                        handled (what it sends meanwhile may remain) */
} bs_run_mode;

/* Runs the home loop. Returns 0 when nothing is left to do, 1 when work
 * remains (ONCE/NOWAIT/DRAIN, or after bs_engine_stop), BS_EBUSY when
 * called from inside a running engine. With several shards, UNTIL_DONE
 * returns when every shard is idle and no message is in flight between
 * them (a termination check over the shards' counters, not a timeout);
 * the other shards run on their threads whether or not the home loop runs.
 * Home thread only. */
int bs_engine_run(bs_engine *e, bs_run_mode mode);

/* Makes the current bs_engine_run return after the current iteration. Home
 * thread only. */
void bs_engine_stop(bs_engine *e);

/* While the hold count is positive, BS_RUN_UNTIL_DONE keeps running with no
 * other work, waiting for bs_engine_post from other threads. Home thread
 * only. */
void bs_engine_hold(bs_engine *e);
void bs_engine_release(bs_engine *e);

/* Per actor type overrides of the engine's policies; zero fields keep the
 * engine's. Takes effect for messages sent afterwards (and, for the idle
 * timeout, for activations afterwards). Home thread only. BS_ENOMEM,
 * BS_EINVAL. */
typedef struct bs_type_policy {
  uint32_t mailbox_capacity;       /* 0: the engine's mailbox_capacity */
  bs_error_policy on_method_error; /* DEFAULT: the engine's */
  uint64_t idle_timeout_ms;        /* 0: the engine's idle_timeout_ms;
                                      BS_IDLE_NEVER: never collect this type */
} bs_type_policy;

#define BS_IDLE_NEVER UINT64_MAX
#define BS_SPIN_OFF UINT32_MAX

int bs_engine_set_type_policy(bs_engine *e, const bs_actor_type *type,
                              const bs_type_policy *policy);

/* ---- Timers --------------------------------------------------------------- */

/* Engine timers: driven by the loop in normal mode and by the virtual clock
 * in test mode, so code that ticks through them is testable without real
 * time. A timer belongs to the shard of the thread that initialised it (the
 * home shard from main, an actor's shard from inside it); its callback runs
 * on that shard's loop outside actor turns, and only that thread may start
 * or stop it. Send to actors from the callback. Timers due at the same time
 * fire in the order they were started. Caller-owned memory, like
 * uv_timer_t: keep it alive (or stop it) until bs_engine_free; an active
 * timer keeps BS_RUN_UNTIL_DONE running. */
typedef struct bs_timer bs_timer;
typedef void (*bs_timer_fn)(bs_timer *t);

struct bs_timer {
  void *data;          /* yours */
  /* private */
  bs_engine *engine;
  void *shard;
  bs_timer_fn cb;
  uint64_t due;
  uint64_t repeat;
  uint64_t seq;
  size_t slot;         /* 1 + index in the shard's heap; 0 when inactive */
  uint32_t flags;
};

/* BS_EINVAL; BS_EWRONGTHREAD on a thread that runs none of e's shards. */
int bs_timer_init(bs_engine *e, bs_timer *t);
/* Fires after `timeout_ms`, then every `repeat_ms` if that is non-zero
 * (due times saturate: a timer due past the clock's end never fires).
 * Restarting an active timer reschedules it. BS_ENOMEM, BS_EINVAL,
 * BS_EWRONGTHREAD (not the timer's shard). */
int bs_timer_start(bs_timer *t, bs_timer_fn cb, uint64_t timeout_ms,
                   uint64_t repeat_ms);
void bs_timer_stop(bs_timer *t);
bool bs_timer_active(const bs_timer *t);

/* The engine's clock in milliseconds as the calling thread's shard sees it:
 * its loop's time, or the virtual clock in test mode. */
uint64_t bs_engine_now(const bs_engine *e);

/* ---- Foreign threads ---------------------------------------------------- */

typedef struct bs_post bs_post;
typedef void (*bs_post_fn)(bs_engine *e, bs_post *post);

/* Caller-owned: embed it in your own struct and recover that with
 * offsetof/container_of inside `fn`. Do not touch it between the post and
 * the call to `fn`. */
struct bs_post {
  bs_post *next;
  bs_post_fn fn;
};

/* Thread-safe: runs fn(e, post) on the home thread (on the home loop),
 * soon, in post order per thread. Callable from any thread; not after
 * bs_engine_free has started. Posts still queued when the engine is freed
 * are run with a NULL engine so their owners can release them. */
int bs_engine_post(bs_engine *e, bs_post *post, bs_post_fn fn);

/* ---- Statistics ---------------------------------------------------------- */

typedef struct bs_engine_stats {
  uint64_t sent;            /* messages queued (requests and replies too) */
  uint64_t delivered;       /* dispatched to a method or a continuation */
  uint64_t dead_letters;    /* sum of dead_by_reason */
  uint64_t dead_by_reason[BS_DL__COUNT];
  uint64_t method_errors;   /* methods that returned a negative status */
  uint64_t restarts;        /* instances deinitialised by BS_ON_ERROR_RESTART */
  uint64_t rejected;        /* sends refused with BS_EFULL (never queued) */
  uint64_t activations;     /* successful inits */
  uint64_t init_failures;
  uint64_t actors;          /* cells: actors active, with mail, or waiting */
  uint64_t active;          /* initialised instances */
  uint64_t requests_pending;
  uint64_t idle_deactivations; /* instances deinitialised by idle collection */
  uint64_t collected;       /* cells freed (stopped or deactivated, no mail) */
  uint64_t remote_out;      /* messages handed to another shard */
  uint64_t remote_in;       /* messages taken from this shard's inbox */
  /* Persistent state (docs/persistence.md). */
  uint64_t store_loads;     /* states looked up on activation (found or not) */
  uint64_t store_writes;    /* saves and removes committed */
  uint64_t store_errors;    /* loads and writes that failed, conflicts and
                               corrupt records included */
  uint64_t store_conflicts; /* writes refused as stale (BS_ECONFLICT) */
  uint64_t store_corrupt;   /* stored records that did not decode */
  uint64_t store_bytes;     /* bytes of the states committed */
  uint64_t store_commits;   /* transactions (group commits) */
  uint64_t store_commit_ns; /* time spent in them, total */
  uint64_t store_commit_max_ns; /* the longest */
  uint64_t store_pending;   /* loads and writes queued or running */
  uint64_t alloc_calls;     /* allocations and resizes through the allocator */
  uint64_t free_calls;
  uint64_t alloc_failures;  /* of those, and of blobs decoded from messages */
  size_t bytes_live;        /* bytes currently held from the allocator (not
                               counting blobs: they outlive the engine's
                               shards and are released by their holders) */
} bs_engine_stats;

/* The engine's totals. From any thread; while shards run, each shard's
 * figures are read as they are at that moment (exact once idle). */
void bs_engine_stats_get(const bs_engine *e, bs_engine_stats *out);
/* One shard's figures (heap figures: that shard's heap; the engine-wide
 * objects are counted in the totals only). BS_EINVAL for a bad index. */
int bs_engine_shard_stats(const bs_engine *e, uint32_t shard,
                          bs_engine_stats *out);

#ifdef __cplusplus
}
#endif
#endif
