/* Shards: one engine over several threads. Mail, requests, stops, streams
 * and timers across shards; UNTIL_DONE's termination check; freeing with
 * mail in flight; every actor only ever running on its own shard's thread.
 *
 * Runs under ThreadSanitizer too (bst_mt.h): the actors keep their state in
 * themselves and count into atomics, nothing else is shared. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#define BST_SUITE shards
#include "bst_mt.h"
#include "bst.h"

/* ---- A thread-checking actor ------------------------------------------------
 * Node: add(int64) [1], push(uint stream, uint seq) [2] (checks per-stream
 * order), get() -> int64 [3], errors() -> int64 [4], fwd(text peer, int64
 * left) [5] (ping-pong: sends fwd(me, left - 1) to Node peer), ask(text peer)
 * [6] (requests peer.get(), the continuation stores the value or status),
 * asked() -> int64 [7], spin(uint ms) [8], tick(uint n) [9] (a repeating
 * bs_timer adding 1 per tick, n ticks), publish(text stream, int64 n) [10]
 * (publishes 0..n-1 to an i64 stream), seq(int64) [11] (checks a 0, 1, 2,
 * ... sequence: a stream subscriber), blob(blob, text peer, int64 left)
 * [12] (reads every byte of the blob, keeps a reference to it in place of
 * the last one, and passes it on to Node peer while left > 0). Its init
 * remembers its thread; every method, continuation, timer and deinit checks
 * it runs there. */

typedef struct Node {
  bs_context *ctx;
  pthread_t thread;
  int64_t sum;
  uint32_t next[16];
  int64_t errors;
  int64_t asked;
  int64_t seq_next;
  uint32_t ticks_left;
  bs_timer timer;
  const bs_blob *kept;
} Node;

static uint64_t g_inits, g_deinits, g_hops, g_adds, g_wrong_thread, g_on_main, g_dl, g_dl_freed;
static pthread_t g_main;

