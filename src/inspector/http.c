/* The inspector's HTTP/1.1 server on the engine's loop: accept, parse with
 * http-parser under hard limits, answer once (serve.c paces the answers),
 * close. Everything runs on the loop thread, so there are no locks;
 * nothing here blocks, and none of its handles keeps the loop alive.
 *
 * Limits: request heads over 8 KiB are refused with 431, URLs over 2 KiB
 * with 414, bodies over 8 KiB with 413, malformed requests with 400; at
 * most max_clients connections are served (others get 503 and are closed
 * at once). Deadlines (http.h): a request must be complete idle_timeout_ms
 * after connecting; an answer must keep being written (no idle_timeout_ms
 * without progress); after it, the server shuts down its side and discards
 * input until the peer closes, at most BS__INSP_LINGER_MS, so an error
 * reply is not lost to a TCP reset. Input never extends a deadline. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

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
  free(c);
  server_release(s);
}

void bs__insp_client_close(bs__insp_client *c) {
  if (c->closing) return;
  bs__insp_server *s = c->srv;
  c->closing = true;
  bs__insp_unqueue(c);
  bs__insp_job_free(c);
  if (c->prev) c->prev->next = c->next; else s->clients = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nclients--;
  uv_close((uv_handle_t *)&c->tcp, client_closed);
}

/* ---- Writing -------------------------------------------------------------------------- */

/* One write of up to four shared pieces, each referenced until written. */
typedef struct wreq {
  uv_write_t req;
  int n;
  bs__insp_buf *parts[4];
} wreq;

size_t bs__insp_unsent(bs__insp_client *c) {
  return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

static void written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  bs__insp_client *c = req->handle->data;
  for (int i = 0; i < w->n; i++) bs__insp_buf_unref(w->parts[i]);
  free(w);
  if (c->closing) return;
  if (status < 0) {
    bs__insp_client_close(c);
  } else if (c->blocked && bs__insp_unsent(c) < BS__INSP_WRITE_LOW) {
    c->blocked = false; /* a streamed answer may go on */
    bs__insp_queue(c);
  }
}

static int write_parts(bs__insp_client *c, bs__insp_buf **parts, int n) {
  wreq *w = n <= 4 ? malloc(sizeof *w) : NULL;
  if (!w) return BS_ENOMEM;
  uv_buf_t bufs[4] = {{0}};
  w->n = n;
  for (int i = 0; i < n; i++) {
    w->parts[i] = bs__insp_buf_ref(parts[i]);
    bufs[i] = uv_buf_init(parts[i]->p, (unsigned)parts[i]->len);
  }
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, (unsigned)n, written) < 0) {
    for (int i = 0; i < n; i++) bs__insp_buf_unref(w->parts[i]);
    free(w);
    return BS_EUV;
  }
  return 0;
}

/* Writes b (taken) as one piece. */
static int write_sb(bs__insp_client *c, bs__sb *b) {
  bs__insp_buf *buf = bs__insp_buf_take(b);
  int rc = buf ? write_parts(c, &buf, 1) : BS_ENOMEM;
  bs__insp_buf_unref(buf);
  return rc;
}

static uint64_t linger_ms(const bs__insp_server *s) {
  uint32_t idle = s->in ? s->in->o.idle_timeout_ms : 0;
  return idle && idle < BS__INSP_LINGER_MS ? idle : BS__INSP_LINGER_MS;
}

/* Everything is written (the shutdown completes after the writes). */
static void shut_done(uv_shutdown_t *req, int status) {
  bs__insp_client *c = req->handle->data;
  if (c->closing) return;
  if (status < 0) {
    bs__insp_client_close(c);
    return;
  }
  c->state = BS__C_LINGER;
  c->deadline = uv_now(c->srv->loop) + linger_ms(c->srv);
}

/* The answer is queued: close once it is written. */
static void finish(bs__insp_client *c, int rc) {
  c->state = BS__C_WRITING;
  c->progress_at = uv_now(c->srv->loop);
  if (rc < 0 || uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, shut_done) < 0)
    bs__insp_client_close(c);
}

static void head(bs__sb *b, int status, const char *ctype, const char *headers) {
  bs__sb_printf(b,
                "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
                "X-Content-Type-Options: nosniff\r\nConnection: close\r\n%s",
                status, reason(status), ctype, headers ? headers : "");
}

void bs__insp_respond(bs__insp_client *c, int status, const char *ctype,
                      const char *headers, const char *body, size_t len) {
  bs__sb b = {0};
  head(&b, status, ctype, headers);
  bs__sb_printf(&b, "Content-Length: %zu\r\n\r\n", len);
  bs__sb_put(&b, body, len);
  finish(c, write_sb(c, &b));
}

