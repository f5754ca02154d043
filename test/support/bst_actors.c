/* Hand-written actor type descriptors (see bst.h for what each one does).
 *
 * Each invoke thunk reads its arguments with bs_read_*, returns the reader's
 * error before calling the method when they do not decode, stores an int
 * method's status in call->result and encodes the return value into
 * call->reply when the caller asked for one: the shape backstage-gen emits.
 */
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "bst.h"

static bool all_zero(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != 0) return false;
  return true;
}

static const bs_method *find_method(const bs_actor_type *t, uint32_t id) {
  for (size_t i = 0; i < t->method_count; i++)
    if (t->methods[i].id == id) return &t->methods[i];
  return NULL;
}

/* ---- Counter ------------------------------------------------------------ */

typedef struct counter {
  bs_context *ctx;
  int64_t value;
  uint64_t adds;
  uint8_t pad[40]; /* so "zeroed state" covers more than a few words */
} counter;

static int counter_init(void *self, bs_context *ctx) {
  counter *c = self;
  if (!all_zero(c, sizeof *c)) bst_g.counter_dirty_inits++;
  c->ctx = ctx;
  bst_g.counter_inits++;
  return 0;
}

static void counter_deinit(void *self) {
  (void)self;
  bst_g.counter_deinits++;
}

static int counter_add(void *self, bs_call *call) {
  counter *c = self;
  int64_t n = 0;
  int rc = bs_read_i64(&call->args, &n);
  if (rc < 0) return rc;
  c->value += n;
  c->adds++;
  bst_g.counter_adds++;
  bst_g.counter_total += n;
  call->result = 0;
  return 0;
}

static int counter_get(void *self, bs_call *call) {
  counter *c = self;
  call->result = 0;
  if (call->reply != NULL) return bs_write_int(call->reply, c->value);
  return 0;
}

static int counter_spin(void *self, bs_call *call) {
  (void)self;
  uint64_t ms = 0;
  int rc = bs_read_u64(&call->args, &ms);
  if (rc < 0) return rc;
  bst_spin_ms(ms);
  bst_g.spins++;
  call->result = 0;
  return 0;
}

static int counter_fail_with(void *self, bs_call *call) {
  (void)self;
  int64_t code = 0;
  int rc = bs_read_i64(&call->args, &code);
  if (rc < 0) return rc;
  call->result = (int)code; /* an int method's own status */
  if (call->reply != NULL) return bs_write_int(call->reply, code);
  return 0;
}

/* The method runs; encoding its return value fails (as a generated encoder
 * would on a value it cannot represent). */
static int counter_get_unencodable(void *self, bs_call *call) {
  (void)self;
  call->result = 0;
  if (call->reply == NULL) return 0;
  call->reply->err = BS_EENCODE;
  return bs_write_int(call->reply, 1);
}

static int counter_stop_self(void *self, bs_call *call) {
  counter *c = self;
  bs_ref me = bs_context_self(c->ctx);
  bst_g.probe_stop_rc = bs_stop(&me);
  call->result = 0;
  return 0;
}

static int counter_set(void *self, bs_call *call) {
  counter *c = self;
  int64_t n = 0;
  int rc = bs_read_i64(&call->args, &n);
  if (rc < 0) return rc;
  c->value = n;
  call->result = 0;
  return 0;
}

const bs_method bst_counter_methods[BST_COUNTER_NMETHODS] = {
    {"add", 1, 1, counter_add},
    {"get", 2, 0, counter_get},
    {"spin", 3, 1, counter_spin},
    {"fail_with", 4, 1, counter_fail_with},
    {"get_unencodable", 5, 0, counter_get_unencodable},
    {"stop_self", 6, 0, counter_stop_self},
    {"set", 7, 1, counter_set},
};

const bs_actor_type bst_counter_type = {
    "Counter",
    sizeof(counter),
    alignof(counter),
    counter_init,
    counter_deinit,
    bst_counter_methods,
    BST_COUNTER_NMETHODS,
    NULL,
    NULL,
    NULL,
};

