/* The cluster's life and what its threads share: options, the directory of
 * nodes, the sender queue, pushes into shard inboxes from foreign threads,
 * and the figures the API and the inspector read. The NATS side is nats.c,
 * the shards' side route.c. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"

#define DEF_PARTS 1024u
#define DEF_HEARTBEAT 1000u
#define DEF_LEASE 5000u
#define DEF_STEP 128u
#define DEF_JOIN 15000u
#define DEF_PARK 10000u
#define DEF_REQ_TIMEOUT 30000u
#define OUTQ_MAX ((uint64_t)64 << 20) /* bytes queued for the sender */

void bs_cluster_options_init(bs_cluster_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->partitions = DEF_PARTS;
  o->heartbeat_ms = DEF_HEARTBEAT;
  o->lease_ms = DEF_LEASE;
  o->rebalance_step = DEF_STEP;
  o->join_timeout_ms = DEF_JOIN;
  o->park_ms = DEF_PARK;
  o->request_timeout_ms = DEF_REQ_TIMEOUT;
}

uint64_t bs__cl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Options --------------------------------------------------------------- */

static bool name_ok(const char *s, size_t max) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > max) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      return false;
  }
  return true;
}

/* "host-pid", other characters replaced by '-'. */
static void default_node(char *out, size_t cap) {
  char host[64] = "node";
  if (gethostname(host, sizeof host) != 0) strcpy(host, "node");
  host[sizeof host - 1] = '\0';
  snprintf(out, cap, "%.40s-%ld", host, (long)getpid());
  for (char *p = out; *p; p++)
    if (!name_ok((char[]){*p, 0}, 1)) *p = '-';
}

/* The string fields of bs_cluster_options: copied into one block
 * (cl->strs), the copy's pointers pointing there. */
static const size_t str_offs[] = {
    offsetof(bs_cluster_options, servers),       offsetof(bs_cluster_options, name),
    offsetof(bs_cluster_options, node),          offsetof(bs_cluster_options, user),
    offsetof(bs_cluster_options, password),      offsetof(bs_cluster_options, token),
    offsetof(bs_cluster_options, creds_file),    offsetof(bs_cluster_options, nkey_seed_file),
    offsetof(bs_cluster_options, nkey_public),   offsetof(bs_cluster_options, tls_ca_file),
    offsetof(bs_cluster_options, tls_cert_file), offsetof(bs_cluster_options, tls_key_file),
    offsetof(bs_cluster_options, tls_hostname),  offsetof(bs_cluster_options, advertise)};
#define NSTRS (sizeof str_offs / sizeof *str_offs)

static const char *str_at(const bs_cluster_options *o, size_t i) {
  const char *v;
  memcpy(&v, (const char *)o + str_offs[i], sizeof v);
  return v;
}

static int copy_strings(bs__cluster *cl, const bs_cluster_options *src) {
  size_t total = 0;
  for (size_t i = 0; i < NSTRS; i++) {
    const char *v = str_at(src, i);
    if (v) total += strlen(v) + 1;
  }
  cl->strs = total ? bs__alloc(&cl->engine->heap, total) : NULL;
  if (total && !cl->strs) return BS_ENOMEM;
  cl->strs_len = total;
  char *at = cl->strs;
  for (size_t i = 0; i < NSTRS; i++) {
    const char *v = str_at(src, i), *copy = NULL;
    if (v) {
      size_t len = strlen(v) + 1;
      memcpy(at, v, len);
      copy = at;
      at += len;
    }
    memcpy((char *)&cl->o + str_offs[i], &copy, sizeof copy);
  }
  return 0;
}

