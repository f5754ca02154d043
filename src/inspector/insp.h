/* Inspector internals, shared by the files of src/inspector/ (and the
 * lifecycle calls the engine makes). Names are bs__insp_*.
 *
 * The data flow, and why it is shaped so:
 *
 *   sampler tick (home) --post--> each shard, on its own thread:
 *     one slice of its registry (rows.c) ---------> the shard's part
 *     part complete -------------------------------> handed to the inspector
 *   every shard has handed one: merged, a slice per tick, with the
 *   streams ------------------------------------------> current snapshot
 *   HTTP requests ---(query.c, render.c, metrics.c)---> current snapshot
 *   one actor's detail, tracing (detail.c, trace.c) --> a call run on the
 *                                                       actor's shard
 *
 * Requests never walk a registry or read a bs_cell: every table answer
 * comes from the current snapshot, a block of plain rows. Only a shard's
 * own thread reads its cells (the sweeps, and the live reads made with
 * bs__shard_call), so actors on other threads are never read mid-turn.
 *
 * Ownership: the engine points at one bs__inspector while it is started
 * (e->inspector). It owns the sampler state, the snapshots and, when an
 * address was given, a bs__insp_server. The server's libuv handles may
 * finish closing after the inspector (even the engine) is gone, so the
 * server block is separate and frees itself when its last handle has
 * closed. Snapshots and response buffers are reference counted: an answer
 * being written keeps what it points into.
 *
 * Memory: the inspector allocates with malloc, not through the engine's
 * allocator, so the engine's statistics (bytes_live, allocation counts)
 * describe the actors and not the observer.
 */
#ifndef BACKSTAGE_INSP_H
#define BACKSTAGE_INSP_H

#include <stdarg.h>

#include "internal.h"

/* Delivered messages over all shards. */
static inline uint64_t bs__insp_delivered(const bs_engine *e) {
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  return st.delivered;
}

/* ---- Lifecycle hooks (engine.c; stubs in off.c when compiled out) -------- */

/* Starts the inspector if opts.inspector_addr or $BACKSTAGE_INSPECTOR asks
 * for it. An explicit option that fails is the engine's error; a failing
 * environment variable only prints a warning on stderr. */
int bs__insp_engine_start(bs_engine *e);
/* Stops it, if running (first thing bs_engine_free does). */
void bs__insp_engine_stop(bs_engine *e);
/* The inspector's handles never keep the loop alive. For one BS_RUN_ONCE
 * or BS_RUN_NOWAIT iteration, bs_engine_run references one of them (on)
 * so libuv polls the inspector's sockets and timers even when nothing else
 * is alive, and releases it (off) before it decides what to return. */
void bs__insp_anchor(bs_engine *e, bool on);

#ifdef BS_WITH_INSPECTOR

/* ---- String builder and shared buffers (json.c) --------------------------- */

typedef struct bs__sb {
  char *p;
  size_t len, cap;
  bool oom; /* sticky: an allocation failed, the content is truncated */
} bs__sb;

void bs__sb_put(bs__sb *b, const char *s, size_t n);
void bs__sb_puts(bs__sb *b, const char *s);
void bs__sb_printf(bs__sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bs__sb_free(bs__sb *b);
/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), or 0. */
size_t bs__utf8_len(const unsigned char *s, size_t n);
/* A JSON string literal, quotes included; each byte that does not start a
 * well-formed UTF-8 sequence becomes U+FFFD, so the output is valid UTF-8. */
void bs__sb_json_str(bs__sb *b, const char *s, size_t n);
/* A JSON number; NaN and infinities become 0. */
void bs__sb_json_num(bs__sb *b, double v);

/* An immutable, reference-counted piece of a response: written to many
 * clients (and cached) without copying. */
typedef struct bs__insp_buf {
  uint32_t refs;
  size_t len;
  char *p;
} bs__insp_buf;

/* Takes b's content (b is left empty) into a buffer with one reference;
 * NULL if b ran out of memory or the buffer cannot be made. */
bs__insp_buf *bs__insp_buf_take(bs__sb *b);
bs__insp_buf *bs__insp_buf_ref(bs__insp_buf *buf);
void bs__insp_buf_unref(bs__insp_buf *buf);

/* CBOR -> JSON (cbor_json.c). Returns 0 or BS_EDECODE (b holds a prefix). */
int bs__insp_cbor_to_json(bs__sb *b, const uint8_t *p, size_t n);

