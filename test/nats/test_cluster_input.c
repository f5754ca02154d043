/* What other nodes send is input: malformed or hostile frames published on
 * a node's subject are counted and dead-lettered, never crash it, and the
 * node keeps working. And "moved": mail that reaches a node that does not
 * own its actor goes back to its sender, which routes it again. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <nats/nats.h>
#include <stdio.h>
#include <string.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"
#include "cluster/cluster.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_input, .init = up, .fini = down, .timeout = 120);

static natsConnection *raw(void) {
  natsConnection *nc = NULL;
  cr_assert_eq(natsConnection_ConnectTo(&nc, natsd.url), NATS_OK);
  return nc;
}

static void pub(natsConnection *nc, const char *subj, const void *p, size_t n) {
  cr_assert_eq(natsConnection_Publish(nc, subj, p, (int)n), NATS_OK);
  cr_assert_eq(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
}

/* A MAIL frame from `sender` (name, boot, gen; shard `sshard`) to the
 * process whose boot is `dboot`, with `n` envelopes. */
static size_t frame(uint8_t *buf, const char *sender, uint64_t sboot, uint32_t sgen,
                    uint16_t sshard, uint64_t dboot, const bs__env *envs, uint32_t n) {
  bs__frame f = {0};
  f.kind = BS__FR_MAIL;
  f.sshard = sshard;
  f.sboot = sboot;
  f.sgen = sgen;
  f.dboot = dboot;
  f.sname = sender;
  f.sname_len = (uint8_t)strlen(sender);
  size_t at = bs__wire_put_frame(buf, &f);
  for (uint32_t i = 0; i < n; i++) at += bs__wire_put_env(buf + at, &envs[i]);
  bs__wire_patch_frame(buf, n, 0);
  return at;
}

/* [method id, int] as CBOR. */
static size_t call_body(uint8_t *b, const char *method, uint8_t arg) {
  uint32_t id = bs__fnv1a32(method, strlen(method));
  b[0] = 0x82;
  b[1] = 0x1a;
  b[2] = (uint8_t)(id >> 24);
  b[3] = (uint8_t)(id >> 16);
  b[4] = (uint8_t)(id >> 8);
  b[5] = (uint8_t)id;
  b[6] = arg; /* 0..23: one byte */
  return 7;
}

static bs__env add_env(const char *id, const uint8_t *body, size_t len) {
  bs__env e = {0};
  e.kind = e.inner = BS__ENV_CALL;
  e.type_id = bs__fnv1a32("Counter", 7);
  e.id = id;
  e.id_len = (uint8_t)strlen(id);
  e.body = body;
  e.body_len = (uint32_t)len;
  return e;
}

static bool undecodable_at_least(bs_engine *e, void *ud) {
  bs_cluster_stats st;
  bs_cluster_stats_get(e, &st);
  return st.undecodable >= *(uint64_t *)ud;
}

