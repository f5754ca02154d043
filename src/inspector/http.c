/* The inspector's HTTP/1.1 server on the engine's loop: accept, parse with
 * http-parser under hard limits, answer once, close. Everything runs on the
 * loop thread, so there are no locks; nothing here blocks.
 *
 * Limits: request heads over 8 KiB are refused with 431, URLs over 2 KiB
 * with 414, bodies over 8 KiB with 413, malformed requests with 400; at
 * most max_clients connections are served (others get 503); a client that
 * says nothing for idle_timeout_ms is closed, and so is an event-stream
 * client that stops reading (1 MiB unsent). After a response the server
 * shuts down its side and discards input until the peer closes (at most
 * BS__INSP_LINGER_MS), so an error reply is not lost to a TCP reset. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "inspector/http.h"

static const char *reason(int status) {
  switch (status) {
  case 200: return "OK";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return "Error";
  }
}

/* ---- Closing ------------------------------------------------------------------------ */

static void server_release(bs__insp_server *s) {
  if (--s->open == 0) free(s);
}

static void client_closed(uv_handle_t *h) {
  bs__insp_client *c = h->data;
  bs__insp_server *s = c->srv;
  if (c->query) {
    bs__insp_query_free(c->query);
    free(c->query);
  }
  free(c);
  server_release(s);
}

static void unqueue(bs__insp_server *s, bs__insp_client *c) {
  bs__insp_client **pp = &s->qhead, *prev = NULL;
  while (*pp && *pp != c) prev = *pp, pp = &(*pp)->qnext;
  if (!*pp) return;
  *pp = c->qnext;
  if (s->qtail == c) s->qtail = prev;
}

static void client_close(bs__insp_client *c) {
  if (c->closing) return;
  bs__insp_server *s = c->srv;
  c->closing = true;
  if (c->query) unqueue(s, c);
  if (c->prev) c->prev->next = c->next; else s->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nclients--;
  uv_close((uv_handle_t *)&c->tcp, client_closed);
}

/* ---- Writing -------------------------------------------------------------------------- */

/* A reference-counted buffer: one SSE update is written to every
 * subscriber from the same memory. */
typedef struct shared_buf {
  uint32_t refs;
  size_t len;
  char data[];
} shared_buf;

static void written(uv_write_t *req, int status) {
  shared_buf *b = req->data;
  bs__insp_client *c = req->handle->data;
  if (--b->refs == 0) free(b);
  free(req);
  if (status < 0 && status != UV_ECANCELED) client_close(c);
}

static int write_shared(bs__insp_client *c, shared_buf *b) {
  uv_write_t *req = malloc(sizeof *req);
  if (!req) return BS_ENOMEM;
  req->data = b;
  b->refs++;
  uv_buf_t buf = uv_buf_init(b->data, (unsigned)b->len);
  if (uv_write(req, (uv_stream_t *)&c->tcp, &buf, 1, written) < 0) {
    b->refs--;
    free(req);
    return BS_EUV;
  }
  return 0;
}

static shared_buf *shared_new(const char *head, size_t hlen, const char *body,
                              size_t blen) {
  shared_buf *b = malloc(sizeof *b + hlen + blen);
  if (!b) return NULL;
  b->refs = 0;
  b->len = hlen + blen;
  memcpy(b->data, head, hlen);
  if (blen) memcpy(b->data + hlen, body, blen);
  return b;
}

static void shut_done(uv_shutdown_t *req, int status) {
  (void)req;
  (void)status; /* the client closes on EOF, or the reaper does */
}

void bs__insp_respond(bs__insp_client *c, int status, const char *ctype,
                      const char *headers, const char *body, size_t len) {
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                   "Connection: close\r\n%s\r\n",
                   status, reason(status), ctype, len, headers ? headers : "");
  c->done = true;
  c->last_io = uv_now(c->srv->loop);
  shared_buf *b = n > 0 && (size_t)n < sizeof head ? shared_new(head, (size_t)n, body, len) : NULL;
  if (!b || write_shared(c, b) < 0) {
    free(b);
    client_close(c);
    return;
  }
  if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, shut_done) < 0) client_close(c);
}

