/* Typed pub/sub streams across shards.
 *
 * A stream is engine-wide: a name, an element type and its subscriptions,
 * kept per shard of the subscriber (an actor's shard is fixed by its id).
 * Subscribing and unsubscribing take the stream's lock; publishing does
 * not. A publisher encodes the element once into a block of its own pool
 * and sends one FANOUT hand-off to each other shard that has subscribers;
 * each shard then queues one small ELEM message per local subscriber, all
 * sharing the one body (reference counted across shards).
 *
 * Each shard reads its subscriber list from a private copy, refreshed under
 * the lock only when the list's version changed, so a publish never blocks
 * on a subscribe. Every subscription records the publish sequence number at
 * which it began: an element is delivered to the subscriptions that existed
 * when it was published, even when the hand-off arrives after later
 * subscribe or unsubscribe calls. */
#include "internal.h"
#ifdef BS_WITH_CLUSTER
#include "cluster/cluster.h"
#endif

typedef struct bs__sub {
  const bs_actor_type *type;
  const bs_method *method;
  uint64_t since;           /* first publish sequence it receives */
  uint32_t hash;
  uint8_t len;
  char id[BS_ID_MAX + 1];
} bs__sub;

typedef struct bs__sublist {
  bs__sub *items;
  uint32_t n, cap;
} bs__sublist;

typedef struct bs__subcache {
  uint32_t version;         /* of the list it copies; 0: never copied */
  bs__sublist list;
} bs__subcache;

struct bs_stream {
  bs_engine *engine;
  const bs_elem_type *type;
  uint32_t index;           /* in every shard's cache array */
  uint32_t hash;
  uint8_t len;
  char id[BS_ID_MAX + 1];
  uv_mutex_t lock;          /* lists, version, count */
  bs__sublist *lists;       /* [nshards] subscriptions by subscriber shard */
  uint32_t *version;        /* [nshards] bumped on change (atomic) */
  uint32_t *count;          /* [nshards] subscriptions (atomic) */
  uint64_t seq;             /* publish attempts so far (atomic): orders
                               elements against subscriptions */
  uint64_t published;       /* (atomic) */
  uint64_t deliveries;      /* (atomic) */
  uint64_t encodes;         /* (atomic) */
};

/* ---- The stream table (engine-wide, under streams_lock) --------------------- */

static bs_stream *table_find(bs_engine *e, const char *id, size_t len, uint32_t hash) {
  if (!e->streams_cap) return NULL;
  size_t mask = e->streams_cap - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    bs_stream *st = e->streams[i];
    if (!st) return NULL;
    if (st->hash == hash && st->len == len && memcmp(st->id, id, len) == 0) return st;
  }
}

static int table_reserve(bs_engine *e) {
  if ((e->streams_count + 1) * 4 <= e->streams_cap * 3) return 0;
  size_t ncap = e->streams_cap ? e->streams_cap * 2 : 16;
  bs_stream **n = bs__calloc(&e->heap, ncap * sizeof *n);
  if (!n) return BS_ENOMEM;
  for (size_t i = 0; i < e->streams_cap; i++) {
    bs_stream *st = e->streams[i];
    if (!st) continue;
    size_t j = st->hash & (ncap - 1);
    while (n[j]) j = (j + 1) & (ncap - 1);
    n[j] = st;
  }
  bs__free(&e->heap, e->streams, e->streams_cap * sizeof *e->streams);
  e->streams = n;
  e->streams_cap = ncap;
  return 0;
}

static void stream_free(bs_engine *e, bs_stream *st) {
  if (st->lists)
    for (uint32_t i = 0; i < e->nshards; i++)
      bs__free(&e->heap, st->lists[i].items, st->lists[i].cap * sizeof(bs__sub));
  bs__free(&e->heap, st->lists, e->nshards * sizeof *st->lists);
  bs__free(&e->heap, st->version, e->nshards * sizeof *st->version);
  bs__free(&e->heap, st->count, e->nshards * sizeof *st->count);
  uv_mutex_destroy(&st->lock);
  bs__free(&e->heap, st, sizeof *st);
}

