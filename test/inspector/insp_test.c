/* Helpers for the inspector's Criterion tests (see insp_test.h). */
#include "insp_test.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

bs_engine *it_engine(const bs_inspector_options *o) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.virtual_time = true;
  bs_engine *e = NULL;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  int rc = bs_inspector_start(e, o);
  cr_assert_eq(rc, 0, "bs_inspector_start: %s", bs_strerror(rc));
  return e;
}

bs_engine *it_engine_http(void) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.addr = "127.0.0.1:0";
  return it_engine(&o);
}

void it_free(bs_engine *e) { bs_engine_free(e); }

int it_port(bs_engine *e) {
  char url[128];
  cr_assert_gt(bs_inspector_url(e, url, sizeof url), 0);
  const char *colon = strrchr(url, ':');
  cr_assert(colon);
  return atoi(colon + 1);
}

void it_pump(bs_engine *e) { bs_engine_run(e, BS_RUN_NOWAIT); }

uint64_t it_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void it_pump_until(bs_engine *e, volatile int *flag) {
  uint64_t deadline = it_now_ms() + 10000;
  while (!atomic_load((_Atomic int *)flag)) {
    cr_assert_lt(it_now_ms(), deadline, "timed out waiting for the client");
    bs_engine_run(e, BS_RUN_NOWAIT);
    usleep(1000);
  }
  bs_engine_run(e, BS_RUN_NOWAIT);
}

void it_pump_for(bs_engine *e, int ms) {
  static uint64_t next; /* across calls: short ones advance the clock too */
  uint64_t end = it_now_ms() + (uint64_t)ms;
  if (!next) next = it_now_ms() + 100;
  while (it_now_ms() < end) {
    bs_engine_run(e, BS_RUN_NOWAIT);
    if (it_now_ms() >= next) {
      bs_test_advance(e, 1000);
      next += 100;
    }
    usleep(1000);
  }
}

int it_connect(int port, int timeout_ms) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

typedef struct job {
  int port;
  const char *req;
  size_t len;
  char *out;
  size_t out_len;
  int done;
} job;

static void *client(void *arg) {
  job *j = arg;
  size_t cap = 1 << 16;
  j->out = malloc(cap + 1);
  j->out_len = 0;
  int fd = it_connect(j->port, 5000);
  if (fd >= 0) {
    ssize_t w = send(fd, j->req, j->len, MSG_NOSIGNAL);
    (void)w;
    for (;;) {
      if (j->out_len == cap) {
        cap *= 2;
        j->out = realloc(j->out, cap + 1);
      }
      ssize_t n = recv(fd, j->out + j->out_len, cap - j->out_len, 0);
      if (n <= 0) break;
      j->out_len += (size_t)n;
    }
    close(fd);
  }
  j->out[j->out_len] = '\0';
  atomic_store((_Atomic int *)&j->done, 1);
  return NULL;
}

/* A chunked body, decoded in place over [p, end); -1 if malformed. */
static long dechunk(it_resp *r, char *p, char *end) {
  char *out = p;
  for (;;) {
    char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!nl) return -1;
    size_t n = strtoul(p, NULL, 16);
    p = nl + 2;
    if (n == 0) {
      r->complete = true;
      return out - r->body;
    }
    if ((size_t)(end - p) < n + 2) return -1;
    memmove(out, p, n);
    out += n;
    p += n + 2;
    r->chunks++;
    if (n > r->max_chunk) r->max_chunk = n;
  }
}

it_resp it_parse(char *raw, size_t len) {
  it_resp r = {0};
  r.raw = raw;
  r.len = len;
  int major, minor;
  if (sscanf(r.raw, "HTTP/%d.%d %d", &major, &minor, &r.status) != 3) r.status = 0;
  char *b = strstr(r.raw, "\r\n\r\n");
  r.body = b ? b + 4 : r.raw + r.len;
  r.body_len = (size_t)(r.raw + r.len - r.body);
  char v[64];
  if (it_header(&r, "Transfer-Encoding", v, sizeof v) && !strcmp(v, "chunked")) {
    long n = dechunk(&r, (char *)r.body, r.raw + r.len);
    r.body_len = n < 0 ? 0 : (size_t)n;
    ((char *)r.body)[r.body_len] = '\0';
  } else if (it_header(&r, "Content-Length", v, sizeof v)) {
    r.complete = b && (size_t)atol(v) == r.body_len;
  }
  return r;
}

it_resp it_raw(bs_engine *e, const char *request, size_t len) {
  job j = {it_port(e), request, len, NULL, 0, 0};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, client, &j), 0);
  it_pump_until(e, &j.done);
  pthread_join(t, NULL);
  return it_parse(j.out, j.out_len);
}

it_resp it_get(bs_engine *e, const char *path) {
  char req[4096];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
  return it_raw(e, req, (size_t)n);
}

it_resp it_post(bs_engine *e, const char *path) {
  char req[4096];
  int n = snprintf(req, sizeof req,
                   "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", path);
  return it_raw(e, req, (size_t)n);
}

void it_resp_free(it_resp *r) {
  free(r->raw);
  r->raw = NULL;
}

bool it_header(const it_resp *r, const char *name, char *out, size_t cap) {
  size_t n = strlen(name);
  for (const char *p = strstr(r->raw, "\r\n"); p && p < r->body; p = strstr(p + 2, "\r\n")) {
    const char *line = p + 2;
    if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ') v++;
      size_t l = strcspn(v, "\r\n");
      snprintf(out, cap, "%.*s", (int)l, v);
      return true;
    }
  }
  return false;
}

cJSON *it_json(bs_engine *e, const char *path) {
  it_resp r = it_get(e, path);
  cr_assert_eq(r.status, 200, "GET %s: %d\n%s", path, r.status, r.raw);
  char ct[128];
  cr_assert(it_header(&r, "Content-Type", ct, sizeof ct));
  cr_assert_str_eq(ct, "application/json");
  cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
  cr_assert(j, "GET %s: not JSON:\n%s", path, r.body);
  it_resp_free(&r);
  return j;
}

void it_send(bs_engine *e, const bs_actor_type *type, const char *id, int n) {
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, type, id, &r), 0);
  for (int i = 0; i < n; i++) cr_assert_eq(insp_work(r, i), 0);
}

bool it_utf8_valid(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (!len || i + len > n) return false;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (len > 1 && (p[i + 1] < lo || p[i + 1] > hi)) return false;
    for (size_t k = 2; k < len; k++)
      if ((p[i + k] & 0xc0) != 0x80) return false;
    i += len;
  }
  return true;
}
