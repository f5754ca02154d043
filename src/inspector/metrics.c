/* /metrics: Prometheus text exposition format 0.0.4. Engine totals, dead
 * letters by reason, throughput, per-type and per-stream series. No
 * per-actor series: a label per actor id would be unbounded cardinality
 * (per-actor numbers are in the JSON API). */
#include "inspector/insp.h"

static void family(bs__sb *b, const char *name, const char *type,
                   const char *help) {
  bs__sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped, and valid
 * UTF-8 (the format requires it; one bad byte would fail the whole
 * scrape): each byte that does not start a well-formed sequence becomes
 * U+FFFD. Ids are outside input. */
static void label_value(bs__sb *b, const char *v) {
  const unsigned char *p = (const unsigned char *)v;
  size_t n = strlen(v);
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

static void sample_u(bs__sb *b, const char *name, const char *label,
                     const char *value, uint64_t v) {
  bs__sb_puts(b, name);
  if (label) {
    bs__sb_printf(b, "{%s=\"", label);
    label_value(b, value);
    bs__sb_puts(b, "\"}");
  }
  bs__sb_printf(b, " %llu\n", (unsigned long long)v);
}

static void sample_f(bs__sb *b, const char *name, const char *label,
                     const char *value, double v) {
  bs__sb_puts(b, name);
  if (label) {
    bs__sb_printf(b, "{%s=\"", label);
    label_value(b, value);
    bs__sb_puts(b, "\"}");
  }
  bs__sb_put(b, " ", 1);
  bs__sb_json_num(b, v);
  bs__sb_put(b, "\n", 1);
}

static void one(bs__sb *b, const char *name, const char *type, const char *help,
                uint64_t v) {
  family(b, name, type, help);
  sample_u(b, name, NULL, NULL, v);
}

static void engine_metrics(bs__sb *b, bs__inspector *in) {
  bs_engine_stats s;
  bs_engine_stats_get(in->e, &s);
  one(b, "backstage_messages_sent_total", "counter", "Messages queued, requests and replies included.", s.sent);
  one(b, "backstage_messages_delivered_total", "counter", "Messages dispatched to a method or a continuation.", s.delivered);
  one(b, "backstage_method_errors_total", "counter", "Methods that returned a negative status.", s.method_errors);
  one(b, "backstage_activations_total", "counter", "Successful actor inits.", s.activations);
  one(b, "backstage_init_failures_total", "counter", "Actor inits that failed.", s.init_failures);
  one(b, "backstage_actors", "gauge", "Known actor ids.", s.actors);
  one(b, "backstage_actors_active", "gauge", "Actors with an initialised instance.", s.active);
  one(b, "backstage_requests_pending", "gauge", "Requests waiting for a reply.", s.requests_pending);
  one(b, "backstage_bytes_live", "gauge", "Bytes held from the engine's allocator.", s.bytes_live);
  family(b, "backstage_dead_letters_total", "counter", "Dead letters by reason.");
  for (int r = 0; r < BS_DL__COUNT; r++)
    sample_u(b, "backstage_dead_letters_total", "reason",
             bs_dead_letter_reason_name((bs_dead_letter_reason)r), s.dead_by_reason[r]);
  family(b, "backstage_throughput_messages_per_second", "gauge",
         "Delivered messages per second: last sample interval, and EWMAs with time constants 1s, 10s, 60s.");
  const char *w = "window";
  const char *m = "backstage_throughput_messages_per_second";
  sample_f(b, m, w, "instant", in->rate);
  sample_f(b, m, w, "1s", in->avg1);
  sample_f(b, m, w, "10s", in->avg10);
  sample_f(b, m, w, "60s", in->avg60);
}

static void type_family(bs__sb *b, bs__inspector *in, const char *name,
                        const char *type, const char *help, size_t field) {
  family(b, name, type, help);
  for (size_t i = 0; i < in->ntypes; i++) {
    const bs__insp_type *t = &in->types[i];
    const uint64_t *v = (const uint64_t *)((const char *)t + field);
    sample_u(b, name, "type", t->t->name, *v);
  }
}

static void type_metrics(bs__sb *b, bs__inspector *in) {
  type_family(b, in, "backstage_type_actors", "gauge", "Known actors of the type.",
              offsetof(bs__insp_type, actors));
  type_family(b, in, "backstage_type_actors_active", "gauge", "Active actors of the type.",
              offsetof(bs__insp_type, active));
  type_family(b, in, "backstage_type_messages_received_total", "counter",
              "Messages queued to actors of the type.", offsetof(bs__insp_type, received));
  type_family(b, in, "backstage_type_messages_processed_total", "counter",
              "Messages dispatched to actors of the type.", offsetof(bs__insp_type, processed));
  type_family(b, in, "backstage_type_mailbox_depth", "gauge",
              "Messages queued to actors of the type, not yet dispatched.",
              offsetof(bs__insp_type, mailbox));
  family(b, "backstage_type_messages_per_second", "gauge",
         "Sum of the type's actors' rates over their last sample interval.");
  for (size_t i = 0; i < in->ntypes; i++)
    sample_f(b, "backstage_type_messages_per_second", "type", in->types[i].t->name,
             in->types[i].rate);
}

typedef enum { ST_PUBLISHED, ST_DELIVERIES, ST_SUBSCRIBERS } stream_field;

static void stream_family(bs__sb *b, bs__inspector *in, const char *name,
                          const char *type, const char *help, stream_field f) {
  const bs__registry *r = &in->e->streams;
  family(b, name, type, help);
  for (size_t i = 0; i < r->cap; i++) {
    if (!r->slots[i]) continue;
    bs_stream_stats st;
    bs_stream_stats_get(r->slots[i]->state, &st);
    uint64_t v = f == ST_PUBLISHED ? st.published : f == ST_DELIVERIES ? st.deliveries
                                                                       : st.subscribers;
    sample_u(b, name, "stream", r->slots[i]->id, v);
  }
}

void bs__insp_render_metrics(bs__sb *b, bs__inspector *in) {
  engine_metrics(b, in);
  type_metrics(b, in);
  stream_family(b, in, "backstage_stream_published_total", "counter",
                "Elements published to the stream.", ST_PUBLISHED);
  stream_family(b, in, "backstage_stream_deliveries_total", "counter",
                "Messages queued to the stream's subscribers.", ST_DELIVERIES);
  stream_family(b, in, "backstage_stream_subscribers", "gauge",
                "Current subscriptions of the stream.", ST_SUBSCRIBERS);
  one(b, "backstage_inspector_clients", "gauge", "Connected inspector HTTP clients.",
      in->srv ? bs__insp_server_clients(in->srv) : 0);
}
