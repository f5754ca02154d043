/* The cross-shard inbox: Dmitry Vyukov's intrusive MPSC queue with a stub
 * node (the design of Pony's messageq.c), plus a sleep bit.
 *
 * `head` is the last node pushed; producers swing it with one exchange and
 * then link the previous node to theirs. The consumer walks from `tail`.
 * Between a producer's exchange and its link the chain is briefly broken;
 * the consumer then sees fewer nodes than were pushed and tries again later
 * (bs__inbox_pop returns NULL, bs__inbox_busy true), it never blocks. */
#include "internal.h"

#define ASLEEP ((uintptr_t)1)

static inline bs__msg *untag(bs__msg *m) { return (bs__msg *)((uintptr_t)m & ~ASLEEP); }

/* A new queue starts asleep: its consumer has not looked at it yet, so the
 * first push must wake it. */
void bs__inbox_init(bs__inbox *q, bs__msg *stub) {
  stub->next = NULL;
  q->stub = stub;
  q->head = (bs__msg *)((uintptr_t)stub | ASLEEP);
  q->tail = stub;
}

bool bs__inbox_push(bs__inbox *q, bs__msg *first, bs__msg *last) {
  /* Private until the exchange publishes it: a plain store. */
  last->next = NULL;
  /* acq_rel: release publishes the chain's contents with the node; acquire
   * orders our link below after the previous producer's exchange. */
  bs__msg *prev = BS__XCHG(&q->head, last, ACQ_REL);
  bool asleep = ((uintptr_t)prev & ASLEEP) != 0;
  /* release: the consumer's acquire load of prev->next sees the chain. */
  BS__STORE(&untag(prev)->next, first, RELEASE);
  return asleep;
}

bs__msg *bs__inbox_pop(bs__inbox *q) {
  bs__msg *tail = q->tail;
  bs__msg *next = BS__LOAD(&tail->next, ACQUIRE);
  if (tail == q->stub) {
    if (!next) return NULL;
    q->tail = next;
    tail = next;
    next = BS__LOAD(&next->next, ACQUIRE);
  }
  if (next) {
    q->tail = next;
    return tail;
  }
  /* `tail` is the last linked node. If it is not the head, a producer is
   * between its exchange and its link: come back later. */
  if (tail != untag(BS__LOAD(&q->head, ACQUIRE))) return NULL;
  /* Put the stub behind it, so taking `tail` cannot empty the chain under a
   * producer that is about to link to it. */
  bs__inbox_push(q, q->stub, q->stub);
  next = BS__LOAD(&tail->next, ACQUIRE);
  if (next) {
    q->tail = next;
    return tail;
  }
  return NULL;
}

bool bs__inbox_busy(const bs__inbox *q) {
  bs__msg *tail = q->tail;
  return tail != q->stub || BS__LOAD(&tail->next, ACQUIRE) != NULL;
}

bool bs__inbox_sleep(bs__inbox *q) {
  if (q->tail != q->stub || BS__LOAD(&q->stub->next, ACQUIRE)) return false;
  bs__msg *asleep = (bs__msg *)((uintptr_t)q->stub | ASLEEP);
  bs__msg *expect = q->stub;
  /* Fails when a producer has exchanged head since (then there is mail),
   * or when the bit is still set from an earlier sleep with no push since. */
  if (BS__CAS(&q->head, &expect, asleep, ACQ_REL)) return true;
  return expect == asleep;
}
