/* timers: an actor that ticks on a uv_timer_t of the engine's loop. */
#include <inttypes.h>
#include <stdio.h>

#include "ticker.bs.h"

static int check(int rc, const char *what) {
  if (rc < 0) fprintf(stderr, "%s: %s\n", what, bs_strerror(rc));
  return rc;
}

int main(void) {
  bs_engine *engine = NULL;
  if (check(bs_engine_new(&engine, NULL), "bs_engine_new") < 0) return 1;

  TickerProxy ticker;
  int rc = check(bs_get_actor(engine, Ticker, "ticker", &ticker), "get");
  if (rc == 0) rc = check(TickerProxy_start(ticker, 50, 5), "start");

  /* The timer keeps the loop alive: this returns once the ticker has
   * closed it, after the fifth tick. */
  if (rc == 0) {
    int run = check(bs_engine_run(engine, BS_RUN_UNTIL_DONE), "run");
    if (run < 0) rc = run;
  }

  uint32_t ticks = 0;
  if (rc == 0) rc = check(TickerProxy_ticks_await(ticker, &ticks), "ticks");
  if (rc == 0) printf("main: the loop ran until the timer closed: %" PRIu32 " ticks\n", ticks);

  bs_engine_free(engine);
  return rc == 0 ? 0 : 1;
}
