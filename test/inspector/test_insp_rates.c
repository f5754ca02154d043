/* Counters and rates on the virtual clock: exact expected values. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "insp_test.h"
#include "inspector/insp.h"

static bs_engine *engine_no_server(uint32_t interval_ms, uint32_t slice) {
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  if (interval_ms) o.sample_interval_ms = interval_ms;
  if (slice) o.slice = slice;
  return it_engine(&o);
}

static bs_inspector_actor actor(bs_engine *e, const char *id) {
  bs_inspector_actor a;
  cr_assert_eq(bs_inspector_actor_get(e, id, &a), 0, "%s", id);
  return a;
}

/* The EWMA the sampler keeps, computed here independently. */
static double ewma_after(double start, double rate, int steps, double dt, double tau) {
  double avg = start;
  for (int i = 0; i < steps; i++) avg += (1 - exp(-dt / tau)) * (rate - avg);
  return avg;
}

#define cr_assert_near(a, b) \
  cr_assert(fabs((double)(a) - (double)(b)) <= 1e-3 * (1 + fabs((double)(b))), \
            "%s = %.6f, expected %.6f", #a, (double)(a), (double)(b))

Test(insp_rates, counters_track_queue_dispatch_activation_and_activity) {
  bs_engine *e = engine_no_server(0, 0);
  bs_test_advance(e, 100);
  it_send(e, &insp_worker_type, "w", 3);
  bs_inspector_actor a = actor(e, "w");
  cr_assert_eq(a.received, 3);
  cr_assert_eq(a.processed, 0);
  cr_assert_eq(a.mailbox, 3);
  cr_assert_not(a.active);
  cr_assert_eq(a.activated_at, 0);
  bs_test_run(e, 0);
  a = actor(e, "w");
  cr_assert_eq(a.processed, 3);
  cr_assert_eq(a.mailbox, 0);
  cr_assert(a.active);
  cr_assert_eq(a.activated_at, 100);
  cr_assert_eq(a.last_activity, 100);
  bs_test_advance(e, 400);
  it_send(e, &insp_worker_type, "w", 1);
  bs_test_run(e, 0);
  a = actor(e, "w");
  cr_assert_eq(a.received, 4);
  cr_assert_eq(a.last_activity, 500);
  bs_ref r;
  bs_actor_get(e, &insp_worker_type, "w", &r);
  bs_stop(&r);
  bs_test_run(e, 0);
  bs_inspector_actor gone;
  cr_assert_eq(bs_inspector_actor_get(e, "w", &gone), BS_ENOTFOUND,
               "a stopped actor is collected, counters and all");
  it_free(e);
}

Test(insp_rates, constant_load_gives_exact_rate_and_converging_averages) {
  bs_engine *e = engine_no_server(0, 0);
  for (int k = 1; k <= 30; k++) {
    it_send(e, &insp_worker_type, "w", 100);
    bs_test_run(e, 0);
    bs_test_advance(e, 1000);
    bs_inspector_actor a = actor(e, "w");
    cr_assert_near(a.rate, 100.0);
    cr_assert_near(a.avg1, ewma_after(0, 100, k, 1000, 1000));
    cr_assert_near(a.avg10, ewma_after(0, 100, k, 1000, 10000));
    cr_assert_near(a.avg60, ewma_after(0, 100, k, 1000, 60000));
  }
  /* closed forms: 100 * (1 - e^(-30/T)) */
  bs_inspector_actor a = actor(e, "w");
  cr_assert_near(a.avg10, 100 * (1 - exp(-3.0)));
  cr_assert_near(a.avg60, 100 * (1 - exp(-0.5)));
  /* idle: the rate drops at once, the averages decay by e^(-dt/T) */
  double avg10 = a.avg10, avg60 = a.avg60;
  bs_test_advance(e, 5000);
  a = actor(e, "w");
  cr_assert_near(a.rate, 0);
  cr_assert_near(a.avg10, avg10 * exp(-0.5));
  cr_assert_near(a.avg60, avg60 * exp(-5.0 / 60));
  it_free(e);
}

Test(insp_rates, rate_is_per_second_whatever_the_sample_interval) {
  bs_engine *e = engine_no_server(250, 0);
  it_send(e, &insp_worker_type, "w", 50);
  bs_test_run(e, 0);
  bs_test_advance(e, 250);
  bs_inspector_actor a = actor(e, "w");
  cr_assert_near(a.rate, 200.0);
  cr_assert_near(a.avg1, 200 * (1 - exp(-0.25)));
  it_free(e);
}

Test(insp_rates, engine_totals_sum_every_actor) {
  bs_engine *e = engine_no_server(0, 0);
  char id[16];
  for (int k = 0; k < 3; k++) {
    for (int i = 0; i < 10; i++) {
      snprintf(id, sizeof id, "w%d", i);
      it_send(e, &insp_worker_type, id, i + 1); /* 55 per second in all */
    }
    bs_test_run(e, 0);
    bs_test_advance(e, 1000);
  }
  bs_inspector_totals t;
  cr_assert_eq(bs_inspector_totals_get(e, &t), 0);
  cr_assert_eq(t.samples, 3);
  cr_assert_near(t.rate, 55.0);
  cr_assert_near(t.avg10, ewma_after(0, 55, 3, 1000, 10000));
  cr_assert_near(actor(e, "w9").rate, 10.0);
  cr_assert_near(actor(e, "w0").rate, 1.0);
  it_free(e);
}

Test(insp_rates, work_before_the_inspector_started_is_not_a_rate) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.virtual_time = true;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  it_send(e, &insp_worker_type, "w", 1000);
  bs_test_run(e, 0);
  cr_assert_eq(actor(e, "w").processed, 1000, "counters run with the inspector stopped");
  cr_assert_eq(bs_inspector_start(e, NULL), 0);
  it_send(e, &insp_worker_type, "w", 7);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  cr_assert_near(actor(e, "w").rate, 7.0);
  it_free(e);
}

