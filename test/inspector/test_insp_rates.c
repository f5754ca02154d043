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
  bs_stop(r);
  bs_test_run(e, 0);
  a = actor(e, "w");
  cr_assert_not(a.active);
  cr_assert_eq(a.activated_at, 0);
  cr_assert_eq(a.processed, 5, "the stop counts as dispatched");
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
  bs_ref r;
  bs_actor_get(e, &insp_worker_type, "w", &r);
  bs_stop(r);
  bs_test_run(e, 0);
  int n = bs_inspector_trace_get(e, "w", names, BS_INSPECTOR_TRACE_N);
  cr_assert_eq(n, 16);
  for (int i = 0; i < 15; i++) cr_assert_str_eq(names[i], "work");
  cr_assert_str_eq(names[15], "(stop)");
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

/* The snapshot's query, directly: queued mail is visible only while the
 * loop is not running (a served request would run it first). */
Test(insp_rates, queries_sort_by_mailbox_and_clamp_their_window) {
  bs_engine *e = engine_no_server(0, 0);
  it_send(e, &insp_worker_type, "w-05", 9);
  it_send(e, &insp_worker_type, "w-03", 4);
  it_send(e, &insp_worker_type, "w-01", 1);
  bs__insp_query q;
  static const char qs[] = "sort=mailbox&limit=2";
  cr_assert_eq(bs__insp_query_init(&q, qs, sizeof qs - 1), 0);
  cr_assert(bs__insp_query_step(&q, e, 1000));
  cr_assert_eq(q.matched, 3);
  cr_assert_eq(q.ntop, 2);
  cr_assert_str_eq(bs_ref_id((bs_ref){e, q.top[0]}), "w-05");
  cr_assert_str_eq(bs_ref_id((bs_ref){e, q.top[1]}), "w-03");
  bs__insp_query_free(&q);
  /* a scan in steps of 8 slots over 64: not done until the last step */
  static const char qs2[] = "sort=id&q=W-0";
  cr_assert_eq(bs__insp_query_init(&q, qs2, sizeof qs2 - 1), 0);
  int steps = 1;
  while (!bs__insp_query_step(&q, e, 8)) steps++;
  cr_assert_eq(steps, 8);
  cr_assert_eq(q.matched, 3);
  cr_assert_str_eq(bs_ref_id((bs_ref){e, q.top[0]}), "w-01");
  bs__insp_query_free(&q);
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
