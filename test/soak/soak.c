/* Soak: a random actor graph under load, checking that no message is lost
 * and that memory stays flat.
 *
 *   soak [--messages N | --seconds S] [--seed X] [--nodes N] [--dead-letter]
 *        [--shards N] [--idle-ms MS] [--quiet]
 *
 * Defaults: --messages 300000 --seed 1 --nodes 64 --shards 1, full
 * mailboxes reject (--dead-letter: they dead-letter). With one shard the
 * same seed replays the same run (the engine runs FIFO turns and every
 * random choice, in main and in the actors, comes from one seeded
 * generator). With --shards N the graph is spread over N threads: the books
 * are atomic, each thread draws from its own generator, and a run is no
 * longer replayable. --idle-ms turns idle collection on: actors without
 * mail for that long are deactivated and collected mid-run.
 *
 * Each round, main injects a random mix into the graph of Nodes
 * (soak_actors.h): multi-hop one-way chains (hop), requests between actors
 * with continuations (ask -> value), awaits from main, stream elements (the
 * "ticks" stream, published from main and from inside actors, every Node
 * subscribed), payloads of 0 B to 80 KB with strings, arrays and nested
 * structs (carry), stops from main and from inside (stopSelf) followed by
 * reactivations, subscribers coming and going, and sends into bounded
 * mailboxes (Sinks: capacity 8; Nodes: the engine's 256). Then it runs the
 * engine until idle and checks:
 *
 *   - the engine's invariant: sent == delivered + dead_letters;
 *   - its own books, kept independently of the engine's counters: every
 *     call and element the program queued was received by a method or
 *     reported as a dead letter (calls sent == received + dead letters),
 *     every rejected send was counted as rejected, every accepted request's
 *     continuation ran exactly once or its reply was an ORPHAN_REPLY (its
 *     caller had stopped), every await returned;
 *   - memory: bytes_live (bs_engine_stats) sampled after every round stays,
 *     after the first 50 rounds (warm-up), within 1.5 x the warm-up peak
 *     + 1 MiB.
 * At the end the engine is freed and the counting allocator must have every
 * byte back. Exit status 0 when every check held; the last line is the
 * summary. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "soak_actors.bs.h"

/* ---- Checks ----------------------------------------------------------------- */

static int failures;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "soak: FAILED %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      if (__atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED) > 20) exit(1);    \
    }                                                                          \
  } while (0)

/* ---- Seeded randomness (splitmix64) ---------------------------------------- */

/* One generator per thread: main's is seeded from --seed, a shard thread's
 * from the seed and the first draw's address (shards > 1 only). */
static uint64_t seed = 1;
static _Thread_local uint64_t rng;
static uint64_t rnd(void) {
  if (!rng) rng = seed ^ (uint64_t)(uintptr_t)&rng;
  uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* ---- Counting allocator ----------------------------------------------------- */

static size_t live_bytes, peak_bytes;
static long live_blocks;
#define ATOMIC_ADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_RELAXED)

/* Called from every shard's thread: atomic counts (the peak is a
 * best-effort maximum). */
static void *count_alloc(void *ud, void *p, size_t old, size_t n) {
  (void)ud;
  if (n == 0) {
    if (p) {
      ATOMIC_ADD(live_bytes, (size_t)0 - old);
      ATOMIC_ADD(live_blocks, -1);
    }
    free(p);
    return NULL;
  }
  void *q = realloc(p, n);
  if (!q) return NULL;
  if (p) ATOMIC_ADD(live_bytes, (size_t)0 - old); else ATOMIC_ADD(live_blocks, 1);
  size_t now = ATOMIC_ADD(live_bytes, n);
  if (now > __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED))
    __atomic_store_n(&peak_bytes, now, __ATOMIC_RELAXED);
  return q;
}

/* ---- The graph and the books ------------------------------------------------- */

#define MAX_NODES 1024
#define DEGREE 4
#define NSINKS 4

static bs_engine *engine;
static uint32_t nnodes = 64;
static uint32_t neighbours[MAX_NODES][DEGREE];
static NodeProxy nodes[MAX_NODES];
static SinkProxy sinks[NSINKS];
static bs_stream_i64 ticks;
static bool subscribed[MAX_NODES];

