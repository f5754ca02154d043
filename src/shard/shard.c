/* A shard's loop: its handles, its thread, draining its inbox and run
 * queue, batching mail for other shards, going idle, and shutting down.
 *
 * One iteration of a shard's loop (the drain handle's callback):
 *   1. take what other shards sent (the inbox) into mailboxes;
 *   2. run actor turns in run-queue order, up to the drain budget;
 *   3. send the mail batched for other shards and give back their blocks;
 *   4. with nothing left: poll the inbox a little (threaded engines), then
 *      mark it asleep and stop the drain handle, so the loop blocks in
 *      libuv until an async wake-up, a timer or I/O. */
#include <stdlib.h>

#include "internal.h"

_Thread_local bs__shard *bs__tls_shard;

bs__shard *bs__enter(bs__shard *s) {
  bs__shard *prev = bs__tls_shard;
  bs__tls_shard = s;
  return prev;
}

static void async_cb(uv_async_t *a);

/* ---- Going idle and waking up -------------------------------------------- */

/* The home shard's async handle keeps its loop alive while someone holds
 * the engine or the home thread waits for the other shards. */
void bs__hold_update(bs_engine *e) {
  bs__shard *home = e->shards[0];
  if (!home->h) return;
  /* A store job out keeps it too: its completion comes through the async
   * handle (an engine whose only shard runs on the home loop); so does
   * membership of a cluster (mail from other nodes may come at any time). */
  if (e->holds > 0 || home->watching || home->store_pending || e->cluster)
    uv_ref((uv_handle_t *)&home->h->async);
  else uv_unref((uv_handle_t *)&home->h->async);
}

/* Publishes whether the shard is idle, for the termination check. Store and
 * load are sequentially consistent against the home thread's `waiting`
 * store and idle loads (Dekker): either home sees us idle, or we see it
 * waiting and wake it. */
static void set_idle(bs__shard *s, bool idle) {
  uint32_t v = idle ? 1u : 0u;
  if (BS__LOAD(&s->idle, RELAXED) == v) return;
  bs_engine *e = s->engine;
  if (!e->threaded) { /* one thread: nobody checks termination but us */
    BS__STORE(&s->idle, v, RELAXED);
    return;
  }
  BS__STORE(&s->idle, v, SEQ_CST);
  if (idle && s->index != 0 && BS__LOAD(&e->waiting, SEQ_CST))
    uv_async_send(&e->shards[0]->h->async);
}

void bs__update_idle(bs__shard *s) {
  set_idle(s, !s->drain_active && !bs__clock_holds(s));
}

static void drain_cb(uv_idle_t *idle) {
  bs__shard *s = idle->data;
  bs__shard *prev = bs__enter(s);
  bs__drain(s);
  bs__leave(prev);
}

void bs__wake(bs__shard *s) {
  if (s->drain_active || s->stopping) return;
  s->drain_active = true;
  set_idle(s, false);
  uv_idle_start(&s->h->drain, drain_cb);
}

/* Puts `c` on the run queue unless it is there already, and wakes the drain
 * handle: the only libuv call on the message path, made once per idle->busy
 * transition of the shard, not per message. */
void bs__schedule_slow(bs__shard *s, bs_cell *c) {
  c->flags |= BS__CELL_IN_RUNQ;
  c->rq_next = NULL;
  if (s->rq_tail) s->rq_tail->rq_next = c; else s->rq_head = c;
  s->rq_tail = c;
  s->rq_len++;
  if (!s->drain_active && !bs__freeing(s->engine)) bs__wake(s);
}

/* ---- Cross-shard mail ------------------------------------------------------- */

static void push_chain(bs__shard *s, bs__shard *to, bs__msg *first, bs__msg *last,
                       uint32_t n) {
  /* Counted before it is visible, so the termination check never sees a
   * message taken that was not sent. */
  BS__STORE(&s->xsent, s->xsent + n, RELEASE);
  BS__BUMP(&s->stats.remote_out, n);
  bool asleep = bs__inbox_push(&to->inbox, first, last);
  if (!s->engine->threaded) bs__wake(to); /* same thread: no async needed */
  else if (asleep) uv_async_send(&to->h->async);
}

