/* Streams at the runtime level, with hand-written subscriber descriptors
 * (test/gen covers generated subscribers and compile-time type checks). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

/* ---- Fixtures: Sub records every element it gets ------------------------- */

#define SUB_MAX 128
#define SEEN_MAX 256

typedef struct Sub {
  bs_context *ctx;
  int n;
  int64_t seen[SEEN_MAX];
  char text[SEEN_MAX][16];
} Sub;

typedef struct SubLog {
  char id[32];
  int inits;
  int deinits;
  int n;                /* elements received, all instances */
  int64_t seen[SEEN_MAX];
  /* array elements (onInts, onTexts): the last one's shape */
  uint64_t count;
  int64_t sum, first, last;
  char joined[64];
} SubLog;

static SubLog logs[SUB_MAX];
static int nlogs;
/* Behaviour switches read by the handlers. */
static int64_t stop_at = -1;          /* Sub stops itself on this element */
static int64_t unsubscribe_at = -1;   /* Sub unsubscribes itself at this one */
static int64_t subscribe_other_at = -1;
static bs_stream *the_stream;
static int fail_init_of = -1;         /* index in logs whose init fails */

static SubLog *log_for(const char *id) {
  for (int i = 0; i < nlogs; i++)
    if (strcmp(logs[i].id, id) == 0) return &logs[i];
  cr_assert_lt(nlogs, SUB_MAX);
  snprintf(logs[nlogs].id, sizeof logs[nlogs].id, "%s", id);
  return &logs[nlogs++];
}

static int sub_init(void *self, bs_context *ctx) {
  ((Sub *)self)->ctx = ctx;
  SubLog *l = log_for(bs_context_id(ctx));
  l->inits++;
  return (int)(l - logs) == fail_init_of ? BS_EINIT : 0;
}

static void sub_deinit(void *self) { log_for(bs_context_id(((Sub *)self)->ctx))->deinits++; }

static const bs_method sub_methods[6];
static const bs_actor_type sub_type;

static void after_element(Sub *s, int64_t v) {
  const char *id = bs_context_id(s->ctx);
  if (v == stop_at) {
    bs_ref me = bs_context_self(s->ctx);
    bs_stop(&me);
  }
  if (v == unsubscribe_at)
    cr_assert_eq(bs_stream_remove_subscriber(the_stream, &sub_type, id, &sub_methods[0]), 0);
  if (v == subscribe_other_at)
    cr_assert_eq(bs_stream_add_subscriber(the_stream, &sub_type, "late", &sub_methods[0]), 0);
}

static int sub_on_int(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  Sub *s = self;
  SubLog *l = log_for(bs_context_id(s->ctx));
  if (s->n < SEEN_MAX) s->seen[s->n] = v;
  s->n++;
  if (l->n < SEEN_MAX) l->seen[l->n] = v;
  l->n++;
  after_element(s, v);
  return 0;
}

static int sub_on_text(void *self, bs_call *call) {
  const char *t;
  if (bs_read_cstr(&call->args, &t) < 0) return call->args.err;
  Sub *s = self;
  SubLog *l = log_for(bs_context_id(s->ctx));
  if (l->n < SEEN_MAX) snprintf(s->text[l->n], sizeof s->text[0], "%s", t);
  if (l->n < SEEN_MAX) l->seen[l->n] = (int64_t)strlen(t);
  l->n++;
  return 0;
}

/* A struct element {x, y, label} as a CBOR map with keys 1, 2, 3. */
typedef struct Tick { int32_t x; int32_t y; const char *label; } Tick;
static Tick last_tick;
static char last_label[32];

static int enc_tick(bs_writer *w, const void *v) {
  const Tick *t = *(const Tick *const *)v; /* a pointer to the ValueT */
  bs_write_map(w, 3);
  bs_write_uint(w, 1), bs_write_int(w, t->x);
  bs_write_uint(w, 2), bs_write_int(w, t->y);
  bs_write_uint(w, 3), bs_write_cstr(w, t->label);
  return w->err;
}
static const bs_elem_type tick_elem = {"Tick", enc_tick};

