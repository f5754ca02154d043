/* Messages: the envelope, pooled blocks, mailboxes and the cross-shard
 * inbox.
 *
 * A message is one pooled block: a header (the envelope) followed by its
 * data. The envelope names where the message goes by key - target type,
 * target id, id hash - never by a pointer into another shard, so the same
 * block can cross to another thread unchanged (and its fields are what a
 * node-to-node transport serializes). Only on the target's own shard is the
 * key resolved to a cell (`target`).
 *
 * Ownership at the shard boundary: a block belongs to the pool of the shard
 * that took it (`home`). Whoever finishes with it gives it back to that
 * pool: directly when it is the home shard, otherwise through the home
 * pool's remote-free stack (bs__pool_remote_*), batched. Free lists are
 * never shared between threads. */
#ifndef BACKSTAGE_MSG_H
#define BACKSTAGE_MSG_H

#include "base/base.h"

typedef enum bs__msg_kind {
  BS__MSG_CALL,   /* [method_id, args...]; a request when req_id != 0 */
  BS__MSG_STOP,   /* poison pill, empty body */
  BS__MSG_ELEM,   /* stream element for one subscriber; body in `shared` */
  BS__MSG_REPLY,  /* a request block (bs__request) queued to its caller */
  BS__MSG_VALUE,  /* a request's outcome on its way to the caller's shard:
                     req_id, status, body = the encoded value */
  BS__MSG_FANOUT, /* a stream element for each subscriber on the
                     receiving shard: ptr = stream, req_id = publish seq */
  BS__MSG_CTRL,   /* shard control (bs__ctrl_op in `ctrl`) */
  BS__MSG_STORE,  /* a persistent actor's load or write, to the storage
                     thread and back (store/store.h) */
  BS__MSG_NODE    /* from the cluster's threads (src/cluster): a batch of
                     envelopes from another node, or work for the shard;
                     allocated from the engine's heap, not a pool */
} bs__msg_kind;

typedef struct bs__msg bs__msg;

struct bs__msg {
  bs__msg *next;              /* mailbox, inbox or free-list link */
  uint8_t *body;              /* encoded body: data + klen, or a shared body */
  uint32_t len;               /* body length */
  uint32_t cap;               /* capacity of data[] */
  uint8_t kind;               /* bs__msg_kind */
  uint8_t klass;              /* pool size class, BS__CLASS_HUGE if none */
  uint8_t klen;               /* routed: target id length, id at data[0..) */
  uint8_t ctrl;               /* CTRL: operation */
  uint16_t home;              /* shard whose pool the block returns to */
  uint16_t reply_shard;       /* CALL request: the caller's shard */
  uint32_t refs;              /* shared stream bodies (atomic), request
                                 blocks (caller's shard only): holders */
  int32_t status;             /* VALUE, REPLY: the request's outcome */
  uint32_t thash;             /* target id hash */
  /* Cluster (src/cluster): set on mail that crossed nodes, zero otherwise. */
  uint32_t epoch;             /* partition epoch the sender routed by */
  uint16_t rnode;             /* the node it came from (directory index):
                                 where a request's answer or a "moved"
                                 goes; VALUE: the node to answer to */
  uint8_t hops;               /* times it was answered "moved" */
  uint8_t rflags;             /* BS__RF_* */
  struct bs_cell *target;     /* the receiving cell, once on its shard */
  const bs_actor_type *ttype; /* target type */
  const bs_method *method;    /* CALL: the sender's method (a lookup hint);
                                 ELEM: the subscriber's method */
  bs__msg *shared;            /* ELEM, FANOUT: block holding the body;
                                 REPLY: the VALUE message, if any */
  uint64_t req_id;            /* CALL: request wanting the answer (0: none);
                                 VALUE: the request it answers;
                                 FANOUT: publish sequence */
  uint64_t deadline;          /* CALL request: caller's deadline (engine
                                 ms, 0: none); carried for transports */
  void *ptr;                  /* FANOUT: the stream; CTRL: operand;
                                 NODE: the batch; parked mail: since when
                                 (engine ms, cast) */
  bs__msg *blobs;             /* blob references the body holds (blob.c),
                                 or NULL */
  alignas(16) uint8_t data[];
};

/* rflags */
enum {
  BS__RF_DEADLINE = 1u << 0 /* a remote request: skipped once `deadline`
                               has passed (its caller gave up) */
};

/* ---- Blob references (blob.c) ---------------------------------------------
 * A body that holds blobs writes each as a tag and an index into its
 * message's `blobs`: a pooled block whose data is the array of references
 * (`len` of them), each one counted in its blob. Giving a block back
 * releases them (bs__give_back), so a message that ends any way at all -
 * delivered, dead-lettered, rejected, dropped, unsent - lets its blobs go,
 * on whatever shard it ends. A stream element's references belong to the
 * shared body block. */

/* What a reader of a message body resolves blob references with. */
typedef struct bs__refs bs__refs;
struct bs__refs {
  const struct bs_blob *const *items;
  size_t n;
  bs_allocator alloc;  /* for blobs decoded from byte strings */
  struct bs__heap *heap; /* counts a failure of `alloc` (the shard's), or NULL */
};

#define BS__BLOB_TAG 0xb10bu /* CBOR tag of a reference: tag(index) */

/* ---- Pool (pool.c) -------------------------------------------------------- */

#define BS__NCLASSES 12 /* data capacities 64 B .. 128 KiB */
#define BS__CLASS_MIN 64u
#define BS__CLASS_HUGE 0xff

