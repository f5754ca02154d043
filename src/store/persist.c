/* Persistent actors on their shard: the state loaded before init, written
 * after the turn, replies held until the write they depend on has
 * committed, and what each completion does. Everything here runs on the
 * actor's shard thread; the storage thread only sees jobs (worker.c).
 *
 * Guarantees (docs/persistence.md, "What is guaranteed"):
 *   - an answer is sent only once every write of the state it answered
 *     from has committed (a reply never acknowledges what a crash could
 *     lose); a write that fails fails those answers instead;
 *   - a failed write drops the instance (deinit, state freed, nothing more
 *     written): its memory is ahead of the store, and the next message
 *     loads what the store holds;
 *   - writes of one actor go out one at a time, in order, each with the
 *     version the previous one produced;
 *   - an instance being deinitialised (stop, restart, idle collection,
 *     engine freed) writes its dirty state first, and its cell is not
 *     collected, nor a new instance loaded, until that write is done. */
#include "store/store.h"

/* ---- Jobs ------------------------------------------------------------------ */

/* A job for cell `c` from shard `s`'s pool: the id (NUL-terminated), then
 * `extra` bytes of body room. */
static bs__msg *job_new(bs__shard *s, bs_cell *c, uint8_t op, size_t extra) {
  bs__msg *m = bs__msg_get(&s->pool, (size_t)c->id_len + 1 + extra);
  if (!m) return NULL;
  m->kind = BS__MSG_STORE;
  m->ctrl = op;
  m->target = c;
  m->ttype = c->type;
  m->thash = c->hash;
  m->reply_shard = s->index;
  m->klen = c->id_len;
  m->ptr = NULL;
  memcpy(m->data, c->id, (size_t)c->id_len + 1);
  m->body = m->data + c->id_len + 1;
  m->len = 0;
  return m;
}

/* Queued for the storage thread at the shard's next flush (the end of its
 * drain: one hand-off for every job of the iteration). Counted as pending
 * from here, so bs__storage_drain waits for it. */
static void queue_job(bs__shard *s, bs__msg *m) {
  bs__chain *ch = &s->store_out;
  m->next = NULL;
  if (ch->last) ch->last->next = m; else ch->first = m;
  ch->last = m;
  ch->n++;
  BS__ADD(&s->engine->storage->pending, 1, RELAXED);
}

void bs__store_flush(bs__shard *s) {
  bs__chain ch = s->store_out;
  memset(&s->store_out, 0, sizeof s->store_out);
  if (!ch.n) return;
  bool was_idle = s->store_pending == 0;
  BS__STORE(&s->store_pending, s->store_pending + ch.n, RELAXED);
  /* Each job comes back through the inbox: counted as sent now, so the
   * termination check sees it in flight until its completion is taken. */
  BS__STORE(&s->xsent, s->xsent + ch.n, RELEASE);
  if (was_idle && s->index == 0) bs__hold_update(s->engine);
  bs__storage_submit(s, ch.first, ch.last);
}

/* ---- Failures ---------------------------------------------------------------- */

static void report(bs__shard *s, bs_cell *c, bs_store_op op, int code) {
  bs__pcell *p = c->persist;
  if (p) {
    p->errors++;
    p->last_error = code;
  }
  BS__STAT(s, store_errors);
  if (code == BS_ECONFLICT) BS__STAT(s, store_conflicts);
  if (code == BS_ECORRUPT) BS__STAT(s, store_corrupt);
  bs_engine *e = s->engine;
  if (!e->opts.on_store_error) return;
  bs_store_error err = {c->id, c->type->name, op, code, p ? p->version : 0};
  e->opts.on_store_error(e->opts.store_error_ud, &err);
}

/* Sends the held answers of writes up to `seq` (all, with `all`), each
 * with its value, or with `code` instead when it is negative. */
static void release_held(bs__shard *s, bs__pcell *p, uint32_t seq, bool all, int code) {
  while (p->held.head && (all || (uint32_t)p->held.head->deadline <= seq)) {
    bs__msg *v = bs__mb_pop(&p->held);
    v->deadline = 0;
    if (code < 0) {
      v->status = code;
      v->len = 0;
    }
    bs__answer(s, v->reply_shard, v);
  }
}