static struct {
  uint64_t calls_sent;       /* calls queued (rc == 0) */
  uint64_t elems_returned;   /* what publishes returned (subscribers then) */
  uint64_t calls_received;   /* method bodies run */
  uint64_t rejected;         /* sends that returned BS_EFULL */
  uint64_t dead_calls;       /* dead letters other than replies */
  uint64_t dead_elem_full;   /* elements dead-lettered at publish (full) */
  uint64_t dead_orphans;     /* ORPHAN_REPLY */
  uint64_t dead_by[BS_DL__COUNT];
  uint64_t requests;         /* accepted requests with continuations */
  uint64_t continuations;    /* continuations run */
  uint64_t cont_errors;      /* ... with a negative status */
  uint64_t awaits, await_errors;
  uint64_t inits, deinits;
  uint64_t big_cargo;
} books;

/* Records the outcome of a send made by the program (main or an actor). */
static void sent(int rc, const char *what) {
  if (rc == 0) {
    ATOMIC_ADD(books.calls_sent, 1);
  } else if (rc == BS_EFULL) {
    ATOMIC_ADD(books.rejected, 1);
  } else {
    EXPECT(false, "%s returned %d (%s)", what, rc, bs_errname(rc));
  }
}

static void on_dead_letter(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  ATOMIC_ADD(books.dead_by[dl->reason], 1);
  if (dl->reason == BS_DL_ORPHAN_REPLY) {
    ATOMIC_ADD(books.dead_orphans, 1);
    return;
  }
  ATOMIC_ADD(books.dead_calls, 1);
  if (dl->reason == BS_DL_MAILBOX_FULL && dl->method_name &&
      strcmp(dl->method_name, "onTick") == 0)
    ATOMIC_ADD(books.dead_elem_full, 1);
  EXPECT(dl->reason == BS_DL_STOPPED || dl->reason == BS_DL_MAILBOX_FULL,
         "unexpected dead letter %s to %s.%s",
         bs_dead_letter_reason_name(dl->reason), dl->target_id,
         dl->method_name ? dl->method_name : "(reply)");
}

/* ---- Node ------------------------------------------------------------------ */

int Node_init(Node *self, bs_context *ctx) {
  self->ctx = ctx;
  self->index = (uint32_t)strtoul(bs_context_id(ctx) + 1, NULL, 10);
  ATOMIC_ADD(books.inits, 1);
  return 0;
}

void Node_deinit(Node *self) {
  (void)self;
  ATOMIC_ADD(books.deinits, 1);
}

static void forward_hop(Node *self, uint32_t ttl, uint64_t token) {
  if (below(8) == 0) {
    sent(SinkProxy_put(sinks[below(NSINKS)], token), "Sink.put from a node");
    return;
  }
  uint32_t to = neighbours[self->index][below(DEGREE)];
  sent(NodeProxy_hop(nodes[to], ttl, token), "Node.hop from a node");
}

int Node_hop(Node *self, uint32_t ttl, uint64_t token) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  self->digest ^= token;
  if (ttl > 0) forward_hop(self, ttl - 1, token * 31 + 1);
  return 0;
}

static void on_value(void *ud, int status, int64_t value) {
  Node *self = ud;
  ATOMIC_ADD(books.continuations, 1);
  if (status < 0) {
    ATOMIC_ADD(books.cont_errors, 1);
    EXPECT(status == BS_ESTOPPED || status == BS_EFULL,
           "continuation status %d (%s)", status, bs_errname(status));
  } else {
    self->digest += (uint64_t)value;
  }
}

int Node_ask(Node *self, uint32_t target, uint64_t token) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  int rc = NodeProxy_value(nodes[target % nnodes], token, on_value, self);
  sent(rc, "Node.value request from a node");
  if (rc == 0) ATOMIC_ADD(books.requests, 1);
  return 0;
}

int64_t Node_value(Node *self, uint64_t token) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  return (int64_t)(token ^ self->index);
}

int Node_onTick(Node *self, int64_t v) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  self->digest += (uint64_t)v;
  return 0;
}

int Node_publish(Node *self, int64_t v) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  bs_stream_i64 t;
  int rc = bs_get_stream(self->ctx, i64, "ticks", &t);
  EXPECT(rc == 0, "bs_get_stream from a node: %d", rc);
  rc = bs_stream_next(t, v);
  EXPECT(rc >= 0, "publish from a node: %d", rc);
  if (rc > 0) ATOMIC_ADD(books.elems_returned, (uint64_t)rc);
  return 0;
}

int Node_stopSelf(Node *self) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  bs_ref me = bs_context_self(self->ctx);
  int rc = bs_stop(&me);
  EXPECT(rc == 0, "bs_stop from inside: %d", rc);
  return 0;
}

