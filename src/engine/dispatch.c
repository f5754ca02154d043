/* Draining the run queue: actor turns, activation, dispatch of one message,
 * stopping, and dead letters. */
#include "internal.h"

/* ---- Activation --------------------------------------------------------- */

/* A state block is [bs_context][state] when the allocator's block puts the
 * state at its alignment (the usual case: 16 + state bytes, no slack), or
 * else [slack][block pointer][bs_context][state] (BS__CELL_SLACK). Either
 * way the context sits right before the state. */
static size_t state_align(const bs_actor_type *t) {
  return t->state_align ? t->state_align : alignof(max_align_t);
}

static size_t compact_size(const bs_actor_type *t) {
  return sizeof(bs_context) + t->state_size;
}

static size_t slack_size(const bs_actor_type *t) {
  return sizeof(void *) + sizeof(bs_context) + state_align(t) - 1 + t->state_size;
}

static bs_context *context_of(void *state) {
  return (bs_context *)((uint8_t *)state - sizeof(bs_context));
}

static void free_state(bs_engine *e, bs_cell *c) {
  bs_context *ctx = context_of(c->state);
  if (c->flags & BS__CELL_SLACK)
    bs__free(&e->heap, ((void **)ctx)[-1], slack_size(c->type));
  else
    bs__free(&e->heap, ctx, compact_size(c->type));
  c->state = NULL;
  c->flags &= (uint8_t)~BS__CELL_SLACK;
}

/* Zeroed state for `c`'s type, aligned, behind its bs_context. */
static int alloc_state(bs_engine *e, bs_cell *c) {
  const bs_actor_type *t = c->type;
  size_t align = state_align(t);
  uint8_t *block = bs__calloc(&e->heap, compact_size(t));
  if (!block) return BS_ENOMEM;
  if (((uintptr_t)block + sizeof(bs_context)) % align == 0) {
    c->state = block + sizeof(bs_context);
    return 0;
  }
  bs__free(&e->heap, block, compact_size(t));
  block = bs__calloc(&e->heap, slack_size(t));
  if (!block) return BS_ENOMEM;
  uintptr_t at = ((uintptr_t)block + sizeof(void *) + sizeof(bs_context) + align - 1) &
                 ~(uintptr_t)(align - 1);
  c->state = (void *)at;
  ((void **)context_of(c->state))[-1] = block;
  c->flags |= BS__CELL_SLACK;
  return 0;
}

/* Allocates zeroed state behind a bs_context and runs init on the actor's
 * turn. A failing init leaves the cell inactive. */
static int activate(bs_engine *e, bs_cell *c) {
  const bs_actor_type *t = c->type;
  int rc = alloc_state(e, c);
  if (rc < 0) return rc;
  bs_context *ctx = context_of(c->state);
  ctx->engine = e;
  ctx->cell = c;
  c->epoch++;
  rc = t->init ? t->init(c->state, ctx) : 0;
  if (rc < 0) {
    free_state(e, c);
    e->stats.init_failures++;
    return rc;
  }
  e->stats.activations++;
  e->stats.active++;
  BS__INSP(c->insp.activated_at = bs__now(e));
  return 0;
}

void bs__deactivate(bs_engine *e, bs_cell *c) {
  const bs_actor_type *t = c->type;
  bs_cell *prev = e->current;
  e->current = c;
  if (t->deinit) t->deinit(c->state);
  e->current = prev;
  free_state(e, c);
  e->stats.active--;
  BS__INSP(c->insp.activated_at = 0);
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
  case BS_DL_UNDECODABLE: return BS_EDECODE;
  case BS_DL_STOPPED: return BS_ESTOPPED;
  case BS_DL_INIT_FAILED: return BS_EINIT;
  case BS_DL_MAILBOX_FULL: return BS_EFULL;
  case BS_DL_NO_MEMORY: return BS_ENOMEM;
  default: return code < 0 ? code : BS_ECANCELED;
  }
}

void bs__report(bs_engine *e, bs_cell *c, const bs__msg *m,
                bs_dead_letter_reason reason, int code) {
  e->stats.dead_letters++;
  e->stats.dead_by_reason[reason]++;
  if (!e->opts.on_dead_letter) return;
  bs_dead_letter dl = {0};
  dl.target_id = c->id;
  dl.type_name = c->type ? c->type->name : NULL;
  dl.reason = reason;
  dl.code = code;
  if (m->kind == BS__MSG_CALL || m->kind == BS__MSG_ELEM) {
    const bs_method *meth = method_of(c->type, m, &dl.method_id);
    dl.method_name = meth ? meth->name : NULL;
  }
  e->opts.on_dead_letter(e->opts.dead_letter_ud, &dl);
}

/* Ends `m` as a dead letter: counted, reported, and, for a request, the
 * caller's continuation completed with an error (except when the engine is
 * being freed: then no continuation runs). Consumes `m`. */
