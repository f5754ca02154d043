/* Actor type descriptors, references, contexts and the send/request calls
 * that generated proxies are made of.
 *
 * This header is the runtime's only contract with actor types. backstage-gen
 * emits a bs_actor_type per `// @generate-proxy` struct; tests and users may
 * also write one by hand (see docs/actors.md for a complete example).
 */
#ifndef BACKSTAGE_ACTOR_H
#define BACKSTAGE_ACTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bs_engine bs_engine;
typedef struct bs_cell bs_cell;       /* opaque: one virtual actor */
typedef struct bs_context bs_context; /* opaque: an active actor's view */

/* A generic function pointer, for passing typed continuations through the
 * runtime without converting them to void * (which ISO C does not allow). */
typedef void (*bs_fnptr)(void);

/* Longest actor or stream id, in bytes (not counting the NUL). A reference
 * carries its actor's id (see bs_ref), so this bounds its size. */
#define BS_ID_MAX 127

/* ---- Type descriptor ---------------------------------------------------- */

/* One dispatch of one message. The thunk reads the arguments from `args`
 * (positioned after the method id), calls the method, stores an int method's
 * return value in `result`, and, when `reply` is not NULL, encodes the
 * method's return value into it. */
typedef struct bs_call {
  bs_reader args;
  bs_writer *reply; /* NULL unless the caller asked for a reply */
  int result;       /* method's own status (0 or negative), 0 for void */
} bs_call;

/* Returns 0, or the reader's/writer's error when the arguments could not be
 * decoded (the engine then dead-letters the message as undecodable and the
 * method is not called) or the reply could not be encoded. */
typedef int (*bs_invoke_fn)(void *self, bs_call *call);

typedef struct bs_method {
  const char *name;    /* "sayHello" */
  uint32_t id;         /* stable wire id, unique within the type */
  uint32_t argc;       /* number of encoded arguments */
  bs_invoke_fn invoke;
} bs_method;

typedef struct bs_actor_type {
  const char *name;       /* "Greeter"; required */
  size_t state_size;      /* sizeof(Greeter), > 0; zeroed by the engine */
  size_t state_align;     /* alignof(Greeter), a power of two; 0 means
                             max_align_t */
  /* Runs on activation, before the first message; may be NULL. 0 or a
   * negative code: a failing init leaves the actor inactive, every message
   * in its mailbox is dead-lettered (INIT_FAILED) and requests among them
   * complete with BS_EINIT whatever init returned (the dead letter's `code`
   * carries init's own code). */
  int (*init)(void *self, bs_context *ctx);
  /* Runs when the actor stops or the engine is freed. May be NULL. */
  void (*deinit)(void *self);
  const bs_method *methods; /* sorted by ascending id */
  size_t method_count;
  /* Optional: encodes the state for the inspector. May be NULL. */
  int (*encode_state)(const void *self, bs_writer *w);
  /* Persistent types (backstage/store.h): both set, or both NULL. The
   * stored form of the state, and its decoder into a zeroed state (fields
   * absent from the record stay zero; unknown keys are skipped; anything
   * left after the record is an error). backstage-gen writes them for
   * `// @generate-proxy persistent`. */
  int (*save_state)(const void *self, bs_writer *w);
  int (*load_state)(void *self, bs_reader *r);
} bs_actor_type;

/* Checks a descriptor (names, sizes, ids sorted and unique). The engine runs
 * it the first time it sees a type; exposed for tests of hand-written ones. */
int bs_actor_type_check(const bs_actor_type *type);

/* ---- References --------------------------------------------------------- */

/* A reference names a virtual actor by its key - type and id (and the id's
 * hash, which decides the shard it lives on) - not by where it is. So it
 * stays valid and means the same actor whatever happens to it: stopped,
 * collected when idle, re-activated, on another shard. It is a plain value:
 * copy it, store it in actor state, compare it with bs_ref_equal; there is
 * nothing to release. A zeroed bs_ref is "no actor": sends to it fail with
 * BS_EINVAL. */
typedef struct bs_ref {
  bs_engine *engine;
  const bs_actor_type *type;
  uint32_t hash;
  uint8_t len;                /* id length; 0 in a zeroed ref */
  char id[BS_ID_MAX + 1];     /* NUL-terminated */
} bs_ref;

/* The reference of actor `id` of `type`. Creates nothing: the actor is
 * activated (init runs) on its own shard when its first message is
 * dispatched. Two types may use the same id: they are different actors.
 * Callable from any thread. Errors: BS_EINVAL (NULL argument or bad
 * descriptor), BS_EIDLEN (empty or longer than BS_ID_MAX). */
int bs_actor_get(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_ref *out);
/* The id, inside *r (valid as long as *r is), or NULL for NULL or a zeroed
 * ref. */
const char *bs_ref_id(const bs_ref *r);
const bs_actor_type *bs_ref_type(const bs_ref *r);
/* Same actor: same engine, type and id. */
bool bs_ref_equal(const bs_ref *a, const bs_ref *b);
/* The shard the actor lives on (0 .. bs_engine_shards - 1). */
uint32_t bs_ref_shard(const bs_ref *r);
/* true while the actor has an initialised instance. On the actor's shard
 * only (elsewhere: false, and an API check in debug builds). */