/* Defaults for zero fields, checks, names. */
static int settle_options(bs__cluster *cl) {
  bs_cluster_options *o = &cl->o;
  if (!o->servers || !o->servers[0]) return BS_EINVAL;
  if (!o->partitions) o->partitions = DEF_PARTS;
  if (!o->heartbeat_ms) o->heartbeat_ms = DEF_HEARTBEAT;
  if (!o->lease_ms) o->lease_ms = DEF_LEASE;
  if (!o->rebalance_step) o->rebalance_step = DEF_STEP;
  if (!o->join_timeout_ms) o->join_timeout_ms = DEF_JOIN;
  if (!o->park_ms) o->park_ms = DEF_PARK;
  if (!o->request_timeout_ms) o->request_timeout_ms = DEF_REQ_TIMEOUT;
  /* Partition indexes travel in cells (16 bits) and keys. */
  if (o->partitions > 65535u) return BS_EINVAL;
  /* A lease must outlive a few heartbeats, or the node fences itself. */
  if (o->lease_ms < 2 * o->heartbeat_ms) return BS_EINVAL;
  const char *name = o->name ? o->name : "backstage";
  if (!name_ok(name, 32)) return BS_EINVAL;
  strcpy(cl->name, name);
  if (o->node) {
    if (!name_ok(o->node, BS__NODE_NAME_MAX)) return BS_EINVAL;
    strcpy(cl->node, o->node);
  } else {
    default_node(cl->node, sizeof cl->node);
  }
  if ((o->tls_cert_file == NULL) != (o->tls_key_file == NULL)) return BS_EINVAL;
  if ((o->nkey_seed_file == NULL) != (o->nkey_public == NULL)) return BS_EINVAL;
  cl->nparts = o->partitions;
  cl->fence_ns = (uint64_t)o->lease_ms * 3 / 5 * 1000000u;
  return 0;
}

/* ---- The directory ------------------------------------------------------------ */

static void node_free(bs__cluster *cl, bs__node *n) {
  bs__heap *h = &cl->engine->heap;
  uint32_t ns = cl->engine->nshards;
  bs__free(h, n->sent, ns * sizeof *n->sent);
  bs__free(h, n->acked, ns * sizeof *n->acked);
  if (n->rpos) bs__free(h, n->rpos, BS__LINK_SHARDS * sizeof *n->rpos);
  if (n->racked) bs__free(h, n->racked, BS__LINK_SHARDS * sizeof *n->racked);
  bs__free(h, n, sizeof *n);
}

static bs__node *node_find(bs__cluster *cl, const char *name, size_t len, uint64_t boot,
                           uint32_t gen) {
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  for (uint32_t i = n; i-- > 1;) {
    bs__node *x = cl->nodes[i];
    if (x->boot == boot && x->gen == gen && x->name_len == len && memcmp(x->name, name, len) == 0)
      return x;
  }
  return NULL;
}

uint16_t bs__node_lookup(bs__cluster *cl, const char *name, size_t len, uint64_t boot,
                         uint32_t gen) {
  bs__node *x = len && len <= BS__NODE_NAME_MAX ? node_find(cl, name, len, boot, gen) : NULL;
  return x ? x->index : 0;
}

uint16_t bs__node_get(bs__cluster *cl, const char *name, size_t len, uint64_t boot,
                      uint32_t gen) {
  return bs__node_add(cl, name, len, boot, gen, true);
}

uint16_t bs__node_add(bs__cluster *cl, const char *name, size_t len, uint64_t boot, uint32_t gen,
                      bool member) {
  if (len == 0 || len > BS__NODE_NAME_MAX) return 0;
  bs__node *x = node_find(cl, name, len, boot, gen);
  if (x) return x->index;
  /* Senders not (yet) seen as members: a few, so that input from outside
   * cannot fill the directory. */
  if (!member && BS__LOAD(&cl->strangers, RELAXED) >= BS__STRANGERS_MAX) return 0;
  bs__heap *h = &cl->engine->heap;
  uint32_t ns = cl->engine->nshards;
  uv_mutex_lock(&cl->dir_lock);
  x = node_find(cl, name, len, boot, gen); /* added meanwhile? */
  uint32_t n = cl->nnodes;
  if (!x && n < BS__NODES_MAX) {
    x = bs__calloc(h, sizeof *x);
    if (x) {
      x->sent = bs__calloc(h, ns * sizeof *x->sent);
      x->acked = bs__calloc(h, ns * sizeof *x->acked);
      if (!x->sent || !x->acked) {
        node_free(cl, x);
        x = NULL;
      }
    }
    if (x) {
      memcpy(x->name, name, len);
      x->name[len] = '\0';
      x->name_len = (uint8_t)len;
      x->index = (uint16_t)n;
      x->boot = boot;
      x->gen = gen;
      x->shards = 1;
      snprintf(x->subject, sizeof x->subject, "bs.%s.n.%s", cl->name, x->name);
      if (!member) BS__ADD(&cl->strangers, 1, RELAXED);
      x->stranger = !member;
      cl->nodes[n] = x;
      BS__STORE(&cl->nnodes, n + 1, RELEASE);
    }
  }
  uv_mutex_unlock(&cl->dir_lock);
  return x ? x->index : 0;
}

