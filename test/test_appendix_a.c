/* RFC 8949 Appendix A: every example decoded with the reader, compared with
 * the expected value, and re-encoded with the writer where the vector is
 * marked "roundtrip".
 *
 * Vectors that need something this codec deliberately does not offer are
 * listed in `unsupported` below with the reason; each listed vector is
 * still checked as far as the codec goes (see enum coverage). A vector that
 * is neither passed nor listed fails the test, and so does a listed entry
 * that matches no vector, so the table cannot rot silently.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <cjson/cJSON.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backstage/codec.h"

#ifndef BS_TEST_DATA_DIR
#error "BS_TEST_DATA_DIR must point at test/data"
#endif

/* How far a listed vector is still checked. */
typedef enum coverage {
  DECODE_ONLY, /* decoded and compared; the writer cannot re-encode it */
  SKIP_ONLY,   /* no reader returns its value; bs_read_skip must consume it */
  REJECTED,    /* not well-formed under RFC 8949; must be BS_EDECODE */
} coverage;

typedef struct unsupported_vector {
  const char *hex;
  coverage cov;
  const char *reason;
} unsupported_vector;

#define HALF "half precision: the writer emits single or double only"
#define BIGNUM "bignum (tag 2/3): no integer type beyond 64 bits"
#define INDEF "indefinite array/map: bs_read_array/map read definite heads only"

static const unsupported_vector unsupported[] = {
    {"c249010000000000000000", SKIP_ONLY, BIGNUM},
    {"c349010000000000000000", SKIP_ONLY, BIGNUM},
    {"3bffffffffffffffff", SKIP_ONLY, "-2^64 is below INT64_MIN (bs_read_int)"},
    {"f90000", DECODE_ONLY, HALF},
    {"f98000", DECODE_ONLY, HALF},
    {"f93c00", DECODE_ONLY, HALF},
    {"f93e00", DECODE_ONLY, HALF},
    {"f97bff", DECODE_ONLY, HALF},
    {"f90001", DECODE_ONLY, HALF},
    {"f90400", DECODE_ONLY, HALF},
    {"f9c400", DECODE_ONLY, HALF},
    {"f97c00", DECODE_ONLY, HALF},
    {"f97e00", DECODE_ONLY, HALF},
    {"f9fc00", DECODE_ONLY, HALF},
    {"f7", DECODE_ONLY, "undefined: no writer for it (peek/skip only)"},
    {"f0", SKIP_ONLY, "simple value: no reader or writer for its number"},
    {"f8ff", SKIP_ONLY, "simple value: no reader or writer for its number"},
    {"f818", REJECTED,
     "simple(24) as 0xf818 is not well-formed (RFC 8949 section 3.3)"},
    {"9fff", SKIP_ONLY, INDEF},
    {"9f018202039f0405ffff", SKIP_ONLY, INDEF},
    {"9f01820203820405ff", SKIP_ONLY, INDEF},
    {"83018202039f0405ff", SKIP_ONLY, INDEF},
    {"83019f0203ff820405", SKIP_ONLY, INDEF},
    {"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", SKIP_ONLY,
     INDEF},
    {"bf61610161629f0203ffff", SKIP_ONLY, INDEF},
    {"826161bf61626163ff", SKIP_ONLY, INDEF},
    {"bf6346756ef563416d7421ff", SKIP_ONLY, INDEF},
};

#define N_UNSUPPORTED (sizeof unsupported / sizeof unsupported[0])

/* ---- A generic value ----------------------------------------------------- */

typedef enum kind { K_UINT, K_NEGINT, K_FLOAT, K_BOOL, K_NULL, K_UNDEF,
                    K_TEXT, K_BYTES, K_ARRAY, K_MAP, K_TAG, K_SIMPLE } kind;

typedef struct val {
  kind k;
  uint64_t u;    /* K_UINT, tag number, simple value */
  int64_t i;     /* K_NEGINT */
  double d;      /* K_FLOAT */
  int width;     /* K_FLOAT as read: 2, 4 or 8 bytes */
  bool b;
  const char *s; /* K_TEXT, K_BYTES */
  size_t len;
  struct val *items; /* K_ARRAY: n; K_MAP: 2n (key, value, ...); K_TAG: 1 */
  size_t n;
} val;

static val *new_vals(bs_arena *a, size_t n) {
  val *v = bs_arena_alloc(a, n * sizeof(val), _Alignof(val));
  cr_assert_not_null(v);
  memset(v, 0, n * sizeof(val));
  return v;
}

