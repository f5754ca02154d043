/* The cluster on NATS: two connections, three threads of ours, libnats'
 * delivery thread, and JetStream KV for membership and placement.
 *
 * Connections. `data` carries actor mail and stream elements: only the
 * sender thread publishes on it (SendAsap: each publish is written at once,
 * no flusher hop), libnats delivers this node's subject and its stream
 * subjects (one delivery thread, global delivery pool). `ctl` carries the
 * KV requests, so a congested data link never delays a heartbeat.
 *
 * Buckets (per cluster name C):
 *   bs_C_parts  p.<n>    "own <node> <boot> <gen> <epoch>" or
 *                        "give <node> <boot> <gen> <epoch> <to> <boot> <gen>"
 *               config   "wire=1 parts=P lease=L" (created by the first node)
 *   bs_C_nodes  n.<node> "boot=<hex> gen=<n> shards=<n> adv=<text>"
 *               leader   "<node> <boot> <gen>"
 *   The nodes bucket has a TTL of lease_ms (NATS 2.9 has bucket-wide TTLs
 *   only): a key nobody refreshes disappears. A watch does not announce
 *   that, so deaths are confirmed with a Get before anything acts on them.
 *
 * Every write to p.<n> is a compare-and-swap on the key's revision and
 * raises its epoch. Who writes what:
 *   the leader   assigns partitions without a key, reassigns those of
 *                departed owners (confirmed), starts hand-offs (GIVE) to
 *                balance the load, at most rebalance_step per round;
 *   a giver      finishes its own hand-offs (GIVE -> OWN(to)) after its
 *                shards have deinitialised the partition's actors.
 * So a partition has at most one serving owner: a live owner loses it only
 * through its own hand-off, and a departed one has fenced itself before
 * its key could expire (lease thread). */
#include <stdio.h>
#include <stdlib.h>

#include <nats/nats.h>

#include "cluster/cluster.h"

#define POLL_MS 50            /* placement thread: watch poll slice */
#define RELOAD_EVERY_MS 30000 /* full reload of the table */
#define ACK_EVERY_MS 100      /* sender thread: acknowledgements */
#ifndef SENDER_SPIN_NS
#define SENDER_SPIN_NS 20000u /* sender thread: polls this long before sleeping */
#endif

typedef struct bs__prec {    /* a partition's KV record (placement thread) */
  uint64_t rev;
  uint32_t epoch;
  uint8_t state;
  uint16_t owner, target;
} bs__prec;

typedef struct bs__ssub {    /* a stream subject we subscribe (sender) */
  char id[BS_ID_MAX + 1];
  uint8_t len;
  natsSubscription *sub;
} bs__ssub;

struct bs__nats {
  bs__cluster *cl;
  natsConnection *data, *ctl;
  natsSubscription *mail;
  jsCtx *js_lease, *js_place;
  kvStore *kv_nodes_lease, *kv_nodes, *kv_parts;
  /* Subscriptions finish asynchronously: counted down by their
   * on-complete callbacks. */
  uint32_t subs_open;       /* atomic */
  /* Sender thread. */
  uv_thread_t sender, lease, place;
  bool sender_on, lease_on, place_on;
  uv_mutex_t wake_lock;
  uv_cond_t wake_cond;
  bs__ssub *ssubs;
  size_t nssubs, capssubs;
  /* Lease thread. */
  uint64_t member_rev;
  char member_key[BS__NODE_NAME_MAX + 8];
  /* Placement thread. */
  bs__prec *recs;
  kvWatcher *wparts, *wnodes;
  bool wparts_broken, wnodes_broken; /* failed: to be replaced */
  uint64_t leader_rev;
  uint32_t reconnected;     /* atomic: reload after a reconnect */
  uint64_t next_reload;
  uint64_t next_fix;        /* next attempt at a missing or failed watch */
  /* Hand-offs released whose persistent actors' last writes are still
   * out: finish_handoffs runs again every poll slice until they commit. */
  bool settling;
  bool sync_made;           /* wake_lock and wake_cond exist */
};

static bs__nats *nats_of(bs__cluster *cl) { return cl->nats; }

static uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

static bool stopping(bs__cluster *cl) { return BS__LOAD(&cl->stopping, ACQUIRE) != 0; }

static int err_of(natsStatus s) {
  switch (s) {
  case NATS_OK: return 0;
  case NATS_NO_MEMORY: return BS_ENOMEM;
  case NATS_NO_SERVER:
  case NATS_CONNECTION_CLOSED:
  case NATS_CONNECTION_DISCONNECTED:
  case NATS_TIMEOUT:
  case NATS_IO_ERROR: return BS_EUNREACHABLE;
  default: return BS_EUNREACHABLE;
  }
}

static void say(bs__cluster *cl, const char *what, natsStatus s) {
  fprintf(stderr, "backstage: cluster %s, node %s: %s: %s\n", cl->name, cl->node, what,
          natsStatus_GetText(s));
}

/* ---- Subjects ------------------------------------------------------------------ */

static uint64_t fnv64(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
  return h;
}

/* Stream ids are any bytes; subjects are not: the id's hash names the
 * subject, and the id itself travels in every element (checked). */
void bs__nats_stream_subject(bs__cluster *cl, const char *id, size_t len, char *out,
                             size_t cap) {
  snprintf(out, cap, "bs.%s.s.%016llx", cl->name, (unsigned long long)fnv64(id, len));
}

/* ---- Receiving (libnats' delivery thread) -------------------------------------- */

static void msg_done(bs__cluster *cl, void *keep) {
  (void)cl; /* the NATS message owns its bytes */
  natsMsg_Destroy(keep);
}

static void on_mail(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc;
  (void)sub;
  bs__cl_frame_in(closure, false, (const uint8_t *)natsMsg_GetData(msg),
                  (size_t)natsMsg_GetDataLength(msg), msg);
}

static void on_stream(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
  (void)nc;
  (void)sub;
  bs__cl_frame_in(closure, true, (const uint8_t *)natsMsg_GetData(msg),
                  (size_t)natsMsg_GetDataLength(msg), msg);
}

static void sub_done(void *closure) {
  bs__nats *nt = closure;
  BS__SUB(&nt->subs_open, 1, ACQ_REL);
}

static natsStatus subscribe(bs__nats *nt, natsSubscription **out, const char *subj,
                            natsMsgHandler cb) {
  natsStatus s = natsConnection_Subscribe(out, nt->data, subj, cb, nt->cl);
  if (s != NATS_OK) return s;
  /* No pending limit in messages: a batch is up to 60 KiB; 256 MiB of
   * them may wait (beyond that NATS drops, and the link counts it). */
  natsSubscription_SetPendingLimits(*out, -1, 256 << 20);
  BS__ADD(&nt->subs_open, 1, ACQ_REL);
  s = natsSubscription_SetOnCompleteCB(*out, sub_done, nt);
  if (s != NATS_OK) BS__SUB(&nt->subs_open, 1, ACQ_REL);
  return s;
}

/* ---- The sender thread ------------------------------------------------------------ */