/* ---- Recorder ------------------------------------------------------------ */

typedef struct recorder {
  bs_context *ctx;
} recorder;

static int recorder_init(void *self, bs_context *ctx) {
  ((recorder *)self)->ctx = ctx;
  return 0;
}

static int recorder_note(void *self, bs_call *call) {
  recorder *r = self;
  int64_t v = 0;
  int rc = bs_read_i64(&call->args, &v);
  if (rc < 0) return rc;
  bst_trace_add(bs_context_id(r->ctx), BST_EV_NOTE, v);
  call->result = 0;
  return 0;
}

static int recorder_relay(void *self, bs_call *call) {
  recorder *r = self;
  const char *target = NULL;
  int64_t v = 0;
  bs_read_cstr(&call->args, &target);
  int rc = bs_read_i64(&call->args, &v);
  if (rc < 0) return rc;
  const char *me = bs_context_id(r->ctx);
  bst_trace_add(me, BST_EV_RELAY_BEGIN, v);
  bs_ref other;
  rc = bs_actor_get(bs_context_engine(r->ctx), &bst_recorder_type, target,
                    &other);
  if (rc == 0)
    rc = bst_send_i64(other, &bst_recorder_methods[BST_RECORDER_NOTE], v);
  if (rc == 0)
    rc = bst_send_i64(bs_context_self(r->ctx),
                      &bst_recorder_methods[BST_RECORDER_NOTE], v + 1);
  bst_trace_add(me, BST_EV_RELAY_END, rc);
  call->result = rc;
  return 0;
}

const bs_method bst_recorder_methods[BST_RECORDER_NMETHODS] = {
    {"note", 1, 1, recorder_note},
    {"relay", 2, 2, recorder_relay},
};

const bs_actor_type bst_recorder_type = {
    "Recorder", sizeof(recorder), alignof(recorder), recorder_init, NULL,
    bst_recorder_methods, BST_RECORDER_NMETHODS, NULL, NULL, NULL,
};

/* ---- Echo ---------------------------------------------------------------- */

typedef struct echo {
  uint64_t takes;
} echo;

static int echo_init(void *self, bs_context *ctx) {
  (void)self;
  (void)ctx;
  return 0;
}

static int echo_take(void *self, bs_call *call) {
  echo *e = self;
  const void *p = NULL;
  size_t len = 0;
  int rc = bs_read_bytes(&call->args, &p, &len);
  if (rc < 0) return rc;
  e->takes++;
  bst_g.echo_takes++;
  bst_g.echo_last_len = len;
  bst_g.echo_last_hash = bst_hash(p, len);
  if (!bst_check_fill(p, len, (uint32_t)len)) bst_g.echo_bad_pattern++;
  call->result = 0;
  return 0;
}

static int echo_echo(void *self, bs_call *call) {
  (void)self;
  const void *p = NULL;
  size_t len = 0;
  int rc = bs_read_bytes(&call->args, &p, &len);
  if (rc < 0) return rc;
  call->result = 0;
  if (call->reply != NULL) return bs_write_bytes(call->reply, p, len);
  return 0;
}

const bs_method bst_echo_methods[BST_ECHO_NMETHODS] = {
    {"take", 1, 1, echo_take},
    {"echo", 2, 1, echo_echo},
};

const bs_actor_type bst_echo_type = {
    "Echo", sizeof(echo), alignof(echo), echo_init, NULL,
    bst_echo_methods, BST_ECHO_NMETHODS, NULL, NULL, NULL,
};

/* ---- FailInit ------------------------------------------------------------ */

typedef struct failinit {
  int unused;
} failinit;

static int failinit_init(void *self, bs_context *ctx) {
  (void)self;
  (void)ctx;
  bst_g.failinit_inits++;
  return bst_g.failinit_code;
}

static void failinit_deinit(void *self) {
  (void)self;
  bst_g.failinit_deinits++;
}