Test(cluster_input, malformed_frames_are_counted_and_the_node_keeps_working) {
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 2, NULL), 0);
  bs__cluster *cl = e->cluster;
  natsConnection *nc = raw();
  const char *subj = "bs.bst.n.t";
  uint8_t buf[4096], body[16];
  /* Noise, a short header, another version. */
  pub(nc, subj, "hello", 5);
  pub(nc, subj, "BS", 2);
  bs__env env = add_env("x-1", body, call_body(body, "add", 1));
  size_t n = frame(buf, "mallory", 7, 1, 0, cl->boot, &env, 1);
  buf[2] = 99;
  pub(nc, subj, buf, n);
  /* A good header, then an envelope cut short, then more than announced. */
  n = frame(buf, "mallory", 7, 1, 0, cl->boot, &env, 1);
  pub(nc, subj, buf, n - 3);
  bs__wire_patch_frame(buf, 0, 0);
  pub(nc, subj, buf, n);
  /* Answers to a shard that does not exist, a status that is no BS_E*. */
  bs__env v = {0};
  v.kind = BS__ENV_VALUE;
  v.req_id = 12345;
  v.reply_shard = 999;
  n = frame(buf, "mallory", 7, 1, 0, cl->boot, &v, 1);
  pub(nc, subj, buf, n);
  uint64_t want = 6;
  cr_assert(cl_run_until(e, 10000, undecodable_at_least, &want), "not all counted");
  v.reply_shard = 0;
  v.status = 12345;
  n = frame(buf, "mallory", 7, 1, 0, cl->boot, &v, 1);
  pub(nc, subj, buf, n);
  /* A type nobody registered; a method nobody has, as a stream element. */
  bs__env u = add_env("x-2", body, call_body(body, "add", 2));
  u.type_id = 42;
  bs__env m = add_env("x-3", body, 1);
  m.kind = m.inner = BS__ENV_ELEM;
  m.method_id = 7;
  bs__env two[2] = {u, m};
  n = frame(buf, "mallory", 7, 1, 0, cl->boot, two, 2);
  pub(nc, subj, buf, n);
  /* For an earlier process of this name: not ours, counted. */
  n = frame(buf, "mallory", 7, 1, 0, cl->boot + 1, &env, 1);
  pub(nc, subj, buf, n);
  cl_run_ms(e, 500);
  bs_engine_stats es;
  bs_engine_stats_get(e, &es);
  cr_assert_geq(es.dead_by_reason[BS_DL_UNDECODABLE_REMOTE], 6);
  cr_assert_geq(es.dead_by_reason[BS_DL_NOT_REGISTERED], 1);
  cr_assert_geq(es.dead_by_reason[BS_DL_UNKNOWN_METHOD], 1);
  bs_cluster_stats st;
  bs_cluster_stats_get(e, &st);
  cr_assert_geq(st.stale, 1);
  /* Still serving. */
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, "after", &c), 0);
  cr_assert_eq(CounterProxy_add(c, 5), 0);
  int64_t total = 0;
  cr_assert_eq(CounterProxy_total_await_timeout(c, &total, 5000), 0);
  cr_assert_eq(total, 5);
  natsConnection_Destroy(nc);
  bs_engine_free(e);
}

static bool owns_some(bs_engine *e, void *ud) {
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8);
  for (int i = 0; i < n && i < 8; i++)
    if (!strcmp(nodes[i].name, ud) && nodes[i].alive && nodes[i].partitions > 100) return true;
  return false;
}

static bool moved_back(bs_engine *e, void *ud) {
  (void)ud;
  bs_cluster_stats st;
  bs_cluster_stats_get(e, &st);
  return st.moved_in >= 1;
}

/* Mail that reaches a node which does not own its actor: "moved" back to
 * its sender, with what that node knows, and routed again from there. */
Test(cluster_input, mail_for_an_actor_another_node_owns_is_moved_and_rerouted) {
  cl_proc a;
  char why[128];
  cr_assert_eq(cl_spawn(&a, natsd.url, "a", why, sizeof why, NULL), 0, "%s", why);
  bs_engine *e;
  cr_assert_eq(cl_engine(&e, natsd.url, "t", 1, NULL), 0);
  cr_assert(cl_run_until(e, 20000, owns_some, "a"));
  cr_assert(cl_run_until(e, 20000, owns_some, "t"));
  char id[32], where[64];
  for (int i = 0;; i++) {
    snprintf(id, sizeof id, "m-%d", i);
    cr_assert_eq(cl_where(e, id, where, sizeof where), 0);
    if (!strcmp(where, "t")) break;
  }
  /* As if "t" had sent it to "a" by an old table. */
  bs__cluster *cl = e->cluster;
  bs__node *an = NULL;
  for (uint32_t i = 1; i < cl->nnodes; i++)
    if (!strcmp(cl->nodes[i]->name, "a") && cl->nodes[i]->alive) an = cl->nodes[i];
  cr_assert_not_null(an);
  uint8_t buf[512], body[16];
  bs__env env = add_env(id, body, call_body(body, "add", 9));
  /* A shard of its own, so the real link's accounting is not disturbed. */
  size_t n = frame(buf, "t", cl->boot, cl->gen, 777, an->boot, &env, 1);
  natsConnection *nc = raw();
  pub(nc, an->subject, buf, n);
  cr_assert(cl_run_until(e, 10000, moved_back, NULL), "no moved answer");
  CounterProxy c;
  cr_assert_eq(CounterProxy_get(e, id, &c), 0);
  int64_t total = 0;
  cr_assert_eq(CounterProxy_total_await_timeout(c, &total, 5000), 0);
  cr_assert_eq(total, 9, "the bounced message reached its actor here");
  natsConnection_Destroy(nc);
  bs_engine_free(e);
  cl_stop(&a);
}
