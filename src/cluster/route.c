/* The shards' side of the cluster: where mail for a placed actor goes,
 * batches for other nodes, what arrives from them, fencing at dispatch,
 * "moved" answers and parked mail. Everything here runs on a shard's own
 * thread; what it shares with the cluster's threads is read with atomics
 * (the partition table, the directory, the lease).
 *
 * Routing a message for a placed actor, by its partition's entry:
 *   owned by this node, lease valid  -> the usual local path; every
 *                                       dispatch checks again (fencing)
 *   owned by a live other node       -> an envelope in the open batch for
 *                                       that node and its shard
 *   no owner, a hand-off, a dead
 *   owner, or our lease lapsed       -> parked on this shard, retried when
 *                                       the table changes and every 50 ms,
 *                                       a dead letter after park_ms
 * Mail from another node for a partition this node does not serve goes
 * back to its sender as "moved" with what this node believes (a hint); the
 * sender updates its table from the hint if it is newer and routes again. */
#include <stdio.h>

#include "cluster/cluster.h"

#define PARK_TICK_MS 50u

/* ---- Per-shard state -------------------------------------------------------- */

int bs__cl_shard_init(bs__shard *s) {
  if (!s->inbox.stub) { /* one shard: the cluster's threads still push */
    bs__msg *stub = bs__calloc(&s->heap, sizeof(bs__msg));
    if (!stub) return BS_ENOMEM;
    bs__inbox_init(&s->inbox, stub);
  }
  s->cl = bs__calloc(&s->heap, sizeof *s->cl);
  if (!s->cl) return BS_ENOMEM;
  s->cl->parked_parts = bs__calloc(&s->heap, (s->engine->cluster->nparts + 7) / 8);
  return s->cl->parked_parts ? 0 : BS_ENOMEM;
}

static void park_timer_stop(bs__shard *s);

void bs__cl_shard_free(bs__shard *s) {
  bs__clshard *c = s->cl;
  if (!c) return;
  for (uint32_t i = 0; i < c->nout; i++)
    if (c->out[i].b) bs__give_back(s, c->out[i].b);
  c->nout = 0;
  bs__msg *m;
  while ((m = bs__mb_pop(&c->parked))) bs__dead_letter(s, NULL, m, BS_DL_ENGINE_FREED, BS_ECANCELED);
  park_timer_stop(s);
  if (c->parked_parts) bs__free(&s->heap, c->parked_parts, (s->engine->cluster->nparts + 7) / 8);
  bs__free(&s->heap, c, sizeof *c);
  s->cl = NULL;
}

/* ---- Types and partitions ---------------------------------------------------- */

bool bs__cl_placed(bs__shard *s, const bs_actor_type *t, uint32_t *type_id) {
  bs__clshard *c = s->cl;
  const bs__types *now = BS__LOAD(&s->engine->types, ACQUIRE);
  if (c->last_type != t || c->types_seen != now) {
    const bs__ctype *ct = bs__type_by_ptr(s->engine, t);
    c->last_type = t;
    c->types_seen = now;
    c->last_placed = ct != NULL;
    c->last_type_id = ct ? ct->id : 0;
  }
  *type_id = c->last_type_id;
  return c->last_placed;
}

void bs__cl_cell_made(bs__shard *s, bs_cell *c) {
  uint32_t tid;
  if (!bs__cl_placed(s, c->type, &tid)) return;
  c->flags |= BS__CELL_PLACED;
  c->part = (uint16_t)bs__partition(tid, c->hash, s->engine->cluster->nparts);
}

bool bs__cl_serving(bs__shard *s, const bs_cell *c) {
  bs__cluster *cl = s->engine->cluster;
  uint64_t v = BS__LOAD(&cl->parts[c->part], RELAXED);
  return bs__part_state(v) == BS__PART_OWN &&
         bs__part_owner(v) == BS__LOAD(&cl->self, RELAXED) && bs__cl_lease_ok(cl);
}

static inline bool parked_for(const bs__clshard *c, uint32_t p) {
  return c->parked.len && (c->parked_parts[p / 8] & (1u << (p % 8)));
}

typedef enum where { TO_LOCAL, TO_NODE, TO_PARK } where;

/* Where mail for partition `p` goes now; for TO_NODE, to *node. */
static where where_to(bs__cluster *cl, uint32_t p, uint16_t *node, uint32_t *epoch) {
  uint64_t v = BS__LOAD(&cl->parts[p], RELAXED);
  *epoch = bs__part_epoch(v);
  if (bs__part_state(v) != BS__PART_OWN) return TO_PARK;
  uint16_t o = bs__part_owner(v);
  if (o == BS__LOAD(&cl->self, RELAXED)) return bs__cl_lease_ok(cl) ? TO_LOCAL : TO_PARK;
  bs__node *n = bs__node_at(cl, o);
  if (!n || !BS__LOAD(&n->alive, RELAXED)) return TO_PARK;
  *node = o;
  return TO_NODE;
}

/* ---- Bodies ---------------------------------------------------------------------- */