void bs__nats_wake(bs__cluster *cl) {
  bs__nats *nt = nats_of(cl);
  uv_mutex_lock(&nt->wake_lock);
  uv_cond_signal(&nt->wake_cond);
  uv_mutex_unlock(&nt->wake_lock);
}

static void stream_sub(bs__nats *nt, const bs__msg *m, bool on) {
  bs__cluster *cl = nt->cl;
  size_t i = 0;
  while (i < nt->nssubs && !(nt->ssubs[i].len == m->len && memcmp(nt->ssubs[i].id, m->data, m->len) == 0))
    i++;
  if (!on) {
    if (i == nt->nssubs) return;
    natsSubscription_Unsubscribe(nt->ssubs[i].sub);
    natsSubscription_Destroy(nt->ssubs[i].sub);
    nt->ssubs[i] = nt->ssubs[--nt->nssubs];
    return;
  }
  if (i < nt->nssubs || m->len == 0 || m->len > BS_ID_MAX) return;
  if (nt->nssubs == nt->capssubs) {
    size_t ncap = nt->capssubs ? nt->capssubs * 2 : 8;
    bs__ssub *n = bs__realloc(&cl->engine->heap, nt->ssubs, nt->capssubs * sizeof *n,
                              ncap * sizeof *n);
    if (!n) {
      fprintf(stderr, "backstage: cluster: out of memory subscribing to a stream\n");
      return;
    }
    nt->ssubs = n;
    nt->capssubs = ncap;
  }
  bs__ssub *x = &nt->ssubs[nt->nssubs];
  memcpy(x->id, m->data, m->len);
  x->id[m->len] = '\0';
  x->len = (uint8_t)m->len;
  char subj[128];
  bs__nats_stream_subject(cl, x->id, x->len, subj, sizeof subj);
  natsStatus s = subscribe(nt, &x->sub, subj, on_stream);
  if (s != NATS_OK) {
    say(cl, "subscribing to a stream", s);
    return;
  }
  nt->nssubs++;
}

static void publish(bs__nats *nt, bs__msg *m) {
  bs__cluster *cl = nt->cl;
  char subj[160];
  const char *to = subj;
  switch (m->ctrl) {
  case BS__OUT_MAIL: to = cl->nodes[m->rnode]->subject; break;
  case BS__OUT_STREAM: {
    const char *id = bs_stream_id(m->ptr);
    bs__nats_stream_subject(cl, id, strlen(id), subj, sizeof subj);
    break;
  }
  case BS__OUT_SUB:
  case BS__OUT_UNSUB: stream_sub(nt, m, m->ctrl == BS__OUT_SUB); return;
  default: return;
  }
  natsStatus s = natsConnection_Publish(nt->data, to, m->data, (int)m->len);
  if (s == NATS_OK) {
    BS__CL_ADD(cl, batches_out, 1);
    BS__CL_ADD(cl, bytes_out, m->len);
  }
  /* On failure the envelopes are lost: the receiver counts the gap when
   * the next frame arrives, or we do when the node departs (links). */
}

/* Acknowledges what each sender's shards sent us, to each sender that
 * sent something since the last time. */
static void send_acks(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  uint8_t buf[BS__FRAME_FIXED + BS__NODE_NAME_MAX + 64 * BS__WIRE_ACK_SIZE];
  for (uint32_t i = 1; i < n; i++) {
    bs__node *x = cl->nodes[i];
    if (!BS__LOAD(&x->rdirty, ACQUIRE) || BS__LOAD(&x->gone, RELAXED)) continue;
    BS__STORE(&x->rdirty, 0, RELAXED);
    uint64_t *rpos = BS__LOAD(&x->rpos, ACQUIRE);
    if (!rpos) continue;
    bs__frame f = {0};
    f.kind = BS__FR_ACK;
    f.sboot = cl->boot;
    f.sgen = BS__LOAD(&cl->gen, RELAXED);
    f.dboot = x->boot;
    f.sname = cl->node;
    f.sname_len = (uint8_t)strlen(cl->node);
    size_t at = bs__wire_put_frame(buf, &f), cnt = 0;
    for (uint16_t k = 0; k < BS__LINK_SHARDS; k++) {
      uint64_t pos = BS__LOAD(&rpos[k], RELAXED);
      if (pos == x->racked[k]) continue;
      x->racked[k] = pos;
      at += bs__wire_put_ack(buf + at, k, pos);
      if (++cnt == 64) {
        bs__wire_patch_frame(buf, (uint32_t)cnt, 0);
        natsConnection_Publish(nt->data, x->subject, buf, (int)at);
        at = bs__wire_frame_size(f.sname_len);
        cnt = 0;
      }
    }
    if (cnt) {
      bs__wire_patch_frame(buf, (uint32_t)cnt, 0);
      natsConnection_Publish(nt->data, x->subject, buf, (int)at);
    }
  }
}

static void sender_main(void *arg) {
  bs__nats *nt = arg;
  bs__cluster *cl = nt->cl;
  uint64_t next_ack = now_ms() + ACK_EVERY_MS;
  for (;;) {
    bs__msg *m;
    while ((m = bs__inbox_pop(&cl->outq))) {
      BS__SUB(&cl->outq_bytes, m->len, RELAXED);
      publish(nt, m);
      bs__cl_out_done(cl, m);
    }
    if (now_ms() >= next_ack) {
      send_acks(nt);
      next_ack = now_ms() + ACK_EVERY_MS;
    }
    if (stopping(cl) && !bs__inbox_busy(&cl->outq)) break;
    /* A moment of polling before sleeping: under load the next batch
     * comes within microseconds, and waking a sleeping thread costs more. */
    uint64_t spin_until = uv_hrtime() + SENDER_SPIN_NS;
    while (!bs__inbox_busy(&cl->outq) && uv_hrtime() < spin_until) bs__cpu_relax();
    if (bs__inbox_busy(&cl->outq)) continue;
    uv_mutex_lock(&nt->wake_lock);
    if (bs__inbox_sleep(&cl->outq) && !stopping(cl))
      uv_cond_timedwait(&nt->wake_cond, &nt->wake_lock, ACK_EVERY_MS * 1000000ull);
    uv_mutex_unlock(&nt->wake_lock);
  }
  natsConnection_FlushTimeout(nt->data, 1000);
  for (size_t i = 0; i < nt->nssubs; i++) {
    natsSubscription_Unsubscribe(nt->ssubs[i].sub);
    natsSubscription_Destroy(nt->ssubs[i].sub);
  }
  nt->nssubs = 0;
  nats_ReleaseThreadMemory();
}

/* ---- Records --------------------------------------------------------------------------- */

static void member_value(bs__cluster *cl, char *out, size_t cap) {
  snprintf(out, cap, "boot=%016llx gen=%u shards=%u adv=%s", (unsigned long long)cl->boot,
           (unsigned)BS__LOAD(&cl->gen, RELAXED), (unsigned)cl->engine->nshards,
           cl->o.advertise ? cl->o.advertise : "");
}

typedef struct member {
  uint64_t boot;
  uint32_t gen, shards;
  const char *adv;
} member;

