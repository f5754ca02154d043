/* The endpoints (docs/inspector.md):
 *
 *   GET  /               the dashboard (embedded HTML)
 *   GET  /api/snapshot   totals, types, streams, dead letters, a page of actors
 *   GET  /api/actor      ?id=: one actor's counters, trace and state as JSON
 *   GET  /api/events     Server-Sent Events, one "update" per sample
 *   GET  /metrics        Prometheus text format 0.0.4
 *   POST /api/trace      ?id=&on=1|0: per-actor message tracing
 *
 * Before any of them: the Host must name this server (DNS rebinding), the
 * token must be right if one is set, and a request that changes state must
 * be a POST that no browser sent from another site (CSRF).
 */
#include <stdlib.h>

#include "inspector/http.h"

typedef void (*handler_fn)(bs__insp_client *c, const char *q, size_t qlen, size_t *budget);

#define JSON "application/json"
#define METRICS "text/plain; version=0.0.4; charset=utf-8"

static void send_sb(bs__insp_client *c, bs__sb *b, const char *ctype) {
  if (b->oom) bs__insp_respond_error(c, 500, "out of memory");
  else bs__insp_respond(c, 200, ctype, NULL, b->p, b->len);
  bs__sb_free(b);
}

static void dashboard(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  (void)q, (void)qlen, (void)budget;
  bs__insp_respond(c, 200, "text/html; charset=utf-8",
                   "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
                   "style-src 'unsafe-inline'; connect-src 'self'; img-src data:\r\n"
                   "X-Frame-Options: DENY\r\n",
                   (const char *)bs__insp_dashboard, bs__insp_dashboard_len);
}

/* ---- /api/snapshot: head (live) + summary + page, the last two cached ------- */

static void send_snapshot(bs__insp_client *c, bs__insp_buf *page) {
  bs__inspector *in = c->srv->in;
  bs__sb b = {0};
  bs__insp_render_head(&b, in);
  bs__insp_buf *parts[3] = {bs__insp_buf_take(&b), bs__insp_summary(in), page};
  if (parts[0] && parts[1] && page) bs__insp_respond_parts(c, JSON, parts, 3);
  else bs__insp_respond_error(c, 500, "out of memory");
  bs__insp_buf_unref(parts[0]);
  bs__insp_buf_unref(parts[1]);
}

/* The scan is complete: its page is kept for the requests that follow. */
static void finish_snapshot(bs__insp_client *c) {
  bs__insp_scan *sc = &c->u.scan;
  bs__insp_buf *page = NULL;
  if (!sc->oom) {
    bs__sb b = {0};
    bs__insp_render_page(&b, sc);
    page = bs__insp_buf_take(&b);
  }
  if (page) bs__insp_page_keep(c->srv->in, sc->snap->seq, &sc->q, page);
  bs__insp_job_free(c);
  send_snapshot(c, page);
  bs__insp_buf_unref(page);
}

static void snapshot(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  bs__inspector *in = c->srv->in;
  bs__insp_query qr;
  bs__insp_query_parse(&qr, q, qlen);
  bs__insp_buf *page = bs__insp_page_find(in, &qr);
  if (page) { /* asked before on this snapshot: nothing to compute */
    send_snapshot(c, page);
    bs__insp_buf_unref(page);
    return;
  }
  if (!in->current) {
    bs__insp_respond_error(c, 500, "out of memory");
    return;
  }
  c->job = BS__JOB_SNAPSHOT;
  bs__insp_scan_init(&c->u.scan, in->current, &qr);
  bs__insp_job_step(c, budget);
}

/* ---- /metrics: in steps, chunked when it takes more than one --------------- */

static void metrics(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  (void)q, (void)qlen;
  bs__inspector *in = c->srv->in;
  if (!in->current) {
    bs__insp_respond_error(c, 500, "out of memory");
    return;
  }
  bs__insp_metrics m;
  bs__insp_metrics_init(&m, in->current);
  bs__sb b = {0};
  if (bs__insp_metrics_step(&m, in, &b, budget)) { /* all of it at once */
    bs__insp_metrics_free(&m);
    send_sb(c, &b, METRICS);
    return;
  }
  c->job = BS__JOB_METRICS;
  c->u.metrics = m;
  if (bs__insp_chunked_begin(c, METRICS) == 0 && bs__insp_chunk(c, &b) == 0)
    bs__insp_queue(c);
  bs__sb_free(&b);
}

static void metrics_step(bs__insp_client *c, size_t *budget) {
  if (bs__insp_unsent(c) >= BS__INSP_WRITE_LOW) {
    c->blocked = true; /* the write callback queues it again */
    return;
  }
  bs__sb b = {0};
  bool done = bs__insp_metrics_step(&c->u.metrics, c->srv->in, &b, budget);
  if (bs__insp_chunk(c, &b) < 0) return;
  if (!done) {
    bs__insp_queue(c);
    return;
  }
  bs__insp_job_free(c);
  bs__insp_chunked_end(c);
}