static bool val_eq(const val *x, const val *y) {
  if (x->k != y->k) return false;
  switch (x->k) {
  case K_UINT: case K_TAG: case K_SIMPLE:
    if (x->u != y->u) return false;
    break;
  case K_NEGINT: return x->i == y->i;
  case K_FLOAT:
    if (isnan(x->d)) return isnan(y->d);
    return x->d == y->d && signbit(x->d) == signbit(y->d);
  case K_BOOL: return x->b == y->b;
  case K_TEXT: case K_BYTES:
    return x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
  default: break;
  }
  size_t n = x->k == K_MAP ? 2 * x->n : x->k == K_TAG ? 1 : x->n;
  if (x->k != K_ARRAY && x->k != K_MAP && x->k != K_TAG) return true;
  if (x->n != y->n) return false;
  for (size_t i = 0; i < n; i++)
    if (!val_eq(&x->items[i], &y->items[i])) return false;
  return true;
}

/* ---- Actual: decoded with the reader ------------------------------------- */

static int float_width(uint8_t ib) { return ib == 0xf9 ? 2 : ib == 0xfa ? 4 : 8; }

static int read_val(bs_reader *r, val *v);

static int read_items(bs_reader *r, val *v, size_t count) {
  v->items = bs_reader_alloc(r, count * sizeof(val) + 1, _Alignof(val));
  for (size_t i = 0; i < count && r->err == 0; i++) read_val(r, &v->items[i]);
  return r->err;
}

/* Decodes one value with bs_peek and bs_read_*; returns the reader's error,
 * or 1 when the item has no reader (the caller falls back to skip). */
static int read_val(bs_reader *r, val *v) {
  memset(v, 0, sizeof *v);
  switch (bs_peek(r)) {
  case BS_CBOR_UINT: v->k = K_UINT; return bs_read_uint(r, &v->u);
  case BS_CBOR_NEGINT: v->k = K_NEGINT; return bs_read_int(r, &v->i);
  case BS_CBOR_FLOAT:
    v->k = K_FLOAT;
    v->width = float_width(*r->p);
    return bs_read_double(r, &v->d);
  case BS_CBOR_BOOL: v->k = K_BOOL; return bs_read_bool(r, &v->b);
  case BS_CBOR_NULL: v->k = K_NULL; return bs_read_null(r);
  case BS_CBOR_UNDEFINED: v->k = K_UNDEF; return bs_read_skip(r);
  case BS_CBOR_TEXT: v->k = K_TEXT; return bs_read_text(r, &v->s, &v->len);
  case BS_CBOR_BYTES:
    v->k = K_BYTES;
    return bs_read_bytes(r, (const void **)&v->s, &v->len);
  case BS_CBOR_ARRAY:
    v->k = K_ARRAY;
    if (bs_read_array(r, &v->n) != 0) return r->err;
    return read_items(r, v, v->n);
  case BS_CBOR_MAP:
    v->k = K_MAP;
    if (bs_read_map(r, &v->n) != 0) return r->err;
    return read_items(r, v, 2 * v->n);
  case BS_CBOR_TAG:
    v->k = K_TAG;
    v->n = 1;
    if (bs_read_tag(r, &v->u) != 0) return r->err;
    return read_items(r, v, 1);
  default: return 1;
  }
}

/* ---- Re-encoding with the writer ----------------------------------------- */

/* Writes v; returns the writer error, or 1 when the writer cannot express
 * the value (half floats, undefined, simple values). */
static int write_val(bs_writer *w, const val *v) {
  switch (v->k) {
  case K_UINT: return bs_write_uint(w, v->u);
  case K_NEGINT: return bs_write_int(w, v->i);
  case K_FLOAT:
    if (v->width == 2) return 1;
    return v->width == 4 ? bs_write_float(w, (float)v->d) : bs_write_double(w, v->d);
  case K_BOOL: return bs_write_bool(w, v->b);
  case K_NULL: return bs_write_null(w);
  case K_TEXT: return bs_write_text(w, v->s, v->len);
  case K_BYTES: return bs_write_bytes(w, v->s, v->len);
  case K_ARRAY: bs_write_array(w, v->n); break;
  case K_MAP: bs_write_map(w, v->n); break;
  case K_TAG: bs_write_tag(w, v->u); break;
  default: return 1;
  }
  size_t n = v->k == K_MAP ? 2 * v->n : v->k == K_TAG ? 1 : v->n;
  for (size_t i = 0; i < n; i++) {
    int rc = write_val(w, &v->items[i]);
    if (rc != 0) return rc;
  }
  return w->err;
}

