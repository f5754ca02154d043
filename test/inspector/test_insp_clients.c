/* The engine with the inspector on survives its clients: 100 at once,
 * event-stream clients that vanish mid-stream, more clients than allowed,
 * silent, trickling and slow clients, large answers, and stopping with
 * clients connected; and it never holds the loop.
 *
 * Every per-test timeout here is the same 60 s: Criterion 2.4.1 leaks a
 * 48-byte block (which LeakSanitizer then fails the run for) when a test
 * with a shorter timeout starts while one with a longer timeout runs. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
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
#include "inspector/insp.h"

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
Test(insp_clients, until_done_returns_while_the_inspector_serves, .timeout = 60) {
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
Test(insp_clients, nowait_and_once_serve_it_without_counting_it, .timeout = 60) {
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

/* ---- Closing: nothing a client sends keeps its connection open --------------- */

#define NWATCH 64

/* Clients on one thread: each sends `req` (may be NULL), then one byte
 * ("X") every 50 ms while the connection lasts, and records what it got
 * and when the server closed it: not its FIN (a half-close: the socket may
 * still be held), but the reset that a closed socket answers bytes with. */
typedef struct watch {
  int port, n;
  const char *req;
  int ms;                    /* give up after this long */
  char got[NWATCH][1024];
  size_t len[NWATCH];
  int closed_after[NWATCH];  /* ms from the start; -1: still open */
  int done;
} watch;

static void *watch_run(void *arg) {
  watch *w = arg;
  int fds[NWATCH];
  uint64_t t0 = it_now_ms();
  for (int i = 0; i < w->n; i++) {
    w->closed_after[i] = -1;
    fds[i] = it_connect(w->port, 2000);
    if (fds[i] >= 0 && w->req) (void)!send(fds[i], w->req, strlen(w->req), MSG_NOSIGNAL);
  }
  int open = w->n;
  uint64_t next = t0;
  while (open > 0 && it_now_ms() < t0 + (uint64_t)w->ms) {
    bool trickle = it_now_ms() >= next;
    if (trickle) next += 50;
    for (int i = 0; i < w->n; i++) {
      if (w->closed_after[i] >= 0) continue;
      bool gone = trickle && send(fds[i], "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
                  (errno == EPIPE || errno == ECONNRESET);
      char buf[4096];
      ssize_t r = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT);
      size_t room = sizeof w->got[i] - 1 - w->len[i];
      if (r > 0 && room) { /* the start of the answer is enough */
        memcpy(w->got[i] + w->len[i], buf, (size_t)r < room ? (size_t)r : room);
        w->len[i] += (size_t)r < room ? (size_t)r : room;
      }
      if (gone || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        w->closed_after[i] = (int)(it_now_ms() - t0);
        open--;
      }
    }
    usleep(2000);
  }
  for (int i = 0; i < w->n; i++)
    if (fds[i] >= 0) close(fds[i]);
  atomic_store((_Atomic int *)&w->done, 1);
  return NULL;
}

static bs_engine *engine_with(uint32_t max_clients, uint32_t idle_ms) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  if (max_clients) o.max_clients = max_clients;
  if (idle_ms) o.idle_timeout_ms = idle_ms;
  return it_engine(&o);
}

/* Pumps (advancing the virtual clock every 100 ms) until the watch ends. */
static void watch_until_done(bs_engine *e, watch *w) {
  pthread_t t;
  pthread_create(&t, NULL, watch_run, w);
  while (!atomic_load((_Atomic int *)&w->done)) it_pump_for(e, 20);
  pthread_join(t, NULL);
}

/* Bytes after the answer do not keep a connection: it closes within the
 * linger (here idle_timeout_ms, 300 ms) whatever the client sends. */
