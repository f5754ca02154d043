/* fuzz_state: stored states, as the engine loads them on activation
 * (src/store/persist.c), through the generated decoders of persistent
 * actors: test/gen/fixtures/vault.h (every stored field kind) and the two
 * versions of test/gen/versions purse_v*.h.
 *
 * Each input is decoded into a zeroed state with no arena, as the engine
 * does. A decode must never read outside the input (ASan) nor fail to
 * terminate; when it succeeds with the whole input read (what the engine
 * accepts), encoding the state and decoding that again must give the
 * same state, and the fields that are not stored (the context pointer,
 * @transient ones) must still be zero. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault.bs.h"
#include "purse_v1.bs.h"
#include "purse_v2.bs.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_state: check failed at %s:%d: %s\n", __FILE__,     \
              __LINE__, #cond);                                                \
      abort();                                                                 \
    }                                                                          \
  } while (0)

typedef int (*load_fn)(void *self, bs_reader *r);
typedef int (*save_fn)(const void *self, bs_writer *w);

static bool accepted(load_fn load, void *state, const uint8_t *p, size_t n) {
  bs_reader r;
  bs_reader_init(&r, p, n, NULL);
  int rc = load(state, &r);
  CHECK(rc == r.err);
  CHECK(r.p >= p && r.p <= p + n);
  return rc == 0 && bs_reader_at_end(&r);
}

/* save(load(x)) decodes to the same bytes again. */
static void round_trip(load_fn load, save_fn save, const void *state, size_t size) {
  static uint8_t a[1 << 16], b[1 << 16];
  bs_writer w;
  bs_writer_init(&w, a, sizeof a);
  CHECK(save(state, &w) == 0);
  void *again = calloc(1, size);
  CHECK(again != NULL);
  CHECK(accepted(load, again, a, w.len));
  bs_writer w2;
  bs_writer_init(&w2, b, sizeof b);
  CHECK(save(again, &w2) == 0);
  CHECK(w.len == w2.len && memcmp(a, b, w.len) == 0);
  free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Vault v;
  memset(&v, 0, sizeof v);
  if (accepted(Vault__load_state, &v, data, size)) {
    CHECK(v.ctx == NULL && v.cache == NULL && v.label == NULL && v.inits == 0);
    CHECK(v.owner[sizeof v.owner - 1] == '\0');
    round_trip(Vault__load_state, Vault__save_state, &v, sizeof v);
  }
  Purse1 p1;
  memset(&p1, 0, sizeof p1);
  if (accepted(Purse1__load_state, &p1, data, size))
    round_trip(Purse1__load_state, Purse1__save_state, &p1, sizeof p1);
  Purse2 p2;
  memset(&p2, 0, sizeof p2);
  if (accepted(Purse2__load_state, &p2, data, size))
    round_trip(Purse2__load_state, Purse2__save_state, &p2, sizeof p2);
  return 0;
}
