/* The HTTP endpoints over loopback: JSON snapshot (schema, paging, sorting,
 * search), actor detail with state JSON, tracing, /metrics in the
 * exposition format, the dashboard, bad requests and the token. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "insp_test.h"

static const cJSON *get(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  cr_assert(v, "missing \"%s\"", k);
  return v;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = get(o, k);
  cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", k);
  return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k) {
  const cJSON *v = get(o, k);
  cr_assert(cJSON_IsString(v), "\"%s\" is not a string", k);
  return v->valuestring;
}

static const cJSON *items(const cJSON *snap) { return get(get(snap, "actors"), "items"); }

/* 12 workers w-00..w-11 with i+1 messages each, 3 Plain actors, a Flaky
 * actor with one dead letter (its init fails, so it is not kept: 15 actors
 * remain), a stream with two subscribers; one sample. */
static bs_engine *populated(void) {
  bs_engine *e = it_engine_http();
  char id[16];
  for (int i = 0; i < 12; i++) {
    snprintf(id, sizeof id, "w-%02d", i);
    it_send(e, &insp_worker_type, id, i + 1);
  }
  for (int i = 0; i < 3; i++) {
    snprintf(id, sizeof id, "plain-%d", i);
    it_send(e, &insp_plain_type, id, 1);
  }
  it_send(e, &insp_flaky_type, "flaky", 1);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "ticks", &s), 0);
  cr_assert_eq(bs_stream_add_subscriber(s.s, &insp_worker_type, "w-00",
                                        &insp_worker_methods[INSP_WORKER_WORK]), 0);
  cr_assert_eq(bs_stream_add_subscriber(s.s, &insp_worker_type, "w-01",
                                        &insp_worker_methods[INSP_WORKER_WORK]), 0);
  cr_assert_eq(bs_stream_next(s, 5), 2);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  return e;
}

Test(insp_http, snapshot_has_the_schema_and_the_known_counters) {
  bs_engine *e = populated();
  cJSON *j = it_json(e, "/api/snapshot?sort=id&limit=100");
  const cJSON *eng = get(j, "engine");
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  cr_assert_eq(num(eng, "delivered"), (double)st.delivered);
  cr_assert_eq(num(eng, "sent"), (double)st.sent);
  cr_assert_eq(num(eng, "actors"), 15);
  cr_assert_eq(num(eng, "active"), 15);
  cr_assert_eq(num(eng, "dead_letters"), 1);
  cr_assert_eq(num(get(j, "dead_letters"), "INIT_FAILED"), 1);
  cr_assert_eq(cJSON_GetArraySize(get(j, "dead_letters")), BS_DL__COUNT);
  cr_assert_eq(num(j, "samples"), 1);
  cr_assert_eq(num(j, "interval_ms"), 1000);
  cr_assert_eq(cJSON_GetArraySize(get(j, "history")), 1);
  /* 78 work + 3 plain + 2 stream elements in the one second sampled */
  cr_assert_eq(num(eng, "rate"), 83);

  const cJSON *t, *worker = NULL;
  cJSON_ArrayForEach(t, get(j, "types")) if (!strcmp(str(t, "name"), "Worker")) worker = t;
  cr_assert(worker);
  cr_assert_eq(num(worker, "actors"), 12);
  cr_assert_eq(num(worker, "processed"), 80);

  const cJSON *streams = get(j, "streams");
  cr_assert_eq(cJSON_GetArraySize(streams), 1);
  const cJSON *s = cJSON_GetArrayItem(streams, 0);
  cr_assert_str_eq(str(s, "id"), "ticks");
  cr_assert_str_eq(str(s, "type"), "int64_t");
  cr_assert_eq(num(s, "published"), 1);
  cr_assert_eq(num(s, "subscribers"), 2);

  const cJSON *a = get(j, "actors");
  cr_assert_eq(num(a, "total"), 15);
  cr_assert_str_eq(str(a, "sort"), "id");
  const cJSON *row = cJSON_GetArrayItem(items(j), 3); /* plain-0..2, w-00 */
  cr_assert_str_eq(str(row, "id"), "w-00");
  cr_assert_str_eq(str(row, "type"), "Worker");
  cr_assert_eq(num(row, "received"), 2);
  cr_assert_eq(num(row, "processed"), 2);
  cr_assert_eq(num(row, "mailbox"), 0);
  cr_assert_eq(num(row, "rate"), 2);
  cr_assert(cJSON_IsTrue(get(row, "active")));
  cr_assert(cJSON_IsFalse(get(row, "tracing")));
  const char *keys[] = {"activated_at", "last_activity", "avg1", "avg10", "avg60"};
  for (size_t i = 0; i < 5; i++) num(row, keys[i]);
  cJSON_Delete(j);
  it_free(e);
}

