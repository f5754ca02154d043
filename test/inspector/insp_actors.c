/* Hand-written actor types for the inspector tests (see insp_actors.h). */
#include "insp_actors.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

typedef struct worker {
  bs_context *ctx;
  uint64_t count;
  int64_t sum;
  int64_t last[3];
  char name[24];
} worker;

static int worker_init(void *self, bs_context *ctx) {
  worker *w = self;
  w->ctx = ctx;
  snprintf(w->name, sizeof w->name, "%.20s", bs_context_id(ctx));
  return 0;
}

static int worker_work(void *self, bs_call *call) {
  worker *w = self;
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  w->count++;
  w->sum += v;
  w->last[w->count % 3] = v;
  return 0;
}

static int worker_ping(void *self, bs_call *call) {
  worker *w = self;
  if (call->reply) bs_write_uint(call->reply, w->count);
  return 0;
}

static int worker_state(const void *self, bs_writer *wr) {
  const worker *w = self;
  /* Field names as text keys, as generated state encoders write them; the
   * last key is an integer, which the inspector shows in decimal. */
  bs_write_map(wr, 5);
  bs_write_cstr(wr, "count");
  bs_write_uint(wr, w->count);
  bs_write_cstr(wr, "sum");
  bs_write_int(wr, w->sum);
  bs_write_cstr(wr, "name");
  bs_write_cstr(wr, w->name);
  bs_write_cstr(wr, "last");
  bs_write_array(wr, 3);
  for (int i = 0; i < 3; i++) bs_write_int(wr, w->last[i]);
  bs_write_uint(wr, INSP_KEY_RATIO);
  bs_write_double(wr, 0.5);
  return wr->err;
}

const bs_method insp_worker_methods[INSP_WORKER_NMETHODS] = {
    {"work", 1, 1, worker_work},
    {"ping", 2, 0, worker_ping},
};

const bs_actor_type insp_worker_type = {
    .name = "Worker", .state_size = sizeof(worker), .state_align = alignof(worker),
    .init = worker_init, .methods = insp_worker_methods,
    .method_count = INSP_WORKER_NMETHODS, .encode_state = worker_state,
};

static int flaky_init(void *self, bs_context *ctx) {
  (void)self, (void)ctx;
  return BS_EINIT;
}

const bs_actor_type insp_flaky_type = {
    .name = "Flaky", .state_size = sizeof(worker), .state_align = alignof(worker),
    .init = flaky_init, .methods = insp_worker_methods, .method_count = 1,
};

const bs_actor_type insp_plain_type = {
    .name = "Plain", .state_size = sizeof(worker), .state_align = alignof(worker),
    .init = worker_init, .methods = insp_worker_methods, .method_count = 1,
};

int insp_work(bs_ref r, int64_t v) {
  bs_writer w;
  int rc = bs_send_begin(&r, &insp_worker_methods[INSP_WORKER_WORK], &w);
  if (rc < 0) return rc;
  bs_write_int(&w, v);
  return bs_send_end(&w);
}
