/* Persistent actor state (docs/persistence.md): what a persistent actor
 * calls, and the state store behind it.
 *
 * An actor type opts in with `// @generate-proxy persistent`; the engine
 * then loads its state from the engine's store before init runs, and writes
 * it after every turn in which the actor called bs_context_persist. Writes
 * are group-committed on a storage thread of the engine's; a reply to a
 * request whose turn persisted is sent only once the write has committed.
 *
 * A store is a small provider interface (bs_store_ops: load, save with the
 * expected version, remove, and optional batch hooks) with two providers in
 * the box: the embedded SQLite store (bs_store_open, or just
 * opts.store_path) and the NATS JetStream key-value store
 * (backstage/store_nats.h, library backstage_nats).
 */
#ifndef BACKSTAGE_STORE_H
#define BACKSTAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Inside a persistent actor ----------------------------------------- */

/* Marks the state for saving: the engine writes it after this turn (and
 * holds back the replies of this turn and later ones until the write has
 * committed). From the actor's own turn only; on a type that is not
 * persistent BS_ENOTSUP. Changes made after the call, in the same turn,
 * are written too: the state is encoded when the turn ends. */
int bs_context_persist(bs_context *ctx);

/* Deletes the stored record after this turn (the instance keeps its state
 * in memory; a later bs_context_persist stores it again). The last of
 * persist and forget in a turn wins. BS_ENOTSUP on a type that is not
 * persistent. */
int bs_context_forget(bs_context *ctx);

/* Whether this activation found a stored state (loaded into the state
 * before init ran). false on a type that is not persistent. Any time
 * during the activation, from the actor's own thread. */
bool bs_context_loaded(const bs_context *ctx);

/* The stored version the instance last loaded or committed (0: none). */
uint64_t bs_context_version(const bs_context *ctx);

/* ---- Stores ---------------------------------------------------------------- */

typedef struct bs_store bs_store;

/* A record's key: the actor type's name and the actor's id (bytes, as
 * given to bs_actor_get; NUL-terminated for convenience). */
typedef struct bs_store_key {
  const char *type;
  const char *id;
  size_t id_len;
} bs_store_key;

/* A loaded record. `data` is owned by the provider and stays valid until
 * its next call. */
typedef struct bs_store_record {
  const void *data;
  size_t len;
  uint64_t version; /* > 0 */
} bs_store_record;

/* A provider. Every call is made from one thread at a time (the engine's
 * storage thread, or the caller of the bs_store_* functions below), never
 * concurrently. Return 0 or a negative BS_E* code; BS_ESTORE for a failure
 * of the store itself (unreachable, I/O), BS_ECONFLICT when the stored
 * version is not the expected one. */
typedef struct bs_store_ops {
  /* Reads the record of `key` into *rec; BS_ENOTFOUND when there is none. */
  int (*load)(void *impl, const bs_store_key *key, bs_store_record *rec);
  /* Writes `data` if the stored version is `expected` (0: no record
   * exists), and sets *version to the record's new version (> expected).
   * BS_ECONFLICT otherwise: nothing written. */
  int (*save)(void *impl, const bs_store_key *key, const void *data,
              size_t len, uint64_t expected, uint64_t *version);
  /* Deletes the record if its version is `expected`; BS_ECONFLICT if it
   * is another; 0 if there is none and `expected` is 0. */
  int (*remove)(void *impl, const bs_store_key *key, uint64_t expected);
  /* Optional (both or neither): the saves and removes between begin and
   * commit form one transaction (group commit). A save or remove inside it
   * that returns an error is not part of it; the others commit together.
   * A failing commit fails all of them (the provider rolls back). */
  int (*begin)(void *impl);
  int (*commit)(void *impl);
  /* Optional: releases the provider (bs_store_free). */
  void (*close)(void *impl);
} bs_store_ops;

/* A store over your provider. `ops` must outlive the store. BS_EINVAL
 * without load, save and remove (or with one of begin/commit only),
 * BS_ENOMEM. */
int bs_store_new(bs_store **out, const bs_store_ops *ops, void *impl);

/* Options of the embedded store (SQLite, WAL mode). */
typedef struct bs_store_sqlite_options {
  /* true (the default): every commit is synced to disk (synchronous=FULL),
   * so a committed write survives a power loss; false: synchronous=NORMAL,
   * it survives a crash of the process but the last commits may be lost
   * with the machine. */
  bool durable;
  uint32_t busy_timeout_ms; /* waiting for another process's lock (5000) */
} bs_store_sqlite_options;

void bs_store_sqlite_options_init(bs_store_sqlite_options *o);

/* The embedded store: an SQLite database file at `path`, created if
 * needed, in WAL mode. `opts` may be NULL (defaults). BS_ESTORE if it
 * cannot be opened (the reason goes to stderr), BS_ENOMEM. */
int bs_store_open(bs_store **out, const char *path,
                  const bs_store_sqlite_options *opts);

/* Closes the provider and frees the store. Not while an engine uses it. */
void bs_store_free(bs_store *s);

/* The provider's calls, synchronously on the calling thread (tools, tests,
 * a migration). Not while an engine uses the store. `type` is the actor
 * type's name. bs_store_load copies nothing: rec->data is valid until the
 * next call on the store. */
int bs_store_load(bs_store *s, const char *type, const char *id,
                  bs_store_record *rec);
int bs_store_save(bs_store *s, const char *type, const char *id,
                  const void *data, size_t len, uint64_t expected,
                  uint64_t *version);
int bs_store_remove(bs_store *s, const char *type, const char *id,
                    uint64_t expected);
/* Group commit by hand: saves and removes between these two form one
 * transaction (a no-op for providers without batch hooks). */
int bs_store_begin(bs_store *s);
int bs_store_commit(bs_store *s);

/* ---- Failures ---------------------------------------------------------- */

/* What to do with a stored record that does not decode into the state. */
typedef enum bs_corrupt_policy {
  /* The activation fails (its mail is dead-lettered with reason STORE and
   * code BS_ECORRUPT; requests complete with BS_ECORRUPT). The record is
   * left as it is, and every activation tries again. */
  BS_CORRUPT_REFUSE = 0,
  /* The record is ignored: init runs with a zeroed state and
   * bs_context_loaded false, and the next save replaces the record. */
  BS_CORRUPT_RESET
} bs_corrupt_policy;

typedef enum bs_store_op {
  BS_STORE_LOAD,
  BS_STORE_SAVE,
  BS_STORE_REMOVE
} bs_store_op;

/* A failed load, save or remove, or a record that did not decode. */
typedef struct bs_store_error {
  const char *actor_id;
  const char *type_name;
  bs_store_op op;
  int code;          /* BS_ESTORE, BS_ECONFLICT, BS_ECORRUPT, BS_ENOMEM */
  uint64_t version;  /* the version the instance held (expected) */
} bs_store_error;

/* Called on the actor's shard thread (with several shards, concurrently
 * from their threads). May send messages. */
typedef void (*bs_store_error_fn)(void *ud, const bs_store_error *err);

#ifdef __cplusplus
}
#endif
#endif