void bs__insp_respond_error(bs__insp_client *c, int status, const char *msg) {
  bs__sb b = {0};
  bs__sb_puts(&b, "{\"error\":");
  bs__sb_json_str(&b, msg, strlen(msg));
  bs__sb_printf(&b, ",\"status\":%d}\n", status);
  const char *extra = status == 401 ? "WWW-Authenticate: Bearer realm=\"backstage\"\r\n" : NULL;
  bs__insp_respond(c, status, "application/json", extra, b.oom ? "" : b.p, b.oom ? 0 : b.len);
  bs__sb_free(&b);
}

void bs__insp_respond_parts(bs__insp_client *c, const char *ctype, bs__insp_buf **parts,
                            int n) {
  size_t len = 0;
  for (int i = 0; i < n; i++) len += parts[i]->len;
  bs__sb b = {0};
  head(&b, 200, ctype, NULL);
  bs__sb_printf(&b, "Content-Length: %zu\r\n\r\n", len);
  bs__insp_buf *all[4] = {bs__insp_buf_take(&b)};
  int rc = BS_ENOMEM;
  if (all[0] && n <= 3) {
    memcpy(all + 1, parts, (size_t)n * sizeof *parts);
    rc = write_parts(c, all, n + 1);
  }
  bs__insp_buf_unref(all[0]);
  finish(c, rc);
}

int bs__insp_chunked_begin(bs__insp_client *c, const char *ctype) {
  bs__sb b = {0};
  head(&b, 200, ctype, "Transfer-Encoding: chunked\r\n");
  bs__sb_puts(&b, "\r\n");
  int rc = write_sb(c, &b);
  if (rc < 0) bs__insp_client_close(c);
  c->progress_at = uv_now(c->srv->loop);
  return rc;
}

int bs__insp_chunk(bs__insp_client *c, bs__sb *data) {
  if (data->oom) {
    bs__sb_free(data);
    bs__insp_client_close(c);
    return BS_ENOMEM;
  }
  if (data->len == 0) return 0; /* a zero-length chunk would end the body */
  bs__sb b = {0};
  bs__sb_printf(&b, "%zx\r\n", data->len);
  bs__sb_put(&b, data->p, data->len);
  bs__sb_puts(&b, "\r\n");
  bs__sb_free(data);
  int rc = write_sb(c, &b);
  if (rc < 0) bs__insp_client_close(c);
  return rc;
}

void bs__insp_chunked_end(bs__insp_client *c) {
  bs__sb b = {0};
  bs__sb_puts(&b, "0\r\n\r\n");
  finish(c, write_sb(c, &b));
}

/* ---- Server-Sent Events ------------------------------------------------------------ */

/* One update for every subscriber: the snapshot document without actors. */
static bs__insp_buf *sse_update(bs__inspector *in) {
  bs__insp_buf *summary = bs__insp_summary(in);
  bs__sb b = {0};
  bs__sb_puts(&b, "event: update\ndata: ");
  bs__insp_render_head(&b, in);
  if (summary) bs__sb_put(&b, summary->p, summary->len);
  bs__sb_puts(&b, "\"actors\":null}\n\n");
  bs__insp_buf_unref(summary);
  return summary ? bs__insp_buf_take(&b) : (bs__sb_free(&b), NULL);
}

void bs__insp_sse_begin(bs__insp_client *c) {
  static const char head_text[] =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
      "Connection: keep-alive\r\n\r\nretry: 2000\n\n";
  bs__sb b = {0};
  bs__sb_put(&b, head_text, sizeof head_text - 1);
  bs__insp_buf *parts[2] = {bs__insp_buf_take(&b), sse_update(c->srv->in)};
  c->state = BS__C_SSE;
  c->progress_at = uv_now(c->srv->loop);
  if (!parts[0] || !parts[1] || write_parts(c, parts, 2) < 0) bs__insp_client_close(c);
  bs__insp_buf_unref(parts[0]);
  bs__insp_buf_unref(parts[1]);
}

void bs__insp_server_tick(bs__inspector *in) {
  bs__insp_server *s = in->srv;
  bs__insp_buf *u = NULL;
  for (bs__insp_client *c = s->clients, *next; c; c = next) {
    next = c->next;
    if (c->state != BS__C_SSE) continue;
    if (bs__insp_unsent(c) > BS__INSP_SSE_BACKLOG) {
      bs__insp_client_close(c); /* not reading: do not buffer for it forever */
      continue;
    }
    if (!u && !(u = sse_update(in))) return;
    if (write_parts(c, &u, 1) < 0) bs__insp_client_close(c);
  }
  bs__insp_buf_unref(u);
}

uint32_t bs__insp_server_clients(const bs__insp_server *s) { return s->nclients; }

uv_handle_t *bs__insp_server_handle(bs__insp_server *s) {
  return s->listener_init ? (uv_handle_t *)&s->listener : NULL;
}

/* ---- Deadlines -------------------------------------------------------------------- */

/* True when c's answer stopped being written for idle_ms: unsent bytes
 * that have not gone down since. */
