/* Requests on the caller's shard: their table, deadlines, completion and
 * the continuation; plus writers over pooled messages.
 *
 * The callee never touches the caller's memory. A CALL carries the request
 * id and the caller's shard; the callee answers with a VALUE message (the
 * encoded return value, or just an error status) routed back to that shard,
 * where the id is looked up. An answer whose request is gone - it timed
 * out, or an await gave up - finds a free slot or a newer generation, and
 * is an orphan. */
#include "internal.h"

/* ---- Writers over pooled messages --------------------------------------- */

/* Moves the message being written (and its routing key, if any) into a
 * larger pooled block. */
int bs__writer_grow(bs_writer *w, size_t need) {
  bs__shard *s = w->owner2;
  bs__msg *old = w->owner;
  size_t off = (size_t)(old->body - old->data);
  if (need > (size_t)UINT32_MAX - w->len - off) return BS_ETOOBIG;
  size_t want = off + w->len + need;
  if (want < (size_t)old->cap * 2) want = (size_t)old->cap * 2;
  bs__msg *m = bs__msg_get(&s->pool, want);
  if (!m) return BS_ENOMEM;
  memcpy(m->data, old->data, off + w->len);
  bs__msg_copy_env(m, old);
  m->blobs = old->blobs; /* moved with the body */
  old->blobs = NULL;
  m->body = m->data + off;
  bs__give_back(s, old);
  w->owner = m;
  w->buf = m->body;
  w->cap = m->cap - off;
  return 0;
}

/* ---- The request table ---------------------------------------------------- */

static int slot_new(bs__shard *s, bs__msg *r, uint64_t *id) {
  bs__reqtab *t = &s->reqs;
  if (!t->free_head) {
    uint32_t ncap = t->cap ? t->cap * 2 : 64;
    if (ncap > UINT32_MAX / 2) return BS_ENOMEM;
    bs__reqslot *n = bs__realloc(&s->heap, t->slots, t->cap * sizeof *n, ncap * sizeof *n);
    if (!n) return BS_ENOMEM;
    for (uint32_t i = t->cap; i < ncap; i++) {
      n[i].req = NULL;
      n[i].gen = 1;
      n[i].next_free = i + 1 < ncap ? i + 2 : 0;
    }
    t->free_head = t->cap + 1;
    t->slots = n;
    t->cap = ncap;
  }
  uint32_t idx = t->free_head - 1;
  bs__reqslot *sl = &t->slots[idx];
  t->free_head = sl->next_free;
  sl->req = r;
  *id = (uint64_t)sl->gen << 32 | (idx + 1);
  return 0;
}

static bs__msg *slot_find(bs__shard *s, uint64_t id) {
  uint32_t idx = (uint32_t)id;
  if (idx == 0 || idx > s->reqs.cap) return NULL;
  bs__reqslot *sl = &s->reqs.slots[idx - 1];
  return sl->req && sl->gen == (uint32_t)(id >> 32) ? sl->req : NULL;
}

static void slot_free(bs__shard *s, uint64_t id) {
  uint32_t idx = (uint32_t)id;
  bs__reqslot *sl = &s->reqs.slots[idx - 1];
  sl->req = NULL;
  if (++sl->gen == 0) sl->gen = 1;
  sl->next_free = s->reqs.free_head;
  s->reqs.free_head = idx;
}

/* ---- Deadlines --------------------------------------------------------------- */

/* Sorted insert from the tail: with one timeout for every request, new
 * deadlines are the latest, so this is O(1). */
static void add_deadline(bs__shard *s, bs__msg *r, uint64_t timeout_ms) {
  bs__request *q = bs__req(r);
  if (!s->engine->opts.virtual_time) uv_update_time(s->loop);
  uint64_t due = bs__add_ms(bs__now(s), timeout_ms);
  if (due == UINT64_MAX) return; /* past the clock's end: no deadline */
  q->deadline = due;
  bs__msg *after = s->dl_tail;
  while (after && bs__req(after)->deadline > q->deadline)
    after = bs__req(after)->dl_prev;
  q->dl_prev = after;
  q->dl_next = after ? bs__req(after)->dl_next : s->dl_head;
  if (q->dl_next) bs__req(q->dl_next)->dl_prev = r; else s->dl_tail = r;
  if (after) bs__req(after)->dl_next = r; else s->dl_head = r;
  if (s->dl_head == r) bs__clock_arm(s);
}