static int failinit_ping(void *self, bs_call *call) {
  (void)self;
  bst_g.failinit_method_calls++;
  call->result = 0;
  if (call->reply != NULL) return bs_write_int(call->reply, 1);
  return 0;
}

const bs_method bst_failinit_methods[BST_FAILINIT_NMETHODS] = {
    {"ping", 1, 0, failinit_ping},
};

const bs_actor_type bst_failinit_type = {
    "FailInit", sizeof(failinit), alignof(failinit), failinit_init,
    failinit_deinit, bst_failinit_methods, BST_FAILINIT_NMETHODS, NULL, NULL, NULL,
};

/* ---- Seq ------------------------------------------------------------------ */

typedef struct seq {
  uint64_t received;
} seq;

static int seq_init(void *self, bs_context *ctx) {
  (void)self;
  (void)ctx;
  return 0;
}

static int seq_push(void *self, bs_call *call) {
  seq *s = self;
  uint64_t stream = 0, n = 0;
  bs_read_u64(&call->args, &stream);
  int rc = bs_read_u64(&call->args, &n);
  if (rc < 0) return rc;
  s->received++;
  bst_g.seq_received++;
  if (stream >= BST_MAX_STREAMS || n != bst_g.seq_next[stream]) {
    bst_g.seq_order_errors++;
  }
  if (stream < BST_MAX_STREAMS) bst_g.seq_next[stream] = n + 1;
  call->result = 0;
  return 0;
}

const bs_method bst_seq_methods[BST_SEQ_NMETHODS] = {
    {"push", 1, 2, seq_push},
};

const bs_actor_type bst_seq_type = {
    "Seq", sizeof(seq), alignof(seq), seq_init, NULL,
    bst_seq_methods, BST_SEQ_NMETHODS, NULL, NULL, NULL,
};

/* ---- Probe ---------------------------------------------------------------- */

typedef struct probe {
  bs_context *ctx;
} probe;

static int probe_init(void *self, bs_context *ctx) {
  ((probe *)self)->ctx = ctx;
  bst_g.probe_inits++;
  return 0;
}

static void probe_deinit(void *self) {
  (void)self;
  bst_g.probe_deinits++;
}

static int probe_whoami(void *self, bs_call *call) {
  probe *p = self;
  bst_g.probe_calls++;
  snprintf(bst_g.probe_id, sizeof bst_g.probe_id, "%s",
           bs_context_id(p->ctx) ? bs_context_id(p->ctx) : "(null)");
  bst_g.probe_engine = bs_engine_of(p->ctx);
  bst_g.probe_self = bs_context_self(p->ctx);
  bst_g.probe_in_turn = bs_in_turn(bst_g.probe_engine);
  call->result = 0;
  return 0;
}

static int probe_run_engine(void *self, bs_call *call) {
  probe *p = self;
  bst_g.probe_calls++;
  bst_g.probe_run_rc = bs_engine_run(bs_context_engine(p->ctx), BS_RUN_NOWAIT);
  call->result = 0;
  return 0;
}

static int probe_await_inside(void *self, bs_call *call) {
  probe *p = self;
  const char *id = NULL;
  int rc = bs_read_cstr(&call->args, &id);
  if (rc < 0) return rc;
  bst_g.probe_calls++;
  bs_engine *e = bs_context_engine(p->ctx);
  bs_ref target;
  rc = bs_actor_get(e, &bst_counter_type, id, &target);
  if (rc < 0) {
    bst_g.probe_await_rc = rc;
    return 0;
  }
  bst_g.probe_sent_before_await = bst_stats(e).sent;
  int64_t v = -1;
  bst_g.probe_await_rc = bst_get_await(target, &v, 1000);
  bst_g.probe_sent_after_await = bst_stats(e).sent;
  call->result = 0;
  return 0;
}