/* ---- Rows and snapshots (rows.c) -------------------------------------------- */

enum { BS__ROW_ACTIVE = 1, BS__ROW_TRACING = 2, BS__ROW_PERSISTENT = 4 };

/* One actor as the sampler saw it. Plain data: no pointer into the engine
 * but the type's name, whose descriptor outlives the engine. */
typedef struct bs__insp_row {
  uint64_t received, processed, mailbox, activated_at, last_activity;
  float rate, avg1, avg10, avg60;
  /* Persistent actors (BS__ROW_PERSISTENT): the stored version loaded or
   * last committed, when that commit was (engine ms, 0: never), and the
   * store errors seen with the last one's code. */
  uint64_t version, saved_at;
  uint32_t store_errors;
  int32_t store_last_error;
  const char *type;  /* the type's name */
  uint32_t id_off;   /* the id: snap->ids + id_off, id_len bytes, then NUL */
  uint16_t shard;    /* the shard it lives on */
  uint8_t id_len;
  uint8_t flags;     /* BS__ROW_* */
} bs__insp_row;

/* One stream. */
typedef struct bs__insp_srow {
  uint64_t published, deliveries, encodes, subscribers;
  const char *type;  /* the element type's name */
  uint32_t id_off;
  uint16_t shard;
  uint8_t id_len;
} bs__insp_srow;

/* Per-type sums over a snapshot's rows. */
typedef struct bs__insp_tsum {
  const char *name;
  uint64_t actors, active, received, processed, mailbox;
  double rate;
} bs__insp_tsum;

typedef enum bs__insp_sort {
  BS__SORT_RATE, BS__SORT_ID, BS__SORT_TYPE, BS__SORT_MAILBOX, BS__SORT_N
} bs__insp_sort;

/* A snapshot's rows in the order of one sort key, built by a merge sort in
 * steps (query.c) the first time a request needs that key, then shared by
 * every request on the snapshot. */
typedef struct bs__insp_order {
  uint32_t *idx, *tmp;   /* idx: the order once done */
  size_t width, lo, a, b, k; /* where the merge stands */
  bool started, done, oom;
} bs__insp_order;

/* The rows of one complete sweep. Immutable once published, except for
 * the sort orders, which fill in lazily. */
typedef struct bs__insp_snap {
  uint32_t refs;
  uint64_t seq;          /* publication number */
  uint64_t taken_at;     /* bs_engine_now() when the sweep completed */
  bs__insp_row *rows;
  size_t nrows, caprows;
  bs__insp_srow *streams;
  size_t nstreams, capstreams;
  char *ids;             /* every id, NUL-terminated */
  size_t idlen, idcap;
  bs__insp_tsum *types;
  size_t ntypes, captypes;
  bs__insp_order order[BS__SORT_N];
  bool oom;              /* a row could not be added: the snapshot is partial */
} bs__insp_snap;

/* The decay factors of one sample interval (sampler.c). */
typedef struct bs__insp_alphas {
  double dt_ms, a1, a10, a60;
} bs__insp_alphas;

bs__insp_snap *bs__insp_snap_new(void);
bs__insp_snap *bs__insp_snap_ref(bs__insp_snap *s);
void bs__insp_snap_unref(bs__insp_snap *s);
/* Back to no rows, keeping its memory (a sweep that has to restart). */
void bs__insp_snap_clear(bs__insp_snap *s);

static inline const char *bs__insp_row_id(const bs__insp_snap *s, uint32_t off) {
  return s->ids + off;
}

/* The sweep, the only place the table is read from actor cells, on the
 * cells' own shard: samples the rates of the cells in slots [from, to) of
 * shard `sh`'s registry over interval `a` (NULL: takes a baseline, rates 0)
 * and appends a row for each to `s`. */
void bs__insp_rows_sweep(bs__insp_snap *s, bs__shard *sh, size_t from, size_t to,
                         const bs__insp_alphas *a);
/* The streams in slots [from, to) of the engine's stream table. */
void bs__insp_rows_sweep_streams(bs__insp_snap *s, bs_engine *e, size_t from, size_t to);
/* Appends a copy of row r (its id) to s (the merge of the shards' parts). */
void bs__insp_snap_add(bs__insp_snap *s, const bs__insp_row *r, const char *id);
/* One actor's row, read live (for its detail; the id is not copied). */
void bs__insp_row_of(const bs_cell *c, bs__insp_row *r);

