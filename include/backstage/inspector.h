/* The inspector: a live view of an engine's actors over HTTP (a web
 * dashboard, a JSON API, Server-Sent Events and Prometheus metrics), served
 * from the engine's own loop, and the counters and rates behind it.
 *
 * Compiled in with -DBACKSTAGE_INSPECTOR=ON. Compiled out, every function
 * here returns BS_ENOTSUP ("not supported": there is no inspector in this
 * build), bs_inspector_available() is false, and the engine's hot paths
 * carry no inspector code at all.
 *
 * Started either explicitly (bs_inspector_start), or by bs_engine_new when
 * bs_engine_options.inspector_addr or the environment variable
 * BACKSTAGE_INSPECTOR=host:port is set. Like the rest of the engine, every
 * call here is for the loop's thread. See docs/inspector.md.
 */
#ifndef BACKSTAGE_INSPECTOR_H
#define BACKSTAGE_INSPECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bs_inspector_options {
  /* "host:port" to listen on; port 0 picks a free port (see
   * bs_inspector_url). NULL: counters and rates only, no HTTP server. */
  const char *addr;
  /* A host that is not a loopback address is refused (BS_EINVAL) unless
   * allow_remote is true AND token is set; requests must then carry the
   * token, as "Authorization: Bearer <token>" or "?token=<token>". A token
   * set for a loopback address is enforced too. */
  bool allow_remote;
  const char *token;           /* copied; NULL: none */
  uint32_t max_clients;        /* concurrent connections (256); more: 503 */
  /* A client must send its whole request within this time of connecting,
   * and an answer being written must not stall for longer (10000). */
  uint32_t idle_timeout_ms;
  uint32_t sample_interval_ms; /* rate sampling period (1000) */
  /* Registry slots the sampler sweeps per tick, and the work of one step
   * of an answer: rows sorted or scanned, /metrics lines (65536). An
   * engine with more actors is swept over several ticks and big answers
   * are made over several loop iterations, so nothing stalls the loop. */
  uint32_t slice;
  /* Requests must name this server in Host (against DNS rebinding): an IP
   * literal or "localhost" always does; a name only when it is on this
   * comma-separated list (copied; NULL: none), e.g. the name a reverse
   * proxy or a DNS record gives it. Environment: BACKSTAGE_INSPECTOR_HOSTS. */
  const char *allowed_hosts;
} bs_inspector_options;

/* Fills `o` with the defaults above (addr NULL). */
void bs_inspector_options_init(bs_inspector_options *o);

/* true when this build has the inspector compiled in. */
bool bs_inspector_available(void);

/* Starts the inspector on `e`: BS_EBUSY if it is already running,
 * BS_EINVAL for a bad address or a refused non-loopback one, BS_EUV when
 * the address cannot be bound, BS_ENOMEM. It never keeps the loop alive:
 * BS_RUN_UNTIL_DONE returns when the program's own work is done, as without
 * it (serving while the loop runs; BS_RUN_ONCE/NOWAIT serve it too). A
 * program that wants to keep serving holds the loop (bs_engine_hold). */
int bs_inspector_start(bs_engine *e, const bs_inspector_options *o);

/* Closes the server and every client, frees traces and the inspector's
 * memory. bs_engine_free does it too. BS_ENOTFOUND if not running. */
int bs_inspector_stop(bs_engine *e);

/* "http://127.0.0.1:9464/", with the port actually bound, into buf (NUL
 * terminated). Returns its length, BS_ENOTFOUND without a server,
 * BS_ETOOBIG if it does not fit. */
int bs_inspector_url(const bs_engine *e, char *buf, size_t cap);

/* Per-actor message tracing: while on, the method names of the actor's
 * last BS_INSPECTOR_TRACE_N messages are kept (a ring allocated when
 * tracing is turned on, freed when it is turned off; off costs nothing).
 * BS_ENOTFOUND for an unknown id or no inspector, BS_ENOMEM. */
#define BS_INSPECTOR_TRACE_N 16
int bs_inspector_trace(bs_engine *e, const char *actor_id, bool on);

/* The traced method names, oldest first, into names[0..cap). Returns how
 * many were written (0 when tracing is off), or BS_ENOTFOUND. The strings
 * are the type's method names (static) or "(reply)", "(stop)",
 * "(unknown)". */
int bs_inspector_trace_get(bs_engine *e, const char *actor_id,
                           const char **names, size_t cap);

/* One actor's counters and rates. Counters run whenever the inspector is
 * compiled in; rates only while it is started. */
typedef struct bs_inspector_actor {
  uint64_t received;      /* messages queued to it */
  uint64_t processed;     /* messages dispatched to it (dead letters too) */
  uint64_t mailbox;       /* queued, not yet dispatched */
  uint64_t activated_at;  /* bs_engine_now() at activation; 0: inactive */
  uint64_t last_activity; /* bs_engine_now() at the last dispatch */
  double rate;            /* msg/s over the last sample interval */
  double avg1, avg10, avg60; /* EWMA of the rate, time constants 1/10/60 s */
  bool active;
  bool tracing;
} bs_inspector_actor;

int bs_inspector_actor_get(bs_engine *e, const char *actor_id,
                           bs_inspector_actor *out);

/* Engine-wide throughput (delivered messages), same definitions. */
typedef struct bs_inspector_totals {
  double rate, avg1, avg10, avg60;
  uint64_t samples;       /* sampler ticks so far */
} bs_inspector_totals;

int bs_inspector_totals_get(bs_engine *e, bs_inspector_totals *out);

#ifdef __cplusplus
}
#endif
#endif
