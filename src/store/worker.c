/* The storage thread: the one thread that calls the store, so loop threads
 * never wait for it (docs/persistence.md, "Group commit").
 *
 * Shards hand it jobs through an MPSC inbox (the shards' own kind: one
 * atomic exchange per hand-off, a wake-up only when it sleeps). It takes
 * everything queued, runs the loads, then every save and remove of the
 * batch in one transaction of the provider (begin ... commit), and pushes
 * each job back to the inbox of the shard that made it, one chain per
 * shard. While it works, more jobs queue up: the next transaction takes
 * them all, so the busier the engine, the larger each commit.
 *
 * In test mode (virtual time or seeded schedules everything runs on the
 * home thread) there is no thread: a shard's flush runs the batch at once,
 * so tests stay deterministic. */
#include "store/store.h"

#define BATCH_MAX 8192u /* jobs per transaction */

/* ---- Running a batch ----------------------------------------------------- */

static bs_store_key key_of(const bs__msg *m) {
  bs_store_key k = {m->ttype->name, (const char *)m->data, m->klen};
  return k;
}

/* The record of a LOAD, copied out of the provider's memory into a block
 * of the engine's shared heap (freed by the shard). */
static void run_load(bs__storage *st, bs__msg *m) {
  bs_store *store = st->store;
  bs_store_key k = key_of(m);
  bs_store_record rec = {0};
  int rc = store->ops->load(store->impl, &k, &rec);
  if (rc == 0 && rec.version == 0) rc = BS_ESTORE; /* a provider's bug: versions are > 0 */
  if (rc == 0) {
    bs__loaded *l = rec.len <= SIZE_MAX - sizeof *l
                        ? bs__alloc(&st->engine->heap, sizeof *l + rec.len)
                        : NULL;
    if (!l) {
      rc = BS_ENOMEM;
    } else {
      l->len = rec.len;
      if (rec.len) memcpy(l->data, rec.data, rec.len);
      m->ptr = l;
      m->req_id = rec.version;
    }
  }
  m->status = rc;
}

static void run_write(bs__storage *st, bs__msg *m) {
  bs_store *store = st->store;
  bs_store_key k = key_of(m);
  uint64_t version = 0;
  int rc;
  if (m->ctrl == BS__STORE_SAVE)
    rc = store->ops->save(store->impl, &k, m->body, m->len, m->req_id, &version);
  else
    rc = store->ops->remove(store->impl, &k, m->req_id);
  m->status = rc;
  m->req_id = version;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The writes of `list` (jobs linked by next) in one transaction. */
static void run_writes(bs__storage *st, bs__msg *list) {
  const bs_store_ops *ops = st->store->ops;
  void *impl = st->store->impl;
  uint64_t t0 = uv_hrtime();
  int rc = ops->begin ? ops->begin(impl) : 0;
  for (bs__msg *m = list; m; m = m->next) {
    if (m->ctrl == BS__STORE_LOAD) continue;
    if (rc < 0) m->status = rc; /* begin failed: nothing is written */
    else run_write(st, m);
  }
  if (rc == 0 && ops->commit && (rc = ops->commit(impl)) < 0) {
    for (bs__msg *m = list; m; m = m->next)
      if (m->ctrl != BS__STORE_LOAD && m->status == 0) m->status = rc;
  }
  uint64_t dt = uv_hrtime() - t0;
  BS__STORE(&st->commits, st->commits + 1, RELAXED);
  BS__STORE(&st->commit_ns, st->commit_ns + dt, RELAXED);
  BS__STORE(&st->commit_max_ns, max_u64(st->commit_max_ns, dt), RELAXED);
}

/* Every job back to its shard: one inbox push per shard. */
static void answer(bs__storage *st, bs__msg *list) {
  bs_engine *e = st->engine;
  while (list) {
    bs__msg *m = list;
    list = m->next;
    bs__chain *c = &st->out[m->reply_shard];
    m->next = NULL;
    if (c->last) c->last->next = m; else c->first = m;
    c->last = m;
    c->n++;
  }
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__chain *c = &st->out[i];
    if (!c->n) continue;
    bs__shard *s = e->shards[i];
    bool asleep = bs__inbox_push(&s->inbox, c->first, c->last);
    memset(c, 0, sizeof *c);
    if (st->inline_run) bs__wake(s);
    else if (asleep) uv_async_send(&s->h->async);
  }
}

static void run_batch(bs__storage *st, bs__msg *list) {
  bool writes = false;
  for (bs__msg *m = list; m; m = m->next) {
    if (m->ctrl == BS__STORE_LOAD) run_load(st, m);
    else writes = true;
  }
  if (writes) run_writes(st, list);
  answer(st, list);
}