static bool parse_member(const char *v, size_t n, char *buf, size_t cap, member *out) {
  if (n >= cap) return false;
  memcpy(buf, v, n);
  buf[n] = '\0';
  unsigned long long boot;
  unsigned gen, shards;
  int used = 0;
  if (sscanf(buf, "boot=%16llx gen=%u shards=%u adv=%n", &boot, &gen, &shards, &used) != 3 ||
      used == 0)
    return false;
  out->boot = boot;
  out->gen = gen;
  out->shards = shards ? shards : 1;
  out->adv = buf + used;
  return true;
}

/* "own N B G E" or "give N B G E TN TB TG": owner (and target) as
 * directory indexes. */
static bool parse_part(bs__cluster *cl, const char *v, size_t n, bs__prec *r) {
  char buf[3 * BS__NODE_NAME_MAX + 128], kind[8], on[BS__NODE_NAME_MAX + 1],
      tn[BS__NODE_NAME_MAX + 1];
  if (n >= sizeof buf) return false;
  memcpy(buf, v, n);
  buf[n] = '\0';
  unsigned long long ob, tb;
  unsigned og, tg, ep;
  int k = sscanf(buf, "%7s %64s %16llx %u %u %64s %16llx %u", kind, on, &ob, &og, &ep, tn, &tb, &tg);
  if (k < 5) return false;
  r->epoch = ep;
  r->owner = bs__node_get(cl, on, strlen(on), ob, og);
  r->target = 0;
  if (strcmp(kind, "own") == 0 && k == 5) {
    r->state = BS__PART_OWN;
  } else if (strcmp(kind, "give") == 0 && k == 8) {
    r->state = BS__PART_GIVE;
    r->target = bs__node_get(cl, tn, strlen(tn), tb, tg);
  } else {
    return false;
  }
  return r->owner != 0;
}

static void part_value(bs__cluster *cl, const bs__prec *r, char *out, size_t cap) {
  bs__node *o = cl->nodes[r->owner];
  if (r->state == BS__PART_GIVE) {
    bs__node *t = cl->nodes[r->target];
    snprintf(out, cap, "give %s %016llx %u %u %s %016llx %u", o->name, (unsigned long long)o->boot,
             o->gen, r->epoch, t->name, (unsigned long long)t->boot, t->gen);
  } else {
    snprintf(out, cap, "own %s %016llx %u %u", o->name, (unsigned long long)o->boot, o->gen,
             r->epoch);
  }
}

/* ---- The lease thread ---------------------------------------------------------------------- */

/* Lease lapsed: stop serving at once (shards look at the clock anyway),
 * retire this incarnation and take the next generation. */
static void fence(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  BS__STORE(&cl->lease_until, 0, RELEASE);
  uint32_t old = BS__LOAD(&cl->self, RELAXED);
  uint32_t gen = BS__LOAD(&cl->gen, RELAXED) + 1;
  uint16_t self = bs__node_get(cl, cl->node, strlen(cl->node), cl->boot, gen);
  if (!self) return; /* directory full or no memory: try again next time */
  cl->nodes[self]->shards = cl->engine->nshards;
  BS__STORE(&cl->gen, gen, RELEASE);
  BS__STORE(&cl->self, self, RELEASE);
  BS__STORE(&cl->nodes[old]->alive, 0, RELEASE);
  BS__STORE(&cl->nodes[old]->gone, 1, RELEASE);
  BS__STORE(&cl->leader, 0, RELAXED);
  BS__CL_ADD(cl, fenced, 1);
  fprintf(stderr, "backstage: cluster %s: node %s could not refresh its membership: fenced "
                  "(generation %u)\n", cl->name, cl->node, (unsigned)gen);
  /* Deinitialise every placed actor; their mail goes elsewhere. */
  size_t len = (cl->nparts + 7) / 8;
  uint8_t *all = bs__alloc(&cl->engine->heap, len);
  if (all) {
    memset(all, 0xff, len);
    bs__cl_each_shard(cl, bs__cl_release, all, len, false);
    bs__free(&cl->engine->heap, all, len);
  }
}

/* One refresh: 0, or the failure. The lease runs from when it was sent. */
static natsStatus refresh(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  char val[256];
  member_value(cl, val, sizeof val);
  uint64_t t0 = bs__cl_now_ns(), rev = 0;
  natsStatus s;
  if (nt->member_rev) s = kvStore_UpdateString(&rev, nt->kv_nodes_lease, nt->member_key, val, nt->member_rev);
  else s = kvStore_CreateString(&rev, nt->kv_nodes_lease, nt->member_key, val);
  if (s == NATS_OK) {
    nt->member_rev = rev;
    BS__STORE(&cl->lease_until, t0 + cl->fence_ns, RELEASE);
    bs__node *me = cl->nodes[BS__LOAD(&cl->self, RELAXED)];
    BS__STORE(&me->alive, 1, RELEASE);
  }
  return s;
}

static void lease_main(void *arg) {
  bs__nats *nt = arg;
  bs__cluster *cl = nt->cl;
  uint64_t hb = cl->o.heartbeat_ms;
  while (!stopping(cl)) {
    uint64_t t0 = now_ms();
    uint64_t until = BS__LOAD(&cl->lease_until, ACQUIRE);
    if (until && bs__cl_now_ns() >= until) {
      fence(nt);
      /* Our key, if it still exists, names the retired generation:
       * overwrite it (CAS on its revision); gone, create it again. */
    }
    natsStatus s = refresh(nt);
    if (s != NATS_OK && s != NATS_TIMEOUT && s != NATS_CONNECTION_DISCONNECTED &&
        s != NATS_NO_SERVER && nt->member_rev) {
      /* The key moved under us (it expired, or another process took the
       * name): this incarnation is over. */
      nt->member_rev = 0;
      if (BS__LOAD(&cl->lease_until, ACQUIRE)) fence(nt);
    }
    while (!stopping(cl) && now_ms() < t0 + hb) uv_sleep(hb < 50 ? 10 : 50);
  }
  nats_ReleaseThreadMemory();
}

/* ---- The placement thread ------------------------------------------------------------------- */

/* Partitions per node, for the figures (read by other threads). */
static void count_owned(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  static _Thread_local uint32_t count[BS__NODES_MAX];
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  memset(count, 0, n * sizeof *count);
  for (uint32_t p = 0; p < cl->nparts; p++)
    if (nt->recs[p].state != BS__PART_NONE && nt->recs[p].owner < n)
      count[nt->recs[p].owner]++;
  for (uint32_t i = 1; i < n; i++) BS__STORE(&cl->nodes[i]->owned, count[i], RELAXED);
  BS__STORE(&cl->owned, count[BS__LOAD(&cl->self, RELAXED)], RELAXED);
}

/* Publishes record `r` of partition `p` to the shards' table. The KV is
 * the truth: this overwrites whatever a "moved" hint put there (records
 * reach here in revision order, rec_apply), so a bad hint lasts until the
 * key's next change or the next reload at most. */
static void table_set(bs__cluster *cl, uint32_t p, const bs__prec *r) {
  BS__STORE(&cl->parts[p], bs__part_pack(r->epoch, r->owner, r->state), RELAXED);
}