void bs__insp_respond_error(bs__insp_client *c, int status, const char *msg) {
  bs__sb b = {0};
  bs__sb_puts(&b, "{\"error\":");
  bs__sb_json_str(&b, msg, strlen(msg));
  bs__sb_printf(&b, ",\"status\":%d}\n", status);
  const char *extra = status == 401 ? "WWW-Authenticate: Bearer realm=\"backstage\"\r\n" : NULL;
  bs__insp_respond(c, status, "application/json", extra, b.oom ? "" : b.p,
                   b.oom ? 0 : b.len);
  bs__sb_free(&b);
}

/* ---- Server-Sent Events ------------------------------------------------------------ */

static shared_buf *sse_update(bs__inspector *in) {
  bs__sb b = {0};
  bs__sb_puts(&b, "event: update\ndata: ");
  bs__insp_render_summary(&b, in);
  bs__sb_puts(&b, "\n\n");
  shared_buf *s = b.oom ? NULL : shared_new(b.p, b.len, NULL, 0);
  bs__sb_free(&b);
  return s;
}

void bs__insp_sse_begin(bs__insp_client *c) {
  static const char head[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
      "Connection: keep-alive\r\n\r\nretry: 2000\n\n";
  c->done = true;
  c->sse = true;
  shared_buf *h = shared_new(head, sizeof head - 1, NULL, 0);
  shared_buf *u = sse_update(c->srv->in);
  if (!h || !u || write_shared(c, h) < 0 || write_shared(c, u) < 0) client_close(c);
  if (h && h->refs == 0) free(h);
  if (u && u->refs == 0) free(u);
}

static void push_updates(bs__insp_server *s) {
  shared_buf *u = NULL;
  for (bs__insp_client *c = s->clients, *next; c; c = next) {
    next = c->next;
    if (!c->sse) continue;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > BS__INSP_SSE_BACKLOG) {
      client_close(c); /* not reading: do not buffer for it forever */
      continue;
    }
    if (!u && !(u = sse_update(s->in))) return;
    if (write_shared(c, u) < 0) client_close(c);
  }
  if (u && u->refs == 0) free(u);
}

static void reap_idle(bs__insp_server *s, uint32_t idle_ms) {
  uint64_t now = uv_now(s->loop);
  for (bs__insp_client *c = s->clients, *next; c; c = next) {
    next = c->next;
    uint64_t limit = c->done ? BS__INSP_LINGER_MS : idle_ms;
    if (!c->sse && !c->query && now - c->last_io > limit) client_close(c);
  }
}

void bs__insp_server_tick(bs__inspector *in) {
  push_updates(in->srv);
  reap_idle(in->srv, in->o.idle_timeout_ms);
}

uint32_t bs__insp_server_clients(const bs__insp_server *s) { return s->nclients; }

uv_handle_t *bs__insp_server_handle(bs__insp_server *s) {
  return s->listener_init ? (uv_handle_t *)&s->listener : NULL;
}

/* ---- Parsing ---------------------------------------------------------------------- */

static bs__insp_client *client_of(http_parser *p) { return p->data; }

static int over(bs__insp_client *c, int status) {
  c->reject = status;
  return 1; /* stops the parser */
}

static int count_head(bs__insp_client *c, size_t n) {
  c->head_bytes += n;
  return c->head_bytes > BS__INSP_HEAD_MAX ? over(c, 431) : 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  bs__insp_client *c = client_of(p);
  if (count_head(c, n)) return 1;
  if (c->url_len + n > BS__INSP_URL_MAX) return over(c, 414);
  memcpy(c->url + c->url_len, at, n);
  c->url_len += n;
  c->url[c->url_len] = '\0';
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  bs__insp_client *c = client_of(p);
  if (count_head(c, n)) return 1;
  if (c->in_value) {
    c->in_value = false;
    c->field_len = 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (c->field_len < sizeof c->field)
      c->field[c->field_len] = (char)((at[i] >= 'A' && at[i] <= 'Z') ? at[i] + 32 : at[i]);
    c->field_len++;
  }
  return 0;
}

