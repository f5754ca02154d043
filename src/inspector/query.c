/* Actor queries for /api/snapshot: filter by a substring of the id or the
 * type name, keep the best offset+limit by the sort key in a bounded heap
 * (so memory is O(offset+limit) whatever the number of actors), then sort
 * that window. The scan visits at most a budget of registry slots per call,
 * so the server spreads a large registry over several loop iterations. */
#include <ctype.h>
#include <stdlib.h>

#include "inspector/insp.h"

/* ---- Query strings ----------------------------------------------------------- */

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* URL-decodes [s, s+n) into out; -1 if it does not fit or is malformed. */
static int url_decode(const char *s, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '+') c = ' ';
    else if (c == '%') {
      if (i + 2 >= n) return -1;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return -1;
      c = hi * 16 + lo;
      i += 2;
    }
    if (c == 0 || o + 1 >= cap) return -1;
    out[o++] = (char)c;
  }
  out[o] = '\0';
  return (int)o;
}

int bs__insp_param(const char *query, size_t qlen, const char *name, char *out,
                   size_t cap) {
  size_t nlen = strlen(name), i = 0;
  while (i < qlen) {
    size_t end = i;
    while (end < qlen && query[end] != '&') end++;
    const char *eq = memchr(query + i, '=', end - i);
    size_t klen = eq ? (size_t)(eq - (query + i)) : end - i;
    if (klen == nlen && memcmp(query + i, name, nlen) == 0) {
      const char *v = eq ? eq + 1 : query + end;
      return url_decode(v, (size_t)(query + end - v), out, cap);
    }
    i = end + 1;
  }
  return -1;
}

/* ---- Ranking ------------------------------------------------------------------ */

/* < 0 when a ranks before b. Ties are broken by id, so pages are stable. */
static int rank(bs__insp_sort s, const bs_cell *a, const bs_cell *b) {
  int r = 0;
  switch (s) {
  case BS__SORT_RATE: /* the last interval's rate, as shown; then the smoother avg1 */
    r = (a->insp.rate < b->insp.rate) - (a->insp.rate > b->insp.rate);
    if (!r) r = (a->insp.avg1 < b->insp.avg1) - (a->insp.avg1 > b->insp.avg1);
    break;
  case BS__SORT_MAILBOX: r = (a->mb.len < b->mb.len) - (a->mb.len > b->mb.len); break;
  case BS__SORT_TYPE: r = strcmp(a->type->name, b->type->name); break;
  case BS__SORT_ID: break;
  }
  return r ? r : strcmp(a->id, b->id);
}

static bs__insp_sort sort_of(const char *s) {
  if (!strcmp(s, "id")) return BS__SORT_ID;
  if (!strcmp(s, "type")) return BS__SORT_TYPE;
  if (!strcmp(s, "mailbox")) return BS__SORT_MAILBOX;
  return BS__SORT_RATE;
}

static uint32_t num_param(const char *q, size_t n, const char *name, uint32_t dflt,
                          uint32_t max) {
  char buf[16];
  if (bs__insp_param(q, n, name, buf, sizeof buf) <= 0) return dflt;
  char *end;
  unsigned long v = strtoul(buf, &end, 10);
  if (*end || buf[0] == '-') return dflt;
  return v > max ? max : (uint32_t)v;
}

int bs__insp_query_init(bs__insp_query *qr, const char *query, size_t qlen) {
  memset(qr, 0, sizeof *qr);
  char sort[16];
  qr->sort = bs__insp_param(query, qlen, "sort", sort, sizeof sort) > 0
                 ? sort_of(sort) : BS__SORT_RATE;
  int n = bs__insp_param(query, qlen, "q", qr->q, sizeof qr->q);
  qr->qlen = n > 0 ? (size_t)n : 0;
  qr->q[qr->qlen] = '\0';
  for (size_t i = 0; i < qr->qlen; i++) qr->q[i] = (char)tolower((unsigned char)qr->q[i]);
  qr->limit = num_param(query, qlen, "limit", 100, BS__INSP_LIMIT_MAX);
  qr->offset = num_param(query, qlen, "offset", 0, BS__INSP_WINDOW_MAX - qr->limit);
  qr->keep = (size_t)qr->offset + qr->limit;
  if (qr->keep == 0) return 0;
  qr->top = malloc(qr->keep * sizeof *qr->top);
  return qr->top ? 0 : BS_ENOMEM;
}