/* ---- Messages from foreign threads ------------------------------------------------ */

/* NODE messages come from the engine's (shared, thread-safe) heap: a
 * libnats or control thread has no pool. home = UINT16_MAX marks them. */
bs__msg *bs__cl_node_msg(bs__cluster *cl, uint8_t op, size_t cap) {
  bs__msg *m = bs__alloc(&cl->engine->heap, sizeof(bs__msg) + cap);
  if (!m) return NULL;
  memset(m, 0, sizeof *m);
  bs__msg_clear(m);
  m->kind = BS__MSG_NODE;
  m->ctrl = op;
  m->cap = (uint32_t)cap;
  m->klass = BS__CLASS_HUGE;
  m->home = UINT16_MAX;
  return m;
}

void bs__cl_node_msg_free(bs__cluster *cl, bs__msg *m) {
  bs__free(&cl->engine->heap, m, sizeof(bs__msg) + m->cap);
}

void bs__cl_inbox_push(bs__cluster *cl, uint32_t to, bs__msg *m) {
  bs__shard *dst = cl->engine->shards[to];
  /* Counted before it is visible (the termination count, engine.c). */
  BS__ADD(&cl->xsent, 1, RELEASE);
  if (bs__inbox_push(&dst->inbox, m, m)) uv_async_send(&dst->h->async);
}

void bs__cl_outq_push(bs__cluster *cl, bs__msg *b) {
  if (!cl->nats) { /* offline: nobody to send to; counted as sent */
    BS__CL_ADD(cl, batches_out, 1);
    BS__CL_ADD(cl, bytes_out, b->len);
    bs__cl_out_done(cl, b);
    return;
  }
  BS__ADD(&cl->outq_bytes, b->len, RELAXED);
  if (bs__inbox_push(&cl->outq, b, b)) bs__nats_wake(cl);
}

void bs__cl_out_done(bs__cluster *cl, bs__msg *b) {
  if (b->home == UINT16_MAX) bs__cl_node_msg_free(cl, b);
  else bs__pool_remote_put(&cl->engine->shards[b->home]->pool, b, b);
}

/* An offline frame: its size, then its bytes. */
static void free_frame(bs__cluster *cl, void *keep) {
  size_t n;
  memcpy(&n, keep, sizeof n);
  bs__free(&cl->engine->heap, keep, sizeof n + n);
}

void bs__cl_offline_frame(bs_engine *e, bool stream, const uint8_t *p, size_t n) {
  bs__cluster *cl = e->cluster;
  /* A copy the shard owns, as it would own a NATS message. */
  uint8_t *copy = bs__alloc(&e->heap, sizeof n + n);
  if (!copy) return;
  memcpy(copy, &n, sizeof n);
  if (n) memcpy(copy + sizeof n, p, n);
  bs__cl_frame_in(cl, stream, copy + sizeof n, n, copy);
}

/* ---- Frames from other nodes ------------------------------------------------------ */

/* Link accounting: where the frame from `from`'s shard `sshard` starts
 * against what we expected; a gap is envelopes NATS dropped. */
static void link_in(bs__cluster *cl, bs__node *from, const bs__frame *f) {
  if (f->sshard >= BS__LINK_SHARDS) return;
  if (!from->rpos) {
    uint64_t *r = bs__calloc(&cl->engine->heap, BS__LINK_SHARDS * sizeof *r);
    uint64_t *a = bs__calloc(&cl->engine->heap, BS__LINK_SHARDS * sizeof *a);
    if (!r || !a) {
      if (r) bs__free(&cl->engine->heap, r, BS__LINK_SHARDS * sizeof *r);
      if (a) bs__free(&cl->engine->heap, a, BS__LINK_SHARDS * sizeof *a);
      return;
    }
    from->racked = a;
    BS__STORE(&from->rpos, r, RELEASE);
  }
  uint64_t want = BS__LOAD(&from->rpos[f->sshard], RELAXED);
  if (f->pos > want) BS__CL_ADD(cl, lost, f->pos - want);
  BS__STORE(&from->rpos[f->sshard], f->pos + f->count, RELAXED);
  BS__STORE(&from->rdirty, 1, RELEASE);
}

