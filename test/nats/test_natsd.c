/* The test server launcher itself (support/bst_natsd.h), against libnats:
 * a JetStream KV bucket with compare-and-swap writes survives a server
 * restart (kill -9) on the same port and store, and stopping removes the
 * server and its directory. The cluster and the NATS KV store build on
 * exactly these operations. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bst_natsd.h"

static natsConnection *connect_to(const bst_natsd *d) {
  natsOptions *o = NULL;
  cr_assert_eq(natsOptions_Create(&o), NATS_OK);
  natsOptions_SetURL(o, d->url);
  natsOptions_SetTimeout(o, 2000);
  natsOptions_SetMaxReconnect(o, 50);
  natsOptions_SetReconnectWait(o, 100);
  natsConnection *nc = NULL;
  natsStatus s = natsConnection_Connect(&nc, o);
  natsOptions_Destroy(o);
  cr_assert_eq(s, NATS_OK, "connect %s: %s", d->url, natsStatus_GetText(s));
  return nc;
}

static kvStore *bucket(natsConnection *nc, jsCtx **js) {
  cr_assert_eq(natsConnection_JetStream(js, nc, NULL), NATS_OK);
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = "bst_owners";
  cfg.History = 1;
  kvStore *kv = NULL;
  natsStatus s = js_CreateKeyValue(&kv, *js, &cfg);
  cr_assert_eq(s, NATS_OK, "create bucket: %s", natsStatus_GetText(s));
  return kv;
}

Test(natsd, kv_compare_and_swap_survives_a_restart, .timeout = 60) {
  bst_natsd d;
  cr_assert_eq(bst_natsd_start(&d), 0);
  cr_assert_gt(d.port, 0);
  natsConnection *nc = connect_to(&d);
  jsCtx *js = NULL;
  kvStore *kv = bucket(nc, &js);

  uint64_t rev = 0;
  cr_assert_eq(kvStore_CreateString(&rev, kv, "p.7", "node-a/1"), NATS_OK);
  cr_assert_gt(rev, 0);
  uint64_t again = 0;
  /* create refuses a key that exists; update refuses a stale revision */
  cr_assert_neq(kvStore_CreateString(&again, kv, "p.7", "node-b/1"), NATS_OK);
  uint64_t rev2 = 0;
  cr_assert_eq(kvStore_UpdateString(&rev2, kv, "p.7", "node-b/2", rev), NATS_OK);
  cr_assert_gt(rev2, rev);
  cr_assert_neq(kvStore_UpdateString(&again, kv, "p.7", "node-c/3", rev), NATS_OK);

  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  cr_assert_eq(bst_natsd_restart(&d), 0);
  nc = connect_to(&d);
  cr_assert_eq(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
  natsStatus s = js_KeyValue(&kv, js, "bst_owners");
  cr_assert_eq(s, NATS_OK, "bucket after restart: %s", natsStatus_GetText(s));
  kvEntry *e = NULL;
  cr_assert_eq(kvStore_Get(&e, kv, "p.7"), NATS_OK);
  cr_assert_str_eq(kvEntry_ValueString(e), "node-b/2");
  cr_assert_eq(kvEntry_Revision(e), rev2);
  kvEntry_Destroy(e);
  kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  pid_t pid = d.pid;
  char dir[sizeof d.dir];
  memcpy(dir, d.dir, sizeof dir);
  bst_natsd_stop(&d);
  cr_assert_eq(d.pid, 0);
  cr_assert_neq(kill(pid, 0), 0, "the server is gone");
  struct stat st;
  cr_assert_neq(stat(dir, &st), 0, "its directory is removed");
  bst_natsd_stop(&d); /* twice is harmless */
}

Test(natsd, a_stalled_server_resumes, .timeout = 60) {
  bst_natsd d;
  cr_assert_eq(bst_natsd_start(&d), 0);
  natsConnection *nc = connect_to(&d);
  cr_assert_eq(bst_natsd_signal(&d, SIGSTOP), 0);
  /* the signal is asynchronous: wait until the process is stopped */
  char path[64], st[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)d.pid);
  for (int i = 0; i < 500; i++) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
    if (f) fclose(f);
    st[n] = '\0';
    const char *paren = strrchr(st, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'T') break;
    usleep(2000);
  }
  /* A flush needs the server's PONG: it cannot come while it is stopped. */
  cr_assert_neq(natsConnection_FlushTimeout(nc, 300), NATS_OK);
  cr_assert_eq(bst_natsd_signal(&d, SIGCONT), 0);
  cr_assert_eq(natsConnection_FlushTimeout(nc, 5000), NATS_OK);
  natsConnection_Destroy(nc);
  bst_natsd_stop(&d);
}

/* Two servers side by side get different ports and directories. */
Test(natsd, two_servers, .timeout = 60) {
  bst_natsd a, b;
  cr_assert_eq(bst_natsd_start(&a), 0);
  cr_assert_eq(bst_natsd_start(&b), 0);
  cr_assert_neq(a.port, b.port);
  cr_assert_str_neq(a.dir, b.dir);
  natsConnection *na = connect_to(&a), *nb = connect_to(&b);
  natsConnection_Destroy(na);
  natsConnection_Destroy(nb);
  bst_natsd_stop(&a);
  bst_natsd_stop(&b);
  nats_Close();
}
