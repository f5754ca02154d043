/* Blob references inside message bodies, below the generated code: what a
 * body holds, how bs__msg_flatten makes it self-contained for a transport
 * (each reference replaced by a byte string of the blob's bytes, at any
 * depth), and that a flattened body, delivered again, decodes into blobs of
 * their own. Generated proxies with blobs: test/gen/test_gen_blob.c. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"
#include "internal.h"

static bst_alloc A; /* the engine's */
static bst_alloc B; /* the blobs' */

/* ---- A hand-written actor: put(blob, uint) ------------------------------------- */

typedef struct sink {
  uint64_t puts;
} sink;

static struct {
  const void *data; /* bs_blob_data of the last blob put */
  size_t size;
  uint8_t first, last;
  uint64_t tag;
  int puts;
} seen;

static int sink_put(void *self, bs_call *call) {
  const bs_blob *b = NULL;
  uint64_t tag = 0;
  bs_read_blob(&call->args, &b);
  bs_read_uint(&call->args, &tag);
  if (call->args.err) return call->args.err;
  ((sink *)self)->puts++;
  const uint8_t *p = bs_blob_data(b);
  seen.data = p;
  seen.size = bs_blob_size(b);
  seen.first = seen.size ? p[0] : 0;
  seen.last = seen.size ? p[seen.size - 1] : 0;
  seen.tag = tag;
  seen.puts++;
  return 0;
}

static const bs_method sink_methods[] = {{"put", 1, 2, sink_put}};
static const bs_actor_type sink_type = {
    .name = "Sink", .state_size = sizeof(sink), .methods = sink_methods, .method_count = 1};

static const bs_blob *pattern(size_t n, uint8_t seed) {
  void *p;
  const bs_blob *b = bs_blob_alloc(bst_allocator(&B), n, &p);
  cr_assert_not_null(b);
  for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = (uint8_t)(seed + i);
  return b;
}

/* Begins a put to `r` and returns the message being written. */
static bs__msg *begin(const bs_ref *r, bs_writer *w) {
  cr_assert_eq(bs_send_begin(r, &sink_methods[0], w), 0);
  return w->owner;
}

/* The message a writer holds, finished but not sent, and its shard. */
static bs__msg *finish(bs_writer *w, bs__shard **s) {
  *s = w->owner2;
  cr_assert_eq(w->err, 0);
  return bs__writer_finish(w);
}

static void setup(void) {
  memset(&seen, 0, sizeof seen);
  bst_reset();
  bst_alloc_init(&B);
}

/* Every blob of the test was freed: no reference was left behind. */
static void teardown(void) {
  cr_assert_eq(B.bytes_live, 0, "%zu bytes of blobs still held", B.bytes_live);
}

TestSuite(blob, .init = setup, .fini = teardown, .timeout = 20);

Test(blob, a_body_holds_each_blob_once_as_a_reference) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  const bs_blob *a = pattern(100, 1), *b = pattern(200, 2);
  bs_writer w;
  begin(&r, &w);
  bs_write_blob(&w, a);
  bs_write_blob(&w, b);
  bs_write_blob(&w, a);
  bs__shard *s;
  bs__msg *m = finish(&w, &s);
  cr_assert_not_null(m->blobs);
  cr_assert_eq(m->blobs->len, 2, "a blob named twice is held once");
  cr_assert_lt(m->len, 32, "references, not bytes");
  bs__give_back(s, m);
  bs_blob_release(a);
  bs_blob_release(b);
  bst_engine_free_checked(e, &A);
}