void bs__push(bs__shard *s, uint32_t to, bs__msg *m) {
  bs__shard *dst = s->engine->shards[to];
  if (!s->in_drain || !s->engine->threaded) {
    push_chain(s, dst, m, m, 1);
    return;
  }
  bs__chain *c = &s->out[to];
  m->next = NULL;
  if (c->last) c->last->next = m; else c->first = m;
  c->last = m;
  c->n++;
  s->nout++;
}

/* Pushes the mail queued for other shards (and the store's jobs). */
void bs__flush_mail(bs__shard *s) {
  bs_engine *e = s->engine;
  if (BS__UNLIKELY(s->store_out.n)) bs__store_flush(s);
  for (uint32_t i = 0; s->nout && i < e->nshards; i++) {
    bs__chain *c = &s->out[i];
    if (!c->n) continue;
    push_chain(s, e->shards[i], c->first, c->last, c->n);
    s->nout -= c->n;
    memset(c, 0, sizeof *c);
  }
}

/* bs__flush_mail, and the blocks of other shards' pools given back. */
void bs__flush(bs__shard *s) {
  bs_engine *e = s->engine;
  bs__flush_mail(s);
  for (uint32_t i = 0; s->nrfree && i < e->nshards; i++) {
    bs__chain *c = &s->rfree[i];
    if (!c->n) continue;
    bs__pool_remote_put(&e->shards[i]->pool, c->first, c->last);
    s->nrfree -= c->n;
    memset(c, 0, sizeof *c);
  }
}

static void do_ctrl(bs__shard *s, bs__msg *m);

void bs__arrive(bs__shard *s, bs__msg *m) {
  switch (m->kind) {
  case BS__MSG_VALUE: bs__answer_arrived(s, m); break;
  case BS__MSG_FANOUT: bs__fanout_arrived(s, m); break;
  case BS__MSG_CTRL: do_ctrl(s, m); break;
  case BS__MSG_STORE: bs__store_arrived(s, m); break;
#ifdef BS_WITH_CLUSTER
  case BS__MSG_NODE: bs__cl_arrive(s, m); break;
#endif
  default: bs__deliver_local(s, m); break;
  }
}

/* Store completions come through the inbox too: counted as taken (their
 * jobs were counted as sent, in bs__store_flush, so termination waits for
 * them), not as mail from other shards. One costs STORE_COST of the budget
 * (it may release replies and encode the next write): a group commit of
 * thousands is handled over several iterations, never in one long gap
 * between dispatches. Returns the budget spent. */
#define STORE_COST 8u

uint32_t bs__take_inbox(bs__shard *s, uint32_t budget) {
  uint32_t n = 0, mail = 0, spent = 0;
  bs__msg *m;
  while (spent < budget && (m = bs__inbox_pop(&s->inbox))) {
    n++;
    bool store = m->kind == BS__MSG_STORE;
    mail += !store;
    spent += store ? STORE_COST : 1;
    bs__arrive(s, m);
  }
  if (n) {
    BS__STORE(&s->xrecv, s->xrecv + n, RELEASE);
    BS__BUMP(&s->stats.remote_in, mail);
  }
  return spent;
}

/* ---- Draining ----------------------------------------------------------------- */

/* Polls the inbox for up to spin_ns: cheaper than a sleep and a wake-up when
 * another shard is about to answer. */
static bool spin(bs__shard *s) {
  uint64_t ns = s->engine->spin_ns;
  if (!ns) return false;
  uint64_t until = uv_hrtime() + ns;
  do {
    for (int i = 0; i < 64; i++) {
      if (bs__inbox_busy(&s->inbox)) return true;
      bs__cpu_relax();
    }
  } while (uv_hrtime() < until);
  return false;
}

/* The run queue is empty: returns true when mail came into the inbox
 * (at once or while spinning), else stops the drain handle (the shard
 * sleeps until a push or a handle of the loop wakes it). */