/* ---- Expected: from "decoded" (JSON) or "diagnostic" ---------------------- */

/* cJSON keeps numbers as doubles, so the literal decides int vs float and
 * gives integers beyond 2^53 exactly. Returns false if it does not fit. */
static bool number_from_literal(const char *lit, val *v) {
  char *end = NULL;
  errno = 0;
  if (strpbrk(lit, ".eE") != NULL) {
    v->k = K_FLOAT;
    v->d = strtod(lit, &end);
  } else if (lit[0] == '-') {
    v->k = K_NEGINT;
    v->i = strtoll(lit, &end, 10);
  } else {
    v->k = K_UINT;
    v->u = strtoull(lit, &end, 10);
  }
  return errno == 0 && end != lit;
}

static void expect_from_json(const cJSON *j, const char *literal, val *v,
                             bs_arena *a) {
  memset(v, 0, sizeof *v);
  if (cJSON_IsNumber(j)) {
    char buf[64];
    if (literal == NULL) { /* nested numbers in this data are integers */
      snprintf(buf, sizeof buf, "%.0f", j->valuedouble);
      literal = buf;
    }
    cr_assert(number_from_literal(literal, v), "number %s out of range", literal);
  } else if (cJSON_IsBool(j)) {
    v->k = K_BOOL;
    v->b = cJSON_IsTrue(j);
  } else if (cJSON_IsNull(j)) {
    v->k = K_NULL;
  } else if (cJSON_IsString(j)) {
    v->k = K_TEXT;
    v->s = j->valuestring;
    v->len = strlen(j->valuestring);
  } else {
    cr_assert(cJSON_IsArray(j) || cJSON_IsObject(j));
    bool obj = cJSON_IsObject(j);
    v->k = obj ? K_MAP : K_ARRAY;
    v->n = (size_t)cJSON_GetArraySize(j);
    v->items = new_vals(a, obj ? 2 * v->n : v->n);
    size_t i = 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
      if (obj) {
        val *key = &v->items[i++];
        key->k = K_TEXT;
        key->s = c->string;
        key->len = strlen(c->string);
      }
      expect_from_json(c, NULL, &v->items[i++], a);
    }
  }
}

/* Diagnostic notation, the subset Appendix A uses: numbers, Infinity, NaN,
 * undefined, simple(n), tags n(item), "text", h'hex', [..], {k: v, ..} and
 * (_ chunk, ..) indefinite strings (joined). */
typedef struct diag { const char *p; bs_arena *a; } diag;

static void diag_item(diag *d, val *v);

static void diag_ws(diag *d) {
  while (*d->p == ' ') d->p++;
}

static bool diag_take(diag *d, const char *word) {
  diag_ws(d);
  size_t n = strlen(word);
  if (strncmp(d->p, word, n) != 0) return false;
  d->p += n;
  return true;
}

static void diag_string(diag *d, val *v, bool hex) {
  char quote = hex ? '\'' : '"';
  const char *start = ++d->p;
  const char *end = strchr(start, quote);
  cr_assert_not_null(end, "unterminated string in diagnostic");
  size_t n = (size_t)(end - start);
  char *s = bs_arena_alloc(d->a, n + 1, 1);
  if (hex) {
    for (size_t i = 0; i < n / 2; i++) {
      unsigned x = 0;
      sscanf(start + 2 * i, "%2x", &x);
      s[i] = (char)x;
    }
    n /= 2;
  } else {
    memcpy(s, start, n);
  }
  v->k = hex ? K_BYTES : K_TEXT;
  v->s = s;
  v->len = n;
  d->p = end + 1;
}

/* Items up to `close`, separated by commas; map entries use ':' too. */
static void diag_list(diag *d, val *v, char close, bool map) {
  val tmp[64];
  size_t n = 0;
  while (!diag_take(d, (char[]){close, 0})) {
    cr_assert_lt(n, 64);
    diag_item(d, &tmp[n++]);
    diag_ws(d);
    if (*d->p == ',' || *d->p == ':') d->p++;
  }
  v->n = map ? n / 2 : n;
  v->items = new_vals(d->a, n + 1);
  memcpy(v->items, tmp, n * sizeof(val));
}