/* The bytes of a message's body as they go on the wire. The one place a
 * body is serialised for another node: a body that holds blob references
 * (msg/blob.c) is flattened, each blob written as a byte string (which the
 * receiver reads back as a blob of its own), into a pooled block returned
 * in *tmp for the caller to give back once the bytes are copied; otherwise
 * *tmp is NULL and the bytes are the body's. Fails for memory only. */
static int body_bytes(bs__shard *s, const bs__msg *m, const uint8_t **p, uint32_t *len,
                      bs__msg **tmp) {
  *tmp = NULL;
  if (BS__LIKELY(!bs__msg_has_blobs(m))) {
    *p = m->body;
    *len = m->len;
    return 0;
  }
  bs__msg *t = bs__msg_get(&s->pool, m->len);
  if (!t) return BS_ENOMEM;
  t->body = t->data;
  bs_writer w;
  bs__writer_bind(s, &w, t);
  int rc = bs__msg_flatten(m, &w);
  if (rc < 0 || w.len > UINT32_MAX) {
    bs__give_back(s, bs__writer_unbind(&w));
    return rc < 0 ? rc : BS_ETOOBIG;
  }
  *tmp = bs__writer_finish(&w);
  *p = (*tmp)->body;
  *len = (*tmp)->len;
  return 0;
}

/* `m` with its routing key in front of its body, whatever it had: mail
 * queued to a cell (key in the cell, body at data[0]) must carry the key
 * once it leaves the cell. May replace the block; NULL out of memory (m is
 * then consumed as a dead letter). */
static bs__msg *with_key(bs__shard *s, bs__msg *m, const bs_cell *c) {
  if (m->klen || !c) {
    m->target = NULL;
    return m;
  }
  /* The whole key, hash included: it picks the partition and the shard,
   * and a stream element (queued straight to its subscriber's cell) never
   * had one - its block's was left from an earlier use. */
  m->thash = c->hash;
  m->ttype = c->type;
  size_t klen = c->id_len;
  if (m->kind == BS__MSG_ELEM || m->kind == BS__MSG_STOP) {
    /* The body is elsewhere (ELEM) or empty (STOP): data holds the key. */
    if (klen <= m->cap) {
      memcpy(m->data, c->id, klen);
      m->klen = (uint8_t)klen;
      if (m->kind == BS__MSG_STOP) m->body = m->data + klen;
      m->target = NULL;
      return m;
    }
  }
  bs__msg *n = bs__msg_get(&s->pool, klen + m->len);
  if (!n) {
    bs__dead_letter(s, (bs_cell *)c, m, BS_DL_NO_MEMORY, BS_ENOMEM);
    return NULL;
  }
  bs__msg_copy_env(n, m);
  memcpy(n->data, c->id, klen);
  n->klen = (uint8_t)klen;
  if (m->kind == BS__MSG_ELEM) {
    n->body = m->body; /* still in m->shared, which n now holds */
    m->shared = NULL;
  } else {
    memcpy(n->data + klen, m->body, m->len);
    n->body = n->data + klen;
  }
  n->len = m->len;
  n->target = NULL;
  bs__give_back(s, m);
  return n;
}

/* ---- Batches ------------------------------------------------------------------------ */

static bs__clout *out_find(bs__clshard *c, uint16_t node, uint16_t dshard, struct bs_stream *st) {
  for (uint32_t i = 0; i < c->nout; i++) {
    bs__clout *o = &c->out[i];
    if (o->node == node && o->dshard == dshard && o->st == st) return o;
  }
  return NULL;
}

/* Sends batch `o` to the sender thread and forgets it. */
static void out_close(bs__shard *s, bs__clout *o) {
  bs__cluster *cl = s->engine->cluster;
  bs__msg *b = o->b;
  uint64_t pos = 0;
  if (!o->st) {
    bs__node *n = cl->nodes[o->node];
    pos = n->sent[s->index];
    BS__STORE(&n->sent[s->index], pos + o->n, RELEASE);
  }
  bs__wire_patch_frame(b->data, o->n, pos);
  b->len = o->used;
  b->ctrl = o->st ? BS__OUT_STREAM : BS__OUT_MAIL;
  b->rnode = o->node;
  b->ptr = o->st;
  bs__cl_outq_push(cl, b);
  bs__clshard *c = s->cl;
  *o = c->out[--c->nout];
}

void bs__cl_flush(bs__shard *s) {
  bs__clshard *c = s->cl;
  while (c->nout) out_close(s, &c->out[c->nout - 1]);
}

/* An open batch for (node, dshard) or stream `st` with room for `need`
 * more bytes; NULL out of memory. */
