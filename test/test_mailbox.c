/* Mailboxes and the message pool: FIFO order, large bodies, statistics. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "bst.h"

static bst_alloc A;

Test(mailbox, fifo_order_of_100k_messages_queued_before_running,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref s;
  cr_assert_eq(bs_actor_get(e, &bst_seq_type, "seq", &s), 0);
  const bs_method *push = &bst_seq_methods[BST_SEQ_PUSH];
  for (uint64_t i = 0; i < 100000; i++)
    cr_assert_eq(bst_send_u64_u64(s, push, 0, i), 0, "send %llu",
                 (unsigned long long)i);
  cr_assert_eq(bs_ref_pending(&s), 100000);
  bst_run(e);
  cr_assert_eq(bst_g.seq_received, 100000);
  cr_assert_eq(bst_g.seq_order_errors, 0, "%llu messages out of order",
               (unsigned long long)bst_g.seq_order_errors);
  bs_engine_stats st = bst_stats(e);
  cr_assert_eq(st.sent, 100000);
  cr_assert_eq(st.delivered, 100000);
  cr_assert_eq(st.dead_letters, 0);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, fifo_order_holds_while_sending_between_iterations,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 7, 50);
  bs_ref s;
  cr_assert_eq(bs_actor_get(e, &bst_seq_type, "seq", &s), 0);
  const bs_method *push = &bst_seq_methods[BST_SEQ_PUSH];
  uint64_t next = 0;
  for (int round = 0; round < 1000; round++) {
    for (int k = 0; k < 100; k++)
      cr_assert_eq(bst_send_u64_u64(s, push, 3, next++), 0);
    bs_engine_run(e, BS_RUN_NOWAIT); /* partial drains in between */
  }
  bst_run(e);
  cr_assert_eq(bst_g.seq_received, 100000);
  cr_assert_eq(bst_g.seq_order_errors, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, one_mailbox_serves_several_senders_in_order, .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref s;
  cr_assert_eq(bs_actor_get(e, &bst_seq_type, "seq", &s), 0);
  const bs_method *push = &bst_seq_methods[BST_SEQ_PUSH];
  /* Interleave ten logical streams into one mailbox. */
  for (uint64_t i = 0; i < 5000; i++)
    for (uint64_t stream = 0; stream < 10; stream++)
      cr_assert_eq(bst_send_u64_u64(s, push, stream, i), 0);
  bst_run(e);
  cr_assert_eq(bst_g.seq_received, 50000);
  cr_assert_eq(bst_g.seq_order_errors, 0);
  for (int stream = 0; stream < 10; stream++)
    cr_assert_eq(bst_g.seq_next[stream], 5000);
  bst_engine_free_checked(e, &A);
}

static void send_and_check_body(bs_engine *e, bs_ref echo, size_t len) {
  uint8_t *buf = malloc(len ? len : 1);
  cr_assert_not_null(buf);
  bst_fill(buf, len, (uint32_t)len);
  uint64_t want = bst_hash(buf, len);
  uint64_t takes = bst_g.echo_takes;
  cr_assert_eq(bst_send_bytes(echo, &bst_echo_methods[BST_ECHO_TAKE], buf, len),
               0, "sending %zu bytes", len);
  memset(buf, 0, len); /* the message owns a copy */
  bst_run(e);
  cr_assert_eq(bst_g.echo_takes, takes + 1, "%zu-byte message not delivered",
               len);
  cr_assert_eq(bst_g.echo_last_len, len);
  cr_assert_eq(bst_g.echo_last_hash, want, "%zu-byte body corrupted", len);
  cr_assert_eq(bst_g.echo_bad_pattern, 0, "%zu-byte body corrupted", len);
  free(buf);
}

