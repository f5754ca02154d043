/* The JSON documents of the HTTP API (schema: docs/inspector.md). */
#include <stdlib.h>

#include "inspector/insp.h"

#define BS__INSP_STREAMS_MAX 1000 /* streams listed in one document */

static const char *sort_name(bs__insp_sort s) {
  static const char *names[] = {"rate", "id", "type", "mailbox"};
  return names[s];
}

static void key(bs__sb *b, const char *k) {
  bs__sb_json_str(b, k, strlen(k));
  bs__sb_put(b, ":", 1);
}

static void kv_u64(bs__sb *b, const char *k, uint64_t v, bool comma) {
  key(b, k);
  bs__sb_printf(b, "%llu%s", (unsigned long long)v, comma ? "," : "");
}

static void kv_num(bs__sb *b, const char *k, double v, bool comma) {
  key(b, k);
  bs__sb_json_num(b, v);
  if (comma) bs__sb_put(b, ",", 1);
}

static void kv_str(bs__sb *b, const char *k, const char *v, bool comma) {
  key(b, k);
  if (v) bs__sb_json_str(b, v, strlen(v)); else bs__sb_puts(b, "null");
  if (comma) bs__sb_put(b, ",", 1);
}

static void render_engine(bs__sb *b, bs__inspector *in) {
  bs_engine_stats s;
  bs_engine_stats_get(in->e, &s);
  bs__sb_puts(b, "\"engine\":{");
  kv_u64(b, "sent", s.sent, true);
  kv_u64(b, "delivered", s.delivered, true);
  kv_u64(b, "dead_letters", s.dead_letters, true);
  kv_u64(b, "method_errors", s.method_errors, true);
  kv_u64(b, "activations", s.activations, true);
  kv_u64(b, "init_failures", s.init_failures, true);
  kv_u64(b, "actors", s.actors, true);
  kv_u64(b, "active", s.active, true);
  kv_u64(b, "requests_pending", s.requests_pending, true);
  kv_u64(b, "bytes_live", s.bytes_live, true);
  kv_num(b, "rate", in->rate, true);
  kv_num(b, "avg1", in->avg1, true);
  kv_num(b, "avg10", in->avg10, true);
  kv_num(b, "avg60", in->avg60, false);
  bs__sb_puts(b, "},\"dead_letters\":{");
  for (int r = 0; r < BS_DL__COUNT; r++)
    kv_u64(b, bs_dead_letter_reason_name((bs_dead_letter_reason)r),
           s.dead_by_reason[r], r + 1 < BS_DL__COUNT);
  bs__sb_puts(b, "},");
}

static void render_history(bs__sb *b, const bs__inspector *in) {
  bs__sb_puts(b, "\"history\":[");
  uint32_t first = (in->hist_next + BS__INSP_HISTORY - in->hist_len) % BS__INSP_HISTORY;
  for (uint32_t i = 0; i < in->hist_len; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_num(b, in->history[(first + i) % BS__INSP_HISTORY]);
  }
  bs__sb_puts(b, "],");
}

static void render_types(bs__sb *b, const bs__inspector *in) {
  bs__sb_puts(b, "\"types\":[");
  for (size_t i = 0; i < in->ntypes; i++) {
    const bs__insp_type *t = &in->types[i];
    bs__sb_puts(b, i ? ",{" : "{");
    kv_str(b, "name", t->t->name, true);
    kv_u64(b, "actors", t->actors, true);
    kv_u64(b, "active", t->active, true);
    kv_u64(b, "received", t->received, true);
    kv_u64(b, "processed", t->processed, true);
    kv_u64(b, "mailbox", t->mailbox, true);
    kv_num(b, "rate", t->rate, false);
    bs__sb_put(b, "}", 1);
  }
  bs__sb_puts(b, "],");
}

static void render_stream(bs__sb *b, const bs_stream *s, bool first) {
  bs_stream_stats st;
  bs_stream_stats_get(s, &st);
  bs__sb_puts(b, first ? "{" : ",{");
  kv_str(b, "id", bs_stream_id(s), true);
  kv_str(b, "type", bs_stream_elem_type(s)->name, true);
  kv_u64(b, "published", st.published, true);
  kv_u64(b, "deliveries", st.deliveries, true);
  kv_u64(b, "encodes", st.encodes, true);
  kv_u64(b, "subscribers", st.subscribers, false);
  bs__sb_put(b, "}", 1);
}

static void render_streams(bs__sb *b, const bs__inspector *in) {
  bs_engine *e = in->e;
  size_t n = 0;
  bs__sb_puts(b, "\"streams\":[");
  uv_mutex_lock(&e->streams_lock);
  for (size_t i = 0; i < e->streams_cap && n < BS__INSP_STREAMS_MAX; i++)
    if (e->streams[i]) render_stream(b, e->streams[i], n++ == 0);
  size_t total = e->streams_count;
  uv_mutex_unlock(&e->streams_lock);
  bs__sb_printf(b, "],\"streams_total\":%llu,", (unsigned long long)total);
}

