/* Hand-written proxies: what backstage-gen will emit, spelled out. */
#include <string.h>

#include "bst.h"

/* A failed bs_send_begin holds no message, so no *_end call follows it. */
#define BEGIN(r, m, w)                                                         \
  bs_writer w;                                                                 \
  memset(&w, 0, sizeof w);                                                     \
  do {                                                                         \
    int begin_rc_ = bs_send_begin(&(r), (m), &w);                               \
    if (begin_rc_ < 0) return begin_rc_;                                       \
  } while (0)

int bst_send0(bs_ref r, const bs_method *m) {
  BEGIN(r, m, w);
  return bs_send_end(&w);
}

int bst_send_i64(bs_ref r, const bs_method *m, int64_t v) {
  BEGIN(r, m, w);
  bs_write_int(&w, v);
  return bs_send_end(&w);
}

int bst_send_u64(bs_ref r, const bs_method *m, uint64_t v) {
  BEGIN(r, m, w);
  bs_write_uint(&w, v);
  return bs_send_end(&w);
}

int bst_send_u64_u64(bs_ref r, const bs_method *m, uint64_t a, uint64_t b) {
  BEGIN(r, m, w);
  bs_write_uint(&w, a);
  bs_write_uint(&w, b);
  return bs_send_end(&w);
}

int bst_send_text(bs_ref r, const bs_method *m, const char *s) {
  BEGIN(r, m, w);
  bs_write_cstr(&w, s);
  return bs_send_end(&w);
}

int bst_send_text_i64(bs_ref r, const bs_method *m, const char *s, int64_t v) {
  BEGIN(r, m, w);
  bs_write_cstr(&w, s);
  bs_write_int(&w, v);
  return bs_send_end(&w);
}

int bst_send_text_text_u64(bs_ref r, const bs_method *m, const char *a,
                           const char *b, uint64_t v) {
  BEGIN(r, m, w);
  bs_write_cstr(&w, a);
  bs_write_cstr(&w, b);
  bs_write_uint(&w, v);
  return bs_send_end(&w);
}

int bst_send_bytes(bs_ref r, const bs_method *m, const void *p, size_t len) {
  BEGIN(r, m, w);
  bs_write_bytes(&w, p, len);
  return bs_send_end(&w);
}

int bst_add(bs_ref counter, int64_t n) {
  return bst_send_i64(counter, &bst_counter_methods[BST_COUNTER_ADD], n);
}

int bst_get_await(bs_ref counter, int64_t *out, uint64_t timeout_ms) {
  return bst_await0_i64(counter, &bst_counter_methods[BST_COUNTER_GET], out,
                        timeout_ms);
}

int bst_reply_i64(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  int64_t v = 0;
  if (status == 0) status = bs_read_i64(value, &v);
  if (fn != NULL)
    ((bst_i64_fn)fn)(ud, status, v);
  else if (status == 0 && ud != NULL)
    *(int64_t *)ud = v;
  return status;
}

int bst_request0_i64(bs_ref r, const bs_method *m, bst_i64_fn fn, void *ud) {
  BEGIN(r, m, w);
  return bs_request_end(&w, bst_reply_i64, (bs_fnptr)fn, ud);
}

int bst_await0_i64(bs_ref r, const bs_method *m, int64_t *out,
                   uint64_t timeout_ms) {
  BEGIN(r, m, w);
  return bs_request_await(&w, bst_reply_i64, out, timeout_ms);
}

void bst_main_cont(void *ud, int status, int64_t value) {
  if (bst_reply_count >= BST_REPLY_MAX) return;
  bst_reply_rec *rec = &bst_replies[bst_reply_count++];
  strcpy(rec->who, "main");
  rec->status = status;
  rec->value = value;
  rec->in_turn = false;
  rec->marker = (int64_t)(intptr_t)ud;
}

int bst_reply_bytes(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  (void)fn;
  bst_bytes_out *out = ud;
  const void *p = NULL;
  size_t len = 0;
  if (status == 0) status = bs_read_bytes(value, &p, &len);
  if (status == 0 && out != NULL) {
    if (len > out->cap) return BS_ETOOBIG;
    if (len > 0) memcpy(out->buf, p, len);
    out->len = len;
  }
  return status;
}
