/* The JSON documents of the HTTP API (schema: docs/inspector.md), in three
 * parts so that a request renders almost nothing:
 *
 *   head     version, times, clients, engine counters   live, a few hundred bytes
 *   summary  history, types, streams                    once per sample (cached)
 *   page     the "actors" member                        once per query and snapshot (cached)
 *
 * /api/snapshot is head + summary + page, the event stream's update is
 * head + summary + "actors":null. */
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

/* ---- Head (live) ------------------------------------------------------------------- */

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
  kv_u64(b, "store_loads", s.store_loads, true);
  kv_u64(b, "store_writes", s.store_writes, true);
  kv_u64(b, "store_errors", s.store_errors, true);
  kv_u64(b, "store_pending", s.store_pending, true);
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

/* Each shard's own figures (its counters are atomics: read live). */
static void render_shards(bs__sb *b, bs__inspector *in) {
  bs_engine *e = in->e;
  bs__sb_puts(b, "\"shards\":[");
  for (uint32_t k = 0; k < e->nshards; k++) {
    bs_engine_stats s;
    bs_engine_shard_stats(e, k, &s);
    bs__sb_puts(b, k ? ",{" : "{");
    kv_u64(b, "shard", k, true);
    kv_u64(b, "delivered", s.delivered, true);
    kv_u64(b, "sent", s.sent, true);
    kv_u64(b, "actors", s.actors, true);
    kv_u64(b, "active", s.active, true);
    kv_u64(b, "remote_in", s.remote_in, true);
    kv_u64(b, "remote_out", s.remote_out, true);
    kv_u64(b, "dead_letters", s.dead_letters, true);
    kv_u64(b, "bytes_live", s.bytes_live, true);
    key(b, "busy");
    bs__sb_puts(b, BS__LOAD(&e->shards[k]->idle, RELAXED) ? "false}" : "true}");
  }
  bs__sb_puts(b, "],");
}

/* The cluster, when the engine is in one: this node, its figures, and
 * every member it knows (live first). */
static void render_cluster(bs__sb *b, bs__inspector *in) {
  bs_cluster_stats c;
  if (bs_cluster_stats_get(in->e, &c) < 0) return;
  bs__sb_puts(b, "\"cluster\":{");
  kv_str(b, "node", c.node, true);
  kv_u64(b, "nodes", c.nodes, true);
  kv_u64(b, "partitions", c.partitions, true);
  kv_u64(b, "owned", c.owned, true);
  key(b, "leader");
  bs__sb_puts(b, c.leader ? "true," : "false,");
  key(b, "serving");
  bs__sb_puts(b, c.serving ? "true," : "false,");
  kv_u64(b, "generation", c.generation, true);
  kv_u64(b, "msgs_out", c.msgs_out, true);
  kv_u64(b, "msgs_in", c.msgs_in, true);
  kv_num(b, "msgs_out_per_s", in->cl_out_rate, true);
  kv_num(b, "msgs_in_per_s", in->cl_in_rate, true);
  kv_u64(b, "batches_out", c.batches_out, true);
  kv_u64(b, "batches_in", c.batches_in, true);
  kv_u64(b, "bytes_out", c.bytes_out, true);
  kv_u64(b, "bytes_in", c.bytes_in, true);
  kv_u64(b, "moved_out", c.moved_out, true);
  kv_u64(b, "moved_in", c.moved_in, true);
  kv_u64(b, "parked", c.parked, true);
  kv_u64(b, "unreachable", c.unreachable, true);
  kv_u64(b, "lost", c.lost, true);
  kv_u64(b, "undecodable", c.undecodable, true);
  kv_u64(b, "stale", c.stale, true);
  kv_u64(b, "handoffs", c.handoffs, true);
  kv_u64(b, "fenced", c.fenced, true);
  kv_u64(b, "stream_out", c.stream_out, true);
  kv_u64(b, "stream_in", c.stream_in, true);
  bs__sb_puts(b, "\"members\":[");
  bs_cluster_node nodes[64];
  int n = bs_cluster_nodes(in->e, nodes, 64);
  for (int i = 0; i < n && i < 64; i++) {
    const bs_cluster_node *x = &nodes[i];
    bs__sb_puts(b, i ? ",{" : "{");
    kv_str(b, "name", x->name, true);
    key(b, "alive");
    bs__sb_puts(b, x->alive ? "true," : "false,");
    key(b, "self");
    bs__sb_puts(b, x->self ? "true," : "false,");
    kv_u64(b, "generation", x->generation, true);
    kv_u64(b, "shards", x->shards, true);
    kv_u64(b, "partitions", x->partitions, true);
    kv_u64(b, "msgs_out", x->msgs_out, true);
    kv_u64(b, "msgs_in", x->msgs_in, true);
    kv_str(b, "advertise", x->advertise, false);
    bs__sb_put(b, "}", 1);
  }
  bs__sb_puts(b, "]},");
}