Test(blob, flattening_writes_each_reference_as_its_bytes_at_any_depth) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  const bs_blob *a = pattern(40, 10), *b = pattern(3000, 20);
  bs_writer w;
  begin(&r, &w);
  bs_write_array(&w, 2);         /* [a, b] */
  bs_write_blob(&w, a);
  bs_write_blob(&w, b);
  bs_write_map(&w, 1);           /* {1: tag 7 (a)} */
  bs_write_uint(&w, 1);
  bs_write_tag(&w, 7);
  bs_write_blob(&w, a);
  uint8_t open = 0x9f, brk = 0xff; /* [_ b, "x"] */
  bs_write_raw(&w, &open, 1);
  bs_write_blob(&w, b);
  bs_write_cstr(&w, "x");
  bs_write_raw(&w, &brk, 1);
  bs_write_blob(&w, NULL);
  bs__shard *s;
  bs__msg *m = finish(&w, &s);
  static uint8_t flat[8192];
  bs_writer fw;
  bs_writer_init(&fw, flat, sizeof flat);
  cr_assert_eq(bs__msg_flatten(m, &fw), 0);
  bs__give_back(s, m);
  /* Read back with a plain reader: byte strings where the blobs were. */
  bs_reader rd;
  bs_reader_init(&rd, flat, fw.len, NULL);
  uint64_t n = 0, id = 0, k = 0, tag = 0;
  const void *p;
  size_t len;
  cr_assert_eq(bs_read_array(&rd, &n), 0);
  cr_assert_eq(n, 3);
  cr_assert_eq(bs_read_uint(&rd, &id), 0);
  cr_assert_eq(bs_read_array(&rd, &n), 0);
  cr_assert_eq(n, 2);
  cr_assert_eq(bs_read_bytes(&rd, &p, &len), 0);
  cr_assert(len == 40 && memcmp(p, bs_blob_data(a), 40) == 0);
  cr_assert_eq(bs_read_bytes(&rd, &p, &len), 0);
  cr_assert(len == 3000 && memcmp(p, bs_blob_data(b), 3000) == 0);
  cr_assert_eq(bs_read_map(&rd, &n), 0);
  cr_assert_eq(bs_read_uint(&rd, &k), 0);
  cr_assert_eq(bs_read_tag(&rd, &tag), 0);
  cr_assert_eq(tag, 7);
  cr_assert_eq(bs_read_bytes(&rd, &p, &len), 0);
  cr_assert_eq(len, 40);
  cr_assert_eq(*rd.p, 0x9f, "an indefinite array stays one");
  rd.p++;
  cr_assert_eq(bs_read_bytes(&rd, &p, &len), 0);
  cr_assert(len == 3000 && memcmp(p, bs_blob_data(b), 3000) == 0);
  const char *x;
  cr_assert_eq(bs_read_text(&rd, &x, &len), 0);
  cr_assert_eq(*rd.p, 0xff);
  rd.p++;
  cr_assert_eq(bs_read_null(&rd), 0);
  cr_assert(bs_reader_at_end(&rd));
  bs_blob_release(a);
  bs_blob_release(b);
  bst_engine_free_checked(e, &A);
}

Test(blob, a_flattened_body_delivered_again_decodes_into_blobs_of_its_own) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  const bs_blob *b = pattern(5000, 30);
  bs_writer w;
  begin(&r, &w);
  bs_write_blob(&w, b);
  bs_write_uint(&w, 9);
  bs__shard *s;
  bs__msg *m = finish(&w, &s);
  static uint8_t flat[8192];
  bs_writer fw;
  bs_writer_init(&fw, flat, sizeof flat);
  cr_assert_eq(bs__msg_flatten(m, &fw), 0);
  bs__give_back(s, m);
  /* As a transport would deliver it: the flattened arguments after the
   * header and method id a send begins with. */
  bs_reader hdr;
  uint64_t n, id;
  bs_reader_init(&hdr, flat, fw.len, NULL);
  cr_assert_eq(bs_read_array(&hdr, &n), 0);
  cr_assert_eq(bs_read_uint(&hdr, &id), 0);
  size_t live = 0;
  for (int i = 0; i < 2; i++) { /* the first warms the decoding arena */
    if (i == 1) live = A.bytes_live;
    begin(&r, &w);
    bs_write_raw(&w, hdr.p, (size_t)(hdr.end - hdr.p));
    cr_assert_eq(bs_send_end(&w), 0);
    bst_run(e);
  }
  cr_assert_eq(seen.puts, 2);
  cr_assert_eq(seen.tag, 9);
  cr_assert_eq(seen.size, 5000);
  cr_assert_neq(seen.data, bs_blob_data(b), "a blob of its own");
  cr_assert_eq(seen.first, 30);
  cr_assert_eq(seen.last, (uint8_t)(30 + 4999));
  cr_assert_eq(A.bytes_live, live, "its copy was released after the call");
  /* The original goes as a reference: the same bytes. */
  begin(&r, &w);
  bs_write_blob(&w, b);
  bs_write_uint(&w, 10);
  cr_assert_eq(bs_send_end(&w), 0);
  bst_run(e);
  cr_assert_eq(seen.data, bs_blob_data(b));
  bs_blob_release(b);
  bst_engine_free_checked(e, &A);
}