/* ---- Sampler (sampler.c) ------------------------------------------------- */

#define BS__INSP_HISTORY 120 /* engine throughput samples kept (2 min at 1/s) */
#define BS__INSP_PAGES 8     /* rendered pages of actors kept per snapshot */

typedef struct bs__insp_server bs__insp_server;

typedef struct bs__insp_query {
  bs__insp_sort sort;
  char q[128];          /* lower-cased substring of id or type; "" = all */
  size_t qlen;
  uint32_t limit, offset;
  int32_t shard;        /* only this shard's actors; -1 = all */
} bs__insp_query;

/* A rendered "actors" member, for requests asking the same again. */
typedef struct bs__insp_page {
  uint64_t seq;         /* of the snapshot it was rendered from; 0: empty */
  uint64_t used;        /* for least-recently-used replacement */
  bs__insp_query q;
  bs__insp_buf *buf;
} bs__insp_page;

/* One shard's part of a sweep: touched only on that shard's thread, but
 * for `ready` (handed over under the inspector's lock) and `pending`. */
typedef struct bs__insp_part {
  size_t cursor;
  size_t sweep_cap;             /* the registry's size as the sweep began */
  uint64_t *slice_seen;         /* shard time each slice was last sampled */
  size_t nslices;
  bool baselined;               /* the first sweep takes no rates */
  bs__insp_snap *building;
  bs__insp_snap *ready;         /* a complete part, not merged yet */
  uint32_t pending;             /* atomic: a sweep request is on its way */
} bs__insp_part;

typedef struct bs__inspector {
  bs_engine *e;
  bs_inspector_options o;
  char *token;
  char *allowed_hosts;  /* copy of o.allowed_hosts, or NULL */
  bs_timer tick;        /* the sampling tick on the virtual clock */
  uv_timer_t *rt_tick;  /* ... or on real time (unreferenced, own block) */
  uint64_t started_at;
  uint64_t last_tick;
  uint64_t samples;
  /* engine totals */
  uint64_t delivered_prev;
  double rate, avg1, avg10, avg60;
  /* cluster: envelopes to and from other nodes per second (last sample) */
  uint64_t cl_out_prev, cl_in_prev;
  double cl_out_rate, cl_in_rate;
  float history[BS__INSP_HISTORY];
  uint32_t hist_len;
  uint32_t hist_next;
  /* sweep: each shard sweeps its registry into its part; the parts are
   * merged, with the streams, a slice per tick */
  bs__insp_part *parts;         /* [nshards] */
  uv_mutex_t lock;              /* parts[].ready */
  bs__insp_snap **merging;      /* [nshards] parts being merged, or NULL */
  bool merge_on;
  size_t merge_k, merge_i;
  uint64_t seq;                 /* snapshots published */
  bs__insp_snap *building;      /* the merge in progress */
  bs__insp_snap *current;       /* the last complete one: what is served */
  /* rendered once, served many times */
  bs__insp_buf *summary;        /* see bs__insp_summary */
  uint64_t summary_samples, summary_seq;
  bs__insp_page pages[BS__INSP_PAGES];
  uint64_t page_clock;
  bs__insp_server *srv;         /* NULL without an address */
} bs__inspector;

int bs__insp_sampler_start(bs__inspector *in);
void bs__insp_sampler_stop(bs__inspector *in);
/* EWMA step: avg moves toward `rate` by 1 - exp(-dt/tau). */
double bs__insp_ewma(double avg, double rate, double dt_ms, double tau_ms);
bs__insp_alphas bs__insp_alphas_for(double dt_ms);

/* ---- Actor queries (query.c) ----------------------------------------------- */

#define BS__INSP_LIMIT_MAX 1000u
#define BS__INSP_WINDOW_MAX 10000u /* offset + limit */

/* Parses sort=, q=, shard=, limit=, offset= (junk falls back to defaults). */
void bs__insp_query_parse(bs__insp_query *q, const char *qs, size_t qlen);
bool bs__insp_query_eq(const bs__insp_query *a, const bs__insp_query *b);

/* One query's answer over a snapshot, built in steps: the sort key's
 * order (shared), then with a filter a scan of it. Memory: the page. */
typedef struct bs__insp_scan {
  bs__insp_snap *snap;  /* referenced */
  bs__insp_query q;
  size_t pos;           /* next position in the order */
  uint64_t matched;
  uint32_t *page;       /* row indices of the window, in order */
  size_t npage;
  bool oom;
} bs__insp_scan;