static int sub_on_tick(void *self, bs_call *call) {
  uint64_t n = 0, k = 0;
  Tick t = {0};
  bs_reader *r = &call->args;
  bs_read_map(r, &n);
  for (uint64_t i = 0; i < n && !r->err; i++) {
    bs_read_uint(r, &k);
    if (k == 1) bs_read_i32(r, &t.x);
    else if (k == 2) bs_read_i32(r, &t.y);
    else if (k == 3) bs_read_cstr(r, &t.label);
    else bs_read_skip(r);
  }
  if (r->err) return r->err;
  last_tick = t;
  snprintf(last_label, sizeof last_label, "%s", t.label ? t.label : "(null)");
  log_for(bs_context_id(((Sub *)self)->ctx))->n++;
  return 0;
}

static int sub_two_args(void *self, bs_call *call) { return 0; }

/* An i64_array element, read as a generated thunk reads an `const int64_t
 * *, size_t` pair: one CBOR array of integers. */
static int sub_on_ints(void *self, bs_call *call) {
  bs_reader *r = &call->args;
  uint64_t n = 0;
  int64_t v = 0, sum = 0, first = 0;
  bs_read_array(r, &n);
  for (uint64_t i = 0; i < n && !r->err; i++) {
    bs_read_i64(r, &v);
    sum += v;
    if (i == 0) first = v;
  }
  if (r->err) return r->err;
  if (r->p != r->end) return BS_EDECODE; /* one array, nothing after it */
  SubLog *l = log_for(bs_context_id(((Sub *)self)->ctx));
  l->count = n;
  l->sum = sum;
  l->first = first;
  l->last = n ? v : 0;
  l->n++;
  return 0;
}

/* A cstr_array element: one CBOR array of texts (or nulls), joined by '|'. */
static int sub_on_texts(void *self, bs_call *call) {
  bs_reader *r = &call->args;
  uint64_t n = 0;
  char joined[64] = "";
  size_t k = 0;
  bs_read_array(r, &n);
  for (uint64_t i = 0; i < n && !r->err; i++) {
    const char *t = NULL;
    if (bs_peek(r) == BS_CBOR_NULL) bs_read_null(r), t = "(null)";
    else bs_read_cstr(r, &t);
    if (!r->err && k < sizeof joined)
      k += (size_t)snprintf(joined + k, sizeof joined - k, "%s%s", i ? "|" : "", t);
  }
  if (r->err) return r->err;
  SubLog *l = log_for(bs_context_id(((Sub *)self)->ctx));
  l->count = n;
  snprintf(l->joined, sizeof l->joined, "%s", joined);
  l->n++;
  return 0;
}

static const bs_method sub_methods[6] = {
    {"onInt", 1, 1, sub_on_int},
    {"onText", 2, 1, sub_on_text},
    {"onTick", 3, 1, sub_on_tick},
    {"twoArgs", 4, 2, sub_two_args},
    {"onInts", 5, 1, sub_on_ints},
    {"onTexts", 6, 1, sub_on_texts},
};
static const bs_actor_type sub_type = {"Sub", sizeof(Sub), 0, sub_init, sub_deinit,
                                       sub_methods, 6, NULL, NULL, NULL};

static void reset(void) {
  bst_reset();
  memset(logs, 0, sizeof logs);
  nlogs = 0;
  stop_at = unsubscribe_at = subscribe_other_at = -1;
  fail_init_of = -1;
  the_stream = NULL;
}

static void subscribe_n(bs_stream *s, int n, const bs_method *m) {
  for (int i = 0; i < n; i++) {
    char id[32];
    snprintf(id, sizeof id, "sub-%d", i);
    cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, id, m), 0);
  }
}

/* ---- Identity and types ---------------------------------------------------- */

Test(stream, get_returns_the_same_stream_for_the_same_id_and_type, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 a, b;
  cr_assert_eq(bs_get_stream(e, i64, "ticks", &a), 0);
  cr_assert_eq(bs_get_stream(e, i64, "ticks", &b), 0);
  cr_assert_eq(a.s, b.s);
  cr_assert_str_eq(bs_stream_id(a.s), "ticks");
  cr_assert_eq(bs_stream_elem_type(a.s), &bs_elem_i64);
  bs_stream_i64 other;
  cr_assert_eq(bs_get_stream(e, i64, "other", &other), 0);
  cr_assert_neq(other.s, a.s);
  bs_engine_free(e);
}