int Node_carry(Node *self, const Cargo *cargo, uint32_t hops) {
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  uint64_t h = cargo->token;
  if (cargo->label) h ^= strlen(cargo->label);
  for (size_t i = 0; i < cargo->items_count; i++) h += cargo->items[i];
  EXPECT(cargo->items_count == 0 || cargo->items[cargo->items_count - 1] ==
                                        (uint32_t)(cargo->items_count * 7u),
         "cargo items corrupted");
  self->digest ^= h + (uint64_t)cargo->at.x;
  if (hops > 0)
    sent(NodeProxy_carry(nodes[neighbours[self->index][below(DEGREE)]], cargo,
                         hops - 1),
         "Node.carry from a node");
  return 0;
}

/* ---- Sink ------------------------------------------------------------------- */

int Sink_init(Sink *self, bs_context *ctx) {
  self->ctx = ctx;
  ATOMIC_ADD(books.inits, 1);
  return 0;
}

void Sink_deinit(Sink *self) {
  (void)self;
  ATOMIC_ADD(books.deinits, 1);
}

int Sink_put(Sink *self, uint64_t token) {
  (void)token;
  ATOMIC_ADD(books.calls_received, 1);
  self->received++;
  return 0;
}

/* ---- Main: building and driving ------------------------------------------------ */

static char label_buf[2048];
static uint32_t item_buf[20000];

static void send_cargo(uint32_t to) {
  Cargo c;
  memset(&c, 0, sizeof c);
  c.token = rnd();
  size_t len = below(sizeof label_buf);
  memset(label_buf, 'a' + (int)below(26), len);
  label_buf[len] = 0;
  c.label = below(10) ? label_buf : NULL;
  size_t n = below(300);
  if (below(500) == 0) { /* now and then one of 80 KB: a block of its own */
    n = sizeof item_buf / sizeof item_buf[0];
    ATOMIC_ADD(books.big_cargo, 1);
  }
  for (size_t i = 0; i < n; i++) item_buf[i] = (uint32_t)(i + 1) * 7u;
  c.items = item_buf;
  c.items_count = n;
  c.at.x = (int32_t)below(1000);
  sent(NodeProxy_carry(nodes[to], &c, below(3)), "Node.carry");
}

static void inject(void) {
  uint32_t to = below(nnodes);
  uint32_t op = below(100);
  if (op < 40) {
    sent(NodeProxy_hop(nodes[to], below(9), rnd()), "Node.hop");
  } else if (op < 52) {
    sent(NodeProxy_ask(nodes[to], below(nnodes), rnd()), "Node.ask");
  } else if (op < 62) {
    send_cargo(to);
  } else if (op < 70) {
    sent(NodeProxy_publish(nodes[to], (int64_t)below(1000)), "Node.publish");
  } else if (op < 76) {
    int rc = bs_stream_next(ticks, (int64_t)below(1000));
    EXPECT(rc >= 0, "publish from main: %d", rc);
    if (rc > 0) ATOMIC_ADD(books.elems_returned, (uint64_t)rc);
  } else if (op < 80) {
    sent(NodeProxy_stopSelf(nodes[to]), "Node.stopSelf");
  } else if (op < 84) {
    EXPECT(NodeProxy_stop(nodes[to]) == 0, "NodeProxy_stop");
  } else if (op < 96) {
    sent(SinkProxy_put(sinks[below(NSINKS)], rnd()), "Sink.put");
  } else {
    /* Subscribers come and go. */
    bs_subscriber_i64 sub = bs_subscriber(bs_ref_id(&nodes[to].ref), NodeProxy_onTick);
    int rc = subscribed[to] ? bs_stream_unsubscribe(ticks, sub)
                            : bs_stream_subscribe(ticks, sub);
    EXPECT(rc == 0, "(un)subscribe: %d", rc);
    subscribed[to] = !subscribed[to];
  }
}

