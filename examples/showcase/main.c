/* showcase: a small stock market in a few thousand actors.
 *
 *   40 Symbols   each moves its price on every clock tick, publishes a
 *                Quote on its own stream "quotes.<SYMBOL>" and fills orders,
 *                publishing every Trade on "trades"
 *   N Traders    each subscribed to the quotes of 3 symbols; now and then
 *                they order (a request) and book the fill with their desk
 *   20 Desks     book their traders' fills
 *   Surveillance watches "trades", raises alerts on "alerts" (strings)
 *   Tape         counts trades and alerts
 *   Clock        ticks all symbols, one round after another, paced by
 *                their replies
 *
 *   showcase [--seconds N | --forever] [--traders N] [--quick]
 */
#define _POSIX_C_SOURCE 200809L /* <uv.h> under strict C11 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.bs.h"
#include "desk.bs.h"
#include "market.bs.h"
#include "symbol.bs.h"
#include "trader.bs.h"
#include "watchers.bs.h"

enum { SYMBOLS_PER_TRADER = 3, MAX_TRADERS = 100000 };

typedef struct Options {
  double seconds;        /* run time; ignored with forever */
  bool forever;          /* until Ctrl-C */
  uint32_t traders;
  const char *inspector; /* "host:port" to serve the inspector on, or NULL */
} Options;

typedef struct App {
  bs_engine *engine;
  Options opt;
  ClockProxy clock;
  TapeProxy tape;
  uv_timer_t status_timer;
  uv_timer_t deadline;
  uv_signal_t sigint;
  uint64_t start_ns, last_ns, halt_ns;
  uint64_t last_delivered, halt_delivered;
  uint32_t seconds;        /* status lines printed */
  double rate;             /* msg/s over the last second */
  bool handles_open;       /* our timers and signal handle */
  bool halted;
  uint64_t dead_letters;   /* seen by the hook */
} App;

/* ---- Errors and dead letters ---------------------------------------------- */

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

static void on_dead_letter(void *ud, const bs_dead_letter *dl) {
  App *app = ud;
  if (app->dead_letters++ < 5)
    fprintf(stderr, "dead letter: %s.%s to %s: %s\n", dl->type_name,
            dl->method_name ? dl->method_name : "(reply)", dl->target_id,
            bs_dead_letter_reason_name(dl->reason));
}

/* ---- Options --------------------------------------------------------------- */

static int parse_options(int argc, char **argv, Options *o) {
  *o = (Options){.seconds = 3.0, .traders = 2000, .inspector = "127.0.0.1:9464"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0) {
      o->seconds = 0.5;
      o->traders = 300;
      o->inspector = NULL; /* the tests' mode: no fixed port */
    } else if (strcmp(a, "--inspector") == 0 && i + 1 < argc) {
      o->inspector = argv[++i];
    } else if (strcmp(a, "--no-inspector") == 0) {
      o->inspector = NULL;
    } else if (strcmp(a, "--forever") == 0) {
      o->forever = true;
    } else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
      o->seconds = strtod(argv[++i], NULL);
    } else if (strcmp(a, "--traders") == 0 && i + 1 < argc) {
      o->traders = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr,
              "usage: %s [--seconds N | --forever] [--traders N] [--quick]\n"
              "          [--inspector HOST:PORT | --no-inspector]\n",
              argv[0]);
      return -1;
    }
  }
  if (o->seconds <= 0 || o->traders == 0 || o->traders > MAX_TRADERS) {
    fprintf(stderr, "need --seconds > 0 and 1 <= --traders <= %d\n", MAX_TRADERS);
    return -1;
  }
  return 0;
}

/* ---- Building the market ---------------------------------------------------- */

static int list_symbols(bs_engine *e) {
  for (uint16_t i = 0; i < MARKET_SYMBOLS; i++) {
    SymbolProxy sym;
    int rc = check(bs_get_actor(e, Symbol, market_symbol_name(i), &sym), "symbol");
    if (rc == 0) rc = check(SymbolProxy_list(sym, i, 5000 + 1000 * (int64_t)i), "list");
    if (rc < 0) return rc;
  }
  return 0;
}

