/* fuzz_dispatch: arbitrary message bodies through the engine into the
 * generated dispatch thunks of fixtures/fuzz_actors.h.
 *
 * Input: [flags][selector][fail_at][extras][payload...]
 *
 *   flags & 7   what is sent
 *     0..2      a one-way call of a real method (selector picks it):
 *               bs_send_begin writes [argc+1 header, method id], then the
 *               payload goes in raw with bs_write_raw, so decoding goes deep
 *     3         the same as a request with a continuation
 *     4         the same as a request awaited from main
 *     5         a method that may not exist: id from the payload's first four
 *               bytes, argc from the selector (unknown ids, wrong counts)
 *     6         the payload is the whole body, header included
 *     7         a stream element: the payload, raw, published to a stream
 *               whose subscribers are Target's one-parameter methods
 *   flags 0x08  mailbox capacity 2, and the message is sent three times
 *   flags 0x10  full mailboxes dead-letter instead of rejecting
 *   flags 0x20  the actor is stopped before (odd selector) or after the send
 *   flags 0x40  method errors restart the actor
 *   flags 0x80  the allocator fails its fail_at-th allocation after setup
 *   extras 0x01 a test-kit probe stands in for the target: what is sent is
 *               captured, then taken with bs_probe_next and decoded with the
 *               generated TargetProxy_<method>__args decoder
 *   extras 0x02 the dead-letter hook retries: it sends the target a note for
 *               each dead letter (at most 8 per input)
 *   extras 0x04 seeded schedule (schedule_seed = extras)
 *
 * After each input, with the allocator healthy again, a valid follow-up
 * message must be delivered. Then: sent == delivered + dead_letters, no
 * request pending, every accepted request's continuation ran exactly once
 * with a known status, every reply decodes and re-encodes to the same bytes,
 * and when the engine is freed the allocator has every byte back. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <backstage.h>
#include <backstage/testkit.h>

#include "fuzz_actors.bs.h"
#include "fuzz_digest.h"
#include "shapes.bs.h"
#include "types.bs.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_dispatch: check failed at %s:%d: %s\n", __FILE__,  \
              __LINE__, #cond);                                                \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* ---- Counting, failure-injecting allocator ------------------------------- */

typedef struct fz_alloc {
  size_t live;
  long blocks;
  uint64_t attempts;
  uint64_t fail_at; /* 0: never */
  uint64_t failures;
} fz_alloc;

static void *fz_fn(void *ud, void *p, size_t old, size_t n) {
  fz_alloc *a = ud;
  if (n == 0) {
    if (p) {
      a->live -= old;
      a->blocks--;
    }
    free(p);
    return NULL;
  }
  if (++a->attempts == a->fail_at) {
    a->failures++;
    return NULL;
  }
  void *q = realloc(p, n);
  if (!q) return NULL;
  if (p) a->live -= old; else a->blocks++;
  a->live += n;
  return q;
}

/* ---- Replies ------------------------------------------------------------------ */

typedef struct req_rec {
  const bs_method *m;
  int runs;
  int status;
} req_rec;

static bool known_status(int s) {
  return s == 0 || s == BS_EDECODE || s == BS_ENOMETHOD || s == BS_ESTOPPED ||
         s == BS_EFULL || s == BS_ENOMEM || s == BS_ETOOBIG ||
         s == BS_EENCODE || s == BS_EINIT || s == BS_ENOTFOUND;
}

static int grow_buf(bs_writer *w, size_t need) {
  size_t cap = (w->cap + need) * 2;
  uint8_t *b = realloc(w->buf, cap);
  if (!b) return BS_ENOMEM;
  w->buf = b;
  w->cap = cap;
  return 0;
}