static bool go_idle(bs__shard *s) {
  if (s->inbox.stub) {
    if (bs__inbox_busy(&s->inbox) || spin(s)) return true;
    if (s->nrfree) bs__flush(s); /* other pools' blocks, before sleeping */
    if (!bs__inbox_sleep(&s->inbox)) return true; /* something arrived */
  }
  s->drain_active = false;
  uv_idle_stop(&s->h->drain);
  bs__update_idle(s);
  return false;
}

/* How long one drain may go on taking mail that arrives while it spins,
 * before the loop gets its iteration (timers, I/O, posts). */
#define DRAIN_ROUNDS_NS 500000u

/* The drain handle's callback: turns in run-queue order until the queue is
 * empty or the per-iteration budget is spent, so I/O and timers still get
 * their share of the loop. An actor with mail left goes to the back. Mail
 * from other shards that arrives as the queue empties is taken in another
 * round of the same call, within the budget and DRAIN_ROUNDS_NS: a round
 * trip between shards costs no loop iteration (an epoll_wait) per hop. */
void bs__drain(bs__shard *s) {
  bs_engine *e = s->engine;
  uint32_t budget = e->opts.drain_budget;
  uint64_t until = 0;
  for (;;) {
    if (s->inbox.stub) {
      uint32_t spent = bs__take_inbox(s, budget / 2 ? budget / 2 : 1);
      budget -= spent < budget ? spent : budget - 1;
    }
    if (BS__UNLIKELY(s->stopping)) return; /* told to exit: handles closing */
    s->in_drain = true;
    while (s->rq_head && budget > 0)
      budget -= bs__turn_next(s, budget < e->opts.batch ? budget : e->opts.batch);
    s->in_drain = false;
    /* Blocks of other pools go back when the drain ends (or 256 at a
     * time): not one atomic push per round of a ping-pong. */
    bs__flush_mail(s);
#ifdef BS_WITH_CLUSTER
    if (BS__CLUSTERED(s)) bs__cl_flush(s); /* batches for other nodes */
#endif
    if (s->rq_head || !s->drain_active) break; /* the budget is spent */
    if (!go_idle(s)) break;                    /* asleep */
    /* Mail arrived: another round, unless the loop is due. */
    if (budget <= 1 || !s->inbox.stub) break;
    uint64_t now = uv_hrtime();
    if (!until) until = now + DRAIN_ROUNDS_NS;
    else if (now >= until) break;
  }
  if (s->nrfree) bs__flush(s);
}

uint64_t bs__shard_handled(const bs__shard *s) { return s->handled; }
uint64_t bs__shard_queued(const bs__shard *s) { return s->queued; }

/* ---- The home shard's termination watch ---------------------------------------
 * A prepare handle runs before the home loop would block: if the home shard
 * has nothing to do but another shard is busy or mail is in flight, the
 * async handle stays referenced (and `waiting` tells the others to wake us
 * when they go idle); once all is quiet it is unreferenced, so uv_run
 * returns when the loop has nothing else. */
static void watch_cb(uv_prepare_t *p) {
  bs__shard *home = p->data;
  bs_engine *e = home->engine;
  if (!e->running) e->foreign_run = true; /* the user's own uv_run */
  if (!home->watching || home->drain_active) return;
  BS__STORE(&e->waiting, 1, SEQ_CST);
  if (bs__quiescent(e) && !bs__post_pending(e)) {
    if (e->holds == 0 && !e->cluster) uv_unref((uv_handle_t *)&home->h->async);
  } else {
    uv_ref((uv_handle_t *)&home->h->async);
  }
}

void bs__home_watch(bs_engine *e, bool on) {
  bs__shard *home = e->shards[0];
  home->watching = on;
  if (!on) BS__STORE(&e->waiting, 0, SEQ_CST);
  bs__hold_update(e);
}

/* ---- Control ---------------------------------------------------------------------- */

enum { CTRL_STOP_ACTORS = 1, CTRL_EXIT = 2, CTRL_CALL = 3 };

/* What a CTRL_CALL message carries in its data. */
typedef struct bs__call_ctrl {
  bs__shard_fn fn;
  void *arg;
  uv_sem_t *done; /* posted when fn has run, or NULL */
} bs__call_ctrl;