typedef struct changes {
  uint8_t *lost;        /* bitmap: partitions we owned and no longer do */
  bool any;
} changes;

static void set_bit(uint8_t *bits, uint32_t p) { bits[p / 8] |= (uint8_t)(1u << (p % 8)); }

/* A partition's record changed (from the watch, a reload or our write). */
static void rec_apply(bs__nats *nt, uint32_t p, const bs__prec *r, changes *ch) {
  bs__cluster *cl = nt->cl;
  bs__prec *cur = &nt->recs[p];
  if (r->rev && cur->rev && r->rev < cur->rev) return;
  uint16_t self = (uint16_t)BS__LOAD(&cl->self, RELAXED);
  bool had = cur->state == BS__PART_OWN && cur->owner == self;
  bool has = r->state == BS__PART_OWN && r->owner == self;
  *cur = *r;
  table_set(cl, p, r);
  if (had && !has && ch->lost) set_bit(ch->lost, p);
  ch->any = true;
}

static bool parse_key_part(bs__cluster *cl, const char *key, uint32_t *p) {
  if (strncmp(key, "p.", 2) != 0) return false;
  char *end;
  unsigned long v = strtoul(key + 2, &end, 10);
  if (*end || end == key + 2 || v >= cl->nparts) return false;
  *p = (uint32_t)v;
  return true;
}

static void part_entry(bs__nats *nt, kvEntry *e, changes *ch) {
  uint32_t p;
  if (!parse_key_part(nt->cl, kvEntry_Key(e), &p)) return;
  bs__prec r = {0};
  r.rev = kvEntry_Revision(e);
  if (kvEntry_Operation(e) == kvOp_Put &&
      !parse_part(nt->cl, kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), &r))
    return;
  r.rev = kvEntry_Revision(e);
  rec_apply(nt, p, &r, ch);
}

/* A node incarnation is gone for good: what waits on it fails, what it
 * never acknowledged is counted lost. */
static void node_gone(bs__nats *nt, bs__node *x) {
  bs__cluster *cl = nt->cl;
  if (BS__XCHG(&x->gone, 1, ACQ_REL)) return;
  BS__STORE(&x->alive, 0, RELEASE);
  uint64_t lost = 0;
  for (uint32_t k = 0; k < cl->engine->nshards; k++)
    lost += BS__LOAD(&x->sent[k], ACQUIRE) - BS__LOAD(&x->acked[k], ACQUIRE);
  if (lost > x->settled) BS__CL_ADD(cl, lost, lost - x->settled);
  x->settled = lost;
  uint16_t idx = x->index;
  bs__cl_each_shard(cl, bs__cl_node_gone, &idx, sizeof idx, false);
}

/* Older incarnations of `x`'s name are gone: a newer one exists only
 * after they fenced or expired. */
static void supersede(bs__nats *nt, bs__node *x) {
  bs__cluster *cl = nt->cl;
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  for (uint32_t i = 1; i < n; i++) {
    bs__node *y = cl->nodes[i];
    if (y != x && y->name_len == x->name_len && memcmp(y->name, x->name, x->name_len) == 0 &&
        !BS__LOAD(&y->gone, RELAXED) && i != BS__LOAD(&cl->self, RELAXED))
      node_gone(nt, y);
  }
}

static void member_seen(bs__nats *nt, const char *name, size_t len, const member *m) {
  bs__cluster *cl = nt->cl;
  uint16_t i = bs__node_get(cl, name, len, m->boot, m->gen);
  bs__node *x = bs__node_at(cl, i);
  if (!x || BS__LOAD(&x->gone, RELAXED)) return;
  BS__STORE(&x->shards, m->shards, RELAXED);
  if (!BS__LOAD(&x->adv_set, RELAXED)) {
    snprintf(x->advertise, sizeof x->advertise, "%s", m->adv);
    BS__STORE(&x->adv_set, 1, RELEASE);
  }
  x->seen_ms = now_ms();
  if (x->stranger) { /* a member after all */
    x->stranger = false;
    BS__SUB(&cl->strangers, 1, RELAXED);
  }
  if (i != BS__LOAD(&cl->self, RELAXED)) BS__STORE(&x->alive, 1, RELEASE);
  supersede(nt, x);
}

static void node_entry(bs__nats *nt, kvEntry *e) {
  bs__cluster *cl = nt->cl;
  const char *key = kvEntry_Key(e);
  if (strncmp(key, "n.", 2) != 0) return;
  const char *name = key + 2;
  size_t len = strlen(name);
  if (kvEntry_Operation(e) != kvOp_Put) {
    /* Left (deleted its key): every incarnation of the name is gone. */
    uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
    for (uint32_t i = 1; i < n; i++) {
      bs__node *y = cl->nodes[i];
      if (y->name_len == len && memcmp(y->name, name, len) == 0 &&
          i != BS__LOAD(&cl->self, RELAXED))
        node_gone(nt, y);
    }
    return;
  }
  char buf[512];
  member m;
  if (parse_member(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), buf, sizeof buf, &m))
    member_seen(nt, name, len, &m);
}

/* Whether node incarnation `x` is still a member, asked of the server. */
static bool confirm_alive(bs__nats *nt, bs__node *x) {
  bs__cluster *cl = nt->cl;
  if (x->index == BS__LOAD(&cl->self, RELAXED)) return bs__cl_lease_ok(cl);
  if (BS__LOAD(&x->gone, RELAXED)) return false;
  char key[BS__NODE_NAME_MAX + 8], buf[512];
  snprintf(key, sizeof key, "n.%s", x->name);
  kvEntry *e = NULL;
  natsStatus s = kvStore_Get(&e, nt->kv_nodes, key);
  if (s == NATS_NOT_FOUND) {
    node_gone(nt, x);
    return false;
  }
  if (s != NATS_OK) return true; /* cannot tell: assume alive, act later */
  member m;
  bool same = false;
  if (kvEntry_Operation(e) == kvOp_Put &&
      parse_member(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), buf, sizeof buf, &m)) {
    same = m.boot == x->boot && m.gen == x->gen;
    member_seen(nt, x->name, x->name_len, &m);
  } else {
    node_gone(nt, x);
  }
  kvEntry_Destroy(e);
  return same && !BS__LOAD(&x->gone, RELAXED);
}

/* Members not heard from for two heartbeats: asked about. */
static void check_members(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  uint64_t now = now_ms(), late = 2 * (uint64_t)cl->o.heartbeat_ms;
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  for (uint32_t i = 1; i < n && !stopping(cl); i++) {
    bs__node *x = cl->nodes[i];
    if (i == BS__LOAD(&cl->self, RELAXED) || !BS__LOAD(&x->alive, RELAXED)) continue;
    if (now - x->seen_ms > late) confirm_alive(nt, x);
  }
}

/* Writes partition `p` as `r` (CAS on the record's revision; create when
 * it has none). On success the record is ours to apply; on a conflict it
 * is reloaded. */
