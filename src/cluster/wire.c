/* The node-to-node wire format, version 1 (docs/wire-format.md, "Between
 * nodes"): fixed-width little-endian fields, lengths before bytes. Pure
 * functions over byte ranges, no engine state, so the decoder can be
 * fuzzed on its own (fuzz/fuzz_remote.c) and every read is bounds-checked:
 * a frame from another node is input like any other.
 *
 * Frame:    "BS" version:u8 kind:u8 sshard:u16 dshard:u16 sboot:u64
 *           sgen:u32 count:u32 dboot:u64 pos:u64 name_len:u8 name
 * Envelope: kind:u8 flags:u8 (hops in the high nibble), then by kind
 *   CALL/STOP/ELEM: type:u32 epoch:u32 id_len:u8 id
 *                   [request: req:u64 reply_shard:u16 remaining_ms:u32]
 *                   [ELEM: method:u32] body_len:u32 body
 *   VALUE:          req:u64 reply_shard:u16 status:i32 body_len:u32 body
 *   MOVED:          hint_epoch:u32 hint_state:u8 hint_name_len:u8 hint_name
 *                   hint_boot:u64 hint_gen:u32, then a CALL/STOP/ELEM
 * Stream element:   id_len:u8 id body_len:u32 body
 * Ack entry:        shard:u16 pos:u64 */
#include "cluster/cluster.h"

/* ---- Little-endian scalars --------------------------------------------------- */