/* 64 registry slots in slices of 16: each actor is sampled every 4 ticks,
 * at its slice's own dt, so rates stay exact. */
Test(insp_rates, large_registries_are_swept_in_slices_with_exact_rates) {
  bs_engine *e = engine_no_server(0, 16);
  char id[16];
  for (int k = 1; k <= 8; k++) {
    for (int i = 0; i < 20; i++) {
      snprintf(id, sizeof id, "w%02d", i);
      it_send(e, &insp_worker_type, id, 10);
    }
    bs_test_run(e, 0);
    bs_test_advance(e, 1000);
  }
  for (int i = 0; i < 20; i++) {
    snprintf(id, sizeof id, "w%02d", i);
    cr_assert_near(actor(e, id).rate, 10.0);
  }
  it_free(e);
}

Test(insp_rates, tracing_keeps_the_last_method_names_in_order) {
  bs_engine *e = engine_no_server(0, 0);
  const char *names[BS_INSPECTOR_TRACE_N];
  it_send(e, &insp_worker_type, "w", 1);
  cr_assert_eq(bs_inspector_trace_get(e, "w", names, 16), 0, "off: nothing kept");
  cr_assert_eq(bs_inspector_trace(e, "nobody", true), BS_ENOTFOUND);
  cr_assert_eq(bs_inspector_trace(e, "w", true), 0);
  cr_assert(actor(e, "w").tracing);
  bs_test_run(e, 0);
  it_send(e, &insp_worker_type, "w", 20);
  bs_test_run(e, 0);
  int n = bs_inspector_trace_get(e, "w", names, BS_INSPECTOR_TRACE_N);
  cr_assert_eq(n, 16);
  for (int i = 0; i < 16; i++) cr_assert_str_eq(names[i], "work");
  cr_assert_eq(bs_inspector_trace(e, "w", false), 0);
  cr_assert_eq(bs_inspector_trace_get(e, "w", names, 16), 0);
  it_free(e);
}

Test(insp_rates, start_stop_and_errors) {
  bs_engine *e = engine_no_server(0, 0);
  char url[64];
  cr_assert(bs_inspector_available());
  cr_assert_eq(bs_inspector_start(e, NULL), BS_EBUSY);
  cr_assert_eq(bs_inspector_url(e, url, sizeof url), BS_ENOTFOUND, "no address: no server");
  cr_assert_eq(bs_inspector_trace(e, "w", true), BS_ENOTFOUND);
  it_send(e, &insp_worker_type, "w", 1);
  cr_assert_eq(bs_inspector_trace(e, "w", true), 0);
  cr_assert_eq(bs_inspector_stop(e), 0);
  cr_assert_eq(bs_inspector_stop(e), BS_ENOTFOUND);
  cr_assert_not(actor(e, "w").tracing, "stop frees traces");
  bs_inspector_totals t;
  cr_assert_eq(bs_inspector_totals_get(e, &t), BS_ENOTFOUND);
  cr_assert_eq(bs_inspector_start(e, NULL), 0, "restartable");
  it_free(e);
}

