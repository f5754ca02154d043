/* An actor's detail: the one answer read live from the engine rather than
 * from a snapshot, since its state exists only in the actor. It is made on
 * the actor's shard (bs__shard_call: the home thread waits for it), so the
 * state is never read while a method of the actor runs. */
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

static void render_trace(bs__sb *b, const bs_cell *c) {
  const char *names[BS_INSPECTOR_TRACE_N];
  size_t n = bs__insp_trace_names(c, names, BS_INSPECTOR_TRACE_N);
  bs__sb_puts(b, "\"trace\":[");
  render_names(b, names, n);
  bs__sb_puts(b, "],\"methods\":[");
  for (size_t i = 0; i < c->type->method_count; i++) {
    if (i) bs__sb_put(b, ",", 1);
    bs__sb_json_str(b, c->type->methods[i].name, strlen(c->type->methods[i].name));
  }
  bs__sb_puts(b, "],");
}

typedef struct detail_call {
  const char *id;
  size_t len;
  uint32_t hash;
  bs__sb *b;
  int rc;
} detail_call;

static void detail_on_shard(bs__shard *s, void *arg) {
  detail_call *d = arg;
  bs_cell *c = bs__insp_find(s, d->id, d->len, d->hash);
  if (!c) {
    d->rc = BS_ENOTFOUND;
    return;
  }
  bs__sb *b = d->b;
  bs__insp_row r;
  bs__insp_row_of(c, &r);
  r.shard = s->index;
  bs__insp_render_row(b, &r, c->id, c->id_len);
  if (!b->oom) b->len--; /* reopen the row's object */
  bs__sb_printf(b, ",\"now_ms\":%llu,", (unsigned long long)bs__now(s));
  render_trace(b, c);
  render_state(b, c);
  d->rc = 0;
}

int bs__insp_actor_detail(bs__inspector *in, const char *id, bs__sb *b) {
  detail_call d = {id, 0, 0, b, 0};
  int k = bs__insp_shard_of(in->e, id, &d.len, &d.hash);
  if (k < 0) return BS_ENOTFOUND;
  int rc = bs__shard_call(in->e, (uint32_t)k, detail_on_shard, &d);
  return rc < 0 ? rc : d.rc;
}