static bool write_part(bs__nats *nt, uint32_t p, bs__prec *r, changes *ch) {
  bs__cluster *cl = nt->cl;
  char key[16], val[3 * BS__NODE_NAME_MAX + 128];
  snprintf(key, sizeof key, "p.%u", (unsigned)p);
  part_value(cl, r, val, sizeof val);
  uint64_t rev = 0;
  natsStatus s = nt->recs[p].rev
                     ? kvStore_UpdateString(&rev, nt->kv_parts, key, val, nt->recs[p].rev)
                     : kvStore_CreateString(&rev, nt->kv_parts, key, val);
  if (s == NATS_OK) {
    r->rev = rev;
    rec_apply(nt, p, r, ch);
    return true;
  }
  kvEntry *e = NULL;
  if (kvStore_Get(&e, nt->kv_parts, key) == NATS_OK) {
    part_entry(nt, e, ch);
    kvEntry_Destroy(e);
  }
  return false;
}

/* Placed persistent cells of the partitions in `bits` with a load or a
 * write still out or due, over all shards (0 without a store); -1 if a
 * shard did not answer (the cluster is stopping). */
static int64_t store_busy(bs__cluster *cl, const uint8_t *bits, size_t len) {
  bs_engine *e = cl->engine;
  if (!e->storage) return 0;
  if (bs__cl_each_shard(cl, bs__cl_store_check, bits, len, true) < 0) return -1;
  int64_t busy = 0;
  for (uint32_t i = 0; i < e->nshards; i++)
    busy += BS__LOAD(&e->shards[i]->cl->store_busy, ACQUIRE);
  return busy;
}

/* Finishes our own hand-offs: shards deinitialise the partitions' actors,
 * then, once the writes those actors had out or due have committed (and
 * their answers have gone out), each record becomes OWN(target). Before
 * that, the new owner could load an older state: it would answer from it,
 * and its writes would be refused as stale. A store slower than a poll
 * slice sets nt->settling, and the next slice asks again (releasing is
 * idempotent; mail for the partitions waits parked meanwhile): the thread
 * never waits for the store, so the table stays current. */
static void finish_handoffs(bs__nats *nt, changes *ch) {
  bs__cluster *cl = nt->cl;
  uint16_t self = (uint16_t)BS__LOAD(&cl->self, RELAXED);
  size_t len = (cl->nparts + 7) / 8;
  uint8_t *bits = bs__calloc(&cl->engine->heap, len);
  if (!bits) return;
  uint32_t n = 0;
  for (uint32_t p = 0; p < cl->nparts; p++)
    if (nt->recs[p].state == BS__PART_GIVE && nt->recs[p].owner == self) {
      set_bit(bits, p);
      n++;
    }
  int64_t busy = -1;
  if (n && bs__cl_each_shard(cl, bs__cl_release, bits, len, true) == 0)
    busy = store_busy(cl, bits, len);
  nt->settling = busy > 0;
  if (busy == 0) {
    for (uint32_t p = 0; p < cl->nparts && !stopping(cl); p++) {
      if (!(bits[p / 8] & (1u << (p % 8)))) continue;
      bs__prec r = nt->recs[p];
      if (r.state != BS__PART_GIVE || r.owner != self) continue;
      r.state = BS__PART_OWN;
      r.owner = r.target;
      r.target = 0;
      r.epoch++;
      if (write_part(nt, p, &r, ch)) BS__CL_ADD(cl, handoffs, 1);
    }
  }
  bs__free(&cl->engine->heap, bits, len);
}

/* ---- Leading ---- */

static bool lead(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  char val[256];
  snprintf(val, sizeof val, "%s %016llx %u", cl->node, (unsigned long long)cl->boot,
           (unsigned)BS__LOAD(&cl->gen, RELAXED));
  uint64_t rev = 0;
  natsStatus s;
  if (!bs__cl_lease_ok(cl)) {
    nt->leader_rev = 0;
  } else if (nt->leader_rev) {
    s = kvStore_UpdateString(&rev, nt->kv_nodes, "leader", val, nt->leader_rev);
    nt->leader_rev = s == NATS_OK ? rev : 0;
  } else {
    s = kvStore_CreateString(&rev, nt->kv_nodes, "leader", val);
    if (s == NATS_OK) nt->leader_rev = rev;
  }
  BS__STORE(&cl->leader, nt->leader_rev != 0, RELAXED);
  return nt->leader_rev != 0;
}

/* Live members (their latest incarnation), and load per member. */
typedef struct roster {
  uint16_t idx[BS__NODES_MAX];
  uint32_t load[BS__NODES_MAX];
  uint8_t verdict[BS__NODES_MAX]; /* owners asked about: 1 alive, 2 gone */
  uint32_t n;
} roster;

static void roster_make(bs__nats *nt, roster *ro) {
  bs__cluster *cl = nt->cl;
  uint32_t n = BS__LOAD(&cl->nnodes, ACQUIRE);
  uint16_t self = (uint16_t)BS__LOAD(&cl->self, RELAXED);
  ro->n = 0;
  memset(ro->verdict, 0, sizeof ro->verdict);
  for (uint32_t i = 1; i < n; i++) {
    bs__node *x = cl->nodes[i];
    bool live = i == self ? bs__cl_lease_ok(cl) : BS__LOAD(&x->alive, RELAXED) &&
                                                      !BS__LOAD(&x->gone, RELAXED);
    if (!live) continue;
    ro->idx[ro->n] = (uint16_t)i;
    ro->load[ro->n] = 0;
    ro->n++;
  }
  for (uint32_t p = 0; p < cl->nparts; p++) {
    const bs__prec *r = &nt->recs[p];
    uint16_t who = r->state == BS__PART_GIVE ? r->target : r->owner;
    for (uint32_t k = 0; k < ro->n && r->state != BS__PART_NONE; k++)
      if (ro->idx[k] == who) ro->load[k]++;
  }
}

static int roster_find(const roster *ro, uint16_t idx) {
  for (uint32_t k = 0; k < ro->n; k++)
    if (ro->idx[k] == idx) return (int)k;
  return -1;
}

static uint32_t least_loaded(const roster *ro) {
  uint32_t best = 0;
  for (uint32_t k = 1; k < ro->n; k++)
    if (ro->load[k] < ro->load[best]) best = k;
  return best;
}

/* Whether the owner `idx` of a record is gone (asked of the server). */
static bool departed(bs__nats *nt, roster *ro, uint16_t idx) {
  if (roster_find(ro, idx) >= 0) return false;
  if (!ro->verdict[idx]) {
    bs__node *x = bs__node_at(nt->cl, idx);
    ro->verdict[idx] = x && confirm_alive(nt, x) ? 1 : 2;
  }
  return ro->verdict[idx] == 2;
}