static void usage(void) {
  fputs("usage: soak [--messages N | --seconds S] [--seed X] [--nodes N] "
        "[--dead-letter] [--shards N] [--idle-ms MS] [--quiet]\n", stderr);
  exit(2);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  uint64_t target_msgs = 300000, idle_ms = 0;
  uint32_t shards = 1;
  double seconds = 0;
  bool dead_letter = false, quiet = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc)
      target_msgs = strtoull(argv[++i], NULL, 10), seconds = 0;
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = strtod(argv[++i], NULL), target_msgs = 0;
    else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc)
      nnodes = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--dead-letter") == 0)
      dead_letter = true;
    else if (strcmp(argv[i], "--shards") == 0 && i + 1 < argc)
      shards = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--idle-ms") == 0 && i + 1 < argc)
      idle_ms = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--quiet") == 0)
      quiet = true;
    else
      usage();
  }
  if (nnodes < 2 || nnodes > MAX_NODES || (target_msgs == 0 && seconds <= 0) || shards == 0)
    usage();
  rng = seed ? seed : 1;

  bs_engine_options o;
  bs_engine_options_init(&o);
  o.allocator = (bs_allocator){count_alloc, NULL};
  o.on_dead_letter = on_dead_letter;
  o.mailbox_capacity = 256;
  o.mailbox_full = dead_letter ? BS_FULL_DEAD_LETTER : BS_FULL_REJECT;
  o.shards = shards;
  o.idle_timeout_ms = idle_ms;
  if (bs_engine_new(&engine, &o) != 0) return 1;
  EXPECT(bs_engine_set_type_policy(engine, &Sink_actor_type,
                                   &(bs_type_policy){.mailbox_capacity = 8}) == 0,
         "set_type_policy");
  for (uint32_t i = 0; i < nnodes; i++) {
    char id[16];
    snprintf(id, sizeof id, "n%u", i);
    EXPECT(NodeProxy_get(engine, id, &nodes[i]) == 0, "get %s", id);
    for (int k = 0; k < DEGREE; k++) neighbours[i][k] = below(nnodes);
  }
  for (int i = 0; i < NSINKS; i++) {
    char id[16];
    snprintf(id, sizeof id, "sink%d", i);
    EXPECT(SinkProxy_get(engine, id, &sinks[i]) == 0, "get %s", id);
  }
  EXPECT(bs_get_stream(engine, i64, "ticks", &ticks) == 0, "ticks");
  for (uint32_t i = 0; i < nnodes; i += 2) {
    EXPECT(bs_stream_subscribe(ticks, bs_subscriber(bs_ref_id(&nodes[i].ref),
                                                    NodeProxy_onTick)) == 0,
           "subscribe");
    subscribed[i] = true;
  }

  const uint32_t warmup = 50;
  size_t warm_peak = 0, after_peak = 0, last = 0;
  double t0 = now_s(), next_report = t0 + 10;
  uint32_t round = 0;
  bs_engine_stats st;
  memset(&st, 0, sizeof st);
  for (;; round++) {
    for (int i = 0; i < 300; i++) inject();
    /* Awaits from main. */
    for (int i = 0; i < 2; i++) {
      int64_t v = 0;
      uint32_t to = below(nnodes);
      uint64_t token = rnd();
      int rc = NodeProxy_value_await(nodes[to], token, &v);
      ATOMIC_ADD(books.awaits, 1);
      if (rc == 0) {
        ATOMIC_ADD(books.calls_sent, 1); /* the request, received by value() */
        EXPECT(v == (int64_t)(token ^ to), "await value");
      } else {
        /* Rejected (never queued), or queued and dead-lettered: full under
         * the dead-letter policy, or behind a stop. */
        ATOMIC_ADD(books.await_errors, 1);
        EXPECT(rc == BS_EFULL || rc == BS_ESTOPPED, "await returned %d (%s)", rc,
               bs_errname(rc));
        if (rc == BS_EFULL && !dead_letter) ATOMIC_ADD(books.rejected, 1);
        else ATOMIC_ADD(books.calls_sent, 1);
      }
    }
    EXPECT(bs_engine_run(engine, BS_RUN_UNTIL_DONE) == 0, "run");
    if (idle_ms && round % 50 == 49) {
      /* A pause longer than the idle timeout: every shard's collector
       * deactivates what went quiet (the home shard's while its loop runs). */
      uv_sleep((unsigned)(idle_ms * 2));
      EXPECT(bs_engine_run(engine, BS_RUN_NOWAIT) >= 0, "run");
      EXPECT(bs_engine_run(engine, BS_RUN_UNTIL_DONE) == 0, "run");
    }
    bs_engine_stats_get(engine, &st);
    EXPECT(st.sent == st.delivered + st.dead_letters,
           "round %u: sent %" PRIu64 " != delivered %" PRIu64 " + dead %" PRIu64,
           round, st.sent, st.delivered, st.dead_letters);
    EXPECT(st.requests_pending == 0, "requests pending");
    last = st.bytes_live;
    if (round < warmup) {
      if (last > warm_peak) warm_peak = last;
    } else {
      if (last > after_peak) after_peak = last;
      EXPECT(last <= warm_peak + warm_peak / 2 + (1u << 20),
             "round %u: %zu bytes live, warm-up peak %zu", round, last, warm_peak);
    }
    double t = now_s();
    if (!quiet && t >= next_report) {
      printf("soak: %6.0f s, round %u, %" PRIu64 " messages, %zu bytes live\n",
             t - t0, round, st.sent, last);
      fflush(stdout);
      next_report = t + 10;
    }
    if (failures) break;
    if (round + 1 >= warmup + 10 &&
        ((target_msgs && st.sent >= target_msgs) ||
         (seconds > 0 && t - t0 >= seconds)))
      break;
  }
  double elapsed = now_s() - t0;

  /* The books, independent of the engine's counters - except for stream
   * elements: what a publish returns is the number of subscriptions when it
   * was called, and with several shards a subscription may end between the
   * call and the hand-off, so the elements queued are the stream's own
   * count (one shard: the two agree exactly). */
  bs_stream_stats ts;
  bs_stream_stats(ticks, &ts);
  if (shards == 1)
    EXPECT(books.elems_returned == ts.deliveries, "elements: publishes returned %" PRIu64
           ", queued %" PRIu64, books.elems_returned, ts.deliveries);
  EXPECT(books.calls_sent + ts.deliveries + books.dead_elem_full ==
             books.calls_received + books.dead_calls,
         "calls: sent %" PRIu64 " + elements %" PRIu64 " (+%" PRIu64 " dead at "
         "publish) != received %" PRIu64 " + dead %" PRIu64,
         books.calls_sent, ts.deliveries, books.dead_elem_full, books.calls_received,
         books.dead_calls);
  EXPECT(books.requests == books.continuations + books.dead_orphans,
         "requests %" PRIu64 " != continuations %" PRIu64 " + orphans %" PRIu64,
         books.requests, books.continuations, books.dead_orphans);
  EXPECT(books.rejected == st.rejected, "rejected: %" PRIu64 " seen, engine %" PRIu64,
         books.rejected, st.rejected);
  EXPECT(books.inits == st.activations, "inits");
  uint64_t dead_sum = 0;
  for (int i = 0; i < BS_DL__COUNT; i++) {
    EXPECT(books.dead_by[i] == st.dead_by_reason[i], "dead letters %s: %" PRIu64
           " reported, %" PRIu64 " counted", bs_dead_letter_reason_name(i),
           books.dead_by[i], st.dead_by_reason[i]);
    dead_sum += st.dead_by_reason[i];
  }
  EXPECT(dead_sum == st.dead_letters, "dead letter sum");

  bs_engine_free(engine);
  EXPECT(books.inits == books.deinits, "inits %" PRIu64 " != deinits %" PRIu64,
         books.inits, books.deinits);
  EXPECT(live_bytes == 0 && live_blocks == 0, "leaked %zu bytes in %ld blocks",
         live_bytes, live_blocks);

  printf("soak: seed %" PRIu64 ", %s, %u shard(s), idle %" PRIu64 " ms, %u nodes, "
         "%u rounds in %.1f s: %" PRIu64
         " messages (%" PRIu64 " delivered, %" PRIu64 " dead letters: %" PRIu64
         " STOPPED, %" PRIu64 " MAILBOX_FULL, %" PRIu64 " ORPHAN_REPLY), %" PRIu64
         " sends rejected, %" PRIu64 " requests, %" PRIu64 " awaits, %" PRIu64
         " activations, %" PRIu64 " idle deactivations, %" PRIu64 " x 80 KB; bytes live: warm-up peak %zu, "
         "after %zu, last %zu; allocator peak %zu; lost: %s\n",
         seed, dead_letter ? "dead-letter" : "reject", shards, idle_ms, nnodes, round + 1,
         elapsed,
         st.sent, st.delivered, st.dead_letters,
         st.dead_by_reason[BS_DL_STOPPED], st.dead_by_reason[BS_DL_MAILBOX_FULL],
         st.dead_by_reason[BS_DL_ORPHAN_REPLY], st.rejected, books.requests,
         books.awaits, st.activations, st.idle_deactivations, books.big_cargo, warm_peak,
         after_peak,
         last, peak_bytes, failures ? "CHECKS FAILED" : "0");
  return failures ? 1 : 0;
}
