/* The methods of fixtures/board.h (test_gen_state.c). */
#include <stdio.h>
#include <string.h>

#include "board.bs.h"
#include "greeter.bs.h"

static const char *const board_names[] = {"ada", "grace"};
static const char *const home_tags[] = {"red", "round"};
static const Pin board_extra[1] = {{"spare", {7, 8}, NULL, 0}};

int Board_init(Board *self, bs_context *ctx) {
  self->ctx = ctx;
  self->title = "board";
  snprintf(self->owner, sizeof self->owner, "%.15s", bs_context_id(ctx));
  self->open = true;
  self->zoom = 1.5;
  snprintf(self->pins[0].label, sizeof self->pins[0].label, "home");
  self->pins[0].tags = home_tags;
  self->pins[0].tags_count = 2;
  self->extra = board_extra;
  self->extra_count = 1;
  self->names = board_names;
  self->names_count = 2;
  memcpy(self->digest, "\x01\x02\xfe\xff", 4);
  self->scratch = self;
  self->color = COLOR_GREEN;
  self->palette[0] = COLOR_RED;
  self->palette[1] = COLOR_BLUE;
  self->palette[2] = (Color)7; /* no enumerator: shown as the number */
  return 0;
}

void Board_deinit(Board *self) { (void)self; }

int Board_move(Board *self, int32_t dx, int32_t dy) {
  self->moves++;
  self->origin.x += dx;
  self->origin.y += dy;
  return 0;
}

int Board_pin(Board *self, Pin pin, uint32_t slot) {
  Pin *p = &self->pins[slot % 2];
  memcpy(p->label, pin.label, sizeof p->label);
  p->at = pin.at;
  /* pin.tags is valid during this call only: keep a copy as text */
  size_t used = 0;
  self->last_tags[0] = '\0';
  for (size_t i = 0; i < pin.tags_count; i++) {
    int n = snprintf(self->last_tags + used, sizeof self->last_tags - used,
                     "%s%s", i ? "," : "", pin.tags[i] ? pin.tags[i] : "(null)");
    if (n < 0 || (size_t)n >= sizeof self->last_tags - used) break;
    used += (size_t)n;
  }
  self->focus = p;
  return 0;
}

Pin Board_pinAt(const Board *self, uint32_t slot) { return self->pins[slot % 2]; }

const char *Board_lastTags(const Board *self) { return self->last_tags; }

Point Board_where(const Board *self) { return self->origin; }

int Board_link(Board *self, const char *id) {
  bs_ref peer;
  /* "Greeter:<id>" links to a Greeter, anything else to a Board */
  int rc;
  if (strncmp(id, "Greeter:", 8) == 0) {
    GreeterProxy g;
    rc = GreeterProxy_get(bs_context_engine(self->ctx), id + 8, &g);
    peer = g.ref;
  } else {
    rc = bs_actor_get(bs_context_engine(self->ctx), &Board_actor_type, id, &peer);
  }
  if (rc < 0) return rc;
  self->peer = peer;
  return 0;
}

int Board_nudgePeer(Board *self, int32_t dx) {
  return BoardProxy_move(BoardProxy_from_ref(self->peer), dx, 0);
}

int Board_nudgeSelf(Board *self, int32_t dy) {
  BoardProxy me;
  int rc = BoardProxy_self(self->ctx, &me);
  if (rc < 0) return rc;
  return BoardProxy_move(me, 0, dy);
}

bool Board_selfCheck(Board *self) {
  BoardProxy me, none;
  GreeterProxy g;
  bs_ref self_ref = bs_context_self(self->ctx);
  memset(&g, 0xff, sizeof g);
  memset(&none, 0xff, sizeof none);
  GreeterProxy as_greeter = GreeterProxy_from_ref(self_ref);
  BoardProxy as_board = BoardProxy_from_ref(self_ref);
  return BoardProxy_self(self->ctx, &me) == 0 && bs_ref_equal(&me.ref, &self_ref) &&
         me.ref.engine == self_ref.engine &&
         GreeterProxy_self(self->ctx, &g) == BS_ETYPE && g.ref.type == NULL &&
         g.ref.engine == NULL && BoardProxy_self(NULL, &none) == BS_EINVAL &&
         none.ref.type == NULL && BoardProxy_self(self->ctx, NULL) == BS_EINVAL &&
         as_greeter.ref.type == NULL && bs_ref_equal(&as_board.ref, &self_ref);
}