static bs__clout *out_open(bs__shard *s, uint16_t node, uint16_t dshard, struct bs_stream *st,
                           size_t need) {
  bs__cluster *cl = s->engine->cluster;
  bs__clshard *c = s->cl;
  bs__clout *o = out_find(c, node, dshard, st);
  if (o && o->used + need > o->b->cap) {
    out_close(s, o);
    o = NULL;
  }
  if (o) return o;
  if (c->nout == BS__OUT_OPEN) bs__cl_flush(s);
  bs__frame f = {0};
  f.kind = st ? BS__FR_STREAM : BS__FR_MAIL;
  f.sshard = s->index;
  f.dshard = dshard;
  f.sboot = cl->boot;
  f.sgen = BS__LOAD(&cl->gen, RELAXED);
  f.dboot = st ? 0 : cl->nodes[node]->boot;
  f.sname = cl->node;
  f.sname_len = (uint8_t)strlen(cl->node);
  size_t hdr = bs__wire_frame_size(f.sname_len);
  size_t cap = hdr + need > BS__BATCH_BYTES ? hdr + need : BS__BATCH_BYTES;
  bs__msg *b = bs__msg_get(&s->pool, cap);
  if (!b) return NULL;
  o = &c->out[c->nout++];
  o->b = b;
  o->node = node;
  o->dshard = dshard;
  o->st = st;
  o->n = 0;
  o->used = (uint32_t)bs__wire_put_frame(b->data, &f);
  if (!s->in_drain) bs__wake(s); /* the drain's end sends it */
  return o;
}

/* Adds envelope `env` to the batch for (node, dshard). 0, BS_ENOMEM,
 * BS_EUNREACHABLE (the sender thread is too far behind: backpressure). */
static int put_env(bs__shard *s, uint16_t node, uint16_t dshard, const bs__env *env) {
  bs__cluster *cl = s->engine->cluster;
  if (BS__UNLIKELY(BS__LOAD(&cl->outq_bytes, RELAXED) > cl->outq_max)) return BS_EUNREACHABLE;
  size_t need = bs__wire_env_size(env);
  /* One envelope must fit one NATS message, with the frame's header. */
  if (need + bs__wire_frame_size(BS__NODE_NAME_MAX) > cl->max_frame) return BS_ETOOBIG;
  bs__clout *o = out_open(s, node, dshard, NULL, need);
  if (!o) return BS_ENOMEM;
  o->used += (uint32_t)bs__wire_put_env(o->b->data + o->used, env);
  o->n++;
  bs__node *n = cl->nodes[node];
  BS__ADD(&n->msgs_out, 1, RELAXED);
  BS__CL_ADD(cl, msgs_out, 1);
  if (o->used >= BS__BATCH_BYTES) out_close(s, o);
  return 0;
}

/* ---- Sending -------------------------------------------------------------------------- */

/* Delivers keyed `m` on its shard here (another one of ours, perhaps),
 * where bs__deliver_local decides again whether this node serves it. */
static void to_its_shard(bs__shard *s, bs__msg *m) {
  uint32_t at = bs__shard_of(s->engine, m->thash);
  if (at == s->index) bs__deliver_local(s, m);
  else bs__push(s, at, m);
}

static void park(bs__shard *s, bs__msg *m);

/* The envelope for routed message `m` (its key in front of its body); its
 * flattened body, if it needed one, in *tmp (see body_bytes). */
static int env_of(bs__shard *s, const bs__msg *m, uint32_t type_id, uint32_t epoch,
                  bs__env *e, bs__msg **tmp) {
  memset(e, 0, sizeof *e);
  e->kind = m->kind == BS__MSG_STOP ? BS__ENV_STOP
            : m->kind == BS__MSG_ELEM ? BS__ENV_ELEM
                                      : BS__ENV_CALL;
  e->inner = e->kind;
  e->hops = m->hops > 15 ? 15 : m->hops;
  e->type_id = type_id;
  e->epoch = epoch;
  e->id = bs__msg_key(m);
  e->id_len = m->klen;
  if (m->kind == BS__MSG_CALL && m->req_id) {
    e->flags |= BS__EF_REQUEST;
    e->req_id = m->req_id;
    e->reply_shard = m->reply_shard;
    if (m->deadline) {
      uint64_t now = bs__now(s);
      uint64_t left = m->deadline > now ? m->deadline - now : 1;
      e->remaining_ms = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    }
  }
  if (m->kind == BS__MSG_ELEM) e->method_id = m->method->id;
  *tmp = NULL;
  return m->kind != BS__MSG_STOP ? body_bytes(s, m, &e->body, &e->body_len, tmp) : 0;
}

/* Sends keyed message `m` to `node`; consumes it. */
static void send_to(bs__shard *s, bs__msg *m, uint16_t node, uint32_t type_id, uint32_t epoch) {
  bs__cluster *cl = s->engine->cluster;
  bs__env env;
  bs__msg *tmp;
  int rc = env_of(s, m, type_id, epoch, &env, &tmp);
  if (rc == 0) {
    uint32_t dshard = bs__shard_in(m->thash, BS__LOAD(&cl->nodes[node]->shards, RELAXED));
    rc = put_env(s, node, (uint16_t)dshard, &env);
    if (tmp) bs__give_back(s, tmp);
  }
  if (rc < 0) {
    if (rc == BS_EUNREACHABLE) BS__CL_ADD(cl, unreachable, 1);
    bs__dead_letter(s, NULL, m, rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNREACHABLE, rc);
    return;
  }
  /* A request made on this shard now waits on that node: if it dies, the
   * request fails at once instead of at its deadline. */
  if (m->req_id && m->reply_shard == s->index && !m->rnode)
    bs__request_set_node(s, m->req_id, node);
  bs__release(s, m);
}