Test(insp_clients, a_client_is_closed_after_its_answer_whatever_it_sends, .timeout = 60) {
  bs_engine *e = engine_with(0, 300);
  static watch w;
  memset(&w, 0, sizeof w);
  w = (watch){.port = it_port(e), .n = 4, .ms = 3000,
              .req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"};
  watch_until_done(e, &w);
  for (int i = 0; i < w.n; i++) {
    cr_assert(!strncmp(w.got[i], "HTTP/1.1 200", 12), "client %d: %.40s", i, w.got[i]);
    cr_assert_geq(w.closed_after[i], 0, "client %d kept open by its trickle", i);
    cr_assert_lt(w.closed_after[i], 1500, "client %d closed after %d ms", i, w.closed_after[i]);
  }
  it_free(e);
}

/* Over max_clients: a 503 and closed at once, whatever the client sends,
 * so the cap bounds sockets; the server never holds more than the cap. */
Test(insp_clients, clients_over_the_cap_are_answered_503_and_closed_at_once, .timeout = 60) {
  bs_engine *e = engine_with(2, 0);
  int port = it_port(e);
  int a = it_connect(port, 2000), b = it_connect(port, 2000);
  cr_assert(a >= 0 && b >= 0);
  it_pump_for(e, 100);
  static watch w;
  memset(&w, 0, sizeof w);
  w = (watch){.port = port, .n = 40, .ms = 3000,
              .req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"};
  pthread_t t;
  pthread_create(&t, NULL, watch_run, &w);
  uint32_t most = 0;
  while (!atomic_load((_Atomic int *)&w.done)) {
    it_pump_for(e, 5);
    uint32_t n = bs__insp_server_clients(e->inspector->srv);
    if (n > most) most = n;
  }
  pthread_join(t, NULL);
  cr_assert_leq(most, 2, "%u clients held", most);
  for (int i = 0; i < w.n; i++) {
    cr_assert(!strncmp(w.got[i], "HTTP/1.1 503", 12), "client %d: %.40s", i, w.got[i]);
    cr_assert_geq(w.closed_after[i], 0, "client %d kept open", i);
    cr_assert_lt(w.closed_after[i], 1000, "client %d closed after %d ms", i, w.closed_after[i]);
  }
  close(a);
  close(b);
  it_free(e);
}

/* Slowloris: a request head must be complete within idle_timeout_ms of
 * connecting, however steadily its bytes trickle in; then the slots are
 * free again. */
Test(insp_clients, a_request_head_has_a_deadline, .timeout = 60) {
  bs_engine *e = engine_with(20, 300);
  static watch w;
  memset(&w, 0, sizeof w);
  w = (watch){.port = it_port(e), .n = 20, .ms = 3000,
              .req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "};
  watch_until_done(e, &w);
  for (int i = 0; i < w.n; i++) {
    cr_assert_geq(w.closed_after[i], 0, "client %d still holds its slot", i);
    cr_assert_lt(w.closed_after[i], 1500, "client %d closed after %d ms", i, w.closed_after[i]);
  }
  it_pump_for(e, 50);
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  it_resp_free(&r);
  it_free(e);
}

/* ---- Large responses ------------------------------------------------------------ */

static void many_streams(bs_engine *e, int n) {
  char id[48];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "stream-with-a-long-name-%06d", i);
    bs_stream_i64 s;
    cr_assert_eq(bs_get_stream(e, i64, id, &s), 0);
  }
  /* until a sweep that saw them all (several ticks with a small slice) */
  for (int i = 0; i < 1000 && e->inspector->current->nstreams < (size_t)n; i++)
    bs_test_advance(e, 1000);
  cr_assert_eq(e->inspector->current->nstreams, (size_t)n);
}

typedef struct slow {
  int port;
  char *buf;
  size_t len, cap;
  int done;
} slow;

/* Reads the head, stops reading for 2.5 s (a reader that is slow, not
 * gone: within the write deadline), then reads the rest through a small
 * receive buffer. */
static void *slow_run(void *arg) {
  slow *s = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 16384;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    (void)!send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
    for (;;) {
      if (s->len + 16384 + 1 > s->cap) s->buf = realloc(s->buf, s->cap = s->cap * 2 + 65536);
      ssize_t n = recv(fd, s->buf + s->len, 16384, 0);
      if (n <= 0) break;
      if (s->len == 0) usleep(2500000);
      s->len += (size_t)n;
    }
  }
  close(fd);
  if (!s->buf) s->buf = malloc(1);
  s->buf[s->len] = '\0';
  atomic_store((_Atomic int *)&s->done, 1);
  return NULL;
}