static int header_of(const bs__insp_client *c) {
  static const char *const names[BS__H_COUNT] = {"authorization", "host", "origin",
                                                  "sec-fetch-site"};
  for (int h = 0; h < BS__H_COUNT; h++)
    if (c->field_len == strlen(names[h]) && !memcmp(c->field, names[h], c->field_len)) return h;
  return BS__H_NONE;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  bs__insp_client *c = client_of(p);
  if (count_head(c, n)) return 1;
  if (!c->in_value) {
    c->in_value = true;
    c->field_hdr = header_of(c);
    if (c->field_hdr == BS__H_NONE) return 0;
    c->hdr[c->field_hdr].seen++;
    c->hdr[c->field_hdr].len = 0; /* the last one wins (Host: twice is refused) */
  }
  if (c->field_hdr == BS__H_NONE) return 0;
  bs__insp_hdr *h = &c->hdr[c->field_hdr];
  size_t room = BS__INSP_HDR_MAX - h->len;
  memcpy(h->v + h->len, at, n < room ? n : room);
  h->len = (uint16_t)(h->len + (n < room ? n : room));
  h->v[h->len] = '\0';
  return 0;
}

static int on_headers_complete(http_parser *p) {
  bs__insp_client *c = client_of(p);
  if (p->content_length != ULLONG_MAX && p->content_length > BS__INSP_BODY_MAX) {
    over(c, 413);
    return -1; /* 1 would mean "no body" to http-parser, not an error */
  }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  (void)at;
  bs__insp_client *c = client_of(p);
  c->body_bytes += n;
  return c->body_bytes > BS__INSP_BODY_MAX ? over(c, 413) : 0;
}

static int on_message_complete(http_parser *p) {
  bs__insp_client *c = client_of(p);
  http_parser_pause(p, 1); /* one request per connection */
  c->done = true;          /* input from now on is ignored */
  bs__insp_route(c);
  return 0;
}

static const http_parser_settings settings = {
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- Reading ------------------------------------------------------------------------ */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  bs__insp_client *c = h->data;
  *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static void parse(bs__insp_client *c, const char *data, size_t n) {
  size_t used = http_parser_execute(&c->parser, &settings, data, n);
  if (c->done || c->closing) return;
  enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
  if (c->reject) {
    bs__insp_respond_error(c, c->reject, reason(c->reject));
  } else if (err == HPE_HEADER_OVERFLOW) {
    bs__insp_respond_error(c, 431, reason(431));
  } else if (err != HPE_OK || used != n) {
    bs__insp_respond_error(c, 400, http_errno_description(err));
  }
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  bs__insp_client *c = st->data;
  if (nread < 0) {
    client_close(c); /* EOF or error; an SSE client that went away too */
    return;
  }
  if (nread == 0) return;
  c->last_io = uv_now(c->srv->loop);
  if (c->done) return; /* lingering: discard */
  parse(c, buf->base, (size_t)nread);
}

/* ---- Accepting ---------------------------------------------------------------------- */

static void on_connection(uv_stream_t *listener, int status) {
  bs__insp_server *s = listener->data;
  if (status < 0 || !s->in) return;
  bs__insp_client *c = calloc(1, sizeof *c);
  if (!c) return;
  c->srv = s;
  if (uv_tcp_init(s->loop, &c->tcp) < 0) {
    free(c);
    return;
  }
  s->open++;
  uv_unref((uv_handle_t *)&c->tcp); /* the inspector never holds the loop */
  c->tcp.data = c;
  c->next = s->clients;
  if (s->clients) s->clients->prev = c;
  s->clients = c;
  s->nclients++;
  c->last_io = uv_now(s->loop);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) < 0) {
    client_close(c);
    return;
  }
  if (s->nclients > s->in->o.max_clients) bs__insp_respond_error(c, 503, "too many clients");
}

/* ---- Deferred snapshots ------------------------------------------------------------ */

static void work_cb(uv_idle_t *h) {
  bs__insp_server *s = h->data;
  bs__insp_client *c = s->qhead;
  if (c && s->in && bs__insp_query_step(c->query, s->in->e, s->in->o.slice)) {
    s->qhead = c->qnext;
    if (!s->qhead) s->qtail = NULL;
    bs__insp_finish_snapshot(c);
  }
  if (!s->qhead) uv_idle_stop(&s->work);
}