/* Routes keyed local mail `m` (rnode 0) by the table, never back to
 * `avoid` (the node that just answered "moved"): there it parks. */
static void reroute(bs__shard *s, bs__msg *m, uint16_t avoid) {
  bs__cluster *cl = s->engine->cluster;
  uint32_t tid = 0, epoch;
  uint16_t node = 0;
  bs__cl_placed(s, m->ttype, &tid);
  uint32_t p = bs__partition(tid, m->thash, cl->nparts);
  switch (where_to(cl, p, &node, &epoch)) {
  case TO_LOCAL:
    to_its_shard(s, m);
    return;
  case TO_NODE:
    if (node != avoid) {
      send_to(s, m, node, tid, epoch);
      return;
    }
    break;
  case TO_PARK: break;
  }
  park(s, m);
}

int bs__cl_route(bs__shard *s, bs__msg *m) {
  bs__cluster *cl = s->engine->cluster;
  uint32_t tid, epoch;
  uint16_t node = 0;
  if (!bs__cl_placed(s, m->ttype, &tid)) return 0;
  uint32_t p = bs__partition(tid, m->thash, cl->nparts);
  where w = parked_for(s->cl, p) ? TO_PARK : where_to(cl, p, &node, &epoch);
  if (w == TO_LOCAL) return 0;
  m = with_key(s, m, m->target);
  if (!m) return 1;
  if (w == TO_NODE) send_to(s, m, node, tid, epoch);
  else park(s, m);
  return 1;
}

/* ---- Answers ---------------------------------------------------------------------------- */

static void answer_to(bs__shard *s, uint16_t node, uint16_t shard, uint64_t req_id, int status,
                      const uint8_t *body, uint32_t len) {
  bs__cluster *cl = s->engine->cluster;
  bs__node *n = bs__node_at(cl, node);
  if (!n || BS__LOAD(&n->gone, RELAXED)) {
    /* Its caller's process is gone: nobody to answer. A value is a loss. */
    if (status == 0) bs__cl_report(s, "(answer to a departed node)", BS_DL_UNREACHABLE, BS_EUNREACHABLE);
    return;
  }
  bs__env e;
  memset(&e, 0, sizeof e);
  e.kind = BS__ENV_VALUE;
  e.req_id = req_id;
  e.reply_shard = shard;
  e.status = status;
  e.body = body;
  e.body_len = len;
  int rc = put_env(s, node, shard, &e);
  if (rc == BS_ETOOBIG && status == 0) {
    /* The value does not fit a NATS message: the caller learns why. */
    bs__cl_report(s, "(answer)", BS_DL_REPLY_UNENCODABLE, rc);
    e.status = BS_ETOOBIG;
    e.body = NULL;
    e.body_len = 0;
    rc = put_env(s, node, shard, &e);
  }
  if (rc < 0) bs__cl_report(s, "(answer)", rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNREACHABLE, rc);
}

void bs__cl_answer(bs__shard *s, bs__msg *v) {
  const uint8_t *p = NULL;
  uint32_t len = 0;
  bs__msg *tmp = NULL;
  int status = v->status;
  if (status == 0) {
    int rc = body_bytes(s, v, &p, &len, &tmp);
    if (rc < 0) { /* the caller learns why */
      bs__cl_report(s, "(answer)", rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_REPLY_UNENCODABLE, rc);
      status = rc;
    }
  }
  answer_to(s, v->rnode, v->reply_shard, v->req_id, status, p, len);
  if (tmp) bs__give_back(s, tmp);
  bs__give_back(s, v);
}

/* ---- "Moved" ------------------------------------------------------------------------------ */

/* Remote mail `m` for a partition this node does not serve: back to the
 * node it came from, with what this node's table says. */
static void bounce(bs__shard *s, bs__msg *m) {
  bs__cluster *cl = s->engine->cluster;
  bs__node *origin = bs__node_at(cl, m->rnode);
  uint32_t tid = 0;
  bs__cl_placed(s, m->ttype, &tid);
  if (!origin || BS__LOAD(&origin->gone, RELAXED)) {
    BS__CL_ADD(cl, unreachable, 1);
    bs__dead_letter(s, NULL, m, BS_DL_UNREACHABLE, BS_EUNREACHABLE);
    return;
  }
  bs__env e;
  bs__msg *tmp; /* remote mail holds no blob references: never set */
  env_of(s, m, tid, m->epoch, &e, &tmp);
  uint32_t p = bs__partition(tid, m->thash, cl->nparts);
  uint64_t v = BS__LOAD(&cl->parts[p], RELAXED);
  e.kind = BS__ENV_MOVED;
  e.hint_epoch = bs__part_epoch(v);
  e.hint_state = bs__part_state(v);
  bs__node *h = bs__node_at(cl, bs__part_owner(v));
  if (h) {
    e.hint_name = h->name;
    e.hint_name_len = h->name_len;
    e.hint_boot = h->boot;
    e.hint_gen = h->gen;
  }
  /* The remaining time of a request is no longer ours to keep: the caller
   * has its own deadline. */
  e.remaining_ms = 0;
  uint32_t dshard = bs__shard_in(m->thash, BS__LOAD(&origin->shards, RELAXED));
  int rc = put_env(s, m->rnode, (uint16_t)dshard, &e);
  if (rc < 0) {
    bs__dead_letter(s, NULL, m, rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNREACHABLE, rc);
    return;
  }
  BS__CL_ADD(cl, moved_out, 1);
  bs__release(s, m);
}