bool bs_ref_active(const bs_ref *r);
/* Mailbox depth (messages queued, not yet dispatched). On the actor's
 * shard only (elsewhere: 0, and an API check in debug builds). */
size_t bs_ref_pending(const bs_ref *r);

/* Poison pill: the actor handles the mail queued before this call, then
 * deinit runs, its state is freed and its cell collected. Mail queued after
 * the pill is dead-lettered (BS_DL_STOPPED). The next message sent after
 * the stop has completed activates a fresh instance. Stopping an actor that
 * is not active and has no mail is a no-op returning 0. A pill is control,
 * not a message: it is not counted in sent/delivered, never activates an
 * actor, and a second pill queued behind the first is simply dropped with
 * the rest. From any thread that runs the engine. */
int bs_stop(const bs_ref *r);

/* ---- Context: what an active actor sees --------------------------------- */

bs_engine *bs_context_engine(const bs_context *ctx);
const char *bs_context_id(const bs_context *ctx);
bs_ref bs_context_self(const bs_context *ctx);

/* bs_engine_of(x): the engine from a bs_engine * or a bs_context *
 * (_Generic in C, overloads in C++: see the end of this file). */
#ifndef __cplusplus
#define bs_engine_of(x)                                                        \
  _Generic((x), bs_engine *: (bs_engine *)(x),                                 \
           bs_context *: bs_context_engine((const bs_context *)(x)),           \
           const bs_context *: bs_context_engine((const bs_context *)(x)))
#endif

/* ---- Sending (used by generated proxies) --------------------------------- */

/* Starts a message to `*to` calling `m`: takes a pooled message and writes
 * the array header and method id; the caller then writes exactly m->argc
 * arguments into `w` and finishes with one of the *_end calls below, which
 * always release or queue the message (also on error). If bs_send_begin
 * itself fails, the writer holds its error: writes do nothing and *_end
 * returns that error, so callers may check once at the end. */
int bs_send_begin(const bs_ref *to, const bs_method *m, bs_writer *w);
/* Queues a one-way message. Returns 0 or the writer's/engine's error. */
int bs_send_end(bs_writer *w);

/* A reply continuation as the runtime sees it. `status` is 0 when `value`
 * holds the encoded return value, or a negative code (callee stopped, init
 * failed, undecodable, timed out, ...) with `value` NULL. `fn` and `ud` are
 * what the caller passed to bs_request_end. The generated thunk decodes the
 * value and calls the typed user continuation `fn`. Its return value is the
 * result of an await. */
typedef int (*bs_reply_fn)(int status, bs_reader *value, bs_fnptr fn,
                           void *ud);

/* Queues a request. The continuation runs later, exactly once: on the
 * calling actor's turn when called from inside an actor, otherwise from the
 * loop of the calling thread's shard (the home thread: the engine's loop).
 * The callee may live on another shard: the request and its answer cross
 * as messages, identified by an id, never by a pointer into the caller's
 * memory. If the calling actor stops first, it never runs (the reply
 * is dead-lettered as BS_DL_ORPHAN_REPLY). Status 0 means the method ran and
 * `value` holds what the thunk encoded (an int method's own negative status
 * is counted in method_errors, not passed back); if the return value could
 * not be encoded the status is the writer's error (BS_EENCODE, BS_ETOOBIG,
 * BS_ENOMEM). */
int bs_request_end(bs_writer *w, bs_reply_fn thunk, bs_fnptr fn, void *ud);

/* Queues a request and runs the loop until its reply arrives or
 * `timeout_ms` passes (0: no timeout). Only on the engine's home thread
 * (the one that created it; elsewhere BS_EWRONGTHREAD), outside actor turns
 * and outside a running loop: inside either (an actor method, or a libuv
 * callback during bs_engine_run) it returns BS_EDEADLK without sending. Returns the
 * thunk's return value, called with (status, value, NULL, out), or
 * BS_ETIMEDOUT. If the loop runs out of work while the reply is still
 * outstanding (the callee is a test kit probe: BS_ENOTFOUND; a deadline on
 * a virtual clock nobody advances: BS_EDEADLK), the await ends its request
 * and returns; its thunk never runs afterwards. */
int bs_request_await(bs_writer *w, bs_reply_fn thunk, void *out,
                     uint64_t timeout_ms);

/* true while the calling thread's shard is dispatching a message (inside an
 * actor turn). */
bool bs_in_turn(const bs_engine *e);

#ifdef __cplusplus
} /* extern "C" */

/* C++ has no _Generic: bs_engine_of, and so bs_get_actor and
 * bs_get_stream, resolve by overloading. */
inline bs_engine *bs__engine_of(bs_engine *e) { return e; }
inline bs_engine *bs__engine_of(const bs_context *ctx) {
  return bs_context_engine(ctx);
}
#define bs_engine_of(x) bs__engine_of(x)
#endif
#endif