static void acks_in(bs__cluster *cl, const bs__frame *f, bs__wire_cur *c) {
  uint16_t from = bs__node_lookup(cl, f->sname, f->sname_len, f->sboot, f->sgen);
  bs__node *x = bs__node_at(cl, from);
  uint16_t shard;
  uint64_t pos;
  while (x && bs__wire_ack(c, &shard, &pos) == 1) {
    if (shard >= cl->engine->nshards) continue;
    uint64_t cur = BS__LOAD(&x->acked[shard], RELAXED);
    if (pos > cur && pos <= BS__LOAD(&x->sent[shard], ACQUIRE))
      BS__STORE(&x->acked[shard], pos, RELAXED);
  }
}

/* Hands frame p[0..n), owned by `keep`, to shard `to` in a NODE message,
 * without copying it: the shard gives `keep` back (cl->frame_done). */
static void to_shard(bs__cluster *cl, uint8_t op, uint32_t to, uint16_t from, const uint8_t *p,
                     size_t n, void *keep) {
  bs__msg *m = bs__cl_node_msg(cl, op, 0);
  if (!m) {
    BS__CL_ADD(cl, lost, 1);
    cl->frame_done(cl, keep);
    return;
  }
  m->body = (uint8_t *)p;
  m->len = (uint32_t)n;
  m->ptr = keep;
  m->rnode = from;
  bs__cl_inbox_push(cl, to, m);
}

void bs__cl_frame_in(bs__cluster *cl, bool stream, const uint8_t *p, size_t n, void *keep) {
  if (BS__LOAD(&cl->stopping, ACQUIRE)) goto drop;
  BS__CL_ADD(cl, batches_in, 1);
  BS__CL_ADD(cl, bytes_in, n);
  bs__frame f;
  bs__wire_cur c;
  int rc = bs__wire_frame(p, n, &f, &c);
  if (stream) {
    /* The shard the stream's first element names (a frame has one
     * stream); a bad frame goes to shard 0, which reports it. */
    uint32_t to = 0;
    const char *id;
    uint8_t id_len;
    const uint8_t *body;
    uint32_t len;
    if (rc == 0 && bs__wire_elem(&c, &id, &id_len, &body, &len) == 1)
      to = bs__shard_in(bs__hash_id(id, id_len), cl->engine->nshards);
    to_shard(cl, BS__NODE_STREAM, to, 0, p, n, keep);
    return;
  }
  if (rc < 0) { /* shard 0 reports it, on a thread where the hook may run */
    to_shard(cl, BS__NODE_MAIL, 0, 0, p, n, keep);
    return;
  }
  if (f.kind == BS__FR_ACK) {
    if (f.dboot == cl->boot) acks_in(cl, &f, &c);
    goto drop;
  }
  if (f.kind != BS__FR_MAIL || f.dboot != cl->boot) {
    /* For an earlier process of this name (or nonsense): not ours. */
    BS__CL_ADD(cl, stale, f.count);
    goto drop;
  }
  uint16_t from = bs__node_add(cl, f.sname, f.sname_len, f.sboot, f.sgen, false);
  bs__node *x = bs__node_at(cl, from);
  if (!x) { /* too many senders we never saw as members */
    BS__CL_ADD(cl, stale, f.count);
    goto drop;
  }
  link_in(cl, x, &f);
  uint32_t to = f.dshard < cl->engine->nshards ? f.dshard : 0;
  to_shard(cl, BS__NODE_MAIL, to, from, p, n, keep);
  return;
drop:
  cl->frame_done(cl, keep);
}

