/* Where a message goes: the public send, request and stop calls, and the
 * arrival of routed mail on its shard.
 *
 * A send is encoded into a block of the sending shard's pool. Its target is
 * named by key; the key's hash decides the shard. On the sending shard the
 * target's cell is looked up at once (and the body written right after the
 * header); for another shard, the key goes in front of the body and the
 * block is handed to that shard's inbox, where the cell is found or created
 * (bs__deliver_local). Either way each sender -> receiver pair keeps its
 * order: a shard's mail for another shard travels in one FIFO. */
#include "internal.h"

/* ---- Queuing --------------------------------------------------------------- */

void bs__mailbox_put(bs__shard *s, bs_cell *c, bs__msg *m) {
  if (BS__UNLIKELY(c->flags & BS__CELL_PROBED)) {
    bs__probe_capture(s, c, m);
    return;
  }
  bs__mb_push(&c->mb, m);
  s->queued++;
  bs__schedule(s, c);
}

void bs__enqueue(bs__shard *s, bs_cell *c, bs__msg *m) {
  BS__STAT(s, sent);
  BS__OBS_RECEIVED(s, c);
  bs__mailbox_put(s, c, m);
}

void bs__deliver_local(bs__shard *s, bs__msg *m) {
  if (BS__UNLIKELY(bs__freeing(s->engine))) {
    bs__dead_letter(s, NULL, m, BS_DL_ENGINE_FREED, BS_ECANCELED);
    return;
  }
#ifdef BS_WITH_CLUSTER
  /* A placed actor this node does not serve (any more): elsewhere. */
  if (BS__CLUSTERED(s) && !bs__cl_accept(s, m)) return;
#endif
  const char *id = bs__msg_key(m);
  bs_cell *c;
  if (m->kind == BS__MSG_STOP) {
    /* A pill creates nothing: an actor with no cell is not active. */
    c = bs__cell_find(s, m->ttype, id, m->klen, m->thash);
    if (!c || (!c->state && !c->mb.len)) {
      bs__give_back(s, m);
      return;
    }
    m->target = c;
    bs__mailbox_put(s, c, m);
    return;
  }
  int rc = bs__cell_get(s, m->ttype, id, m->klen, m->thash, &c);
  if (BS__UNLIKELY(rc < 0)) {
    bs__dead_letter(s, NULL, m, BS_DL_NO_MEMORY, rc);
    return;
  }
  if (BS__UNLIKELY(bs__full(s->engine, c))) {
    /* The sender is on another shard: it cannot be told, so the message
     * is a dead letter (a request completes with BS_EFULL). */
    bs__dead_letter(s, c, m, BS_DL_MAILBOX_FULL, BS_EFULL);
    return;
  }
  m->target = c;
  BS__OBS_RECEIVED(s, c);
  bs__mailbox_put(s, c, m);
}

/* ---- Sending ------------------------------------------------------------------ */

/* A writer holding no message and `err`: writes do nothing, *_end
 * returns err. */
static int failed(bs_writer *w, int err) {
  memset(w, 0, sizeof *w);
  return w->err = err;
}

static bool ref_ok(const bs_ref *r) {
  return r && r->engine && r->type && r->len > 0 && r->len <= BS_ID_MAX;
}

/* The calling thread's shard, or an API failure. */
static bs__shard *shard_for(bs_engine *e, const char *fn, int *rc) {
  bs__shard *s = bs__here(e);
  if (BS__UNLIKELY(!s))
    *rc = bs__api_fail(fn, "called from a thread that runs none of the engine's shards "
                           "(use bs_engine_post)", BS_EWRONGTHREAD);
  return s;
}

/* A block for a message to `to`, whose cell `c` (if it lives here) the
 * caller has looked up: with the cell, or else with the key in front of
 * the body. */