void bs__insp_query_free(bs__insp_query *qr) {
  free(qr->top);
  qr->top = NULL;
}

/* ---- Scan ------------------------------------------------------------------------ */

static bool contains_ci(const char *hay, const char *needle, size_t n) {
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i]) i++;
    if (i == n) return true;
  }
  return n == 0;
}

static bool matches(const bs__insp_query *qr, const bs_cell *c) {
  return qr->qlen == 0 || contains_ci(c->id, qr->q, qr->qlen) ||
         contains_ci(c->type->name, qr->q, qr->qlen);
}

/* top[] is a heap with the worst-ranked kept cell at [0]. */
static void sift_down(bs__insp_query *qr, size_t i, size_t n) {
  for (;;) {
    size_t l = 2 * i + 1, w = i;
    if (l < n && rank(qr->sort, qr->top[l], qr->top[w]) > 0) w = l;
    if (l + 1 < n && rank(qr->sort, qr->top[l + 1], qr->top[w]) > 0) w = l + 1;
    if (w == i) return;
    bs_cell *t = qr->top[i];
    qr->top[i] = qr->top[w];
    qr->top[w] = t;
    i = w;
  }
}

static void offer(bs__insp_query *qr, bs_cell *c) {
  qr->matched++;
  if (qr->keep == 0) return;
  if (qr->ntop < qr->keep) {
    size_t i = qr->ntop++;
    qr->top[i] = c;
    while (i > 0 && rank(qr->sort, qr->top[(i - 1) / 2], qr->top[i]) < 0) {
      bs_cell *t = qr->top[i];
      qr->top[i] = qr->top[(i - 1) / 2];
      qr->top[(i - 1) / 2] = t;
      i = (i - 1) / 2;
    }
  } else if (rank(qr->sort, c, qr->top[0]) < 0) {
    qr->top[0] = c;
    sift_down(qr, 0, qr->ntop);
  }
}

/* Heapsort in place: popping the worst to the end leaves best-first. */
static void sort_top(bs__insp_query *qr) {
  for (size_t k = qr->ntop; k > 1; k--) {
    bs_cell *t = qr->top[0];
    qr->top[0] = qr->top[k - 1];
    qr->top[k - 1] = t;
    sift_down(qr, 0, k - 1);
  }
  /* Rates may have moved between the steps of a long scan, bending the
   * heap: an insertion pass restores the order (linear when sorted). */
  for (size_t i = 1; i < qr->ntop; i++) {
    bs_cell *c = qr->top[i];
    size_t j = i;
    for (; j > 0 && rank(qr->sort, c, qr->top[j - 1]) < 0; j--) qr->top[j] = qr->top[j - 1];
    qr->top[j] = c;
  }
}

bool bs__insp_query_step(bs__insp_query *qr, bs_engine *e, size_t budget) {
  if (qr->slots != BS__INSP_REG(e)->slots || qr->cap != BS__INSP_REG(e)->cap) {
    qr->slots = BS__INSP_REG(e)->slots; /* first step, or the registry grew: restart */
    qr->cap = BS__INSP_REG(e)->cap;
    qr->cursor = 0;
    qr->ntop = 0;
    qr->matched = 0;
  }
  size_t end = qr->cursor + budget < qr->cap ? qr->cursor + budget : qr->cap;
  for (size_t i = qr->cursor; i < end; i++) {
    bs_cell *c = qr->slots[i];
    if (c && matches(qr, c)) offer(qr, c);
  }
  qr->cursor = end;
  if (qr->cursor < qr->cap) return false;
  sort_top(qr);
  return true;
}
