/* Backstage test support (bst_): a counting, failure-injecting allocator,
 * hand-written actor type descriptors shared by the runtime tests, a dead
 * letter recorder, a global trace for ordering checks and small CBOR/proxy
 * helpers.
 *
 * Everything here is single-threaded (the engine's loop thread) unless said
 * otherwise. Criterion runs every test in its own process, so the globals
 * start fresh; tests still call bst_reset() first so a test reads as
 * self-contained.
 */
#ifndef BST_H
#define BST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <backstage.h>

/* ---- Counting allocator ---------------------------------------------------
 *
 * Wraps malloc/realloc/free with a small header that remembers each block's
 * size, so it can check the contract of alloc.h ("`old` is always the size
 * the engine asked for") and count live bytes. It can fail the N-th
 * allocation attempt (allocations and resizes both count), or every attempt
 * from the N-th on.
 */
typedef struct bst_alloc {
  uint64_t attempts;        /* allocate + resize calls, failed ones too */
  uint64_t allocs;          /* successful allocations and resizes */
  uint64_t frees;           /* frees of non-NULL pointers */
  uint64_t failures;        /* injected failures */
  uint64_t size_mismatches; /* `old` differed from the block's size */
  uint64_t bad_frees;       /* pointer without our header (corruption) */
  uint64_t blocks_live;
  size_t bytes_live;
  size_t bytes_peak;
  uint64_t fail_at;         /* 1-based attempt to fail; 0: never */
  bool fail_from;           /* fail every attempt >= fail_at */
} bst_alloc;

void bst_alloc_init(bst_alloc *a);
void *bst_alloc_fn(void *ud, void *ptr, size_t old_size, size_t new_size);
bs_allocator bst_allocator(bst_alloc *a);

/* Engine options with the counting allocator, the dead letter recorder and
 * defaults otherwise. `a` may be NULL (default allocator). */
bs_engine_options bst_options(bst_alloc *a);

/* ---- Dead letters --------------------------------------------------------- */

#define BST_DL_MAX 512

typedef struct bst_dl_rec {
  char target[BS_ID_MAX + 1];
  char type[64];
  char method[64];
  bool method_null;
  uint32_t method_id;
  bs_dead_letter_reason reason;
  int code;
} bst_dl_rec;

extern bst_dl_rec bst_dls[BST_DL_MAX];
extern size_t bst_dl_count;                  /* all hook calls */
extern uint64_t bst_dl_by_reason[BS_DL__COUNT];
/* Set by tests that want the hook to forward every dead letter as a
 * Counter.add(1) message to this actor (the hook may send). */
extern bs_ref bst_dl_forward;

void bst_dl_hook(void *ud, const bs_dead_letter *dl);
/* First recorded dead letter with `reason`, or NULL. */
const bst_dl_rec *bst_dl_find(bs_dead_letter_reason reason);

/* ---- Trace ---------------------------------------------------------------- */

enum {
  BST_EV_NOTE = 1,     /* Recorder.note(v) */
  BST_EV_RELAY_BEGIN,  /* Recorder.relay entered */
  BST_EV_RELAY_END,    /* Recorder.relay about to return */
  BST_EV_CONT          /* a continuation ran */
};

typedef struct bst_event {
  char who[32];
  int kind;
  int64_t v;
} bst_event;

#define BST_TRACE_MAX 4096
extern bst_event bst_trace[BST_TRACE_MAX];
extern size_t bst_trace_len;
void bst_trace_add(const char *who, int kind, int64_t v);

/* ---- Replies seen by continuations ---------------------------------------- */

typedef struct bst_reply_rec {
  char who[32];   /* the actor whose continuation ran ("main" outside) */
  int status;
  int64_t value;
  bool in_turn;   /* bs_in_turn() inside the continuation */
  int64_t marker; /* the caller's state field, read inside the continuation */
} bst_reply_rec;