void bs__insp_render_head(bs__sb *b, bs__inspector *in) {
  uint64_t now = bs__now(in->e->shards[0]);
  bs__sb_printf(b, "{\"version\":\"%d.%d.%d\",", BACKSTAGE_VERSION_MAJOR,
                BACKSTAGE_VERSION_MINOR, BACKSTAGE_VERSION_PATCH);
  kv_u64(b, "now_ms", now, true);
  kv_u64(b, "uptime_ms", now - in->started_at, true);
  kv_u64(b, "interval_ms", in->o.sample_interval_ms, true);
  kv_u64(b, "samples", in->samples, true);
  kv_u64(b, "clients", in->srv ? bs__insp_server_clients(in->srv) : 0, true);
  render_engine(b, in);
  render_shards(b, in);
  render_cluster(b, in);
}

/* ---- Summary (per sample) ---------------------------------------------------------- */

static void render_history(bs__sb *b, const bs__inspector *in) {
  bs__sb_puts(b, "\"history\":[");
  uint32_t first = (in->hist_next + BS__INSP_HISTORY - in->hist_len) % BS__INSP_HISTORY;
  for (uint32_t i = 0; i < in->hist_len; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_num(b, in->history[(first + i) % BS__INSP_HISTORY]);
  }
  bs__sb_puts(b, "],");
}