Test(stream, same_id_with_another_element_type_is_ETYPE, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 a;
  bs_stream_cstr b;
  cr_assert_eq(bs_get_stream(e, i64, "news", &a), 0);
  cr_assert_eq(bs_get_stream(e, cstr, "news", &b), BS_ETYPE);
  cr_assert_null(b.s);
  bs_stream *raw;
  cr_assert_eq(bs_stream_get(e, &tick_elem, "news", &raw), BS_ETYPE);
  bs_engine_free(e);
}

Test(stream, streams_and_actors_have_separate_namespaces, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  bs_ref r;
  cr_assert_eq(bs_get_stream(e, i64, "x", &s), 0);
  cr_assert_eq(bs_actor_get(e, &sub_type, "x", &r), 0);
  bs_engine_free(e);
}

Test(stream, bad_arguments_are_errors, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream *s;
  char longid[BS_ID_MAX + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = 0;
  cr_assert_eq(bs_stream_get(e, &bs_elem_i64, "", &s), BS_EIDLEN);
  cr_assert_eq(bs_stream_get(e, &bs_elem_i64, longid, &s), BS_EIDLEN);
  cr_assert_eq(bs_stream_get(NULL, &bs_elem_i64, "a", &s), BS_EINVAL);
  cr_assert_eq(bs_stream_get(e, NULL, "a", &s), BS_EINVAL);
  cr_assert_eq(bs_stream_get(e, &bs_elem_i64, NULL, &s), BS_EINVAL);
  cr_assert_eq(bs_stream_get(e, &bs_elem_i64, "a", &s), 0);
  cr_assert_eq(bs_stream_publish(NULL, &(int64_t){1}), BS_EINVAL);
  cr_assert_eq(bs_stream_publish(s, NULL), BS_EINVAL);
  /* a method of another table, and a two-argument method */
  cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, "a", &bst_counter_methods[0]), BS_EINVAL);
  cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, "a", &sub_methods[3]), BS_EINVAL);
  cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, "", &sub_methods[0]), BS_EIDLEN);
  /* the id of an actor of another type: a different actor, so fine */
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r), 0);
  cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, "counter", &sub_methods[0]), 0);
  bs_engine_free(e);
}

/* ---- Delivery ----------------------------------------------------------------- */

Test(stream, every_subscriber_gets_every_element_in_publish_order, .timeout = 20) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 3, 0); /* small batches: lots of interleaving */
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "numbers", &s), 0);
  subscribe_n(s.s, 20, &sub_methods[0]);
  for (int64_t v = 0; v < 200; v++) {
    cr_assert_eq(bs_stream_next(s, v), 20);
    if (v % 7 == 0) bs_engine_run(e, BS_RUN_NOWAIT); /* deliver some mid-way */
  }
  bst_run(e);
  cr_assert_eq(nlogs, 20);
  for (int i = 0; i < 20; i++) {
    cr_assert_eq(logs[i].n, 200, "%s got %d", logs[i].id, logs[i].n);
    cr_assert_eq(logs[i].inits, 1);
    for (int v = 0; v < 200; v++) cr_assert_eq(logs[i].seen[v], v);
  }
  bs_stream_stats st;
  bs_stream_stats_get(s.s, &st);
  cr_assert_eq(st.published, 200);
  cr_assert_eq(st.deliveries, 4000);
  cr_assert_eq(st.subscribers, 20);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(stream, several_streams_and_publishers_keep_per_stream_order, .timeout = 20) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 2, 0);
  bs_stream_i64 s[4];
  for (int k = 0; k < 4; k++) {
    char id[16];
    snprintf(id, sizeof id, "s%d", k);
    cr_assert_eq(bs_get_stream(e, i64, id, &s[k]), 0);
    /* subscriber j listens to streams k <= j */
    for (int j = k; j < 4; j++) {
      snprintf(id, sizeof id, "sub-%d", j);
      cr_assert_eq(bs_stream_add_subscriber(s[k].s, &sub_type, id, &sub_methods[0]), 0);
    }
  }
  /* interleaved publishers; element value encodes (stream, seq) */
  for (int64_t seq = 0; seq < 50; seq++)
    for (int k = 3; k >= 0; k--) bs_stream_next(s[k], k * 1000 + seq);
  bst_run(e);
  for (int j = 0; j < 4; j++) {
    char id[16];
    snprintf(id, sizeof id, "sub-%d", j);
    SubLog *l = log_for(id);
    cr_assert_eq(l->n, 50 * (j + 1));
    int64_t next[4] = {0, 0, 0, 0};
    for (int i = 0; i < l->n; i++) {
      int k = (int)(l->seen[i] / 1000);
      cr_assert_eq(l->seen[i] % 1000, next[k]++, "stream %d out of order for sub-%d", k, j);
    }
  }
  bst_assert_invariant(e);
  bs_engine_free(e);
}

