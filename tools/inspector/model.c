/* Snapshot JSON -> bsi_model (schema: docs/inspector.md). */
#include "model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void str(const cJSON *o, const char *k, char *out, size_t cap) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  snprintf(out, cap, "%s", cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

static void row(bsi_row *r, const cJSON *o) {
  str(o, "id", r->id, sizeof r->id);
  str(o, "type", r->type, sizeof r->type);
  r->rate = num(o, "rate");
  r->avg1 = num(o, "avg1");
  r->avg10 = num(o, "avg10");
  r->avg60 = num(o, "avg60");
  r->mailbox = num(o, "mailbox");
  r->processed = num(o, "processed");
  r->shard = num(o, "shard");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "persisted");
  r->persistent = cJSON_IsObject(p);
  if (r->persistent) {
    r->version = num(p, "version");
    r->store_failed = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "last_error"));
  }
}

static bool flag(const cJSON *o, const char *k) {
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void cluster(bsi_cluster *c, const cJSON *o) {
  c->on = cJSON_IsObject(o);
  if (!c->on) return;
  str(o, "node", c->node, sizeof c->node);
  c->leader = flag(o, "leader");
  c->serving = flag(o, "serving");
  c->nodes = num(o, "nodes");
  c->partitions = num(o, "partitions");
  c->owned = num(o, "owned");
  c->out_per_s = num(o, "msgs_out_per_s");
  c->in_per_s = num(o, "msgs_in_per_s");
  c->moved_out = num(o, "moved_out");
  c->moved_in = num(o, "moved_in");
  c->unreachable = num(o, "unreachable");
  c->lost = num(o, "lost");
}

static int rows(bsi_model *m, const cJSON *actors) {
  const cJSON *items = cJSON_GetObjectItemCaseSensitive(actors, "items");
  int n = cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0;
  m->rows = n ? calloc((size_t)n, sizeof *m->rows) : NULL;
  if (n && !m->rows) return -1;
  const cJSON *it;
  size_t i = 0;
  cJSON_ArrayForEach(it, items) {
    if (cJSON_IsObject(it) && i < (size_t)n) row(&m->rows[i++], it);
  }
  m->nrows = i;
  return 0;
}

int bsi_model_parse(bsi_model *m, const char *json, size_t len) {
  cJSON *root = cJSON_ParseWithLength(json, len);
  const cJSON *engine = cJSON_GetObjectItemCaseSensitive(root, "engine");
  const cJSON *actors = cJSON_GetObjectItemCaseSensitive(root, "actors");
  if (!cJSON_IsObject(engine) || !cJSON_IsObject(actors)) {
    cJSON_Delete(root);
    return -1;
  }
  bsi_model n = {0};
  n.rate = num(engine, "rate");
  n.avg1 = num(engine, "avg1");
  n.avg10 = num(engine, "avg10");
  n.avg60 = num(engine, "avg60");
  n.delivered = num(engine, "delivered");
  n.actors = num(engine, "actors");
  n.active = num(engine, "active");
  n.dead_letters = num(engine, "dead_letters");
  n.uptime_ms = num(root, "uptime_ms");
  n.total = num(actors, "total");
  n.offset = num(actors, "offset");
  str(actors, "sort", n.sort, sizeof n.sort);
  cluster(&n.cluster, cJSON_GetObjectItemCaseSensitive(root, "cluster"));
  int rc = rows(&n, actors);
  cJSON_Delete(root);
  if (rc < 0) return -1;
  bsi_model_free(m);
  *m = n;
  return 0;
}

void bsi_model_free(bsi_model *m) {
  free(m->rows);
  memset(m, 0, sizeof *m);
}
