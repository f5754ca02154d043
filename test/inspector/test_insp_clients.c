/* The engine with the inspector on survives its clients: 100 at once,
 * event-stream clients that vanish mid-stream, more clients than allowed,
 * silent clients, and stopping with clients connected. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#include "insp_test.h"

#define NCLIENTS 100

typedef struct crowd {
  int port;
  int ok;        /* responses with status 200 and a JSON body */
  int done;
} crowd;

/* Connects all first, then sends all requests, then reads all answers:
 * 100 connections really are open at once. */
static void *crowd_run(void *arg) {
  crowd *c = arg;
  int fds[NCLIENTS];
  static const char req[] = "GET /api/snapshot?limit=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (int i = 0; i < NCLIENTS; i++) fds[i] = it_connect(c->port, 10000);
  for (int i = 0; i < NCLIENTS; i++)
    if (fds[i] >= 0) (void)!send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL);
  static char buf[NCLIENTS][65536];
  for (int i = 0; i < NCLIENTS; i++) {
    size_t len = 0;
    ssize_t n;
    while (fds[i] >= 0 && len < sizeof buf[i] - 1 &&
           (n = recv(fds[i], buf[i] + len, sizeof buf[i] - 1 - len, 0)) > 0)
      len += (size_t)n;
    buf[i][len] = '\0';
    if (fds[i] >= 0) close(fds[i]);
    if (!strncmp(buf[i], "HTTP/1.1 200", 12) && strstr(buf[i], "\"actors\":{")) c->ok++;
  }
  atomic_store((_Atomic int *)&c->done, 1);
  return NULL;
}

static double metric(bs_engine *e, const char *series) {
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  char key[128];
  snprintf(key, sizeof key, "\n%s ", series);
  const char *p = strstr(r.body, key);
  cr_assert(p);
  double v = strtod(p + strlen(key), NULL);
  it_resp_free(&r);
  return v;
}

Test(insp_clients, a_hundred_clients_at_once, .timeout = 60) {
  bs_engine *e = it_engine_http();
  it_send(e, &insp_worker_type, "w", 10);
  bs_test_run(e, 0);
  crowd c = {it_port(e), 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, crowd_run, &c);
  it_pump_until(e, &c.done);
  pthread_join(t, NULL);
  cr_assert_eq(c.ok, NCLIENTS);
  for (int i = 0; i < 20; i++) it_pump(e);
  cr_assert_eq(metric(e, "backstage_inspector_clients"), 1, "all gone but this one");
  it_free(e);
}

typedef struct sse {
  int port;
  int updates;       /* "event: update" blocks seen */
  int want;          /* close after this many */
  bool reset;        /* close with a TCP reset */
  int done;
} sse;

static void *sse_run(void *arg) {
  sse *s = arg;
  int fd = it_connect(s->port, 10000);
  static const char req[] = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (fd >= 0 && send(fd, req, sizeof req - 1, MSG_NOSIGNAL) > 0) {
    char buf[8192];
    ssize_t n;
    while (s->updates < s->want && (n = recv(fd, buf, sizeof buf - 1, 0)) > 0) {
      buf[n] = '\0';
      for (char *p = buf; (p = strstr(p, "event: update")); p++) s->updates++;
    }
  }
  if (fd >= 0 && s->reset) {
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  if (fd >= 0) close(fd);
  atomic_store((_Atomic int *)&s->done, 1);
  return NULL;
}

/* Advances the virtual clock one sample at a time (every 20 ms of real
 * time) until the client thread is done. */
static void tick_until(bs_engine *e, volatile int *flag) {
  for (int i = 0; i < 500 && !atomic_load((_Atomic int *)flag); i++) {
    for (int k = 0; k < 20; k++) {
      it_pump(e);
      usleep(1000);
    }
    bs_test_advance(e, 1000);
  }
  cr_assert(atomic_load((_Atomic int *)flag), "client did not finish");
}

Test(insp_clients, event_stream_sends_one_update_per_sample) {
  bs_engine *e = it_engine_http();
  sse s = {it_port(e), 0, 4, false, 0};
  pthread_t t;
  pthread_create(&t, NULL, sse_run, &s);
  tick_until(e, &s.done);
  pthread_join(t, NULL);
  cr_assert_eq(s.updates, 4);
  it_free(e);
}

Test(insp_clients, engine_survives_clients_leaving_mid_stream) {
  bs_engine *e = it_engine_http();
  for (int round = 0; round < 2; round++) {
    sse s = {it_port(e), 0, 2, round == 1, 0};
    pthread_t t;
    pthread_create(&t, NULL, sse_run, &s);
    tick_until(e, &s.done);
    pthread_join(t, NULL);
    cr_assert_eq(s.updates, 2);
    for (int i = 0; i < 3; i++) { /* updates to a closed socket */
      it_pump(e);
      bs_test_advance(e, 1000);
      usleep(2000);
      it_pump(e);
    }
  }
  it_send(e, &insp_worker_type, "w", 3);
  bs_test_run(e, 0);
  cr_assert_eq(metric(e, "backstage_inspector_clients"), 1);
  cr_assert_eq(metric(e, "backstage_messages_delivered_total"), 3);
  it_free(e);
}

static void wait_clients(bs_engine *e, uint32_t n) {
  /* accepted connections show up after a loop iteration or two */
  for (int i = 0; i < 200; i++) {
    it_pump(e);
    usleep(1000);
  }
  (void)n;
}

Test(insp_clients, clients_over_the_cap_get_503) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.max_clients = 2;
  bs_engine *e = it_engine(&o);
  int port = it_port(e);
  int a = it_connect(port, 2000), b = it_connect(port, 2000);
  cr_assert(a >= 0 && b >= 0);
  wait_clients(e, 2);
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 503);
  it_resp_free(&r);
  close(a);
  close(b);
  wait_clients(e, 0);
  r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  it_resp_free(&r);
  it_free(e);
}