/* ---- Writing ------------------------------------------------------------------- */

static int encode(bs__shard *s, bs_cell *c, bs__msg **out) {
  bs__msg *m = job_new(s, c, BS__STORE_SAVE, BS__CLASS_MIN);
  if (!m) return BS_ENOMEM;
  bs_writer w;
  bs__writer_bind(s, &w, m);
  int rc = c->type->save_state(c->state, &w);
  if (rc == 0) rc = w.err;
  if (rc < 0) {
    bs__give_back(s, bs__writer_unbind(&w));
    return rc;
  }
  *out = bs__writer_finish(&w);
  return 0;
}

static void start_write(bs__shard *s, bs_cell *c, bs__msg *m) {
  bs__pcell *p = c->persist;
  p->flags |= BS__P_WRITING;
  m->req_id = p->version; /* expected */
  queue_job(s, m);
}

/* Takes what the turn marked (a save or a remove) into a write: out now,
 * or, while another is out, queued behind it. */
static int take_write(bs__shard *s, bs_cell *c) {
  bs__pcell *p = c->persist;
  bs__msg *m = NULL;
  int rc = 0;
  if (p->flags & BS__P_FORGET) {
    m = job_new(s, c, BS__STORE_REMOVE, 0);
    if (!m) rc = BS_ENOMEM;
  } else {
    rc = encode(s, c, &m);
  }
  if (rc < 0) return rc;
  p->flags &= (uint8_t)~(BS__P_DIRTY | BS__P_FORGET);
  m->deadline = ++p->seq;
  if (p->flags & BS__P_WRITING) {
    if (p->queued) bs__give_back(s, p->queued); /* this one is newer */
    p->queued = m;
  } else {
    start_write(s, c, m);
  }
  return 0;
}

/* A write could not be made or did not commit: the answers waiting for it
 * (and for later ones) fail, and the instance, whose memory is ahead of
 * the store, is dropped without writing anything more. */
static void write_failed(bs__shard *s, bs_cell *c, bs_store_op op, int code) {
  bs__pcell *p = c->persist;
  report(s, c, op, code);
  if (p->queued) {
    bs__give_back(s, p->queued);
    p->queued = NULL;
  }
  release_held(s, p, 0, true, code);
  p->flags &= (uint8_t)~(BS__P_DIRTY | BS__P_FORGET);
  if (c->state) bs__deactivate(s, c);
}

void bs__store_turn_end(bs__shard *s, bs_cell *c) {
  bs__pcell *p = c->persist;
  /* Nothing to write, or after the write that is out (coalesced). */
  if (!(p->flags & (BS__P_DIRTY | BS__P_FORGET)) || (p->flags & BS__P_WRITING)) return;
  int rc = take_write(s, c);
  if (rc < 0) write_failed(s, c, (p->flags & BS__P_FORGET) ? BS_STORE_REMOVE : BS_STORE_SAVE, rc);
}

void bs__store_closing(bs__shard *s, bs_cell *c) {
  bs__pcell *p = c->persist;
  if (p->flags & (BS__P_DIRTY | BS__P_FORGET)) {
    bs_store_op op = (p->flags & BS__P_FORGET) ? BS_STORE_REMOVE : BS_STORE_SAVE;
    int rc = take_write(s, c);
    if (rc < 0) {
      report(s, c, op, rc);
      release_held(s, p, 0, true, rc);
      p->flags &= (uint8_t)~(BS__P_DIRTY | BS__P_FORGET);
    }
  }
  p->flags |= BS__P_CLOSING; /* deinit's persist and forget are ignored */
}

bool bs__store_hold(bs__shard *s, bs_cell *c, bs__msg *v, uint32_t to) {
  (void)s;
  bs__pcell *p = c->persist;
  uint32_t need;
  if (p->flags & (BS__P_DIRTY | BS__P_FORGET)) need = p->seq + 1; /* this turn's */
  else if (p->flags & BS__P_WRITING) need = p->seq;                /* the last one */
  else return false;
  v->deadline = need;
  v->reply_shard = (uint16_t)to;
  bs__mb_push(&p->held, v);
  return true;
}

bool bs__store_busy(const bs_cell *c) {
  const bs__pcell *p = c->persist;
  return (p->flags & (BS__P_LOADING | BS__P_WRITING | BS__P_DIRTY | BS__P_FORGET)) ||
         p->queued || p->held.len;
}

