/* Actor queries for /api/snapshot, answered from a snapshot's rows: the
 * rows in the order of the sort key (a merge sort done in budgeted steps
 * the first time a snapshot is asked for that key, then shared by every
 * request on it), then the window [offset, offset+limit) of it, filtered
 * by a substring of the id or the type name when there is one. So a
 * repeated request costs a slice of an array, and no step does more than
 * its budget of work whatever the number of actors. */
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

void bs__insp_query_parse(bs__insp_query *qr, const char *query, size_t qlen) {
  memset(qr, 0, sizeof *qr);
  char sort[16];
  qr->sort = bs__insp_param(query, qlen, "sort", sort, sizeof sort) > 0
                 ? sort_of(sort) : BS__SORT_RATE;
  int n = bs__insp_param(query, qlen, "q", qr->q, sizeof qr->q);
  qr->qlen = n > 0 ? (size_t)n : 0;
  qr->q[qr->qlen] = '\0';
  for (size_t i = 0; i < qr->qlen; i++) qr->q[i] = (char)tolower((unsigned char)qr->q[i]);
  qr->shard = (int32_t)num_param(query, qlen, "shard", UINT32_MAX, UINT32_MAX);
  if (qr->shard < 0 || qr->shard > UINT16_MAX) qr->shard = -1;
  qr->limit = num_param(query, qlen, "limit", 100, BS__INSP_LIMIT_MAX);
  qr->offset = num_param(query, qlen, "offset", 0, BS__INSP_WINDOW_MAX - qr->limit);
}

bool bs__insp_query_eq(const bs__insp_query *a, const bs__insp_query *b) {
  return a->sort == b->sort && a->limit == b->limit && a->offset == b->offset &&
         a->shard == b->shard && a->qlen == b->qlen && memcmp(a->q, b->q, a->qlen) == 0;
}

/* ---- Ranking ------------------------------------------------------------------ */

static int by_id(const bs__insp_snap *s, const bs__insp_row *a, const bs__insp_row *b) {
  size_t n = a->id_len < b->id_len ? a->id_len : b->id_len;
  int r = memcmp(bs__insp_row_id(s, a->id_off), bs__insp_row_id(s, b->id_off), n);
  return r ? r : (a->id_len > b->id_len) - (a->id_len < b->id_len);
}

/* < 0 when row a ranks before row b. Ties are broken by id, so pages are
 * stable. */
static int rank(const bs__insp_snap *s, bs__insp_sort k, uint32_t ia, uint32_t ib) {
  const bs__insp_row *a = &s->rows[ia], *b = &s->rows[ib];
  int r = 0;
  switch (k) {
  case BS__SORT_RATE: /* the last interval's rate, as shown; then the smoother avg1 */
    r = (a->rate < b->rate) - (a->rate > b->rate);
    if (!r) r = (a->avg1 < b->avg1) - (a->avg1 > b->avg1);
    break;
  case BS__SORT_MAILBOX: r = (a->mailbox < b->mailbox) - (a->mailbox > b->mailbox); break;
  case BS__SORT_TYPE: r = strcmp(a->type, b->type); break;
  default: break;
  }
  return r ? r : by_id(s, a, b);
}

/* ---- Orders: a bottom-up merge sort that can stop anywhere ----------------------- */

static bool order_begin(bs__insp_order *o, size_t n) {
  o->started = true;
  o->idx = malloc((n ? n : 1) * sizeof *o->idx);
  o->tmp = malloc((n ? n : 1) * sizeof *o->tmp);
  if (!o->idx || !o->tmp) {
    o->oom = true;
    return false;
  }
  for (size_t i = 0; i < n; i++) o->idx[i] = (uint32_t)i;
  o->width = 1;
  o->lo = o->a = o->k = 0;
  o->b = n < 1 ? n : 1;
  return true;
}