#define BST_REPLY_MAX 256
extern bst_reply_rec bst_replies[BST_REPLY_MAX];
extern size_t bst_reply_count;

/* ---- Global counters the actors update ------------------------------------ */

#define BST_MAX_STREAMS 16

typedef struct bst_globals {
  /* Counter */
  int counter_inits;
  int counter_deinits;
  int counter_dirty_inits;  /* state not zeroed when init ran */
  uint64_t counter_adds;    /* add() calls, all instances */
  int64_t counter_total;    /* sum of add() arguments, all instances */
  int spins;
  /* FailInit */
  int failinit_inits;
  int failinit_deinits;
  int failinit_code;        /* what FailInit's init returns (BS_EINIT) */
  int failinit_method_calls;
  /* Echo */
  uint64_t echo_takes;
  size_t echo_last_len;
  uint64_t echo_last_hash;
  int echo_bad_pattern;
  /* Seq */
  uint64_t seq_received;
  uint64_t seq_order_errors;
  uint64_t seq_next[BST_MAX_STREAMS];
  /* Probe */
  int probe_inits;
  int probe_deinits;
  int probe_calls;
  char probe_id[BS_ID_MAX + 1];
  bs_engine *probe_engine;
  bs_ref probe_self;
  bool probe_in_turn;
  int probe_run_rc;
  int probe_await_rc;
  uint64_t probe_sent_before_await;
  uint64_t probe_sent_after_await;
  int probe_stop_rc;
  /* Pinger */
  int pinger_inits;
  int pinger_deinits;
  int pinger_send_rc;
  int pinger_request_rc;
  /* when set, Pinger's deinit sends Counter.add(1) to this counter id */
  const char *pinger_deinit_notify;
  int pinger_deinit_send_rc;
  /* bogus method's invoke (must never run) */
  int bogus_invokes;
  /* Ledger */
  int ledger_inits;
  int ledger_deinits;
  int ledger_loaded;            /* inits that found a stored state */
  int64_t ledger_init_balance;  /* the balance init saw, last time */
  bool ledger_persist_in_init;  /* init adds 1000 and persists */
} bst_globals;

extern bst_globals bst_g;

/* Clears every global above, the trace, replies and dead letters. */
void bst_reset(void);

/* ---- Hand-written actor types ---------------------------------------------
 *
 * Counter: add(int64) [1], get() -> int64 [2], spin(uint ms) [3] (busy-waits
 *   ms of wall time: used to keep a turn long), fail_with(int code) [4] (an
 *   int method returning `code`), get_unencodable() -> int64 [5] (the reply
 *   encoding fails), stop_self() [6], set(int64) [7].
 * Recorder: note(int64) [1] traces (id, NOTE, v); relay(text target, int64 v)
 *   [2] traces RELAY_BEGIN, sends note(v) to Recorder `target` and note(v+1)
 *   to itself, traces RELAY_END.
 * Echo: take(bytes) [1] checks the bst_fill pattern and records length and
 *   hash; echo(bytes) -> bytes [2].
 * FailInit: init returns bst_g.failinit_code; ping() -> int64 [1].
 * Seq: push(uint stream, uint seq) [1] checks per-stream order.
 * Probe: whoami() [1] records context id/engine/self and bs_in_turn;
 *   run_engine() [2] records bs_engine_run(NOWAIT) from inside a turn;
 *   await_inside(text counter_id) [3] records bs_request_await of
 *   Counter.get from inside a turn.
 * Pinger: send_add(text counter, int64 n) [1]; ask(text type, text id,
 *   uint method_id) [2] requests a zero-argument method (an id the type
 *   lacks gives an unknown method) with a continuation that records into
 *   bst_replies; start_cycle(text peer) [3] asks Pinger peer.ping_back(me);
 *   ping_back(text from) -> int64 [4] asks Pinger `from`.value() and
 *   returns 7; value() -> int64 [5] returns 42; stop_self() [6]. Its deinit
 *   sends Counter.add(1) to bst_g.pinger_deinit_notify when that is set.
 */