Test(mailbox, bodies_of_every_size_class_arrive_intact, .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref echo;
  cr_assert_eq(bs_actor_get(e, &bst_echo_type, "echo", &echo), 0);
  const size_t sizes[] = {0,    1,    23,    24,    55,    56,     63,
                          64,   65,   127,   128,   255,   256,    1000,
                          4095, 4096, 4097,  16384, 65535, 65536,  65537,
                          70000, 262144, 1u << 20, (1u << 20) + 3};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    send_and_check_body(e, echo, sizes[i]);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, a_one_mebibyte_request_and_reply_round_trip_intact,
     .timeout = 30) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref echo;
  cr_assert_eq(bs_actor_get(e, &bst_echo_type, "echo", &echo), 0);
  size_t len = 1u << 20;
  uint8_t *in = malloc(len), *out = malloc(len);
  bst_fill(in, len, 12345);
  for (int round = 0; round < 3; round++) {
    memset(out, 0, len);
    bst_bytes_out o = {out, len, 0};
    bs_writer w;
    memset(&w, 0, sizeof w);
    cr_assert_eq(bs_send_begin(&echo, &bst_echo_methods[BST_ECHO_ECHO], &w), 0);
    bs_write_bytes(&w, in, len);
    cr_assert_eq(bs_request_await(&w, bst_reply_bytes, &o, 0), 0);
    cr_assert_eq(o.len, len);
    cr_assert(memcmp(in, out, len) == 0, "reply body differs (round %d)",
              round);
  }
  free(in);
  free(out);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, 6);
  cr_assert_eq(s.delivered, 6);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, many_large_messages_queued_at_once_arrive_intact,
     .timeout = 60) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref echo;
  cr_assert_eq(bs_actor_get(e, &bst_echo_type, "echo", &echo), 0);
  size_t len = 100000;
  uint8_t *buf = malloc(len);
  bst_fill(buf, len, (uint32_t)len);
  for (int i = 0; i < 64; i++)
    cr_assert_eq(bst_send_bytes(echo, &bst_echo_methods[BST_ECHO_TAKE], buf, len),
                 0);
  free(buf);
  bst_run(e);
  cr_assert_eq(bst_g.echo_takes, 64);
  cr_assert_eq(bst_g.echo_bad_pattern, 0);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, stats_count_sends_requests_and_replies, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  for (int i = 0; i < 10; i++) cr_assert_eq(bst_add(c, 1), 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, 10);
  cr_assert_eq(s.delivered, 0);
  bst_run(e);
  s = bst_stats(e);
  cr_assert_eq(s.sent, 10);
  cr_assert_eq(s.delivered, 10);
  /* A request and its reply are two messages. */
  int64_t v = 0;
  cr_assert_eq(bst_get_await(c, &v, 0), 0);
  cr_assert_eq(v, 10);
  s = bst_stats(e);
  cr_assert_eq(s.sent, 12);
  cr_assert_eq(s.delivered, 12);
  cr_assert_eq(s.dead_letters, 0);
  cr_assert_eq(s.requests_pending, 0);
  cr_assert_eq(s.actors, 1);
  cr_assert_eq(s.active, 1);
  cr_assert_eq(s.activations, 1);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, send_with_bad_arguments_is_einval_and_queues_nothing,
     .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  bs_writer w;
  bs_ref zero;
  memset(&zero, 0, sizeof zero);
  cr_assert_eq(bs_send_begin(&zero, &bst_counter_methods[0], &w), BS_EINVAL);
  cr_assert_eq(bs_send_begin(&c, NULL, &w), BS_EINVAL);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[0], NULL), BS_EINVAL);
  cr_assert_eq(bs_send_end(NULL), BS_EINVAL);
  cr_assert_eq(bs_ref_pending(&c), 0);
  cr_assert_eq(bst_stats(e).sent, 0);
  bst_engine_free_checked(e, &A);
}

Test(mailbox, a_writer_error_releases_the_message, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  bs_writer w;
  memset(&w, 0, sizeof w);
  cr_assert_eq(bs_send_begin(&c, &bst_counter_methods[BST_COUNTER_ADD], &w), 0);
  w.err = BS_EENCODE; /* as a failing generated encoder leaves it */
  cr_assert_eq(bs_send_end(&w), BS_EENCODE);
  cr_assert_eq(bs_ref_pending(&c), 0);
  bst_run(e);
  cr_assert_eq(bst_g.counter_adds, 0);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.sent, 0);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}

/* The wire carries [method_id, args...]: the receiver's table decides what
 * runs. A method descriptor of another type is only a hint and must never
 * run another type's thunk on this actor's state. */
Test(mailbox, the_receivers_method_table_decides_what_runs, .timeout = 10) {
  bst_reset();
  bs_engine *e = bst_engine(&A, 0, 0);
  bs_ref c;
  cr_assert_eq(bs_actor_get(e, &bst_counter_type, "c", &c), 0);
  /* Recorder.note is id 1 with one int64, like Counter.add. */
  cr_assert_eq(
      bst_send_i64(c, &bst_recorder_methods[BST_RECORDER_NOTE], 12), 0);
  /* Recorder.relay is id 2 with (text, int64); Counter's id 2 is get(). */
  cr_assert_eq(bst_send_text_i64(c, &bst_recorder_methods[BST_RECORDER_RELAY],
                                 "x", 1),
               0);
  bst_run(e);
  cr_assert_eq(bst_trace_len, 0, "a Recorder thunk ran on a Counter");
  cr_assert_eq(bst_g.counter_adds, 1);
  cr_assert_eq(bst_g.counter_total, 12);
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_by_reason[BS_DL_UNDECODABLE], 1);
  cr_assert_eq(s.delivered, 1);
  bst_assert_invariant(e);
  bst_engine_free_checked(e, &A);
}
