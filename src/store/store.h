/* Persistent actor state, inside the engine (docs/persistence.md).
 *
 *   shard (its own thread)                        storage thread (worker.c)
 *   ----------------------                        -------------------------
 *   activation: LOAD job, cell parked  ---jobs--> loads, then one transaction
 *   turn end, state dirty: SAVE job              of every SAVE/REMOVE queued
 *   replies held while a write is due             (group commit)
 *   completion: init / release replies <--inbox-- each job back to its shard
 *
 * A job is a pooled message of the shard that made it (kind BS__MSG_STORE):
 * the actor's id, then the encoded state. The worker answers with the same
 * block, pushed into the shard's inbox, so completing a job never
 * allocates; a loaded record comes in a block of the engine's shared heap.
 * Cells are pinned (not collected) while a job of theirs is out, so the
 * completion may name its cell by pointer.
 *
 * Per cell, at most one write is out at a time, so writes of one actor
 * commit in order and each carries the version the previous one produced
 * (optimistic concurrency: a stale instance's write is refused). Changes
 * made while a write is out are written after it, coalesced. */
#ifndef BACKSTAGE_STORE_INTERNAL_H
#define BACKSTAGE_STORE_INTERNAL_H

#include "internal.h"

struct bs_store {
  const bs_store_ops *ops;
  void *impl;
  uint32_t attached; /* atomic: an engine uses it */
};

/* Job operations (bs__msg.ctrl of a BS__MSG_STORE). */
enum { BS__STORE_LOAD = 1, BS__STORE_SAVE, BS__STORE_REMOVE };

/* A loaded record travels back in a block of the engine's heap. */
typedef struct bs__loaded {
  size_t len;
  uint8_t data[];
} bs__loaded;

/* ---- The storage thread (worker.c) --------------------------------------- */

typedef struct bs__storage {
  bs_engine *engine;
  bs_store *store;
  bool owned;          /* opened from opts.store_path: closed with the engine */
  bool inline_run;     /* test mode: batches run on the home thread at flush */
  bool started;        /* the thread runs */
  uv_thread_t thread;
  uv_sem_t wake;       /* the worker sleeps on it when its inbox is empty */
  bs__inbox inbox;     /* jobs from the shards */
  bs__chain *out;      /* [nshards] completions of the batch being answered */
  uint32_t quit;       /* atomic: exit once the inbox is empty */
  /* Jobs made and not yet completed on their shard (atomic). */
  uint64_t pending;
  /* Figures, written by the worker (relaxed atomics). */
  uint64_t commits, commit_ns, commit_max_ns;
} bs__storage;

int bs__storage_new(bs_engine *e);
/* Waits until every job made so far has completed on its shard (the home
 * thread runs the non-threaded shards' completions itself), then stops the
 * worker. bs_engine_free, after every shard deinitialised its actors. */
void bs__storage_drain(bs_engine *e);
void bs__storage_free(bs_engine *e);
/* Hands the jobs `first..last` (linked by next) to the worker. */
void bs__storage_submit(bs__shard *s, bs__msg *first, bs__msg *last);

/* ---- Per persistent cell (persist.c) ------------------------------------- */

enum {
  BS__P_DIRTY = 1u << 0,     /* persisted since the last write was encoded */
  BS__P_FORGET = 1u << 1,    /* remove the record at the turn's end */
  BS__P_LOADING = 1u << 2,   /* a LOAD is out */
  BS__P_WRITING = 1u << 3,   /* a SAVE or REMOVE is out */
  BS__P_WANT_LOAD = 1u << 4, /* activation waits for the write to finish */
  BS__P_FOUND = 1u << 5,     /* this activation found a record */
  BS__P_CLOSING = 1u << 6    /* deinit runs: persist and forget are ignored */
};

typedef struct bs__pcell {
  uint64_t version;     /* stored version loaded or last committed; 0: none */
  uint64_t saved_at;    /* engine ms of the last commit; 0: never */
  uint32_t seq;         /* writes encoded so far */
  uint32_t errors;      /* failed loads and writes */
  int32_t last_error;   /* the last one's code */
  uint8_t flags;        /* BS__P_* */
  bs__msg *queued;      /* a write encoded while another was out */
  bs__mailbox held;     /* answers waiting for a write (VALUE messages:
                           `deadline` = the write's seq, `reply_shard` =
                           where they go) */
} bs__pcell;

#endif
