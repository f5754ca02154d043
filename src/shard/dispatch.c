/* Draining the run queue: actor turns, activation, dispatch of one message,
 * stopping, and dead letters. Everything here runs on the actor's shard. */
#include "internal.h"

/* ---- Activation --------------------------------------------------------- */

static bs_context *context_of(void *state) {
  return (bs_context *)((uint8_t *)state - sizeof(bs_context));
}

/* A zeroed state behind its bs_context, in the cell's block: a new
 * instance, not initialised. */
int bs__instance_new(bs__shard *s, bs_cell *c) {
  bs__cell_state_open(c);
  bs_context *ctx = context_of(c->state);
  ctx->engine = s->engine;
  ctx->cell = c;
  c->epoch++;
  return 0;
}

/* A new instance given up before init (its stored state would not load). */
void bs__instance_drop(bs__shard *s, bs_cell *c) {
  (void)s;
  bs__cell_state_close(c);
}

/* Runs init on the new instance, as the current actor. A failing init
 * leaves the cell inactive. */
int bs__instance_init(bs__shard *s, bs_cell *c) {
  const bs_actor_type *t = c->type;
  bs_cell *prev = s->current;
  s->current = c;
  int rc = t->init ? t->init(c->state, context_of(c->state)) : 0;
  s->current = prev;
  if (rc < 0) {
    bs__cell_state_close(c);
    BS__STAT(s, init_failures);
    return rc;
  }
  BS__STAT(s, activations);
  BS__STAT(s, active);
  BS__OBS_ACTIVATED(s, c);
  bs__idle_activated(s, c);
  return 0;
}

/* A new instance on the actor's turn: set up and initialised at once,
 * or, for a persistent type, once its stored state has loaded
 * (BS__PARKED meanwhile). */
static int activate(bs__shard *s, bs_cell *c) {
  if (BS__UNLIKELY(c->type->load_state != NULL)) return bs__store_activate(s, c);
  int rc = bs__instance_new(s, c);
  return rc < 0 ? rc : bs__instance_init(s, c);
}

void bs__deactivate(bs__shard *s, bs_cell *c) {
  const bs_actor_type *t = c->type;
  if (BS__UNLIKELY(c->persist != NULL)) bs__store_closing(s, c); /* writes first */
  bs_cell *prev = s->current;
  s->current = c;
  if (t->deinit) t->deinit(c->state);
  s->current = prev;
  bs__idle_forget(s, c);
  bs__cell_state_close(c);
  BS__STAT_DEC(s, active);
  BS__OBS_DEACTIVATED(s, c);
}

/* ---- Dead letters ------------------------------------------------------- */

static const bs_method *resolve(const bs_actor_type *t, const bs__msg *m,
                                uint32_t id);

/* The receiver's method a CALL or ELEM names, and its id, for reporting:
 * the id comes from the body (the sender's hint may be of another type). */
static const bs_method *method_of(const bs_actor_type *t, const bs__msg *m,
                                  uint32_t *id) {
  if (m->kind == BS__MSG_ELEM) {
    *id = m->method->id;
    return m->method;
  }
  bs_reader r;
  uint64_t n = 0;
  *id = 0;
  bs_reader_init(&r, m->body, m->len, NULL);
  if (bs_read_array(&r, &n) == 0 && n > 0 && bs_read_u32(&r, id) == 0)
    return t ? resolve(t, m, *id) : NULL;
  /* A malformed body: trust the sender's method if it is one of ours. */
  const bs_method *h = m->method;
  if (!t || !h || h < t->methods || h >= t->methods + t->method_count) return NULL;
  *id = h->id;
  return h;
}

static int status_for(bs_dead_letter_reason reason, int code) {
  switch (reason) {
  case BS_DL_UNKNOWN_METHOD: return BS_ENOMETHOD;
  case BS_DL_UNDECODABLE: return code == BS_ETOOBIG ? BS_ETOOBIG : BS_EDECODE;
  case BS_DL_STOPPED: return BS_ESTOPPED;
  case BS_DL_INIT_FAILED: return BS_EINIT;
  case BS_DL_MAILBOX_FULL: return BS_EFULL;
  case BS_DL_NO_MEMORY: return BS_ENOMEM;
  case BS_DL_STORE: return code < 0 ? code : BS_ESTORE;
  default: return code < 0 ? code : BS_ECANCELED;
  }
}