static bool stalled(bs__insp_client *c, uint64_t now, uint32_t idle_ms) {
  size_t unsent = bs__insp_unsent(c);
  if (unsent == 0 || unsent < c->unsent) c->progress_at = now;
  c->unsent = unsent;
  return unsent > 0 && now - c->progress_at > idle_ms;
}

static void reap_cb(uv_timer_t *t) {
  bs__insp_server *s = t->data;
  if (!s->in) return;
  uint64_t now = uv_now(s->loop);
  uint32_t idle = s->in->o.idle_timeout_ms;
  for (bs__insp_client *c = s->clients, *next; c; c = next) {
    next = c->next;
    bool late = (c->state == BS__C_READING || c->state == BS__C_LINGER) && now >= c->deadline;
    if (late || stalled(c, now, idle)) bs__insp_client_close(c);
  }
  if (!s->clients) uv_timer_stop(&s->reap);
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
  c->state = BS__C_ANSWERING;
  bs__insp_queue(c);       /* answered in turn (serve.c) */
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
  if (c->state != BS__C_READING || c->closing) return;
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
    bs__insp_client_close(c); /* EOF or error; an SSE client that went away too */
    return;
  }
  if (nread == 0 || c->state == BS__C_LINGER) return; /* lingering: discard */
  if (c->state == BS__C_READING) {
    parse(c, buf->base, (size_t)nread);
    return;
  }
  /* after the request: nothing is expected, and only so much is put up with */
  c->extra_bytes += (size_t)nread;
  if (c->extra_bytes > BS__INSP_HEAD_MAX) bs__insp_client_close(c);
}

/* ---- Accepting ---------------------------------------------------------------------- */

typedef struct refused {
  uv_tcp_t tcp;
  bs__insp_server *srv;
} refused;

static void refused_closed(uv_handle_t *h) {
  refused *r = h->data;
  server_release(r->srv);
  free(r);
}

/* Over max_clients: the 503 is written if the socket takes it at once, our
 * side shut down, what the client already sent read away (closing over
 * unread input would reset the connection and lose the 503), then closed.
 * Nothing stays behind, whatever the client does next. */
static void refuse(bs__insp_server *s, uv_stream_t *listener) {
  static const char resp[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                             "Content-Length: 42\r\nConnection: close\r\n\r\n"
                             "{\"error\":\"too many clients\",\"status\":503}\n";
  refused *r = malloc(sizeof *r);
  if (!r || uv_tcp_init(s->loop, &r->tcp) < 0) {
    free(r);
    return; /* libuv tries the accept again on the next iteration */
  }
  r->srv = s;
  r->tcp.data = r;
  s->open++;
  uv_os_fd_t fd;
  if (uv_accept(listener, (uv_stream_t *)&r->tcp) == 0 && uv_fileno((uv_handle_t *)&r->tcp, &fd) == 0) {
    uv_buf_t b = uv_buf_init((char *)resp, sizeof resp - 1);
    uv_try_write((uv_stream_t *)&r->tcp, &b, 1);
    shutdown(fd, SHUT_WR);
    char sink[1024];
    for (int i = 0; i < 8 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++) {}
  }
  uv_close((uv_handle_t *)&r->tcp, refused_closed);
}

static void on_connection(uv_stream_t *listener, int status) {
  bs__insp_server *s = listener->data;
  if (status < 0 || !s->in) return;
  if (s->nclients >= s->in->o.max_clients) {
    refuse(s, listener);
    return;
  }
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
  c->state = BS__C_READING;
  c->deadline = uv_now(s->loop) + s->in->o.idle_timeout_ms;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  if (!uv_is_active((uv_handle_t *)&s->reap))
    uv_timer_start(&s->reap, reap_cb, BS__INSP_REAP_MS, BS__INSP_REAP_MS);
  if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) < 0)
    bs__insp_client_close(c);
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
  if (bs__insp_serve_init(s) < 0) return BS_EUV;
  uv_timer_init(s->loop, &s->reap); /* cannot fail */
  s->open++;
  s->timers_init = true;
  s->reap.data = s;
  uv_unref((uv_handle_t *)&s->reap);
  if (uv_tcp_bind(&s->listener, sa, 0) < 0) return BS_EUV;
  if (uv_listen((uv_stream_t *)&s->listener, 128, on_connection) < 0) return BS_EUV;
  /* Neither the socket nor its timers keep BS_RUN_UNTIL_DONE running: the
   * inspector observes the program, it does not extend it. */
  uv_unref((uv_handle_t *)&s->listener);
  set_url(s);
  return 0;
}

static void server_close(bs__insp_server *s) {
  s->in = NULL;
  while (s->clients) bs__insp_client_close(s->clients);
  s->open++; /* holds the block until every close below has been issued */
  if (s->listener_init) uv_close((uv_handle_t *)&s->listener, handle_closed);
  if (s->timers_init) uv_close((uv_handle_t *)&s->reap, handle_closed);
  bs__insp_serve_close(s, handle_closed);
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
  s->loop = bs_engine_loop(in->e);
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