static int stream_new(bs_engine *e, const bs_elem_type *type, const char *id,
                      size_t len, uint32_t hash, bs_stream **out) {
  if (table_reserve(e) < 0) return BS_ENOMEM;
  bs_stream *st = bs__calloc(&e->heap, sizeof *st);
  if (!st) return BS_ENOMEM;
  if (uv_mutex_init(&st->lock) != 0) {
    bs__free(&e->heap, st, sizeof *st);
    return BS_EUV;
  }
  st->engine = e;
  st->lists = bs__calloc(&e->heap, e->nshards * sizeof *st->lists);
  st->version = bs__calloc(&e->heap, e->nshards * sizeof *st->version);
  st->count = bs__calloc(&e->heap, e->nshards * sizeof *st->count);
  if (!st->lists || !st->version || !st->count) {
    stream_free(e, st);
    return BS_ENOMEM;
  }
  st->type = type;
  st->index = (uint32_t)e->streams_count;
  st->hash = hash;
  st->len = (uint8_t)len;
  memcpy(st->id, id, len);
  size_t j = hash & (e->streams_cap - 1);
  while (e->streams[j]) j = (j + 1) & (e->streams_cap - 1);
  e->streams[j] = st;
  e->streams_count++;
  *out = st;
  return 0;
}

int bs_stream_get(bs_engine *e, const bs_elem_type *type, const char *id,
                  bs_stream **out) {
  size_t len = 0;
  if (out) *out = NULL;
  if (!e || !type || !type->encode || !out) return BS_EINVAL;
  int rc = bs__check_id(id, &len);
  if (rc < 0) return rc;
  if (bs__freeing(e)) return BS_ECANCELED;
  uint32_t hash = bs__hash_id(id, len);
  uv_mutex_lock(&e->streams_lock);
  bs_stream *st = table_find(e, id, len, hash);
  if (!st) rc = stream_new(e, type, id, len, hash, &st);
  else if (st->type != type) rc = BS_ETYPE;
  uv_mutex_unlock(&e->streams_lock);
  if (rc == 0) *out = st;
  return rc;
}

void bs__streams_free(bs_engine *e) {
  for (size_t i = 0; i < e->streams_cap; i++)
    if (e->streams[i]) stream_free(e, e->streams[i]);
  bs__free(&e->heap, e->streams, e->streams_cap * sizeof *e->streams);
  e->streams = NULL;
  e->streams_cap = e->streams_count = 0;
}

const char *bs_stream_id(const bs_stream *s) { return s ? s->id : NULL; }
const bs_elem_type *bs_stream_elem_type(const bs_stream *s) { return s ? s->type : NULL; }

void bs_stream_stats_get(const bs_stream *s, bs_stream_stats *out) {
  if (!s || !out) return;
  uint32_t subs = 0;
  for (uint32_t i = 0; i < s->engine->nshards; i++) subs += BS__LOAD(&s->count[i], RELAXED);
  out->published = BS__LOAD(&s->published, RELAXED);
  out->deliveries = BS__LOAD(&s->deliveries, RELAXED);
  out->encodes = BS__LOAD(&s->encodes, RELAXED);
  out->subscribers = subs;
}

/* ---- Subscriptions ------------------------------------------------------------ */

#ifdef BS_WITH_CLUSTER
/* Subscriptions of `st` on all shards (under st->lock). */
static uint32_t subs_total(const bs_engine *e, const bs_stream *st) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < e->nshards; i++) n += st->count[i];
  return n;
}
#endif

static bool method_of(const bs_actor_type *t, const bs_method *m) {
  return t && m && t->methods && m >= t->methods &&
         m < t->methods + t->method_count && m->argc == 1;
}

static int find_sub(const bs__sublist *l, const bs_actor_type *t, const bs_method *m,
                    const char *id, size_t len) {
  for (uint32_t i = 0; i < l->n; i++) {
    const bs__sub *s = &l->items[i];
    if (s->type == t && s->method == m && s->len == len && memcmp(s->id, id, len) == 0)
      return (int)i;
  }
  return -1;
}

static int list_add(bs__heap *h, bs__sublist *l, const bs__sub *sub) {
  if (l->n == l->cap) {
    uint32_t ncap = l->cap ? l->cap * 2 : 4;
    bs__sub *n = bs__realloc(h, l->items, l->cap * sizeof *n, ncap * sizeof *n);
    if (!n) return BS_ENOMEM;
    l->items = n;
    l->cap = ncap;
  }
  l->items[l->n++] = *sub;
  return 0;
}