typedef struct bs__pool {
  bs__msg *free[BS__NCLASSES];
  uint32_t nfree[BS__NCLASSES];
  uint32_t keep[BS__NCLASSES]; /* most blocks cached per class */
  uint16_t home;               /* this pool's shard */
  bs__heap *heap;
  /* Blocks given back by other shards: a stack they push whole chains
   * onto; the owner takes everything at once (no ABA: nobody pops one). */
  bs__msg *remote_free;
} bs__pool;

void bs__pool_init(bs__pool *p, bs__heap *h, uint16_t home);
void bs__pool_free(bs__pool *p);
/* The pool's slow paths: a larger class, remote frees, or a fresh block; a
 * block beyond the class's cache. */
bs__msg *bs__msg_get_slow(bs__pool *p, size_t cap);
void bs__msg_free(bs__pool *p, bs__msg *m);
/* Takes the blocks other shards gave back into the free lists. */
void bs__pool_reclaim(bs__pool *p);
/* Gives the chain first..last (linked by next) back to `home`. */
void bs__pool_remote_put(bs__pool *home, bs__msg *first, bs__msg *last);

/* A block fresh from a pool is a plain body (kind CALL until its user says
 * otherwise): a kind left from its previous use (ELEM, FANOUT) would send
 * bs__msg_has_blobs and bs__msg_flatten looking for its blob references in
 * `shared` - a published stream body left for another node unflattened. */
static inline void bs__msg_clear(bs__msg *m) {
  m->next = NULL;
  m->kind = BS__MSG_CALL;
  m->body = m->data;
  m->len = 0;
  m->klen = 0;
  m->refs = 0;
  m->status = 0;
  m->target = NULL;
  m->method = NULL;
  m->shared = NULL;
  m->req_id = 0;
  m->deadline = 0;
  m->blobs = NULL;
  m->ptr = NULL;
  m->epoch = 0;
  m->rnode = 0;
  m->hops = 0;
  m->rflags = 0;
}

/* Copies the envelope (not the data, nor the blob references) of `src` to
 * `dst`. */
static inline void bs__msg_copy_env(bs__msg *dst, const bs__msg *src) {
  dst->kind = src->kind;
  dst->klen = src->klen;
  dst->ctrl = src->ctrl;
  dst->reply_shard = src->reply_shard;
  dst->status = src->status;
  dst->thash = src->thash;
  dst->target = src->target;
  dst->ttype = src->ttype;
  dst->method = src->method;
  dst->shared = src->shared;
  dst->req_id = src->req_id;
  dst->deadline = src->deadline;
  dst->ptr = src->ptr;
  dst->epoch = src->epoch;
  dst->rnode = src->rnode;
  dst->hops = src->hops;
  dst->rflags = src->rflags;
}

/* A block with at least `cap` bytes of data. Inline for the common case: a
 * small message from the first class's free list. */
static inline bs__msg *bs__msg_get(bs__pool *p, size_t cap) {
  bs__msg *m = p->free[0];
  if (BS__UNLIKELY(cap > BS__CLASS_MIN || !m)) return bs__msg_get_slow(p, cap);
  BS__UNPOISON(m->data, m->cap);
  p->free[0] = m->next;
  p->nfree[0]--;
  bs__msg_clear(m);
  return m;
}

/* Back into `p`, which must be the block's home pool. Free blocks' data is
 * poisoned under ASan, so a message used after its release is reported. */
static inline void bs__msg_put(bs__pool *p, bs__msg *m) {
  unsigned k = m->klass;
  if (BS__LIKELY(k < BS__NCLASSES && p->nfree[k] < p->keep[k])) {
    BS__POISON(m->data, m->cap);
    m->next = p->free[k];
    p->free[k] = m;
    p->nfree[k]++;
    return;
  }
  bs__msg_free(p, m);
}

/* ---- Mailbox: a FIFO of messages, intrusive through next ------------------ */

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

/* Puts `m` back at the head (a message that could not be handled yet). */
static inline void bs__mb_unshift(bs__mailbox *mb, bs__msg *m) {
  m->next = mb->head;
  mb->head = m;
  if (!mb->tail) mb->tail = m;
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

/* ---- Inbox: many producers, one consumer (inbox.c) -------------------------
 * Vyukov's intrusive MPSC queue with a stub node, as in Pony's messageq: a
 * push is one atomic exchange on `head`. The low bit of `head` says the
 * consumer went to sleep on an empty queue: the push that finds it set is
 * the one that must wake the consumer, so wake-ups cost a syscall only on an
 * empty -> non-empty transition. */
typedef struct bs__inbox {
  /* Padding keeps the producers' line apart from the consumer's and from
   * the neighbours' (plain padding: the allocator's blocks are only 16-byte
   * aligned, so alignas(64) would be a promise it cannot keep). */
  char pad0_[64];
  bs__msg *head; /* producers; tagged with 1 while asleep */
  char pad1_[64 - sizeof(bs__msg *)];
  bs__msg *tail; /* consumer only */
  bs__msg *stub;
  char pad2_[64 - 2 * sizeof(bs__msg *)];
} bs__inbox;

void bs__inbox_init(bs__inbox *q, bs__msg *stub);
/* Links first..last (a chain through next); returns true when the consumer
 * was asleep and must be woken. */
bool bs__inbox_push(bs__inbox *q, bs__msg *first, bs__msg *last);
/* The oldest message, or NULL when the queue is empty or a producer is
 * half-way through a push (it will be there on the next call). */
bs__msg *bs__inbox_pop(bs__inbox *q);
/* Whether anything is queued or being queued (consumer only). */
bool bs__inbox_busy(const bs__inbox *q);
/* Marks the queue asleep if it is empty; false if something arrived. */
bool bs__inbox_sleep(bs__inbox *q);

#endif