static inline void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get64(const uint8_t *p) {
  return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* A bounds-checked reader: every take fails once the input is short. */
typedef struct rd {
  const uint8_t *p, *end;
  bool bad;
} rd;

static const uint8_t *take(rd *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *at = r->p;
  r->p += n;
  return at;
}
static uint8_t rd8(rd *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}
static uint16_t rd16(rd *r) {
  const uint8_t *p = take(r, 2);
  return p ? get16(p) : 0;
}
static uint32_t rd32(rd *r) {
  const uint8_t *p = take(r, 4);
  return p ? get32(p) : 0;
}
static uint64_t rd64(rd *r) {
  const uint8_t *p = take(r, 8);
  return p ? get64(p) : 0;
}

/* ---- Frames --------------------------------------------------------------------- */

int bs__wire_frame(const uint8_t *p, size_t n, bs__frame *f, bs__wire_cur *c) {
  rd r = {p, p + n, false};
  memset(f, 0, sizeof *f);
  const uint8_t *magic = take(&r, 2);
  if (!magic || magic[0] != 'B' || magic[1] != 'S') return BS_EDECODE;
  uint8_t version = rd8(&r);
  if (r.bad) return BS_EDECODE;
  if (version != BS__WIRE_VERSION) return BS_EVERSION;
  f->kind = rd8(&r);
  f->sshard = rd16(&r);
  f->dshard = rd16(&r);
  f->sboot = rd64(&r);
  f->sgen = rd32(&r);
  f->count = rd32(&r);
  f->dboot = rd64(&r);
  f->pos = rd64(&r);
  f->sname_len = rd8(&r);
  f->sname = (const char *)take(&r, f->sname_len);
  if (r.bad || f->sname_len == 0 || f->sname_len > BS__NODE_NAME_MAX) return BS_EDECODE;
  if (f->kind < BS__FR_MAIL || f->kind > BS__FR_ACK) return BS_EDECODE;
  c->p = r.p;
  c->end = r.end;
  c->left = f->count;
  return 0;
}

size_t bs__wire_frame_size(uint8_t sname_len) { return BS__FRAME_FIXED + sname_len; }

size_t bs__wire_put_frame(uint8_t *p, const bs__frame *f) {
  p[0] = 'B';
  p[1] = 'S';
  p[2] = BS__WIRE_VERSION;
  p[3] = f->kind;
  put16(p + 4, f->sshard);
  put16(p + 6, f->dshard);
  put64(p + 8, f->sboot);
  put32(p + 16, f->sgen);
  put32(p + 20, f->count);
  put64(p + 24, f->dboot);
  put64(p + 32, f->pos);
  p[40] = f->sname_len;
  memcpy(p + 41, f->sname, f->sname_len);
  return BS__FRAME_FIXED + f->sname_len;
}

void bs__wire_patch_frame(uint8_t *p, uint32_t count, uint64_t pos) {
  put32(p + 20, count);
  put64(p + 32, pos);
}

/* ---- Envelopes ---------------------------------------------------------------------- */

static bool routed(uint8_t kind) {
  return kind == BS__ENV_CALL || kind == BS__ENV_STOP || kind == BS__ENV_ELEM;
}

/* The routed part of an envelope of kind `kind` (after kind and flags). */
static void read_routed(rd *r, bs__env *e, uint8_t kind) {
  e->type_id = rd32(r);
  e->epoch = rd32(r);
  e->id_len = rd8(r);
  e->id = (const char *)take(r, e->id_len);
  if (e->id_len == 0 || e->id_len > BS_ID_MAX) r->bad = true;
  if (kind == BS__ENV_CALL && (e->flags & BS__EF_REQUEST)) {
    e->req_id = rd64(r);
    e->reply_shard = rd16(r);
    e->remaining_ms = rd32(r);
  }
  if (kind == BS__ENV_ELEM) e->method_id = rd32(r);
  e->body_len = rd32(r);
  e->body = take(r, e->body_len);
  if (kind == BS__ENV_STOP && e->body_len != 0) r->bad = true;
}

static void flags_of(bs__env *e, uint8_t flags) {
  e->flags = flags & 0x0f;
  e->hops = flags >> 4;
}

int bs__wire_env(bs__wire_cur *c, bs__env *e) {
  if (c->left == 0) return c->p == c->end ? 0 : BS_EDECODE;
  rd r = {c->p, c->end, false};
  memset(e, 0, sizeof *e);
  e->kind = rd8(&r);
  flags_of(e, rd8(&r));
  if (r.bad) return BS_EDECODE;
  if (e->kind == BS__ENV_MOVED) {
    e->hint_epoch = rd32(&r);
    e->hint_state = rd8(&r);
    e->hint_name_len = rd8(&r);
    e->hint_name = (const char *)take(&r, e->hint_name_len);
    e->hint_boot = rd64(&r);
    e->hint_gen = rd32(&r);
    if (e->hint_name_len == 0) e->hint_name = NULL;
    if (e->hint_name_len > BS__NODE_NAME_MAX || e->hint_state > BS__PART_GIVE) r.bad = true;
    e->inner = rd8(&r);
    flags_of(e, rd8(&r));
    if (!routed(e->inner)) r.bad = true;
    if (!r.bad) read_routed(&r, e, e->inner);
  } else if (routed(e->kind)) {
    e->inner = e->kind;
    read_routed(&r, e, e->kind);
  } else if (e->kind == BS__ENV_VALUE) {
    e->req_id = rd64(&r);
    e->reply_shard = rd16(&r);
    e->status = (int32_t)rd32(&r);
    e->body_len = rd32(&r);
    e->body = take(&r, e->body_len);
  } else {
    return BS_EDECODE;
  }
  if (r.bad) return BS_EDECODE;
  c->p = r.p;
  c->left--;
  return 1;
}

/* Sizes and writers mirror the reader above field by field. */
static size_t routed_size(const bs__env *e, uint8_t kind) {
  size_t n = 4 + 4 + 1 + e->id_len;
  if (kind == BS__ENV_CALL && (e->flags & BS__EF_REQUEST)) n += 8 + 2 + 4;
  if (kind == BS__ENV_ELEM) n += 4;
  return n + 4 + e->body_len;
}

size_t bs__wire_env_size(const bs__env *e) {
  switch (e->kind) {
  case BS__ENV_VALUE: return 2 + 8 + 2 + 4 + 4 + (size_t)e->body_len;
  case BS__ENV_MOVED:
    return 2 + 4 + 1 + 1 + (e->hint_name ? e->hint_name_len : 0) + 8 + 4 + 2 +
           routed_size(e, e->inner);
  default: return 2 + routed_size(e, e->kind);
  }
}

static size_t put_routed(uint8_t *p, const bs__env *e, uint8_t kind) {
  uint8_t *at = p;
  put32(p, e->type_id);
  put32(p + 4, e->epoch);
  p[8] = e->id_len;
  memcpy(p + 9, e->id, e->id_len);
  p += 9 + e->id_len;
  if (kind == BS__ENV_CALL && (e->flags & BS__EF_REQUEST)) {
    put64(p, e->req_id);
    put16(p + 8, e->reply_shard);
    put32(p + 10, e->remaining_ms);
    p += 14;
  }
  if (kind == BS__ENV_ELEM) {
    put32(p, e->method_id);
    p += 4;
  }
  put32(p, e->body_len);
  /* The one place a message body becomes wire bytes (see route.c,
   * body_bytes, for where the bytes come from). */
  if (e->body_len) memcpy(p + 4, e->body, e->body_len);
  return (size_t)(p + 4 + e->body_len - at);
}

static uint8_t flags_byte(const bs__env *e) {
  return (uint8_t)((e->flags & 0x0f) | (uint8_t)(e->hops << 4));
}

size_t bs__wire_put_env(uint8_t *p, const bs__env *e) {
  uint8_t *at = p;
  p[0] = e->kind;
  p[1] = flags_byte(e);
  p += 2;
  switch (e->kind) {
  case BS__ENV_VALUE:
    put64(p, e->req_id);
    put16(p + 8, e->reply_shard);
    put32(p + 10, (uint32_t)e->status);
    put32(p + 14, e->body_len);
    if (e->body_len) memcpy(p + 18, e->body, e->body_len);
    return 2 + 18 + (size_t)e->body_len;
  case BS__ENV_MOVED: {
    uint8_t hl = e->hint_name ? e->hint_name_len : 0;
    p[-1] = 0;
    put32(p, e->hint_epoch);
    p[4] = e->hint_state;
    p[5] = hl;
    memcpy(p + 6, e->hint_name ? e->hint_name : "", hl);
    p += 6 + hl;
    put64(p, e->hint_boot);
    put32(p + 8, e->hint_gen);
    p[12] = e->inner;
    p[13] = flags_byte(e);
    p += 14;
    return (size_t)(p - at) + put_routed(p, e, e->inner);
  }
  default: return 2 + put_routed(p, e, e->kind);
  }
}

/* ---- Stream elements and acks -------------------------------------------------- */

int bs__wire_elem(bs__wire_cur *c, const char **id, uint8_t *id_len, const uint8_t **body,
                  uint32_t *body_len) {
  if (c->left == 0) return c->p == c->end ? 0 : BS_EDECODE;
  rd r = {c->p, c->end, false};
  *id_len = rd8(&r);
  *id = (const char *)take(&r, *id_len);
  *body_len = rd32(&r);
  *body = take(&r, *body_len);
  if (r.bad || *id_len == 0 || *id_len > BS_ID_MAX) return BS_EDECODE;
  c->p = r.p;
  c->left--;
  return 1;
}

size_t bs__wire_elem_size(uint8_t id_len, uint32_t body_len) {
  return 1 + (size_t)id_len + 4 + body_len;
}

size_t bs__wire_put_elem(uint8_t *p, const char *id, uint8_t id_len, const uint8_t *body,
                         uint32_t body_len) {
  p[0] = id_len;
  memcpy(p + 1, id, id_len);
  put32(p + 1 + id_len, body_len);
  if (body_len) memcpy(p + 5 + id_len, body, body_len);
  return bs__wire_elem_size(id_len, body_len);
}

int bs__wire_ack(bs__wire_cur *c, uint16_t *shard, uint64_t *pos) {
  if (c->left == 0) return c->p == c->end ? 0 : BS_EDECODE;
  rd r = {c->p, c->end, false};
  *shard = rd16(&r);
  *pos = rd64(&r);
  if (r.bad) return BS_EDECODE;
  c->p = r.p;
  c->left--;
  return 1;
}

size_t bs__wire_put_ack(uint8_t *p, uint16_t shard, uint64_t pos) {
  put16(p, shard);
  put64(p + 2, pos);
  return BS__WIRE_ACK_SIZE;
}