/* Checks the arguments; fills the subscription's key. */
static int prepare(const bs_stream *st, const bs_actor_type *type, const char *actor_id,
                   const bs_method *m, bs__sub *sub) {
  size_t len;
  if (!st || !method_of(type, m)) return BS_EINVAL;
  int rc = bs__check_id(actor_id, &len);
  if (rc < 0) return rc;
  if (bs_actor_type_check(type) < 0) return BS_EINVAL;
  sub->type = type;
  sub->method = m;
  sub->hash = bs__hash_id(actor_id, len);
  sub->len = (uint8_t)len;
  memcpy(sub->id, actor_id, len);
  sub->id[len] = '\0';
  return 0;
}

int bs_stream_add_subscriber(bs_stream *st, const bs_actor_type *type,
                             const char *actor_id, const bs_method *m) {
  bs__sub sub;
  int rc = prepare(st, type, actor_id, m, &sub);
  if (rc < 0) return rc;
  bs_engine *e = st->engine;
  if (bs__freeing(e)) return BS_ECANCELED;
  uint32_t k = bs__shard_of(e, sub.hash);
  uv_mutex_lock(&st->lock);
  bs__sublist *l = &st->lists[k];
  if (find_sub(l, type, m, sub.id, sub.len) < 0) {
    sub.since = BS__LOAD(&st->seq, ACQUIRE);
    rc = list_add(&e->heap, l, &sub);
    if (rc == 0) {
      BS__STORE(&st->version[k], st->version[k] + 1, RELEASE);
      BS__STORE(&st->count[k], st->count[k] + 1, SEQ_CST);
#ifdef BS_WITH_CLUSTER
      /* The node's first subscriber: the stream's subject, from now on. */
      if (e->cluster && subs_total(e, st) == 1) bs__cl_stream_interest(e, st, true);
#endif
    }
  }
  uv_mutex_unlock(&st->lock);
  return rc;
}

int bs_stream_remove_subscriber(bs_stream *st, const bs_actor_type *type,
                                const char *actor_id, const bs_method *m) {
  bs__sub sub;
  int rc = prepare(st, type, actor_id, m, &sub);
  if (rc < 0) return rc;
  bs_engine *e = st->engine;
  uint32_t k = bs__shard_of(e, sub.hash);
  uv_mutex_lock(&st->lock);
  bs__sublist *l = &st->lists[k];
  int i = find_sub(l, type, m, sub.id, sub.len);
  if (i < 0) {
    rc = BS_ENOTFOUND;
  } else {
    memmove(&l->items[i], &l->items[i + 1], (l->n - (uint32_t)i - 1) * sizeof *l->items);
    l->n--;
    BS__STORE(&st->version[k], st->version[k] + 1, RELEASE);
    BS__STORE(&st->count[k], st->count[k] - 1, SEQ_CST);
#ifdef BS_WITH_CLUSTER
    if (e->cluster && subs_total(e, st) == 0) bs__cl_stream_interest(e, st, false);
#endif
  }
  uv_mutex_unlock(&st->lock);
  return rc;
}

/* ---- A shard's copy of its subscribers -------------------------------------------- */

/* The current list of `st`'s subscribers on `s`: the shard's copy, taken
 * again under the lock when the version moved. NULL out of memory. */
static const bs__sublist *local_subs(bs__shard *s, bs_stream *st) {
  if (st->index >= s->nsubcache) {
    uint32_t n = st->index + 8;
    bs__subcache *c = bs__realloc(&s->heap, s->subcache, s->nsubcache * sizeof *c, n * sizeof *c);
    if (!c) return NULL;
    memset(c + s->nsubcache, 0, (n - s->nsubcache) * sizeof *c);
    s->subcache = c;
    s->nsubcache = n;
  }
  bs__subcache *c = &s->subcache[st->index];
  uint32_t v = BS__LOAD(&st->version[s->index], ACQUIRE);
  if (c->version == v && (v != 0 || c->list.n == 0)) return &c->list;
  uv_mutex_lock(&st->lock);
  const bs__sublist *src = &st->lists[s->index];
  int rc = 0;
  if (src->n > c->list.cap) {
    bs__sub *n = bs__realloc(&s->heap, c->list.items, c->list.cap * sizeof *n, src->n * sizeof *n);
    if (n) {
      c->list.items = n;
      c->list.cap = src->n;
    } else {
      rc = BS_ENOMEM;
    }
  }
  if (rc == 0) {
    if (src->n) memcpy(c->list.items, src->items, src->n * sizeof *src->items);
    c->list.n = src->n;
    c->version = st->version[s->index];
  }
  uv_mutex_unlock(&st->lock);
  return rc == 0 ? &c->list : NULL;
}