/* Unlinks without re-arming: a timer firing early for a request that has
 * since completed just re-arms for the new head. */
static void remove_deadline(bs__shard *s, bs__msg *r) {
  bs__request *q = bs__req(r);
  if (!q->deadline) return;
  if (q->dl_prev) bs__req(q->dl_prev)->dl_next = q->dl_next; else s->dl_head = q->dl_next;
  if (q->dl_next) bs__req(q->dl_next)->dl_prev = q->dl_prev; else s->dl_tail = q->dl_prev;
  q->dl_prev = q->dl_next = NULL;
  q->deadline = 0;
  if (!s->dl_head) bs__clock_arm(s);
}

/* ---- Lifecycle of a request --------------------------------------------------- */

int bs__request_new(bs__shard *s, bs_reply_fn thunk, bs_fnptr fn, void *ud,
                    uint8_t refs, uint64_t timeout_ms, bs__msg **out) {
  bs__msg *r = bs__msg_get(&s->pool, sizeof(bs__request));
  if (!r) return BS_ENOMEM;
  r->kind = BS__MSG_REPLY;
  r->refs = refs;
  bs__request *q = bs__req(r);
  memset(q, 0, sizeof *q);
  if (slot_new(s, r, &q->id) < 0) {
    bs__give_back(s, r);
    return BS_ENOMEM;
  }
  q->caller = s->current ? s->current : s->external;
  q->caller_epoch = q->caller->epoch;
  q->caller->nreq++;
  q->thunk = thunk;
  q->fn = fn;
  q->ud = ud;
  q->state = BS__REQ_PENDING;
  BS__STAT(s, requests_pending);
  if (timeout_ms) add_deadline(s, r, timeout_ms);
  *out = r;
  return 0;
}

void bs__request_unref(bs__shard *s, bs__msg *r) {
  if (--r->refs > 0) return;
  if (r->shared) bs__give_back(s, r->shared);
  bs__give_back(s, r);
}

/* The caller's side is finished with `r`: unpins the caller. */
static void finish(bs__shard *s, bs__msg *r) {
  bs__request *q = bs__req(r);
  q->state = BS__REQ_DONE;
  if (q->caller) {
    q->caller->nreq--;
    q->caller = NULL;
  }
}

/* Completes a pending request once (the caller then gets it on its turn);
 * while the engine is being freed nothing is queued and no continuation
 * will run. Consumes `value`. */
void bs__request_complete(bs__shard *s, bs__msg *r, int status, bs__msg *value) {
  bs__request *q = bs__req(r);
  remove_deadline(s, r);
  slot_free(s, q->id);
  BS__STAT_DEC(s, requests_pending);
  if (bs__freeing(s->engine)) {
    if (value) bs__give_back(s, value);
    finish(s, r);
    bs__request_unref(s, r); /* the caller's side: nothing will arrive */
    return;
  }
  q->state = BS__REQ_COMPLETED;
  r->status = status;
  r->shared = value;
  bs__enqueue(s, q->caller, r);
}

void bs__answer(bs__shard *s, uint32_t to, bs__msg *v) {
  if (BS__UNLIKELY(bs__freeing(s->engine))) {
    bs__give_back(s, v);
    return;
  }
#ifdef BS_WITH_CLUSTER
  if (BS__UNLIKELY(v->rnode)) { /* the caller is on another node */
    bs__cl_answer(s, v);
    return;
  }
#endif
  if (to == s->index) bs__answer_arrived(s, v);
  else bs__push(s, to, v);
}

