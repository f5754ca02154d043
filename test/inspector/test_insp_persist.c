/* The inspector's view of persistent actors (docs/inspector.md): each
 * actor's stored version, last save and store errors in /api/actor and
 * the snapshot's rows, the engine's store figures in the head, and the
 * store's families in /metrics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <backstage/testkit.h>

#include "insp_test.h"

/* Keep: add(int64) [1] persists. Stored {1: sum}. */
typedef struct Keep {
  bs_context *ctx;
  int64_t sum;
} Keep;

static int keep_save(const void *self, bs_writer *w) {
  bs_write_map(w, 1);
  bs_write_uint(w, 1);
  return bs_write_int(w, ((const Keep *)self)->sum);
}

static int keep_load(void *self, bs_reader *r) {
  uint64_t n = 0, k = 0;
  bs_read_map(r, &n);
  for (uint64_t i = 0; i < n && !r->err; i++) {
    bs_read_uint(r, &k);
    if (k == 1) bs_read_i64(r, &((Keep *)self)->sum);
    else bs_read_skip(r);
  }
  return r->err;
}

static int keep_init(void *self, bs_context *ctx) {
  ((Keep *)self)->ctx = ctx;
  return 0;
}

static int keep_add(void *self, bs_call *call) {
  Keep *k = self;
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  k->sum += v;
  call->result = bs_context_persist(k->ctx);
  return 0;
}

static const bs_method keep_methods[] = {{"add", 1, 1, keep_add}};
static const bs_actor_type keep_type = {
    .name = "Keep", .state_size = sizeof(Keep), .state_align = _Alignof(Keep),
    .init = keep_init, .methods = keep_methods, .method_count = 1,
    .save_state = keep_save, .load_state = keep_load};

static char dir[64], path[96];

static bs_engine *engine(void) {
  snprintf(dir, sizeof dir, "/tmp/bs-insp-persist-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/state.db", dir);
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.virtual_time = true;
  eo.store_path = path;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  cr_assert_eq(bs_inspector_start(e, &o), 0);
  return e;
}

static void done(bs_engine *e) {
  it_free(e);
  const char *ext[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[128];
    snprintf(p, sizeof p, "%s%s", path, ext[i]);
    unlink(p);
  }
  rmdir(dir);
}

static void add(bs_engine *e, const char *id, int64_t v) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &keep_type, id, &r), 0);
  bs_writer w;
  bs_send_begin(&r, &keep_methods[0], &w);
  bs_write_int(&w, v);
  cr_assert_eq(bs_send_end(&w), 0);
}

Test(insp_persist, rows_show_version_last_save_and_errors) {
  bs_engine *e = engine();
  add(e, "k1", 1);
  add(e, "k1", 2);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  cJSON *j = it_json(e, "/api/actor?id=k1");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "persisted");
  cr_assert(cJSON_IsObject(p), "persisted: an object for a persistent actor");
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 2);
  cr_assert_geq(cJSON_GetObjectItemCaseSensitive(p, "saved_at")->valuedouble, 0);
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(p, "errors")->valuedouble, 0);
  cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(p, "last_error")));
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?sort=id");
  const cJSON *eng = cJSON_GetObjectItemCaseSensitive(j, "engine");
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(eng, "store_writes")->valuedouble, 2);
  cr_assert_eq(cJSON_GetObjectItemCaseSensitive(eng, "store_loads")->valuedouble, 1);
  const cJSON *row = cJSON_GetArrayItem(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "actors"), "items"), 0);
  cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(row, "persisted")));
  cJSON_Delete(j);
  it_resp r = it_get(e, "/metrics");
  cr_assert(strstr(r.body, "\nbackstage_store_writes_total 2\n"), "%s", r.body);
  cr_assert(strstr(r.body, "\nbackstage_store_commits_total 2\n"));
  cr_assert(strstr(r.body, "# TYPE backstage_store_commit_seconds_total counter"));
  it_resp_free(&r);
  done(e);
}