/* Waiting for calls on the shards. The block is shared by the waiter and
 * every call (refs), so a waiter that gives up (the cluster is stopping and
 * the home loop may never run again) leaves nothing dangling: each call
 * carries a copy of its argument, and the last one out frees the block. */
typedef struct bs__clwait {
  uv_sem_t sem;
  uint32_t refs; /* atomic */
} bs__clwait;

void bs__cl_wait_done(bs__cluster *cl, bs__clwait *w) {
  uv_sem_post(&w->sem);
  if (BS__SUB(&w->refs, 1, ACQ_REL) == 0) {
    uv_sem_destroy(&w->sem);
    bs__free(&cl->engine->heap, w, sizeof *w);
  }
}

int bs__cl_each_shard(bs__cluster *cl, bs__clfn fn, const void *arg, size_t arglen,
                      bool wait) {
  bs_engine *e = cl->engine;
  bs__clwait *w = NULL;
  if (wait) {
    w = bs__alloc(&e->heap, sizeof *w);
    if (!w) return BS_ENOMEM;
    if (uv_sem_init(&w->sem, 0) != 0) {
      bs__free(&e->heap, w, sizeof *w);
      return BS_EUV;
    }
    w->refs = 1;
  }
  uint32_t posted = 0;
  int rc = 0;
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__msg *m = bs__cl_node_msg(cl, BS__NODE_CALL, sizeof(bs__clcall) + arglen);
    if (!m) {
      rc = BS_ENOMEM;
      continue;
    }
    bs__clcall c = {fn, w};
    memcpy(m->data, &c, sizeof c);
    if (arglen) memcpy(m->data + sizeof c, arg, arglen);
    if (w) BS__ADD(&w->refs, 1, RELAXED);
    bs__cl_inbox_push(cl, i, m);
    posted++;
  }
  /* Shards run calls between turns. Polled, so a stopping cluster can give
   * up on a home loop that no longer runs. */
  for (uint32_t i = 0; w && i < posted; i++) {
    while (uv_sem_trywait(&w->sem) != 0) {
      if (BS__LOAD(&cl->stopping, ACQUIRE)) {
        rc = BS_ECANCELED;
        goto out;
      }
      uv_sleep(1);
    }
  }
out:
  if (w && BS__SUB(&w->refs, 1, ACQ_REL) == 0) {
    uv_sem_destroy(&w->sem);
    bs__free(&e->heap, w, sizeof *w);
  }
  return rc;
}

/* ---- Life ------------------------------------------------------------------------------- */

static int cluster_new(bs_engine *e, const bs_cluster_options *o, bs__cluster **out) {
  *out = NULL;
  if (e->test_mode) return BS_EINVAL; /* virtual time has no place among nodes */
  bs__cluster *cl = bs__calloc(&e->heap, sizeof *cl);
  if (!cl) return BS_ENOMEM;
  cl->engine = e;
  cl->o = *o;
  *out = cl;
  e->cluster = cl; /* from here bs__cluster_free takes it apart */
  if (uv_mutex_init(&cl->dir_lock) != 0) {
    bs__free(&e->heap, cl, sizeof *cl);
    e->cluster = NULL;
    *out = NULL;
    return BS_EUV;
  }
  int rc = copy_strings(cl, o);
  if (rc == 0) rc = settle_options(cl);
  if (rc < 0) return rc;
  for (size_t i = 0; i < o->ntypes; i++) {
    rc = bs__types_add(e, o->types ? o->types[i] : NULL);
    if (rc < 0) return rc;
  }
  cl->parts = bs__calloc(&e->heap, (size_t)cl->nparts * sizeof *cl->parts);
  cl->outq_stub = bs__calloc(&e->heap, sizeof(bs__msg));
  if (!cl->parts || !cl->outq_stub) return BS_ENOMEM;
  bs__inbox_init(&cl->outq, cl->outq_stub);
  cl->outq_max = OUTQ_MAX;
  cl->max_frame = (uint64_t)1 << 20; /* NATS' default; the join asks */
  cl->frame_done = free_frame;
  cl->nnodes = 1; /* index 0 is nobody */
  if (uv_random(NULL, NULL, &cl->boot, sizeof cl->boot, 0, NULL) != 0 || cl->boot == 0)
    cl->boot = (uv_hrtime() << 16) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)cl;
  cl->gen = 1;
  uint16_t self = bs__node_get(cl, cl->node, strlen(cl->node), cl->boot, cl->gen);
  if (!self) return BS_ENOMEM;
  bs__node *me = cl->nodes[self];
  me->shards = e->nshards;
  snprintf(me->advertise, sizeof me->advertise, "%s", cl->o.advertise ? cl->o.advertise : "");
  me->adv_set = 1;
  cl->self = self;
  for (uint32_t i = 0; i < e->nshards; i++) {
    rc = bs__cl_shard_init(e->shards[i]);
    if (rc < 0) return rc;
  }
  return 0;
}