/* Members shared by the snapshot and the SSE update (no closing brace). */
static void render_common(bs__sb *b, bs__inspector *in) {
  uint64_t now = bs__now(in->e->shards[0]);
  bs__sb_printf(b, "{\"version\":\"%d.%d.%d\",", BACKSTAGE_VERSION_MAJOR,
                BACKSTAGE_VERSION_MINOR, BACKSTAGE_VERSION_PATCH);
  kv_u64(b, "now_ms", now, true);
  kv_u64(b, "uptime_ms", now - in->started_at, true);
  kv_u64(b, "interval_ms", in->o.sample_interval_ms, true);
  kv_u64(b, "samples", in->samples, true);
  kv_u64(b, "clients", in->srv ? bs__insp_server_clients(in->srv) : 0, true);
  render_engine(b, in);
  render_history(b, in);
  render_types(b, in);
  render_streams(b, in);
}

void bs__insp_render_summary(bs__sb *b, bs__inspector *in) {
  render_common(b, in);
  bs__sb_puts(b, "\"actors\":null}");
}

void bs__insp_render_actor_row(bs__sb *b, bs__inspector *in, const bs_cell *c) {
  (void)in;
  bs__sb_put(b, "{", 1);
  kv_str(b, "id", c->id, true);
  kv_str(b, "type", c->type->name, true);
  key(b, "active");
  bs__sb_puts(b, c->state ? "true," : "false,");
  kv_u64(b, "received", c->insp.received, true);
  kv_u64(b, "processed", c->insp.processed, true);
  kv_u64(b, "mailbox", c->mb.len, true);
  kv_u64(b, "activated_at", c->insp.activated_at, true);
  kv_u64(b, "last_activity", c->insp.last_activity, true);
  kv_num(b, "rate", c->insp.rate, true);
  kv_num(b, "avg1", c->insp.avg1, true);
  kv_num(b, "avg10", c->insp.avg10, true);
  kv_num(b, "avg60", c->insp.avg60, true);
  key(b, "tracing");
  bs__sb_puts(b, c->insp.trace ? "true}" : "false}");
}

void bs__insp_render_snapshot(bs__sb *b, bs__inspector *in,
                              const bs__insp_query *qr) {
  render_common(b, in);
  bs__sb_puts(b, "\"actors\":{");
  kv_u64(b, "total", qr->matched, true);
  kv_u64(b, "offset", qr->offset, true);
  kv_u64(b, "limit", qr->limit, true);
  kv_str(b, "sort", sort_name(qr->sort), true);
  key(b, "q");
  bs__sb_json_str(b, qr->q, qr->qlen);
  bs__sb_puts(b, ",\"items\":[");
  for (size_t i = qr->offset; i < qr->ntop; i++) {
    if (i > qr->offset) bs__sb_put(b, ",", 1);
    bs__insp_render_actor_row(b, in, qr->top[i]);
  }
  bs__sb_puts(b, "]}}");
}

/* ---- Actor detail ------------------------------------------------------------------ */

/* Encodes the state with a growing buffer (up to 1 MiB) and converts it. */
static void render_state(bs__sb *b, const bs_cell *c) {
  const bs_actor_type *t = c->type;
  if (!c->state || (c->flags & BS__CELL_PROBED) || !t->encode_state) {
    bs__sb_puts(b, "\"state\":null,\"state_error\":");
    bs__sb_puts(b, !c->state ? "\"inactive\"}" : "\"no state encoder\"}");
    return;
  }
  int rc = BS_ETOOBIG;
  uint8_t *buf = NULL;
  bs_writer w;
  for (size_t cap = 4096; rc == BS_ETOOBIG && cap <= (1u << 20); cap *= 4) {
    uint8_t *nb = realloc(buf, cap);
    if (!nb) { rc = BS_ENOMEM; break; }
    buf = nb;
    bs_writer_init(&w, buf, cap);
    rc = t->encode_state(c->state, &w);
  }
  bs__sb sub = {0};
  if (rc == 0) rc = bs__insp_cbor_to_json(&sub, buf, w.len);
  free(buf);
  if (rc == 0 && !sub.oom) {
    bs__sb_puts(b, "\"state\":");
    bs__sb_put(b, sub.p, sub.len);
    bs__sb_puts(b, ",\"state_error\":null}");
  } else {
    bs__sb_puts(b, "\"state\":null,");
    kv_str(b, "state_error", bs_strerror(rc ? rc : BS_ENOMEM), false);
    bs__sb_put(b, "}", 1);
  }
  bs__sb_free(&sub);
}

static void render_trace(bs__sb *b, bs_engine *e, const bs_cell *c) {
  const char *names[BS_INSPECTOR_TRACE_N];
  int n = bs_inspector_trace_get(e, c->id, names, BS_INSPECTOR_TRACE_N);
  bs__sb_puts(b, "\"trace\":[");
  for (int i = 0; i < n; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_str(b, names[i], strlen(names[i]));
  }
  bs__sb_puts(b, "],\"methods\":[");
  for (size_t i = 0; i < c->type->method_count; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_str(b, c->type->methods[i].name, strlen(c->type->methods[i].name));
  }
  bs__sb_puts(b, "],");
}

int bs__insp_render_actor(bs__sb *b, bs__inspector *in, const char *id) {
  bs_cell *c = bs__insp_find(in->e, id);
  if (!c) return BS_ENOTFOUND;
  bs__insp_render_actor_row(b, in, c);
  if (!b->oom) b->len--; /* reopen the row's object */
  bs__sb_put(b, ",", 1);
  kv_u64(b, "now_ms", bs__now(in->e->shards[0]), true);
  render_trace(b, in->e, c);
  render_state(b, c);
  return 0;
}