static inline bs__msg *block_for(bs__shard *s, const bs_ref *to, uint8_t kind, bs_cell *c) {
  size_t klen = c ? 0 : to->len;
  bs__msg *m = bs__msg_get(&s->pool, klen ? klen + BS__CLASS_MIN / 2 : 0);
  if (BS__UNLIKELY(!m)) return NULL;
  m->kind = kind;
  m->ttype = to->type;
  m->thash = to->hash;
  m->target = c;
  if (klen) {
    memcpy(m->data, to->id, klen);
    m->klen = (uint8_t)klen;
    m->body = m->data + klen;
  }
  return m;
}

/* A block for a message to `to`: with its cell when it lives here and
 * exists, otherwise with the key in front of the body. */
static bs__msg *new_routed(bs__shard *s, const bs_ref *to, uint8_t kind) {
  uint32_t at = bs__shard_of(s->engine, to->hash);
  bs_cell *c = at == s->index ? bs__cell_find(s, to->type, to->id, to->len, to->hash) : NULL;
  return block_for(s, to, kind, c);
}

int bs_send_begin(const bs_ref *to, const bs_method *m, bs_writer *w) {
  if (!w) return BS_EINVAL;
  if (BS__UNLIKELY(!ref_ok(to) || !m)) return failed(w, BS_EINVAL);
  int rc = 0;
  bs__shard *s = shard_for(to->engine, "bs_send_begin", &rc);
  if (BS__UNLIKELY(!s)) return failed(w, rc);
  if (BS__UNLIKELY(bs__freeing(s->engine))) return failed(w, BS_ECANCELED);
  bs__msg *msg = new_routed(s, to, BS__MSG_CALL);
  if (BS__UNLIKELY(!msg)) return failed(w, BS_ENOMEM);
  msg->method = m;
  bs__writer_bind(s, w, msg);
  bs_write_array(w, 1u + (uint64_t)m->argc);
  return bs_write_uint(w, m->id);
}

/* Takes the message out of the writer; on a writer error releases it. */
static bs__msg *take(bs_writer *w, int *rc) {
  bs__msg *m = w ? w->owner : NULL;
  *rc = !w ? BS_EINVAL : w->err ? w->err : m ? 0 : BS_EINVAL;
  if (!m) return NULL;
  bs__shard *s = w->owner2;
  if (*rc < 0) {
    bs__give_back(s, bs__writer_unbind(w));
    return NULL;
  }
  return bs__writer_finish(w);
}

/* A message for a full mailbox: rejected (BS_EFULL, released, never
 * counted as sent) or, by policy, a dead letter (counted; returns 0). */
static int overflow(bs__shard *s, bs_cell *c, bs__msg *m) {
  if (s->engine->opts.mailbox_full == BS_FULL_REJECT) {
    BS__STAT(s, rejected);
    bs__give_back(s, m);
    return BS_EFULL;
  }
  BS__STAT(s, sent);
  bs__dead_letter(s, c, m, BS_DL_MAILBOX_FULL, BS_EFULL);
  return 0;
}

/* Sends a finished CALL: to its cell here, to a cell made here, or to
 * another shard. Returns 0, BS_EFULL (rejected) or BS_ENOMEM (no cell). */
static int route(bs__shard *s, bs__msg *m) {
#ifdef BS_WITH_CLUSTER
  /* A placed actor owned by another node, or by none right now. */
  if (BS__CLUSTERED(s) && bs__cl_route(s, m)) {
    BS__STAT(s, sent);
    return 0;
  }
#endif
  bs_cell *c = m->target;
  if (BS__LIKELY(c != NULL)) {
    if (BS__UNLIKELY(bs__full(s->engine, c))) return overflow(s, c, m);
    bs__enqueue(s, c, m);
    return 0;
  }
  uint32_t at = bs__shard_of(s->engine, m->thash);
  if (at == s->index) {
    int rc = bs__cell_get(s, m->ttype, bs__msg_key(m), m->klen, m->thash, &c);
    if (rc < 0) {
      bs__give_back(s, m);
      return rc;
    }
    m->target = c;
    bs__enqueue(s, c, m);
    return 0;
  }
  BS__STAT(s, sent);
  bs__push(s, at, m);
  return 0;
}

