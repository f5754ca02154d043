/* Inspector internals, shared by the files of src/inspector/ (and the two
 * lifecycle calls the engine makes). Names are bs__insp_*.
 *
 * Ownership: the engine points at one bs__inspector while it is started
 * (e->inspector). It owns the sampler state and, when an address was given,
 * a bs__insp_server. The server's libuv handles may finish closing after
 * the inspector (even the engine) is gone, so the server block is separate
 * and frees itself when its last handle has closed.
 *
 * Memory: the inspector allocates with malloc, not through the engine's
 * allocator, so the engine's statistics (bytes_live, allocation counts)
 * describe the actors and not the observer.
 */
#ifndef BACKSTAGE_INSP_H
#define BACKSTAGE_INSP_H

#include <stdarg.h>

#include "internal.h"

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

/* ---- String builder (json.c) --------------------------------------------- */

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

/* CBOR -> JSON (cbor_json.c). Returns 0 or BS_EDECODE (b holds a prefix). */
int bs__insp_cbor_to_json(bs__sb *b, const uint8_t *p, size_t n);

/* ---- Sampler (sampler.c) ------------------------------------------------- */

typedef struct bs__insp_type {
  const bs_actor_type *t;
  uint64_t actors, active, received, processed, mailbox; /* last full sweep */
  double rate;
  uint64_t n_actors, n_active, n_received, n_processed, n_mailbox; /* sweep */
  double n_rate;
} bs__insp_type;

#define BS__INSP_HISTORY 120 /* engine throughput samples kept (2 min at 1/s) */

typedef struct bs__insp_server bs__insp_server;

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
  float history[BS__INSP_HISTORY];
  uint32_t hist_len;
  uint32_t hist_next;
  /* sweep: one slice of registry slots per tick */
  size_t cursor;
  uint64_t *slice_seen; /* engine time each slice was last sampled */
  size_t nslices;
  bs__insp_type *types;
  size_t ntypes, captypes;
  bs__insp_server *srv; /* NULL without an address */
} bs__inspector;

int bs__insp_sampler_start(bs__inspector *in);
void bs__insp_sampler_stop(bs__inspector *in);
/* The aggregate of type `t` (created on first sight), or NULL out of memory. */
bs__insp_type *bs__insp_type_of(bs__inspector *in, const bs_actor_type *t);
/* EWMA step: avg moves toward `rate` by 1 - exp(-dt/tau). */
double bs__insp_ewma(double avg, double rate, double dt_ms, double tau_ms);

/* ---- Actor queries (query.c) ----------------------------------------------- */

typedef enum bs__insp_sort {
  BS__SORT_RATE, BS__SORT_ID, BS__SORT_TYPE, BS__SORT_MAILBOX
} bs__insp_sort;

#define BS__INSP_LIMIT_MAX 1000u
#define BS__INSP_WINDOW_MAX 10000u /* offset + limit */

typedef struct bs__insp_query {
  bs__insp_sort sort;
  char q[128];          /* lower-cased substring of id or type; "" = all */
  size_t qlen;
  uint32_t limit, offset;
  bs_cell **top;        /* heap of the best offset+limit, worst at [0] */
  size_t ntop, keep;
  uint64_t matched;
  size_t cursor;        /* next registry slot */
  bs_cell **slots;      /* the registry as the scan started */
  size_t cap;
} bs__insp_query;

int bs__insp_query_init(bs__insp_query *qr, const char *query, size_t qlen);
/* Visits up to `budget` registry slots; true when the scan is complete (the
 * result is then sorted in top[0..ntop)). A registry that grew under the
 * scan restarts it. */
bool bs__insp_query_step(bs__insp_query *qr, bs_engine *e, size_t budget);
void bs__insp_query_free(bs__insp_query *qr);
/* `name`'s URL-decoded value in a query string into out (NUL-terminated).
 * Returns its length, or -1 if absent or too long. */
int bs__insp_param(const char *query, size_t qlen, const char *name, char *out,
                   size_t cap);

/* ---- JSON and metrics documents (render.c, metrics.c) --------------------- */

void bs__insp_render_summary(bs__sb *b, bs__inspector *in);
void bs__insp_render_snapshot(bs__sb *b, bs__inspector *in,
                              const bs__insp_query *qr);
void bs__insp_render_actor_row(bs__sb *b, bs__inspector *in, const bs_cell *c);
/* Returns 0 or BS_ENOTFOUND. */
int bs__insp_render_actor(bs__sb *b, bs__inspector *in, const char *id);
void bs__insp_render_metrics(bs__sb *b, bs__inspector *in);

/* ---- Tracing (trace.c) ------------------------------------------------------- */

void bs__insp_traces_free(bs_engine *e);
bs_cell *bs__insp_find(bs_engine *e, const char *id);

/* ---- HTTP server (http.c, routes.c) ------------------------------------------ */

int bs__insp_server_start(bs__inspector *in);
/* Detaches the server from the inspector and closes it; it frees itself. */
void bs__insp_server_stop(bs__inspector *in);
/* Called after each sample: pushes SSE updates, closes idle clients. */
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