/* Queries over a snapshot, directly: the baseline snapshot of an engine
 * whose mail has not run yet shows the mailboxes. */
static const char *page_id(const bs__insp_scan *sc, size_t i) {
  return bs__insp_row_id(sc->snap, sc->snap->rows[sc->page[i]].id_off);
}

static int steps_of(bs__insp_scan *sc, size_t per_step) {
  int steps = 1;
  for (size_t b = per_step; !bs__insp_scan_step(sc, &b); b = per_step) steps++;
  return steps;
}

Test(insp_rates, queries_sort_by_mailbox_and_are_built_in_steps) {
  bs_engine_options eo;
  bs_engine_options_init(&eo);
  eo.virtual_time = true;
  bs_engine *e;
  cr_assert_eq(bs_engine_new(&e, &eo), 0);
  it_send(e, &insp_worker_type, "w-05", 9);
  it_send(e, &insp_worker_type, "w-03", 4);
  it_send(e, &insp_worker_type, "w-01", 1);
  char id[16];
  for (int i = 0; i < 60; i++) { /* one message each: an actor exists while it has mail */
    snprintf(id, sizeof id, "x-%02d", i);
    it_send(e, &insp_plain_type, id, 1);
  }
  cr_assert_eq(bs_inspector_start(e, NULL), 0);
  bs__insp_snap *s = e->inspector->current;
  cr_assert_eq(s->nrows, 63);
  bs__insp_query q;
  bs__insp_scan sc;
  static const char qs[] = "sort=mailbox&limit=2";
  bs__insp_query_parse(&q, qs, sizeof qs - 1);
  bs__insp_scan_init(&sc, s, &q);
  cr_assert_eq(steps_of(&sc, 100000), 1);
  cr_assert_eq(sc.matched, 63);
  cr_assert_eq(sc.npage, 2);
  cr_assert_str_eq(page_id(&sc, 0), "w-05");
  cr_assert_str_eq(page_id(&sc, 1), "w-03");
  bs__insp_scan_free(&sc);
  /* 8 units a step: the sort by id and the filter take many steps... */
  static const char qs2[] = "sort=id&q=W-0";
  bs__insp_query_parse(&q, qs2, sizeof qs2 - 1);
  bs__insp_scan_init(&sc, s, &q);
  cr_assert_gt(steps_of(&sc, 8), 40);
  cr_assert_eq(sc.matched, 3);
  cr_assert_str_eq(page_id(&sc, 0), "w-01");
  cr_assert_str_eq(page_id(&sc, 2), "w-05");
  bs__insp_scan_free(&sc);
  /* ...and the order is then the snapshot's: a page of it is one step */
  static const char qs3[] = "sort=id&offset=60&limit=5";
  bs__insp_query_parse(&q, qs3, sizeof qs3 - 1);
  bs__insp_scan_init(&sc, s, &q);
  cr_assert_eq(steps_of(&sc, 1), 1);
  cr_assert_eq(sc.npage, 3);
  cr_assert_str_eq(page_id(&sc, 0), "x-57");
  bs__insp_scan_free(&sc);
  it_free(e);
}

/* JSON strings are always valid UTF-8: every byte that does not start a
 * well-formed sequence (RFC 3629) becomes U+FFFD, whatever it looked like. */