/* The reply R decodes, and encoding what it decoded gives R again. */
#define ROUND_TRIP(T, P, value)                                                   \
  do {                                                                         \
    const uint8_t *start_ = (value)->p;                                        \
    size_t len_ = (size_t)((value)->end - (value)->p);                         \
    T v_;                                                                      \
    memset(&v_, 0, sizeof v_);                                                 \
    CHECK(P##__decode((value), &v_) == 0 && bs_reader_at_end(value));          \
    bs_writer w_;                                                              \
    bs_writer_init(&w_, NULL, 0);                                              \
    w_.grow = grow_buf;                                                        \
    CHECK(P##__encode(&w_, &v_) == 0);                                         \
    if (w_.len != len_ || memcmp(w_.buf, start_, len_) != 0) {                 \
      fprintf(stderr, "fuzz_dispatch: %s reply of %zu bytes re-encodes to "    \
              "%zu different bytes\n", #P, len_, w_.len);                      \
      abort();                                                                 \
    }                                                                          \
    free(w_.buf);                                                              \
  } while (0)

static void check_reply(const bs_method *m, bs_reader *value) {
  const char *n = m->name;
  if (strcmp(n, "echo") == 0) {
    ROUND_TRIP(AllTypes, AllTypes, value);
  } else if (strcmp(n, "scene") == 0) {
    ROUND_TRIP(struct Scene, Scene, value);
  } else if (strcmp(n, "maybe") == 0) {
    if (bs_peek(value) == BS_CBOR_NULL)
      CHECK(bs_read_null(value) == 0);
    else
      ROUND_TRIP(Polygon, Polygon, value);
  } else if (strcmp(n, "blob") == 0) {
    const void *p;
    size_t len;
    CHECK(bs_read_bytes(value, &p, &len) == 0);
  } else if (strcmp(n, "name") == 0) {
    const char *s;
    CHECK(bs_read_cstr(value, &s) == 0);
  } else if (strcmp(n, "scalars") == 0) {
    /* void: an empty reply */
  } else {
    int64_t v;
    CHECK(bs_read_int(value, &v) == 0);
  }
  CHECK(bs_reader_at_end(value));
}

static int reply_thunk(int status, bs_reader *value, bs_fnptr fn, void *ud) {
  (void)fn;
  req_rec *rec = ud;
  rec->runs++;
  rec->status = status;
  CHECK(known_status(status));
  CHECK((status == 0) == (value != NULL));
  if (status == 0) check_reply(rec->m, value);
  return status;
}

/* ---- Stream elements of raw bytes ----------------------------------------------- */

static const uint8_t *elem_bytes;
static size_t elem_len;

static int enc_raw(bs_writer *w, const void *value) {
  (void)value;
  return bs_write_raw(w, elem_bytes, elem_len);
}

static const bs_elem_type elem_raw = {"raw", enc_raw};

/* ---- The harness --------------------------------------------------------------- */

static const bs_method *method_named(const char *name) {
  for (size_t i = 0; i < Target_actor_type.method_count; i++)
    if (strcmp(Target_actor_type.methods[i].name, name) == 0)
      return &Target_actor_type.methods[i];
  return NULL;
}

static bs_ref retry_to;
static int retries_left;

static void dead_letter(void *ud, const bs_dead_letter *dl) {
  (void)ud;
  CHECK(dl->reason < BS_DL__COUNT);
  CHECK(dl->target_id != NULL);
  CHECK(strcmp(bs_dead_letter_reason_name(dl->reason), "UNKNOWN") != 0);
  if (retries_left > 0 && retry_to.len != 0) {
    retries_left--;
    TargetProxy proxy = {retry_to};
    int rc = TargetProxy_note(proxy, "retry from the hook");
    CHECK(rc == 0 || rc == BS_ENOMEM || rc == BS_EFULL || rc == BS_ECANCELED);
  }
}

/* ---- Probe: captured calls decoded with the generated __args decoders ---- */

static volatile uint64_t sink;

static void decode_captured(const bs_probed *m) {
  bs_reader r = m->args;
  const char *n = m->method;
  uint64_t h = 0;
  int rc = 0;
  if (strcmp(n, "integers") == 0) {
    int8_t a; int16_t b; int32_t c; int64_t d; uint8_t e; uint16_t f;
    uint32_t g; uint64_t i;
    rc = TargetProxy_integers__args(&r, &a, &b, &c, &d, &e, &f, &g, &i);
  } else if (strcmp(n, "scalars") == 0) {
    bool fl; float f; double d; Color c; Level l;
    rc = TargetProxy_scalars__args(&r, &fl, &f, &d, &c, &l);
  } else if (strcmp(n, "text") == 0) {
    const char *s1 = NULL, *s2 = NULL;
    char label[8];
    rc = TargetProxy_text__args(&r, &s1, &s2, &label);
    if (rc == 0) h = fz_str(fz_str(fz_str(h, s1), s2), label);
  } else if (strcmp(n, "bytes") == 0) {
    bs_bytes blob;
    const void *data = NULL;
    size_t len = 0;
    uint8_t digest[4];
    rc = TargetProxy_bytes__args(&r, &blob, &data, &len, &digest);
    if (rc == 0) h = fz_mem(fz_mem(fz_mem(h, blob.data, blob.len), data, len), digest, 4);
  } else if (strcmp(n, "arrays") == 0) {
    const int32_t *v = NULL;
    const Point *p = NULL;
    const char *const *names = NULL;
    size_t nv = 0, np = 0, nn = 0;
    rc = TargetProxy_arrays__args(&r, &v, &nv, &p, &np, &names, &nn);
    if (rc == 0) {
      h = fz_mem(h, v, nv * sizeof *v);
      for (size_t i = 0; i < np; i++) h = fz_point(h, &p[i]);
      for (size_t i = 0; i < nn; i++) h = fz_str(h, names[i]);
    }
  } else if (strcmp(n, "matrix") == 0) {
    int16_t mm[2][3];
    double w[2][2];
    rc = TargetProxy_matrix__args(&r, &mm, &w);
  } else if (strcmp(n, "structs") == 0) {
    Point p;
    const Polygon *poly = NULL;
    struct Scene sc;
    rc = TargetProxy_structs__args(&r, &p, &poly, &sc);
    if (rc == 0) h = fz_scene(fz_polygon(fz_point(h, &p), poly), &sc);
  } else if (strcmp(n, "all") == 0) {
    const AllTypes *a = NULL;
    rc = TargetProxy_all__args(&r, &a);
    if (rc == 0 && a) h = fz_alltypes(h, a);
  } else if (strcmp(n, "polygon") == 0) {
    Polygon p;
    rc = TargetProxy_polygon__args(&r, &p);
    if (rc == 0) h = fz_polygon(h, &p);
  } else if (strcmp(n, "note") == 0 || strcmp(n, "name") == 0) {
    const char *s1 = NULL;
    rc = n[0] == 'n' && n[1] == 'o' ? TargetProxy_note__args(&r, &s1)
                                    : TargetProxy_name__args(&r, &s1);
    if (rc == 0) h = fz_str(h, s1);
  } else if (strcmp(n, "fail") == 0) {
    int32_t code;
    rc = TargetProxy_fail__args(&r, &code);
  } else if (strcmp(n, "echo") == 0) {
    AllTypes a;
    rc = TargetProxy_echo__args(&r, &a);
    if (rc == 0) h = fz_alltypes(h, &a);
  } else if (strcmp(n, "scene") == 0) {
    struct Scene sc;
    rc = TargetProxy_scene__args(&r, &sc);
    if (rc == 0) h = fz_scene(h, &sc);
  } else if (strcmp(n, "maybe") == 0) {
    const Polygon *p = NULL;
    rc = TargetProxy_maybe__args(&r, &p);
    if (rc == 0) h = fz_polygon(h, p);
  } else if (strcmp(n, "sum") == 0) {
    const int64_t *v = NULL;
    size_t nv = 0;
    rc = TargetProxy_sum__args(&r, &v, &nv);
    if (rc == 0) h = fz_mem(h, v, nv * sizeof *v);
  } else if (strcmp(n, "blobs") == 0) {
    const bs_blob *one = NULL;
    const bs_blob *const *many = NULL;
    size_t count = 0;
    rc = TargetProxy_blobs__args(&r, &one, &many, &count);
    if (rc == 0) {
      h = fz_mem(h, bs_blob_data(one), bs_blob_size(one));
      for (size_t i = 0; i < count; i++) h = fz_mem(h, bs_blob_data(many[i]), bs_blob_size(many[i]));
    }
  } else if (strcmp(n, "blob") == 0) {
    bs_bytes b;
    rc = TargetProxy_blob__args(&r, &b);
    if (rc == 0) h = fz_mem(h, b.data, b.len);
  } else {
    rc = bs_read_skip(&r) == 0 || bs_reader_at_end(&r) ? 0 : r.err;
  }
  CHECK(rc == 0 || rc == BS_EDECODE || rc == BS_ENOMEM);
  sink += h;
}

/* One message of kind `kind`; returns what the send call returned. */
static int send_one(bs_ref t, int kind, uint8_t sel, const uint8_t *pl,
                    size_t n, req_rec *rec, bs_stream *stream) {
  const bs_actor_type *T = &Target_actor_type;
  const bs_method *m = &T->methods[sel % T->method_count];
  bs_method fake;
  bs_writer w;
  int rc;
  switch (kind) {
  case 5:
    fake = *m;
    fake.argc = sel & 15;
    fake.id = 0;
    for (size_t i = 0; i < 4 && i < n; i++) fake.id = fake.id << 8 | pl[i];
    pl += n < 4 ? n : 4;
    n -= n < 4 ? n : 4;
    if (bs_send_begin(&t, &fake, &w) < 0) return w.err;
    bs_write_raw(&w, pl, n);
    return bs_send_end(&w);
  case 6:
    if (bs_send_begin(&t, m, &w) < 0) return w.err;
    w.len = 0; /* the payload is the whole body */
    bs_write_raw(&w, pl, n);
    return bs_send_end(&w);
  case 7:
    elem_bytes = pl;
    elem_len = n;
    rc = bs_stream_publish(stream, &elem_bytes);
    CHECK(rc == BS_ENOMEM || rc == BS_ETOOBIG || (rc >= 0 && rc <= 4));
    return rc < 0 ? rc : 0;
  default:
    break;
  }
  if (bs_send_begin(&t, m, &w) < 0) return w.err;
  bs_write_raw(&w, pl, n);
  rec->m = m;
  if (kind == 3) return bs_request_end(&w, reply_thunk, NULL, rec);
  if (kind == 4) {
    rc = bs_request_await(&w, reply_thunk, rec, 0);
    CHECK(known_status(rc) || rc == BS_ECANCELED);
    return rc;
  }
  return bs_send_end(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  uint8_t flags = data[0], sel = data[1], fail = data[2], extras = data[3];
  const uint8_t *pl = data + 4;
  size_t n = size - 4;
  int kind = flags & 7;

  fz_alloc A = {0};
  bs_engine_options o;
  bs_engine_options_init(&o);
  o.allocator = (bs_allocator){fz_fn, &A};
  o.on_dead_letter = dead_letter;
  o.mailbox_capacity = (flags & 0x08) ? 2 : 0;
  o.mailbox_full = (flags & 0x10) ? BS_FULL_DEAD_LETTER : BS_FULL_REJECT;
  o.on_method_error = (flags & 0x40) ? BS_ON_ERROR_RESTART : BS_ON_ERROR_CONTINUE;
  o.schedule_seed = (extras & 0x04) ? extras : 0;
  bs_engine *e = NULL;
  CHECK(bs_engine_new(&e, &o) == 0);

  TargetProxy t;
  CHECK(TargetProxy_get(e, "target", &t) == 0);
  retry_to = t.ref;
  retries_left = (extras & 0x02) ? 8 : 0;
  bs_probe *probe = NULL;
  if (extras & 0x01) CHECK(bs_probe_new(e, &Target_actor_type, "target", &probe) == 0);
  bs_stream *stream = NULL;
  if (kind == 7) {
    CHECK(bs_stream_get(e, &elem_raw, "elements", &stream) == 0);
    static const char *const subs[] = {"all", "polygon", "note", "fail"};
    for (int i = 0; i < 4; i++)
      if (sel & (1u << i) || i == (sel >> 4) % 4)
        CHECK(bs_stream_add_subscriber(stream, &Target_actor_type, "target",
                                       method_named(subs[i])) == 0);
  }
  if ((flags & 0x20) && (sel & 1)) {
    CHECK(TargetProxy_note(t, "before the stop") == 0);
    CHECK(TargetProxy_stop(t) == 0);
  }

  if (flags & 0x80) A.fail_at = A.attempts + 1 + fail;
  req_rec recs[3];
  memset(recs, 0, sizeof recs);
  int rcs[3];
  int sends = (flags & 0x08) ? 3 : 1;
  for (int i = 0; i < sends; i++) {
    rcs[i] = send_one(t.ref, kind, sel, pl, n, &recs[i], stream);
    CHECK(known_status(rcs[i]) || rcs[i] == BS_ECANCELED);
  }
  if ((flags & 0x20) && !(sel & 1)) {
    int rc = TargetProxy_stop(t);
    CHECK(rc == 0 || rc == BS_ENOMEM);
  }
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  if (probe) {
    bs_probed m;
    int got;
    while ((got = bs_probe_next(probe, &m)) == 1) decode_captured(&m);
    CHECK(got == 0 || got == BS_ENOMEM); /* ENOMEM: left for bs_probe_free */
    bs_probe_free(probe);
    CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  }
  A.fail_at = 0;
  retries_left = 0;

  /* Continuations: exactly once for every accepted request. */
  for (int i = 0; i < sends; i++) {
    if (kind == 3) CHECK(recs[i].runs == (rcs[i] == 0 ? 1 : 0));
    if (kind == 4) CHECK(recs[i].runs <= 1 || probe != NULL);
  }

  /* The engine still works: a valid message gets through. */
  bs_engine_stats before, after;
  bs_engine_stats_get(e, &before);
  CHECK(TargetProxy_note(t, "after") == 0);
  CHECK(bs_engine_run(e, BS_RUN_UNTIL_DONE) == 0);
  bs_engine_stats_get(e, &after);
  CHECK(after.delivered == before.delivered + 1);

  CHECK(after.sent == after.delivered + after.dead_letters);
  uint64_t sum = 0;
  for (int i = 0; i < BS_DL__COUNT; i++) sum += after.dead_by_reason[i];
  CHECK(sum == after.dead_letters);
  CHECK(after.requests_pending == 0);
  CHECK(after.alloc_failures == A.failures);
  CHECK(after.bytes_live == A.live);

  bs_engine_free(e);
  CHECK(A.live == 0 && A.blocks == 0);
  return 0;
}