static void close_handles(bs__shard *s);

static void do_ctrl(bs__shard *s, bs__msg *m) {
  uint8_t op = m->ctrl;
  if (op == CTRL_CALL) {
    bs__call_ctrl call;
    memcpy(&call, m->data, sizeof call);
    bs__give_back(s, m);
    call.fn(s, call.arg);
    if (call.done) uv_sem_post(call.done);
    return;
  }
  bs__give_back(s, m);
  if (op == CTRL_STOP_ACTORS) {
    bs__shard_stop_actors(s);
    bs__flush(s);
    bs__quit_ack(s->engine);
  } else if (op == CTRL_EXIT) {
    s->stopping = true;
    close_handles(s);
  }
}

static int post_call(bs_engine *e, uint32_t to, bs__shard_fn fn, void *arg, uv_sem_t *done) {
  bs__shard *s = bs__here(e), *dst = e->shards[to];
  if (!s) return BS_EWRONGTHREAD;
  if (s == dst || !e->threaded) {
    bs__shard *prev = bs__enter(dst);
    fn(dst, arg);
    bs__leave(prev);
    return 1; /* ran */
  }
  bs__msg *m = bs__msg_get(&s->pool, sizeof(bs__call_ctrl));
  if (!m) return BS_ENOMEM;
  m->kind = BS__MSG_CTRL;
  m->ctrl = CTRL_CALL;
  bs__call_ctrl call = {fn, arg, done};
  memcpy(m->data, &call, sizeof call);
  push_chain(s, dst, m, m, 1);
  return 0;
}

int bs__shard_post(bs_engine *e, uint32_t to, bs__shard_fn fn, void *arg) {
  int rc = post_call(e, to, fn, arg, NULL);
  return rc < 0 ? rc : 0;
}

int bs__shard_call(bs_engine *e, uint32_t to, bs__shard_fn fn, void *arg) {
  uv_sem_t done;
  if (uv_sem_init(&done, 0) != 0) return BS_EUV;
  int rc = post_call(e, to, fn, arg, &done);
  if (rc == 0) uv_sem_wait(&done);
  uv_sem_destroy(&done);
  return rc < 0 ? rc : 0;
}

void bs__send_ctrl(bs_engine *e, uint32_t to, uint8_t op) {
  bs__shard *dst = e->shards[to];
  bs__msg *m = dst->ctrl[op - 1];
  dst->ctrl[op - 1] = NULL;
  m->ctrl = op;
  push_chain(e->shards[0], dst, m, m, 1);
}

/* ---- Lifecycle ------------------------------------------------------------------------ */

static void handle_closed(uv_handle_t *handle) {
  bs__handles *h = handle->data;
  if (--h->open == 0) {
    bs_allocator a = h->a;
    a.fn(a.ud, h, sizeof *h, 0);
  }
}

static void async_cb(uv_async_t *a) {
  bs__shard *s = a->data;
  bs__shard *prev = bs__enter(s);
  if (s->index == 0) bs__post_flush(s->engine, true);
  if (s->inbox.stub && bs__inbox_busy(&s->inbox)) bs__wake(s);
  bs__leave(prev);
}

static int open_handles(bs__shard *s) {
  bs__handles *h = s->h;
  int rc = uv_idle_init(s->loop, &h->drain);
  if (rc == 0) {
    h->open++;
    rc = uv_timer_init(s->loop, &h->clock);
  }
  if (rc == 0) {
    h->open++;
    rc = uv_async_init(s->loop, &h->async, async_cb);
  }
  if (rc == 0) {
    h->open++;
    rc = uv_prepare_init(s->loop, &h->watch);
  }
  if (rc == 0) h->open++;
  h->drain.data = s;
  h->clock.data = s;
  h->async.data = s;
  h->watch.data = s;
  if (rc == 0) {
    /* The watch runs on every iteration of the home loop (unreferenced: it
     * keeps nothing alive): it notices a loop run by the user's own uv_run,
     * and does the home shard's share of the termination check. */
    if (s->index == 0) uv_prepare_start(&h->watch, watch_cb);
    uv_unref((uv_handle_t *)&h->watch);
    /* A threaded shard's loop lives until it is told to exit; every other
     * loop is kept alive only by real work (or bs_engine_hold). */
    if (!s->threaded) uv_unref((uv_handle_t *)&h->async);
  }
  return rc < 0 ? BS_EUV : 0;
}

