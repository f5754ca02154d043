/* Hand-written actor types for the inspector tests. Their state encoders
 * have the shape backstage-gen emits (a CBOR map keyed by field-name
 * hashes), plus nested values, so the state JSON is exercised.
 *
 * Worker: work(int64) [1] adds to its sum and counts; ping() -> int64 [2]
 *   returns its count. State {count, sum, name, last[3], ratio}.
 * Flaky: init fails (BS_EINIT): every message becomes a dead letter.
 * Plain: work(int64) [1], no state encoder. */
#ifndef INSP_ACTORS_H
#define INSP_ACTORS_H

#include <backstage.h>

enum { INSP_WORKER_WORK, INSP_WORKER_PING, INSP_WORKER_NMETHODS };
extern const bs_method insp_worker_methods[INSP_WORKER_NMETHODS];
extern const bs_actor_type insp_worker_type;
extern const bs_actor_type insp_flaky_type;
extern const bs_actor_type insp_plain_type;

/* The one integer key of Worker's state map (the others are field names). */
#define INSP_KEY_RATIO 0x7fffffffu

/* Sends work(v); returns what bs_send_end returned. */
int insp_work(bs_ref r, int64_t v);

#endif