/* Past the end of the current pair: the next pair, or the next pass. */
static void next_pair(bs__insp_order *o, size_t n) {
  o->lo += 2 * o->width;
  if (o->lo >= n) {
    uint32_t *t = o->idx;
    o->idx = o->tmp;
    o->tmp = t;
    o->width *= 2;
    o->lo = 0;
  }
  o->a = o->k = o->lo;
  o->b = o->lo + o->width < n ? o->lo + o->width : n;
}

/* Merges runs of `width` from idx into tmp, one element per unit of
 * budget; true once the whole snapshot is in order. */
static bool order_step(bs__insp_snap *s, bs__insp_sort key, size_t *budget) {
  bs__insp_order *o = &s->order[key];
  size_t n = s->nrows;
  if (o->done || o->oom) return true;
  if (!o->started && !order_begin(o, n)) return true;
  while (*budget > 0) {
    if (o->width >= n) {
      o->done = true;
      free(o->tmp);
      o->tmp = NULL;
      return true;
    }
    size_t mid = o->lo + o->width < n ? o->lo + o->width : n;
    size_t hi = o->lo + 2 * o->width < n ? o->lo + 2 * o->width : n;
    if (o->k == hi) {
      next_pair(o, n);
      continue;
    }
    if (o->a < mid && (o->b >= hi || rank(s, key, o->idx[o->a], o->idx[o->b]) <= 0))
      o->tmp[o->k++] = o->idx[o->a++];
    else
      o->tmp[o->k++] = o->idx[o->b++];
    (*budget)--;
  }
  return false;
}

/* ---- Scans ---------------------------------------------------------------------- */

static bool contains_ci(const char *hay, const char *needle, size_t n) {
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == needle[i]) i++;
    if (i == n) return true;
  }
  return n == 0;
}

static bool matches(const bs__insp_scan *sc, uint32_t i) {
  const bs__insp_row *r = &sc->snap->rows[i];
  if (sc->q.shard >= 0 && r->shard != sc->q.shard) return false;
  return contains_ci(bs__insp_row_id(sc->snap, r->id_off), sc->q.q, sc->q.qlen) ||
         contains_ci(r->type, sc->q.q, sc->q.qlen);
}

void bs__insp_scan_init(bs__insp_scan *sc, bs__insp_snap *s, const bs__insp_query *q) {
  memset(sc, 0, sizeof *sc);
  sc->snap = bs__insp_snap_ref(s);
  sc->q = *q;
  sc->page = malloc((q->limit ? q->limit : 1) * sizeof *sc->page);
  sc->oom = !sc->page;
}

/* Without a filter the window is a slice of the order. */
static void window(bs__insp_scan *sc, const uint32_t *order) {
  size_t n = sc->snap->nrows;
  sc->matched = n;
  for (size_t i = sc->q.offset; i < n && sc->npage < sc->q.limit; i++)
    sc->page[sc->npage++] = order[i];
}

bool bs__insp_scan_step(bs__insp_scan *sc, size_t *budget) {
  bs__insp_snap *s = sc->snap;
  if (sc->oom) return true;
  if (!order_step(s, sc->q.sort, budget)) return false;
  const bs__insp_order *o = &s->order[sc->q.sort];
  if (o->oom) {
    sc->oom = true;
    return true;
  }
  if (sc->q.qlen == 0 && sc->q.shard < 0) {
    window(sc, o->idx);
    return true;
  }
  for (; sc->pos < s->nrows && *budget > 0; sc->pos++, (*budget)--) {
    uint32_t i = o->idx[sc->pos];
    if (!matches(sc, i)) continue;
    if (sc->matched >= sc->q.offset && sc->npage < sc->q.limit) sc->page[sc->npage++] = i;
    sc->matched++;
  }
  return sc->pos >= s->nrows;
}

void bs__insp_scan_free(bs__insp_scan *sc) {
  free(sc->page);
  bs__insp_snap_unref(sc->snap);
  memset(sc, 0, sizeof *sc);
}