static void close_handles(bs__shard *s) {
  bs__handles *h = s->h;
  if (!h) return;
  /* bs_engine_post reads the home shard's handles under post_lock. */
  if (s->index == 0) uv_mutex_lock(&s->engine->post_lock);
  s->h = NULL;
  if (s->index == 0) uv_mutex_unlock(&s->engine->post_lock);
  /* The block leaves the shard's accounting now; the last close callback
   * frees it with a copy of the allocator. */
  h->a = s->heap.a;
  BS__BUMP(&s->heap.bytes_live, (uint64_t)0 - sizeof *h);
  BS__BUMP(&s->heap.free_calls, 1);
  uv_handle_t *hs[] = {(uv_handle_t *)&h->drain, (uv_handle_t *)&h->clock,
                       (uv_handle_t *)&h->async, (uv_handle_t *)&h->watch};
  int open = h->open;
  if (open == 0) {
    h->a.fn(h->a.ud, h, sizeof *h, 0);
    return;
  }
  for (int i = 0; i < open; i++) {
    hs[i]->data = h;
    uv_close(hs[i], handle_closed);
  }
}

static int prealloc_ctrl(bs__shard *s) {
  for (int i = 0; i < 2; i++) {
    bs__msg *m = bs__msg_get(&s->pool, 0);
    if (!m) return BS_ENOMEM;
    m->kind = BS__MSG_CTRL;
    s->ctrl[i] = m;
  }
  return 0;
}

static int shard_init(bs__shard *s, uv_loop_t *loop) {
  bs_engine *e = s->engine;
  uint32_t n = e->nshards;
  if (n > 1) {
    s->out = bs__calloc(&s->heap, n * sizeof *s->out);
    s->rfree = bs__calloc(&s->heap, n * sizeof *s->rfree);
    if (!s->out || !s->rfree) return BS_ENOMEM;
    if (s->threaded && prealloc_ctrl(s) < 0) return BS_ENOMEM;
  }
  /* The inbox: mail from other shards, and store completions. */
  if (n > 1 || e->storage) {
    bs__msg *stub = bs__calloc(&s->heap, sizeof(bs__msg));
    if (!stub) return BS_ENOMEM;
    bs__inbox_init(&s->inbox, stub);
  }
  s->external = bs__external_new(s);
  s->h = bs__calloc(&s->heap, sizeof *s->h);
  if (!s->external || !s->h) return BS_ENOMEM;
  if (!loop) {
    if (uv_loop_init(&s->own_loop_storage) != 0) return BS_EUV;
    s->own_loop = true;
    loop = &s->own_loop_storage;
  }
  s->loop = loop;
  return open_handles(s);
}

int bs__shard_new(bs_engine *e, uint16_t index, uv_loop_t *loop, bs__shard **out) {
  bs__shard *s = bs__calloc(&e->heap, sizeof *s);
  if (!s) return BS_ENOMEM;
  s->engine = e;
  s->index = index;
  s->threaded = e->threaded && index > 0;
  s->idle = 1;
  bs__heap_init(&s->heap, e->opts.allocator, false);
  bs__pool_init(&s->pool, &s->heap, index);
  bs_arena_init(&s->arena, bs__heap_allocator(&s->heap));
  s->arena.limit = e->opts.max_decode_bytes; /* per message: reset per dispatch */
  s->norefs.alloc = s->heap.a;
  s->norefs.heap = &s->heap;
  *out = s; /* even half-made: bs__shard_free takes it apart */
  return shard_init(s, loop);
}

static void shard_main(void *arg) {
  bs__shard *s = arg;
  bs__tls_shard = s;
  uv_run(s->loop, UV_RUN_DEFAULT);
  bs__tls_shard = NULL;
}