static void leader_round(bs__nats *nt, changes *ch) {
  bs__cluster *cl = nt->cl;
  roster ro;
  roster_make(nt, &ro);
  if (ro.n == 0) return;
  uint32_t moved = 0;
  /* Orphans: no record, or a departed owner. All of them, at once:
   * failover does not wait. */
  for (uint32_t p = 0; p < cl->nparts && !stopping(cl); p++) {
    bs__prec r = nt->recs[p];
    uint16_t to;
    if (r.state == BS__PART_NONE) {
      to = ro.idx[least_loaded(&ro)];
    } else if (r.state == BS__PART_OWN && departed(nt, &ro, r.owner)) {
      to = ro.idx[least_loaded(&ro)];
    } else if (r.state == BS__PART_GIVE && departed(nt, &ro, r.owner)) {
      int k = roster_find(&ro, r.target);
      to = k >= 0 ? r.target : ro.idx[least_loaded(&ro)];
    } else {
      continue;
    }
    bs__prec w = {0};
    w.state = BS__PART_OWN;
    w.owner = to;
    w.epoch = r.epoch + 1;
    if (write_part(nt, p, &w, ch)) {
      ro.load[roster_find(&ro, to)]++;
      moved++;
    }
  }
  if (moved || ro.n < 2 || !bs__cl_lease_ok(cl)) return;
  /* Balance: from members above their share to those below, through
   * hand-offs the owners finish, a bounded number per round. */
  uint32_t share = (cl->nparts + ro.n - 1) / ro.n, low = cl->nparts / ro.n;
  for (uint32_t p = 0; p < cl->nparts && moved < cl->o.rebalance_step && !stopping(cl); p++) {
    bs__prec r = nt->recs[p];
    if (r.state != BS__PART_OWN) continue;
    int from = roster_find(&ro, r.owner);
    if (from < 0 || ro.load[from] <= share) continue;
    uint32_t k = least_loaded(&ro);
    if (ro.load[k] >= low) break;
    bs__prec w = r;
    w.state = BS__PART_GIVE;
    w.target = ro.idx[k];
    w.epoch = r.epoch + 1;
    if (write_part(nt, p, &w, ch)) {
      ro.load[from]--;
      ro.load[k]++;
      moved++;
    }
  }
}

/* Reads every partition record again (start, reconnects, and now and
 * then: a watch can miss updates across server restarts). */
static int reload(bs__nats *nt, changes *ch) {
  kvWatcher *w = NULL;
  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  natsStatus s = kvStore_Watch(&w, nt->kv_parts, "p.*", &o);
  if (s != NATS_OK) return err_of(s);
  for (;;) {
    kvEntry *e = NULL;
    s = kvWatcher_Next(&e, w, 5000);
    if (s != NATS_OK) break;
    if (!e) break; /* initial values done */
    part_entry(nt, e, ch);
    kvEntry_Destroy(e);
  }
  kvWatcher_Destroy(w);
  return s == NATS_OK ? 0 : err_of(s);
}

/* Who is a member now (join: so the first sends know where to go). */
static void reload_members(bs__nats *nt) {
  kvWatcher *w = NULL;
  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  if (kvStore_Watch(&w, nt->kv_nodes, "n.*", &o) != NATS_OK) return;
  for (;;) {
    kvEntry *e = NULL;
    if (kvWatcher_Next(&e, w, 2000) != NATS_OK || !e) break;
    node_entry(nt, e);
    kvEntry_Destroy(e);
  }
  kvWatcher_Destroy(w);
}

/* Starts the watches that are not running: at join, and again for one
 * that failed. A running watch is never replaced: libnats resets its
 * ordered consumer by itself after a reconnect, on a thread of its own,
 * and destroying the watcher meanwhile races with that reset inside
 * libnats 3.4 (a use after free found by ASan in nats_server_restart).
 * What a watch missed while the server was away, reload() reads. */
static void watch_start(bs__nats *nt) {
  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  if (nt->wparts && nt->wparts_broken) {
    kvWatcher_Destroy(nt->wparts);
    nt->wparts = NULL;
  }
  if (nt->wnodes && nt->wnodes_broken) {
    kvWatcher_Destroy(nt->wnodes);
    nt->wnodes = NULL;
  }
  nt->wparts_broken = nt->wnodes_broken = false;
  if (!nt->wparts && kvStore_Watch(&nt->wparts, nt->kv_parts, "p.*", &o) != NATS_OK)
    nt->wparts = NULL;
  if (!nt->wnodes && kvStore_Watch(&nt->wnodes, nt->kv_nodes, "n.*", &o) != NATS_OK)
    nt->wnodes = NULL;
}

/* The next entry of watch `w`, if one came within `ms`. A status other
 * than a timeout marks the watch for replacement (watch_start). */
static kvEntry *watch_next(kvWatcher *w, int64_t ms, bool *broken) {
  kvEntry *e = NULL;
  natsStatus s = kvWatcher_Next(&e, w, ms);
  if (s == NATS_OK) return e;
  if (s != NATS_TIMEOUT) *broken = true;
  return NULL;
}

/* Applies what the watches have: waits up to `ms` for the partition
 * table's first change, then takes what else is there without waiting. */
static void watch_poll(bs__nats *nt, int64_t ms, changes *ch) {
  for (int round = 0; !stopping(nt->cl) && round < 4096; round++) {
    bool got = false;
    kvEntry *e;
    if (nt->wparts && (e = watch_next(nt->wparts, round ? 1 : ms, &nt->wparts_broken))) {
      part_entry(nt, e, ch);
      kvEntry_Destroy(e);
      got = true;
    }
    if (nt->wnodes && (e = watch_next(nt->wnodes, 1, &nt->wnodes_broken))) {
      node_entry(nt, e);
      kvEntry_Destroy(e);
      got = true;
    }
    if (!got) break;
  }
  if ((!nt->wparts || nt->wparts_broken) && !stopping(nt->cl)) uv_sleep((unsigned)ms);
}

/* After changes: shards retry parked mail, and deinitialise the actors of
 * partitions taken from us (a leader decided we had departed). */
static void after(bs__nats *nt, changes *ch) {
  bs__cluster *cl = nt->cl;
  size_t len = (cl->nparts + 7) / 8;
  if (!ch->any) return;
  count_owned(nt);
  bool lost = false;
  for (size_t i = 0; i < len && !lost; i++) lost = ch->lost[i] != 0;
  if (lost) bs__cl_each_shard(cl, bs__cl_release, ch->lost, len, false);
  bs__cl_each_shard(cl, bs__cl_retry, NULL, 0, false);
  memset(ch->lost, 0, len);
  ch->any = false;
}

static void place_main(void *arg) {
  bs__nats *nt = arg;
  bs__cluster *cl = nt->cl;
  size_t len = (cl->nparts + 7) / 8;
  changes ch = {bs__calloc(&cl->engine->heap, len), false};
  uint64_t next_round = 0;
  nt->next_reload = now_ms() + RELOAD_EVERY_MS;
  while (!stopping(cl) && ch.lost) {
    watch_poll(nt, POLL_MS, &ch);
    after(nt, &ch);
    uint64_t now = now_ms();
    bool fix = !nt->wparts || !nt->wnodes || nt->wparts_broken || nt->wnodes_broken;
    if (fix) fix = now >= nt->next_fix;
    if (BS__XCHG(&nt->reconnected, 0, ACQ_REL) || now >= nt->next_reload || fix) {
      if (fix) nt->next_fix = now + 1000; /* a watch that cannot start: once a second */
      watch_start(nt);
      reload(nt, &ch);
      nt->next_reload = now + RELOAD_EVERY_MS;
      after(nt, &ch);
    }
    if (nt->settling && now < next_round) {
      finish_handoffs(nt, &ch);
      after(nt, &ch);
    }
    if (now < next_round) continue;
    next_round = now + cl->o.heartbeat_ms;
    check_members(nt);
    finish_handoffs(nt, &ch);
    after(nt, &ch);
    if (lead(nt)) leader_round(nt, &ch);
    after(nt, &ch);
  }
  if (ch.lost) bs__free(&cl->engine->heap, ch.lost, len);
  nats_ReleaseThreadMemory();
}