const bs_method bst_probe_methods[BST_PROBE_NMETHODS] = {
    {"whoami", 1, 0, probe_whoami},
    {"run_engine", 2, 0, probe_run_engine},
    {"await_inside", 3, 1, probe_await_inside},
};

const bs_actor_type bst_probe_type = {
    "Probe", sizeof(probe), alignof(probe), probe_init, probe_deinit,
    bst_probe_methods, BST_PROBE_NMETHODS, NULL, NULL, NULL,
};

/* ---- Pinger --------------------------------------------------------------- */

typedef struct pinger {
  bs_context *ctx;
  int64_t marker;
  int replies;
} pinger;

static int pinger_init(void *self, bs_context *ctx) {
  ((pinger *)self)->ctx = ctx;
  bst_g.pinger_inits++;
  return 0;
}

static void pinger_deinit(void *self) {
  pinger *p = self;
  bst_g.pinger_deinits++;
  if (bst_g.pinger_deinit_notify != NULL) {
    bs_ref c;
    int rc = bs_actor_get(bs_context_engine(p->ctx), &bst_counter_type,
                          bst_g.pinger_deinit_notify, &c);
    if (rc == 0) rc = bst_add(c, 1);
    bst_g.pinger_deinit_send_rc = rc;
  }
}

/* Runs on the pinger's own turn: records what it sees of its state. */
static void pinger_on_reply(void *ud, int status, int64_t value) {
  pinger *p = ud;
  p->replies++;
  const char *me = bs_context_id(p->ctx);
  bst_trace_add(me, BST_EV_CONT, status < 0 ? status : value);
  if (bst_reply_count >= BST_REPLY_MAX) return;
  bst_reply_rec *rec = &bst_replies[bst_reply_count++];
  snprintf(rec->who, sizeof rec->who, "%s", me ? me : "(null)");
  rec->status = status;
  rec->value = value;
  rec->in_turn = bs_in_turn(bs_context_engine(p->ctx));
  rec->marker = p->marker;
}

static int pinger_send_add(void *self, bs_call *call) {
  pinger *p = self;
  const char *id = NULL;
  int64_t n = 0;
  bs_read_cstr(&call->args, &id);
  int rc = bs_read_i64(&call->args, &n);
  if (rc < 0) return rc;
  bs_ref c;
  rc = bs_actor_get(bs_context_engine(p->ctx), &bst_counter_type, id, &c);
  if (rc == 0) rc = bst_add(c, n);
  bst_g.pinger_send_rc = rc;
  call->result = 0;
  return 0;
}

static int pinger_ask(void *self, bs_call *call) {
  pinger *p = self;
  const char *tname = NULL, *id = NULL;
  uint32_t mid = 0;
  bs_read_cstr(&call->args, &tname);
  bs_read_cstr(&call->args, &id);
  int rc = bs_read_u32(&call->args, &mid);
  if (rc < 0) return rc;
  const bs_actor_type *t = bst_type_by_name(tname);
  bs_ref target;
  rc = t ? bs_actor_get(bs_context_engine(p->ctx), t, id, &target) : BS_EINVAL;
  if (rc == 0) {
    const bs_method *m = find_method(t, mid);
    p->marker = 77;
    rc = bst_request0_i64(target, m ? m : &bst_bogus_method, pinger_on_reply,
                          p);
  }
  bst_g.pinger_request_rc = rc;
  call->result = 0;
  return 0;
}

static int request_text(bs_ref to, const bs_method *m, const char *s,
                        bst_i64_fn fn, void *ud) {
  bs_writer w;
  memset(&w, 0, sizeof w);
  int rc = bs_send_begin(&to, m, &w);
  if (rc < 0) return rc;
  bs_write_cstr(&w, s);
  return bs_request_end(&w, bst_reply_i64, (bs_fnptr)fn, ud);
}