Test(stream, string_elements_arrive_intact, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_cstr news;
  cr_assert_eq(bs_get_stream(e, cstr, "news", &news), 0);
  cr_assert_eq(bs_stream_subscribe(news, ((bs_subscriber_cstr){"reader", &sub_type, &sub_methods[1]})), 0);
  cr_assert_eq(bs_stream_next(news, "first"), 1);
  cr_assert_eq(bs_stream_next(news, ""), 1);
  cr_assert_eq(bs_stream_next(news, "third headline"), 1);
  bst_run(e);
  SubLog *l = log_for("reader");
  cr_assert_eq(l->n, 3);
  cr_assert_eq(l->seen[0], 5);
  cr_assert_eq(l->seen[1], 0);
  cr_assert_eq(l->seen[2], 14);
  bs_engine_free(e);
}

Test(stream, struct_elements_arrive_intact, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream *s;
  cr_assert_eq(bs_stream_get(e, &tick_elem, "ticks", &s), 0);
  cr_assert_eq(bs_stream_add_subscriber(s, &sub_type, "t", &sub_methods[2]), 0);
  Tick t = {-7, 123456, "north-east"};
  const Tick *value = &t;
  cr_assert_eq(bs_stream_publish(s, &value), 1);
  bst_run(e);
  cr_assert_eq(last_tick.x, -7);
  cr_assert_eq(last_tick.y, 123456);
  cr_assert_str_eq(last_label, "north-east");
  bs_engine_free(e);
}

Test(stream, fanout_to_100_subscribers_encodes_once_and_shares_the_body, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "fan", &s), 0);
  subscribe_n(s.s, 100, &sub_methods[0]);
  for (int64_t v = 0; v < 10; v++) cr_assert_eq(bs_stream_next(s, v), 100);
  bs_stream_stats st;
  bs_stream_stats_get(s.s, &st);
  cr_assert_eq(st.encodes, 10);
  cr_assert_eq(st.deliveries, 1000);
  bst_run(e);
  for (int i = 0; i < 100; i++) cr_assert_eq(logs[i].n, 10);
  bst_engine_free_checked(e, &a); /* every shared body returned exactly once */
}

Test(stream, publishing_with_no_subscribers_is_counted_and_costs_nothing, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "quiet", &s), 0);
  bs_engine_stats before = bst_stats(e);
  cr_assert_eq(bs_stream_next(s, 1), 0);
  bs_engine_stats after = bst_stats(e);
  cr_assert_eq(after.sent, before.sent);
  cr_assert_eq(after.alloc_calls, before.alloc_calls);
  bs_stream_stats st;
  bs_stream_stats_get(s.s, &st);
  cr_assert_eq(st.published, 1);
  cr_assert_eq(st.encodes, 0);
  bs_engine_free(e);
}

/* ---- Subscriptions -------------------------------------------------------------- */

Test(stream, subscribing_twice_is_one_subscription, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  cr_assert_eq(bs_stream_add_subscriber(s.s, &sub_type, "a", &sub_methods[0]), 0);
  cr_assert_eq(bs_stream_add_subscriber(s.s, &sub_type, "a", &sub_methods[0]), 0);
  cr_assert_eq(bs_stream_next(s, 5), 1);
  bst_run(e);
  cr_assert_eq(log_for("a")->n, 1);
  bs_engine_free(e);
}