void bs__report(bs__shard *s, const bs_actor_type *t, const char *id,
                const bs__msg *m, bs_dead_letter_reason reason, int code) {
  BS__STAT(s, dead_letters);
  BS__BUMP(&s->stats.dead_by_reason[reason], 1);
  bs_engine *e = s->engine;
  if (!e->opts.on_dead_letter) return;
  bs_dead_letter dl = {0};
  dl.target_id = id;
  dl.type_name = t ? t->name : NULL;
  dl.reason = reason;
  dl.code = code;
  if (m->kind == BS__MSG_CALL || m->kind == BS__MSG_ELEM) {
    const bs_method *meth = method_of(t, m, &dl.method_id);
    dl.method_name = meth ? meth->name : NULL;
  }
  e->opts.on_dead_letter(e->opts.dead_letter_ud, &dl);
}

/* Ends `m` as a dead letter: counted, reported, and, for a request, the
 * caller's continuation completed with an error (except when the engine is
 * being freed: then no continuation runs). Consumes `m`. `c` may be NULL
 * for mail whose cell could not be made; the key then comes from `m`. */
void bs__dead_letter(bs__shard *s, bs_cell *c, bs__msg *m,
                     bs_dead_letter_reason reason, int code) {
  if (m->kind == BS__MSG_STOP) {
    bs__give_back(s, m);
    return;
  }
  const bs_actor_type *t = c ? c->type : m->ttype;
  char key[BS_ID_MAX + 1];
  const char *id = c ? c->id : key;
  if (!c) {
    memcpy(key, bs__msg_key(m), m->klen);
    key[m->klen] = '\0';
  }
  if (m->kind == BS__MSG_REPLY) {
    /* A completion nobody can receive any more. */
    bs__report(s, t, id, m, reason == BS_DL_ENGINE_FREED ? reason : BS_DL_ORPHAN_REPLY, code);
    bs__request *q = bs__req(m);
    if (m->shared) bs__give_back(s, m->shared);
    m->shared = NULL;
    q->state = BS__REQ_DONE;
    if (q->caller) q->caller->nreq--;
    q->caller = NULL;
    bs__request_unref(s, m);
    return;
  }
  bs__report(s, t, id, m, reason, code);
  if (m->kind == BS__MSG_CALL && m->req_id) {
    /* The message itself carries the error back: no allocation. */
    if (m->shared) bs__give_back(s, m->shared);
    if (m->blobs) bs__blobs_drop(s, m);
    m->kind = BS__MSG_VALUE;
    m->status = status_for(reason, code);
    m->len = 0;
    m->shared = NULL;
    bs__answer(s, m->reply_shard, m);
    return;
  }
  bs__release(s, m);
}

/* Dead-letters `first` (if any) and everything queued to `c` now. The
 * mailbox is detached first: what the dead-letter hook sends meanwhile -
 * a retry to the same actor, say - is mail sent after the stop or failure
 * and must reach the next instance, not be swept with the rest. */
static void sweep(bs__shard *s, bs_cell *c, bs__msg *first,
                  bs_dead_letter_reason reason, int code) {
  bs__mailbox held = c->mb;
  memset(&c->mb, 0, sizeof c->mb);
  s->queued -= held.len;
  if (first) bs__dead_letter(s, c, first, reason, code);
  bs__msg *m;
  while ((m = bs__mb_pop(&held))) bs__dead_letter(s, c, m, reason, code);
}

void bs__sweep_mailbox(bs__shard *s, bs_cell *c, bs_dead_letter_reason reason,
                       int code) {
  sweep(s, c, NULL, reason, code);
}