Test(insp_json, strings_are_valid_utf8_whatever_the_input) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"plain", "\"plain\""},
      {"\xc3\xbc", "\"\xc3\xbc\""},                     /* ü */
      {"\xe2\x82\xac", "\"\xe2\x82\xac\""},             /* € */
      {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},     /* U+1F600 */
      {"\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},     /* U+10FFFF */
      {"\xed\x9f\xbf", "\"\xed\x9f\xbf\""},             /* U+D7FF */
      {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},    /* surrogate U+D800 */
      {"\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\""},    /* surrogate U+DFFF */
      {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},    /* overlong '/' */
      {"\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* overlong, 4 bytes */
      {"\xc0\xaf", "\"\\ufffd\\ufffd\""},               /* overlong, 2 bytes */
      {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* U+110000 */
      {"\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
      {"\xff", "\"\\ufffd\""},
      {"a\xe2\x82", "\"a\\ufffd\\ufffd\""},             /* truncated */
      {"<\x1b\"\\", "\"\\u003c\\u001b\\\"\\\\\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bs__sb b = {0};
    bs__sb_json_str(&b, cases[i].in, strlen(cases[i].in));
    cr_assert_str_eq(b.p, cases[i].out, "case %zu", i);
    cr_assert(it_utf8_valid(b.p, b.len), "case %zu", i);
    bs__sb_free(&b);
  }
}

/* The sort orders are a merge sort that stops and resumes anywhere: for
 * every key and step size, the result is a permutation in rank order. */
static bs__insp_snap *random_snapshot(size_t n, unsigned seed) {
  bs__insp_snap *s = bs__insp_snap_new();
  static const char *types[] = {"Beta", "Alpha", "Gamma"};
  s->rows = calloc(n, sizeof *s->rows);
  s->ids = malloc(n * 16);
  s->nrows = s->caprows = n;
  for (size_t i = 0; i < n; i++) {
    bs__insp_row *r = &s->rows[i];
    seed = seed * 1103515245u + 12345u;
    r->rate = (float)(seed % 7);          /* many ties: the id decides */
    r->avg1 = (float)((seed >> 8) % 3);
    r->mailbox = (seed >> 12) % 5;
    r->type = types[(seed >> 16) % 3];
    r->id_off = (uint32_t)s->idlen;
    int len = snprintf(s->ids + s->idlen, 16, "id-%u", (seed >> 4) % 100000);
    r->id_len = (uint8_t)len;
    s->idlen += (size_t)len + 1;
  }
  return s;
}

static int ref_rank(const bs__insp_snap *s, bs__insp_sort k, uint32_t ia, uint32_t ib) {
  const bs__insp_row *a = &s->rows[ia], *b = &s->rows[ib];
  int r = 0;
  if (k == BS__SORT_RATE) {
    r = (a->rate < b->rate) - (a->rate > b->rate);
    if (!r) r = (a->avg1 < b->avg1) - (a->avg1 > b->avg1);
  } else if (k == BS__SORT_MAILBOX) {
    r = (a->mailbox < b->mailbox) - (a->mailbox > b->mailbox);
  } else if (k == BS__SORT_TYPE) {
    r = strcmp(a->type, b->type);
  }
  return r ? r : strcmp(s->ids + a->id_off, s->ids + b->id_off);
}

Test(insp_rates, sort_orders_are_built_in_any_steps) {
  static const char *keys[] = {"rate", "id", "type", "mailbox"};
  size_t sizes[] = {0, 1, 2, 3, 1000, 1025};
  size_t steps[] = {1, 7, 1u << 30};
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
    for (size_t st = 0; st < 3; st++) {
      bs__insp_snap *s = random_snapshot(sizes[z], (unsigned)(z * 31 + st));
      for (int k = 0; k < 4; k++) {
        char qs[64];
        int qn = snprintf(qs, sizeof qs, "sort=%s&limit=1000", keys[k]);
        bs__insp_query q;
        bs__insp_query_parse(&q, qs, (size_t)qn);
        bs__insp_scan sc;
        bs__insp_scan_init(&sc, s, &q);
        steps_of(&sc, steps[st]);
        const uint32_t *o = s->order[k].idx;
        char *seen = calloc(sizes[z] + 1, 1);
        for (size_t i = 0; i < sizes[z]; i++) {
          cr_assert_lt(o[i], sizes[z]);
          cr_assert_not(seen[o[i]], "row %u twice", o[i]);
          seen[o[i]] = 1;
          if (i) cr_assert_leq(ref_rank(s, (bs__insp_sort)k, o[i - 1], o[i]), 0,
                               "%s: rows %zu and %zu out of order", keys[k], i - 1, i);
        }
        free(seen);
        cr_assert_eq(sc.npage, sizes[z] < 1000 ? sizes[z] : 1000);
        bs__insp_scan_free(&sc);
      }
      bs__insp_snap_unref(s);
    }
}