static void assert_ids(const cJSON *snap, const char *const *ids, int n) {
  cr_assert_eq(cJSON_GetArraySize(items(snap)), n);
  for (int i = 0; i < n; i++)
    cr_assert_str_eq(str(cJSON_GetArrayItem(items(snap), i), "id"), ids[i], "row %d", i);
}

Test(insp_http, paging_sorting_and_search) {
  bs_engine *e = populated();
  cJSON *j = it_json(e, "/api/snapshot?sort=rate&limit=3");
  assert_ids(j, (const char *const[]){"w-11", "w-10", "w-09"}, 3);
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?sort=rate&limit=3&offset=3");
  assert_ids(j, (const char *const[]){"w-08", "w-07", "w-06"}, 3);
  cr_assert_eq(num(get(j, "actors"), "total"), 15);
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?sort=id&limit=2&offset=13");
  assert_ids(j, (const char *const[]){"w-10", "w-11"}, 2);
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?sort=type&limit=2");
  assert_ids(j, (const char *const[]){"plain-0", "plain-1"}, 2);
  cJSON_Delete(j);
  /* search: substring of id or type, case-insensitive, URL-decoded */
  j = it_json(e, "/api/snapshot?q=PLAIN&sort=id");
  assert_ids(j, (const char *const[]){"plain-0", "plain-1", "plain-2"}, 3);
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?q=w%2D1&sort=id");
  assert_ids(j, (const char *const[]){"w-10", "w-11"}, 2);
  cJSON_Delete(j);
  j = it_json(e, "/api/snapshot?q=nothing-like-this");
  cr_assert_eq(num(get(j, "actors"), "total"), 0);
  cr_assert_eq(cJSON_GetArraySize(items(j)), 0);
  cJSON_Delete(j);
  /* (sort=mailbox: test_insp_rates, since serving a request runs the mail) */
  /* limits are clamped, junk falls back to defaults */
  j = it_json(e, "/api/snapshot?limit=999999&offset=-4&sort=bogus");
  cr_assert_eq(num(get(j, "actors"), "limit"), 1000);
  cr_assert_eq(num(get(j, "actors"), "offset"), 0);
  cr_assert_str_eq(str(get(j, "actors"), "sort"), "rate");
  cJSON_Delete(j);
  it_free(e);
}

/* A registry bigger than a slice is swept over several ticks; the table
 * shows the last complete sweep, every actor, in order. */
Test(insp_http, snapshots_of_big_registries_are_built_in_slices) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.slice = 64;
  bs_engine *e = it_engine(&o);
  char id[16];
  for (int i = 0; i < 1000; i++) {
    snprintf(id, sizeof id, "a%04d", i);
    it_send(e, &insp_worker_type, id, 1 + i % 7);
  }
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  cJSON *j = it_json(e, "/api/snapshot?sort=id&limit=5&offset=500");
  cr_assert_eq(num(get(j, "actors"), "total"), 0, "the first sweep is not done yet");
  cJSON_Delete(j);
  for (int i = 0; i < 2048 / 64; i++) bs_test_advance(e, 1000);
  j = it_json(e, "/api/snapshot?sort=id&limit=5&offset=500");
  cr_assert_eq(num(get(j, "actors"), "total"), 1000);
  assert_ids(j, (const char *const[]){"a0500", "a0501", "a0502", "a0503", "a0504"}, 5);
  cJSON_Delete(j);
  it_free(e);
}