void bs__insp_defer(bs__insp_client *c, bs__insp_query *qr) {
  bs__insp_server *s = c->srv;
  c->query = qr;
  c->qnext = NULL;
  if (s->qtail) s->qtail->qnext = c; else s->qhead = c;
  s->qtail = c;
  uv_idle_start(&s->work, work_cb);
}

/* ---- Server lifecycle ---------------------------------------------------------------- */

static bool is_loopback(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
  static const unsigned char lo[16] = {[15] = 1};
  return memcmp(&a6->sin6_addr, lo, 16) == 0;
}

/* "host:port", "[v6]:port" or "localhost:port"; numeric hosts only
 * otherwise (no name resolution on the loop). */
static int parse_addr(const char *addr, struct sockaddr_storage *out) {
  char host[64];
  const char *colon = strrchr(addr, ':');
  if (!colon || colon == addr || strlen(colon + 1) == 0 || strlen(colon + 1) > 5) return BS_EINVAL;
  size_t hlen = (size_t)(colon - addr);
  const char *h = addr;
  if (addr[0] == '[') {
    if (hlen < 3 || addr[hlen - 1] != ']') return BS_EINVAL;
    h++, hlen -= 2;
  }
  if (hlen >= sizeof host) return BS_EINVAL;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || port < 0 || port > 65535) return BS_EINVAL;
  if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0) return 0;
  if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0) return 0;
  return BS_EINVAL;
}

static void set_url(bs__insp_server *s) {
  struct sockaddr_storage ss;
  int len = sizeof ss;
  char ip[64] = "?";
  int port = 0;
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0) {
    if (ss.ss_family == AF_INET6) {
      uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
      uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
      port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
  }
  snprintf(s->url, sizeof s->url, ss.ss_family == AF_INET6 ? "http://[%s]:%d/" : "http://%s:%d/",
           ip, port);
}

static void handle_closed(uv_handle_t *h) { server_release(h->data); }

static int listen_on(bs__insp_server *s, const struct sockaddr *sa) {
  if (uv_tcp_init(s->loop, &s->listener) < 0) return BS_EUV;
  s->open++;
  s->listener_init = true;
  s->listener.data = s;
  if (uv_idle_init(s->loop, &s->work) < 0) return BS_EUV;
  s->open++;
  s->work_init = true;
  s->work.data = s;
  if (uv_tcp_bind(&s->listener, sa, 0) < 0) return BS_EUV;
  if (uv_listen((uv_stream_t *)&s->listener, 128, on_connection) < 0) return BS_EUV;
  /* Neither the socket nor the snapshot work keeps BS_RUN_UNTIL_DONE
   * running: the inspector observes the program, it does not extend it. */
  uv_unref((uv_handle_t *)&s->listener);
  uv_unref((uv_handle_t *)&s->work);
  set_url(s);
  return 0;
}

static void server_close(bs__insp_server *s) {
  s->in = NULL;
  while (s->clients) client_close(s->clients);
  s->open++; /* holds the block until every close below has been issued */
  if (s->listener_init) uv_close((uv_handle_t *)&s->listener, handle_closed);
  if (s->work_init) uv_close((uv_handle_t *)&s->work, handle_closed);
  server_release(s);
}

int bs__insp_server_start(bs__inspector *in) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  if (parse_addr(in->o.addr, &ss) < 0) return BS_EINVAL;
  bool remote = !is_loopback((struct sockaddr *)&ss);
  if (remote && !(in->o.allow_remote && in->token && in->token[0])) return BS_EINVAL;
  bs__insp_server *s = calloc(1, sizeof *s);
  if (!s) return BS_ENOMEM;
  s->in = in;
  s->loop = in->e->loop;
  in->srv = s;
  int rc = listen_on(s, (struct sockaddr *)&ss);
  if (rc < 0) bs__insp_server_stop(in);
  return rc;
}

void bs__insp_server_stop(bs__inspector *in) {
  bs__insp_server *s = in->srv;
  in->srv = NULL;
  if (s) server_close(s);
}

int bs__insp_server_url(const bs__insp_server *s, char *buf, size_t cap) {
  size_t n = strlen(s->url);
  if (!buf || n + 1 > cap) return BS_ETOOBIG;
  memcpy(buf, s->url, n + 1);
  return (int)n;
}