/* Mail that came from another node, at its shard here. */
int bs__cl_accept(bs__shard *s, bs__msg *m) {
  bs__cluster *cl = s->engine->cluster;
  uint32_t tid;
  if (!bs__cl_placed(s, m->ttype, &tid)) return 1;
  uint32_t p = bs__partition(tid, m->thash, cl->nparts);
  uint64_t v = BS__LOAD(&cl->parts[p], RELAXED);
  if (bs__part_state(v) == BS__PART_OWN && bs__part_owner(v) == BS__LOAD(&cl->self, RELAXED) &&
      bs__cl_lease_ok(cl) && !parked_for(s->cl, p))
    return 1;
  if (parked_for(s->cl, p)) {
    park(s, m);
    return 0;
  }
  if (!m->rnode) {
    reroute(s, m, 0);
    return 0;
  }
  /* The sender saw a newer table than ours: ours will catch up. */
  if (bs__part_epoch(v) < m->epoch || !bs__cl_lease_ok(cl)) park(s, m);
  else bounce(s, m);
  return 0;
}

/* ---- Fencing at dispatch ----------------------------------------------------------------- */

/* Where mail that leaves a cell goes. */
static void leave_cell(bs__shard *s, bs_cell *c, bs__msg *m) {
  if (m->kind == BS__MSG_REPLY) {
    /* A continuation of the instance that just went: an orphan. */
    bs__dead_letter(s, c, m, BS_DL_ORPHAN_REPLY, BS_ESTOPPED);
    return;
  }
  m = with_key(s, m, c);
  if (!m) return;
  if (m->rnode) to_its_shard(s, m); /* bounced, parked or (now) delivered */
  else reroute(s, m, 0);
}

void bs__cl_unserve(bs__shard *s, bs_cell *c, bs__msg *m) {
  if (c->state) bs__deactivate(s, c);
  bs__mailbox held = c->mb;
  memset(&c->mb, 0, sizeof c->mb);
  s->queued -= held.len;
  if (m) leave_cell(s, c, m);
  bs__msg *x;
  while ((x = bs__mb_pop(&held))) leave_cell(s, c, x);
}

static bool released(const uint8_t *bits, const bs_cell *c) {
  return (c->flags & BS__CELL_PLACED) && (bits[c->part / 8] & (1u << (c->part % 8)));
}

void bs__cl_release(bs__shard *s, const void *arg) {
  const uint8_t *bits = arg;
  bs__registry *r = &s->reg;
  /* The cells first, then their deinit: it runs the user's code, which may
   * send, and so grow or shrink the registry under a scan. */
  size_t n = 0, cap = BS__LOAD(&r->count, RELAXED);
  bs_cell **cells = cap ? bs__alloc(&s->heap, cap * sizeof *cells) : NULL;
  if (cells) {
    for (size_t i = 0; i < r->cap && n < cap; i++)
      if (r->slots[i] && released(bits, r->slots[i])) cells[n++] = r->slots[i];
    /* Nothing here frees a cell: sends only queue. */
    for (size_t k = 0; k < n; k++)
      if (cells[k]->state || cells[k]->mb.len) bs__cl_unserve(s, cells[k], NULL);
    for (size_t k = 0; k < n; k++) bs__collect(s, cells[k]);
    bs__free(&s->heap, cells, cap * sizeof *cells);
  } else {
    /* Out of memory: one cell at a time, scanning again after each
     * (their empty cells are collected by later turns). */
    for (;;) {
      bs_cell *c = NULL;
      for (size_t i = 0; i < r->cap && !c; i++)
        if (r->slots[i] && released(bits, r->slots[i]) && (r->slots[i]->state || r->slots[i]->mb.len))
          c = r->slots[i];
      if (!c) break;
      bs__cl_unserve(s, c, NULL);
    }
  }
  bs__cl_flush(s);
}

void bs__cl_store_check(bs__shard *s, const void *arg) {
  const uint8_t *bits = arg;
  bs__registry *r = &s->reg;
  uint32_t busy = 0;
  if (s->engine->storage)
    for (size_t i = 0; i < r->cap; i++) {
      bs_cell *c = r->slots[i];
      if (c && c->persist && released(bits, c) && bs__store_busy(c)) busy++;
    }
  BS__STORE(&s->cl->store_busy, busy, RELEASE);
}