void bs__insp_scan_init(bs__insp_scan *sc, bs__insp_snap *s, const bs__insp_query *q);
/* Does at most *budget units of work (each taken from it); true when the
 * answer is complete (sc->oom: it could not be). */
bool bs__insp_scan_step(bs__insp_scan *sc, size_t *budget);
void bs__insp_scan_free(bs__insp_scan *sc);
/* `name`'s URL-decoded value in a query string into out (NUL-terminated).
 * Returns its length, or -1 if absent, malformed or too long. */
int bs__insp_param(const char *query, size_t qlen, const char *name, char *out,
                   size_t cap);

/* ---- JSON documents (render.c, detail.c) ---------------------------------- */

/* The document's live head: version, times, clients, engine counters, dead
 * letters (a few hundred bytes; opens the object, ends with a comma). */
void bs__insp_render_head(bs__sb *b, bs__inspector *in);
/* history, types and streams of the current snapshot (ends with a comma):
 * rendered once per sample, a new reference each call; NULL out of memory. */
bs__insp_buf *bs__insp_summary(bs__inspector *in);
/* The "actors" member and the closing brace. */
void bs__insp_render_page(bs__sb *b, const bs__insp_scan *sc);
/* A page for q over the current snapshot if one is cached (a reference). */
bs__insp_buf *bs__insp_page_find(bs__inspector *in, const bs__insp_query *q);
/* Keeps buf as the page for q over snapshot seq (takes a reference). */
void bs__insp_page_keep(bs__inspector *in, uint64_t seq, const bs__insp_query *q,
                        bs__insp_buf *buf);
void bs__insp_pages_free(bs__inspector *in);
void bs__insp_render_row(bs__sb *b, const bs__insp_row *r, const char *id, size_t len);
/* The one live read of an actor: its row, trace, methods and state (the
 * type's encode_state) as JSON. BS_ENOTFOUND for an unknown id. Every
 * request for an actor's detail goes through here. */
int bs__insp_actor_detail(bs__inspector *in, const char *id, bs__sb *out);

/* ---- /metrics (metrics.c) -------------------------------------------------- */

/* The exposition document over a snapshot, written in steps. */
typedef struct bs__insp_metrics {
  bs__insp_snap *snap;  /* referenced */
  int part;
  size_t i;
} bs__insp_metrics;

void bs__insp_metrics_init(bs__insp_metrics *m, bs__insp_snap *s);
/* Appends at most about *budget lines to b; true when the document is
 * complete. */
bool bs__insp_metrics_step(bs__insp_metrics *m, bs__inspector *in, bs__sb *b,
                           size_t *budget);
void bs__insp_metrics_free(bs__insp_metrics *m);

/* ---- Tracing (trace.c) ------------------------------------------------------- */

void bs__insp_traces_free(bs_engine *e);
/* The cell of the actor with this id (any type) on `s`, its shard. */
bs_cell *bs__insp_find(bs__shard *s, const char *id, size_t len, uint32_t hash);
/* The shard an id lives on (BS_EINVAL/BS_EIDLEN for a bad id). */
int bs__insp_shard_of(bs_engine *e, const char *id, size_t *len, uint32_t *hash);
/* The names in c's trace ring, oldest first (on c's shard). */
size_t bs__insp_trace_names(const bs_cell *c, const char **names, size_t cap);
/* Whether any shard has work queued (answers are then paced). */
bool bs__insp_engine_busy(bs_engine *e);

/* ---- HTTP server (http.c, serve.c, routes.c) --------------------------------- */

int bs__insp_server_start(bs__inspector *in);
/* Detaches the server from the inspector and closes it; it frees itself. */
void bs__insp_server_stop(bs__inspector *in);
/* Called after each sample: pushes SSE updates. */
void bs__insp_server_tick(bs__inspector *in);
/* Bound URL (see bs_inspector_url). */
int bs__insp_server_url(const bs__insp_server *s, char *buf, size_t cap);
/* Clients currently connected. */
uint32_t bs__insp_server_clients(const bs__insp_server *s);
/* The listening socket (for bs__insp_anchor). */
uv_handle_t *bs__insp_server_handle(bs__insp_server *s);

/* The embedded dashboard (generated from dashboard.html at build time). */
extern const unsigned char bs__insp_dashboard[];
extern const size_t bs__insp_dashboard_len;

#endif /* BS_WITH_INSPECTOR */
#endif