Test(stream, unsubscribe_stops_later_elements, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  subscribe_n(s.s, 3, &sub_methods[0]);
  bs_stream_next(s, 1);
  cr_assert_eq(bs_stream_remove_subscriber(s.s, &sub_type, "sub-1", &sub_methods[0]), 0);
  cr_assert_eq(bs_stream_remove_subscriber(s.s, &sub_type, "sub-1", &sub_methods[0]), BS_ENOTFOUND);
  cr_assert_eq(bs_stream_next(s, 2), 2);
  bst_run(e);
  cr_assert_eq(log_for("sub-0")->n, 2);
  cr_assert_eq(log_for("sub-1")->n, 1, "queued before the unsubscribe: still delivered");
  cr_assert_eq(log_for("sub-2")->n, 2);
  cr_assert_eq(log_for("sub-2")->seen[1], 2);
  bs_engine_free(e);
}

Test(stream, subscribe_and_unsubscribe_during_delivery, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 1, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  the_stream = s.s;
  subscribe_n(s.s, 2, &sub_methods[0]);
  unsubscribe_at = 3;     /* each subscriber leaves on element 3 */
  subscribe_other_at = 3; /* and brings in "late" */
  for (int64_t v = 0; v < 6; v++) {
    bs_stream_next(s, v);
    bst_run(e); /* one element at a time: each sees the subscriptions of its time */
  }
  cr_assert_eq(log_for("sub-0")->n, 4); /* 0..3 */
  cr_assert_eq(log_for("sub-1")->n, 4);
  SubLog *late = log_for("late");
  cr_assert_eq(late->n, 2); /* 4, 5 */
  cr_assert_eq(late->seen[0], 4);
  cr_assert_eq(late->seen[1], 5);
  bst_assert_invariant(e);
  bs_engine_free(e);
}

Test(stream, a_subscriber_stopped_mid_stream_is_reactivated_by_the_next_element,
     .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  subscribe_n(s.s, 2, &sub_methods[0]);
  bs_ref sub0;
  cr_assert_eq(bs_actor_get(e, &sub_type, "sub-0", &sub0), 0);
  for (int64_t v = 0; v < 3; v++) bs_stream_next(s, v);
  cr_assert_eq(bs_stop(&sub0), 0);
  for (int64_t v = 3; v < 5; v++) bs_stream_next(s, v); /* behind the pill */
  bst_run(e);
  SubLog *l = log_for("sub-0");
  cr_assert_eq(l->n, 3, "got %d", l->n);
  cr_assert_eq(l->deinits, 1);
  cr_assert_eq(log_for("sub-1")->n, 5);
  cr_assert_eq(bst_dl_by_reason[BS_DL_STOPPED], 2);
  const bst_dl_rec *dl = bst_dl_find(BS_DL_STOPPED);
  cr_assert_not_null(dl);
  cr_assert_str_eq(dl->target, "sub-0");
  cr_assert_str_eq(dl->method, "onInt");
  cr_assert_str_eq(dl->type, "Sub");
  bs_stream_next(s, 5);
  bst_run(e);
  cr_assert_eq(l->inits, 2, "re-activated, still subscribed");
  cr_assert_eq(l->n, 4);
  cr_assert_eq(l->seen[3], 5);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &a);
}

Test(stream, a_subscriber_stopping_itself_still_gets_what_was_queued_before_its_pill,
     .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  subscribe_n(s.s, 1, &sub_methods[0]);
  stop_at = 2;
  for (int64_t v = 0; v < 5; v++) bs_stream_next(s, v); /* 3, 4 queued before the pill */
  bst_run(e);
  SubLog *l = log_for("sub-0");
  cr_assert_eq(l->n, 5);
  cr_assert_eq(l->deinits, 1);
  cr_assert_eq(bst_dl_by_reason[BS_DL_STOPPED], 0);
  bs_stream_next(s, 5);
  bst_run(e);
  cr_assert_eq(l->inits, 2);
  cr_assert_eq(l->seen[5], 5);
  bs_engine_free(e);
}

Test(stream, elements_for_a_subscriber_whose_init_fails_are_dead_letters, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  subscribe_n(s.s, 2, &sub_methods[0]); /* logs[0] = sub-0, logs[1] = sub-1 after init */
  log_for("sub-0");
  log_for("sub-1");
  fail_init_of = 1;
  bs_stream_next(s, 1);
  bs_stream_next(s, 2);
  bst_run(e);
  cr_assert_eq(log_for("sub-0")->n, 2);
  cr_assert_eq(log_for("sub-1")->n, 0);
  cr_assert_eq(bst_dl_by_reason[BS_DL_INIT_FAILED], 2);
  bst_assert_invariant(e);
  bs_engine_free(e);
}

