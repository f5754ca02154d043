/* A trading desk: books the fills of its traders. */
#ifndef DESK_H
#define DESK_H

#include <backstage.h>

#include "market.h"

// @generate-proxy
typedef struct Desk {
  bs_context *ctx;
  DeskReport report;
} Desk;

int Desk_init(Desk *self, bs_context *ctx);
void Desk_deinit(Desk *self);

int Desk_book(Desk *self, Fill fill);
DeskReport Desk_report(const Desk *self);

#endif