static int watch_trades(bs_engine *e) {
  bs_stream_Trade trades;
  bs_stream_cstr alerts;
  int rc = check(bs_get_stream(e, Trade, "trades", &trades), "trades");
  if (rc == 0) rc = check(bs_get_stream(e, cstr, "alerts", &alerts), "alerts");
  if (rc == 0)
    rc = check(bs_stream_subscribe(trades, bs_subscriber("surveillance", SurveillanceProxy_onTrade)), "subscribe");
  if (rc == 0) rc = check(bs_stream_subscribe(trades, bs_subscriber("tape", TapeProxy_onTrade)), "subscribe");
  if (rc == 0) rc = check(bs_stream_subscribe(alerts, bs_subscriber("tape", TapeProxy_onAlert)), "subscribe");
  return rc;
}

/* Trader i joins desk i % MARKET_DESKS and follows 3 distinct symbols. */
static int hire_trader(bs_engine *e, uint32_t i, uint32_t *rng) {
  char id[24], desk[16];
  snprintf(id, sizeof id, "trader-%05" PRIu32, i);
  snprintf(desk, sizeof desk, "desk-%02" PRIu32, i % MARKET_DESKS);

  TraderProxy trader;
  int rc = check(bs_get_actor(e, Trader, id, &trader), "trader");
  if (rc == 0) rc = check(TraderProxy_join(trader, i, desk), "join");

  uint32_t first = market_rand(rng) % MARKET_SYMBOLS;
  for (uint32_t k = 0; rc == 0 && k < SYMBOLS_PER_TRADER; k++) {
    char stream_id[24];
    snprintf(stream_id, sizeof stream_id, "quotes.%s",
             market_symbol_name((first + k * 7) % MARKET_SYMBOLS));
    bs_stream_Quote quotes;
    rc = check(bs_get_stream(e, Quote, stream_id, &quotes), "quotes");
    if (rc == 0)
      rc = check(bs_stream_subscribe(quotes, bs_subscriber(id, TraderProxy_onQuote)), "subscribe");
  }
  return rc;
}

static int build_market(App *app) {
  int rc = list_symbols(app->engine);
  if (rc == 0) rc = watch_trades(app->engine);
  uint32_t rng = 12345;
  for (uint32_t i = 0; rc == 0 && i < app->opt.traders; i++)
    rc = hire_trader(app->engine, i, &rng);
  if (rc == 0) rc = check(bs_get_actor(app->engine, Tape, "tape", &app->tape), "tape");
  if (rc == 0) rc = check(bs_get_actor(app->engine, Clock, "clock", &app->clock), "clock");
  return rc;
}

/* ---- Live status, deadline, Ctrl-C -------------------------------------- */

static uint64_t delivered(const App *app) {
  bs_engine_stats st;
  bs_engine_stats_get(app->engine, &st);
  return st.delivered;
}

static double format_rate(double rate, const char **unit) {
  *unit = rate >= 1e6 ? "M" : rate >= 1e3 ? "k" : "";
  return rate >= 1e6 ? rate / 1e6 : rate >= 1e3 ? rate / 1e3 : rate;
}

/* A continuation from outside any actor: runs on the loop. */
static void print_status(void *ud, int status, TapeReport tape) {
  App *app = ud;
  if (status < 0) return;
  bs_engine_stats st;
  bs_engine_stats_get(app->engine, &st);
  const char *unit;
  double r = format_rate(app->rate, &unit);
  printf("[%3" PRIu32 "s] %6.2f%s msg/s | %" PRIu64 " actors active | %" PRIu64
         " trades | %" PRIu32 " alerts%s%s\n",
         app->seconds, r, unit, st.active, tape.trades, tape.alerts,
         tape.alerts ? " | last: " : "", tape.last_alert);
  fflush(stdout);
}

static void on_status_timer(uv_timer_t *t) {
  App *app = t->data;
  uint64_t now = uv_hrtime(), n = delivered(app);
  app->rate = (double)(n - app->last_delivered) * 1e9 / (double)(now - app->last_ns);
  app->last_ns = now;
  app->last_delivered = n;
  app->seconds++;
  check(TapeProxy_report(app->tape, print_status, app), "status");
}