/* ---- The thread --------------------------------------------------------------- */

/* Up to BATCH_MAX jobs from the inbox, in order, linked by next. */
static bs__msg *take(bs__storage *st) {
  bs__msg *first = NULL, *last = NULL, *m;
  uint32_t n = 0;
  while (n < BATCH_MAX && (m = bs__inbox_pop(&st->inbox))) {
    m->next = NULL;
    if (last) last->next = m; else first = m;
    last = m;
    n++;
  }
  return first;
}

static void worker_main(void *arg) {
  bs__storage *st = arg;
  for (;;) {
    bs__msg *list = take(st);
    if (list) {
      run_batch(st, list);
      continue;
    }
    if (bs__inbox_busy(&st->inbox)) { /* a push half-way: it lands soon */
      bs__cpu_relax();
      continue;
    }
    if (BS__LOAD(&st->quit, ACQUIRE)) return;
    /* Asleep: the push that finds the bit set posts the semaphore. */
    if (bs__inbox_sleep(&st->inbox)) uv_sem_wait(&st->wake);
  }
}

void bs__storage_submit(bs__shard *s, bs__msg *first, bs__msg *last) {
  bs__storage *st = s->engine->storage;
  if (st->inline_run) {
    last->next = NULL;
    run_batch(st, first);
    return;
  }
  if (bs__inbox_push(&st->inbox, first, last)) uv_sem_post(&st->wake);
}

/* ---- Lifecycle ------------------------------------------------------------------- */

static int attach(bs__storage *st, bs_engine *e) {
  if (e->opts.store) {
    uint32_t expect = 0;
    if (!BS__CAS(&e->opts.store->attached, &expect, 1, ACQ_REL)) return BS_EBUSY;
    st->store = e->opts.store;
    return 0;
  }
  int rc = bs_store_open(&st->store, e->opts.store_path, NULL);
  if (rc < 0) return rc;
  st->owned = true;
  st->store->attached = 1;
  return 0;
}

int bs__storage_new(bs_engine *e) {
  bs__storage *st = bs__calloc(&e->heap, sizeof *st);
  if (!st) return BS_ENOMEM;
  e->storage = st; /* even half-made: bs__storage_free takes it apart */
  st->engine = e;
  st->inline_run = e->test_mode;
  st->out = bs__calloc(&e->heap, e->nshards * sizeof *st->out);
  bs__msg *stub = bs__calloc(&e->heap, sizeof(bs__msg));
  if (!st->out || !stub) {
    bs__free(&e->heap, stub, sizeof(bs__msg));
    return BS_ENOMEM;
  }
  bs__inbox_init(&st->inbox, stub);
  int rc = attach(st, e);
  if (rc < 0) return rc;
  if (st->inline_run) return 0;
  if (uv_sem_init(&st->wake, 0) != 0) return BS_EUV;
  if (uv_thread_create(&st->thread, worker_main, st) != 0) {
    uv_sem_destroy(&st->wake);
    return BS_EUV;
  }
  st->started = true;
  return 0;
}

/* Completions for shards without a thread of their own are taken here,
 * on the home thread, since nobody runs their loops any more. */
static void drain_unthreaded(bs_engine *e) {
  for (uint32_t i = 0; i < e->nshards; i++) {
    bs__shard *s = e->shards[i];
    if (!s || s->threaded || !s->inbox.stub) continue;
    bs__shard *prev = bs__enter(s);
    while (bs__take_inbox(s, UINT32_MAX)) bs__store_flush(s);
    bs__store_flush(s);
    bs__leave(prev);
  }
}

void bs__storage_drain(bs_engine *e) {
  bs__storage *st = e->storage;
  if (!st->inbox.stub) return;
  while (BS__LOAD(&st->pending, ACQUIRE) > 0) {
    drain_unthreaded(e);
    if (BS__LOAD(&st->pending, ACQUIRE) > 0) uv_sleep(1);
  }
  if (!st->started) return;
  BS__STORE(&st->quit, 1, RELEASE);
  uv_sem_post(&st->wake);
  uv_thread_join(&st->thread);
  uv_sem_destroy(&st->wake);
  st->started = false;
}

void bs__storage_free(bs_engine *e) {
  bs__storage *st = e->storage;
  if (st->started) bs__storage_drain(e);
  if (st->store) {
    if (st->owned) bs_store_free(st->store);
    else BS__STORE(&st->store->attached, 0, RELEASE);
  }
  if (st->inbox.stub) bs__free(&e->heap, st->inbox.stub, sizeof(bs__msg));
  if (st->out) bs__free(&e->heap, st->out, e->nshards * sizeof *st->out);
  bs__free(&e->heap, st, sizeof *st);
  e->storage = NULL;
}