static void diag_chunks(diag *d, val *v) {
  val joined = {0};
  char *buf = bs_arena_alloc(d->a, 256, 1);
  diag_list(d, &joined, ')', false);
  size_t len = 0;
  for (size_t i = 0; i < joined.n; i++) {
    memcpy(buf + len, joined.items[i].s, joined.items[i].len);
    len += joined.items[i].len;
  }
  v->k = joined.n ? joined.items[0].k : K_BYTES;
  v->s = buf;
  v->len = len;
}

static void diag_item(diag *d, val *v) {
  memset(v, 0, sizeof *v);
  diag_ws(d);
  if (diag_take(d, "Infinity")) { v->k = K_FLOAT; v->d = INFINITY; }
  else if (diag_take(d, "-Infinity")) { v->k = K_FLOAT; v->d = -INFINITY; }
  else if (diag_take(d, "NaN")) { v->k = K_FLOAT; v->d = NAN; }
  else if (diag_take(d, "undefined")) v->k = K_UNDEF;
  else if (diag_take(d, "true")) { v->k = K_BOOL; v->b = true; }
  else if (diag_take(d, "false")) v->k = K_BOOL;
  else if (diag_take(d, "null")) v->k = K_NULL;
  else if (diag_take(d, "simple(")) {
    v->k = K_SIMPLE;
    v->u = strtoull(d->p, (char **)&d->p, 10);
    cr_assert(diag_take(d, ")"));
  } else if (*d->p == '"') diag_string(d, v, false);
  else if (diag_take(d, "h")) diag_string(d, v, true);
  else if (diag_take(d, "[")) { v->k = K_ARRAY; diag_list(d, v, ']', false); }
  else if (diag_take(d, "{")) { v->k = K_MAP; diag_list(d, v, '}', true); }
  else if (diag_take(d, "(_")) diag_chunks(d, v);
  else {
    const char *start = d->p;
    while (*d->p != '\0' && strchr("0123456789+-.eE", *d->p) != NULL) d->p++;
    char lit[64];
    snprintf(lit, sizeof lit, "%.*s", (int)(d->p - start), start);
    cr_assert(number_from_literal(lit, v), "bad diagnostic number %s", lit);
    if (diag_take(d, "(")) { /* a tag */
      v->k = K_TAG;
      v->n = 1;
      v->items = new_vals(d->a, 1);
      diag_item(d, &v->items[0]);
      cr_assert(diag_take(d, ")"));
    }
  }
}

/* ---- The test -------------------------------------------------------------- */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

/* The literal text of the "decoded" number of the vector with this hex,
 * found in the raw JSON (the vectors are one object each, "hex" first). */
static const char *decoded_literal(const char *json, const char *hex,
                                   char *out, size_t cap) {
  char key[512];
  snprintf(key, sizeof key, "\"hex\": \"%s\"", hex);
  const char *at = strstr(json, key);
  cr_assert_not_null(at, "hex %s not found in the raw JSON", hex);
  const char *dec = strstr(at, "\"decoded\": ");
  const char *next = strchr(at, '}');
  cr_assert(dec != NULL && dec < next, "no decoded literal for %s", hex);
  dec += strlen("\"decoded\": ");
  size_t n = strspn(dec, "0123456789+-.eE");
  snprintf(out, cap, "%.*s", (int)n, dec);
  return out;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  cr_assert_leq(n, cap);
  for (size_t i = 0; i < n; i++) {
    unsigned x = 0;
    cr_assert_eq(sscanf(hex + 2 * i, "%2x", &x), 1);
    out[i] = (uint8_t)x;
  }
  return n;
}