/* ---- Loading -------------------------------------------------------------------- */

static void unpark(bs__shard *s, bs_cell *c) {
  c->flags &= (uint8_t)~BS__CELL_PARKED;
  if (bs__freeing(s->engine)) return;
  if (c->mb.len) bs__schedule(s, c);
  else bs__collect(s, c);
}

int bs__store_activate(bs__shard *s, bs_cell *c) {
  if (!c->persist) {
    c->persist = bs__calloc(&s->heap, sizeof *c->persist);
    if (!c->persist) return BS_ENOMEM;
  }
  bs__pcell *p = c->persist;
  if (!s->engine->storage) {
    report(s, c, BS_STORE_LOAD, BS_ESTORE); /* no store configured */
    return BS_ESTORE;
  }
  if (!(p->flags & (BS__P_WRITING | BS__P_LOADING))) {
    bs__msg *m = job_new(s, c, BS__STORE_LOAD, 0);
    if (!m) return BS_ENOMEM;
    p->flags |= BS__P_LOADING;
    queue_job(s, m);
  } else if (p->flags & BS__P_WRITING) {
    p->flags |= BS__P_WANT_LOAD; /* the last instance's write first */
  }
  c->flags |= BS__CELL_PARKED;
  return BS__PARKED;
}

/* Decodes a stored record into the new instance's zeroed state. The reader
 * has no arena: a decoder keeps no pointer into the record. */
static int decode(bs_cell *c, const bs__loaded *rec) {
  bs_reader r;
  bs_reader_init(&r, rec->data, rec->len, NULL);
  int rc = c->type->load_state(c->state, &r);
  if (rc == 0) rc = r.err;
  if (rc == 0 && !bs_reader_at_end(&r)) rc = BS_EDECODE; /* trailing bytes */
  return rc < 0 ? BS_ECORRUPT : 0;
}

/* The record (or its absence) is in: a new instance with it, then init. */
static int instance_from(bs__shard *s, bs_cell *c, const bs__loaded *rec, uint64_t version) {
  bs__pcell *p = c->persist;
  int rc = bs__instance_new(s, c);
  if (rc < 0) return rc;
  p->version = version;
  p->flags &= (uint8_t)~(BS__P_FOUND | BS__P_CLOSING);
  if (rec) {
    if (decode(c, rec) == 0) {
      p->flags |= BS__P_FOUND;
    } else {
      report(s, c, BS_STORE_LOAD, BS_ECORRUPT);
      if (s->engine->opts.on_corrupt_state != BS_CORRUPT_RESET) {
        bs__instance_drop(s, c);
        return BS_ECORRUPT;
      }
      memset(c->state, 0, c->type->state_size); /* the next save replaces it */
    }
  }
  return bs__instance_init(s, c);
}

static void loaded(bs__shard *s, bs_cell *c, int rc, bs__loaded *rec, uint64_t version) {
  bs__pcell *p = c->persist;
  bs_engine *e = s->engine;
  p->flags &= (uint8_t)~BS__P_LOADING;
  if (rc == BS_ENOTFOUND) {
    rc = 0;
    version = 0;
  }
  bool here = !bs__freeing(e);
#ifdef BS_WITH_CLUSTER
  /* Its partition was handed over (or this node fenced) while it loaded:
   * no instance here, where nothing routes to it any more (and which could
   * serve it again later from this stale state). Its mail, if any, is
   * routed on by dispatch. */
  if (here && (c->flags & BS__CELL_PLACED) && !bs__cl_serving(s, c)) here = false;
#endif
  if (rc == 0 && here) {
    BS__STAT(s, store_loads);
    rc = instance_from(s, c, rec, version);
    if (rc < 0) bs__fail_activation(s, c, NULL, rc);
    else bs__store_turn_end(s, c); /* init may have persisted */
  } else if (rc < 0 && here) {
    report(s, c, BS_STORE_LOAD, rc);
    bs__fail_activation(s, c, NULL, rc);
  }
  if (rec) bs__free(&e->heap, rec, sizeof *rec + rec->len);
  unpark(s, c);
}

/* ---- Completions ---------------------------------------------------------------- */