Test(blob, a_body_without_references_flattens_to_itself) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  bs_writer w;
  begin(&r, &w);
  bs_write_bytes(&w, "abc", 3);
  bs_write_uint(&w, 1);
  bs__shard *s;
  bs__msg *m = finish(&w, &s);
  uint8_t flat[64];
  bs_writer fw;
  bs_writer_init(&fw, flat, sizeof flat);
  cr_assert_eq(bs__msg_flatten(m, &fw), 0);
  cr_assert_eq(fw.len, m->len);
  cr_assert_eq(memcmp(flat, m->body, m->len), 0);
  bs__give_back(s, m);
  bst_engine_free_checked(e, &A);
}

Test(blob, flattening_a_body_with_a_bad_reference_is_an_error) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  const bs_blob *b = pattern(10, 40);
  bs_writer w;
  begin(&r, &w);
  bs_write_blob(&w, b);
  bs_write_tag(&w, BS__BLOB_TAG); /* index 5 of a message holding one */
  bs_write_uint(&w, 5);
  bs__shard *s;
  bs__msg *m = finish(&w, &s);
  uint8_t flat[64];
  bs_writer fw;
  bs_writer_init(&fw, flat, sizeof flat);
  cr_assert_eq(bs__msg_flatten(m, &fw), BS_EDECODE);
  /* Too small a buffer: the writer's error. */
  bs_writer_init(&fw, flat, 4);
  cr_assert_eq(bs__msg_flatten(m, &fw), BS_ETOOBIG);
  bs__give_back(s, m);
  bs_blob_release(b);
  bst_engine_free_checked(e, &A);
}

/* Running out of memory for the references of a message: the write fails,
 * the send returns BS_ENOMEM, and nothing keeps the blob. */
Test(blob, no_memory_for_the_references_fails_the_send_and_keeps_nothing) {
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref r;
  cr_assert_eq(bs_actor_get(e, &sink_type, "s", &r), 0);
  const bs_blob *b = pattern(10, 50);
  bst_run(e);
  bs_writer w;
  begin(&r, &w);
  /* Every allocation fails from now on, and the pool's small blocks are
   * taken so that the references' block must be allocated. */
  bs__shard *s = w.owner2;
  bs__msg *held[4096];
  int nheld = 0;
  while (s->pool.free[0] && nheld < 4096) held[nheld++] = bs__msg_get(&s->pool, 0);
  A.fail_at = A.attempts + 1;
  A.fail_from = true;
  cr_assert_eq(bs_write_blob(&w, b), BS_ENOMEM);
  bs_write_uint(&w, 1);
  cr_assert_eq(bs_send_end(&w), BS_ENOMEM);
  A.fail_at = 0;
  for (int i = 0; i < nheld; i++) bs__give_back(s, held[i]);
  bs_blob_release(b); /* ours, the only one: teardown checks it was freed */
  bst_engine_free_checked(e, &A);
}
