/* Globals, dead letter recorder, trace, CBOR and stats helpers. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "bst.h"

/* Under ASan, LeakSanitizer's exit-time check would also run in Criterion's
 * runner process, which leaks a small block of its own when running tests
 * in parallel (--jobs 2), failing every test binary. So the exit-time check
 * is off, and each test process checks explicitly where it asserts "no
 * leak" (bst_assert_no_leak), after the engine and its loop are gone. */
#if defined(__SANITIZE_ADDRESS__)
#define BST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BST_LSAN 1
#endif
#endif

#ifdef BST_LSAN
#include <sanitizer/lsan_interface.h>
const char *__lsan_default_options(void) { return "leak_check_at_exit=0"; }
#endif

bst_dl_rec bst_dls[BST_DL_MAX];
size_t bst_dl_count;
uint64_t bst_dl_by_reason[BS_DL__COUNT];
bs_ref bst_dl_forward;

bst_event bst_trace[BST_TRACE_MAX];
size_t bst_trace_len;

bst_reply_rec bst_replies[BST_REPLY_MAX];
size_t bst_reply_count;

bst_globals bst_g;

void bst_reset(void) {
  memset(bst_dls, 0, sizeof bst_dls);
  bst_dl_count = 0;
  memset(bst_dl_by_reason, 0, sizeof bst_dl_by_reason);
  memset(&bst_dl_forward, 0, sizeof bst_dl_forward);
  bst_trace_len = 0;
  bst_reply_count = 0;
  memset(&bst_g, 0, sizeof bst_g);
  bst_g.failinit_code = BS_EINIT;
  bst_g.probe_run_rc = 1000;
  bst_g.probe_await_rc = 1000;
  bst_g.probe_stop_rc = 1000;
  bst_g.pinger_send_rc = 1000;
  bst_g.pinger_request_rc = 1000;
  bst_g.pinger_deinit_send_rc = 1000;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  if (src == NULL) {
    dst[0] = 0;
    return;
  }
  snprintf(dst, cap, "%s", src);
}

void bst_dl_hook(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  if ((int)dl->reason >= 0 && dl->reason < BS_DL__COUNT)
    bst_dl_by_reason[dl->reason]++;
  if (bst_dl_count < BST_DL_MAX) {
    bst_dl_rec *r = &bst_dls[bst_dl_count];
    copy_str(r->target, sizeof r->target, dl->target_id);
    copy_str(r->type, sizeof r->type, dl->type_name);
    copy_str(r->method, sizeof r->method, dl->method_name);
    r->method_null = dl->method_name == NULL;
    r->method_id = dl->method_id;
    r->reason = dl->reason;
    r->code = dl->code;
  }
  bst_dl_count++;
  if (bst_dl_forward.len != 0) bst_add(bst_dl_forward, 1);
}

const bst_dl_rec *bst_dl_find(bs_dead_letter_reason reason) {
  size_t n = bst_dl_count < BST_DL_MAX ? bst_dl_count : BST_DL_MAX;
  for (size_t i = 0; i < n; i++)
    if (bst_dls[i].reason == reason) return &bst_dls[i];
  return NULL;
}

void bst_trace_add(const char *who, int kind, int64_t v) {
  if (bst_trace_len >= BST_TRACE_MAX) return;
  bst_event *ev = &bst_trace[bst_trace_len++];
  copy_str(ev->who, sizeof ev->who, who);
  ev->kind = kind;
  ev->v = v;
}

bs_engine_options bst_options(bst_alloc *a) {
  bs_engine_options o;
  bs_engine_options_init(&o);
  if (a != NULL) o.allocator = bst_allocator(a);
  o.on_dead_letter = bst_dl_hook;
  o.dead_letter_ud = NULL;
  return o;
}

/* ---- CBOR ------------------------------------------------------------------ */

void bst_fill(uint8_t *p, size_t len, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)(x ^ (uint32_t)i);
  }
}

bool bst_check_fill(const uint8_t *p, size_t len, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1u;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    if (p[i] != (uint8_t)(x ^ (uint32_t)i)) return false;
  }
  return true;
}

uint64_t bst_hash(const void *p, size_t len) {
  const uint8_t *b = p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

int bst_encode_int(uint8_t *buf, size_t cap, int64_t v) {
  bs_writer w;
  bs_writer_init(&w, buf, cap);
  int rc = bs_write_int(&w, v);
  return rc < 0 ? rc : (int)w.len;
}

/* ---- Stats ------------------------------------------------------------------ */

bs_engine_stats bst_stats(const bs_engine *e) {
  bs_engine_stats s;
  memset(&s, 0, sizeof s);
  bs_engine_stats_get(e, &s);
  return s;
}

uint64_t bst_dead_sum(const bs_engine_stats *s) {
  uint64_t sum = 0;
  for (int i = 0; i < BS_DL__COUNT; i++) sum += s->dead_by_reason[i];
  return sum;
}

bool bst_invariant(const bs_engine_stats *s) {
  return s->sent == s->delivered + s->dead_letters &&
         s->dead_letters == bst_dead_sum(s);
}

void bst_assert_invariant(const bs_engine *e) {
  bs_engine_stats s = bst_stats(e);
  cr_assert_eq(s.dead_letters, bst_dead_sum(&s),
               "dead_letters %llu != sum of dead_by_reason %llu",
               (unsigned long long)s.dead_letters,
               (unsigned long long)bst_dead_sum(&s));
  cr_assert_eq(s.sent, s.delivered + s.dead_letters,
               "sent %llu != delivered %llu + dead_letters %llu",
               (unsigned long long)s.sent, (unsigned long long)s.delivered,
               (unsigned long long)s.dead_letters);
}

void bst_run(bs_engine *e) {
  int rc = bs_engine_run(e, BS_RUN_UNTIL_DONE);
  cr_assert_eq(rc, 0, "bs_engine_run(UNTIL_DONE) = %d (%s)", rc,
               bs_errname(rc));
}

void bst_spin_ms(uint64_t ms) {
  uint64_t end = uv_hrtime() + ms * 1000000ull;
  while (uv_hrtime() < end) {
  }
}

bs_engine *bst_engine(bst_alloc *a, uint32_t batch, uint32_t budget) {
  bst_alloc_init(a);
  bs_engine_options o = bst_options(a);
  if (batch != 0) o.batch = batch;
  if (budget != 0) o.drain_budget = budget;
  bs_engine *e = NULL;
  int rc = bs_engine_new(&e, &o);
  cr_assert_eq(rc, 0, "bs_engine_new = %d (%s)", rc, bs_errname(rc));
  cr_assert_not_null(e);
  return e;
}

void bst_assert_no_leak(const bst_alloc *a) {
  cr_assert_eq(a->bad_frees, 0, "%llu frees of pointers not from the allocator",
               (unsigned long long)a->bad_frees);
  cr_assert_eq(a->size_mismatches, 0,
               "%llu frees/resizes passed an `old` size that differs from "
               "the size allocated",
               (unsigned long long)a->size_mismatches);
  cr_assert_eq(a->bytes_live, 0, "%zu bytes in %llu blocks leaked",
               a->bytes_live, (unsigned long long)a->blocks_live);
  cr_assert_eq(a->blocks_live, 0, "%llu blocks leaked",
               (unsigned long long)a->blocks_live);
#ifdef BST_LSAN
  cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
               "LeakSanitizer found leaks (report above)");
#endif
}

void bst_engine_free_checked(bs_engine *e, bst_alloc *a) {
  bs_engine_free(e);
  bst_assert_no_leak(a);
}