Test(insp_http, actor_detail_has_counters_and_state_as_json) {
  bs_engine *e = populated();
  cJSON *j = it_json(e, "/api/actor?id=w-04");
  cr_assert_str_eq(str(j, "id"), "w-04");
  cr_assert_eq(num(j, "processed"), 5);
  const cJSON *state = get(j, "state");
  cr_assert(cJSON_IsObject(state));
  char key[16];
  cr_assert_eq(num(state, "count"), 5);
  cr_assert_eq(num(state, "sum"), 0 + 1 + 2 + 3 + 4);
  cr_assert_str_eq(str(state, "name"), "w-04");
  cr_assert_eq(cJSON_GetArraySize(get(state, "last")), 3);
  snprintf(key, sizeof key, "%u", INSP_KEY_RATIO);
  cr_assert_eq(num(state, key), 0.5);
  cr_assert(cJSON_IsNull(get(j, "state_error")));
  const cJSON *methods = get(j, "methods");
  cr_assert_str_eq(cJSON_GetArrayItem(methods, 0)->valuestring, "work");
  cJSON_Delete(j);

  j = it_json(e, "/api/actor?id=plain-1");
  cr_assert(cJSON_IsNull(get(j, "state")));
  cr_assert_str_eq(str(j, "state_error"), "no state encoder");
  cJSON_Delete(j);
  /* flaky's init failed: nothing is kept of it */
  it_resp r = it_get(e, "/api/actor?id=flaky");
  cr_assert_eq(r.status, 404);
  it_resp_free(&r);
  r = it_get(e, "/api/actor?id=nobody");
  cr_assert_eq(r.status, 404);
  it_resp_free(&r);
  r = it_get(e, "/api/actor");
  cr_assert_eq(r.status, 400);
  it_resp_free(&r);
  it_free(e);
}

Test(insp_http, tracing_is_toggled_over_http) {
  bs_engine *e = populated();
  it_resp r = it_post(e, "/api/trace?id=w-02&on=1");
  cr_assert_eq(r.status, 200, "%s", r.raw);
  cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
  cr_assert(cJSON_IsTrue(get(j, "tracing")));
  cJSON_Delete(j);
  it_resp_free(&r);
  it_send(e, &insp_worker_type, "w-02", 3);
  bs_test_run(e, 0);
  j = it_json(e, "/api/actor?id=w-02");
  cr_assert(cJSON_IsTrue(get(j, "tracing")));
  const cJSON *trace = get(j, "trace");
  cr_assert_eq(cJSON_GetArraySize(trace), 3);
  cr_assert_str_eq(cJSON_GetArrayItem(trace, 2)->valuestring, "work");
  cJSON_Delete(j);
  r = it_post(e, "/api/trace?id=w-02&on=0");
  cr_assert_eq(r.status, 200, "%s", r.raw);
  it_resp_free(&r);
  j = it_json(e, "/api/actor?id=w-02");
  cr_assert(cJSON_IsFalse(get(j, "tracing")));
  cr_assert_eq(cJSON_GetArraySize(get(j, "trace")), 0);
  cJSON_Delete(j);
  r = it_post(e, "/api/trace?id=nobody&on=1");
  cr_assert_eq(r.status, 404);
  it_resp_free(&r);
  it_free(e);
}

/* ---- /metrics: every line is HELP, TYPE or a sample of a declared family -- */

static bool metric_name(const char **p) {
  const char *s = *p;
  if (!(isalpha((unsigned char)*s) || *s == '_' || *s == ':')) return false;
  while (isalnum((unsigned char)*s) || *s == '_' || *s == ':') s++;
  *p = s;
  return true;
}

static bool labels(const char **p) {
  const char *s = *p;
  if (*s != '{') return true;
  s++;
  while (*s != '}') {
    if (!metric_name(&s) || *s++ != '=' || *s++ != '"') return false;
    while (*s && *s != '"') s += *s == '\\' ? 2 : 1;
    if (*s++ != '"') return false;
    if (*s == ',') s++;
  }
  *p = s + 1;
  return true;
}

typedef struct families {
  char names[64][96];
  int n;
} families;

static bool declared(const families *f, const char *name, size_t len) {
  for (int i = 0; i < f->n; i++)
    if (strlen(f->names[i]) == len && !strncmp(f->names[i], name, len)) return true;
  return false;
}

static void check_line(families *f, const char *line) {
  char name[96], kind[16];
  if (!strncmp(line, "# HELP ", 7)) {
    cr_assert_eq(sscanf(line + 7, "%95s", name), 1, "%s", line);
    return;
  }
  if (!strncmp(line, "# TYPE ", 7)) {
    cr_assert_eq(sscanf(line + 7, "%95s %15s", name, kind), 2, "%s", line);
    cr_assert(!strcmp(kind, "counter") || !strcmp(kind, "gauge"), "%s", line);
    cr_assert_lt(f->n, 64);
    snprintf(f->names[f->n++], sizeof f->names[0], "%s", name);
    return;
  }
  const char *p = line;
  cr_assert(metric_name(&p), "bad name: %s", line);
  cr_assert(declared(f, line, (size_t)(p - line)), "sample before its TYPE: %s", line);
  cr_assert(labels(&p), "bad labels: %s", line);
  cr_assert_eq(*p++, ' ', "%s", line);
  char *end;
  double v = strtod(p, &end);
  cr_assert(end != p && *end == '\0' && isfinite(v), "bad value: %s", line);
}