Test(stream, engine_free_with_elements_queued_releases_shared_bodies, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  subscribe_n(s.s, 5, &sub_methods[0]);
  for (int64_t v = 0; v < 10; v++) bs_stream_next(s, v);
  bst_engine_free_checked(e, &a);
  cr_assert_eq(bst_dl_by_reason[BS_DL_ENGINE_FREED], 50);
}

/* ---- Dynamic array elements ----------------------------------------------------- */

static bs_subscriber_i64_array ints_sub(const char *id) {
  return (bs_subscriber_i64_array){id, &sub_type, &sub_methods[4]};
}

Test(stream, i64_array_elements_arrive_whole_and_empty_ones_too, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64_array batches;
  cr_assert_eq(bs_get_stream(e, i64_array, "batches", &batches), 0);
  cr_assert_eq(bs_stream_elem_type(batches.s), &bs_elem_i64_array);
  cr_assert_eq(bs_stream_subscribe(batches, ints_sub("sink")), 0);
  int64_t v[3] = {1, 2, 3};
  SubLog *l = log_for("sink");
  cr_assert_eq(bs_stream_next(batches, ((bs_array_i64){v, 3})), 1);
  bst_run(e);
  cr_assert_eq(l->n, 1);
  cr_assert_eq(l->count, 3);
  cr_assert_eq(l->sum, 6);
  cr_assert_eq(l->first, 1);
  cr_assert_eq(l->last, 3);
  const int64_t edges[2] = {INT64_MIN, INT64_MAX};
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, edges, 2)), 1);
  bst_run(e);
  cr_assert_eq(l->count, 2);
  cr_assert_eq(l->first, INT64_MIN);
  cr_assert_eq(l->last, INT64_MAX);
  /* empty: NULL items or not */
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, NULL, 0)), 1);
  bst_run(e);
  cr_assert_eq(l->n, 3);
  cr_assert_eq(l->count, 0);
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, v, 0)), 1);
  bst_run(e);
  cr_assert_eq(l->n, 4);
  cr_assert_eq(l->count, 0);
  bst_engine_free_checked(e, &a);
}

/* The element's bytes: one CBOR array, each item as the scalar element
 * type writes it, which is what backstage-gen writes for a `const int64_t
 * *, size_t` parameter (test/gen checks that against a proxy's message). */
Test(stream, an_array_element_is_one_CBOR_array_of_its_items, .timeout = 10) {
  const int64_t v[4] = {-1, 0, 24, 1000000};
  uint8_t want[64], got[64];
  bs_writer w;
  bs_writer_init(&w, want, sizeof want);
  bs_write_array(&w, 4);
  for (int i = 0; i < 4; i++) bs_write_int(&w, v[i]);
  size_t want_len = w.len;
  bs_array_i64 value = bs_array(i64, v, 4);
  bs_writer_init(&w, got, sizeof got);
  cr_assert_eq(bs_elem_i64_array.encode(&w, &value), 0);
  cr_assert_eq(w.len, want_len);
  cr_assert_arr_eq(got, want, want_len);

  const char *const names[3] = {"a", NULL, "bc"};
  bs_writer_init(&w, want, sizeof want);
  bs_write_array(&w, 3);
  for (int i = 0; i < 3; i++) bs_write_cstr(&w, names[i]);
  want_len = w.len;
  bs_array_cstr texts = bs_array(cstr, names, 3);
  bs_writer_init(&w, got, sizeof got);
  cr_assert_eq(bs_elem_cstr_array.encode(&w, &texts), 0);
  cr_assert_eq(w.len, want_len);
  cr_assert_arr_eq(got, want, want_len);

  /* an empty array is the one-byte empty CBOR array */
  bs_array_double none = bs_array(double, NULL, 0);
  bs_writer_init(&w, got, sizeof got);
  cr_assert_eq(bs_elem_double_array.encode(&w, &none), 0);
  cr_assert_eq(w.len, 1);
  cr_assert_eq(got[0], 0x80);
}