void bs__stream_caches_free(bs__shard *s) {
  for (uint32_t i = 0; i < s->nsubcache; i++)
    bs__free(&s->heap, s->subcache[i].list.items, s->subcache[i].list.cap * sizeof(bs__sub));
  bs__free(&s->heap, s->subcache, s->nsubcache * sizeof *s->subcache);
  s->subcache = NULL;
  s->nsubcache = 0;
  bs__free(&s->heap, s->scratch, s->nscratch * sizeof *s->scratch);
  s->scratch = NULL;
  s->nscratch = 0;
}

/* ---- Publishing -------------------------------------------------------------------- */

static void put_chain(bs__shard *s, bs__msg *m) {
  while (m) {
    bs__msg *next = m->next;
    bs__give_back(s, m);
    m = next;
  }
}

/* Takes `n` messages up front, so running out of memory half-way cannot
 * leave an element delivered to some subscribers only. */
static bs__msg *take_messages(bs__shard *s, uint32_t n) {
  bs__msg *chain = NULL;
  for (uint32_t i = 0; i < n; i++) {
    bs__msg *m = bs__msg_get(&s->pool, 0);
    if (!m) {
      put_chain(s, chain);
      return NULL;
    }
    m->next = chain;
    chain = m;
  }
  return chain;
}

static bs__msg *encode(bs__shard *s, bs_stream *st, const void *value, int *rc) {
  bs_writer w;
  bs__msg *body = bs__msg_get(&s->pool, 0);
  if (!body) {
    *rc = BS_ENOMEM;
    return NULL;
  }
  bs__writer_bind(s, &w, body);
  int err = st->type->encode(&w, value);
  if (!err) err = w.err;
  if (err) {
    bs__give_back(s, bs__writer_unbind(&w));
    *rc = err < 0 ? err : BS_EENCODE;
    return NULL;
  }
  BS__ADD(&st->encodes, 1, RELAXED);
  return bs__writer_finish(&w);
}

/* Collects again the first `n` cells of `cells` that nothing holds. One
 * actor may subscribe more than once (another method), so a cell can appear
 * twice: only its first appearance is collected, once. */
static void collect_back(bs__shard *s, bs_cell **cells, uint32_t n) {
  for (uint32_t j = n; j-- > 0;) {
    uint32_t i = 0;
    while (i < j && cells[i] != cells[j]) i++;
    if (i == j) bs__collect(s, cells[j]);
  }
}

/* The subscribers of `l` that receive element `seq`, with their cells (made
 * here if needed). On BS_ENOMEM the cells made for this call are collected
 * again and nothing is queued. */
static int resolve_cells(bs__shard *s, const bs__sublist *l, uint64_t seq, bs_cell **cells,
                         uint32_t *n) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    const bs__sub *sub = &l->items[i];
    if (sub->since > seq) continue;
    int rc = bs__cell_get(s, sub->type, sub->id, sub->len, sub->hash, &cells[k]);
    if (rc < 0) {
      collect_back(s, cells, k);
      return rc;
    }
    k++;
  }
  *n = k;
  return 0;
}

/* Queues one ELEM per receiving subscriber in `l`, sharing `body` (whose
 * references the caller has counted), from the messages of `chain`. */
