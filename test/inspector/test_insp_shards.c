/* The inspector over an engine with two shards on two threads: each shard
 * sweeps its own actors, the snapshot shows them all with their shard, the
 * dashboard's shard filter and per-shard figures, and the live reads (an
 * actor's detail, tracing) are made on the actor's own shard. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "insp_test.h"

static bs_engine *sharded(void) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.shards = 2;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.sample_interval_ms = 20;
  int rc = bs_inspector_start(e, &o);
  cr_assert_eq(rc, 0, "bs_inspector_start: %s", bs_strerror(rc));
  return e;
}

static const cJSON *get(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert_not_null(v, "no \"%s\"", k);
  return v;
}

static double num(const cJSON *o, const char *k) { return get(o, k)->valuedouble; }

/* Twenty workers with mail; returns the id of one on shard 1 in one1. */
static void populate(bs_engine *e, char *one1) {
  char id[16];
  one1[0] = 0;
  for (int i = 0; i < 20; i++) {
    snprintf(id, sizeof id, "w-%02d", i);
    bs_ref r;
    cr_assert_eq(bs_actor_get(e, &insp_worker_type, id, &r), 0);
    for (int k = 0; k <= i; k++) cr_assert_eq(insp_work(r, k), 0);
    if (!one1[0] && bs_ref_shard(&r) == 1) strcpy(one1, id);
  }
  cr_assert(one1[0], "no worker on shard 1");
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
}

/* Pumps until a snapshot lists all twenty (both shards' sweeps merged). */
static cJSON *snapshot_of_all(bs_engine *e, const char *query) {
  for (int tries = 0; tries < 200; tries++) {
    cJSON *j = it_json(e, query);
    if (num(get(j, "actors"), "total") == 20) return j;
    cJSON_Delete(j);
    it_pump_for(e, 20);
  }
  cr_assert_fail("the snapshot never listed every actor");
  return NULL;
}

Test(insp_shards, the_snapshot_lists_every_shards_actors_with_their_shard, .timeout = 60) {
  bs_engine *e = sharded();
  char one1[16];
  populate(e, one1);
  cJSON *j = snapshot_of_all(e, "/api/snapshot?sort=id&limit=100");
  int on[2] = {0, 0};
  const cJSON *it;
  cJSON_ArrayForEach(it, get(get(j, "actors"), "items")) {
    int shard = (int)num(it, "shard");
    cr_assert(shard == 0 || shard == 1);
    on[shard]++;
    bs_ref r;
    cr_assert_eq(bs_actor_get(e, &insp_worker_type, get(it, "id")->valuestring, &r), 0);
    cr_assert_eq((uint32_t)shard, bs_ref_shard(&r), "row on the wrong shard");
    int i = atoi(get(it, "id")->valuestring + 2);
    cr_assert_eq(num(it, "processed"), i + 1);
  }
  cr_assert(on[0] > 0 && on[1] > 0, "%d on shard 0, %d on shard 1", on[0], on[1]);
  /* per-shard figures in the head */
  const cJSON *shards = get(j, "shards");
  cr_assert_eq(cJSON_GetArraySize(shards), 2);
  cr_assert_eq(num(cJSON_GetArrayItem(shards, 0), "actors"), on[0]);
  cr_assert_eq(num(cJSON_GetArrayItem(shards, 1), "actors"), on[1]);
  cJSON_Delete(j);
  /* the filter */
  j = it_json(e, "/api/snapshot?sort=id&limit=100&shard=1");
  cr_assert_eq(num(get(j, "actors"), "total"), on[1]);
  cr_assert_eq(num(get(j, "actors"), "shard"), 1);
  cJSON_ArrayForEach(it, get(get(j, "actors"), "items")) cr_assert_eq(num(it, "shard"), 1);
  cJSON_Delete(j);
  it_free(e);
}

Test(insp_shards, detail_and_tracing_are_read_on_the_actors_shard, .timeout = 60) {
  bs_engine *e = sharded();
  char one1[16], path[96];
  populate(e, one1);
  snprintf(path, sizeof path, "/api/actor?id=%s", one1);
  cJSON *j = it_json(e, path);
  cr_assert_str_eq(get(j, "id")->valuestring, one1);
  cr_assert_eq(num(j, "shard"), 1);
  int i = atoi(one1 + 2);
  cr_assert_eq(num(get(j, "state"), "count"), i + 1);
  cJSON_Delete(j);
  snprintf(path, sizeof path, "/api/trace?id=%s&on=1", one1);
  it_resp r = it_post(e, path);
  cr_assert_eq(r.status, 200);
  it_resp_free(&r);
  bs_ref ref;
  cr_assert_eq(bs_actor_get(e, &insp_worker_type, one1, &ref), 0);
  for (int k = 0; k < 3; k++) cr_assert_eq(insp_work(ref, k), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  const char *names[BS_INSPECTOR_TRACE_N];
  cr_assert_eq(bs_inspector_trace_get(e, one1, names, BS_INSPECTOR_TRACE_N), 3);
  cr_assert_str_eq(names[2], "work");
  bs_inspector_actor a;
  cr_assert_eq(bs_inspector_actor_get(e, one1, &a), 0);
  cr_assert(a.tracing);
  cr_assert_eq(a.processed, (uint64_t)i + 4);
  cr_assert_eq(bs_inspector_actor_get(e, "nobody", &a), BS_ENOTFOUND);
  it_free(e);
}

Test(insp_shards, metrics_have_per_shard_families, .timeout = 60) {
  bs_engine *e = sharded();
  char one1[16];
  populate(e, one1);
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  cr_assert_not_null(strstr(r.body, "backstage_shard_actors{shard=\"0\"}"));
  cr_assert_not_null(strstr(r.body, "backstage_shard_actors{shard=\"1\"}"));
  cr_assert_not_null(strstr(r.body, "backstage_shard_remote_in_total{shard=\"1\"}"));
  it_resp_free(&r);
  it_free(e);
}
