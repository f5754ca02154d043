/* Sending, requests, replies and their deadlines.
 *
 * A request's bookkeeping (bs__request) lives in a REPLY-kind pooled block
 * taken when the request is made. Completion - with a value, an error, or a
 * timeout - queues that very block to the caller, so a caller is never left
 * waiting for want of memory at completion time. */
#include "internal.h"

/* ---- Writers over pooled messages --------------------------------------- */

/* Moves the message being written into a larger pooled block. */
int bs__writer_grow(bs_writer *w, size_t need) {
  bs_engine *e = w->owner2;
  bs__msg *old = w->owner;
  if (need > (size_t)UINT32_MAX - w->len) return BS_ETOOBIG;
  size_t want = w->len + need;
  if (want < (size_t)w->cap * 2) want = (size_t)w->cap * 2;
  bs__msg *m = bs__msg_get(&e->pool, &e->heap, want);
  if (!m) return BS_ENOMEM;
  memcpy(m->data, w->buf, w->len);
  m->kind = old->kind;
  m->target = old->target;
  m->method = old->method;
  m->req = old->req;
  bs__msg_put(&e->pool, &e->heap, old);
  w->owner = m;
  w->buf = m->data;
  w->cap = m->cap;
  return 0;
}

/* ---- One-way messages --------------------------------------------------- */

void bs__mailbox_put(bs_engine *e, bs_cell *c, bs__msg *m) {
  if (BS__UNLIKELY(c->flags & BS__CELL_PROBED)) {
    bs__probe_capture(e, c, m);
    return;
  }
  bs__mb_push(&c->mb, m);
  bs__schedule(e, c);
}

void bs__enqueue(bs_engine *e, bs_cell *c, bs__msg *m) {
  e->stats.sent++;
  BS__INSP(c->insp.received++);
  bs__mailbox_put(e, c, m);
}

/* A writer holding no message and `err`: writes do nothing, *_end
 * returns err. */
static int failed(bs_writer *w, int err) {
  memset(w, 0, sizeof *w);
  return w->err = err;
}

int bs_send_begin(bs_ref to, const bs_method *m, bs_writer *w) {
  if (!w) return BS_EINVAL;
  bs_engine *e = to.engine;
  if (BS__UNLIKELY(!e || !to.cell || !m || !to.cell->type)) return failed(w, BS_EINVAL);
  if (BS__UNLIKELY(e->freeing)) return failed(w, BS_ECANCELED);
  bs__msg *msg = bs__msg_get(&e->pool, &e->heap, 0);
  if (BS__UNLIKELY(!msg)) return failed(w, BS_ENOMEM);
  msg->kind = BS__MSG_CALL;
  msg->target = to.cell;
  msg->method = m;
  bs__writer_bind(e, w, msg);
  bs_write_array(w, 1u + (uint64_t)m->argc);
  return bs_write_uint(w, m->id);
}

/* Takes the message out of the writer; on a writer error releases it. */
static bs__msg *take(bs_writer *w, int *rc) {
  bs__msg *m = w ? w->owner : NULL;
  *rc = !w ? BS_EINVAL : w->err ? w->err : m ? 0 : BS_EINVAL;
  if (!m) return NULL;
  bs_engine *e = w->owner2;
  if (*rc < 0) {
    bs__msg_put(&e->pool, &e->heap, bs__writer_unbind(w));
    return NULL;
  }
  return bs__writer_finish(w);
}

/* A message for a full mailbox: rejected (BS_EFULL, released, never
 * counted as sent) or, by policy, a dead letter (counted; returns 0). */
static int overflow(bs_engine *e, bs__msg *m) {
  if (e->opts.mailbox_full == BS_FULL_REJECT) {
    e->stats.rejected++;
    bs__msg_put(&e->pool, &e->heap, m);
    return BS_EFULL;
  }
  e->stats.sent++;
  bs__dead_letter(e, m->target, m, BS_DL_MAILBOX_FULL, BS_EFULL);
  return 0;
}