/* ---- Parking ---------------------------------------------------------------------------------- */

static void park_tick(bs_timer *t);

static void park_timer_stop(bs__shard *s) {
  bs__clshard *c = s->cl;
  if (c->park_timer_on) bs_timer_stop(&c->park_timer);
  c->park_timer_on = false;
}

static void park(bs__shard *s, bs__msg *m) {
  bs__cluster *cl = s->engine->cluster;
  bs__clshard *c = s->cl;
  uint32_t tid = 0;
  bs__cl_placed(s, m->ttype, &tid);
  uint32_t p = bs__partition(tid, m->thash, cl->nparts);
  c->parked_parts[p / 8] |= (uint8_t)(1u << (p % 8));
  if (!m->ptr) m->ptr = (void *)(uintptr_t)(bs__now(s) | 1); /* first parked */
  bs__mb_push(&c->parked, m);
  BS__CL_ADD(cl, parked, 1);
  if (!c->park_timer_on) {
    if (!c->park_timer.engine) {
      bs_timer_init(s->engine, &c->park_timer);
      bs__timer_set_weak(&c->park_timer);
      c->park_timer.data = s;
    }
    if (bs_timer_start(&c->park_timer, park_tick, PARK_TICK_MS, PARK_TICK_MS) == 0)
      c->park_timer_on = true;
  }
}

static void retry_parked(bs__shard *s) {
  bs__cluster *cl = s->engine->cluster;
  bs__clshard *c = s->cl;
  bs__mailbox held = c->parked;
  memset(&c->parked, 0, sizeof c->parked);
  /* Routed again in order: what parks again marks its partition again. */
  memset(c->parked_parts, 0, (cl->nparts + 7) / 8);
  uint64_t now = bs__now(s);
  bs__msg *m;
  while ((m = bs__mb_pop(&held))) {
    uint64_t since = (uint64_t)(uintptr_t)m->ptr;
    if (now >= since && now - since >= cl->o.park_ms) {
      m->ptr = NULL;
      BS__CL_ADD(cl, unreachable, 1);
      bs__dead_letter(s, NULL, m, BS_DL_UNREACHABLE, BS_EUNREACHABLE);
      continue;
    }
    if (m->rnode) to_its_shard(s, m);
    else reroute(s, m, 0);
  }
  if (!c->parked.len) park_timer_stop(s);
  bs__cl_flush(s);
}

static void park_tick(bs_timer *t) {
  bs__shard *s = t->data;
  retry_parked(s);
  bs__flush(s);
}

void bs__cl_retry(bs__shard *s, const void *arg) {
  (void)arg;
  if (s->cl->parked.len) retry_parked(s);
}

/* ---- Arrivals ---------------------------------------------------------------------------------- */

void bs__cl_report(bs__shard *s, const char *what, bs_dead_letter_reason reason, int code) {
  BS__STAT(s, dead_letters);
  BS__BUMP(&s->stats.dead_by_reason[reason], 1);
  bs_engine *e = s->engine;
  if (!e->opts.on_dead_letter) return;
  bs_dead_letter dl = {0};
  dl.target_id = what;
  dl.reason = reason;
  dl.code = code;
  e->opts.on_dead_letter(e->opts.dead_letter_ud, &dl);
}

/* A dead letter for a remote envelope that could not even become a
 * message; a request among them is answered with the error. */
static void refuse(bs__shard *s, uint16_t from, const bs__env *env, const bs_actor_type *t,
                   bs_dead_letter_reason reason, int code, int status) {
  char id[BS_ID_MAX + 1];
  memcpy(id, env->id, env->id_len);
  id[env->id_len] = '\0';
  BS__STAT(s, sent);
  BS__STAT(s, dead_letters);
  BS__BUMP(&s->stats.dead_by_reason[reason], 1);
  bs_engine *e = s->engine;
  if (e->opts.on_dead_letter) {
    bs_dead_letter dl = {0};
    dl.target_id = id;
    dl.type_name = t ? t->name : NULL;
    dl.method_id = env->inner == BS__ENV_ELEM ? env->method_id : 0;
    dl.reason = reason;
    dl.code = code;
    e->opts.on_dead_letter(e->opts.dead_letter_ud, &dl);
  }
  if (env->inner == BS__ENV_CALL && (env->flags & BS__EF_REQUEST) && env->kind != BS__ENV_MOVED)
    answer_to(s, from, env->reply_shard, env->req_id, status, NULL, 0);
}