int bs__shard_start(bs__shard *s) {
  if (!s->threaded) return 0;
  if (uv_thread_create(&s->thread, shard_main, s) != 0) {
    s->threaded = false; /* nothing to join */
    return BS_EUV;
  }
  return 0;
}

/* Deinit every live actor, then dead-letter whatever mail is left. Actors
 * may send from deinit; with `freeing` set those sends are refused, so this
 * terminates. */
void bs__shard_stop_actors(bs__shard *s) {
  bs__shard *prev = bs__enter(s);
  bs__probes_free(s);
  bs__registry *r = &s->reg;
  for (size_t i = 0; i < r->cap; i++) {
    bs_cell *c = r->slots[i];
    if (c && c->state) bs__deactivate(s, c);
  }
  for (size_t i = 0; i < r->cap; i++) {
    bs_cell *c = r->slots[i];
    if (c) bs__sweep_mailbox(s, c, BS_DL_ENGINE_FREED, BS_ECANCELED);
  }
  if (s->external) bs__sweep_mailbox(s, s->external, BS_DL_ENGINE_FREED, BS_ECANCELED);
  if (s->store_out.n) bs__store_flush(s); /* the final writes of those actors */
  bs__leave(prev);
}

/* Closes the shard's handles and waits for its thread. Shards sharing the
 * home loop are closed first; the home shard last, running its own loop
 * (if it owns it) until every close has completed. */
void bs__shard_close(bs__shard *s) {
  if (s->threaded) {
    uv_thread_join(&s->thread);
    s->threaded = false;
    return;
  }
  bs_engine *e = s->engine;
  if (s->index != 0) {
    close_handles(s);
    return;
  }
  for (uint32_t i = e->nshards; i-- > 1;)
    if (e->shards[i] && !e->shards[i]->threaded && !e->shards[i]->own_loop)
      close_handles(e->shards[i]);
  close_handles(s);
  if (s->own_loop) uv_run(s->loop, UV_RUN_DEFAULT);
}

/* Dead-letters what is still in the inbox (the engine is being freed and
 * every thread has stopped). */
static void sweep_inbox(bs__shard *s) {
  bs__msg *m;
  while ((m = bs__inbox_pop(&s->inbox))) bs__arrive(s, m);
}

/* Takes apart everything that may hold blocks of other shards' pools:
 * inbox, requests, timers, cells, caches. Then gives the blocks back. */
void bs__shard_clear(bs__shard *s) {
  bs__shard *prev = bs__enter(s);
  if (s->inbox.stub) sweep_inbox(s);
  bs__requests_free(s);
  bs__timers_free(s);
  bs__idle_free(s);
  bs__stream_caches_free(s);
  for (size_t i = 0; i < s->reg.cap; i++)
    if (s->reg.slots[i]) bs__cell_free(s, s->reg.slots[i]);
  bs__registry_free(&s->reg, &s->heap);
  if (s->external) bs__cell_free(s, s->external);
  s->external = NULL;
  bs__cell_cache_free(s);
  for (int i = 0; i < 2; i++)
    if (s->ctrl[i]) bs__msg_put(&s->pool, s->ctrl[i]);
#ifdef BS_WITH_CLUSTER
  bs__cl_shard_free(s);
#endif
  if (s->rfree) bs__flush(s);
  bs__leave(prev);
}

/* Frees the shard itself, after every shard was cleared. */
void bs__shard_free(bs__shard *s) {
  bs_engine *e = s->engine;
  bs__pool_free(&s->pool);
  bs_arena_free(&s->arena);
  if (s->inbox.stub) bs__free(&s->heap, s->inbox.stub, sizeof(bs__msg));
  if (s->out) bs__free(&s->heap, s->out, e->nshards * sizeof *s->out);
  if (s->rfree) bs__free(&s->heap, s->rfree, e->nshards * sizeof *s->rfree);
  if (s->h) close_handles(s);
  if (s->own_loop) uv_loop_close(&s->own_loop_storage);
  bs__free(&e->heap, s, sizeof *s);
}