Test(stream, cstr_array_elements_arrive_intact, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_cstr_array s;
  cr_assert_eq(bs_get_stream(e, cstr_array, "names", &s), 0);
  cr_assert_eq(bs_stream_subscribe(s, ((bs_subscriber_cstr_array){"r", &sub_type, &sub_methods[5]})), 0);
  const char *const names[4] = {"ada", "", NULL, "grace"};
  cr_assert_eq(bs_stream_next(s, bs_array(cstr, names, 4)), 1);
  bst_run(e);
  SubLog *l = log_for("r");
  cr_assert_eq(l->n, 1);
  cr_assert_eq(l->count, 4);
  cr_assert_str_eq(l->joined, "ada||(null)|grace");
  bs_engine_free(e);
}

Test(stream, array_element_types_are_distinct_from_each_other_and_from_scalars,
     .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64_array batches;
  bs_stream_i64 one;
  bs_stream_i32_array narrow;
  bs_stream_bytes raw;
  bs_stream_u8 byte;
  cr_assert_eq(bs_get_stream(e, i64_array, "x", &batches), 0);
  cr_assert_eq(bs_get_stream(e, i64, "x", &one), BS_ETYPE);
  cr_assert_eq(bs_get_stream(e, i32_array, "x", &narrow), BS_ETYPE);
  cr_assert_eq(bs_get_stream(e, bytes, "x", &raw), BS_ETYPE);
  cr_assert_eq(bs_get_stream(e, u8, "x", &byte), BS_ETYPE);
  cr_assert_null(one.s);
  cr_assert_str_eq(bs_elem_i64_array.name, "bs_array_i64");
  bs_engine_free(e);
}

Test(stream, NULL_items_with_a_count_are_EINVAL_and_queue_nothing, .timeout = 10) {
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64_array batches;
  cr_assert_eq(bs_get_stream(e, i64_array, "batches", &batches), 0);
  cr_assert_eq(bs_stream_subscribe(batches, ints_sub("sink")), 0);
  bs_engine_stats before = bst_stats(e);
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, NULL, 3)), BS_EINVAL);
  bs_engine_stats after = bst_stats(e);
  cr_assert_eq(after.sent, before.sent);
  bs_stream_stats st;
  bs_stream_stats_get(batches.s, &st);
  cr_assert_eq(st.published, 0);
  cr_assert_eq(st.encodes, 0);
  bst_run(e);
  cr_assert_eq(log_for("sink")->n, 0);
  bst_engine_free_checked(e, &a);
}

/* 200k items (~1.8 MB encoded) to 100 subscribers: one encode, one shared
 * body, every subscriber decoding all of it. */
Test(stream, a_large_array_fanned_out_to_100_subscribers_is_one_encode, .timeout = 60) {
  enum { N = 200000, SUBS = 100 };
  reset();
  bst_alloc a;
  bs_engine *e = bst_engine(&a, 0, 0);
  bs_stream_i64_array batches;
  cr_assert_eq(bs_get_stream(e, i64_array, "batches", &batches), 0);
  subscribe_n(batches.s, SUBS, &sub_methods[4]);
  static int64_t v[N];
  int64_t sum = 0;
  for (int i = 0; i < N; i++) sum += v[i] = (int64_t)i * 40503 - 1000000000;
  cr_assert_eq(bs_stream_next(batches, bs_array(i64, v, N)), SUBS);
  bs_stream_stats st;
  bs_stream_stats_get(batches.s, &st);
  cr_assert_eq(st.encodes, 1);
  cr_assert_eq(st.deliveries, SUBS);
  bst_run(e);
  for (int i = 0; i < SUBS; i++) {
    cr_assert_eq(logs[i].n, 1, "%s", logs[i].id);
    cr_assert_eq(logs[i].count, N);
    cr_assert_eq(logs[i].sum, sum);
    cr_assert_eq(logs[i].first, v[0]);
    cr_assert_eq(logs[i].last, v[N - 1]);
  }
  bst_engine_free_checked(e, &a); /* the shared body returned exactly once */
}

/* ---- Allocation failure ---------------------------------------------------------- */