int bs_send_end(bs_writer *w) {
  int rc;
  bs__msg *m = take(w, &rc);
  if (!m) return rc;
  bs_engine *e = w->owner2;
  if (BS__UNLIKELY(bs__full(e, m->target))) return overflow(e, m);
  bs__enqueue(e, m->target, m);
  return 0;
}

/* ---- Deadlines ----------------------------------------------------------- */

/* Sorted insert from the tail: with one timeout for every request, new
 * deadlines are the latest, so this is O(1). */
static void add_deadline(bs_engine *e, bs__msg *r, uint64_t timeout_ms) {
  bs__request *q = bs__req(r);
  if (!e->opts.virtual_time) uv_update_time(e->loop);
  q->deadline = bs__now(e) + timeout_ms;
  bs__msg *after = e->dl_tail;
  while (after && bs__req(after)->deadline > q->deadline)
    after = bs__req(after)->dl_prev;
  q->dl_prev = after;
  q->dl_next = after ? bs__req(after)->dl_next : e->dl_head;
  if (q->dl_next) bs__req(q->dl_next)->dl_prev = r; else e->dl_tail = r;
  if (after) bs__req(after)->dl_next = r; else e->dl_head = r;
  if (e->dl_head == r) bs__clock_arm(e);
}

/* Unlinks without re-arming: a timer firing early for a request that has
 * since completed just re-arms for the new head. */
static void remove_deadline(bs_engine *e, bs__msg *r) {
  bs__request *q = bs__req(r);
  if (!q->deadline) return;
  if (q->dl_prev) bs__req(q->dl_prev)->dl_next = q->dl_next; else e->dl_head = q->dl_next;
  if (q->dl_next) bs__req(q->dl_next)->dl_prev = q->dl_prev; else e->dl_tail = q->dl_prev;
  q->dl_prev = q->dl_next = NULL;
  q->deadline = 0;
  if (!e->dl_head && !e->ntimers) bs__clock_arm(e);
}

/* ---- Requests ----------------------------------------------------------- */

void bs__request_unref(bs_engine *e, bs__msg *r) {
  if (--r->refs > 0) return;
  if (r->req) bs__msg_put(&e->pool, &e->heap, r->req);
  bs__msg_put(&e->pool, &e->heap, r);
}

/* Completes a pending request once; later completions (a reply after a
 * timeout) are orphans. While the engine is being freed nothing is queued
 * and no continuation will run. */
void bs__request_complete(bs_engine *e, bs__msg *r, int status, bs__msg *value) {
  bs__request *q = bs__req(r);
  bs_cell *to = q->caller ? q->caller : e->external;
  if (q->state != BS__REQ_PENDING) {
    if (value) {
      e->stats.sent++;
      bs__report(e, to, r, BS_DL_ORPHAN_REPLY, BS_ETIMEDOUT);
      bs__msg_put(&e->pool, &e->heap, value);
    }
    return;
  }
  remove_deadline(e, r);
  e->stats.requests_pending--;
  if (e->freeing) {
    if (value) bs__msg_put(&e->pool, &e->heap, value);
    q->state = BS__REQ_DONE;
    bs__request_unref(e, r); /* the caller's side: nothing will arrive */
    return;
  }
  q->state = BS__REQ_COMPLETED;
  r->status = status;
  r->req = value;
  bs__enqueue(e, to, r);
}

/* Runs the continuation on the caller's turn (the drain has made the caller
 * current), or dead-letters the completion if the caller instance that
 * asked is gone. */
void bs__deliver_reply(bs_engine *e, bs_cell *c, bs__msg *r) {
  bs__request *q = bs__req(r);
  bool alive = c == e->external || (c->state && c->epoch == q->caller_epoch);
  if (!alive) {
    bs__dead_letter(e, c, r, BS_DL_ORPHAN_REPLY, BS_ESTOPPED);
    return;
  }
  bs_reader rd;
  bs_reader *value = NULL;
  if (r->status == 0 && r->req) {
    bs_reader_init(&rd, r->req->body, r->req->len, &e->arena);
    value = &rd;
  }
  q->result = q->thunk(r->status, value, q->fn, q->ud);
  if (e->arena.used) bs_arena_reset(&e->arena); /* usually nothing taken */
  q->state = BS__REQ_DONE;
  e->stats.delivered++;
  bs__request_unref(e, r);
}

