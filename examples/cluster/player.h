/* A player of a game whose players are spread over the nodes of a
 * cluster: one actor per player, placed by the cluster (the node that owns
 * its partition runs it), found from any node by its id. */
#ifndef PLAYER_H
#define PLAYER_H

#include <backstage.h>

// @generate-proxy
typedef struct Player {
  bs_context *ctx;
  int64_t score;
  uint32_t moves;
} Player;

int Player_init(Player *self, bs_context *ctx);
void Player_deinit(Player *self);

/* One-way: a move worth `points`. */
void Player_move(Player *self, int32_t points);
/* Request/reply: the score so far. */
int64_t Player_score(Player *self);
/* Request/reply: the node it runs on. */
const char *Player_host(Player *self);

/* The name of this process's node, for Player_host. */
void player_set_node(const char *name);
/* Players active on this node now (activations minus deactivations). */
int64_t player_active(void);

#endif