/* $BACKSTAGE_CLUSTER and friends, for programs that do not configure it. */
static bool from_env(bs_cluster_options *o) {
  const char *url = getenv("BACKSTAGE_CLUSTER");
  if (!url || !*url) return false;
  bs_cluster_options_init(o);
  o->servers = url;
  o->name = getenv("BACKSTAGE_CLUSTER_NAME");
  o->node = getenv("BACKSTAGE_NODE");
  o->advertise = getenv("BACKSTAGE_ADVERTISE");
  if (o->name && !*o->name) o->name = NULL;
  if (o->node && !*o->node) o->node = NULL;
  return true;
}

int bs__cluster_prepare(bs_engine *e) {
  bs_cluster_options env;
  const bs_cluster_options *o = e->opts.cluster;
  if (!o) {
    if (!from_env(&env)) return 0;
    o = &env;
  }
  bs__cluster *cl;
  return cluster_new(e, o, &cl);
}

int bs__cluster_join(bs_engine *e) {
  bs__cluster *cl = e->cluster;
  if (!cl) return 0;
  int rc = bs__nats_start(cl);
  if (rc < 0) return rc;
  /* A member runs until stopped: remote mail may arrive at any time. */
  bs__hold_update(e);
  return 0;
}

int bs__cluster_offline(bs_engine *e, const bs_cluster_options *o) {
  if (!e || !o || e->cluster || e->nshards != 1) return BS_EINVAL;
  bs__cluster *cl;
  int rc = cluster_new(e, o, &cl);
  if (rc < 0) {
    bs__cluster_free(e);
    return rc;
  }
  /* This node owns everything, for ever. */
  for (uint32_t p = 0; p < cl->nparts; p++)
    cl->parts[p] = bs__part_pack(1, (uint16_t)cl->self, BS__PART_OWN);
  cl->owned = cl->nparts;
  BS__STORE(&cl->lease_until, UINT64_MAX, RELEASE);
  BS__STORE(&cl->nodes[cl->self]->alive, 1, RELEASE);
  return 0;
}

void bs__cluster_stop(bs_engine *e) {
  bs__cluster *cl = e->cluster;
  if (!cl) return;
  if (cl->nats) bs__nats_leave(cl);
  BS__STORE(&cl->stopping, 1, RELEASE);
  if (cl->nats) bs__nats_stop(cl);
}

void bs__cluster_free(bs_engine *e) {
  bs__cluster *cl = e->cluster;
  if (!cl) return;
  bs__heap *h = &e->heap;
  if (cl->nats) bs__nats_free(cl);
  /* Frames nobody sent: back to their pools (the shards are cleared, not
   * yet freed) or the heap. */
  if (cl->outq.stub) { /* initialised */
    bs__msg *m;
    while ((m = bs__inbox_pop(&cl->outq))) {
      if (m->home == UINT16_MAX) bs__cl_node_msg_free(cl, m);
      else bs__msg_put(&e->shards[m->home]->pool, m);
    }
  }
  if (cl->outq_stub) bs__free(h, cl->outq_stub, sizeof(bs__msg));
  for (uint32_t i = 1; i < cl->nnodes; i++) node_free(cl, cl->nodes[i]);
  if (cl->parts) bs__free(h, cl->parts, (size_t)cl->nparts * sizeof *cl->parts);
  if (cl->strs) bs__free(h, cl->strs, cl->strs_len);
  uv_mutex_destroy(&cl->dir_lock);
  bs__free(h, cl, sizeof *cl);
  e->cluster = NULL;
}