extern const bs_actor_type bst_counter_type;
extern const bs_actor_type bst_recorder_type;
extern const bs_actor_type bst_echo_type;
extern const bs_actor_type bst_failinit_type;
extern const bs_actor_type bst_seq_type;
extern const bs_actor_type bst_probe_type;
extern const bs_actor_type bst_pinger_type;
extern const bs_actor_type bst_ledger_type;

enum { BST_COUNTER_ADD, BST_COUNTER_GET, BST_COUNTER_SPIN, BST_COUNTER_FAIL_WITH,
       BST_COUNTER_GET_UNENCODABLE, BST_COUNTER_STOP_SELF, BST_COUNTER_SET,
       BST_COUNTER_NMETHODS };
extern const bs_method bst_counter_methods[BST_COUNTER_NMETHODS];

enum { BST_RECORDER_NOTE, BST_RECORDER_RELAY, BST_RECORDER_NMETHODS };
extern const bs_method bst_recorder_methods[BST_RECORDER_NMETHODS];

enum { BST_ECHO_TAKE, BST_ECHO_ECHO, BST_ECHO_NMETHODS };
extern const bs_method bst_echo_methods[BST_ECHO_NMETHODS];

enum { BST_FAILINIT_PING, BST_FAILINIT_NMETHODS };
extern const bs_method bst_failinit_methods[BST_FAILINIT_NMETHODS];

enum { BST_SEQ_PUSH, BST_SEQ_NMETHODS };
extern const bs_method bst_seq_methods[BST_SEQ_NMETHODS];

enum { BST_PROBE_WHOAMI, BST_PROBE_RUN_ENGINE, BST_PROBE_AWAIT_INSIDE,
       BST_PROBE_NMETHODS };
extern const bs_method bst_probe_methods[BST_PROBE_NMETHODS];

enum { BST_PINGER_SEND_ADD, BST_PINGER_ASK, BST_PINGER_START_CYCLE,
       BST_PINGER_PING_BACK, BST_PINGER_VALUE, BST_PINGER_STOP_SELF,
       BST_PINGER_NMETHODS };
extern const bs_method bst_pinger_methods[BST_PINGER_NMETHODS];

/* Ledger (persistent: save_state/load_state by hand, {1: balance, 2: ops,
 * 3: check}): add(int64) [1] one-way, persists; deposit(int64) -> int64
 * balance [2], persists; get() -> int64 [3]; forget() [4] removes the
 * record; set_volatile(int64) [5] changes the balance without persisting;
 * version() -> int64 [6] bs_context_version. Its deinit changes the
 * balance and calls persist (which must be ignored). A record whose check
 * does not match fails to load (BS_EDECODE). */
enum { BST_LEDGER_ADD, BST_LEDGER_DEPOSIT, BST_LEDGER_GET, BST_LEDGER_FORGET,
       BST_LEDGER_SET_VOLATILE, BST_LEDGER_VERSION, BST_LEDGER_NMETHODS };
extern const bs_method bst_ledger_methods[BST_LEDGER_NMETHODS];
uint64_t bst_ledger_check(int64_t balance, uint64_t ops);

/* A method no type has (id 999, no arguments); its invoke must never run. */
extern const bs_method bst_bogus_method;
#define BST_BOGUS_ID 999u

/* The type named `name` among the ones above, or NULL. */
const bs_actor_type *bst_type_by_name(const char *name);

/* ---- Proxy helpers (hand-written proxies) ---------------------------------
 *
 * Each returns what bs_send_begin returned if it failed (then no *_end call
 * is made), otherwise what the *_end call returned.
 */