static int pinger_start_cycle(void *self, bs_call *call) {
  pinger *p = self;
  const char *peer = NULL;
  int rc = bs_read_cstr(&call->args, &peer);
  if (rc < 0) return rc;
  bs_ref other;
  rc = bs_actor_get(bs_context_engine(p->ctx), &bst_pinger_type, peer, &other);
  if (rc == 0) {
    p->marker = 77;
    rc = request_text(other, &bst_pinger_methods[BST_PINGER_PING_BACK],
                      bs_context_id(p->ctx), pinger_on_reply, p);
  }
  bst_g.pinger_request_rc = rc;
  call->result = 0;
  return 0;
}

static int pinger_ping_back(void *self, bs_call *call) {
  pinger *p = self;
  const char *from = NULL;
  int rc = bs_read_cstr(&call->args, &from);
  if (rc < 0) return rc;
  bs_ref caller;
  rc = bs_actor_get(bs_context_engine(p->ctx), &bst_pinger_type, from, &caller);
  if (rc == 0) {
    p->marker = 77;
    rc = bst_request0_i64(caller, &bst_pinger_methods[BST_PINGER_VALUE],
                          pinger_on_reply, p);
  }
  bst_g.pinger_request_rc = rc;
  call->result = 0;
  if (call->reply != NULL) return bs_write_int(call->reply, 7);
  return 0;
}

static int pinger_value(void *self, bs_call *call) {
  (void)self;
  call->result = 0;
  if (call->reply != NULL) return bs_write_int(call->reply, 42);
  return 0;
}

static int pinger_stop_self(void *self, bs_call *call) {
  pinger *p = self;
  bs_ref me = bs_context_self(p->ctx);
  bst_g.probe_stop_rc = bs_stop(&me);
  call->result = 0;
  return 0;
}

const bs_method bst_pinger_methods[BST_PINGER_NMETHODS] = {
    {"send_add", 1, 2, pinger_send_add},
    {"ask", 2, 3, pinger_ask},
    {"start_cycle", 3, 1, pinger_start_cycle},
    {"ping_back", 4, 1, pinger_ping_back},
    {"value", 5, 0, pinger_value},
    {"stop_self", 6, 0, pinger_stop_self},
};

const bs_actor_type bst_pinger_type = {
    "Pinger", sizeof(pinger), alignof(pinger), pinger_init, pinger_deinit,
    bst_pinger_methods, BST_PINGER_NMETHODS, NULL, NULL, NULL,
};

/* ---- Ledger (persistent) ---------------------------------------------------- */

/* Its stored form: {1: balance, 2: ops, 3: check}, check = a function of
 * the other two, so a torn or mixed-up record shows. */
typedef struct ledger {
  bs_context *ctx;
  int64_t balance;
  uint64_t ops;
  uint64_t check;
} ledger;

uint64_t bst_ledger_check(int64_t balance, uint64_t ops) {
  return ((uint64_t)balance * 0x9e3779b97f4a7c15ull) ^ (ops + 0x5bd1e995u);
}

static int ledger_save(const void *self, bs_writer *w) {
  const ledger *l = self;
  bs_write_map(w, 3);
  bs_write_uint(w, 1);
  bs_write_int(w, l->balance);
  bs_write_uint(w, 2);
  bs_write_uint(w, l->ops);
  bs_write_uint(w, 3);
  return bs_write_uint(w, l->check);
}

static int ledger_load(void *self, bs_reader *r) {
  ledger *l = self;
  uint64_t n = 0;
  if (bs_read_map(r, &n) < 0) return r->err;
  for (uint64_t i = 0; i < n && !r->err; i++) {
    uint64_t key = 0;
    bs_read_uint(r, &key);
    if (key == 1) bs_read_i64(r, &l->balance);
    else if (key == 2) bs_read_u64(r, &l->ops);
    else if (key == 3) bs_read_u64(r, &l->check);
    else bs_read_skip(r);
  }
  if (!r->err && l->check != bst_ledger_check(l->balance, l->ops)) r->err = BS_EDECODE;
  return r->err;
}