void bs__dead_letter(bs_engine *e, bs_cell *c, bs__msg *m,
                     bs_dead_letter_reason reason, int code) {
  if (m->kind == BS__MSG_STOP) {
    bs__msg_put(&e->pool, &e->heap, m);
    return;
  }
  if (m->kind == BS__MSG_REPLY) {
    /* A completion nobody can receive any more. */
    bs__report(e, c, m, reason == BS_DL_ENGINE_FREED ? reason : BS_DL_ORPHAN_REPLY, code);
    if (m->req) bs__msg_put(&e->pool, &e->heap, m->req);
    m->req = NULL;
    bs__req(m)->state = BS__REQ_DONE;
    bs__request_unref(e, m);
    return;
  }
  bs__report(e, c, m, reason, code);
  if (m->kind == BS__MSG_CALL && m->req) {
    bs__request_complete(e, m->req, status_for(reason, code), NULL);
    bs__request_unref(e, m->req);
  }
  bs__msg_release(e, m);
}

/* Dead-letters `first` (if any) and everything queued to `c` now. The
 * mailbox is detached first: what the dead-letter hook sends meanwhile -
 * a retry to the same actor, say - is mail sent after the stop or failure
 * and must reach the next instance, not be swept with the rest. */
static void sweep(bs_engine *e, bs_cell *c, bs__msg *first,
                  bs_dead_letter_reason reason, int code) {
  bs__mailbox held = c->mb;
  memset(&c->mb, 0, sizeof c->mb);
  if (first) bs__dead_letter(e, c, first, reason, code);
  bs__msg *m;
  while ((m = bs__mb_pop(&held))) bs__dead_letter(e, c, m, reason, code);
}

void bs__sweep_mailbox(bs_engine *e, bs_cell *c, bs_dead_letter_reason reason,
                       int code) {
  sweep(e, c, NULL, reason, code);
}

/* What `m` runs, named for people (test kit, inspector traces): a method
 * name, "(reply)", "(stop)" or "(unknown)"; its id in *id and *args
 * positioned at its arguments. */
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

/* The args reader over a message body (never NULL: pooled data). */
static inline void args_over(bs_engine *e, const bs__msg *m, bs_reader *r) {
  r->p = m->body;
  r->end = m->body + m->len;
  r->err = 0;
  r->arena = &e->arena;
}

/* The method ran with a negative status: counted, reported, and under the
 * restart policy the instance is to be replaced. Returns whether it is. */
static bool method_failed(bs_engine *e, bs_cell *c, const bs_method *meth, int status) {
  e->stats.method_errors++;
  bool restart = bs__restart_on_error(e, c->type);
  if (e->opts.on_method_failure) {
    bs_method_failure f = {c->id, c->type->name, meth->name, status, restart};
    e->opts.on_method_failure(e->opts.method_failure_ud, &f);
  }
  return restart;
}

/* Completes request `req` with what the method wrote into `rw` (NULL when
 * no reply block could be had). */
static void answer(bs_engine *e, bs_cell *c, bs__msg *m, bs__msg *req, bs_writer *rw) {
  int status = 0;
  bs__msg *value = NULL;
  if (!rw) {
    status = BS_ENOMEM;
  } else if (rw->err) {
    status = rw->err;
    e->stats.sent++;
    bs__report(e, c, m, BS_DL_REPLY_UNENCODABLE, rw->err);
    bs__msg_put(&e->pool, &e->heap, bs__writer_unbind(rw));
  } else {
    value = bs__writer_finish(rw);
  }
  bs__request_complete(e, req, status, value);
  bs__request_unref(e, req);
  m->req = NULL;
}

/* Runs the method on `call` (its args set up by the caller); for a request
 * (`req`), the return value is encoded into a pooled message that completes
 * it. Consumes `m`. */
static void invoke(bs_engine *e, bs_cell *c, bs__msg *m, const bs_method *meth,
                   bs_call *call, bs__msg *req) {
  bs_writer rw;
  call->reply = NULL;
  call->result = 0;
  if (req) {
    bs__msg *value = bs__msg_get(&e->pool, &e->heap, 0);
    if (value) {
      bs__writer_bind(e, &rw, value);
      call->reply = &rw;
    }
  }
  int rc = meth->invoke(c->state, call);
  if (e->arena.used) bs_arena_reset(&e->arena); /* usually nothing taken */
  if (BS__UNLIKELY(rc < 0) && !(call->reply && rw.err)) {
    /* The arguments did not decode: the method never ran. */
    if (call->reply) bs__msg_put(&e->pool, &e->heap, bs__writer_unbind(&rw));
    bs__dead_letter(e, c, m, rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNDECODABLE, rc);
    return;
  }
  e->stats.delivered++;
  bool restart = BS__UNLIKELY(call->result < 0) && method_failed(e, c, meth, call->result);
  if (req) answer(e, c, m, req, call->reply);
  bs__msg_release(e, m);
  if (BS__UNLIKELY(restart) && c->state) {
    /* The next message, already queued or not, activates a fresh one. */
    bs__deactivate(e, c);
    e->stats.restarts++;
  }
}

