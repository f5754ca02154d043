/* Blobs between nodes. On one node a message carries references to its
 * blobs; to another node the cluster writes each as a byte string of its
 * contents, which the receiver reads back into a new blob. Checked for
 * every way a blob leaves a node: mail (a blob in a struct), a request's
 * argument (alone, in an array), a request's answer, and stream elements
 * (to a subscriber on another node, and to a placed subscriber whose actor
 * lives there). Sizes 0, 1, 1000 and 200 KiB (under the 1 MiB of a NATS
 * message; 2 MiB is refused); the receiver checks the bytes, not only
 * their number. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cl_actors.bs.h"
#include "cl_harness.h"

static bst_natsd natsd;

static void up(void) { cr_assert_eq(bst_natsd_start(&natsd), 0); }
static void down(void) { bst_natsd_stop(&natsd); }

TestSuite(cluster_blobs, .init = up, .fini = down, .timeout = 60);

static const size_t sizes[] = {0, 1, 1000, 200 * 1024};
enum { NSIZES = sizeof sizes / sizeof *sizes };

static const bs_blob *filled(size_t n) {
  void *p;
  const bs_blob *b = bs_blob_new(n, &p);
  cr_assert_not_null(b);
  cl_fill(p, n);
  return b;
}

/* Both nodes alive with half the partitions each: the balancing is over,
 * so an actor found on a stays there for the test. */
static bool balanced(bs_engine *e, void *ud) {
  (void)ud;
  bs_cluster_node nodes[8];
  int n = bs_cluster_nodes(e, nodes, 8), half = 0;
  for (int i = 0; i < n && i < 8; i++)
    if (nodes[i].alive && nodes[i].partitions == 1024 / 2) half++;
  return half == 2;
}

/* Rounds of the balancing every 200 ms instead of every second. */
static void quick_rounds(bs_cluster_options *co, bs_engine_options *o) {
  (void)o;
  co->heartbeat_ms = 200;
}

/* Node "a" (with a Sink subscribed to blob stream `stream`, if any) and
 * the test's engine "t", balanced. */
static void two_nodes(cl_proc *a, bs_engine **e, const char *stream) {
  char why[128];
  /* Without a stream the first NULL ends the arguments. */
  cr_assert_eq(cl_spawn(a, natsd.url, "a", why, sizeof why, "--heartbeat", "200",
                        stream ? "--blob-sink" : NULL, stream, NULL),
               0, "%s", why);
  cr_assert_eq(cl_engine(e, natsd.url, "t", 1, quick_rounds), 0);
  cr_assert(cl_run_until(*e, 20000, balanced, NULL), "never balanced");
}

/* A Counter that node "a" owns. */
static void counter_on_a(bs_engine *e, const char *prefix, CounterProxy *c) {
  char id[32], where[64];
  for (int i = 0; i < 100000; i++) {
    snprintf(id, sizeof id, "%s-%d", prefix, i);
    cr_assert_eq(cl_where(e, id, where, sizeof where), 0, "where is %s", id);
    if (!strcmp(where, "a")) {
      cr_assert_eq(CounterProxy_get(e, id, c), 0);
      return;
    }
  }
  cr_assert_fail("no actor lands on a");
}

Test(cluster_blobs, blob_arguments_reach_a_remote_actor_as_the_same_bytes) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, NULL);
  CounterProxy c;
  counter_on_a(e, "blob", &c);
  const bs_blob *b[NSIZES];
  for (int i = 0; i < NSIZES; i++) b[i] = filled(sizes[i]);
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});

  /* Mail: a blob in a struct, checked by the receiver against its size and
   * FNV-1a; tally() comes after them (in order from one sender). */
  for (int i = 0; i < NSIZES; i++)
    cr_assert_eq(CounterProxy_take(c, (Parcel){sizes[i], cl_fnv1a(b[i]), b[i]}), 0);
  const char *got = NULL;
  cr_assert_eq(CounterProxy_tally_await_timeout(c, &arena, &got, 5000), 0);
  cr_assert_str_eq(got, "ok 4 bad 0");

  /* A request's argument: the receiver names what it got. */
  char want[256];
  for (int i = 0; i < NSIZES; i++) {
    cl_digest(b[i], want, sizeof want);
    int rc = CounterProxy_digest_await_timeout(c, b[i], &arena, &got, 5000);
    cr_assert_eq(rc, 0, "%zu bytes: %s", sizes[i], bs_errname(rc));
    cr_assert_str_eq(got, want, "%zu bytes", sizes[i]);
  }
  cr_assert_eq(CounterProxy_digest_await_timeout(c, NULL, &arena, &got, 5000), 0);
  cr_assert_str_eq(got, "null");
  /* Its bytes count towards the size of a remote message (1 MiB). */
  const bs_blob *big = filled((size_t)2 << 20);
  cr_assert_eq(CounterProxy_digest_await_timeout(c, big, &arena, &got, 5000), BS_ETOOBIG);
  bs_blob_release(big);

  /* Several in an array, one of them twice: each arrives whole. */
  const bs_blob *items[] = {b[2], b[1], b[3], b[2], b[0], NULL};
  char one[64];
  want[0] = '\0';
  for (size_t i = 0; i < sizeof items / sizeof *items; i++) {
    cl_digest(items[i], one, sizeof one);
    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? " " : "", one);
  }
  int rc = CounterProxy_digests_await_timeout(c, items, sizeof items / sizeof *items, &arena,
                                              &got, 5000);
  cr_assert_eq(rc, 0, "%s", bs_errname(rc));
  cr_assert_str_eq(got, want);

  bs_arena_free(&arena);
  for (int i = 0; i < NSIZES; i++) bs_blob_release(b[i]);
  bs_engine_free(e);
  cr_assert_eq(cl_stop(&a), 0);
}