/* A 3 MB /metrics that the client reads only after 2.5 s arrives whole:
 * a client is closed only after its answer is written (and one that makes
 * no progress for idle_timeout_ms, 5 s here). */
Test(insp_clients, large_answers_reach_slow_readers_whole, .timeout = 60) {
  bs_engine *e = engine_with(0, 5000);
  many_streams(e, 40000);
  slow s = {.port = it_port(e)};
  pthread_t t;
  pthread_create(&t, NULL, slow_run, &s);
  while (!atomic_load((_Atomic int *)&s.done)) it_pump_for(e, 20);
  pthread_join(t, NULL);
  it_resp r = it_parse(s.buf, s.len);
  cr_assert_eq(r.status, 200);
  cr_assert_gt(r.body_len, 2000000, "only %zu bytes", r.body_len);
  cr_assert(r.complete, "truncated after %zu bytes", r.body_len);
  cr_assert(strstr(r.body, "\nbackstage_inspector_clients "), "the last family is missing");
  it_resp_free(&r);
  it_free(e);
}

/* A /metrics of many streams is written in slices (chunked), so building
 * it never stalls the loop; the document is the same. */
Test(insp_clients, large_metrics_are_built_in_slices, .timeout = 60) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  o.slice = 500;
  bs_engine *e = it_engine(&o);
  many_streams(e, 5000);
  it_resp r = it_get(e, "/metrics");
  cr_assert_eq(r.status, 200);
  cr_assert(r.complete);
  cr_assert_geq(r.chunks, 10, "%d chunks", r.chunks);
  cr_assert_leq(r.max_chunk, 500 * 200, "a chunk of %zu bytes", r.max_chunk);
  cr_assert(strstr(r.body, "backstage_stream_subscribers{stream=\"stream-with-a-long-name-004999\"} 0\n"));
  cr_assert(strstr(r.body, "\nbackstage_inspector_clients "));
  it_resp_free(&r);
  it_free(e);
}

/* ---- Answers come from the sampler's snapshot ----------------------------------- */

/* Actors appearing after the last completed sweep are not in the table
 * until the next one: requests never walk the registry themselves. */
Test(insp_clients, snapshots_are_answered_from_the_last_sweep) {
  bs_engine *e = it_engine_http();
  it_send(e, &insp_worker_type, "before", 3);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  it_send(e, &insp_worker_type, "before", 5);
  it_send(e, &insp_worker_type, "after", 1);
  bs_test_run(e, 0);
  cJSON *j = it_json(e, "/api/snapshot?sort=id");
  const cJSON *a = cJSON_GetObjectItem(j, "actors");
  cr_assert_eq(cJSON_GetObjectItem(a, "total")->valuedouble, 1);
  const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "items"), 0);
  cr_assert_str_eq(cJSON_GetObjectItem(row, "id")->valuestring, "before");
  cr_assert_eq(cJSON_GetObjectItem(row, "processed")->valuedouble, 3);
  cJSON_Delete(j);
  bs_test_advance(e, 1000);
  j = it_json(e, "/api/snapshot?sort=id");
  a = cJSON_GetObjectItem(j, "actors");
  cr_assert_eq(cJSON_GetObjectItem(a, "total")->valuedouble, 2);
  cJSON_Delete(j);
  /* the one live read: an actor's detail */
  j = it_json(e, "/api/actor?id=before");
  cr_assert_eq(cJSON_GetObjectItem(j, "processed")->valuedouble, 8);
  cJSON_Delete(j);
  it_free(e);
}
