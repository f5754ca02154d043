/* The test kit: deterministic tests of actor code.
 *
 * A single-threaded engine can be driven one message at a time, on a clock
 * that moves only when the test says so, in a schedule chosen by a seed.
 * Turn test mode on with two engine options:
 *
 *   bs_engine_options o;
 *   bs_engine_options_init(&o);
 *   o.virtual_time = true;     // bs_timers and request deadlines follow bs_test_advance
 *   o.schedule_seed = seed;    // 0: FIFO; otherwise a reproducible shuffle of turns
 *
 * and use the calls below instead of bs_engine_run. See docs/testing.md.
 */
#ifndef BACKSTAGE_TESTKIT_H
#define BACKSTAGE_TESTKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backstage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Stepping ---------------------------------------------------------------- */

/* Dispatches exactly one message (to the actor the schedule picks) and
 * returns 1, or returns 0 if no actor has mail. Runs pending foreign-thread
 * posts first. BS_EBUSY inside a running engine. */
int bs_test_step(bs_engine *e);

/* Steps until no actor has mail, or `max_messages` were dispatched (0: no
 * limit). Returns the number dispatched (saturated at INT_MAX), or BS_EBUSY. */
int bs_test_run(bs_engine *e, uint64_t max_messages);

/* Moves the virtual clock forward by `ms`. Every bs_timer and request
 * deadline due in that span fires at its due time, in due order, and the
 * mail each one causes is run (bs_test_run) before the clock moves on, so
 * a timer started by a message handled at t fires at t + its delay within
 * the same advance. BS_EINVAL without opts.virtual_time. */
int bs_test_advance(bs_engine *e, uint64_t ms);

/* ---- Looking inside --------------------------------------------------------- */

/* The method the actor's next queued message calls: its name, "(reply)" for
 * a reply to a request it made, "(stop)" for a stop, "(unknown)" for an id
 * its type lacks; NULL when the mailbox is empty. See bs_ref_pending for the
 * depth. */
const char *bs_test_next_method(const bs_ref *r);

/* Called before every dispatch with the actor's id and what it is about to
 * run (as bs_test_next_method names it). NULL turns tracing off. */
typedef void (*bs_test_trace_fn)(void *ud, const char *actor_id, const char *what);
void bs_test_set_trace(bs_engine *e, bs_test_trace_fn fn, void *ud);

/* ---- Probes ----------------------------------------------------------------- */

/* A probe stands in for the actor `id` of `type`: every message sent to it
 * is captured instead of delivered, so a test can check what was sent. The
 * actor must not be active. Messages already queued to it move into the
 * probe. Captured messages count as delivered. */
typedef struct bs_probe bs_probe;

typedef struct bs_probed {
  const char *method;   /* as bs_test_next_method names it */
  uint32_t method_id;
  bool request;         /* the sender waits for a reply */
  bs_reader args;       /* at the first argument; read them with bs_read_* or
                           the generated TProxy_method__args decoder */
} bs_probed;

int bs_probe_new(bs_engine *e, const bs_actor_type *type, const char *id,
                 bs_probe **out);
/* Captured messages not yet taken. */
size_t bs_probe_pending(const bs_probe *p);
/* Takes the oldest captured message: returns 1 and fills *out (valid until
 * the next call on this probe), or 0 if none. A probe does not reply: a
 * captured request is completed with BS_ENOTFOUND when taken. BS_ENOMEM if
 * that completion could not be allocated: the message stays captured, and a
 * later call (or bs_probe_free, which needs no memory) takes it. */
int bs_probe_next(bs_probe *p, bs_probed *out);
/* Stops capturing: later messages reach the real actor. Messages not taken
 * are released (requests among them completed with BS_ENOTFOUND). The
 * engine frees probes left at bs_engine_free. */
void bs_probe_free(bs_probe *p);

/* ---- Schedule exploration --------------------------------------------------- */

/* One run of a scenario under `seed`: build an engine with
 * opts.schedule_seed = seed, drive it, return 0 if it behaved, non-zero if
 * not. Must be deterministic apart from the seed. */
typedef int (*bs_test_scenario_fn)(uint64_t seed, void *ud);

/* Runs the scenario with seeds first_seed, first_seed + 1, ... (`count` of
 * them, skipping 0) and stops at the first that fails: returns 1 and stores
 * it in *failing_seed; re-running the scenario with that seed replays the
 * same schedule exactly. Returns 0 if every seed passed. */
int bs_test_explore(bs_test_scenario_fn fn, void *ud, uint64_t first_seed,
                    uint32_t count, uint64_t *failing_seed);

#ifdef __cplusplus
}
#endif
#endif