static uint32_t queue_elems(bs__shard *s, const bs__sublist *l, uint64_t seq, bs_cell **cells,
                            bs__msg **chain, bs__msg *body) {
  uint32_t queued = 0, k = 0;
  for (uint32_t i = 0; i < l->n; i++) {
    const bs__sub *sub = &l->items[i];
    if (sub->since > seq) continue;
    bs__msg *m = *chain;
    *chain = m->next;
    bs_cell *c = cells[k++];
    m->kind = BS__MSG_ELEM;
    m->body = body->body;
    m->len = body->len;
    m->target = c;
    m->ttype = c->type;
    m->method = sub->method;
    m->shared = body;
    if (BS__UNLIKELY(bs__full(s->engine, c))) {
      BS__STAT(s, sent);
      bs__dead_letter(s, c, m, BS_DL_MAILBOX_FULL, BS_EFULL);
      bs__collect(s, c);
      continue;
    }
    bs__enqueue(s, c, m);
    queued++;
  }
  return queued;
}

#define CELLS_ON_STACK 64

/* The cells array for `n` subscribers: on the stack when small, else the
 * shard's scratch array, kept for the next publish (so a stream with many
 * subscribers costs no allocation per element), or - when a publish from a
 * dead-letter hook nests inside another - one of its own. */
static bs_cell **cells_for(bs__shard *s, uint32_t n, bs_cell **stack) {
  if (n <= CELLS_ON_STACK) return stack;
  if (s->scratch_busy) return bs__alloc(&s->heap, n * sizeof(bs_cell *));
  if (n > s->nscratch) {
    bs_cell **c = bs__realloc(&s->heap, s->scratch, s->nscratch * sizeof *c, n * sizeof *c);
    if (!c) return NULL;
    s->scratch = c;
    s->nscratch = n;
  }
  s->scratch_busy = true;
  return s->scratch;
}

static void cells_done(bs__shard *s, uint32_t n, bs_cell **cells, bs_cell **stack) {
  if (cells == s->scratch) s->scratch_busy = false;
  else if (cells != stack) bs__free(&s->heap, cells, n * sizeof *cells);
}

/* Subscriptions on shards other than `s`'s, and in all. */
static void count_subs(bs_engine *e, bs_stream *st, uint32_t self, uint32_t *remote,
                       uint32_t *total) {
  *remote = *total = 0;
  for (uint32_t i = 0; i < e->nshards; i++) {
    uint32_t c = BS__LOAD(&st->count[i], SEQ_CST);
    *total += c;
    if (c && i != self) (*remote)++;
  }
}

/* Delivers encoded element `body` (seq `seq`) to this node's subscribers:
 * those of this shard directly, the other shards' through one FANOUT
 * hand-off each. Consumes `body`. Returns the messages queued and handed
 * off, or BS_ENOMEM (then nothing was queued). */
static int deliver(bs__shard *s, bs_stream *st, uint64_t seq, bs__msg *body, uint32_t remote) {
  bs_engine *e = st->engine;
  const bs__sublist *l = local_subs(s, st);
  if (!l) {
    bs__give_back(s, body);
    return BS_ENOMEM;
  }
  bs_cell *stack[CELLS_ON_STACK];
  bs_cell **cells = cells_for(s, l->n, stack);
  uint32_t nlocal = 0;
  bs__msg *chain = NULL;
  if (!cells || resolve_cells(s, l, seq, cells, &nlocal) < 0 ||
      !(chain = take_messages(s, nlocal + remote))) {
    if (cells) {
      collect_back(s, cells, nlocal);
      cells_done(s, l->n, cells, stack);
    }
    bs__give_back(s, body);
    return BS_ENOMEM;
  }
  if (nlocal + remote == 0) { /* subscribed after this element */
    cells_done(s, l->n, cells, stack);
    bs__give_back(s, body);
    return 0;
  }
  BS__STORE(&body->refs, nlocal + remote, RELEASE);
  uint32_t queued = queue_elems(s, l, seq, cells, &chain, body);
  cells_done(s, l->n, cells, stack);
  uint32_t handed = 0;
  for (uint32_t i = 0; i < e->nshards && chain; i++) {
    uint32_t c = BS__LOAD(&st->count[i], RELAXED);
    if (i == s->index || !c) continue;
    bs__msg *m = chain;
    chain = m->next;
    m->kind = BS__MSG_FANOUT;
    m->ptr = st;
    m->shared = body;
    m->req_id = seq;
    handed += c;
    bs__push(s, i, m);
  }
  /* Hand-offs not needed after all (a shard's last subscriber left
   * meanwhile): their references to the body go with them. */
  uint32_t left = 0;
  for (bs__msg *m = chain; m; m = m->next) left++;
  put_chain(s, chain);
  if (left && BS__SUB(&body->refs, left, ACQ_REL) == 0) bs__give_back(s, body);
  BS__ADD(&st->deliveries, queued, RELAXED);
  return (int)(queued + handed);
}