Test(cluster_blobs, a_blob_returned_by_a_remote_actor_arrives_whole) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, NULL);
  CounterProxy c;
  counter_on_a(e, "maker", &c);
  for (int i = 0; i < NSIZES; i++) {
    const bs_blob *out = NULL;
    int rc = CounterProxy_make_await_timeout(c, (uint32_t)sizes[i], &out, 5000);
    cr_assert_eq(rc, 0, "%zu bytes: %s", sizes[i], bs_errname(rc));
    cr_assert_not_null(out, "%zu bytes", sizes[i]);
    cr_assert_eq(bs_blob_size(out), sizes[i]);
    cr_assert(cl_filled(out), "%zu bytes: not the bytes it made", sizes[i]);
    bs_blob_release(out); /* an await's value is ours */
  }
  /* An answer too large for a NATS message reaches its caller as such. */
  const bs_blob *out = NULL;
  cr_assert_eq(CounterProxy_make_await_timeout(c, 2u << 20, &out, 5000), BS_ETOOBIG);
  cr_assert_null(out);
  bs_engine_free(e);
  cr_assert_eq(cl_stop(&a), 0);
}

typedef struct feed {
  bs_stream_blob s;
  CounterProxy c;
} feed;

/* Publishes NULL (which nobody counts) until a's sink has had one: its
 * subscription reaches NATS shortly after it joins. */
static bool a_hears(bs_engine *e, void *ud) {
  (void)e;
  feed *w = ud;
  if (cl_count("NOBLOB", "a", NULL)) return true;
  bs_stream_next(w->s, NULL);
  return false;
}

static bool all_arrived(bs_engine *e, void *ud) {
  (void)e;
  feed *w = ud;
  for (int i = 0; i < NSIZES; i++)
    if (!cl_count_seq("BLOB", "a", sizes[i])) return false;
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  const char *got = NULL;
  bool done = CounterProxy_tally_await_timeout(w->c, &arena, &got, 1000) == 0 &&
              !strcmp(got, "ok 4 bad 0");
  bs_arena_free(&arena);
  return done;
}

Test(cluster_blobs, blob_stream_elements_reach_subscribers_on_another_node) {
  cl_proc a;
  bs_engine *e;
  two_nodes(&a, &e, "frames");
  feed w;
  cr_assert_eq(bs_stream_blob_get(e, "frames", &w.s), 0);
  /* A subscriber placed on a, subscribed here: its elements go as mail. */
  counter_on_a(e, "eater", &w.c);
  cr_assert_eq(bs_stream_subscribe(w.s, bs_subscriber(bs_ref_id(&w.c.ref), CounterProxy_eat)), 0);
  cr_assert(cl_run_until(e, 20000, a_hears, &w), "a's subscription never took effect");
  for (int i = 0; i < NSIZES; i++) {
    const bs_blob *b = filled(sizes[i]);
    cr_assert_geq(bs_stream_next(w.s, b), 0);
    bs_blob_release(b);
  }
  cl_run_until(e, 10000, all_arrived, &w); /* what is missing, below */
  for (int i = 0; i < NSIZES; i++)
    cr_assert_eq(cl_count_seq("BLOB", "a", sizes[i]), 1, "%zu bytes at a's sink", sizes[i]);
  cr_assert_eq(cl_count("BADBLOB", NULL, NULL), 0);
  bs_arena arena;
  bs_arena_init(&arena, (bs_allocator){NULL, NULL});
  const char *got = NULL;
  cr_assert_eq(CounterProxy_tally_await_timeout(w.c, &arena, &got, 5000), 0);
  cr_assert_str_eq(got, "ok 4 bad 0", "the placed subscriber");
  cr_assert_eq(cl_count("ACT", "t", bs_ref_id(&w.c.ref)), 0, "it ran on a only");
  bs_arena_free(&arena);
  bs_engine_free(e);
  cr_assert_eq(cl_stop(&a), 0);
}