/* A routed envelope as a message of this shard's pool; NULL if refused. */
static bs__msg *msg_of(bs__shard *s, uint16_t from, const bs__env *env, const bs__ctype **ct) {
  bs_engine *e = s->engine;
  *ct = bs__type_by_id(e, env->type_id);
  if (!*ct) {
    refuse(s, from, env, NULL, BS_DL_NOT_REGISTERED, BS_ENOTREGISTERED, BS_ENOTREGISTERED);
    return NULL;
  }
  const bs_actor_type *t = (*ct)->type;
  const bs_method *meth = NULL;
  if (env->inner == BS__ENV_ELEM) {
    meth = bs__find_method(t, env->method_id);
    if (!meth || meth->argc != 1) {
      refuse(s, from, env, t, BS_DL_UNKNOWN_METHOD, BS_ENOMETHOD, BS_ENOMETHOD);
      return NULL;
    }
  }
  bs__msg *m = bs__msg_get(&s->pool, (size_t)env->id_len + env->body_len);
  if (!m) {
    refuse(s, from, env, t, BS_DL_NO_MEMORY, BS_ENOMEM, BS_ENOMEM);
    return NULL;
  }
  m->kind = env->inner == BS__ENV_STOP ? BS__MSG_STOP
            : env->inner == BS__ENV_ELEM ? BS__MSG_ELEM
                                         : BS__MSG_CALL;
  m->ttype = t;
  m->thash = bs__hash_id(env->id, env->id_len);
  memcpy(m->data, env->id, env->id_len);
  m->klen = env->id_len;
  m->body = m->data + env->id_len;
  if (env->body_len) memcpy(m->body, env->body, env->body_len);
  m->len = env->body_len;
  m->method = meth;
  m->epoch = env->epoch;
  m->hops = env->hops;
  if (env->inner == BS__ENV_CALL && (env->flags & BS__EF_REQUEST)) {
    m->req_id = env->req_id ? env->req_id : 1; /* 0 means "no answer" */
    m->reply_shard = env->reply_shard;
    if (env->remaining_ms) {
      m->deadline = bs__add_ms(bs__now(s), env->remaining_ms);
      m->rflags |= BS__RF_DEADLINE;
    }
  }
  return m;
}

static void call_arrived(bs__shard *s, uint16_t from, const bs__env *env) {
  const bs__ctype *ct;
  bs__msg *m = msg_of(s, from, env, &ct);
  if (!m) return;
  m->rnode = from;
  if (m->kind != BS__MSG_STOP) BS__STAT(s, sent);
  to_its_shard(s, m);
}

/* We are the origin of a bounced envelope: learn from the hint, then
 * route it again. */
static void moved_arrived(bs__shard *s, uint16_t from, const bs__env *env) {
  bs__cluster *cl = s->engine->cluster;
  BS__CL_ADD(cl, moved_in, 1);
  const bs__ctype *ct;
  bs__msg *m = msg_of(s, 0, env, &ct);
  if (!m) return;
  uint32_t p = bs__partition(ct->id, m->thash, cl->nparts);
  if (env->hint_name) {
    uint16_t h = bs__node_lookup(cl, env->hint_name, env->hint_name_len, env->hint_boot,
                                 env->hint_gen);
    /* Another node's word about a third, live node is safe to take when it
     * is newer (the worst a wrong one does is one more "moved"); about
     * ourselves, or a node we do not know alive, only our own table counts. */
    bs__node *hn = bs__node_at(cl, h);
    if (hn && h != BS__LOAD(&cl->self, RELAXED) && BS__LOAD(&hn->alive, RELAXED)) {
      uint64_t cur = BS__LOAD(&cl->parts[p], RELAXED);
      uint64_t want = bs__part_pack(env->hint_epoch, h, env->hint_state);
      while (bs__part_epoch(cur) < env->hint_epoch &&
             !BS__CAS(&cl->parts[p], &cur, want, RELAXED)) {
      }
    }
  }
  m->hops = (uint8_t)(env->hops + 1);
  m->rnode = 0;
  if (m->hops > BS__HOPS_MAX) {
    bs__dead_letter(s, NULL, m, BS_DL_MOVED, BS_EMOVED);
    return;
  }
  reroute(s, m, from);
}

static void value_arrived(bs__shard *s, const bs__env *env) {
  bs__cluster *cl = s->engine->cluster;
  if (env->reply_shard >= s->engine->nshards || env->req_id == 0) {
    BS__CL_ADD(cl, undecodable, 1);
    bs__cl_report(s, "(remote answer)", BS_DL_UNDECODABLE_REMOTE, BS_EDECODE);
    return;
  }
  int status = env->status;
  /* Statuses are 0 or a BS_E* code: anything else from outside is noise. */
  if (status > 0 || status <= BS__ERR_LAST) status = BS_EDECODE;
  bs__msg *v = bs__msg_get(&s->pool, status == 0 ? env->body_len : 0);
  if (!v) {
    /* Its request will time out; the loss is counted. */
    bs__cl_report(s, "(remote answer)", BS_DL_NO_MEMORY, BS_ENOMEM);
    return;
  }
  v->kind = BS__MSG_VALUE;
  v->req_id = env->req_id;
  v->status = status;
  if (status == 0 && env->body_len) memcpy(v->data, env->body, env->body_len);
  v->len = status == 0 ? env->body_len : 0;
  if (env->reply_shard == s->index) bs__answer_arrived(s, v);
  else bs__push(s, env->reply_shard, v);
}