/* Like any libuv handle, ours must be closed before the loop goes away. */
static void close_handles(App *app) {
  if (!app->handles_open) return;
  app->handles_open = false;
  uv_close((uv_handle_t *)&app->status_timer, NULL);
  uv_close((uv_handle_t *)&app->deadline, NULL);
  uv_close((uv_handle_t *)&app->sigint, NULL);
}

/* Stops the clock and our handles; bs_engine_run returns once the mail
 * still in flight has been handled. */
static void halt(App *app) {
  if (app->halted) return;
  app->halted = true;
  app->halt_ns = uv_hrtime();
  app->halt_delivered = delivered(app);
  check(ClockProxy_halt(app->clock), "halt");
  close_handles(app); /* the inspector, if any, never holds the loop */
  printf("halting after %.1f s, draining the last messages\n",
         (double)(app->halt_ns - app->start_ns) / 1e9);
}

static void on_deadline(uv_timer_t *t) { halt(t->data); }

static void on_sigint(uv_signal_t *s, int signum) {
  (void)signum;
  halt(s->data);
}

static int start_handles(App *app) {
  uv_loop_t *loop = bs_engine_loop(app->engine);
  if (uv_signal_init(loop, &app->sigint) < 0) return BS_EUV;
  uv_timer_init(loop, &app->status_timer); /* cannot fail */
  uv_timer_init(loop, &app->deadline);
  app->handles_open = true;
  app->status_timer.data = app->deadline.data = app->sigint.data = app;
  /* The loop's clock is cached; building the market took a while. */
  uv_update_time(loop);
  int rc = uv_timer_start(&app->status_timer, on_status_timer, 1000, 1000);
  if (rc == 0) rc = uv_signal_start(&app->sigint, on_sigint, SIGINT);
  if (rc == 0 && !app->opt.forever)
    rc = uv_timer_start(&app->deadline, on_deadline, (uint64_t)(app->opt.seconds * 1000), 0);
  return rc < 0 ? BS_EUV : 0;
}

/* ---- Summary ---------------------------------------------------------------- */

typedef struct Totals {
  uint64_t rounds, quotes, fills, desk_fills;
  int64_t inventory, desk_position;
  TapeReport tape;
} Totals;

static int collect(App *app, Totals *t) {
  memset(t, 0, sizeof *t);
  int rc = check(ClockProxy_rounds_await(app->clock, &t->rounds), "rounds");
  for (uint32_t i = 0; rc == 0 && i < MARKET_SYMBOLS; i++) {
    SymbolProxy sym;
    SymbolReport r;
    rc = check(bs_get_actor(app->engine, Symbol, market_symbol_name(i), &sym), "symbol");
    if (rc == 0) rc = check(SymbolProxy_report_await(sym, &r), "symbol report");
    if (rc < 0) break;
    t->quotes += r.ticks;
    t->fills += r.fills;
    t->inventory += r.inventory;
  }
  for (uint32_t i = 0; rc == 0 && i < MARKET_DESKS; i++) {
    char id[16];
    DeskProxy desk;
    DeskReport r;
    snprintf(id, sizeof id, "desk-%02" PRIu32, i);
    rc = check(bs_get_actor(app->engine, Desk, id, &desk), "desk");
    if (rc == 0) rc = check(DeskProxy_report_await(desk, &r), "desk report");
    if (rc < 0) break;
    t->desk_fills += r.fills;
    t->desk_position += r.position;
  }
  if (rc == 0) rc = check(TapeProxy_report_await(app->tape, &t->tape), "tape report");
  return rc;
}

