/* poison_pill: stop an actor with mail queued before and after the stop,
 * watch the dead letters, then bring it back. */
#include <inttypes.h>
#include <stdio.h>

#include "worker.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

/* The engine calls this for every message that cannot be delivered. */
static void on_dead_letter(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  printf("dead letter: %s.%s to '%s': %s (%s)\n", dl->type_name,
         dl->method_name ? dl->method_name : "(reply)", dl->target_id,
         bs_dead_letter_reason_name(dl->reason), bs_strerror(dl->code));
}

/* A request queued behind the pill still completes, with an error. */
static void on_jobs_done(void *ud, int status, uint32_t value) {
  (void)ud;
  if (status < 0)
    printf("main: jobsDone failed: %s\n", bs_strerror(status));
  else
    printf("main: jobsDone = %" PRIu32 "\n", value);
}

static int send_jobs(WorkerProxy w, uint32_t first, uint32_t last) {
  int rc = 0;
  for (uint32_t job = first; rc == 0 && job <= last; job++)
    rc = check(WorkerProxy_work(w, job), "work");
  return rc;
}

int main(void) {
  bs_engine_options opts;
  bs_engine_options_init(&opts);
  opts.on_dead_letter = on_dead_letter;

  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, &opts), "bs_engine_new") < 0) return 1;

  WorkerProxy w;
  int rc = check(bs_get_actor(engine, Worker, "worker", &w), "get");

  /* Jobs 1-3, the pill, then job 4 and a request: all queued at once. */
  if (rc == 0) rc = send_jobs(w, 1, 3);
  if (rc == 0) rc = check(WorkerProxy_stop(w), "stop");
  if (rc == 0) rc = send_jobs(w, 4, 4);
  if (rc == 0) rc = check(WorkerProxy_jobsDone(w, on_jobs_done, NULL), "jobsDone");
  if (rc == 0) bs_engine_run(engine, BS_RUN_UNTIL_DONE);

  /* The id is virtual: the next message activates a fresh instance. */
  printf("main: sending job 5 after the stop\n");
  if (rc == 0) rc = send_jobs(w, 5, 5);
  uint32_t done = 0;
  if (rc == 0) rc = check(WorkerProxy_jobsDone_await(w, &done), "jobsDone");
  if (rc == 0) printf("main: the new instance has done %" PRIu32 " job(s)\n", done);

  bs_engine_stats stats;
  bs_engine_stats_get(engine, &stats);
  printf("main: %" PRIu64 " activations, %" PRIu64 " dead letters (%" PRIu64
         " STOPPED)\n", stats.activations, stats.dead_letters,
         stats.dead_by_reason[BS_DL_STOPPED]);

  bs_engine_free(engine); /* the second instance's deinit runs here */
  return rc == 0 ? 0 : 1;
}
