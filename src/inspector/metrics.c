/* /metrics: Prometheus text exposition format 0.0.4. Engine totals, dead
 * letters by reason, throughput, per-type and per-stream series. No
 * per-actor series: a label per actor id would be unbounded cardinality
 * (per-actor numbers are in the JSON API).
 *
 * Engine counters are read live; types and streams come from the
 * snapshot. The document is written in steps of about `budget` lines, so a
 * million streams (some 170 MB) never stall the loop: the server sends each
 * step as a chunk once the previous ones have drained. */
#include "inspector/insp.h"

static void family(bs__sb *b, const char *name, const char *type,
                   const char *help) {
  bs__sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped, and valid
 * UTF-8 (the format requires it; one bad byte would fail the whole
 * scrape): each byte that does not start a well-formed sequence becomes
 * U+FFFD. Ids are outside input. */
static void label_value(bs__sb *b, const char *v, size_t n) {
  const unsigned char *p = (const unsigned char *)v;
  for (size_t i = 0; i < n;) {
    size_t len = bs__utf8_len(p + i, n - i);
    if (p[i] == '\\') bs__sb_put(b, "\\\\", 2);
    else if (p[i] == '"') bs__sb_put(b, "\\\"", 2);
    else if (p[i] == '\n') bs__sb_put(b, "\\n", 2);
    else if (len == 0) bs__sb_put(b, "\xef\xbf\xbd", 3);
    else bs__sb_put(b, v + i, len);
    i += len ? len : 1;
  }
}

static void labels(bs__sb *b, const char *label, const char *value, size_t len) {
  if (!label) return;
  bs__sb_printf(b, "{%s=\"", label);
  label_value(b, value, len);
  bs__sb_puts(b, "\"}");
}

static void sample_u(bs__sb *b, const char *name, const char *label,
                     const char *value, size_t len, uint64_t v) {
  bs__sb_puts(b, name);
  labels(b, label, value, len);
  bs__sb_printf(b, " %llu\n", (unsigned long long)v);
}

static void sample_f(bs__sb *b, const char *name, const char *label,
                     const char *value, double v) {
  bs__sb_puts(b, name);
  labels(b, label, value, value ? strlen(value) : 0);
  bs__sb_put(b, " ", 1);
  bs__sb_json_num(b, v);
  bs__sb_put(b, "\n", 1);
}

static void one(bs__sb *b, const char *name, const char *type, const char *help,
                uint64_t v) {
  family(b, name, type, help);
  sample_u(b, name, NULL, NULL, 0, v);
}

/* Per shard: one family per figure, a sample per shard (few: one per core). */
static void shard_family(bs__sb *b, bs_engine *e, const char *name, const char *type,
                         const char *help, size_t field) {
  family(b, name, type, help);
  for (uint32_t k = 0; k < e->nshards; k++) {
    bs_engine_stats s;
    char label[12];
    bs_engine_shard_stats(e, k, &s);
    int n = snprintf(label, sizeof label, "%u", (unsigned)k);
    sample_u(b, name, "shard", label, (size_t)n, *(const uint64_t *)((const char *)&s + field));
  }
}

static void shard_metrics(bs__sb *b, bs_engine *e) {
  shard_family(b, e, "backstage_shard_messages_delivered_total", "counter",
               "Messages dispatched on the shard.", offsetof(bs_engine_stats, delivered));
  shard_family(b, e, "backstage_shard_actors", "gauge", "Actors with a cell on the shard.",
               offsetof(bs_engine_stats, actors));
  shard_family(b, e, "backstage_shard_remote_in_total", "counter",
               "Messages the shard took from other shards.", offsetof(bs_engine_stats, remote_in));
  shard_family(b, e, "backstage_shard_remote_out_total", "counter",
               "Messages the shard handed to other shards.", offsetof(bs_engine_stats, remote_out));
}

/* Persistent state (docs/persistence.md): the storage thread's writes,
 * bytes and commit latency, and the shards' loads and failures. */
static void store_metrics(bs__sb *b, const bs_engine_stats *s) {
  one(b, "backstage_store_loads_total", "counter", "States looked up on activation.", s->store_loads);
  one(b, "backstage_store_writes_total", "counter", "State saves and removes committed.", s->store_writes);
  one(b, "backstage_store_write_bytes_total", "counter", "Bytes of the states committed.", s->store_bytes);
  one(b, "backstage_store_errors_total", "counter",
      "Loads and writes that failed, conflicts and corrupt records included.", s->store_errors);
  one(b, "backstage_store_conflicts_total", "counter",
      "Writes refused because the stored version had changed.", s->store_conflicts);
  one(b, "backstage_store_corrupt_total", "counter", "Stored records that did not decode.",
      s->store_corrupt);
  one(b, "backstage_store_commits_total", "counter", "Store transactions (group commits).",
      s->store_commits);
  family(b, "backstage_store_commit_seconds_total", "counter", "Time spent in store transactions.");
  sample_f(b, "backstage_store_commit_seconds_total", NULL, NULL, (double)s->store_commit_ns / 1e9);
  family(b, "backstage_store_commit_max_seconds", "gauge", "The longest store transaction.");
  sample_f(b, "backstage_store_commit_max_seconds", NULL, NULL, (double)s->store_commit_max_ns / 1e9);
  one(b, "backstage_store_pending", "gauge", "Loads and writes queued or running.", s->store_pending);
}

/* The cluster: this node's figures, and partitions and traffic per
 * member (few: one label value per node). */
static void cluster_metrics(bs__sb *b, bs__inspector *in) {
  bs_cluster_stats c;
  if (bs_cluster_stats_get(in->e, &c) < 0) return;
  one(b, "backstage_cluster_nodes", "gauge", "Live members of the cluster, this node included.", c.nodes);
  one(b, "backstage_cluster_partitions", "gauge", "Partitions of the cluster.", c.partitions);
  one(b, "backstage_cluster_partitions_owned", "gauge", "Partitions this node serves.", c.owned);
  one(b, "backstage_cluster_leader", "gauge", "1 while this node assigns partitions.", c.leader);
  one(b, "backstage_cluster_serving", "gauge", "1 while this node's lease is valid (0: fenced).", c.serving);
  one(b, "backstage_cluster_generation", "gauge", "Incarnation of this node (fencings + 1).", c.generation);
  one(b, "backstage_cluster_messages_out_total", "counter", "Envelopes sent to other nodes.", c.msgs_out);
  one(b, "backstage_cluster_messages_in_total", "counter", "Envelopes received from other nodes.", c.msgs_in);
  family(b, "backstage_cluster_messages_per_second", "gauge",
         "Envelopes to (out) and from (in) other nodes per second, last sample interval.");
  sample_f(b, "backstage_cluster_messages_per_second", "direction", "out", in->cl_out_rate);
  sample_f(b, "backstage_cluster_messages_per_second", "direction", "in", in->cl_in_rate);
  one(b, "backstage_cluster_batches_out_total", "counter", "NATS messages published.", c.batches_out);
  one(b, "backstage_cluster_batches_in_total", "counter", "NATS messages received.", c.batches_in);
  one(b, "backstage_cluster_bytes_out_total", "counter", "Bytes published.", c.bytes_out);
  one(b, "backstage_cluster_bytes_in_total", "counter", "Bytes received.", c.bytes_in);
  one(b, "backstage_cluster_moved_out_total", "counter", "Mail answered \"moved\" to its sender.", c.moved_out);
  one(b, "backstage_cluster_moved_in_total", "counter", "\"Moved\" answers received and routed again.", c.moved_in);
  one(b, "backstage_cluster_parked_total", "counter", "Mail held while its partition had no serving owner.", c.parked);
  one(b, "backstage_cluster_unreachable_total", "counter", "Dead letters UNREACHABLE.", c.unreachable);
  one(b, "backstage_cluster_lost_total", "counter", "Envelopes lost between nodes.", c.lost);
  one(b, "backstage_cluster_undecodable_total", "counter", "Remote messages refused as malformed.", c.undecodable);
  one(b, "backstage_cluster_stale_total", "counter", "Envelopes for an earlier process of this name.", c.stale);
  one(b, "backstage_cluster_handoffs_total", "counter", "Partitions this node handed to another.", c.handoffs);
  one(b, "backstage_cluster_fenced_total", "counter", "Times this node stopped serving (lease lost).", c.fenced);
  one(b, "backstage_cluster_stream_out_total", "counter", "Stream elements published to other nodes.", c.stream_out);
  one(b, "backstage_cluster_stream_in_total", "counter", "Stream elements received from other nodes.", c.stream_in);
  bs_cluster_node nodes[64];
  int n = bs_cluster_nodes(in->e, nodes, 64);
  if (n > 64) n = 64;
  family(b, "backstage_cluster_node_partitions", "gauge", "Partitions each member owns.");
  for (int i = 0; i < n; i++)
    if (nodes[i].alive)
      sample_u(b, "backstage_cluster_node_partitions", "node", nodes[i].name, strlen(nodes[i].name),
               nodes[i].partitions);
  family(b, "backstage_cluster_node_messages_out_total", "counter", "Envelopes sent to each member.");
  for (int i = 0; i < n; i++)
    sample_u(b, "backstage_cluster_node_messages_out_total", "node", nodes[i].name,
             strlen(nodes[i].name), nodes[i].msgs_out);
  family(b, "backstage_cluster_node_messages_in_total", "counter", "Envelopes received from each member.");
  for (int i = 0; i < n; i++)
    sample_u(b, "backstage_cluster_node_messages_in_total", "node", nodes[i].name,
             strlen(nodes[i].name), nodes[i].msgs_in);
}

static void engine_metrics(bs__sb *b, bs__inspector *in) {
  bs_engine_stats s;
  bs_engine_stats_get(in->e, &s);
  one(b, "backstage_messages_sent_total", "counter", "Messages queued, requests and replies included.", s.sent);
  one(b, "backstage_messages_delivered_total", "counter", "Messages dispatched to a method or a continuation.", s.delivered);
  one(b, "backstage_method_errors_total", "counter", "Methods that returned a negative status.", s.method_errors);
  one(b, "backstage_activations_total", "counter", "Successful actor inits.", s.activations);
  one(b, "backstage_init_failures_total", "counter", "Actor inits that failed.", s.init_failures);
  one(b, "backstage_actors", "gauge", "Actors with a cell (active, with mail, or waiting).", s.actors);
  one(b, "backstage_actors_active", "gauge", "Actors with an initialised instance.", s.active);
  one(b, "backstage_requests_pending", "gauge", "Requests waiting for a reply.", s.requests_pending);
  one(b, "backstage_bytes_live", "gauge", "Bytes held from the engine's allocator.", s.bytes_live);
  family(b, "backstage_dead_letters_total", "counter", "Dead letters by reason.");
  for (int r = 0; r < BS_DL__COUNT; r++) {
    const char *why = bs_dead_letter_reason_name((bs_dead_letter_reason)r);
    sample_u(b, "backstage_dead_letters_total", "reason", why, strlen(why), s.dead_by_reason[r]);
  }
  store_metrics(b, &s);
  family(b, "backstage_throughput_messages_per_second", "gauge",
         "Delivered messages per second: last sample interval, and EWMAs with time constants 1s, 10s, 60s.");
  const char *w = "window";
  const char *m = "backstage_throughput_messages_per_second";
  sample_f(b, m, w, "instant", in->rate);
  sample_f(b, m, w, "1s", in->avg1);
  sample_f(b, m, w, "10s", in->avg10);
  sample_f(b, m, w, "60s", in->avg60);
  shard_metrics(b, in->e);
  cluster_metrics(b, in);
}

static void type_family(bs__sb *b, const bs__insp_snap *s, const char *name,
                        const char *type, const char *help, size_t field) {
  family(b, name, type, help);
  for (size_t i = 0; i < s->ntypes; i++) {
    const bs__insp_tsum *t = &s->types[i];
    const uint64_t *v = (const uint64_t *)((const char *)t + field);
    sample_u(b, name, "type", t->name, strlen(t->name), *v);
  }
}

static void type_metrics(bs__sb *b, const bs__insp_snap *s) {
  type_family(b, s, "backstage_type_actors", "gauge", "Known actors of the type.",
              offsetof(bs__insp_tsum, actors));
  type_family(b, s, "backstage_type_actors_active", "gauge", "Active actors of the type.",
              offsetof(bs__insp_tsum, active));
  type_family(b, s, "backstage_type_messages_received_total", "counter",
              "Messages queued to actors of the type.", offsetof(bs__insp_tsum, received));
  type_family(b, s, "backstage_type_messages_processed_total", "counter",
              "Messages dispatched to actors of the type.", offsetof(bs__insp_tsum, processed));
  type_family(b, s, "backstage_type_mailbox_depth", "gauge",
              "Messages queued to actors of the type, not yet dispatched.",
              offsetof(bs__insp_tsum, mailbox));
  family(b, "backstage_type_messages_per_second", "gauge",
         "Sum of the type's actors' rates over their last sample interval.");
  for (size_t i = 0; i < s->ntypes; i++)
    sample_f(b, "backstage_type_messages_per_second", "type", s->types[i].name,
             s->types[i].rate);
}

/* The per-stream families: a header and one line per stream each. */
static const struct stream_family {
  const char *name, *type, *help;
  size_t field;
} stream_families[] = {
    {"backstage_stream_published_total", "counter", "Elements published to the stream.",
     offsetof(bs__insp_srow, published)},
    {"backstage_stream_deliveries_total", "counter",
     "Messages queued to the stream's subscribers.", offsetof(bs__insp_srow, deliveries)},
    {"backstage_stream_subscribers", "gauge", "Current subscriptions of the stream.",
     offsetof(bs__insp_srow, subscribers)},
};

enum { PART_ENGINE, PART_TYPES, PART_STREAMS, PART_CLIENTS = PART_STREAMS + 3, PART_DONE };

/* Lines of the current stream family from stream m->i on, while the
 * budget lasts. */
static void stream_lines(bs__insp_metrics *m, bs__sb *b, size_t *budget) {
  const struct stream_family *f = &stream_families[m->part - PART_STREAMS];
  const bs__insp_snap *s = m->snap;
  if (m->i == 0) family(b, f->name, f->type, f->help);
  for (; m->i < s->nstreams && *budget > 0; m->i++, (*budget)--) {
    const bs__insp_srow *r = &s->streams[m->i];
    const uint64_t *v = (const uint64_t *)((const char *)r + f->field);
    sample_u(b, f->name, "stream", bs__insp_row_id(s, r->id_off), r->id_len, *v);
  }
  if (m->i < s->nstreams) return;
  m->part++;
  m->i = 0;
}

static void spend(size_t *budget, size_t lines) { *budget -= *budget < lines ? *budget : lines; }

void bs__insp_metrics_init(bs__insp_metrics *m, bs__insp_snap *s) {
  m->snap = bs__insp_snap_ref(s);
  m->part = PART_ENGINE;
  m->i = 0;
}

bool bs__insp_metrics_step(bs__insp_metrics *m, bs__inspector *in, bs__sb *b,
                           size_t *budget) {
  while (m->part != PART_DONE && *budget > 0) {
    if (m->part == PART_ENGINE) {
      engine_metrics(b, in);
      spend(budget, 120);
      m->part++;
    } else if (m->part == PART_TYPES) {
      type_metrics(b, m->snap);
      spend(budget, 12 + 6 * m->snap->ntypes);
      m->part++;
    } else if (m->part < PART_CLIENTS) {
      stream_lines(m, b, budget);
    } else {
      one(b, "backstage_inspector_clients", "gauge", "Connected inspector HTTP clients.",
          in->srv ? bs__insp_server_clients(in->srv) : 0);
      m->part = PART_DONE;
    }
  }
  return m->part == PART_DONE;
}

void bs__insp_metrics_free(bs__insp_metrics *m) {
  bs__insp_snap_unref(m->snap);
  m->snap = NULL;
}