void bs__answer_arrived(bs__shard *s, bs__msg *v) {
  bs__msg *r = v->req_id ? slot_find(s, v->req_id) : NULL;
  if (!r || bs__freeing(s->engine)) {
    /* Its request is gone (timed out, or its await gave up). A value that
     * arrives too late is a dead letter of its own; an error answer was
     * already counted where it arose. */
    if (r == NULL && v->status == 0 && !bs__freeing(s->engine)) {
      BS__STAT(s, sent);
      bs__report(s, NULL, "(expired request)", v, BS_DL_ORPHAN_REPLY, BS_ETIMEDOUT);
    }
    bs__give_back(s, v);
    return;
  }
  if (v->status != 0) {
    int status = v->status;
    bs__give_back(s, v);
    bs__request_complete(s, r, status, NULL);
    return;
  }
  bs__request_complete(s, r, 0, v);
}

/* Runs the continuation on the caller's turn (the drain has made the caller
 * current), or dead-letters the completion if the caller instance that
 * asked is gone. */
void bs__deliver_reply(bs__shard *s, bs_cell *c, bs__msg *r) {
  bs__request *q = bs__req(r);
  bool alive = (c->flags & BS__CELL_EXTERNAL) || (c->state && c->epoch == q->caller_epoch);
  if (!alive) {
    bs__dead_letter(s, c, r, BS_DL_ORPHAN_REPLY, BS_ESTOPPED);
    return;
  }
  bs_reader rd;
  bs_reader *value = NULL;
  bs__refs refs;
  if (r->status == 0 && r->shared) {
    bs_reader_init(&rd, r->shared->body, r->shared->len, &s->arena);
    rd.refs = bs__refs_of(s, r->shared, &refs);
    value = &rd;
  }
  q->result = q->thunk(r->status, value, q->fn, q->ud);
  if (s->arena.used) bs_arena_reset(&s->arena); /* usually nothing taken */
  finish(s, r);
  BS__STAT(s, delivered);
  bs__request_unref(s, r);
}

/* An await that gives up ends its request: later answers find it gone (a
 * value is then an orphan) and its thunk, whose `out` may be gone, never
 * runs. Drops the caller's side, since no completion will be queued. */
void bs__request_abandon(bs__shard *s, bs__msg *r) {
  bs__request *q = bs__req(r);
  if (q->state != BS__REQ_PENDING) return;
  remove_deadline(s, r);
  slot_free(s, q->id);
  BS__STAT_DEC(s, requests_pending);
  finish(s, r);
  bs__request_unref(s, r);
}

void bs__request_set_node(bs__shard *s, uint64_t id, uint16_t node) {
  bs__msg *r = slot_find(s, id);
  if (r) bs__req(r)->node = node;
}

/* A node is gone: what waits on it will never come. The table is walked
 * (a rare event); completing a request frees its slot, never moves one. */
void bs__requests_fail_node(bs__shard *s, uint16_t node, int status) {
  bs__reqtab *t = &s->reqs;
  for (uint32_t i = 0; i < t->cap; i++) {
    bs__msg *r = t->slots[i].req;
    if (r && bs__req(r)->state == BS__REQ_PENDING && bs__req(r)->node == node)
      bs__request_complete(s, r, status, NULL);
  }
}

void bs__deadlines_fire(bs__shard *s, uint64_t now) {
  while (s->dl_head && bs__req(s->dl_head)->deadline <= now)
    bs__request_complete(s, s->dl_head, BS_ETIMEDOUT, NULL);
}

/* Engine freed: requests still pending are dropped with their blocks. */
void bs__requests_free(bs__shard *s) {
  bs__reqtab *t = &s->reqs;
  for (uint32_t i = 0; i < t->cap; i++) {
    bs__msg *r = t->slots[i].req;
    if (!r) continue;
    t->slots[i].req = NULL;
    bs__request *q = bs__req(r);
    q->deadline = 0;
    finish(s, r);
    if (r->shared) bs__give_back(s, r->shared);
    bs__give_back(s, r);
  }
  s->dl_head = s->dl_tail = NULL;
  bs__free(&s->heap, t->slots, t->cap * sizeof *t->slots);
  memset(t, 0, sizeof *t);
}
