/* A store: a provider's operations and its state, and the direct calls
 * (bs_store_load, ...) that tools, tests and benchmarks make on it. */
#include <stdlib.h>

#include "store/store.h"

int bs_store_new(bs_store **out, const bs_store_ops *ops, void *impl) {
  if (!out) return BS_EINVAL;
  *out = NULL;
  if (!ops || !ops->load || !ops->save || !ops->remove || !ops->begin != !ops->commit)
    return BS_EINVAL;
  /* Made with malloc: a store outlives (and may serve) several engines,
   * each with its own allocator. */
  bs_store *s = calloc(1, sizeof *s);
  if (!s) return BS_ENOMEM;
  s->ops = ops;
  s->impl = impl;
  *out = s;
  return 0;
}

void bs_store_free(bs_store *s) {
  if (!s) return;
  if (s->ops->close) s->ops->close(s->impl);
  free(s);
}

static bool usable(const bs_store *s, const char *type, const char *id) {
  return s && type && type[0] && id && id[0] && !BS__LOAD(&s->attached, ACQUIRE);
}

static bs_store_key key(const char *type, const char *id) {
  bs_store_key k = {type, id, strlen(id)};
  return k;
}

int bs_store_load(bs_store *s, const char *type, const char *id, bs_store_record *rec) {
  if (!usable(s, type, id) || !rec) return BS_EINVAL;
  bs_store_key k = key(type, id);
  return s->ops->load(s->impl, &k, rec);
}

int bs_store_save(bs_store *s, const char *type, const char *id, const void *data,
                  size_t len, uint64_t expected, uint64_t *version) {
  uint64_t v = 0;
  if (!usable(s, type, id) || (!data && len)) return BS_EINVAL;
  bs_store_key k = key(type, id);
  int rc = s->ops->save(s->impl, &k, data, len, expected, &v);
  if (version) *version = rc == 0 ? v : 0;
  return rc;
}

int bs_store_remove(bs_store *s, const char *type, const char *id, uint64_t expected) {
  if (!usable(s, type, id)) return BS_EINVAL;
  bs_store_key k = key(type, id);
  return s->ops->remove(s->impl, &k, expected);
}

int bs_store_begin(bs_store *s) {
  if (!s || BS__LOAD(&s->attached, ACQUIRE)) return BS_EINVAL;
  return s->ops->begin ? s->ops->begin(s->impl) : 0;
}

int bs_store_commit(bs_store *s) {
  if (!s || BS__LOAD(&s->attached, ACQUIRE)) return BS_EINVAL;
  return s->ops->commit ? s->ops->commit(s->impl) : 0;
}