int bs_stream_publish(bs_stream *st, const void *value) {
  if (!st || !value) return BS_EINVAL;
  bs_engine *e = st->engine;
  bs__shard *s = bs__here(e);
  BS__API_CHECK(s != NULL, "bs_stream_publish",
                "called from a thread that runs none of the engine's shards", BS_EWRONGTHREAD);
  if (bs__freeing(e)) return BS_ECANCELED;
  uint32_t remote, total;
  count_subs(e, st, s->index, &remote, &total);
  uint64_t seq = BS__ADD(&st->seq, 1, ACQ_REL) - 1;
  /* With no subscriber anywhere nothing is encoded; in a cluster other
   * nodes may have some, and NATS knows which. */
  if (total == 0 && !BS__CLUSTERED(s)) {
    BS__ADD(&st->published, 1, RELAXED);
    return 0;
  }
  int rc = 0;
  bs__msg *body = encode(s, st, value, &rc);
  if (!body) return rc;
#ifdef BS_WITH_CLUSTER
  /* The same encoded bytes, once per publish, for every other node. */
  if (BS__CLUSTERED(s)) bs__cl_stream_out(s, st, body);
#endif
  if (total == 0) {
    bs__give_back(s, body);
    BS__ADD(&st->published, 1, RELAXED);
    return 0;
  }
  rc = deliver(s, st, seq, body, remote);
  if (rc >= 0) BS__ADD(&st->published, 1, RELAXED);
  return rc;
}

#ifdef BS_WITH_CLUSTER
/* The stream `id`, if this node has it. */
static bs_stream *stream_named(bs_engine *e, const char *id, size_t len) {
  uint32_t hash = bs__hash_id(id, len);
  uv_mutex_lock(&e->streams_lock);
  bs_stream *st = table_find(e, id, len, hash);
  uv_mutex_unlock(&e->streams_lock);
  return st;
}

void bs__stream_arrived(bs__shard *s, const uint8_t *p, size_t n) {
  bs_engine *e = s->engine;
  bs__frame f;
  bs__wire_cur c;
  if (bs__wire_frame(p, n, &f, &c) < 0 || f.kind != BS__FR_STREAM) {
    BS__CL_ADD(e->cluster, undecodable, 1);
    bs__cl_report(s, "(remote stream frame)", BS_DL_UNDECODABLE_REMOTE, BS_EDECODE);
    return;
  }
  const char *id;
  uint8_t id_len;
  const uint8_t *bytes;
  uint32_t len;
  int rc;
  while ((rc = bs__wire_elem(&c, &id, &id_len, &bytes, &len)) == 1) {
    BS__CL_ADD(e->cluster, stream_in, 1);
    bs_stream *st = stream_named(e, id, id_len);
    uint32_t remote, total;
    if (!st) continue; /* no subscriber here any more: not a loss */
    count_subs(e, st, s->index, &remote, &total);
    uint64_t seq = BS__ADD(&st->seq, 1, ACQ_REL) - 1;
    if (total == 0) continue;
    bs__msg *body = bs__msg_get(&s->pool, len);
    if (body) {
      memcpy(body->data, bytes, len);
      body->len = len;
    }
    if (!body || deliver(s, st, seq, body, remote) < 0) {
      /* Lost to this node's subscribers, and counted. */
      bs__cl_report(s, st->id, BS_DL_NO_MEMORY, BS_ENOMEM);
    }
  }
  if (rc < 0) {
    BS__CL_ADD(e->cluster, undecodable, 1);
    bs__cl_report(s, "(remote stream element)", BS_DL_UNDECODABLE_REMOTE, BS_EDECODE);
  }
}
#endif