Test(insp_clients, silent_clients_are_closed) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.idle_timeout_ms = 100;
  bs_engine *e = it_engine(&o);
  int fd = it_connect(it_port(e), 3000);
  cr_assert(fd >= 0);
  (void)!send(fd, "GET / HT", 8, MSG_NOSIGNAL); /* and then nothing */
  wait_clients(e, 1);
  usleep(150 * 1000);
  it_pump(e);
  bs_test_advance(e, 1000); /* the sampler's tick reaps idle clients */
  wait_clients(e, 0);
  char buf[16];
  cr_assert_eq(recv(fd, buf, sizeof buf, 0), 0, "closed by the server");
  close(fd);
  it_free(e);
}

Test(insp_clients, stopping_with_clients_connected_is_clean) {
  bs_engine *e = it_engine_http();
  int port = it_port(e);
  int fds[10];
  static const char req[] = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  for (int i = 0; i < 10; i++) {
    fds[i] = it_connect(port, 2000);
    if (i % 2) (void)!send(fds[i], req, sizeof req - 1, MSG_NOSIGNAL);
  }
  wait_clients(e, 10);
  cr_assert_eq(bs_inspector_stop(e), 0);
  wait_clients(e, 0);
  for (int i = 0; i < 10; i++) close(fds[i]);
  cr_assert_eq(bs_inspector_start(e, NULL), 0);
  it_free(e);
}

/* The inspector never keeps the loop alive by itself: with its sampler
 * ticking, its socket listening, a client half-way through a request, an
 * event-stream client and one waiting for its answer, BS_RUN_UNTIL_DONE
 * still returns once the actors are done (real time, not the virtual
 * clock: that is what the loop waits on). */
Test(insp_clients, until_done_returns_while_the_inspector_serves, .timeout = 20) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.inspector_addr = "127.0.0.1:0";
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  int port = it_port(e);
  int half = it_connect(port, 2000), stream = it_connect(port, 2000);
  int asking = it_connect(port, 2000);
  cr_assert(half >= 0 && stream >= 0 && asking >= 0);
  (void)!send(half, "GET /metr", 9, MSG_NOSIGNAL);
  static const char sse_req[] = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!send(stream, sse_req, sizeof sse_req - 1, MSG_NOSIGNAL);
  for (int i = 0; i < 50; i++) {
    bs_engine_run(e, BS_RUN_NOWAIT);
    usleep(1000);
  }
  static const char snap[] = "GET /api/snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!send(asking, snap, sizeof snap - 1, MSG_NOSIGNAL);
  it_send(e, &insp_worker_type, "w", 1000);
  cr_assert_eq(bs_engine_run(e, BS_RUN_UNTIL_DONE), 0);
  bs_inspector_actor a;
  cr_assert_eq(bs_inspector_actor_get(e, "w", &a), 0);
  cr_assert_eq(a.processed, 1000);
  char url[64];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0, "still running after UNTIL_DONE");
  close(half);
  close(stream);
  close(asking);
  bs_engine_free(e);
}

/* ...and a program that drives the engine with NOWAIT or ONCE is still
 * served, even when nothing else is alive; the inspector does not make
 * ONCE wait, nor the result say that work remains. */
Test(insp_clients, nowait_and_once_serve_it_without_counting_it, .timeout = 20) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.inspector_addr = "127.0.0.1:0";
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  it_resp r = it_get(e, "/metrics"); /* pumped with NOWAIT */
  cr_assert_eq(r.status, 200);
  it_resp_free(&r);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_ONCE), 0);
  cr_assert_eq(bs_engine_run(e, BS_RUN_NOWAIT), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
  cr_assert_lt(ms, 500, "ONCE waited %.0f ms for the inspector's tick", ms);
  bs_engine_free(e);
}
