/* fuzz_remote: what another node sends, through the cluster's receiving
 * path into the engine: the frame header check, the directory of senders,
 * link accounting, the envelope decoder (src/cluster/wire.c), and every
 * envelope's way from there - calls, requests and stream elements into the
 * generated dispatch thunks of fixtures/fuzz_actors.h, answers to requests
 * of this node, "moved" answers with hints, stops. The engine is offline
 * (no NATS): this node owns every partition, and what it sends to other
 * nodes (answers, bounces) is dropped and counted.
 *
 * Input: [flags][fail_at][frame...]
 *   flags 0x01  the frame arrives on a stream's subject (else the node's)
 *   flags 0x02  the allocator fails its fail_at-th allocation after setup
 *   flags 0x04  the frame's destination boot id is left as it is (else it
 *               is set to this process's, so the frame is not stale)
 *
 * After each input, with the allocator healthy again, a message to the
 * target must still be delivered; when the engine is freed the allocator
 * has every byte back. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <backstage.h>

#include "cluster/cluster.h"
#include "fuzz_actors.bs.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_remote: check failed at %s:%d: %s\n", __FILE__,    \
              __LINE__, #cond);                                                \
      abort();                                                                 \
    }                                                                          \
  } while (0)

typedef struct fz_alloc {
  size_t live;
  uint64_t attempts;
  uint64_t fail_at; /* 0: never */
} fz_alloc;

static void *fz_fn(void *ud, void *p, size_t old, size_t n) {
  fz_alloc *a = ud;
  if (n == 0) {
    if (p) a->live -= old;
    free(p);
    return NULL;
  }
  if (++a->attempts == a->fail_at) return NULL;
  void *q = realloc(p, n);
  if (q) a->live += n - (p ? old : 0);
  return q;
}

static void run(bs_engine *e) {
  for (int i = 0; i < 16; i++) bs_engine_run(e, BS_RUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint8_t flags = data[0], fail_at = data[1];
  data += 2;
  size -= 2;
  fz_alloc a = {0};
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.allocator = (bs_allocator){fz_fn, &a};
  bs_engine *e;
  CHECK(bs_engine_new(&e, &o) == 0);
  static const bs_actor_type *const types[] = {&Target_actor_type};
  bs_cluster_options co;
  bs_cluster_options_init(&co);
  co.servers = "nats://offline";
  co.node = "fuzz";
  co.types = types;
  co.ntypes = 1;
  CHECK(bs__cluster_offline(e, &co) == 0);
  /* A stream whose subscribers are Target's one-parameter methods. */
  bs_stream_cstr s;
  CHECK(bs_stream_cstr_get(e, "s", &s) == 0);
  CHECK(bs_stream_subscribe(s, bs_subscriber("t1", TargetProxy_note)) == 0);
  uint8_t *frame = malloc(size ? size : 1);
  memcpy(frame, data, size);
  if (!(flags & 4) && size >= BS__FRAME_FIXED && frame[0] == 'B' && frame[1] == 'S') {
    uint64_t boot = e->cluster->boot;
    for (int i = 0; i < 8; i++) frame[24 + i] = (uint8_t)(boot >> (8 * i));
  }
  if (flags & 2) a.fail_at = a.attempts + 1 + fail_at;
  bs__cl_offline_frame(e, flags & 1, frame, size);
  run(e);
  a.fail_at = 0;
  free(frame);
  /* Still working. */
  TargetProxy t;
  CHECK(TargetProxy_get(e, "after", &t) == 0);
  CHECK(TargetProxy_note(t, "still here") == 0);
  run(e);
  bs_engine_stats st;
  bs_engine_stats_get(e, &st);
  CHECK(st.requests_pending == 0);
  bs_engine_free(e);
  CHECK(a.live == 0);
  return 0;
}