static void mail_arrived(bs__shard *s, const uint8_t *p, size_t n, uint16_t from) {
  bs__cluster *cl = s->engine->cluster;
  bs__frame f;
  bs__wire_cur c;
  if (bs__wire_frame(p, n, &f, &c) < 0 || f.kind != BS__FR_MAIL) {
    BS__CL_ADD(cl, undecodable, 1);
    bs__cl_report(s, "(remote frame)", BS_DL_UNDECODABLE_REMOTE, BS_EDECODE);
    return;
  }
  bs__env env;
  int rc;
  uint32_t got = 0;
  while ((rc = bs__wire_env(&c, &env)) == 1) {
    got++;
    switch (env.kind) {
    case BS__ENV_VALUE: value_arrived(s, &env); break;
    case BS__ENV_MOVED: moved_arrived(s, from, &env); break;
    default: call_arrived(s, from, &env); break;
    }
  }
  BS__CL_ADD(cl, msgs_in, got);
  bs__node *x = bs__node_at(cl, from);
  if (x) BS__ADD(&x->msgs_in, got, RELAXED);
  if (rc < 0) {
    /* The rest of the frame cannot be trusted: its envelopes are lost. */
    BS__CL_ADD(cl, undecodable, 1);
    bs__cl_report(s, "(remote envelope)", BS_DL_UNDECODABLE_REMOTE, BS_EDECODE);
  }
}

void bs__cl_arrive(bs__shard *s, bs__msg *m) {
  bs__cluster *cl = s->engine->cluster;
  bool live = !bs__freeing(s->engine) && !BS__LOAD(&cl->stopping, ACQUIRE);
  switch (m->ctrl) {
  case BS__NODE_CALL: {
    bs__clcall c;
    memcpy(&c, m->data, sizeof c);
    if (live) c.fn(s, m->data + sizeof c);
    if (c.wait) bs__cl_wait_done(cl, c.wait);
    break;
  }
  case BS__NODE_MAIL:
    if (live) mail_arrived(s, m->body, m->len, m->rnode);
    break;
  case BS__NODE_STREAM:
    if (live) bs__stream_arrived(s, m->body, m->len);
    break;
  default: break;
  }
  if (m->ptr) cl->frame_done(cl, m->ptr); /* what the frame lives in */
  bs__cl_node_msg_free(cl, m);
  if (live) bs__cl_flush(s);
}

/* ---- Departures ------------------------------------------------------------------------------------ */

void bs__cl_node_gone(bs__shard *s, const void *arg) {
  uint16_t node;
  memcpy(&node, arg, sizeof node);
  bs__requests_fail_node(s, node, BS_EUNREACHABLE);
}

/* ---- Streams --------------------------------------------------------------------------------------- */

void bs__cl_stream_out(bs__shard *s, struct bs_stream *st, const bs__msg *body) {
  bs__cluster *cl = s->engine->cluster;
  const char *id = bs_stream_id(st);
  uint8_t id_len = (uint8_t)strlen(id);
  const uint8_t *bytes;
  uint32_t len;
  if (BS__LOAD(&cl->outq_bytes, RELAXED) > cl->outq_max) {
    BS__CL_ADD(cl, unreachable, 1);
    bs__cl_report(s, id, BS_DL_UNREACHABLE, BS_EUNREACHABLE);
    return;
  }
  bs__msg *tmp;
  int rc = body_bytes(s, body, &bytes, &len, &tmp);
  if (rc < 0) {
    bs__cl_report(s, id, rc == BS_ENOMEM ? BS_DL_NO_MEMORY : BS_DL_UNREACHABLE, rc);
    return;
  }
  size_t need = bs__wire_elem_size(id_len, len);
  bs__clout *o = NULL;
  if (need + bs__wire_frame_size(BS__NODE_NAME_MAX) > cl->max_frame) {
    bs__cl_report(s, id, BS_DL_UNREACHABLE, BS_ETOOBIG);
  } else if (!(o = out_open(s, 0, 0, st, need))) {
    bs__cl_report(s, id, BS_DL_NO_MEMORY, BS_ENOMEM);
  } else {
    o->used += (uint32_t)bs__wire_put_elem(o->b->data + o->used, id, id_len, bytes, len);
    o->n++;
    BS__CL_ADD(cl, stream_out, 1);
  }
  if (tmp) bs__give_back(s, tmp);
  if (o && o->used >= BS__BATCH_BYTES) out_close(s, o);
}

void bs__cl_stream_interest(bs_engine *e, struct bs_stream *st, bool on) {
  bs__cluster *cl = e->cluster;
  const char *id = bs_stream_id(st);
  size_t len = strlen(id);
  bs__msg *m = bs__cl_node_msg(cl, on ? BS__OUT_SUB : BS__OUT_UNSUB, len);
  if (!m) {
    /* Remote elements will not reach this node's subscribers: say so. */
    fprintf(stderr, "backstage: cluster: out of memory subscribing to stream %s\n", id);
    return;
  }
  memcpy(m->data, id, len);
  m->len = (uint32_t)len;
  bs__cl_outq_push(cl, m);
}
