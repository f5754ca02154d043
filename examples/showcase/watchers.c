#include "watchers.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int Surveillance_init(Surveillance *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Surveillance_deinit(Surveillance *self) { (void)self; }

int Surveillance_onTrade(Surveillance *self, const Trade *t) {
  if (t->symbol >= MARKET_SYMBOLS) return BS_EINVAL;
  int64_t *open = &self->open[t->symbol];
  if (*open == 0) *open = t->price;
  int32_t level = (int32_t)((t->price - *open) * 100 / *open);
  int32_t *last = &self->level[t->symbol];
  if (abs(level) <= abs(*last)) return 0;
  *last = level;

  char text[64];
  snprintf(text, sizeof text, "%s %+" PRId32 "%% at %" PRId64 ".%02" PRId64,
           market_symbol_name(t->symbol), level, t->price / 100, t->price % 100);
  bs_stream_cstr alerts;
  int rc = bs_get_stream(self->ctx, cstr, "alerts", &alerts);
  if (rc == 0) rc = bs_stream_next(alerts, text);
  return rc < 0 ? rc : 0;
}

int Tape_init(Tape *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Tape_deinit(Tape *self) { (void)self; }

int Tape_onTrade(Tape *self, const Trade *t) {
  self->report.trades++;
  self->report.volume += (uint64_t)(t->qty < 0 ? -t->qty : t->qty);
  return 0;
}

int Tape_onAlert(Tape *self, const char *alert) {
  self->report.alerts++;
  snprintf(self->report.last_alert, sizeof self->report.last_alert, "%s", alert);
  return 0;
}

TapeReport Tape_report(const Tape *self) { return self->report; }
