/* The NATS JetStream KV store (backstage/store_nats.h) against a real
 * nats-server on loopback (support/bst_natsd.h): revisions as versions,
 * optimistic concurrency, removes, odd ids, persistent actors through it
 * across engines and a server restart, and a server that stops answering. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <backstage/store_nats.h>

#include "bst.h"
#include "bst_natsd.h"

static bs_store *open_kv(const bst_natsd *d, int64_t timeout_ms) {
  bs_store_nats_options o;
  bs_store_nats_options_init(&o);
  o.url = d->url;
  o.bucket = "bst_state";
  if (timeout_ms) o.timeout_ms = timeout_ms;
  bs_store *s = NULL;
  int rc = bs_store_nats_open(&s, &o);
  cr_assert_eq(rc, 0, "open: %s", bs_errname(rc));
  return s;
}

Test(store_nats, revisions_are_versions, .timeout = 60) {
  bst_natsd d;
  cr_assert_eq(bst_natsd_start(&d), 0);
  bs_store *s = open_kv(&d, 0);
  uint64_t v1 = 0, v2 = 0, v = 0;
  bs_store_record rec;
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), BS_ENOTFOUND);
  cr_assert_eq(bs_store_save(s, "T", "k", "one", 3, 0, &v1), 0);
  cr_assert_gt(v1, 0);
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, 0, &v), BS_ECONFLICT, "exists");
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, v1 + 100, &v), BS_ECONFLICT);
  cr_assert_eq(bs_store_save(s, "T", "k", "two", 3, v1, &v2), 0);
  cr_assert_gt(v2, v1);
  cr_assert_eq(bs_store_save(s, "T", "k", "old", 3, v1, &v), BS_ECONFLICT, "stale");
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), 0);
  cr_assert_eq(rec.version, v2);
  cr_assert_eq(rec.len, 3);
  cr_assert_eq(memcmp(rec.data, "two", 3), 0);
  /* Any bytes make an id; types keep records apart. */
  const char odd[] = "a b/c.d\xff\x01=";
  cr_assert_eq(bs_store_save(s, "T", odd, "x", 1, 0, &v), 0);
  cr_assert_eq(bs_store_load(s, "T", odd, &rec), 0);
  cr_assert_eq(bs_store_load(s, "U", "k", &rec), BS_ENOTFOUND);
  /* Removes expect the revision too; a removed key can be created again. */
  cr_assert_eq(bs_store_remove(s, "T", "k", v1), BS_ECONFLICT);
  cr_assert_eq(bs_store_remove(s, "T", "k", 0), BS_ECONFLICT, "it exists");
  cr_assert_eq(bs_store_remove(s, "T", "k", v2), 0);
  cr_assert_eq(bs_store_load(s, "T", "k", &rec), BS_ENOTFOUND);
  cr_assert_eq(bs_store_remove(s, "T", "k", 0), 0);
  cr_assert_eq(bs_store_save(s, "T", "k", "new", 3, 0, &v), 0);
  cr_assert_gt(v, v2);
  bs_store_free(s);
  bst_natsd_stop(&d);
}

Test(store_nats, options_are_checked) {
  bs_store *s = NULL;
  bs_store_nats_options o;
  bs_store_nats_options_init(&o);
  cr_assert_eq(bs_store_nats_open(&s, &o), BS_EINVAL, "no bucket, no url");
  o.bucket = "b";
  cr_assert_eq(bs_store_nats_open(&s, &o), BS_EINVAL, "no url");
  o.url = "nats://127.0.0.1:1";
  o.timeout_ms = 200;
  cr_assert_eq(bs_store_nats_open(&s, &o), BS_ESTORE, "nobody there");
  cr_assert_null(s);
}

static int deposit(bs_engine *e, const char *id, int64_t n, int64_t *balance) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_ledger_type, id, &r), 0);
  bs_writer w;
  bs_send_begin(&r, &bst_ledger_methods[BST_LEDGER_DEPOSIT], &w);
  bs_write_int(&w, n);
  return bs_request_await(&w, bst_reply_i64, balance, 20000);
}

static bs_engine *engine_on(bs_store *s) {
  bs_engine_options o = bst_options(NULL);
  o.store = s;
  o.shards = 2;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &o), 0);
  return e;
}

/* Two engines, as two nodes sharing the bucket: the state moves with the
 * actor, and the node left with a stale instance cannot overwrite it. */
Test(store_nats, actors_move_between_engines_and_survive_a_restart, .timeout = 90) {
  bst_reset();
  bst_natsd d;
  cr_assert_eq(bst_natsd_start(&d), 0);
  bs_store *sa = open_kv(&d, 0), *sb = open_kv(&d, 0);
  bs_engine *a = engine_on(sa), *b = engine_on(sb);
  int64_t v = 0;
  cr_assert_eq(deposit(a, "acct", 5, &v), 0);
  cr_assert_eq(deposit(b, "acct", 10, &v), 0, "the other node loads what a wrote");
  cr_assert_eq(v, 15);
  cr_assert_eq(deposit(a, "acct", 1, &v), BS_ECONFLICT, "a's instance is stale");
  cr_assert_eq(deposit(a, "acct", 1, &v), 0, "reloaded");
  cr_assert_eq(v, 16);
  bs_engine_free(a);
  bs_engine_free(b);
  bs_store_free(sa);
  bs_store_free(sb);

  /* The server's JetStream store keeps it through a kill -9. */
  cr_assert_eq(bst_natsd_restart(&d), 0);
  bs_store *s = open_kv(&d, 0);
  bs_engine *e = engine_on(s);
  cr_assert_eq(deposit(e, "acct", 0, &v), 0);
  cr_assert_eq(v, 16);
  bs_engine_free(e);
  bs_store_free(s);
  bst_natsd_stop(&d);
}

/* SIGSTOP is asynchronous: waits until the process is stopped. */
static void stall(bst_natsd *d) {
  cr_assert_eq(bst_natsd_signal(d, SIGSTOP), 0);
  char path[64], st[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)d->pid);
  for (int i = 0; i < 2500; i++) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(st, 1, sizeof st - 1, f) : 0;
    if (f) fclose(f);
    st[n] = '\0';
    const char *paren = strrchr(st, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'T') return;
    usleep(2000);
  }
  cr_assert_fail("the server did not stop");
}

/* A server that stops answering: activations fail with BS_ESTORE after
 * the timeout (on the storage thread: the loops keep running), and work
 * again once it is back. */
Test(store_nats, an_unreachable_server_fails_activation_cleanly, .timeout = 90) {
  bst_reset();
  bst_natsd d;
  cr_assert_eq(bst_natsd_start(&d), 0);
  bs_store *s = open_kv(&d, 300);
  bs_engine *e = engine_on(s);
  int64_t v = 0;
  cr_assert_eq(deposit(e, "x", 1, &v), 0);
  stall(&d);
  cr_assert_eq(deposit(e, "y", 1, &v), BS_ESTORE);
  cr_assert_eq(bst_dl_by_reason[BS_DL_STORE], 1);
  cr_assert_eq(deposit(e, "x", 1, &v), BS_ESTORE, "the write of an active one fails too");
  cr_assert_eq(bst_natsd_signal(&d, SIGCONT), 0);
  int rc = BS_ESTORE;
  for (int i = 0; i < 50 && rc != 0; i++) rc = deposit(e, "y", 1, &v);
  cr_assert_eq(rc, 0);
  cr_assert_eq(v, 1);
  bs_engine_free(e);
  bs_store_free(s);
  bst_natsd_stop(&d);
  nats_Close();
}
