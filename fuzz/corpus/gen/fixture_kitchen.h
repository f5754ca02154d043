/* Every supported parameter and return type, in one actor. */
#ifndef KITCHEN_H
#define KITCHEN_H

#include <backstage.h>

#include "shapes.h"
#include "types.h"

typedef enum Mode { MODE_OFF, MODE_ON } Mode;

/* @generate-proxy */
struct Kitchen {
  bs_context *ctx;
  int64_t total;
  Point cursor;
  Mode mode;
  void *scratch; /* non-const pointer: not in the state encoder */
};
typedef struct Kitchen Kitchen;

int Kitchen_init(Kitchen *self, bs_context *ctx);
void Kitchen_deinit(Kitchen *self);

int Kitchen_integers(Kitchen *self, int8_t a, int16_t b, int32_t c, int64_t d,
                     uint8_t e, uint16_t f, uint32_t g, uint64_t h);
int Kitchen_cTypes(Kitchen *self, char c, signed char sc, unsigned char uc,
                   short s, unsigned short us, int i, unsigned u, long l,
                   unsigned long ul, long long ll, unsigned long long ull,
                   size_t z);
void Kitchen_scalars(Kitchen *self, bool flag, float f, double d, Mode m,
                     Color c);
int Kitchen_text(Kitchen *self, const char *s, const char *maybe_null);
int Kitchen_bytes(Kitchen *self, bs_bytes blob, const void *data, size_t len,
                  const uint8_t *raw, size_t raw_len);
int Kitchen_arrays(Kitchen *self, const int32_t *values, size_t count,
                   const Point *points, size_t point_count,
                   const char *const *names, size_t name_count);
int Kitchen_structs(Kitchen *self, Point p, const Polygon *poly,
                    struct Scene scene);
/* Fixed-size arrays, as parameters too (C passes them as pointers; the
 * generator sends all N elements). */
int Kitchen_matrix(Kitchen *self, const int32_t v[4], const double m[2][3],
                   const char label[8], const uint8_t digest[4]);
/* Parameters named like the proxy's own locals are renamed. */
int Kitchen_clash(Kitchen *self, int w, int rc, int proxy);
/* ... and in the argument decoder, those named like its own. */
int Kitchen_shadow(Kitchen *self, const char *args, int32_t a0,
                   const int32_t *t0, size_t a0_n);

Point Kitchen_where(const Kitchen *self);
Polygon Kitchen_polygon(Kitchen *self, int32_t scale);
struct Scene Kitchen_scene(Kitchen *self);
int64_t Kitchen_sum(Kitchen *self, const int64_t *values, size_t count);
bool Kitchen_flag(Kitchen *self);
double Kitchen_ratio(Kitchen *self, float num, float den);
Mode Kitchen_mode(Kitchen *self);
bs_bytes Kitchen_blob(Kitchen *self, size_t size);
const Point *Kitchen_maybePoint(Kitchen *self, bool present);
AllTypes Kitchen_echo(Kitchen *self, AllTypes all);

#endif
