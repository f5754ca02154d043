/* An actor whose state the inspector shows by field name
 * (test_gen_state.c): scalars, strings, nested structs, arrays of structs
 * and of strings, and fields the state encoder leaves out. Also arrays of
 * strings as struct fields (BS_ARRAY(const char *, ...)), and the proxy
 * conveniences TProxy_from_ref and TProxy_self. */
#ifndef BOARD_H
#define BOARD_H

#include <backstage.h>

#include "shapes.h"

typedef struct Pin {
  char label[12];
  Point at;
  BS_ARRAY(const char *, tags); /* const char *const *tags; size_t tags_count */
} Pin;

// @generate-proxy
typedef struct Board {
  bs_context *ctx; /* left out of the state: not encodable */
  int32_t moves;
  const char *title;
  char owner[16];
  bool open;
  double zoom;
  Point origin;                  /* a struct from another header */
  Pin pins[2];                   /* a fixed array of structs */
  BS_ARRAY(Pin, extra);          /* a dynamic array of structs */
  const Pin *focus;              /* one struct, or NULL (null) */
  BS_ARRAY(const char *, names); /* a dynamic array of strings */
  uint8_t digest[4];             /* bytes: a hex string in the JSON */
  void *scratch;                 /* left out: a non-const pointer */
  bs_ref peer;                   /* left out: bs_ref is not a scanned struct */
  char last_tags[32];            /* the tags of the last pin, joined by ',' */
} Board;

int Board_init(Board *self, bs_context *ctx);
void Board_deinit(Board *self);

int Board_move(Board *self, int32_t dx, int32_t dy);
/* Copies label and position into pins[slot % 2], the tags into last_tags.
 * (`slot` is also a local of the _await proxies: renamed there.) */
int Board_pin(Board *self, Pin pin, uint32_t slot);
Pin Board_pinAt(const Board *self, uint32_t slot);
const char *Board_lastTags(const Board *self);
Point Board_where(const Board *self);
/* Remembers the actor `id` (any type) as a bs_ref in the state... */
int Board_link(Board *self, const char *id);
/* ...and sends it move(dx, 0) through BoardProxy_from_ref(self->peer):
 * nothing is sent (BS_EINVAL) when the peer is not a Board. */
int Board_nudgePeer(Board *self, int32_t dx);
/* Sends itself move(0, dy) through BoardProxy_self. */
int Board_nudgeSelf(Board *self, int32_t dy);
/* Checks TProxy_self and TProxy_from_ref from inside a turn: true if all
 * of them answered as documented. */
bool Board_selfCheck(Board *self);

#endif
