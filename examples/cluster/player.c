#include "player.h"

#include <stdio.h>

static char node[64] = "standalone";
static int64_t active;

void player_set_node(const char *name) { snprintf(node, sizeof node, "%s", name); }
int64_t player_active(void) { return active; }

int Player_init(Player *self, bs_context *ctx) {
  self->ctx = ctx;
  active++;
  return 0;
}

void Player_deinit(Player *self) {
  (void)self;
  active--;
}

void Player_move(Player *self, int32_t points) {
  self->score += points;
  self->moves++;
}

int64_t Player_score(Player *self) { return self->score; }

const char *Player_host(Player *self) {
  (void)self;
  return node;
}
