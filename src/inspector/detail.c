/* An actor's detail: the one answer read live from the engine rather than
 * from a snapshot, since its state exists only in the actor. Everything
 * goes through bs__insp_actor_detail, so that once the engine is sharded
 * the request can be sent to the actor's shard and answered there. */
#include <stdlib.h>

#include "inspector/insp.h"

static void state_error(bs__sb *b, const char *why) {
  bs__sb_puts(b, "\"state\":null,\"state_error\":");
  bs__sb_json_str(b, why, strlen(why));
  bs__sb_put(b, "}", 1);
}

/* Encodes the state with a growing buffer (up to 1 MiB) and converts it. */
static void render_state(bs__sb *b, const bs_cell *c) {
  const bs_actor_type *t = c->type;
  const char *why = !c->state || (c->flags & BS__CELL_PROBED) ? "inactive"
                    : !t->encode_state                          ? "no state encoder"
                                                                : NULL;
  if (why) {
    state_error(b, why);
    return;
  }
  int rc = BS_ETOOBIG;
  uint8_t *buf = NULL;
  bs_writer w;
  for (size_t cap = 4096; rc == BS_ETOOBIG && cap <= (1u << 20); cap *= 4) {
    uint8_t *nb = realloc(buf, cap);
    if (!nb) {
      rc = BS_ENOMEM;
      break;
    }
    buf = nb;
    bs_writer_init(&w, buf, cap);
    rc = t->encode_state(c->state, &w);
  }
  bs__sb sub = {0};
  if (rc == 0) rc = bs__insp_cbor_to_json(&sub, buf, w.len);
  free(buf);
  if (rc == 0 && !sub.oom) {
    bs__sb_puts(b, "\"state\":");
    bs__sb_put(b, sub.p, sub.len);
    bs__sb_puts(b, ",\"state_error\":null}");
  } else {
    state_error(b, bs_strerror(rc ? rc : BS_ENOMEM));
  }
  bs__sb_free(&sub);
}

static void render_names(bs__sb *b, const char *const *names, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_str(b, names[i], strlen(names[i]));
  }
}

static void render_trace(bs__sb *b, bs_engine *e, const bs_cell *c) {
  const char *names[BS_INSPECTOR_TRACE_N];
  int n = bs_inspector_trace_get(e, c->id, names, BS_INSPECTOR_TRACE_N);
  bs__sb_puts(b, "\"trace\":[");
  render_names(b, names, n > 0 ? (size_t)n : 0);
  bs__sb_puts(b, "],\"methods\":[");
  for (size_t i = 0; i < c->type->method_count; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_str(b, c->type->methods[i].name, strlen(c->type->methods[i].name));
  }
  bs__sb_puts(b, "],");
}

int bs__insp_actor_detail(bs__inspector *in, const char *id, bs__sb *b) {
  bs_cell *c = bs__insp_find(in->e, id);
  if (!c) return BS_ENOTFOUND;
  bs__insp_row r;
  bs__insp_row_of(c, &r);
  bs__insp_render_row(b, &r, c->id, c->id_len);
  if (!b->oom) b->len--; /* reopen the row's object */
  bs__sb_printf(b, ",\"now_ms\":%llu,", (unsigned long long)bs__now(in->e));
  render_trace(b, in->e, c);
  render_state(b, c);
  return 0;
}
