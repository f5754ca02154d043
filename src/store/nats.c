/* The NATS JetStream key-value store (backstage/store_nats.h): a provider
 * over libnats' KV calls, built on the public store interface only, in a
 * library of its own (backstage_nats) so the core never needs libnats.
 *
 * Versions are KV revisions (the stream sequence of the key's last
 * message). A save with version 0 is kvStore_Create, which the server
 * refuses when the key holds a value; any other save publishes to the
 * key's subject expecting that revision as the subject's last sequence
 * (what kvStore_Update does), and the server's "wrong last sequence"
 * (JetStream error 10071) is BS_ECONFLICT. A remove publishes a KV delete
 * marker under the same expectation. Everything runs on the engine's
 * storage thread, blocking up to timeout_ms per request. */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstage/store_nats.h"

#define WRONG_LAST_SEQUENCE 10071 /* JSErrCodeStreamWrongLastSequence */
#define KEY_MAX (64 + 1 + 172)    /* type, '.', base64url of BS_ID_MAX bytes */

typedef struct kv {
  natsConnection *nc;
  bool own_nc;
  jsCtx *js;
  kvStore *kv;
  char *bucket;
  int64_t timeout_ms;
  kvEntry *held;  /* the entry a loaded record points into */
  char key[KEY_MAX + 1];          /* "<type>.<base64url(id)>" */
  char subj[4 + 64 + 1 + KEY_MAX + 1]; /* "$KV.<bucket>.<key>" */
} kv;

static int status_of(natsStatus s) {
  if (s == NATS_OK) return 0;
  if (s == NATS_NOT_FOUND) return BS_ENOTFOUND;
  if (s == NATS_NO_MEMORY) return BS_ENOMEM;
  return BS_ESTORE;
}

/* The entry's key: the type, a dot, the id in base64url without padding
 * (KV keys allow [-/_=.a-zA-Z0-9]; ids are any bytes). */
static int make_key(kv *d, const bs_store_key *k) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t tl = strlen(k->type);
  if (tl == 0 || tl > 64 || k->id_len == 0 || k->id_len > BS_ID_MAX) return BS_EINVAL;
  char *p = d->key;
  memcpy(p, k->type, tl);
  p += tl;
  *p++ = '.';
  const uint8_t *id = (const uint8_t *)k->id;
  for (size_t i = 0; i < k->id_len; i += 3) {
    uint32_t v = (uint32_t)id[i] << 16;
    if (i + 1 < k->id_len) v |= (uint32_t)id[i + 1] << 8;
    if (i + 2 < k->id_len) v |= id[i + 2];
    *p++ = b64[(v >> 18) & 63];
    *p++ = b64[(v >> 12) & 63];
    if (i + 1 < k->id_len) *p++ = b64[(v >> 6) & 63];
    if (i + 2 < k->id_len) *p++ = b64[v & 63];
  }
  *p = '\0';
  snprintf(d->subj, sizeof d->subj, "$KV.%s.%s", d->bucket, d->key);
  return 0;
}

static void release(kv *d) {
  if (d->held) kvEntry_Destroy(d->held);
  d->held = NULL;
}

static int kv_load(void *impl, const bs_store_key *k, bs_store_record *rec) {
  kv *d = impl;
  release(d);
  int rc = make_key(d, k);
  if (rc < 0) return rc;
  kvEntry *e = NULL;
  natsStatus s = kvStore_Get(&e, d->kv, d->key);
  if (s != NATS_OK) return status_of(s);
  if (kvEntry_Operation(e) != kvOp_Put) {
    kvEntry_Destroy(e);
    return BS_ENOTFOUND;
  }
  d->held = e;
  rec->data = kvEntry_Value(e);
  rec->len = (size_t)kvEntry_ValueLen(e);
  rec->version = kvEntry_Revision(e);
  return 0;
}

/* Publishes to the key's subject expecting revision `expected` (> 0). */
static int publish(kv *d, natsMsg *m, uint64_t expected, uint64_t *version) {
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.ExpectLastSubjectSeq = expected;
  o.MaxWait = d->timeout_ms;
  jsPubAck *ack = NULL;
  jsErrCode ec = 0;
  natsStatus s = js_PublishMsg(&ack, d->js, m, &o, &ec);
  if (s == NATS_OK && version) *version = ack->Sequence;
  jsPubAck_Destroy(ack);
  if (s != NATS_OK && ec == WRONG_LAST_SEQUENCE) return BS_ECONFLICT;
  return status_of(s);
}