/* ---- Jobs ------------------------------------------------------------------------ */

void bs__insp_job_step(bs__insp_client *c, size_t *budget) {
  if (c->closing || !c->srv->in) return;
  if (c->job == BS__JOB_METRICS) {
    metrics_step(c, budget);
  } else if (c->job == BS__JOB_SNAPSHOT) {
    if (bs__insp_scan_step(&c->u.scan, budget)) finish_snapshot(c);
    else bs__insp_queue(c); /* a big snapshot: the next slice on a later turn */
  }
}

void bs__insp_job_free(bs__insp_client *c) {
  if (c->job == BS__JOB_SNAPSHOT) bs__insp_scan_free(&c->u.scan);
  else if (c->job == BS__JOB_METRICS) bs__insp_metrics_free(&c->u.metrics);
  c->job = BS__JOB_NONE;
}

/* ---- The others ------------------------------------------------------------------- */

static void actor(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  (void)budget;
  char id[BS_ID_MAX + 1];
  if (bs__insp_param(q, qlen, "id", id, sizeof id) <= 0) {
    bs__insp_respond_error(c, 400, "missing or bad ?id=");
    return;
  }
  bs__sb b = {0};
  if (bs__insp_actor_detail(c->srv->in, id, &b) < 0) {
    bs__sb_free(&b);
    bs__insp_respond_error(c, 404, "no such actor");
    return;
  }
  send_sb(c, &b, JSON);
}

static void events(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  (void)q, (void)qlen, (void)budget;
  bs__insp_sse_begin(c);
}

static void trace(bs__insp_client *c, const char *q, size_t qlen, size_t *budget) {
  (void)budget;
  char id[BS_ID_MAX + 1], on[8];
  if (bs__insp_param(q, qlen, "id", id, sizeof id) <= 0 ||
      bs__insp_param(q, qlen, "on", on, sizeof on) < 0) {
    bs__insp_respond_error(c, 400, "need ?id=&on=1|0");
    return;
  }
  bool enable = !strcmp(on, "1") || !strcmp(on, "true");
  int rc = bs_inspector_trace(c->srv->in->e, id, enable);
  if (rc < 0) {
    bs__insp_respond_error(c, rc == BS_ENOTFOUND ? 404 : 500, bs_strerror(rc));
    return;
  }
  bs__sb b = {0};
  bs__sb_puts(&b, "{\"id\":");
  bs__sb_json_str(&b, id, strlen(id));
  bs__sb_printf(&b, ",\"tracing\":%s}", enable ? "true" : "false");
  send_sb(c, &b, JSON);
}

enum { GET = 1, POST = 2 };

static const struct route {
  const char *path;
  int methods;
  handler_fn fn;
} routes[] = {
    {"/", GET, dashboard},
    {"/index.html", GET, dashboard},
    {"/api/snapshot", GET, snapshot},
    {"/api/actor", GET, actor},
    {"/api/events", GET, events},
    {"/metrics", GET, metrics},
    {"/api/trace", POST, trace}, /* changes state: POST, same origin */
};

/* ---- Host and origin ------------------------------------------------------------ */

static bool eq_ci(const char *a, size_t alen, const char *b, size_t blen) {
  if (alen != blen) return false;
  for (size_t i = 0; i < alen; i++) {
    char x = a[i], y = b[i];
    if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y)) return false;
  }
  return true;
}

static size_t trim(const char *v, size_t n) {
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
  return n;
}

/* "1.2.3.4" or "[v6]": a literal address, which DNS rebinding cannot
 * produce (it needs a name that the attacker's DNS answers). */
static bool ip_literal(const char *h, size_t n) {
  char buf[64];
  unsigned char addr[16];
  bool v6 = n > 2 && h[0] == '[' && h[n - 1] == ']';
  if (v6) h++, n -= 2;
  if (n == 0 || n >= sizeof buf) return false;
  memcpy(buf, h, n);
  buf[n] = '\0';
  return uv_inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) == 0;
}

static bool listed(const char *list, const char *h, size_t n) {
  while (list && *list) {
    while (*list == ' ' || *list == ',') list++;
    size_t len = strcspn(list, ",");
    if (len && eq_ci(list, trim(list, len), h, n)) return true;
    list += len;
  }
  return false;
}

/* The Host's name (its port is not checked): an IP literal, localhost, or
 * a name on allowed_hosts. */
static bool host_allowed(const bs__inspector *in, const char *v, size_t n) {
  const char *end = v[0] == '[' ? memchr(v, ']', n) : NULL;
  const char *colon = memchr(end ? end : v, ':', n - (size_t)((end ? end : v) - v));
  size_t hlen = colon ? (size_t)(colon - v) : n;
  if (colon) {
    size_t plen = n - hlen - 1;
    if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen) return false;
  }
  if (hlen == 0) return false;
  return ip_literal(v, hlen) || eq_ci(v, hlen, "localhost", 9) ||
         listed(in->allowed_hosts, v, hlen);
}