/* An await that gives up ends its request: later completions find it done
 * (a reply is then an orphan) and its thunk, whose `out` may be gone, never
 * runs. Drops the caller's side, since no completion will be queued. */
static void abandon(bs_engine *e, bs__msg *r) {
  bs__request *q = bs__req(r);
  if (q->state != BS__REQ_PENDING) return;
  remove_deadline(e, r);
  e->stats.requests_pending--;
  q->state = BS__REQ_DONE;
  bs__request_unref(e, r);
}

static bs__msg *new_request(bs_engine *e, bs_reply_fn thunk, bs_fnptr fn,
                            void *ud, uint8_t refs) {
  bs__msg *r = bs__msg_get(&e->pool, &e->heap, sizeof(bs__request));
  if (!r) return NULL;
  r->kind = BS__MSG_REPLY;
  r->refs = refs;
  bs__request *q = bs__req(r);
  memset(q, 0, sizeof *q);
  q->caller = e->current;
  q->caller_epoch = e->current ? e->current->epoch : 0;
  q->thunk = thunk;
  q->fn = fn;
  q->ud = ud;
  q->state = BS__REQ_PENDING;
  e->stats.requests_pending++;
  return r;
}

static uint64_t min_timeout(uint64_t a, uint64_t b) {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

/* Common tail of bs_request_end and bs_request_await. */
static int request(bs_writer *w, bs_reply_fn thunk, bs_fnptr fn, void *ud,
                   uint8_t refs, uint64_t timeout_ms, bs__msg **out) {
  int rc;
  bs_engine *e = w ? w->owner2 : NULL;
  if (w && w->owner && !thunk) w->err = BS_EINVAL;
  bs__msg *m = take(w, &rc);
  if (!m) return rc;
  bool full = bs__full(e, m->target);
  if (full && e->opts.mailbox_full == BS_FULL_REJECT) return overflow(e, m);
  bs__msg *r = new_request(e, thunk, fn, ud, refs);
  if (!r) {
    bs__msg_put(&e->pool, &e->heap, m);
    return BS_ENOMEM;
  }
  m->req = r;
  uint64_t t = min_timeout(timeout_ms, e->opts.request_timeout_ms);
  if (t) add_deadline(e, r, t);
  *out = r;
  if (full) return overflow(e, m); /* dead letter: completes r with BS_EFULL */
  bs__enqueue(e, m->target, m);
  return 0;
}

int bs_request_end(bs_writer *w, bs_reply_fn thunk, bs_fnptr fn, void *ud) {
  bs__msg *r;
  return request(w, thunk, fn, ud, 2, 0, &r);
}

int bs_request_await(bs_writer *w, bs_reply_fn thunk, void *out,
                     uint64_t timeout_ms) {
  bs_engine *e = w ? w->owner2 : NULL;
  if (e && (e->running || e->current) && w->owner) w->err = BS_EDEADLK;
  bs_cell *target = w && w->owner ? ((bs__msg *)w->owner)->target : NULL;
  bs__msg *r = NULL; /* set when request() succeeds; GCC -O3 cannot tell */
  int rc = request(w, thunk, NULL, out, 3, timeout_ms, &r);
  if (rc < 0) return rc;
  bs__request *q = bs__req(r);
  e->running = true;
  while (q->state != BS__REQ_DONE) {
    if (!uv_run(e->loop, UV_RUN_ONCE) && q->state != BS__REQ_DONE) break;
  }
  e->running = false;
  if (q->state == BS__REQ_DONE) {
    rc = q->result;
  } else {
    /* The loop has nothing left that could answer: the callee is a test
     * kit probe, or the deadline is on a virtual clock nobody advances. */
    rc = target && (target->flags & BS__CELL_PROBED) ? BS_ENOTFOUND : BS_EDEADLK;
    abandon(e, r);
  }
  bs__request_unref(e, r);
  return rc;
}