static void dispatch_call(bs_engine *e, bs_cell *c, bs__msg *m) {
  bs_call call;
  bs_reader *r = &call.args;
  uint64_t n = 0;
  uint32_t id = 0;
  args_over(e, m, r);
  if (bs_read_array(r, &n) < 0 || n == 0 || bs_read_u32(r, &id) < 0) {
    bs__dead_letter(e, c, m, BS_DL_UNDECODABLE, BS_EDECODE);
    return;
  }
  const bs_method *meth = resolve(c->type, m, id);
  if (!meth) {
    bs__dead_letter(e, c, m, BS_DL_UNKNOWN_METHOD, BS_ENOMETHOD);
    return;
  }
  if (n != 1u + meth->argc) {
    bs__dead_letter(e, c, m, BS_DL_UNDECODABLE, BS_EDECODE);
    return;
  }
  invoke(e, c, m, meth, &call, m->req);
}

/* A stream element: the body is the element alone, shared with the other
 * subscribers; the method was checked against the type at subscribe time. */
static void dispatch_elem(bs_engine *e, bs_cell *c, bs__msg *m) {
  bs_call call;
  args_over(e, m, &call.args);
  invoke(e, c, m, m->method, &call, NULL);
}

/* Activation failure: the whole mailbox is dead-lettered (one init attempt
 * per batch, not one per message); the next message tries again. */
static void fail_activation(bs_engine *e, bs_cell *c, bs__msg *m, int rc) {
  bs_dead_letter_reason why = rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_INIT_FAILED;
  sweep(e, c, m, why, rc);
}

/* Poison pill: mail before it has run; deinit, then everything behind it is
 * dead-lettered. */
static void dispatch_stop(bs_engine *e, bs_cell *c, bs__msg *m) {
  bs__msg_put(&e->pool, &e->heap, m);
  if (c->state) bs__deactivate(e, c);
  bs__sweep_mailbox(e, c, BS_DL_STOPPED, BS_ESTOPPED);
}

/* Returns false when the turn must end (actor stopped or failed to start). */
static bool dispatch(bs_engine *e, bs_cell *c, bs__msg *m) {
  if (BS__UNLIKELY(e->trace_fn)) bs__trace(e, c, m);
  BS__INSP(bs__insp_dispatched(e, c, m));
  switch (m->kind) {
  case BS__MSG_REPLY:
    bs__deliver_reply(e, c, m);
    return true;
  case BS__MSG_STOP:
    dispatch_stop(e, c, m);
    return false;
  default:
    break;
  }
  if (BS__UNLIKELY(!c->state)) {
    int rc = activate(e, c);
    if (rc < 0) {
      fail_activation(e, c, m, rc);
      return false;
    }
  }
  if (m->kind == BS__MSG_ELEM) dispatch_elem(e, c, m); else dispatch_call(e, c, m);
  return true;
}

/* One turn: up to `limit` messages of one actor. Returns messages handled. */
static uint32_t turn(bs_engine *e, bs_cell *c, uint32_t limit) {
  uint32_t n = 0;
  bs_cell *saved = e->current;
  e->current = c->type ? c : NULL; /* the external box is not an actor */
  while (n < limit) {
    bs__msg *m = bs__mb_pop(&c->mb);
    if (!m) break;
    n++;
    if (!dispatch(e, c, m)) break;
  }
  e->current = saved;
  return n;
}

/* Takes the next actor off the run queue: the head, or in seeded test mode
 * a pseudo-random one (mailboxes stay FIFO, so each sender-receiver pair
 * keeps its order whatever is picked). */
static bs_cell *pick(bs_engine *e) {
  bs_cell *prev = NULL, *c = e->rq_head;
  if (BS__UNLIKELY(e->opts.schedule_seed)) {
    for (uint32_t k = (uint32_t)(bs__rand(e) % e->rq_len); k > 0; k--) {
      prev = c;
      c = c->rq_next;
    }
  }
  if (prev) prev->rq_next = c->rq_next; else e->rq_head = c->rq_next;
  if (e->rq_tail == c) e->rq_tail = prev;
  e->rq_len--;
  c->flags &= (uint8_t)~BS__CELL_IN_RUNQ;
  return c;
}

/* One turn of the next actor, at most `limit` messages (one in seeded
 * mode, for the most interleavings). Returns messages handled. */
uint32_t bs__turn_next(bs_engine *e, uint32_t limit) {
  bs_cell *c = pick(e);
  if (e->opts.schedule_seed) limit = 1;
  uint32_t n = turn(e, c, limit);
  if (c->mb.len) bs__schedule(e, c);
  return n;
}

/* The drain handle's callback: turns in run-queue order until the queue is
 * empty or the per-iteration budget is spent, so I/O and timers still get
 * their share of the loop. An actor with mail left goes to the back. */
void bs__drain(bs_engine *e) {
  uint32_t budget = e->opts.drain_budget;
  while (e->rq_head && budget > 0)
    budget -= bs__turn_next(e, budget < e->opts.batch ? budget : e->opts.batch);
  if (!e->rq_head && e->drain_active) {
    e->drain_active = false;
    uv_idle_stop(&e->h->drain);
  }
}