static void render_types(bs__sb *b, const bs__insp_snap *s) {
  bs__sb_puts(b, "\"types\":[");
  for (size_t i = 0; i < s->ntypes; i++) {
    const bs__insp_tsum *t = &s->types[i];
    bs__sb_puts(b, i ? ",{" : "{");
    kv_str(b, "name", t->name, true);
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

static void render_streams(bs__sb *b, const bs__insp_snap *s) {
  bs__sb_puts(b, "\"streams\":[");
  for (size_t i = 0; i < s->nstreams && i < BS__INSP_STREAMS_MAX; i++) {
    const bs__insp_srow *r = &s->streams[i];
    bs__sb_puts(b, i ? ",{" : "{");
    key(b, "id");
    bs__sb_json_str(b, bs__insp_row_id(s, r->id_off), r->id_len);
    bs__sb_put(b, ",", 1);
    kv_str(b, "type", r->type, true);
    kv_u64(b, "published", r->published, true);
    kv_u64(b, "deliveries", r->deliveries, true);
    kv_u64(b, "encodes", r->encodes, true);
    kv_u64(b, "subscribers", r->subscribers, false);
    bs__sb_put(b, "}", 1);
  }
  bs__sb_printf(b, "],\"streams_total\":%llu,", (unsigned long long)s->nstreams);
}

bs__insp_buf *bs__insp_summary(bs__inspector *in) {
  const bs__insp_snap *s = in->current;
  if (!s) return NULL;
  if (in->summary && in->summary_samples == in->samples && in->summary_seq == s->seq)
    return bs__insp_buf_ref(in->summary);
  bs__sb b = {0};
  kv_u64(&b, "snapshot_ms", s->taken_at, true);
  render_history(&b, in);
  render_types(&b, s);
  render_streams(&b, s);
  bs__insp_buf *buf = bs__insp_buf_take(&b);
  if (!buf) return NULL;
  bs__insp_buf_unref(in->summary);
  in->summary = buf;
  in->summary_samples = in->samples;
  in->summary_seq = s->seq;
  return bs__insp_buf_ref(buf);
}

/* ---- Rows and pages ----------------------------------------------------------------- */

/* The id's bytes percent-encoded (RFC 3986 unreserved characters as they
 * are): lossless where "id" is not (bytes that are not UTF-8 become U+FFFD
 * there), and ready to use as ?id=. */
static void id_url(bs__sb *b, const char *id, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  bs__sb_puts(b, "\"id_url\":\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)id[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
    if (plain) bs__sb_put(b, (const char *)&c, 1);
    else bs__sb_put(b, esc, 3);
  }
  bs__sb_puts(b, "\",");
}

void bs__insp_render_row(bs__sb *b, const bs__insp_row *r, const char *id, size_t len) {
  bs__sb_puts(b, "{\"id\":");
  bs__sb_json_str(b, id, len);
  bs__sb_put(b, ",", 1);
  id_url(b, id, len);
  kv_str(b, "type", r->type, true);
  key(b, "active");
  bs__sb_puts(b, r->flags & BS__ROW_ACTIVE ? "true," : "false,");
  kv_u64(b, "received", r->received, true);
  kv_u64(b, "processed", r->processed, true);
  kv_u64(b, "mailbox", r->mailbox, true);
  kv_u64(b, "activated_at", r->activated_at, true);
  kv_u64(b, "last_activity", r->last_activity, true);
  kv_num(b, "rate", r->rate, true);
  kv_num(b, "avg1", r->avg1, true);
  kv_num(b, "avg10", r->avg10, true);
  kv_num(b, "avg60", r->avg60, true);
  kv_u64(b, "shard", r->shard, true);
  key(b, "persisted");
  if (r->flags & BS__ROW_PERSISTENT) {
    bs__sb_put(b, "{", 1);
    kv_u64(b, "version", r->version, true);
    kv_u64(b, "saved_at", r->saved_at, true);
    kv_u64(b, "errors", r->store_errors, true);
    key(b, "last_error");
    if (r->store_last_error) bs__sb_printf(b, "\"%s\"},", bs_errname(r->store_last_error));
    else bs__sb_puts(b, "null},");
  } else {
    bs__sb_puts(b, "null,");
  }
  key(b, "tracing");
  bs__sb_puts(b, r->flags & BS__ROW_TRACING ? "true}" : "false}");
}

void bs__insp_render_page(bs__sb *b, const bs__insp_scan *sc) {
  const bs__insp_snap *s = sc->snap;
  bs__sb_puts(b, "\"actors\":{");
  kv_u64(b, "total", sc->matched, true);
  kv_u64(b, "offset", sc->q.offset, true);
  kv_u64(b, "limit", sc->q.limit, true);
  kv_str(b, "sort", sort_name(sc->q.sort), true);
  key(b, "shard");
  if (sc->q.shard >= 0) bs__sb_printf(b, "%d,", (int)sc->q.shard);
  else bs__sb_puts(b, "null,");
  key(b, "q");
  bs__sb_json_str(b, sc->q.q, sc->q.qlen);
  bs__sb_puts(b, ",\"items\":[");
  for (size_t i = 0; i < sc->npage; i++) {
    const bs__insp_row *r = &s->rows[sc->page[i]];
    if (i) bs__sb_put(b, ",", 1);
    bs__insp_render_row(b, r, bs__insp_row_id(s, r->id_off), r->id_len);
  }
  bs__sb_puts(b, "]}}");
}

bs__insp_buf *bs__insp_page_find(bs__inspector *in, const bs__insp_query *q) {
  uint64_t seq = in->current ? in->current->seq : 0;
  for (int i = 0; i < BS__INSP_PAGES; i++) {
    bs__insp_page *p = &in->pages[i];
    if (p->buf && p->seq == seq && bs__insp_query_eq(&p->q, q)) {
      p->used = ++in->page_clock;
      return bs__insp_buf_ref(p->buf);
    }
  }
  return NULL;
}

void bs__insp_page_keep(bs__inspector *in, uint64_t seq, const bs__insp_query *q,
                        bs__insp_buf *buf) {
  bs__insp_page *victim = &in->pages[0];
  for (int i = 0; i < BS__INSP_PAGES; i++) {
    bs__insp_page *p = &in->pages[i];
    bool stale = !p->buf || p->seq != (in->current ? in->current->seq : 0);
    if (stale) {
      victim = p;
      break;
    }
    if (p->used < victim->used) victim = p;
  }
  bs__insp_buf_unref(victim->buf);
  victim->buf = bs__insp_buf_ref(buf);
  victim->seq = seq;
  victim->q = *q;
  victim->used = ++in->page_clock;
}

void bs__insp_pages_free(bs__inspector *in) {
  for (int i = 0; i < BS__INSP_PAGES; i++) {
    bs__insp_buf_unref(in->pages[i].buf);
    memset(&in->pages[i], 0, sizeof in->pages[i]);
  }
}