int bst_send0(bs_ref r, const bs_method *m);
int bst_send_i64(bs_ref r, const bs_method *m, int64_t v);
int bst_send_u64(bs_ref r, const bs_method *m, uint64_t v);
int bst_send_u64_u64(bs_ref r, const bs_method *m, uint64_t a, uint64_t b);
int bst_send_text(bs_ref r, const bs_method *m, const char *s);
int bst_send_text_i64(bs_ref r, const bs_method *m, const char *s, int64_t v);
int bst_send_text_text_u64(bs_ref r, const bs_method *m, const char *a,
                           const char *b, uint64_t v);
int bst_send_bytes(bs_ref r, const bs_method *m, const void *p, size_t len);

/* Counter shortcuts. */
int bst_add(bs_ref counter, int64_t n);
int bst_get_await(bs_ref counter, int64_t *out, uint64_t timeout_ms);

/* Continuation for int64-returning methods: `fn` is a bst_i64_fn (or NULL
 * for await, where `ud` is an int64_t * receiving the value). Returns the
 * status (or the decode error). */
typedef void (*bst_i64_fn)(void *ud, int status, int64_t value);
int bst_reply_i64(int status, bs_reader *value, bs_fnptr fn, void *ud);

/* Requests a zero-argument int64 method with a continuation. */
int bst_request0_i64(bs_ref r, const bs_method *m, bst_i64_fn fn, void *ud);
/* Awaits a zero-argument int64 method. */
int bst_await0_i64(bs_ref r, const bs_method *m, int64_t *out,
                   uint64_t timeout_ms);

/* A main-side continuation recording into bst_replies with who == "main"
 * and marker == (int64_t)(intptr_t)ud. */
void bst_main_cont(void *ud, int status, int64_t value);

/* Byte replies: await copies the value into `out`. */
typedef struct bst_bytes_out {
  uint8_t *buf;
  size_t cap;
  size_t len;
} bst_bytes_out;
int bst_reply_bytes(int status, bs_reader *value, bs_fnptr fn, void *ud);

/* ---- Small CBOR helpers ---------------------------------------------------- */

/* Deterministic pattern for large bodies: byte i is a function of i and seed. */
void bst_fill(uint8_t *p, size_t len, uint32_t seed);
bool bst_check_fill(const uint8_t *p, size_t len, uint32_t seed);
uint64_t bst_hash(const void *p, size_t len); /* FNV-1a 64 */

/* Encodes `v` as a CBOR int into `buf` (fixed writer); returns the length or
 * a negative code. */
int bst_encode_int(uint8_t *buf, size_t cap, int64_t v);

/* ---- Stats helpers ---------------------------------------------------------- */

bs_engine_stats bst_stats(const bs_engine *e);
/* Sum of dead_by_reason. */
uint64_t bst_dead_sum(const bs_engine_stats *s);
/* true when sent == delivered + dead_letters and dead_letters equals the sum
 * of dead_by_reason. */
bool bst_invariant(const bs_engine_stats *s);
/* Asserting form (Criterion), with the numbers in the message. */
void bst_assert_invariant(const bs_engine *e);

/* A new engine with `a` (reset here) as allocator, the dead letter
 * recorder, `batch` and `budget` (0: defaults). Asserts success. */
bs_engine *bst_engine(bst_alloc *a, uint32_t batch, uint32_t budget);
/* Frees `e` and asserts the allocator got every byte back, with the sizes it
 * handed out. */
void bst_engine_free_checked(bs_engine *e, bst_alloc *a);
/* Asserts `a` has nothing outstanding and saw no contract violations. */
void bst_assert_no_leak(const bst_alloc *a);

/* Runs until done and asserts it returned 0. */
void bst_run(bs_engine *e);

/* A fresh path for an embedded store ("<temporary dir>/state.db"); the
 * directory and what is in it are removed at exit. Each call gives another
 * directory. */
const char *bst_store_path(void);

/* Busy-waits `ms` milliseconds of wall time (uv_hrtime). */
void bst_spin_ms(uint64_t ms);

#endif
