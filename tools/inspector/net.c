/* Blocking HTTP GET with poll() deadlines: one request per connection, as
 * the inspector's server answers ("Connection: close"). */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int fail(bsi_response *r, const char *what) {
  snprintf(r->err, sizeof r->err, "%s", what);
  return -1;
}

static int wait_fd(int fd, short ev, long deadline) {
  long left = deadline - now_ms();
  if (left <= 0) return -1;
  struct pollfd p = {fd, ev, 0};
  int n = poll(&p, 1, (int)left);
  return n == 1 ? 0 : -1;
}

static int connect_to(const char *host, const char *port, long deadline, bsi_response *r) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) return fail(r, "cannot resolve host");
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    freeaddrinfo(ai);
    return fail(r, "socket failed");
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  freeaddrinfo(ai);
  int err = 0;
  socklen_t elen = sizeof err;
  if (rc < 0 && (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0 ||
                 getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)) {
    close(fd);
    return fail(r, err ? strerror(err) : "connection failed");
  }
  return fd;
}

static int send_all(int fd, const char *p, size_t n, long deadline) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, deadline) < 0) return -1;
      continue;
    }
    if (w <= 0) return -1;
    p += w, n -= (size_t)w;
  }
  return 0;
}

static int recv_all(int fd, char **buf, size_t *len, size_t max, long deadline) {
  size_t cap = 16384;
  *buf = malloc(cap + 1);
  *len = 0;
  if (!*buf) return -1;
  for (;;) {
    if (*len == cap) {
      if (cap >= max) return -1;
      char *nb = realloc(*buf, cap * 2 + 1);
      if (!nb) return -1;
      *buf = nb, cap *= 2;
    }
    ssize_t n = recv(fd, *buf + *len, cap - *len, 0);
    if (n == 0) break;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLIN, deadline) < 0) return -1;
      continue;
    }
    if (n < 0) return -1;
    *len += (size_t)n;
  }
  (*buf)[*len] = '\0';
  return 0;
}

/* Status line and head; the body starts after the blank line. */
static int split(bsi_response *r, char *raw, size_t n) {
  int major, minor, status;
  if (sscanf(raw, "HTTP/%d.%d %d", &major, &minor, &status) != 3) return fail(r, "not HTTP");
  char *body = strstr(raw, "\r\n\r\n");
  if (!body) return fail(r, "truncated response");
  body += 4;
  r->status = status;
  r->len = n - (size_t)(body - raw);
  r->body = malloc(r->len + 1);
  if (!r->body) return fail(r, "out of memory");
  memcpy(r->body, body, r->len);
  r->body[r->len] = '\0';
  return 0;
}

int bsi_get(const char *host, const char *port, const char *path, const char *token,
            int timeout_ms, size_t max_body, bsi_response *out) {
  memset(out, 0, sizeof *out);
  long deadline = now_ms() + timeout_ms;
  int fd = connect_to(host, port, deadline, out);
  if (fd < 0) return -1;
  char req[4096];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: backstage-inspector\r\n"
                   "Connection: close\r\n%s%s%s\r\n",
                   path, host, port, token ? "Authorization: Bearer " : "", token ? token : "",
                   token ? "\r\n" : "");
  char *raw = NULL;
  size_t len = 0;
  int rc = -1;
  if (n <= 0 || (size_t)n >= sizeof req) fail(out, "request too long");
  else if (send_all(fd, req, (size_t)n, deadline) < 0) fail(out, "send failed");
  else if (recv_all(fd, &raw, &len, max_body, deadline) < 0) fail(out, "timed out or too large");
  else rc = split(out, raw, len);
  free(raw);
  close(fd);
  return rc;
}

void bsi_response_free(bsi_response *r) {
  free(r->body);
  r->body = NULL;
}