/* ---- Joining ------------------------------------------------------------------------------------------- */

static void on_reconnected(natsConnection *nc, void *closure) {
  (void)nc;
  bs__nats *nt = closure;
  BS__STORE(&nt->reconnected, 1, RELEASE);
}

static natsStatus options(bs__nats *nt, natsOptions **out, bool data) {
  bs__cluster *cl = nt->cl;
  const bs_cluster_options *o = &cl->o;
  natsOptions *no = NULL;
  natsStatus s = natsOptions_Create(&no);
  char name[160];
  snprintf(name, sizeof name, "backstage/%s/%s/%s", cl->name, cl->node, data ? "data" : "ctl");
  if (s == NATS_OK) s = natsOptions_SetURL(no, o->servers);
  if (s == NATS_OK) s = natsOptions_SetName(no, name);
  if (s == NATS_OK) s = natsOptions_SetTimeout(no, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(no, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(no, 100);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(no, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(no, 3);
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(no, on_reconnected, nt);
  if (s == NATS_OK && data) s = natsOptions_SetSendAsap(no, true);
  if (s == NATS_OK && data) s = natsOptions_SetNoEcho(no, true);
  if (s == NATS_OK && data) s = natsOptions_UseGlobalMessageDelivery(no, true);
  if (s == NATS_OK && data) s = natsOptions_SetIOBufSize(no, 256 * 1024);
  if (s == NATS_OK && o->user) s = natsOptions_SetUserInfo(no, o->user, o->password);
  if (s == NATS_OK && o->token) s = natsOptions_SetToken(no, o->token);
  if (s == NATS_OK && o->creds_file) s = natsOptions_SetUserCredentialsFromFiles(no, o->creds_file, NULL);
  if (s == NATS_OK && o->nkey_seed_file) s = natsOptions_SetNKeyFromSeed(no, o->nkey_public, o->nkey_seed_file);
  if (s == NATS_OK && o->tls) s = natsOptions_SetSecure(no, true);
  if (s == NATS_OK && o->tls_ca_file) s = natsOptions_LoadCATrustedCertificates(no, o->tls_ca_file);
  if (s == NATS_OK && o->tls_cert_file) s = natsOptions_LoadCertificatesChain(no, o->tls_cert_file, o->tls_key_file);
  if (s == NATS_OK && o->tls_hostname) s = natsOptions_SetExpectedHostname(no, o->tls_hostname);
  if (s == NATS_OK && o->tls_skip_verify) s = natsOptions_SkipServerVerification(no, true);
  if (s != NATS_OK) {
    natsOptions_Destroy(no);
    no = NULL;
  }
  *out = no;
  return s;
}

static natsStatus connect_to(bs__nats *nt, natsConnection **nc, bool data) {
  natsOptions *no = NULL;
  natsStatus s = options(nt, &no, data);
  if (s == NATS_OK) s = natsConnection_Connect(nc, no);
  natsOptions_Destroy(no);
  return s;
}

static natsStatus bucket(bs__nats *nt, jsCtx *js, const char *suffix, int64_t ttl, kvStore **kv) {
  bs__cluster *cl = nt->cl;
  char name[128];
  snprintf(name, sizeof name, "bs_%s_%s", cl->name, suffix);
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = name;
  cfg.History = 1;
  cfg.TTL = ttl;
  natsStatus s = js_CreateKeyValue(kv, js, &cfg);
  if (s != NATS_OK) {
    const char *why = nats_GetLastError(NULL);
    s = js_KeyValue(kv, js, name); /* exists (another config?) */
    if (s != NATS_OK) fprintf(stderr, "backstage: cluster %s: bucket %s: %s\n", cl->name, name, why ? why : "?");
  }
  return s;
}

static natsStatus js(natsConnection *nc, int64_t wait, jsCtx **out) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = wait;
  return natsConnection_JetStream(out, nc, &o);
}

/* The cluster's settings, written by its first node, must be ours. */
static int check_config(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  char want[128];
  snprintf(want, sizeof want, "wire=%d parts=%u lease=%u", BS__WIRE_VERSION, (unsigned)cl->nparts,
           (unsigned)cl->o.lease_ms);
  uint64_t rev;
  natsStatus s = kvStore_CreateString(&rev, nt->kv_parts, "config", want);
  if (s == NATS_OK) return 0;
  kvEntry *e = NULL;
  s = kvStore_Get(&e, nt->kv_parts, "config");
  if (s != NATS_OK) return err_of(s);
  bool same = (size_t)kvEntry_ValueLen(e) == strlen(want) &&
              memcmp(kvEntry_Value(e), want, strlen(want)) == 0;
  if (!same)
    fprintf(stderr, "backstage: cluster %s: refused to join: the cluster runs \"%.*s\", this "
                    "node \"%s\" (wire format version, partitions, lease)\n",
            cl->name, kvEntry_ValueLen(e), (const char *)kvEntry_Value(e), want);
  kvEntry_Destroy(e);
  return same ? 0 : BS_EVERSION;
}

/* Takes the node's name: its key must not exist (a previous process of
 * the same name must have expired first). */
static int take_name(bs__nats *nt) {
  bs__cluster *cl = nt->cl;
  snprintf(nt->member_key, sizeof nt->member_key, "n.%s", cl->node);
  uint64_t until = now_ms() + cl->o.join_timeout_ms;
  bool said = false;
  for (;;) {
    natsStatus s = refresh(nt);
    if (s == NATS_OK) return 0;
    if (now_ms() >= until) {
      fprintf(stderr, "backstage: cluster %s: node name %s is in use\n", cl->name, cl->node);
      return BS_EBUSY;
    }
    if (!said) {
      fprintf(stderr, "backstage: cluster %s: waiting for node name %s to be free\n", cl->name,
              cl->node);
      said = true;
    }
    uv_sleep(100);
  }
}

int bs__nats_start(bs__cluster *cl) {
  bs_engine *e = cl->engine;
  bs__nats *nt = bs__calloc(&e->heap, sizeof *nt);
  if (!nt) return BS_ENOMEM;
  nt->cl = cl;
  cl->nats = nt;
  cl->frame_done = msg_done;
  nt->recs = bs__calloc(&e->heap, (size_t)cl->nparts * sizeof *nt->recs);
  if (!nt->recs) return BS_ENOMEM;
  if (uv_mutex_init(&nt->wake_lock) != 0) return BS_EUV;
  if (uv_cond_init(&nt->wake_cond) != 0) {
    uv_mutex_destroy(&nt->wake_lock);
    return BS_EUV;
  }
  nt->sync_made = true;
  natsStatus s = connect_to(nt, &nt->data, true);
  if (s == NATS_OK) s = connect_to(nt, &nt->ctl, false);
  if (s != NATS_OK) {
    say(cl, "cannot connect", s);
    return err_of(s);
  }
  s = js(nt->ctl, 1000, &nt->js_lease);
  if (s == NATS_OK) s = js(nt->ctl, 2000, &nt->js_place);
  if (s == NATS_OK) s = bucket(nt, nt->js_place, "parts", 0, &nt->kv_parts);
  /* kvConfig.TTL is in nanoseconds (a JetStream MaxAge). */
  int64_t ttl = (int64_t)cl->o.lease_ms * 1000000;
  if (s == NATS_OK) s = bucket(nt, nt->js_place, "nodes", ttl, &nt->kv_nodes);
  if (s == NATS_OK) s = bucket(nt, nt->js_lease, "nodes", ttl, &nt->kv_nodes_lease);
  if (s != NATS_OK) {
    say(cl, "JetStream key-value buckets (is JetStream enabled?)", s);
    return err_of(s);
  }
  int rc = check_config(nt);
  if (rc == 0) rc = take_name(nt);
  if (rc < 0) return rc;
  char subj[200];
  snprintf(subj, sizeof subj, "%s", cl->nodes[cl->self]->subject);
  int64_t maxp = natsConnection_GetMaxPayload(nt->data);
  if (maxp > 0) cl->max_frame = (uint64_t)maxp;
  s = subscribe(nt, &nt->mail, subj, on_mail);
  if (s == NATS_OK) s = natsConnection_FlushTimeout(nt->data, 2000);
  if (s != NATS_OK) {
    say(cl, "subscribing to the node's subject", s);
    return err_of(s);
  }
  changes ch = {NULL, false};
  reload_members(nt);
  watch_start(nt);
  rc = reload(nt, &ch);
  if (rc < 0) return rc;
  count_owned(nt);
  if (uv_thread_create(&nt->sender, sender_main, nt) != 0) return BS_EUV;
  nt->sender_on = true;
  if (uv_thread_create(&nt->lease, lease_main, nt) != 0) return BS_EUV;
  nt->lease_on = true;
  if (uv_thread_create(&nt->place, place_main, nt) != 0) return BS_EUV;
  nt->place_on = true;
  return 0;
}

/* ---- Leaving ----------------------------------------------------------------------------------------------- */

static void release_here(bs__shard *s, void *arg) { bs__cl_release(s, arg); }
static void store_check_here(bs__shard *s, void *arg) { bs__cl_store_check(s, arg); }
/* A shard's completions (and whatever else arrived: queued, not run),
 * then what they released: writes, answers, batches for other nodes. */
static void completions_here(bs__shard *s, void *arg) {
  (void)arg;
  while (bs__take_inbox(s, UINT32_MAX)) {}
  bs__flush(s);
  bs__cl_flush(s);
}

/* Leaving, after the release: the placed persistent actors' last writes
 * commit before the name is given back (the leader reassigns at once), for
 * the reason finish_handoffs gives, and their held answers go out while the
 * sender still runs. The home thread takes the completions of the shards
 * without a thread of their own (nobody runs their loop now). Bounded by
 * park_ms: mail for these partitions waits no longer anyway. */
static void leave_settle(bs__cluster *cl, void *all) {
  bs_engine *e = cl->engine;
  if (!e->storage) return;
  uint64_t until = now_ms() + cl->o.park_ms;
  for (;;) {
    uint32_t busy = 0;
    for (uint32_t i = 0; i < e->nshards; i++)
      if (bs__shard_call(e, i, store_check_here, all) == 0)
        busy += BS__LOAD(&e->shards[i]->cl->store_busy, ACQUIRE);
    if (!busy || now_ms() >= until) return;
    uv_sleep(1);
    for (uint32_t i = 0; i < e->nshards; i++)
      if (!e->shards[i]->threaded) bs__shard_call(e, i, completions_here, NULL);
  }
}

void bs__nats_leave(bs__cluster *cl) {
  bs__nats *nt = nats_of(cl);
  bs_engine *e = cl->engine;
  if (!nt->kv_nodes_lease || !nt->member_rev) return;
  /* Stop serving, deinitialise placed actors (each on its shard, waited
   * for), let their last writes commit, then give the name back: the
   * leader reassigns at once. */
  BS__STORE(&cl->lease_until, 0, RELEASE);
  size_t len = (cl->nparts + 7) / 8;
  uint8_t *all = bs__alloc(&e->heap, len);
  if (all) {
    memset(all, 0xff, len);
    for (uint32_t i = 0; i < e->nshards; i++) bs__shard_call(e, i, release_here, all);
    leave_settle(cl, all);
    bs__free(&e->heap, all, len);
  }
  if (BS__LOAD(&cl->leader, RELAXED)) kvStore_Delete(nt->kv_nodes, "leader");
  kvStore_Delete(nt->kv_nodes_lease, nt->member_key);
}

void bs__nats_stop(bs__cluster *cl) {
  bs__nats *nt = nats_of(cl);
  if (nt->sender_on) {
    bs__nats_wake(cl);
    uv_thread_join(&nt->sender);
    nt->sender_on = false;
  }
  if (nt->lease_on) uv_thread_join(&nt->lease);
  if (nt->place_on) uv_thread_join(&nt->place);
  nt->lease_on = nt->place_on = false;
  if (nt->mail) {
    natsSubscription_Unsubscribe(nt->mail);
    natsSubscription_Destroy(nt->mail);
    nt->mail = NULL;
  }
  for (size_t i = 0; i < nt->nssubs; i++) { /* if the sender never ran */
    natsSubscription_Unsubscribe(nt->ssubs[i].sub);
    natsSubscription_Destroy(nt->ssubs[i].sub);
  }
  nt->nssubs = 0;
  /* No callback of ours may run once we return: wait for every
   * subscription's on-complete callback. */
  for (int i = 0; i < 5000 && BS__LOAD(&nt->subs_open, ACQUIRE); i++) uv_sleep(1);
}

void bs__nats_free(bs__cluster *cl) {
  bs__nats *nt = nats_of(cl);
  if (!nt) return;
  bs_engine *e = cl->engine;
  if (nt->wparts) kvWatcher_Destroy(nt->wparts);
  if (nt->wnodes) kvWatcher_Destroy(nt->wnodes);
  kvStore_Destroy(nt->kv_parts);
  kvStore_Destroy(nt->kv_nodes);
  kvStore_Destroy(nt->kv_nodes_lease);
  jsCtx_Destroy(nt->js_lease);
  jsCtx_Destroy(nt->js_place);
  natsConnection_Destroy(nt->data);
  natsConnection_Destroy(nt->ctl);
  if (nt->recs) bs__free(&e->heap, nt->recs, (size_t)cl->nparts * sizeof *nt->recs);
  if (nt->sync_made) {
    uv_cond_destroy(&nt->wake_cond);
    uv_mutex_destroy(&nt->wake_lock);
  }
  bs__free(&e->heap, nt->ssubs, nt->capssubs * sizeof *nt->ssubs);
  bs__free(&e->heap, nt, sizeof *nt);
  cl->nats = NULL;
}