const char *bs__msg_name(const bs_cell *c, const bs__msg *m, uint32_t *id,
                         bs_reader *args) {
  *id = 0;
  bs_reader_init(args, m->body, m->len, NULL);
  switch (m->kind) {
  case BS__MSG_REPLY: return "(reply)";
  case BS__MSG_STOP: return "(stop)";
  case BS__MSG_ELEM:
    *id = m->method->id;
    return m->method->name;
  default: break;
  }
  uint64_t n = 0;
  if (bs_read_array(args, &n) < 0 || n == 0 || bs_read_u32(args, id) < 0)
    return "(unknown)";
  const bs_method *meth = c->type ? bs__find_method(c->type, *id) : NULL;
  return meth ? meth->name : "(unknown)";
}

/* ---- Dispatch ----------------------------------------------------------- */

const bs_method *bs__find_method(const bs_actor_type *t, uint32_t id) {
  size_t lo = 0, hi = t->method_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint32_t mid_id = t->methods[mid].id;
    if (mid_id == id) return &t->methods[mid];
    if (mid_id < id) lo = mid + 1; else hi = mid;
  }
  return NULL;
}

/* The sender's method pointer is a hint: trusted only if it belongs to the
 * receiver's table and carries the id written in the body. */
static const bs_method *resolve(const bs_actor_type *t, const bs__msg *m,
                                uint32_t id) {
  const bs_method *h = m->method;
  if (h && h >= t->methods && h < t->methods + t->method_count && h->id == id)
    return h;
  return bs__find_method(t, id);
}

/* The args reader over a message body; `refs` receives its blob
 * references if it has any. */
static inline void args_over(bs__shard *s, const bs__msg *m, bs_reader *r, bs__refs *refs) {
  r->p = m->body;
  r->end = m->body + m->len;
  r->err = 0;
  r->arena = &s->arena;
  r->refs = bs__refs_of(s, m, refs);
}

/* The method ran with a negative status: counted, reported, and under the
 * restart policy the instance is to be replaced. Returns whether it is. */
static bool method_failed(bs__shard *s, bs_cell *c, const bs_method *meth, int status) {
  bs_engine *e = s->engine;
  BS__STAT(s, method_errors);
  bool restart = bs__restart_on_error(e, c->type);
  if (e->opts.on_method_failure) {
    bs_method_failure f = {c->id, c->type->name, meth->name, status, restart};
    e->opts.on_method_failure(e->opts.method_failure_ud, &f);
  }
  return restart;
}

/* Answers the request `m` carries with what the method wrote into `rw`
 * (NULL when no block for the value could be had). */
static void answer(bs__shard *s, bs_cell *c, bs__msg *m, bs_writer *rw) {
  bs__msg *v;
  if (rw && !rw->err) {
    v = bs__writer_finish(rw);
    v->status = 0;
  } else {
    int status = rw ? rw->err : BS_ENOMEM;
    if (rw) {
      BS__STAT(s, sent);
      bs__report(s, c->type, c->id, m, BS_DL_REPLY_UNENCODABLE, status);
      bs__give_back(s, bs__writer_unbind(rw));
    }
    /* The call's own block carries the error back. */
    if (m->blobs) bs__blobs_drop(s, m);
    m->kind = BS__MSG_VALUE;
    m->status = status;
    m->len = 0;
    bs__answer(s, m->reply_shard, m);
    return;
  }
  v->kind = BS__MSG_VALUE;
  v->req_id = m->req_id;
  v->reply_shard = m->reply_shard;
  v->rnode = m->rnode;
  /* A persistent actor's answer waits for the write of what it answered. */
  if (BS__UNLIKELY(c->persist != NULL) && bs__store_hold(s, c, v, m->reply_shard)) {
    bs__release(s, m);
    return;
  }
  bs__answer(s, m->reply_shard, v);
  bs__release(s, m);
}

/* Runs the method on `call` (its args set up by the caller); for a request,
 * the return value is encoded into a pooled message that answers it.
 * Consumes `m`. */