static void bump(uint64_t *c) { __atomic_add_fetch(c, 1, __ATOMIC_RELAXED); }
static uint64_t get(uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

static void here(const Node *n) {
  if (!pthread_equal(n->thread, pthread_self())) bump(&g_wrong_thread);
}

static const bs_actor_type node_type;
static const bs_method node_methods[12];

static int node_init(void *self, bs_context *ctx) {
  Node *n = self;
  n->ctx = ctx;
  n->thread = pthread_self();
  if (pthread_equal(n->thread, g_main)) bump(&g_on_main);
  bump(&g_inits);
  return 0;
}

static void node_deinit(void *self) {
  Node *n = self;
  here(n);
  if (bs_timer_active(&n->timer)) bs_timer_stop(&n->timer);
  bs_blob_release(n->kept);
  bump(&g_deinits);
}

static int m_add(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  Node *n = self;
  here(n);
  n->sum += v;
  bump(&g_adds);
  return 0;
}

static int m_push(void *self, bs_call *call) {
  uint32_t stream = 0, seq = 0;
  bs_read_u32(&call->args, &stream);
  bs_read_u32(&call->args, &seq);
  if (call->args.err) return call->args.err;
  Node *n = self;
  here(n);
  if (n->next[stream % 16] != seq) n->errors++;
  n->next[stream % 16] = seq + 1;
  return 0;
}

static int reply_i64(bs_call *call, int64_t v) {
  if (call->reply) bs_write_int(call->reply, v);
  return call->reply ? call->reply->err : 0;
}

static int m_get(void *self, bs_call *call) {
  here(self);
  return reply_i64(call, ((Node *)self)->sum);
}

static int m_errors(void *self, bs_call *call) {
  here(self);
  return reply_i64(call, ((Node *)self)->errors);
}

static int send_fwd(bs_engine *e, const char *peer, const char *me, int64_t left) {
  bs_ref p;
  int rc = bs_actor_get(e, &node_type, peer, &p);
  if (rc < 0) return rc;
  bs_writer w;
  rc = bs_send_begin(&p, &node_methods[4], &w);
  if (rc < 0) return rc;
  bs_write_cstr(&w, me);
  bs_write_int(&w, left);
  return bs_send_end(&w);
}

static int m_fwd(void *self, bs_call *call) {
  const char *peer = NULL;
  int64_t left = 0;
  bs_read_cstr(&call->args, &peer);
  bs_read_i64(&call->args, &left);
  if (call->args.err) return call->args.err;
  Node *n = self;
  here(n);
  bump(&g_hops);
  if (left > 0) return send_fwd(bs_context_engine(n->ctx), peer, bs_context_id(n->ctx), left - 1);
  return 0;
}

/* Continuation of ask(): on the asking actor's turn. */
static int asked_cont(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  (void)fn;
  Node *n = ud;
  here(n);
  int64_t v = status;
  if (status == 0 && bs_read_i64(value, &v) < 0) v = value->err;
  n->asked = v;
  return 0;
}

static int m_ask(void *self, bs_call *call) {
  const char *peer = NULL;
  if (bs_read_cstr(&call->args, &peer) < 0) return call->args.err;
  Node *n = self;
  here(n);
  bs_ref p;
  int rc = bs_actor_get(bs_context_engine(n->ctx), &node_type, peer, &p);
  bs_writer w;
  if (rc == 0) rc = bs_send_begin(&p, &node_methods[2], &w);
  if (rc == 0) rc = bs_request_end(&w, asked_cont, NULL, n);
  if (rc < 0) n->asked = rc;
  return 0;
}

static int m_asked(void *self, bs_call *call) {
  here(self);
  return reply_i64(call, ((Node *)self)->asked);
}

static int m_spin(void *self, bs_call *call) {
  uint32_t ms = 0;
  if (bs_read_u32(&call->args, &ms) < 0) return call->args.err;
  here(self);
  bst_spin_ms(ms);
  return 0;
}

static void on_tick(bs_timer *t) {
  Node *n = t->data;
  here(n);
  n->sum++;
  if (--n->ticks_left == 0) bs_timer_stop(t);
}

static int m_tick(void *self, bs_call *call) {
  uint32_t ticks = 0;
  if (bs_read_u32(&call->args, &ticks) < 0) return call->args.err;
  Node *n = self;
  here(n);
  n->ticks_left = ticks;
  int rc = bs_timer_init(bs_context_engine(n->ctx), &n->timer);
  n->timer.data = n;
  if (rc == 0) rc = bs_timer_start(&n->timer, on_tick, 2, 2);
  return rc;
}

static int m_publish(void *self, bs_call *call) {
  const char *name = NULL;
  int64_t count = 0;
  bs_read_cstr(&call->args, &name);
  bs_read_i64(&call->args, &count);
  if (call->args.err) return call->args.err;
  Node *n = self;
  here(n);
  bs_stream_i64 s;
  int rc = bs_get_stream(n->ctx, i64, name, &s);
  for (int64_t v = 0; rc >= 0 && v < count; v++) rc = bs_stream_next(s, v);
  return rc < 0 ? rc : 0;
}

static int m_seq(void *self, bs_call *call) {
  int64_t v = 0;
  if (bs_read_i64(&call->args, &v) < 0) return call->args.err;
  Node *n = self;
  here(n);
  if (v != n->seq_next) n->errors++;
  n->seq_next = v + 1;
  n->sum++;
  return 0;
}

static int send_blob(bs_engine *e, const char *peer, const bs_blob *b, const char *me,
                     int64_t left) {
  bs_ref p;
  int rc = bs_actor_get(e, &node_type, peer, &p);
  if (rc < 0) return rc;
  bs_writer w;
  rc = bs_send_begin(&p, &node_methods[11], &w);
  if (rc < 0) return rc;
  bs_write_blob(&w, b);
  bs_write_cstr(&w, me);
  bs_write_int(&w, left);
  return bs_send_end(&w);
}

static int m_blob(void *self, bs_call *call) {
  const bs_blob *b = NULL;
  const char *peer = NULL;
  int64_t left = 0;
  bs_read_blob(&call->args, &b);
  bs_read_cstr(&call->args, &peer);
  bs_read_i64(&call->args, &left);
  if (call->args.err) return call->args.err;
  Node *n = self;
  here(n);
  const uint8_t *p = bs_blob_data(b);
  uint64_t sum = 0;
  for (size_t i = 0; i < bs_blob_size(b); i++) sum += p[i];
  if (sum != (uint64_t)bs_blob_size(b) * 7) n->errors++; /* filled with 7s */
  n->sum++;
  bs_blob_release(n->kept);
  n->kept = bs_blob_retain(b);
  if (left > 0) return send_blob(bs_context_engine(n->ctx), peer, b, bs_context_id(n->ctx), left - 1);
  return 0;
}

static const bs_method node_methods[12] = {
    {"add", 1, 1, m_add},         {"push", 2, 2, m_push},     {"get", 3, 0, m_get},
    {"errors", 4, 0, m_errors},   {"fwd", 5, 2, m_fwd},       {"ask", 6, 1, m_ask},
    {"asked", 7, 0, m_asked},     {"spin", 8, 1, m_spin},     {"tick", 9, 1, m_tick},
    {"publish", 10, 2, m_publish}, {"seq", 11, 1, m_seq},       {"blob", 12, 3, m_blob},
};
enum { ADD, PUSH, GET, ERRORS, FWD, ASK, ASKED, SPIN, TICK, PUBLISH, SEQ, BLOB };

static const bs_actor_type node_type = {
    "Node", sizeof(Node), _Alignof(Node), node_init, node_deinit,
    node_methods, sizeof node_methods / sizeof node_methods[0], NULL, NULL, NULL};

/* ---- Helpers ------------------------------------------------------------------ */

static void dl_hook(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  bump(&g_dl);
  if (dl->reason == BS_DL_ENGINE_FREED) bump(&g_dl_freed);
}

static void reset(void) {
  g_inits = g_deinits = g_hops = g_adds = g_wrong_thread = g_on_main = g_dl = g_dl_freed = 0;
  g_main = pthread_self();
}

static bs_engine *engine(uint32_t shards) {
  reset();
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = shards;
  o.on_dead_letter = dl_hook;
  bs_engine *e = NULL;
  CHECK(bs_engine_new(&e, &o) == 0);
  CHECK(bs_engine_shards(e) == shards);
  return e;
}

static bs_ref node(bs_engine *e, const char *id) {
  bs_ref r;
  CHECK(bs_actor_get(e, &node_type, id, &r) == 0);
  return r;
}

/* The first id "<prefix><k>" that lives on shard `shard`. */
static bs_ref node_on(bs_engine *e, const char *prefix, uint32_t shard) {
  char id[64];
  for (int k = 0; k < 10000; k++) {
    snprintf(id, sizeof id, "%s%d", prefix, k);
    bs_ref r = node(e, id);
    if (bs_ref_shard(&r) == shard) return r;
  }
  CHECKM(0, "no id lands on shard %u", shard);
  return node(e, "unreachable");
}

static int send_i64(bs_ref r, int m, int64_t v) {
  bs_writer w;
  int rc = bs_send_begin(&r, &node_methods[m], &w);
  if (rc < 0) return rc;
  bs_write_int(&w, v);
  return bs_send_end(&w);
}

static int send_u32(bs_ref r, int m, uint32_t v) {
  bs_writer w;
  int rc = bs_send_begin(&r, &node_methods[m], &w);
  if (rc < 0) return rc;
  bs_write_uint(&w, v);
  return bs_send_end(&w);
}

static int send_text(bs_ref r, int m, const char *s) {
  bs_writer w;
  int rc = bs_send_begin(&r, &node_methods[m], &w);
  if (rc < 0) return rc;
  bs_write_cstr(&w, s);
  return bs_send_end(&w);
}

static int send_push(bs_ref r, uint32_t stream, uint32_t seq) {
  bs_writer w;
  int rc = bs_send_begin(&r, &node_methods[PUSH], &w);
  if (rc < 0) return rc;
  bs_write_uint(&w, stream);
  bs_write_uint(&w, seq);
  return bs_send_end(&w);
}

static int64_t ask_i64(bs_ref r, int m, int *rc, uint64_t timeout_ms) {
  int64_t v = -1;
  bs_writer w;
  *rc = bs_send_begin(&r, &node_methods[m], &w);
  if (*rc == 0) *rc = bs_request_await(&w, bst_reply_i64, &v, timeout_ms);
  return v;
}

static int64_t value(bs_ref r, int m) {
  int rc;
  int64_t v = ask_i64(r, m, &rc, 0);
  CHECKM(rc == 0, "await %s on %s: %s", node_methods[m].name, bs_ref_id(&r), bs_errname(rc));
  return v;
}

static bs_engine_stats stats(bs_engine *e) {
  bs_engine_stats s;
  bs_engine_stats_get(e, &s);
  return s;
}

/* ---- Scenarios --------------------------------------------------------------- */

static void mail_to(uint32_t shards) {
  bs_engine *e = engine(shards);
  enum { NODES = 16, MSGS = 2000 };
  bs_ref n[NODES];
  char id[16];
  for (int i = 0; i < NODES; i++) {
    snprintf(id, sizeof id, "n%d", i);
    n[i] = node(e, id);
  }
  for (uint32_t k = 0; k < MSGS; k++)
    for (int i = 0; i < NODES; i++) {
      CHECK(send_push(n[i], 3, k) == 0);
      CHECK(send_i64(n[i], ADD, 1) == 0);
    }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_stats s = stats(e);
  CHECKM(s.delivered == s.sent && s.sent == 2u * NODES * MSGS, "sent %llu delivered %llu",
         (unsigned long long)s.sent, (unsigned long long)s.delivered);
  CHECK(get(&g_adds) == (uint64_t)NODES * MSGS);
  if (shards > 1) CHECK(s.remote_out > 0 && s.remote_in == s.remote_out);
  for (int i = 0; i < NODES; i++) {
    CHECK(value(n[i], GET) == MSGS);
    CHECK(value(n[i], ERRORS) == 0);
  }
  CHECK(get(&g_wrong_thread) == 0);
  uint64_t shards_used = 0;
  for (uint32_t k = 0; k < shards; k++) {
    bs_engine_stats ss;
    CHECK(bs_engine_shard_stats(e, k, &ss) == 0);
    shards_used += ss.actors > 0;
  }
  CHECK(shards_used == shards);
  bs_engine_free(e);
  CHECK(get(&g_deinits) == NODES);
  CHECK(get(&g_wrong_thread) == 0);
}

static void mail_from_main_reaches_two_shards_in_order(void) { mail_to(2); }
static void mail_from_main_reaches_four_shards_in_order(void) { mail_to(4); }

static void one_shard_runs_everything_on_the_home_thread(void) {
  bs_engine *e = engine(1);
  bs_ref a = node(e, "a");
  CHECK(send_i64(a, ADD, 5) == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(value(a, GET) == 5);
  CHECK(get(&g_on_main) == 1);
  bs_engine_free(e);
}

static void actors_on_two_shards_play_ping_pong(void) {
  bs_engine *e = engine(2);
  bs_ref a = node_on(e, "a", 0), b = node_on(e, "b", 1);
  CHECK(send_fwd(e, bs_ref_id(&a), bs_ref_id(&b), 20000) == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(get(&g_hops) == 20001);
  CHECK(get(&g_wrong_thread) == 0);
  bs_engine_stats s = stats(e);
  CHECK(s.sent == s.delivered);
  CHECK(s.remote_out >= 20000);
  bs_engine_free(e);
}

static void many_conversations_cross_shards_at_once(void) {
  bs_engine *e = engine(3);
  enum { PAIRS = 64, HOPS = 500 };
  char a[16], b[16];
  for (int i = 0; i < PAIRS; i++) {
    snprintf(a, sizeof a, "x%d", i);
    snprintf(b, sizeof b, "y%d", i);
    CHECK(send_fwd(e, a, b, HOPS) == 0);
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(get(&g_hops) == (uint64_t)PAIRS * (HOPS + 1));
  CHECK(get(&g_wrong_thread) == 0);
  bs_engine_stats s = stats(e);
  CHECK(s.sent == s.delivered);
  CHECK(s.actors == 2 * PAIRS);
  bs_engine_free(e);
}

static int bogus_invoke(void *self, bs_call *call) {
  (void)self;
  (void)call;
  return 0;
}

static void requests_cross_shards_with_values_and_errors(void) {
  bs_engine *e = engine(2);
  bs_ref a = node_on(e, "a", 0), b = node_on(e, "b", 1);
  CHECK(send_i64(b, ADD, 7) == 0);
  CHECK(send_text(a, ASK, bs_ref_id(&b)) == 0); /* actor to actor, continuation */
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(value(a, ASKED) == 7);
  CHECK(value(b, GET) == 7); /* main awaits a remote actor */
  /* A method the callee's type lacks: the request completes with an error,
   * and the dead letter is reported on the callee's shard. */
  static const bs_method bogus = {"bogus", 999, 0, bogus_invoke};
  bs_writer w;
  int64_t v = 0;
  CHECK(bs_send_begin(&b, &bogus, &w) == 0);
  CHECK(bs_request_await(&w, bst_reply_i64, &v, 0) == BS_ENOMETHOD);
  CHECK(get(&g_dl) == 1);
  CHECK(get(&g_wrong_thread) == 0);
  CHECK(stats(e).requests_pending == 0);
  bs_engine_free(e);
}

static void a_late_answer_from_another_shard_is_an_orphan(void) {
  bs_engine *e = engine(2);
  bs_ref b = node_on(e, "b", 1);
  bs_writer w;
  CHECK(bs_send_begin(&b, &node_methods[SPIN], &w) == 0);
  bs_write_uint(&w, 300);
  int64_t v = 0;
  /* spin() returns nothing, but as a request it still gets an answer */
  CHECK(bs_request_await(&w, bst_reply_i64, &v, 20) == BS_ETIMEDOUT);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_stats s = stats(e);
  CHECK(s.dead_by_reason[BS_DL_ORPHAN_REPLY] == 1);
  CHECK(s.requests_pending == 0);
  CHECK(s.sent == s.delivered + s.dead_letters);
  bs_engine_free(e);
}

static void stop_crosses_shards_and_the_next_message_reactivates(void) {
  bs_engine *e = engine(2);
  bs_ref b = node_on(e, "b", 1);
  /* b's shard runs on its own: while it spins, what main sends next queues
   * up in order, so the last add is behind the pill for sure. */
  CHECK(send_u32(b, SPIN, 200) == 0);
  CHECK(send_i64(b, ADD, 3) == 0);
  CHECK(bs_stop(&b) == 0);
  CHECK(send_i64(b, ADD, 100) == 0); /* behind the pill: dead letter */
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(get(&g_inits) == 1 && get(&g_deinits) == 1);
  bs_engine_stats s = stats(e);
  CHECK(s.actors == 0 && s.collected == 1);
  CHECK(s.dead_by_reason[BS_DL_STOPPED] == 1);
  CHECK(send_i64(b, ADD, 4) == 0);
  CHECK(value(b, GET) == 4); /* a fresh instance */
  CHECK(get(&g_inits) == 2);
  CHECK(get(&g_wrong_thread) == 0);
  bs_engine_free(e);
}

static void streams_reach_subscribers_on_every_shard_in_order(void) {
  bs_engine *e = engine(3);
  enum { SUBS = 24, N = 500 };
  bs_stream_i64 s;
  CHECK(bs_get_stream(e, i64, "s", &s) == 0);
  bs_ref subs[SUBS];
  char id[16];
  for (int i = 0; i < SUBS; i++) {
    snprintf(id, sizeof id, "sub%d", i);
    subs[i] = node(e, id);
    CHECK(bs_stream_add_subscriber(s.s, &node_type, id, &node_methods[SEQ]) == 0);
  }
  for (int64_t v = 0; v < N; v++) CHECK(bs_stream_next(s, v) == SUBS);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_stream_stats st;
  bs_stream_stats_get(s.s, &st);
  CHECK(st.published == N);
  CHECK(st.encodes == N); /* one encode per publish, whatever the shards */
  CHECK(st.deliveries == (uint64_t)SUBS * N);
  for (int i = 0; i < SUBS; i++) {
    CHECK(value(subs[i], GET) == N);
    CHECK(value(subs[i], ERRORS) == 0);
  }
  /* Published from inside an actor on another shard: the same. */
  bs_ref pub = node_on(e, "pub", 2);
  bs_writer w;
  CHECK(bs_send_begin(&pub, &node_methods[PUBLISH], &w) == 0);
  bs_write_cstr(&w, "t");
  bs_write_int(&w, N);
  bs_stream_i64 t;
  CHECK(bs_get_stream(e, i64, "t", &t) == 0);
  for (int i = 0; i < SUBS; i++) {
    snprintf(id, sizeof id, "tsub%d", i);
    CHECK(bs_stream_add_subscriber(t.s, &node_type, id, &node_methods[SEQ]) == 0);
  }
  CHECK(bs_send_end(&w) == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_stream_stats_get(t.s, &st);
  CHECK(st.deliveries == (uint64_t)SUBS * N && st.encodes == N);
  for (int i = 0; i < SUBS; i++) {
    snprintf(id, sizeof id, "tsub%d", i);
    bs_ref r = node(e, id);
    CHECK(value(r, GET) == N);
    CHECK(value(r, ERRORS) == 0);
  }
  CHECK(get(&g_wrong_thread) == 0);
  bs_engine_free(e);
}

static void timers_fire_on_the_actors_shard_and_hold_until_done(void) {
  bs_engine *e = engine(2);
  bs_ref b = node_on(e, "b", 1);
  CHECK(send_u32(b, TICK, 5) == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0); /* waits for the timer */
  CHECK(value(b, GET) == 5);
  CHECK(get(&g_wrong_thread) == 0);
  bs_engine_free(e);
}

static void until_done_waits_for_other_shards_while_home_is_idle(void) {
  bs_engine *e = engine(2);
  bs_ref b = node_on(e, "b", 1);
  for (int i = 0; i < 5; i++) CHECK(send_u32(b, SPIN, 20) == 0);
  CHECK(send_i64(b, ADD, 1) == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_stats s = stats(e);
  CHECK(s.delivered == 6 && s.sent == 6);
  CHECK(get(&g_adds) == 1);
  bs_engine_free(e);
}

static void freeing_with_mail_in_flight_ends_every_message(void) {
  bs_engine *e = engine(2);
  enum { N = 20000 };
  bs_ref a = node_on(e, "a", 0), b = node_on(e, "b", 1);
  for (int i = 0; i < N; i++) {
    CHECK(send_i64(b, ADD, 1) == 0); /* shard 1 works on these meanwhile */
    CHECK(send_i64(a, ADD, 1) == 0); /* home: never run */
  }
  bs_engine_free(e);
  CHECKM(get(&g_adds) + get(&g_dl_freed) == 2u * N, "%llu delivered + %llu freed",
         (unsigned long long)get(&g_adds), (unsigned long long)get(&g_dl_freed));
  CHECK(get(&g_dl) == get(&g_dl_freed));
  CHECK(get(&g_inits) == get(&g_deinits));
  CHECK(get(&g_wrong_thread) == 0);
}

static void zero_shards_means_one_per_core(void) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.shards = 0;
  bs_engine *e = NULL;
  CHECK(bs_engine_new(&e, &o) == 0);
  CHECK(bs_engine_shards(e) == uv_available_parallelism());
  bs_engine_free(e);
}

/* A blob shared by actors on two threads: main's sends, actors passing it
 * back and forth, keeping it; released on whichever thread drops the last
 * reference, its bytes read everywhere (TSan checks the count's ordering). */
static uint64_t g_blob_frees;

static void *blob_alloc(void *ud, void *p, size_t old, size_t n) {
  (void)ud, (void)old;
  if (n == 0) {
    if (p) bump(&g_blob_frees);
    free(p);
    return NULL;
  }
  return realloc(p, n);
}

static void a_blob_is_shared_across_shards_and_freed_once(void) {
  bs_engine *e = engine(2);
  g_blob_frees = 0;
  bs_ref a = node_on(e, "a", 0), b = node_on(e, "b", 1);
  void *data;
  const bs_blob *blob = bs_blob_alloc((bs_allocator){blob_alloc, NULL}, 1 << 16, &data);
  CHECK(blob != NULL);
  memset(data, 7, 1 << 16);
  enum { SENDS = 200, HOPS = 20 };
  for (int i = 0; i < SENDS; i++) {
    bs_ref to = i % 2 ? a : b;
    CHECK(send_blob(e, bs_ref_id(&to), blob, i % 2 ? bs_ref_id(&b) : bs_ref_id(&a), HOPS) == 0);
  }
  bs_blob_release(blob); /* the messages hold it now */
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  CHECK(value(a, GET) + value(b, GET) == SENDS * (HOPS + 1));
  CHECK(value(a, ERRORS) == 0 && value(b, ERRORS) == 0);
  CHECK(get(&g_blob_frees) == 0); /* a and b keep it */
  bs_engine_free(e);
  CHECK(get(&g_blob_frees) == 1);
  CHECK(get(&g_wrong_thread) == 0);
}

#ifdef BS_WITH_INSPECTOR
/* The inspector over two threaded shards: its sampler sweeps each shard on
 * that shard's thread while actors run there, and reads a live actor on
 * its own shard (TSan checks that nothing is read across threads). */
static void the_inspector_reads_each_shard_on_its_own_thread(void) {
  bs_engine *e = engine(2);
  bs_inspector_options o;
  bs_inspector_options_init(&o);
  o.sample_interval_ms = 5;
  CHECK(bs_inspector_start(e, &o) == 0);
  bs_ref a = node_on(e, "a", 0), b = node_on(e, "b", 1);
  uint64_t until = uv_hrtime() + 300000000ull;
  int64_t sent = 0;
  while (uv_hrtime() < until) {
    for (int i = 0; i < 200; i++) {
      CHECK(send_i64(a, ADD, 1) == 0);
      CHECK(send_i64(b, ADD, 1) == 0);
      sent++;
    }
    CHECK(bs_engine_run(e, BS_RUN_NOWAIT) >= 0);
    bs_inspector_actor ia;
    CHECK(bs_inspector_actor_get(e, bs_ref_id(&b), &ia) == 0);
    CHECK(bs_inspector_trace(e, bs_ref_id(&b), (sent / 200) % 2 == 0) == 0);
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_inspector_totals t;
  CHECK(bs_inspector_totals_get(e, &t) == 0);
  CHECK(t.samples > 0);
  CHECK(value(a, GET) == sent && value(b, GET) == sent);
  CHECK(bs_inspector_stop(e) == 0);
  bs_engine_free(e);
}
#define INSPECTOR_SCENARIO(X) X(the_inspector_reads_each_shard_on_its_own_thread, 60)
#else
#define INSPECTOR_SCENARIO(X)
#endif

#define SCENARIOS(X)                                                           \
  INSPECTOR_SCENARIO(X)                                                        \
  X(mail_from_main_reaches_two_shards_in_order, 60)                            \
  X(mail_from_main_reaches_four_shards_in_order, 60)                           \
  X(one_shard_runs_everything_on_the_home_thread, 10)                          \
  X(actors_on_two_shards_play_ping_pong, 60)                                   \
  X(many_conversations_cross_shards_at_once, 60)                               \
  X(requests_cross_shards_with_values_and_errors, 30)                          \
  X(a_late_answer_from_another_shard_is_an_orphan, 30)                         \
  X(stop_crosses_shards_and_the_next_message_reactivates, 30)                  \
  X(streams_reach_subscribers_on_every_shard_in_order, 60)                     \
  X(timers_fire_on_the_actors_shard_and_hold_until_done, 30)                   \
  X(until_done_waits_for_other_shards_while_home_is_idle, 30)                  \
  X(freeing_with_mail_in_flight_ends_every_message, 60)                        \
  X(a_blob_is_shared_across_shards_and_freed_once, 60)                         \
  X(zero_shards_means_one_per_core, 10)

BST_MAIN(SCENARIOS)