Test(stream, allocation_failure_during_next_queues_nothing_and_leaks_nothing,
     .timeout = 30) {
  reset();
  int failures = 0;
  for (uint64_t n = 1; n < 200; n++) {
    bst_alloc a;
    bs_engine *e = bst_engine(&a, 0, 0);
    bs_stream_cstr s;
    cr_assert_eq(bs_get_stream(e, cstr, "n", &s), 0);
    subscribe_n(s.s, 10, &sub_methods[1]);
    bs_stream_next(s, "warm"); /* not delivered yet: the pool stays cold */
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    bs_engine_stats before = bst_stats(e);
    a.fail_at = a.attempts + n;
    int rc = bs_stream_next(s, big);
    bs_engine_stats after = bst_stats(e);
    a.fail_at = 0;
    if (rc == BS_ENOMEM) {
      failures++;
      cr_assert_eq(after.sent, before.sent, "n=%llu: a failed next queued messages",
                   (unsigned long long)n);
    } else {
      cr_assert_eq(rc, 10);
      cr_assert_eq(after.sent, before.sent + 10);
    }
    bst_run(e);
    for (int i = 0; i < 10; i++) cr_assert_eq(logs[i].n, rc == BS_ENOMEM ? 1 : 2);
    bst_assert_invariant(e);
    bst_engine_free_checked(e, &a);
    memset(logs, 0, sizeof logs);
    nlogs = 0;
    if (rc != BS_ENOMEM) break;
  }
  cr_assert_gt(failures, 5, "the failing allocator should hit several sites");
  cr_log_info("stream next: %d allocation failure points covered", failures);
}

/* The same with an array element whose encoding grows the body through
 * several allocations. */
Test(stream, allocation_failure_while_encoding_an_array_queues_nothing_and_leaks_nothing,
     .timeout = 60) {
  enum { N = 20000 };
  static int64_t v[N];
  for (int i = 0; i < N; i++) v[i] = (int64_t)i * 7919;
  reset();
  int failures = 0;
  for (uint64_t n = 1; n < 400; n++) {
    bst_alloc a;
    bs_engine *e = bst_engine(&a, 0, 0);
    bs_stream_i64_array s;
    cr_assert_eq(bs_get_stream(e, i64_array, "n", &s), 0);
    subscribe_n(s.s, 10, &sub_methods[4]);
    bs_engine_stats before = bst_stats(e);
    a.fail_at = a.attempts + n;
    int rc = bs_stream_next(s, bs_array(i64, v, N));
    bs_engine_stats after = bst_stats(e);
    a.fail_at = 0;
    if (rc == BS_ENOMEM) {
      failures++;
      cr_assert_eq(after.sent, before.sent, "n=%llu: a failed next queued messages",
                   (unsigned long long)n);
    } else {
      cr_assert_eq(rc, 10);
      cr_assert_eq(after.sent, before.sent + 10);
    }
    bst_run(e);
    for (int i = 0; i < 10; i++) {
      cr_assert_eq(logs[i].n, rc == BS_ENOMEM ? 0 : 1);
      if (rc != BS_ENOMEM) cr_assert_eq(logs[i].count, N);
    }
    bst_assert_invariant(e);
    bst_engine_free_checked(e, &a);
    memset(logs, 0, sizeof logs);
    nlogs = 0;
    if (rc != BS_ENOMEM) break;
  }
  cr_assert_gt(failures, 2, "the failing allocator should hit several sites");
  cr_log_info("array next: %d allocation failure points covered", failures);
}

Test(stream, unsubscribing_an_unknown_actor_creates_nothing, .timeout = 10) {
  reset();
  bs_engine *e = bst_engine(&(bst_alloc){0}, 0, 0);
  bs_stream_i64 s;
  cr_assert_eq(bs_get_stream(e, i64, "n", &s), 0);
  uint64_t before = bst_stats(e).actors;
  cr_assert_eq(bs_stream_remove_subscriber(s.s, &sub_type, "nobody", &sub_methods[0]),
               BS_ENOTFOUND);
  cr_assert_eq(bst_stats(e).actors, before, "no cell was created");
  /* An actor of another type with that id has no subscription either. */
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "counter", &r), 0);
  cr_assert_eq(bst_add(r, 1), 0);
  cr_assert_eq(bs_stream_remove_subscriber(s.s, &sub_type, "counter", &sub_methods[0]),
               BS_ENOTFOUND);
  bs_engine_free(e);
}