int bs_send_end(bs_writer *w) {
  int rc;
  bs__msg *m = take(w, &rc);
  if (!m) return rc;
  return route(w->owner2, m);
}

/* ---- Requests ----------------------------------------------------------------------- */


static uint64_t min_timeout(uint64_t a, uint64_t b) {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

/* Common tail of bs_request_end and bs_request_await: `refs` holders of
 * the request block (the caller's side, plus an await). */
static int request(bs_writer *w, bs_reply_fn thunk, bs_fnptr fn, void *ud,
                   uint8_t refs, uint64_t timeout_ms, bs__msg **out) {
  int rc;
  if (w && w->owner && !thunk) w->err = BS_EINVAL;
  bs__msg *m = take(w, &rc);
  if (!m) return rc;
  bs__shard *s = w->owner2;
  bs_engine *e = s->engine;
  if (m->target && bs__full(e, m->target) && e->opts.mailbox_full == BS_FULL_REJECT)
    return overflow(s, m->target, m);
  bs__msg *r;
  uint64_t timeout = min_timeout(timeout_ms, e->opts.request_timeout_ms);
#ifdef BS_WITH_CLUSTER
  /* Among nodes a request must end even if its answer never comes. */
  if (!timeout && BS__CLUSTERED(s)) timeout = bs__cl_request_timeout(e);
#endif
  rc = bs__request_new(s, thunk, fn, ud, refs, timeout, &r);
  if (rc < 0) {
    bs__give_back(s, m);
    return rc;
  }
  bs__request *q = bs__req(r);
  m->req_id = q->id;
  m->reply_shard = s->index;
  /* Only when set: a 16-byte copy of id and deadline would stall on the
   * stores that just wrote them. */
  if (q->deadline) m->deadline = q->deadline;
  rc = route(s, m); /* a full mailbox's dead letter completes r (BS_EFULL) */
  if (rc < 0) {
    while (--refs > 0) bs__request_unref(s, r);
    bs__request_abandon(s, r);
    return rc;
  }
  *out = r;
  return 0;
}

int bs_request_end(bs_writer *w, bs_reply_fn thunk, bs_fnptr fn, void *ud) {
  bs__msg *r;
  return request(w, thunk, fn, ud, 1, 0, &r);
}


/* Whether the actor a request went to is a test kit probe (which never
 * answers): looked up after the loop has run dry. */
static bool probed(bs_engine *e, const bs_actor_type *t, const char *id, size_t len,
                   uint32_t hash) {
  bs__shard *s = e->shards[bs__shard_of(e, hash)];
  bs_cell *c = bs__cell_find(s, t, id, len, hash);
  return c && (c->flags & BS__CELL_PROBED);
}

/* How often an await that drains the home shard itself lets the loop run
 * anyway (below): after this many drains, or the drain budget in messages. */
#define AWAIT_POLL_DRAINS 256u

/* Runs the engine on the home thread until `q` is done, or until nothing is
 * left that could complete it. While the home shard has mail of its own
 * (its drain handle is active), the await drains it directly: a loop
 * iteration would only add timers, a poll for I/O that is rarely there
 * (an epoll_wait system call) and the other handles' callbacks. To keep
 * timers, I/O, posts and the inspector served as bs_engine_run serves them,
 * it runs one non-blocking iteration after every drain budget's worth of
 * messages and every AWAIT_POLL_DRAINS drains. With nothing to drain it
 * runs the loop, which then blocks until I/O, a timer or another shard's
 * wake-up. Engines whose shards share the home thread (test mode on
 * several shards) always go through the loop, which drains them all in
 * its own order. */
static void wait_for(bs_engine *e, bs__shard *s, const bs__request *q) {
  bool direct = e->nshards == 1 || e->threaded;
  while (q->state != BS__REQ_DONE) {
    if (direct && s->drain_active && s->fast_drains < AWAIT_POLL_DRAINS &&
        s->handled - s->polled_at < e->opts.drain_budget) {
      s->fast_drains++;
      bs__drain(s);
      continue;
    }
    s->fast_drains = 0;
    s->polled_at = s->handled;
    if (!uv_run(s->loop, UV_RUN_ONCE) && q->state != BS__REQ_DONE) break;
  }
}

int bs_request_await(bs_writer *w, bs_reply_fn thunk, void *out,
                     uint64_t timeout_ms) {
  bs__shard *s = w && w->owner ? w->owner2 : NULL;
  bs_engine *e = s ? s->engine : NULL;
  if (s && s->index != 0 && e->threaded)
    w->err = bs__api_fail("bs_request_await", "called from a thread other than the "
                          "engine's home thread", BS_EWRONGTHREAD);
  else if (s && bs__inside_loop(e)) w->err = BS_EDEADLK;
  /* The target's key, to tell a probe from a deadlock later. */
  bs__msg *m = w ? w->owner : NULL;
  const bs_actor_type *tt = m ? m->ttype : NULL;
  uint32_t th = m ? m->thash : 0;
  char id[BS_ID_MAX + 1];
  size_t idlen = 0;
  if (m && m->target) {
    idlen = m->target->id_len;
    memcpy(id, m->target->id, idlen);
  } else if (m) {
    idlen = m->klen;
    memcpy(id, bs__msg_key(m), idlen);
  }
  bs__msg *r = NULL; /* set when request() succeeds; GCC -O3 cannot tell */
  int rc = request(w, thunk, NULL, out, 2, timeout_ms, &r);
  if (rc < 0) return rc;
  bs__request *q = bs__req(r);
  e->running = true;
  bs__shard *prev = bs__enter(s);
  if (e->threaded) bs__home_watch(e, true);
  wait_for(e, s, q);
  if (e->threaded) bs__home_watch(e, false);
  bs__leave(prev);
  e->running = false;
  if (q->state == BS__REQ_DONE) {
    rc = q->result;
  } else {
    /* The engine has nothing left that could answer: the callee is a test
     * kit probe, or the deadline is on a virtual clock nobody advances. */
    rc = probed(e, tt, id, idlen, th) ? BS_ENOTFOUND : BS_EDEADLK;
    bs__request_abandon(s, r);
  }
  bs__request_unref(s, r);
  return rc;
}

/* ---- Stopping -------------------------------------------------------------------------- */

int bs_stop(const bs_ref *r) {
  if (!ref_ok(r)) return BS_EINVAL;
  int rc = 0;
  bs__shard *s = shard_for(r->engine, "bs_stop", &rc);
  if (!s) return rc;
  if (bs__freeing(s->engine)) return BS_ECANCELED;
  uint32_t at = bs__shard_of(s->engine, r->hash);
  bool placed = false;
#ifdef BS_WITH_CLUSTER
  uint32_t tid;
  placed = BS__CLUSTERED(s) && bs__cl_placed(s, r->type, &tid);
#endif
  bs_cell *c = NULL;
  if (at == s->index) {
    c = bs__cell_find(s, r->type, r->id, r->len, r->hash);
    if (!placed && (!c || (!c->state && c->mb.len == 0))) return 0;
  }
  bs__msg *m = block_for(s, r, BS__MSG_STOP, c);
  if (!m) return BS_ENOMEM;
#ifdef BS_WITH_CLUSTER
  if (placed && bs__cl_route(s, m)) return 0;
  if (placed && !m->target && at == s->index) { /* served here, no cell: */
    bs__give_back(s, m);                        /* nothing to stop */
    return 0;
  }
#endif
  if (m->target) bs__mailbox_put(s, m->target, m); /* control: not counted as sent */
  else bs__push(s, at, m);
  return 0;
}
