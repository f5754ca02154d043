#include "desk.h"

int Desk_init(Desk *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Desk_deinit(Desk *self) { (void)self; }

int Desk_book(Desk *self, Fill fill) {
  self->report.fills++;
  self->report.position += fill.qty;
  return 0;
}

DeskReport Desk_report(const Desk *self) { return self->report; }