static void invoke(bs__shard *s, bs_cell *c, bs__msg *m, const bs_method *meth,
                   bs_call *call) {
  bs_writer rw;
  bool request = m->kind == BS__MSG_CALL && m->req_id;
  call->reply = NULL;
  call->result = 0;
  if (request) {
    bs__msg *value = bs__msg_get(&s->pool, 0);
    if (value) {
      bs__writer_bind(s, &rw, value);
      call->reply = &rw;
    }
  }
  int rc = meth->invoke(c->state, call);
  if (s->arena.used) bs_arena_reset(&s->arena); /* usually nothing taken */
  if (BS__UNLIKELY(rc < 0) && !(call->reply && rw.err)) {
    /* The arguments did not decode: the method never ran. */
    if (call->reply) bs__give_back(s, bs__writer_unbind(&rw));
    bs__dead_letter(s, c, m, rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNDECODABLE, rc);
    return;
  }
  BS__STAT(s, delivered);
  bool restart = BS__UNLIKELY(call->result < 0) && method_failed(s, c, meth, call->result);
  if (request) answer(s, c, m, call->reply);
  else bs__release(s, m);
  if (BS__UNLIKELY(restart) && c->state) {
    /* The next message, already queued or not, activates a fresh one. */
    bs__deactivate(s, c);
    BS__STAT(s, restarts);
  }
}

static void dispatch_call(bs__shard *s, bs_cell *c, bs__msg *m) {
  bs_call call;
  bs_reader *r = &call.args;
  bs__refs refs;
  uint64_t n = 0;
  uint32_t id = 0;
  args_over(s, m, r, &refs);
  if (bs_read_array(r, &n) < 0 || n == 0 || bs_read_u32(r, &id) < 0) {
    bs__dead_letter(s, c, m, BS_DL_UNDECODABLE, BS_EDECODE);
    return;
  }
  const bs_method *meth = resolve(c->type, m, id);
  if (!meth) {
    bs__dead_letter(s, c, m, BS_DL_UNKNOWN_METHOD, BS_ENOMETHOD);
    return;
  }
  if (n != 1u + meth->argc) {
    bs__dead_letter(s, c, m, BS_DL_UNDECODABLE, BS_EDECODE);
    return;
  }
  invoke(s, c, m, meth, &call);
}

/* A stream element: the body is the element alone, shared with the other
 * subscribers; the method was checked against the type at subscribe time. */
static void dispatch_elem(bs__shard *s, bs_cell *c, bs__msg *m) {
  bs_call call;
  bs__refs refs;
  args_over(s, m, &call.args, &refs);
  invoke(s, c, m, m->method, &call);
}

/* Activation failure: the whole mailbox is dead-lettered (one init attempt
 * per batch, not one per message); the next message tries again. A state
 * that could not be loaded is the store's failure, not init's. */
void bs__fail_activation(bs__shard *s, bs_cell *c, bs__msg *m, int rc) {
  bs_dead_letter_reason why = rc == BS_ENOMEM ? BS_DL_NO_MEMORY
                              : rc == BS_ESTORE || rc == BS_ECORRUPT || rc == BS_ECONFLICT
                                  ? BS_DL_STORE
                                  : BS_DL_INIT_FAILED;
  sweep(s, c, m, why, rc);
}

/* Poison pill: mail before it has run; deinit, then everything behind it is
 * dead-lettered. */
static void dispatch_stop(bs__shard *s, bs_cell *c, bs__msg *m) {
  bs__give_back(s, m);
  if (c->state) bs__deactivate(s, c);
  bs__sweep_mailbox(s, c, BS_DL_STOPPED, BS_ESTOPPED);
}

enum { TURN_END, TURN_ON, TURN_PARKED };

/* Dispatches `m` to `c`: TURN_ON, or TURN_END when the turn must end (the
 * actor stopped or failed to start, or this node no longer serves it), or
 * TURN_PARKED when the instance waits for its stored state: `m` is back at
 * the head of the mailbox, not handled. */