/* 0, or the status refusing the request's Host. */
static int check_host(const bs__insp_client *c) {
  const bs__insp_hdr *h = &c->hdr[BS__H_HOST];
  if (h->seen > 1) return 400;
  if (!h->seen) return c->parser.http_major == 1 && c->parser.http_minor == 0 ? 0 : 400;
  return host_allowed(c->srv->in, h->v, trim(h->v, h->len)) ? 0 : 403;
}

/* A browser says where a request comes from (Origin on every POST,
 * Sec-Fetch-Site in current ones); a request without either is not from a
 * browser page, so it cannot be a cross-site forgery. */
static bool same_origin(const bs__insp_client *c) {
  const bs__insp_hdr *site = &c->hdr[BS__H_FETCH_SITE], *origin = &c->hdr[BS__H_ORIGIN];
  const bs__insp_hdr *host = &c->hdr[BS__H_HOST];
  size_t slen = trim(site->v, site->len), olen = trim(origin->v, origin->len);
  if (site->seen && !eq_ci(site->v, slen, "same-origin", 11) && !eq_ci(site->v, slen, "none", 4))
    return false;
  if (!origin->seen) return true;
  size_t hlen = trim(host->v, host->len);
  return host->seen && olen == 7 + hlen && eq_ci(origin->v, 7, "http://", 7) &&
         eq_ci(origin->v + 7, hlen, host->v, hlen);
}

/* ---- Authorization ------------------------------------------------------------ */

static bool bearer(const char *s, size_t n) {
  static const char b[] = "bearer ";
  if (n < sizeof b - 1) return false;
  for (size_t i = 0; i < sizeof b - 1; i++)
    if ((s[i] | 0x20) != b[i]) return false;
  return true;
}

static bool same(const char *a, size_t alen, const char *b, size_t blen) {
  unsigned char diff = alen != blen;
  size_t n = alen < blen ? alen : blen;
  for (size_t i = 0; i < n; i++) diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

bool bs__insp_authorized(const bs__insp_client *c, const char *query, size_t qlen) {
  const char *token = c->srv->in->token;
  if (!token) return true;
  size_t tlen = strlen(token);
  const bs__insp_hdr *auth = &c->hdr[BS__H_AUTH];
  if (bearer(auth->v, auth->len) && same(auth->v + 7, auth->len - 7u, token, tlen))
    return true;
  char qt[BS__INSP_TOKEN_MAX + 1];
  int n = bs__insp_param(query, qlen, "token", qt, sizeof qt);
  return n > 0 && same(qt, (size_t)n, token, tlen);
}

/* ---- Routing ------------------------------------------------------------------- */

static void method_not_allowed(bs__insp_client *c, int methods) {
  static const char body[] = "{\"error\":\"method not allowed\",\"status\":405}\n";
  const char *allow = methods == POST ? "Allow: POST\r\n"
                      : methods & POST ? "Allow: GET, POST\r\n" : "Allow: GET\r\n";
  bs__insp_respond(c, 405, "application/json", allow, body, sizeof body - 1);
}

void bs__insp_route(bs__insp_client *c, size_t *budget) {
  struct http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(c->url, c->url_len, 0, &u) != 0 ||
      !(u.field_set & (1 << UF_PATH))) {
    bs__insp_respond_error(c, 400, "bad request target");
    return;
  }
  const char *path = c->url + u.field_data[UF_PATH].off;
  size_t plen = u.field_data[UF_PATH].len;
  const char *q = (u.field_set & (1 << UF_QUERY)) ? c->url + u.field_data[UF_QUERY].off : "";
  size_t qlen = (u.field_set & (1 << UF_QUERY)) ? u.field_data[UF_QUERY].len : 0;
  int refused = check_host(c);
  if (refused) {
    bs__insp_respond_error(c, refused, refused == 400 ? "missing or repeated Host"
                                                      : "Host does not name this server");
    return;
  }
  if (!bs__insp_authorized(c, q, qlen)) {
    bs__insp_respond_error(c, 401, "missing or wrong token");
    return;
  }
  int method = c->parser.method == HTTP_GET ? GET : c->parser.method == HTTP_POST ? POST : 0;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    const struct route *r = &routes[i];
    if (strlen(r->path) != plen || memcmp(r->path, path, plen) != 0) continue;
    if (!(r->methods & method)) method_not_allowed(c, r->methods);
    else if (method == POST && !same_origin(c)) bs__insp_respond_error(c, 403, "cross-origin request");
    else r->fn(c, q, qlen, budget);
    return;
  }
  bs__insp_respond_error(c, 404, "not found");
}
