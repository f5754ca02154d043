/* The runtime's observer hooks: a small vocabulary of one-line macros that
 * the message path calls (in the style of ponyc's tracing.h). The observers
 * - the inspector's counters, the test kit's trace - keep their state and
 * logic in their own files; compiled out, the hooks are empty and the hot
 * paths carry nothing.
 *
 *   BS__OBS_RECEIVED(s, c)       a message was queued to cell c on shard s
 *   BS__OBS_DISPATCH(s, c, m)    m is about to be dispatched to c
 *   BS__OBS_ACTIVATED(s, c)      c's init succeeded
 *   BS__OBS_DEACTIVATED(s, c)    c's instance is gone (stop, restart, idle)
 *   BS__OBS_CELL_FREED(s, c)     c is about to be freed (collected)
 */
#ifndef BACKSTAGE_OBSERVE_H
#define BACKSTAGE_OBSERVE_H

#ifdef BS_WITH_INSPECTOR
#define BS__INSP(x) x
#define BS__INSP_TRACE_N 16
typedef struct bs__insp_trace {
  const char *what[BS__INSP_TRACE_N]; /* method names, oldest overwritten */
  uint32_t next;                      /* total recorded */
} bs__insp_trace;
typedef struct bs__insp_cell {
  uint64_t received;      /* messages queued to it */
  uint64_t processed;     /* messages dispatched (incl. dead-lettered ones) */
  uint64_t activated_at;  /* engine ms of the current activation; 0 if none */
  uint64_t last_activity; /* engine ms of the last dispatch */
  uint64_t sampled;       /* inspector: `processed` at its last sample */
  float rate;             /* inspector: msg/s over the last sample */
  float avg1, avg10, avg60; /* inspector: rolling averages, msg/s */
  bs__insp_trace *trace;  /* per-actor tracing; NULL (no cost) when off */
} bs__insp_cell;
#define BS__OBS_CELL_FIELDS bs__insp_cell insp;
#define BS__OBS_SHARD_FIELDS
#define BS__OBS_RECEIVED(s, c) ((c)->insp.received++)
#define BS__OBS_ACTIVATED(s, c) ((c)->insp.activated_at = bs__now(s))
#define BS__OBS_DEACTIVATED(s, c) ((c)->insp.activated_at = 0)
#define BS__OBS_INSP_DISPATCH(s, c, m) bs__insp_dispatched((s), (c), (m))
#define BS__OBS_CELL_FREED(s, c) bs__insp_cell_freed((s), (c))
#else
#define BS__INSP(x) ((void)0)
#define BS__OBS_CELL_FIELDS
#define BS__OBS_SHARD_FIELDS
#define BS__OBS_RECEIVED(s, c) ((void)0)
#define BS__OBS_ACTIVATED(s, c) ((void)0)
#define BS__OBS_DEACTIVATED(s, c) ((void)0)
#define BS__OBS_INSP_DISPATCH(s, c, m) ((void)0)
#define BS__OBS_CELL_FREED(s, c) ((void)0)
#endif

/* The test kit's trace hook is a run-time switch (bs_test_set_trace). */
#define BS__OBS_DISPATCH(s, c, m)                                              \
  do {                                                                         \
    if (BS__UNLIKELY((s)->engine->trace_fn)) bs__trace((s), (c), (m));         \
    BS__OBS_INSP_DISPATCH(s, c, m);                                            \
  } while (0)

#endif