static double sample(const char *body, const char *series) {
  char key[256];
  snprintf(key, sizeof key, "\n%s ", series);
  const char *p = strstr(body, key);
  cr_assert(p, "no sample %s", series);
  return strtod(p + strlen(key), NULL);
}

Test(insp_http, metrics_are_valid_exposition_format_with_expected_values) {
  bs_engine *e = populated();
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  char ct[128];
  it_header(&r, "Content-Type", ct, sizeof ct);
  cr_assert_str_eq(ct, "text/plain; version=0.0.4; charset=utf-8");
  cr_assert_eq(r.body[r.body_len - 1], '\n');
  families f = {0};
  char *copy = strndup(r.body, r.body_len), *save = NULL;
  int lines = 0;
  for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save), lines++)
    check_line(&f, l);
  free(copy);
  cr_assert_gt(lines, 40);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  cr_assert_eq(sample(r.body, "backstage_messages_delivered_total"), (double)st.delivered);
  cr_assert_eq(sample(r.body, "backstage_dead_letters_total{reason=\"INIT_FAILED\"}"), 1);
  cr_assert_eq(sample(r.body, "backstage_dead_letters_total{reason=\"STOPPED\"}"), 0);
  cr_assert_eq(sample(r.body, "backstage_actors"), 15);
  cr_assert_eq(sample(r.body, "backstage_type_actors{type=\"Worker\"}"), 12);
  cr_assert_eq(sample(r.body, "backstage_type_messages_processed_total{type=\"Plain\"}"), 3);
  cr_assert_eq(sample(r.body, "backstage_stream_subscribers{stream=\"ticks\"}"), 2);
  cr_assert_eq(sample(r.body, "backstage_throughput_messages_per_second{window=\"instant\"}"), 83);
  cr_assert_eq(sample(r.body, "backstage_inspector_clients"), 1);
  it_resp_free(&r);
  it_free(e);
}

Test(insp_http, dashboard_is_one_self_contained_page) {
  bs_engine *e = it_engine_http();
  it_resp r = it_get(e, "/");
  cr_assert_eq(r.status, 200);
  char v[256];
  cr_assert(it_header(&r, "Content-Type", v, sizeof v));
  cr_assert_str_eq(v, "text/html; charset=utf-8");
  cr_assert(it_header(&r, "Content-Length", v, sizeof v));
  cr_assert_eq((size_t)atol(v), r.body_len);
  cr_assert(it_header(&r, "Content-Security-Policy", v, sizeof v));
  cr_assert(strstr(r.body, "<title>Backstage inspector</title>"));
  cr_assert_null(strstr(r.body, "http://"), "no external fetches");
  cr_assert_null(strstr(r.body, "https://"), "no CDN");
  cr_assert_null(strstr(r.body, "src=\""), "no external scripts or images");
  it_resp_free(&r);
  it_free(e);
}

/* ---- Bad requests --------------------------------------------------------- */

static int status_of(bs_engine *e, const char *req, size_t len) {
  it_resp r = it_raw(e, req, len);
  int s = r.status;
  it_resp_free(&r);
  return s;
}

#define RAW(e, lit) status_of(e, lit, sizeof lit - 1)