static size_t unbase64(const char *s, uint8_t *out, size_t cap) {
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s && *s != '='; s++) {
    const char *c = strchr(abc, *s);
    cr_assert(c != NULL && *s != '\0', "bad base64");
    acc = (acc << 6) | (uint32_t)(c - abc);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      cr_assert_lt(n, cap);
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

static const unsupported_vector *find_unsupported(const char *hex) {
  for (size_t i = 0; i < N_UNSUPPORTED; i++)
    if (strcmp(unsupported[i].hex, hex) == 0) return &unsupported[i];
  return NULL;
}

typedef struct tally { int passed, listed, failed; } tally;

/* Checks one listed vector as far as its coverage goes. */
static bool check_listed(const unsupported_vector *u, const uint8_t *in,
                         size_t n) {
  bs_reader r;
  bs_reader_init(&r, in, n, NULL);
  int rc = bs_read_skip(&r);
  if (u->cov == REJECTED) return rc == BS_EDECODE;
  return rc == 0 && bs_reader_at_end(&r);
}

/* Decodes, compares and (when asked) re-encodes one vector. */
static bool check_vector(const char *hex, const uint8_t *in, size_t n,
                         const val *want, bool roundtrip, bs_arena *a) {
  bs_reader r;
  bs_reader_init(&r, in, n, a);
  val got;
  int rc = read_val(&r, &got);
  cr_expect_eq(rc, 0, "%s: decode failed (%d)", hex, rc);
  cr_expect(rc != 0 || bs_reader_at_end(&r), "%s: trailing bytes", hex);
  cr_expect(rc != 0 || val_eq(&got, want), "%s: decoded value differs", hex);
  if (rc != 0 || !bs_reader_at_end(&r) || !val_eq(&got, want)) return false;
  if (!roundtrip) return true;

  uint8_t out[256];
  bs_writer w;
  bs_writer_init(&w, out, sizeof out);
  rc = write_val(&w, &got);
  cr_expect_eq(rc, 0, "%s: writer cannot re-encode it (%d)", hex, rc);
  bool same = rc == 0 && w.len == n && memcmp(out, in, n) == 0;
  cr_expect(rc != 0 || same, "%s: re-encoded differently", hex);
  return same;
}

static bool listed_vector_present(const cJSON *root, const char *hex) {
  for (const cJSON *v = root->child; v != NULL; v = v->next) {
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "hex");
    if (cJSON_IsString(h) && strcmp(h->valuestring, hex) == 0) return true;
  }
  return false;
}

static void run_vector(const cJSON *v, const char *json, bs_arena *a,
                       tally *t) {
  const char *hex = cJSON_GetObjectItemCaseSensitive(v, "hex")->valuestring;
  const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(v, "cbor");
  bool roundtrip = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "roundtrip"));
  uint8_t in[256], in64[256];
  size_t n = unhex(hex, in, sizeof in);
  cr_expect(unbase64(b64->valuestring, in64, sizeof in64) == n &&
                memcmp(in, in64, n) == 0,
            "%s: \"cbor\" and \"hex\" disagree", hex);

  const unsupported_vector *u = find_unsupported(hex);
  if (u != NULL && u->cov != DECODE_ONLY) {
    bool ok = check_listed(u, in, n);
    cr_expect(ok, "%s: listed (%s) but skip did not behave", hex, u->reason);
    if (ok) t->listed++; else t->failed++;
    return;
  }

  val want;
  const cJSON *decoded = cJSON_GetObjectItemCaseSensitive(v, "decoded");
  if (decoded != NULL) {
    char lit[64];
    expect_from_json(decoded, cJSON_IsNumber(decoded)
                                  ? decoded_literal(json, hex, lit, sizeof lit)
                                  : NULL,
                     &want, a);
  } else {
    diag d = {cJSON_GetObjectItemCaseSensitive(v, "diagnostic")->valuestring, a};
    diag_item(&d, &want);
  }
  bool ok = check_vector(hex, in, n, &want, roundtrip && u == NULL, a);
  if (!ok) t->failed++;
  else if (u != NULL) t->listed++;
  else t->passed++;
}

Test(appendix_a, every_vector_is_passed_or_listed_unsupported) {
  char *json = read_file(BS_TEST_DATA_DIR "/cbor/appendix_a.json");
  cJSON *root = cJSON_Parse(json);
  cr_assert(cJSON_IsArray(root), "appendix_a.json is not a JSON array");

  for (size_t i = 0; i < N_UNSUPPORTED; i++)
    cr_expect(listed_vector_present(root, unsupported[i].hex),
              "listed vector %s is not in the data", unsupported[i].hex);

  bs_arena a;
  bs_arena_init(&a, (bs_allocator){0});
  tally t = {0};
  for (const cJSON *v = root->child; v != NULL; v = v->next) {
    run_vector(v, json, &a, &t);
    bs_arena_reset(&a);
  }
  int total = cJSON_GetArraySize(root);
  cr_log_info("Appendix A: %d vectors, %d passed, %d listed unsupported, "
              "%d failed", total, t.passed, t.listed, t.failed);
  printf("Appendix A: %d vectors, %d passed, %d listed unsupported, %d failed\n",
         total, t.passed, t.listed, t.failed);
  cr_expect_eq(t.passed + t.listed + t.failed, total);
  cr_expect_eq(t.failed, 0);
  cr_expect_eq((size_t)t.listed, N_UNSUPPORTED);

  bs_arena_free(&a);
  cJSON_Delete(root);
  free(json);
}