/* Prints the summary; returns -1 if the books do not balance. */
static int print_summary(App *app, const Totals *t) {
  bs_engine_stats st;
  bs_engine_stats_get(app->engine, &st);
  double secs = (double)(app->halt_ns - app->start_ns) / 1e9;
  const char *unit;
  double r = format_rate((double)app->halt_delivered / secs, &unit);
  bool balanced = t->fills == t->tape.trades && t->fills == t->desk_fills;
  bool net_zero = t->inventory + t->desk_position == 0;

  printf("summary:\n");
  printf("  messages:     %" PRIu64 " delivered, %.2f%s msg/s\n", st.delivered, r, unit);
  printf("  actors:       %" PRIu64 " known, %" PRIu64 " active\n", st.actors, st.active);
  printf("  clock:        %" PRIu64 " rounds, %" PRIu64 " quotes published\n",
         t->rounds, t->quotes);
  printf("  trades:       %" PRIu64 " filled, %" PRIu64 " on the tape, %" PRIu64
         " booked by desks: %s\n", t->fills, t->tape.trades, t->desk_fills,
         balanced ? "balanced" : "MISMATCH");
  printf("  positions:    desks %+" PRId64 ", market makers %+" PRId64 ": %s\n",
         t->desk_position, t->inventory, net_zero ? "net zero" : "MISMATCH");
  printf("  alerts:       %" PRIu32 "%s%s\n", t->tape.alerts,
         t->tape.alerts ? ", last: " : "", t->tape.last_alert);
  printf("  dead letters: %" PRIu64 "\n", st.dead_letters);
  printf("  memory:       %.1f MiB held by the engine\n",
         (double)st.bytes_live / (1024.0 * 1024.0));
  return balanced && net_zero && st.dead_letters == 0 ? 0 : -1;
}

/* The inspector: a live dashboard of every actor in a browser, the same
 * table in a terminal (backstage-inspector), and Prometheus metrics. It is
 * compiled in with -DBACKSTAGE_INSPECTOR=ON (./dev.sh demo does that). */
static void start_inspector(App *app) {
  if (!app->opt.inspector) return;
  if (!bs_inspector_available()) {
    printf("inspector: not compiled in (configure with -DBACKSTAGE_INSPECTOR=ON)\n");
    return;
  }
  bs_inspector_options io;
  bs_inspector_options_init(&io);
  io.addr = app->opt.inspector;
  int rc = bs_inspector_start(app->engine, &io);
  char url[128];
  if (rc == 0 && (rc = bs_inspector_url(app->engine, url, sizeof url)) > 0) {
    const char *hostport = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    printf("inspector: %s  (in a terminal: backstage-inspector %.*s)\n", url,
           (int)strcspn(hostport, "/"), hostport);
  } else
    printf("inspector: could not start on %s: %s\n", app->opt.inspector, bs_strerror(rc));
}

/* ---- main ------------------------------------------------------------------- */

int main(int argc, char **argv) {
  App app;
  memset(&app, 0, sizeof app);
  if (parse_options(argc, argv, &app.opt) < 0) return 2;

  bs_engine_options opts;
  bs_engine_options_init(&opts);
  opts.on_dead_letter = on_dead_letter;
  opts.dead_letter_ud = &app;
  /* The tape and surveillance get every trade: let a busy actor handle up
   * to 1024 messages per turn, so they keep up with 2000 traders. */
  opts.batch = 1024;
  if (check(bs_engine_new(&app.engine, &opts), "bs_engine_new") < 0) return 1;

  int rc = build_market(&app);
  if (rc == 0) rc = start_handles(&app);
  if (rc == 0) {
    printf("showcase: %" PRIu32 " traders, %d desks, %d symbols, %d streams, ",
           app.opt.traders, MARKET_DESKS, MARKET_SYMBOLS, MARKET_SYMBOLS + 2);
    if (app.opt.forever) printf("until Ctrl-C\n");
    else printf("%.1f s\n", app.opt.seconds);
    start_inspector(&app);
    fflush(stdout);
    app.start_ns = app.last_ns = uv_hrtime();
    rc = check(ClockProxy_start(app.clock), "start");
  }
  if (rc == 0) {
    /* Until halted, then until the last message is handled. */
    int run = check(bs_engine_run(app.engine, BS_RUN_UNTIL_DONE), "run");
    if (run < 0) rc = run;
  }

  Totals totals;
  if (rc == 0) rc = collect(&app, &totals);
  if (rc == 0) rc = print_summary(&app, &totals);

  close_handles(&app); /* on errors; bs_engine_free finishes the closes */
  bs_engine_free(app.engine);
  return rc == 0 ? 0 : 1;
}