static void written(bs__shard *s, bs_cell *c, int rc, uint8_t op, uint64_t version,
                    uint32_t seq, size_t bytes) {
  bs__pcell *p = c->persist;
  p->flags &= (uint8_t)~BS__P_WRITING;
  if (rc == 0) {
    p->version = op == BS__STORE_REMOVE ? 0 : version;
    p->saved_at = bs__now(s);
    BS__STAT(s, store_writes);
    BS__BUMP(&s->stats.store_bytes, bytes);
    release_held(s, p, seq, false, 0);
    if (p->queued) {
      bs__msg *m = p->queued;
      p->queued = NULL;
      start_write(s, c, m);
    } else if (c->state) {
      bs__store_turn_end(s, c); /* what the turns since have marked */
    }
  } else {
    write_failed(s, c, op == BS__STORE_REMOVE ? BS_STORE_REMOVE : BS_STORE_SAVE, rc);
  }
  if (p->flags & BS__P_WRITING) return;
  if (p->flags & BS__P_WANT_LOAD) {
    p->flags &= (uint8_t)~BS__P_WANT_LOAD;
    unpark(s, c); /* the waiting activation now loads what was written */
  } else if (!c->state && !bs__freeing(s->engine)) {
    bs__collect(s, c);
  }
}

void bs__store_arrived(bs__shard *s, bs__msg *m) {
  bs_cell *c = m->target;
  bs__storage *st = s->engine->storage;
  int rc = m->status;
  uint8_t op = m->ctrl;
  uint64_t version = m->req_id;
  uint32_t seq = (uint32_t)m->deadline;
  size_t bytes = m->len;
  bs__loaded *rec = m->ptr;
  bs__give_back(s, m);
  BS__STORE(&s->store_pending, s->store_pending - 1, RELAXED);
  if (s->store_pending == 0 && s->index == 0) bs__hold_update(s->engine);
  if (op == BS__STORE_LOAD) loaded(s, c, rc, rec, version);
  else written(s, c, rc, op, version, seq, bytes);
  /* After what it queued: bs__storage_drain never sees a gap. */
  BS__SUB(&st->pending, 1, RELEASE);
}

void bs__store_cell_free(bs__shard *s, bs_cell *c) {
  bs__pcell *p = c->persist;
  c->persist = NULL;
  if (p->queued) bs__give_back(s, p->queued);
  bs__msg *v;
  while ((v = bs__mb_pop(&p->held))) bs__give_back(s, v);
  bs__free(&s->heap, p, sizeof *p);
}

/* ---- Inside the actor -------------------------------------------------------------- */

/* The calling actor's persistence record, if it is `ctx`'s own turn. */
static bs__pcell *own(const bs_context *ctx, const char *fn, int *rc) {
  *rc = 0;
  if (!ctx) {
    *rc = BS_EINVAL;
    return NULL;
  }
  bs_cell *c = ctx->cell;
  bs__shard *s = bs__here(ctx->engine);
  if (!s || s->current != c) {
    *rc = bs__api_fail(fn, "called outside the actor's own turn", BS_EWRONGTHREAD);
    return NULL;
  }
  if (!c->persist) *rc = BS_ENOTSUP;
  return c->persist;
}

int bs_context_persist(bs_context *ctx) {
  int rc;
  bs__pcell *p = own(ctx, "bs_context_persist", &rc);
  if (!p) return rc;
  if (!(p->flags & BS__P_CLOSING)) {
    p->flags |= BS__P_DIRTY;
    p->flags &= (uint8_t)~BS__P_FORGET;
  }
  return 0;
}

int bs_context_forget(bs_context *ctx) {
  int rc;
  bs__pcell *p = own(ctx, "bs_context_forget", &rc);
  if (!p) return rc;
  if (!(p->flags & BS__P_CLOSING)) {
    p->flags |= BS__P_FORGET;
    p->flags &= (uint8_t)~BS__P_DIRTY;
  }
  return 0;
}

bool bs_context_loaded(const bs_context *ctx) {
  return ctx && ctx->cell->persist && (ctx->cell->persist->flags & BS__P_FOUND);
}

uint64_t bs_context_version(const bs_context *ctx) {
  return ctx && ctx->cell->persist ? ctx->cell->persist->version : 0;
}