static int kv_save(void *impl, const bs_store_key *k, const void *data, size_t len,
                   uint64_t expected, uint64_t *version) {
  kv *d = impl;
  release(d);
  int rc = make_key(d, k);
  if (rc < 0) return rc;
  if (len > INT32_MAX) return BS_ETOOBIG;
  if (expected == 0) {
    natsStatus s = kvStore_Create(version, d->kv, d->key, data, (int)len);
    if (s == NATS_ERR && strstr(nats_GetLastError(NULL), "wrong last sequence")) {
      return BS_ECONFLICT; /* the key holds a value */
    }
    return status_of(s);
  }
  natsMsg *m = NULL;
  if (natsMsg_Create(&m, d->subj, NULL, data, (int)len) != NATS_OK) return BS_ENOMEM;
  rc = publish(d, m, expected, version);
  natsMsg_Destroy(m);
  return rc;
}

static int kv_remove(void *impl, const bs_store_key *k, uint64_t expected) {
  kv *d = impl;
  if (expected == 0) { /* nothing to remove, unless someone created it */
    bs_store_record rec;
    int rc = kv_load(impl, k, &rec);
    release(d);
    return rc == BS_ENOTFOUND ? 0 : rc == 0 ? BS_ECONFLICT : rc;
  }
  release(d);
  int rc = make_key(d, k);
  if (rc < 0) return rc;
  natsMsg *m = NULL;
  if (natsMsg_Create(&m, d->subj, NULL, NULL, 0) != NATS_OK) return BS_ENOMEM;
  if (natsMsgHeader_Set(m, "KV-Operation", "DEL") != NATS_OK) rc = BS_ENOMEM;
  else rc = publish(d, m, expected, NULL);
  natsMsg_Destroy(m);
  return rc;
}

static void kv_close(void *impl) {
  kv *d = impl;
  if (!d) return;
  release(d);
  if (d->kv) kvStore_Destroy(d->kv);
  if (d->js) jsCtx_Destroy(d->js);
  if (d->own_nc && d->nc) natsConnection_Destroy(d->nc);
  free(d->bucket);
  free(d);
}

static const bs_store_ops nats_ops = {
    .load = kv_load,
    .save = kv_save,
    .remove = kv_remove,
    .close = kv_close,
};

void bs_store_nats_options_init(bs_store_nats_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->timeout_ms = 5000;
}

static natsStatus connect_to(kv *d, const char *url) {
  natsOptions *o = NULL;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetURL(o, url);
  if (s == NATS_OK) s = natsOptions_SetTimeout(o, d->timeout_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1); /* forever */
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 100);
  if (s == NATS_OK) s = natsConnection_Connect(&d->nc, o);
  natsOptions_Destroy(o);
  d->own_nc = d->nc != NULL;
  return s;
}

static natsStatus bucket(kv *d, int replicas) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = d->timeout_ms;
  natsStatus s = natsConnection_JetStream(&d->js, d->nc, &jo);
  if (s != NATS_OK) return s;
  s = js_KeyValue(&d->kv, d->js, d->bucket);
  if (s != NATS_NOT_FOUND) return s;
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = d->bucket;
  cfg.History = 1;
  cfg.Replicas = replicas > 0 ? replicas : 1;
  s = js_CreateKeyValue(&d->kv, d->js, &cfg);
  if (s == NATS_ERR) s = js_KeyValue(&d->kv, d->js, d->bucket); /* made meanwhile */
  return s;
}

int bs_store_nats_open(bs_store **out, const bs_store_nats_options *opts) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  if (!opts || !opts->bucket || !opts->bucket[0] || !opts->url == !opts->connection ||
      strlen(opts->bucket) > 64)
    return BS_EINVAL;
  kv *d = calloc(1, sizeof *d);
  if (!d) return BS_ENOMEM;
  size_t blen = strlen(opts->bucket) + 1;
  d->bucket = malloc(blen);
  if (d->bucket) memcpy(d->bucket, opts->bucket, blen);
  d->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 5000;
  d->nc = (natsConnection *)opts->connection;
  natsStatus s = d->bucket ? NATS_OK : NATS_NO_MEMORY;
  if (s == NATS_OK && opts->url) s = connect_to(d, opts->url);
  if (s == NATS_OK) s = bucket(d, opts->replicas);
  if (s != NATS_OK) {
    fprintf(stderr, "backstage: NATS store '%s': %s (%s)\n", opts->bucket,
            natsStatus_GetText(s), nats_GetLastError(NULL));
    kv_close(d);
    return s == NATS_NO_MEMORY ? BS_ENOMEM : BS_ESTORE;
  }
  int rc = bs_store_new(out, &nats_ops, d);
  if (rc < 0) kv_close(d);
  return rc;
}
