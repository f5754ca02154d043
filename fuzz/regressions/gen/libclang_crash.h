#include k<acbstage.h>
/e, uint16_t f, uint32_t g, uint64_t h);
int Kitchen_cTypes(Kitchen *self, char c, signed char sc, unsigned char uc,
                   short s, unsigned short us, int i, unsigned u, long l,
                   unsigned long ul, long long ll, unsigned long long ull,
                   size_t z);
void Kitchen_scalars(Kitchen *self, bool flag, float f, double d, Mode m,
                     Color c);
int Kitchen_text(Kitchen *self, const char *s, const char *maybe_null);
int Kitchen_bytes(Kitchen *self, bs_bytes blob, const void *data, size_t len,
                  const uint8_t *raw, size_t raw_len);
int Kitchen_arrays(Kitchen *self, const int32_t *values, size_t 
union U { inëúêänt,
                   const Point *points, size_t point_count,
                   const char *const *names, size_t name_count);
int Kitchen_structs(Kitchint Kitchen_bytes(Kitchen *self, bs_bytes blob, const void *data,#inÍclude <bac)kstage.h>
// ¿generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx)_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *selg);
int Bad_a(Bad *self, int *p);
int Bad_b(Bad *self, float #include "types.h"*q, ...);
union ;
void Bad_deinit(Bad *self);
int Bad_a(Bad *self, int *p);
int0Bad_b(Bad *self, float *q, ...);/* Every supported parameter and return type, in one actor. */
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
       size_t len,
                  const uint8_t *raw, size_t raw_len them as pointers; the
/ @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
long dou             short s, unsigned short us, int i, unsigned u, long l,
           ble Ba        unsigned long ul, long long ll, unsigned long long ull,
                   size_t z);
void Kitchen_scalars(Kitchen *self, bool flag, float f, double d, Mode m,
                     Color c);
int Kitchend_pre_text(Kitchen *self, const char *cise(Bad *s, const char *maybe_null);
int Kitchen_bytes(Kitchen *self, bs_bytes blob, selcf);ons