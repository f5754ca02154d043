/* CBOR -> JSON for an actor's state as its encode_state writes it (the
 * generated ones: maps keyed by field name, see docs/inspector.md). Map keys
 * that are not text become strings ("123"); byte strings become hex
 * strings; tags are dropped (their content stays); undefined is null.
 * Nesting is bounded by BS_CBOR_MAX_DEPTH, so hostile input cannot exhaust
 * the stack. */
#include <stdio.h>

#include "inspector/insp.h"

static int value(bs__sb *b, bs_reader *r, int depth);

static int scalar_int(bs__sb *b, bs_reader *r, bs_cbor_type t) {
  if (t == BS_CBOR_UINT) {
    uint64_t u;
    if (bs_read_uint(r, &u) < 0) return BS_EDECODE;
    bs__sb_printf(b, "%llu", (unsigned long long)u);
    return 0;
  }
  int64_t i;
  if (bs_read_int(r, &i) == 0) {
    bs__sb_printf(b, "%lld", (long long)i);
    return 0;
  }
  /* below INT64_MIN: not representable, and JSON readers would not agree */
  r->err = 0;
  bs__sb_puts(b, "null");
  return bs_read_skip(r) < 0 ? BS_EDECODE : 0;
}

static int text(bs__sb *b, bs_reader *r) {
  const char *s;
  size_t n;
  if (bs_read_text(r, &s, &n) < 0) return BS_EDECODE;
  bs__sb_json_str(b, s, n);
  return 0;
}

static int bytes(bs__sb *b, bs_reader *r) {
  const void *p;
  size_t n;
  if (bs_read_bytes(r, &p, &n) < 0) return BS_EDECODE;
  bs__sb_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++)
    bs__sb_printf(b, "%02x", ((const uint8_t *)p)[i]);
  bs__sb_put(b, "\"", 1);
  return 0;
}

static int array(bs__sb *b, bs_reader *r, int depth) {
  uint64_t n;
  if (bs_read_array(r, &n) < 0) return BS_EDECODE;
  bs__sb_put(b, "[", 1);
  for (uint64_t i = 0; i < n; i++) {
    if (i) bs__sb_put(b, ",", 1);
    if (value(b, r, depth + 1) < 0) return BS_EDECODE;
  }
  bs__sb_put(b, "]", 1);
  return 0;
}

static int key(bs__sb *b, bs_reader *r) {
  bs_cbor_type t = bs_peek(r);
  if (t == BS_CBOR_TEXT) return text(b, r);
  if (t != BS_CBOR_UINT && t != BS_CBOR_NEGINT) return BS_EDECODE;
  bs__sb sub = {0};
  int rc = scalar_int(&sub, r, t);
  if (rc == 0) bs__sb_json_str(b, sub.p, sub.len);
  bs__sb_free(&sub);
  return rc;
}

static int map(bs__sb *b, bs_reader *r, int depth) {
  uint64_t n;
  if (bs_read_map(r, &n) < 0) return BS_EDECODE;
  bs__sb_put(b, "{", 1);
  for (uint64_t i = 0; i < n; i++) {
    if (i) bs__sb_put(b, ",", 1);
    if (key(b, r) < 0) return BS_EDECODE;
    bs__sb_put(b, ":", 1);
    if (value(b, r, depth + 1) < 0) return BS_EDECODE;
  }
  bs__sb_put(b, "}", 1);
  return 0;
}

static int simple(bs__sb *b, bs_reader *r, bs_cbor_type t) {
  if (t == BS_CBOR_BOOL) {
    bool v;
    if (bs_read_bool(r, &v) < 0) return BS_EDECODE;
    bs__sb_puts(b, v ? "true" : "false");
    return 0;
  }
  if (t == BS_CBOR_FLOAT) {
    double d;
    if (bs_read_double(r, &d) < 0) return BS_EDECODE;
    bs__sb_json_num(b, d);
    return 0;
  }
  /* null, undefined, other simple values */
  bs__sb_puts(b, "null");
  return bs_read_skip(r) < 0 ? BS_EDECODE : 0;
}

static int value(bs__sb *b, bs_reader *r, int depth) {
  if (depth > BS_CBOR_MAX_DEPTH) return BS_EDECODE;
  bs_cbor_type t = bs_peek(r);
  switch (t) {
  case BS_CBOR_UINT:
  case BS_CBOR_NEGINT: return scalar_int(b, r, t);
  case BS_CBOR_TEXT: return text(b, r);
  case BS_CBOR_BYTES: return bytes(b, r);
  case BS_CBOR_ARRAY: return array(b, r, depth);
  case BS_CBOR_MAP: return map(b, r, depth);
  case BS_CBOR_TAG: {
    uint64_t tag;
    if (bs_read_tag(r, &tag) < 0) return BS_EDECODE;
    return value(b, r, depth + 1);
  }
  case BS_CBOR_BOOL:
  case BS_CBOR_FLOAT:
  case BS_CBOR_NULL:
  case BS_CBOR_UNDEFINED:
  case BS_CBOR_SIMPLE: return simple(b, r, t);
  default: return BS_EDECODE;
  }
}

int bs__insp_cbor_to_json(bs__sb *b, const uint8_t *p, size_t n) {
  bs_reader r;
  bs_reader_init(&r, p, n, NULL);
  int rc = value(b, &r, 0);
  if (rc == 0 && !bs_reader_at_end(&r)) rc = BS_EDECODE;
  return rc;
}
