/* insp-busy: an engine with a few hundred busy actors and the inspector on,
 * for the browser and terminal UI tests (and for trying the dashboard).
 *
 *   insp-busy [--actors N] [--seconds S] [--addr HOST:PORT] [--url-file F]
 *             [--odd-ids 1]
 *
 * Prints the inspector's URL on stdout (and into F), then runs for S
 * seconds (default 30; 0: until killed). Worker i gets (i % 10 + 1)
 * messages every 10 ms, except that a growing share of the workers pauses
 * each second (a six-second sawtooth), so rates differ and move; a stream
 * "ticks" fans out
 * to the first 20 workers; a "Flaky" actor whose init fails makes dead
 * letters. With --odd-ids 1, four more workers have ids a terminal or a
 * JSON encoder must take care with (an escape sequence, umlauts, wide
 * characters, a byte that is not UTF-8); they get work like the others. */
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <backstage.h>

#include "insp_actors.h"

typedef struct busy {
  bs_engine *e;
  bs_ref *workers;
  int n;
  bs_ref odd[4];
  int nodd;
  uint64_t rounds;
  bs_stream_i64 ticks;
  bs_ref flaky;
  bs_timer load, stop;
} busy;

static void on_load(bs_timer *t) {
  busy *b = t->data;
  b->rounds++;
  int phase = (int)(b->rounds / 100 % 6); /* a sawtooth of load, 1 s steps */
  for (int i = 0; i < b->n; i++) {
    if (i % 6 < phase) continue;
    for (int k = 0; k <= i % 10; k++) insp_work(b->workers[i], (int64_t)b->rounds);
  }
  for (int i = 0; i < b->nodd; i++) insp_work(b->odd[i], (int64_t)b->rounds);
  if (b->rounds % 10 == 0) bs_stream_next(b->ticks, (int64_t)b->rounds);
  if (b->rounds % 50 == 0) insp_work(b->flaky, 1);
}

static void on_stop(bs_timer *t) { bs_engine_stop(((busy *)t->data)->e); }

static const char *const odd_ids[4] = {"odd-\x1b[31m-red", "odd-\xc3\xbc\xc3\xbc",
                                       "odd-\xe4\xb8\xad\xe6\x96\x87", "odd-\xff-byte"};

static int setup(busy *b, int n, bool odd) {
  char id[32];
  b->nodd = odd ? 4 : 0;
  for (int i = 0; i < b->nodd; i++) {
    int rc = bs_actor_get(b->e, &insp_worker_type, odd_ids[i], &b->odd[i]);
    if (rc < 0) return rc;
  }
  b->n = n;
  b->workers = calloc((size_t)n, sizeof *b->workers);
  if (!b->workers) return BS_ENOMEM;
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "worker-%03d", i);
    int rc = bs_actor_get(b->e, &insp_worker_type, id, &b->workers[i]);
    if (rc < 0) return rc;
  }
  int rc = bs_get_stream(b->e, i64, "ticks", &b->ticks);
  for (int i = 0; rc == 0 && i < n && i < 20; i++)
    rc = bs_stream_add_subscriber(b->ticks.s, &insp_worker_type, bs_ref_id(&b->workers[i]),
                                  &insp_worker_methods[INSP_WORKER_WORK]);
  if (rc == 0) rc = bs_actor_get(b->e, &insp_flaky_type, "flaky", &b->flaky);
  return rc;
}

int main(int argc, char **argv) {
  int actors = 300, seconds = 30, odd = 0;
  const char *addr = "127.0.0.1:0", *url_file = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--actors")) actors = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--addr")) addr = argv[i + 1];
    else if (!strcmp(argv[i], "--url-file")) url_file = argv[i + 1];
    else if (!strcmp(argv[i], "--odd-ids")) odd = atoi(argv[i + 1]);
  }
  busy b = {0};
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.inspector_addr = addr;
  int rc = bs_engine_new(&b.e, &o);
  if (rc < 0 || (rc = setup(&b, actors, odd != 0)) < 0) {
    fprintf(stderr, "insp-busy: %s\n", bs_strerror(rc));
    return 1;
  }
  char url[128];
  bs_inspector_url(b.e, url, sizeof url);
  printf("%s\n", url);
  fflush(stdout);
  if (url_file) {
    FILE *f = fopen(url_file, "w");
    if (f) fprintf(f, "%s\n", url), fclose(f);
  }
  bs_timer_init(b.e, &b.load);
  b.load.data = &b;
  bs_timer_start(&b.load, on_load, 10, 10);
  bs_timer_init(b.e, &b.stop);
  b.stop.data = &b;
  if (seconds > 0) bs_timer_start(&b.stop, on_stop, (uint64_t)seconds * 1000, 0);
  bs_engine_run(b.e, BS_RUN_UNTIL_DONE);
  bs_timer_stop(&b.load);
  bs_engine_free(b.e);
  free(b.workers);
  return 0;
}