uint64_t bs__cl_request_timeout(const bs_engine *e) { return e->cluster->o.request_timeout_ms; }
uint64_t bs__cl_xsent(const bs_engine *e) { return BS__LOAD(&e->cluster->xsent, ACQUIRE); }
uint64_t bs__cl_lost(const bs_engine *e) { return BS__GET(&e->cluster->st.lost); }

/* ---- Figures ------------------------------------------------------------------------------ */

bool bs_cluster_joined(const bs_engine *e) { return e && e->cluster; }

int bs_cluster_stats_get(const bs_engine *e, bs_cluster_stats *out) {
  if (!e || !out) return BS_EINVAL;
  bs__cluster *cl = e->cluster;
  memset(out, 0, sizeof *out);
  if (!cl) return BS_ENOTFOUND;
  out->node = cl->node;
  out->partitions = cl->nparts;
  out->owned = BS__LOAD(&cl->owned, RELAXED);
  out->leader = BS__LOAD(&cl->leader, RELAXED) != 0;
  out->serving = bs__cl_lease_ok(cl);
  out->generation = BS__LOAD(&cl->gen, RELAXED);
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  for (uint32_t i = 1; i < n; i++)
    if (BS__LOAD(&cl->nodes[i]->alive, RELAXED)) out->nodes++;
  const bs__clstats *t = &cl->st;
  out->msgs_out = BS__GET(&t->msgs_out);
  out->msgs_in = BS__GET(&t->msgs_in);
  out->batches_out = BS__GET(&t->batches_out);
  out->batches_in = BS__GET(&t->batches_in);
  out->bytes_out = BS__GET(&t->bytes_out);
  out->bytes_in = BS__GET(&t->bytes_in);
  out->moved_out = BS__GET(&t->moved_out);
  out->moved_in = BS__GET(&t->moved_in);
  out->parked = BS__GET(&t->parked);
  out->unreachable = BS__GET(&t->unreachable);
  out->lost = BS__GET(&t->lost);
  out->undecodable = BS__GET(&t->undecodable);
  out->stale = BS__GET(&t->stale);
  out->handoffs = BS__GET(&t->handoffs);
  out->fenced = BS__GET(&t->fenced);
  out->stream_out = BS__GET(&t->stream_out);
  out->stream_in = BS__GET(&t->stream_in);
  return 0;
}

/* One entry per name: its latest incarnation (the directory keeps every
 * incarnation it heard of). */
static bool latest(bs__cluster *cl, uint32_t i, uint32_t n) {
  bs__node *x = cl->nodes[i];
  for (uint32_t j = i + 1; j < n; j++)
    if (cl->nodes[j]->name_len == x->name_len && memcmp(cl->nodes[j]->name, x->name, x->name_len) == 0)
      return false;
  return true;
}

int bs_cluster_nodes(const bs_engine *e, bs_cluster_node *out, size_t cap) {
  if (!e || (!out && cap)) return BS_EINVAL;
  bs__cluster *cl = e->cluster;
  if (!cl) return BS_ENOTFOUND;
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  uint32_t self = BS__LOAD(&cl->self, ACQUIRE);
  size_t k = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t i = 1; i < n; i++) {
      bs__node *x = cl->nodes[i];
      bool alive = BS__LOAD(&x->alive, RELAXED) != 0;
      if (alive != (pass == 0) || !latest(cl, i, n)) continue;
      if (k < cap) {
        bs_cluster_node *o = &out[k];
        o->name = x->name;
        o->advertise = BS__LOAD(&x->adv_set, ACQUIRE) ? x->advertise : "";
        o->generation = x->gen;
        o->shards = BS__LOAD(&x->shards, RELAXED);
        o->partitions = BS__LOAD(&x->owned, RELAXED);
        o->alive = alive;
        o->self = i == self;
        o->msgs_out = BS__LOAD(&x->msgs_out, RELAXED);
        o->msgs_in = BS__LOAD(&x->msgs_in, RELAXED);
      }
      k++;
    }
  }
  return (int)(k > INT32_MAX ? INT32_MAX : k);
}