void bs__fanout_arrived(bs__shard *s, bs__msg *fm) {
  bs_stream *st = fm->ptr;
  bs__msg *body = fm->shared;
  uint64_t seq = fm->req_id;
  const bs__sublist *l = bs__freeing(s->engine) ? NULL : local_subs(s, st);
  uint32_t n = 0;
  bs_cell *stack[CELLS_ON_STACK];
  bs_cell **cells = l ? cells_for(s, l->n, stack) : NULL;
  bs__msg *chain = NULL;
  if (cells && resolve_cells(s, l, seq, cells, &n) == 0 && n &&
      (chain = take_messages(s, n))) {
    BS__ADD(&body->refs, n, RELAXED); /* fm's own reference keeps it alive */
    uint32_t queued = queue_elems(s, l, seq, cells, &chain, body);
    BS__ADD(&st->deliveries, queued, RELAXED);
  } else if (cells && n) {
    /* Out of memory: nothing queued here; the element is lost to these
     * subscribers, and counted. */
    for (uint32_t i = 0; i < n; i++) {
      BS__STAT(s, sent);
      bs__report(s, cells[i]->type, cells[i]->id, fm, BS_DL_NO_MEMORY, BS_ENOMEM);
    }
    collect_back(s, cells, n);
  }
  if (cells) cells_done(s, l->n, cells, stack);
  bs__release(s, fm);
}

/* ---- Built-in element types ---------------------------------------------- */

static int enc_cstr(bs_writer *w, const void *v) { return bs_write_cstr(w, *(const char *const *)v); }
static int enc_bytes(bs_writer *w, const void *v) {
  const bs_bytes *b = v;
  return bs_write_bytes(w, b->data, b->len);
}
/* A reference the body holds: every subscriber shares the one blob. */
static int enc_blob(bs_writer *w, const void *v) { return bs_write_blob(w, *(const bs_blob *const *)v); }
static int enc_boolean(bs_writer *w, const void *v) { return bs_write_bool(w, *(const bool *)v); }
static int enc_i8(bs_writer *w, const void *v) { return bs_write_int(w, *(const int8_t *)v); }
static int enc_i16(bs_writer *w, const void *v) { return bs_write_int(w, *(const int16_t *)v); }
static int enc_i32(bs_writer *w, const void *v) { return bs_write_int(w, *(const int32_t *)v); }
static int enc_i64(bs_writer *w, const void *v) { return bs_write_int(w, *(const int64_t *)v); }
static int enc_u8(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint8_t *)v); }
static int enc_u16(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint16_t *)v); }
static int enc_u32(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint32_t *)v); }
static int enc_u64(bs_writer *w, const void *v) { return bs_write_uint(w, *(const uint64_t *)v); }
static int enc_float(bs_writer *w, const void *v) { return bs_write_float(w, *(const float *)v); }
static int enc_double(bs_writer *w, const void *v) { return bs_write_double(w, *(const double *)v); }

#define BS__BUILTIN_ELEM(T, ValueT)                                            \
  const bs_elem_type bs_elem_##T = {#ValueT, enc_##T};                         \
  BS_IMPLEMENT_STREAM_TYPE(T, ValueT)
BS_BUILTIN_STREAM_TYPES(BS__BUILTIN_ELEM)

/* ---- Built-in array element types -------------------------------------------- */

/* One CBOR array of the items, each written as its scalar element above
 * writes it: the bytes of backstage-gen's `const T *items, size_t count`
 * parameter encoding, so a generated thunk decodes them as its array. */
#define BS__ARRAY_ELEM(T, ElemT)                                               \
  static int enc_##T##_array(bs_writer *w, const void *v) {                    \
    const bs_array_##T *a = v;                                                 \
    if (a->items == NULL && a->count != 0) return BS_EINVAL;                   \
    bs_write_array(w, a->count);                                               \
    for (size_t i = 0; i < a->count && w->err == 0; i++)                       \
      enc_##T(w, &a->items[i]);                                                \
    return w->err;                                                             \
  }                                                                            \
  const bs_elem_type bs_elem_##T##_array = {"bs_array_" #T,                    \
                                            enc_##T##_array};                  \
  BS_IMPLEMENT_STREAM_ARRAY_TYPE(T)
BS_BUILTIN_STREAM_ARRAY_TYPES(BS__ARRAY_ELEM)
