#include "actors_impl.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

char gen_seen[4096];
int gen_inits, gen_deinits;

int Greeter_init(Greeter *self, bs_context *ctx) {
  self->ctx = ctx;
  gen_inits++;
  return 0;
}

void Greeter_deinit(Greeter *self) {
  (void)self;
  gen_deinits++;
}

int Greeter_sayHello(Greeter *self, const char *name) {
  self->count++;
  snprintf(self->last, sizeof self->last, "%s", name ? name : "(null)");
  return 0;
}

void Greeter_reset(Greeter *self) { self->count = 0; }

uint32_t Greeter_getCount(const Greeter *self) { return self->count; }

const char *Greeter_lastName(const Greeter *self) { return self->last; }

int Kitchen_init(Kitchen *self, bs_context *ctx) {
  self->ctx = ctx;
  self->mode = MODE_ON;
  self->cursor.x = 7;
  self->cursor.y = -7;
  gen_inits++;
  return 0;
}

void Kitchen_deinit(Kitchen *self) {
  (void)self;
  gen_deinits++;
}

int Kitchen_integers(Kitchen *self, int8_t a, int16_t b, int32_t c, int64_t d,
                     uint8_t e, uint16_t f, uint32_t g, uint64_t h) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen,
           "%d %d %" PRId32 " %" PRId64 " %u %u %" PRIu32 " %" PRIu64, a, b, c,
           d, e, f, g, h);
  return 0;
}

int Kitchen_cTypes(Kitchen *self, char c, signed char sc, unsigned char uc,
                   short s, unsigned short us, int i, unsigned u, long l,
                   unsigned long ul, long long ll, unsigned long long ull,
                   size_t z) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen,
           "%c %d %u %d %u %d %u %ld %lu %lld %llu %zu", c, sc, uc, s, us, i,
           u, l, ul, ll, ull, z);
  return 0;
}

void Kitchen_scalars(Kitchen *self, bool flag, float f, double d, Mode m,
                     Color c) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "%d %.3f %.6f %d %d", flag, (double)f,
           d, (int)m, (int)c);
}

int Kitchen_text(Kitchen *self, const char *s, const char *maybe_null) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "%s|%s", s,
           maybe_null ? maybe_null : "NULL");
  return 0;
}

int Kitchen_bytes(Kitchen *self, bs_bytes blob, const void *data, size_t len,
                  const uint8_t *raw, size_t raw_len) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "%zu:%.*s %zu:%.*s %zu:%u", blob.len,
           (int)blob.len, (const char *)blob.data, len, (int)len,
           (const char *)data, raw_len, raw_len ? raw[raw_len - 1] : 0u);
  return 0;
}

int Kitchen_arrays(Kitchen *self, const int32_t *values, size_t count,
                   const Point *points, size_t point_count,
                   const char *const *names, size_t name_count) {
  (void)self;
  int n = snprintf(gen_seen, sizeof gen_seen, "%zu:", count);
  for (size_t i = 0; i < count && i < 4; i++)
    n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " %d", values[i]);
  n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " %zu:",
                point_count);
  for (size_t i = 0; i < point_count && i < 4; i++)
    n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " (%d,%d)",
                  points[i].x, points[i].y);
  n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " %zu:", name_count);
  for (size_t i = 0; i < name_count; i++)
    n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " %s", names[i]);
  return 0;
}

int Kitchen_structs(Kitchen *self, Point p, const Polygon *poly,
                    struct Scene scene) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "(%d,%d) %s %d (%d,%d) %zu %zu %zu",
           p.x, p.y, poly ? poly->name : "NULL", poly ? (int)poly->color : 0,
           poly ? poly->corners[2].x : 0, poly ? poly->corners[2].y : 0,
           poly ? poly->extra_count : 0, scene.polygon_count,
           scene.thumbnail.len);
  return 0;
}

int Kitchen_matrix(Kitchen *self, const int32_t v[4], const double m[2][3],
                   const char label[8], const uint8_t digest[4]) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "%d %d %g %g %s %u", v[0], v[3], m[0][0],
           m[1][2], label, digest[3]);
  return 0;
}

int Kitchen_clash(Kitchen *self, int w, int rc, int proxy) {
  (void)self;
  snprintf(gen_seen, sizeof gen_seen, "%d %d %d", w, rc, proxy);
  return w < 0 ? BS_EMETHOD : 0;
}

int Kitchen_shadow(Kitchen *self, const char *args, int32_t a0,
                   const int32_t *t0, size_t a0_n) {
  (void)self;
  int n = snprintf(gen_seen, sizeof gen_seen, "%s %d %zu:", args, a0, a0_n);
  for (size_t i = 0; i < a0_n && i < 4; i++)
    n += snprintf(gen_seen + n, sizeof gen_seen - (size_t)n, " %d", t0[i]);
  return 0;
}

Point Kitchen_where(const Kitchen *self) { return self->cursor; }

Polygon Kitchen_polygon(Kitchen *self, int32_t scale) {
  static const Point extra[2] = {{100, 200}, {300, 400}};
  Polygon p;
  (void)self;
  memset(&p, 0, sizeof p);
  p.name = "triangle";
  p.color = COLOR_BLUE;
  for (int i = 0; i < 3; i++) {
    p.corners[i].x = i * scale;
    p.corners[i].y = -i * scale;
  }
  p.extra = extra;
  p.extra_count = 2;
  p.weights[1][1] = 0.5 * scale;
  return p;
}

struct Scene Kitchen_scene(Kitchen *self) {
  static const char *const tags[] = {"a", "bb"};
  static const uint8_t thumb[3] = {1, 2, 3};
  struct Scene s;
  memset(&s, 0, sizeof s);
  s.origin = &self->cursor;
  s.thumbnail.data = thumb;
  s.thumbnail.len = sizeof thumb;
  s.tags = tags;
  s.tag_count = 2;
  s.id[15] = 0xee;
  return s;
}

int64_t Kitchen_sum(Kitchen *self, const int64_t *values, size_t count) {
  int64_t sum = 0;
  (void)self;
  for (size_t i = 0; i < count; i++) sum += values[i];
  return sum;
}

bool Kitchen_flag(Kitchen *self) { return self->mode == MODE_ON; }

double Kitchen_ratio(Kitchen *self, float num, float den) {
  (void)self;
  return (double)num / (double)den;
}

Mode Kitchen_mode(Kitchen *self) { return self->mode; }

bs_bytes Kitchen_blob(Kitchen *self, size_t size) {
  static uint8_t big[2u << 20];
  bs_bytes b;
  (void)self;
  if (size > sizeof big) size = sizeof big;
  for (size_t i = 0; i < size; i++) big[i] = (uint8_t)(i * 31u);
  b.data = big;
  b.len = size;
  return b;
}

const Point *Kitchen_maybePoint(Kitchen *self, bool present) {
  return present ? &self->cursor : NULL;
}

AllTypes Kitchen_echo(Kitchen *self, AllTypes all) {
  (void)self;
  return all;
}