static int dispatch(bs__shard *s, bs_cell *c, bs__msg *m) {
#ifdef BS_WITH_CLUSTER
  /* Fencing: a placed actor runs only while this node serves its
   * partition, checked against the clock on every message, so a node that
   * lost its lease (or was stalled past it) never runs one more. */
  if (BS__UNLIKELY(c->flags & BS__CELL_PLACED) && !bs__cl_serving(s, c)) {
    bs__cl_unserve(s, c, m);
    return TURN_END;
  }
#endif
  if (BS__UNLIKELY(m->rflags & BS__RF_DEADLINE) && bs__now(s) > m->deadline) {
    /* A request from another node whose caller has given up: not run. */
    BS__OBS_DISPATCH(s, c, m);
    bs__dead_letter(s, c, m, BS_DL_EXPIRED, BS_ETIMEDOUT);
    return TURN_ON;
  }
  int rc = 0;
  if (BS__UNLIKELY(!c->state) && m->kind != BS__MSG_REPLY && m->kind != BS__MSG_STOP) {
    rc = activate(s, c);
    if (rc == BS__PARKED) {
      bs__mb_unshift(&c->mb, m);
      s->queued++;
      return TURN_PARKED;
    }
  }
  BS__OBS_DISPATCH(s, c, m);
  if (BS__UNLIKELY(rc < 0)) {
    bs__fail_activation(s, c, m, rc);
    return TURN_END;
  }
  switch (m->kind) {
  case BS__MSG_REPLY:
    bs__deliver_reply(s, c, m);
    return TURN_ON;
  case BS__MSG_STOP:
    dispatch_stop(s, c, m);
    return TURN_END;
  case BS__MSG_ELEM:
    dispatch_elem(s, c, m);
    return TURN_ON;
  default:
    dispatch_call(s, c, m);
    return TURN_ON;
  }
}

/* One turn: up to `limit` messages of one actor. Returns messages handled.
 * A persistent actor's dirty state is written when its turn ends. */
static uint32_t turn(bs__shard *s, bs_cell *c, uint32_t limit) {
  uint32_t n = 0;
  bs_cell *saved = s->current;
  s->current = c;
  while (n < limit) {
    bs__msg *m = bs__mb_pop(&c->mb);
    if (!m) break;
    s->queued--;
    int next = dispatch(s, c, m);
    if (next == TURN_PARKED) break;
    n++;
    if (next == TURN_END) break;
  }
  if (BS__UNLIKELY(c->persist != NULL) && c->state) bs__store_turn_end(s, c);
  s->current = saved;
  s->handled += n;
  return n;
}

/* Takes the next actor off the run queue: the head, or in seeded test mode
 * a pseudo-random one (mailboxes stay FIFO, so each sender-receiver pair
 * keeps its order whatever is picked). */
static bs_cell *pick(bs__shard *s) {
  bs_cell *prev = NULL, *c = s->rq_head;
  if (BS__UNLIKELY(s->engine->opts.schedule_seed)) {
    for (uint32_t k = (uint32_t)(bs__rand(s->engine) % s->rq_len); k > 0; k--) {
      prev = c;
      c = c->rq_next;
    }
  }
  if (prev) prev->rq_next = c->rq_next; else s->rq_head = c->rq_next;
  if (s->rq_tail == c) s->rq_tail = prev;
  s->rq_len--;
  c->flags &= (uint8_t)~BS__CELL_IN_RUNQ;
  return c;
}

/* One turn of the next actor, at most `limit` messages (one in seeded
 * mode, for the most interleavings). Returns messages handled. A cell that
 * ends its turn with no instance and no mail is collected. */
uint32_t bs__turn_next(bs__shard *s, uint32_t limit) {
  bs_cell *c = pick(s);
  if (s->engine->opts.schedule_seed) limit = 1;
  uint32_t n = turn(s, c, limit);
  if (c->state) bs__idle_touch(s, c);
  if (c->mb.len) bs__schedule(s, c);
  else if (!c->state && !(c->flags & BS__CELL_EXTERNAL)) bs__collect(s, c);
  if (s->nout) bs__flush_mail(s);
  return n;
}