static int ledger_init(void *self, bs_context *ctx) {
  ledger *l = self;
  l->ctx = ctx;
  bst_g.ledger_inits++;
  if (bs_context_loaded(ctx)) bst_g.ledger_loaded++;
  bst_g.ledger_init_balance = l->balance;
  if (bst_g.ledger_persist_in_init) {
    l->balance += 1000;
    l->check = bst_ledger_check(l->balance, l->ops);
    bs_context_persist(ctx);
  }
  return 0;
}

static void ledger_deinit(void *self) {
  ledger *l = self;
  bst_g.ledger_deinits++;
  l->balance = -1; /* changed in deinit: never written */
  bs_context_persist(l->ctx);
}

static void ledger_apply(ledger *l, int64_t n) {
  l->balance += n;
  l->ops++;
  l->check = bst_ledger_check(l->balance, l->ops);
}

static int ledger_add(void *self, bs_call *call) {
  int64_t n = 0;
  if (bs_read_i64(&call->args, &n) < 0) return call->args.err;
  ledger_apply(self, n);
  call->result = bs_context_persist(((ledger *)self)->ctx);
  return 0;
}

static int ledger_deposit(void *self, bs_call *call) {
  ledger *l = self;
  int64_t n = 0;
  if (bs_read_i64(&call->args, &n) < 0) return call->args.err;
  ledger_apply(l, n);
  call->result = bs_context_persist(l->ctx);
  return call->reply ? bs_write_int(call->reply, l->balance) : 0;
}

static int ledger_get(void *self, bs_call *call) {
  ledger *l = self;
  call->result = 0;
  return call->reply ? bs_write_int(call->reply, l->balance) : 0;
}

static int ledger_forget(void *self, bs_call *call) {
  ledger *l = self;
  call->result = bs_context_forget(l->ctx);
  return 0;
}

static int ledger_set_volatile(void *self, bs_call *call) {
  int64_t n = 0;
  if (bs_read_i64(&call->args, &n) < 0) return call->args.err;
  ledger *l = self;
  l->balance = n;
  l->check = bst_ledger_check(l->balance, l->ops);
  call->result = 0;
  return 0;
}

static int ledger_version(void *self, bs_call *call) {
  ledger *l = self;
  call->result = 0;
  return call->reply ? bs_write_int(call->reply, (int64_t)bs_context_version(l->ctx)) : 0;
}

const bs_method bst_ledger_methods[BST_LEDGER_NMETHODS] = {
    {"add", 1, 1, ledger_add},
    {"deposit", 2, 1, ledger_deposit},
    {"get", 3, 0, ledger_get},
    {"forget", 4, 0, ledger_forget},
    {"set_volatile", 5, 1, ledger_set_volatile},
    {"version", 6, 0, ledger_version},
};

const bs_actor_type bst_ledger_type = {
    .name = "Ledger",
    .state_size = sizeof(ledger),
    .state_align = alignof(ledger),
    .init = ledger_init,
    .deinit = ledger_deinit,
    .methods = bst_ledger_methods,
    .method_count = BST_LEDGER_NMETHODS,
    .save_state = ledger_save,
    .load_state = ledger_load,
};

/* ---- Bogus method and lookup ------------------------------------------------ */

static int bogus_invoke(void *self, bs_call *call) {
  (void)self;
  bst_g.bogus_invokes++;
  call->result = 0;
  if (call->reply != NULL) return bs_write_int(call->reply, -1);
  return 0;
}

const bs_method bst_bogus_method = {"bogus", BST_BOGUS_ID, 0, bogus_invoke};

const bs_actor_type *bst_type_by_name(const char *name) {
  static const bs_actor_type *const all[] = {
      &bst_counter_type, &bst_recorder_type, &bst_echo_type,
      &bst_failinit_type, &bst_seq_type, &bst_probe_type, &bst_pinger_type,
      &bst_ledger_type,
  };
  if (name == NULL) return NULL;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (strcmp(all[i]->name, name) == 0) return all[i];
  return NULL;
}