Test(insp_http, bad_requests_are_refused_with_the_right_status) {
  bs_engine *e = it_engine_http();
  cr_assert_eq(RAW(e, "GARBAGE\r\n\r\n"), 400);
  cr_assert_eq(RAW(e, "GET / HTTP/9\r\n\r\n"), 400);
  cr_assert_eq(RAW(e, "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 404);
  cr_assert_eq(RAW(e, "DELETE /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 405);
  cr_assert_eq(RAW(e, "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"), 405);
  cr_assert_eq(RAW(e, "POST /api/trace HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"), 413);
  /* a head over 8 KiB */
  size_t n = 9000;
  char *big = malloc(n + 64);
  int len = snprintf(big, 64, "GET / HTTP/1.1\r\nX-Big: ");
  memset(big + len, 'a', n);
  memcpy(big + len + n, "\r\n\r\n", 5);
  cr_assert_eq(status_of(e, big, (size_t)len + n + 4), 431);
  /* a request target over 2 KiB */
  len = snprintf(big, 64, "GET /api/snapshot?q=");
  memset(big + len, 'b', 3000);
  memcpy(big + len + 3000, " HTTP/1.1\r\n\r\n", 14);
  cr_assert_eq(status_of(e, big, (size_t)len + 3000 + 13), 414);
  free(big);
  /* still serving */
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 200);
  it_free(e);
}

Test(insp_http, a_405_says_what_is_allowed) {
  bs_engine *e = it_engine_http();
  static const char req[] = "PUT /api/trace?id=x&on=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Content-Length: 0\r\n\r\n";
  it_resp r = it_raw(e, req, sizeof req - 1);
  char allow[64];
  cr_assert_eq(r.status, 405);
  cr_assert(it_header(&r, "Allow", allow, sizeof allow));
  cr_assert_str_eq(allow, "POST");
  it_resp_free(&r);
  it_free(e);
}

/* A chunked body that grows past 8 KiB is refused mid-body. */
Test(insp_http, oversized_chunked_bodies_are_refused) {
  bs_engine *e = it_engine_http();
  size_t n = 10000;
  char *req = malloc(n + 256);
  int len = snprintf(req, 256, "POST /api/trace HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "%zx\r\n", n);
  memset(req + len, 'z', n);
  memcpy(req + len + n, "\r\n0\r\n\r\n", 7);
  cr_assert_eq(status_of(e, req, (size_t)len + n + 7), 413);
  free(req);
  it_free(e);
}

/* ---- Binding and the token ------------------------------------------------ */

Test(insp_http, non_loopback_needs_opt_in_and_token) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.virtual_time = true;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "0.0.0.0:0";
  cr_assert_eq(bs_inspector_start(e, &o), BS_EINVAL, "refused by default");
  o.allow_remote = true;
  cr_assert_eq(bs_inspector_start(e, &o), BS_EINVAL, "opt-in alone is not enough");
  o.allow_remote = false;
  o.token = "s3cret";
  cr_assert_eq(bs_inspector_start(e, &o), BS_EINVAL, "a token alone is not enough");
  o.allow_remote = true;
  cr_assert_eq(bs_inspector_start(e, &o), 0);
  char url[64];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0);
  cr_assert(!strncmp(url, "http://0.0.0.0:", 15), "%s", url);

  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 401);
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong\r\n\r\n"), 401);
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret!\r\n\r\n"), 401);
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer s3cret\r\n\r\n"), 200);
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: bearer s3cret\r\n\r\n"), 200);
  cr_assert_eq(RAW(e, "GET /metrics?token=s3cret HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 200);
  cr_assert_eq(RAW(e, "GET /metrics?token=s3cre HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 401);
  cr_assert_eq(RAW(e, "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 401, "nothing is revealed without it");
  it_free(e);
}

Test(insp_http, bad_addresses_are_refused) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  bs_engine *e;
  const char *bad[] = {"nonsense", "127.0.0.1", "127.0.0.1:99999", ":80", "127.0.0.1:x",
                       "example.com:80", "[::1:80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    eo.inspector_addr = bad[i];
    cr_assert_eq(bs_engine_new(&e, &eo), BS_EINVAL, "%s", bad[i]);
    cr_assert_null(e);
  }
  eo.inspector_addr = "127.0.0.1:0";
  cr_assert_eq(bs_engine_new(&e, &eo), 0, "engine option");
  char url[64];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0);
  cr_assert(!strncmp(url, "http://127.0.0.1:", 17));
  cr_assert_eq(bs_inspector_url(e, url, 10), BS_ETOOBIG);
  bs_engine_free(e);
}

Test(insp_http, environment_variable_starts_it) {
  setenv("BACKSTAGE_INSPECTOR", "127.0.0.1:0", 1);
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  char url[64];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0);
  bs_engine_free(e);
  setenv("BACKSTAGE_INSPECTOR", "0.0.0.0:0", 1); /* refused: a warning, not a failure */
  cr_assert_eq(bs_engine_new(&e, NULL), 0);
  cr_assert_eq(bs_inspector_url(e, url, sizeof url), BS_ENOTFOUND);
  bs_engine_free(e);
  unsetenv("BACKSTAGE_INSPECTOR");
}

Test(insp_http, ipv6_loopback) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.inspector_addr = "[::1]:0";
  bs_engine *e;
  int rc = bs_engine_new(&e, &eo);
  if (rc == BS_EUV) cr_skip_test("no IPv6 loopback here");
  cr_assert_eq(rc, 0);
  char url[64];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0);
  cr_assert(!strncmp(url, "http://[::1]:", 13), "%s", url);
  bs_engine_free(e);
}

/* ---- Valid UTF-8 everywhere ------------------------------------------------ */

/* Ids, stream ids and the echoed search are bytes from outside; whatever
 * they hold, the JSON and the exposition format stay valid UTF-8. */
Test(insp_http, json_and_metrics_are_valid_utf8_whatever_the_ids) {
  bs_engine *e = it_engine_http();
  static const char *odd[] = {"sur\xed\xa0\x80", "over\xe0\x80\xaf", "big\xf4\x90\x80\x80",
                              "ff\xff", "cut\xe2\x82"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    it_send(e, &insp_worker_type, odd[i], 1);
    bs_stream_i64 s;
    cr_assert_eq(bs_get_stream(e, i64, odd[i], &s), 0);
  }
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  const char *paths[] = {"/api/snapshot?sort=id&limit=100", "/api/snapshot?q=%ed%a0%80",
                         "/metrics", "/api/actor?id=sur%ed%a0%80"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    it_resp r = it_get(e, paths[i]);
    cr_assert_eq(r.status, 200, "%s", paths[i]);
    cr_assert(it_utf8_valid(r.body, r.body_len), "%s: not UTF-8:\n%s", paths[i], r.body);
    it_resp_free(&r);
  }
  cJSON *j = it_json(e, "/api/snapshot?q=%ed%a0%80");
  cr_assert_str_eq(str(get(j, "actors"), "q"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  cJSON_Delete(j);
  it_free(e);
}

/* ---- Host and origin: DNS rebinding and cross-site requests ---------------- */

static int status_with_host(bs_engine *e, const char *path, const char *host) {
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host);
  return status_of(e, req, (size_t)n);
}

/* A page on attacker.example whose name now resolves to 127.0.0.1 sends
 * "Host: attacker.example": nothing is served to it. Names are accepted
 * only when they are localhost or on the allow list; IP literals always
 * (a rebound name never is one). */
Test(insp_http, requests_must_name_this_server_in_host) {
  bs_engine *e = populated();
  int port = it_port(e);
  const char *paths[] = {"/", "/api/snapshot", "/api/actor?id=w-00", "/metrics",
                         "/api/events"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    cr_assert_eq(status_with_host(e, paths[i], "attacker.example"), 403, "%s", paths[i]);
    char h[64];
    snprintf(h, sizeof h, "attacker.example:%d", port);
    cr_assert_eq(status_with_host(e, paths[i], h), 403, "%s", paths[i]);
  }
  char good[4][64];
  snprintf(good[0], 64, "127.0.0.1:%d", port);
  snprintf(good[1], 64, "localhost:%d", port);
  snprintf(good[2], 64, "LocalHost");
  snprintf(good[3], 64, "[::1]:%d", port);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(status_with_host(e, "/api/actor?id=w-00", good[i]), 200, "%s", good[i]);
  cr_assert_eq(status_with_host(e, "/metrics", "10.1.2.3:80"), 200, "an IP literal");
  cr_assert_eq(status_with_host(e, "/metrics", "localhost.attacker.example"), 403);
  cr_assert_eq(status_with_host(e, "/metrics", "127.0.0.1.attacker.example"), 403);
  cr_assert_eq(status_with_host(e, "/metrics", ""), 403);
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 needs a Host");
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.0\r\n\r\n"), 200, "HTTP/1.0 may omit it");
  cr_assert_eq(RAW(e, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n"),
               400, "two Hosts");
  it_free(e);
}

Test(insp_http, allowed_hosts_admit_more_names) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.allowed_hosts = "dash.example, Other.Example";
  bs_engine *e = it_engine(&o);
  cr_assert_eq(status_with_host(e, "/metrics", "dash.example"), 200);
  cr_assert_eq(status_with_host(e, "/metrics", "other.example:9464"), 200);
  cr_assert_eq(status_with_host(e, "/metrics", "dash.example.evil"), 403);
  cr_assert_eq(status_with_host(e, "/metrics", "evil.example"), 403);
  it_free(e);
}

static int post_trace(bs_engine *e, const char *extra) {
  char req[512];
  int n = snprintf(req, sizeof req,
                   "POST /api/trace?id=w-00&on=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
                   "Content-Length: 0\r\n\r\n", it_port(e), extra);
  return status_of(e, req, (size_t)n);
}

/* Tracing changes state: POST only, and a browser's cross-site POST (it
 * says where it comes from in Origin or Sec-Fetch-Site) is refused. */
Test(insp_http, state_changes_need_a_same_origin_post) {
  bs_engine *e = populated();
  it_resp r = it_get(e, "/api/trace?id=w-00&on=1");
  cr_assert_eq(r.status, 405);
  char allow[32];
  cr_assert(it_header(&r, "Allow", allow, sizeof allow));
  cr_assert_str_eq(allow, "POST");
  it_resp_free(&r);
  cr_assert_eq(post_trace(e, "Origin: http://attacker.example\r\n"), 403);
  cr_assert_eq(post_trace(e, "Origin: null\r\n"), 403);
  cr_assert_eq(post_trace(e, "Sec-Fetch-Site: cross-site\r\n"), 403);
  char origin[96];
  snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d0\r\n", it_port(e));
  cr_assert_eq(post_trace(e, origin), 403, "another port is another origin");
  bs_inspector_actor a;
  cr_assert_eq(bs_inspector_actor_get(e, "w-00", &a), 0);
  cr_assert_not(a.tracing, "nothing refused changed anything");
  snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%d\r\nSec-Fetch-Site: same-origin\r\n",
           it_port(e));
  cr_assert_eq(post_trace(e, origin), 200, "the dashboard's own POST");
  cr_assert_eq(post_trace(e, ""), 200, "no Origin: not a browser (curl, scripts)");
  cr_assert_eq(bs_inspector_actor_get(e, "w-00", &a), 0);
  cr_assert(a.tracing);
  it_free(e);
}

/* Any id can be addressed losslessly: "id" is for people (bytes that are
 * not UTF-8 become U+FFFD), "id_url" is the id's bytes percent-encoded,
 * ready for ?id= (the dashboard uses it). */
Test(insp_http, every_id_can_be_addressed_with_id_url) {
  bs_engine *e = it_engine_http();
  static const char *ids[] = {"ff\xff-x", "fe\xfe-x", "a&b=c%d+e f/g?h#i", "\xc3\xbc-ok",
                              "plain-1.2_3~4"};
  static const char *urls[] = {"ff%FF-x", "fe%FE-x", "a%26b%3Dc%25d%2Be%20f%2Fg%3Fh%23i",
                               "%C3%BC-ok", "plain-1.2_3~4"};
  for (size_t i = 0; i < 5; i++) it_send(e, &insp_worker_type, ids[i], 1);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  cJSON *j = it_json(e, "/api/snapshot?sort=id");
  const cJSON *row;
  int seen = 0;
  cJSON_ArrayForEach(row, items(j)) {
    const char *url = str(row, "id_url");
    for (size_t i = 0; i < 5; i++) {
      if (strcmp(url, urls[i])) continue;
      seen++;
      char path[256];
      snprintf(path, sizeof path, "/api/actor?id=%s", url);
      cJSON *d = it_json(e, path);
      cr_assert_str_eq(str(d, "id_url"), url);
      cr_assert_str_eq(str(get(d, "state"), "name"), ids[i][0] == 'f' ? str(row, "id") : ids[i]);
      cJSON_Delete(d);
    }
  }
  cr_assert_eq(seen, 5);
  cJSON_Delete(j);
  /* the two ids that differ only in a non-UTF-8 byte look the same... */
  j = it_json(e, "/api/actor?id=ff%FF-x");
  cr_assert_str_eq(str(j, "id"), "ff\xef\xbf\xbd-x");
  cJSON_Delete(j);
  /* ...and are still two actors */
  j = it_json(e, "/api/actor?id=fe%FE-x");
  cr_assert_str_eq(str(j, "id_url"), "fe%FE-x");
  cJSON_Delete(j);
  it_free(e);
}
