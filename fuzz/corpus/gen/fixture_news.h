/* Streams: struct element types, and subscriber methods of every element
 * token (docs/generator.md, "Streams"). Newsroom publishes from inside an
 * actor, through its context; Reader subscribes. */
#ifndef NEWS_H
#define NEWS_H

#include <backstage.h>

#include "shapes.h"

typedef struct Byline {
  const char *author;
  char desk[12];
} Byline;

/* A struct element: strings, a nested struct, an array of structs from
 * another header, an optional struct. */
typedef struct Headline {
  uint64_t seq;
  const char *title;
  Byline by;
  BS_ARRAY(Point, path); /* const Point *path; size_t path_count */
  const Point *where;    /* NULL travels as null */
  int32_t priority;
} Headline;

/* Another element type: a Notice stream is not a Headline stream. */
typedef struct Notice {
  const char *text;
} Notice;

/* Named like a built-in element token (i64): it has a codec but is no
 * element type, and a method taking it gets no subscriber helper. */
typedef struct i64 {
  int64_t hi;
  uint64_t lo;
} i64;

// @generate-proxy
typedef struct Newsroom {
  bs_context *ctx;
  uint32_t published;
} Newsroom;

int Newsroom_init(Newsroom *self, bs_context *ctx);
void Newsroom_deinit(Newsroom *self);
/* Subscribes Reader `reader`'s handleNews to the cstr stream "news". */
int Newsroom_subscribe(Newsroom *self, const char *reader);
/* Publishes on "news", a stream got through the actor's context. */
int Newsroom_publish(Newsroom *self, const char *headline);
/* Publishes on "headlines", a stream of Headline. */
int Newsroom_publishHeadline(Newsroom *self, const Headline *h);

// @generate-proxy
typedef struct Reader {
  bs_context *ctx;
  int32_t total;
} Reader;

int Reader_init(Reader *self, bs_context *ctx);
void Reader_deinit(Reader *self);

/* One parameter with an element token: each gets a __subscriber helper. */
int Reader_handleNews(Reader *self, const char *headline);  /* cstr */
void Reader_onHeadline(Reader *self, const Headline *h);    /* Headline */
int Reader_onHeadlineCopy(Reader *self, Headline h);        /* Headline */
int Reader_onNotice(Reader *self, const Notice *n);         /* Notice */
int Reader_onPoint(Reader *self, Point p);                  /* Point (shapes.h) */
int Reader_onI8(Reader *self, signed char v);               /* i8 */
int Reader_onI16(Reader *self, int16_t v);                  /* i16 */
int Reader_onInt(Reader *self, int v);                      /* i32 */
int Reader_onCount(Reader *self, int64_t v);                /* i64 */
int Reader_onU8(Reader *self, unsigned char v);             /* u8 */
int Reader_onU16(Reader *self, uint16_t v);                 /* u16 */
int Reader_onU32(Reader *self, unsigned v);                 /* u32 */
int Reader_onSize(Reader *self, size_t v);                  /* u64 */
int Reader_onFlag(Reader *self, bool v);                    /* boolean */
int Reader_onRatio(Reader *self, float v);                  /* float */
int Reader_onLevel(Reader *self, double v);                 /* double */
int Reader_onBlob(Reader *self, bs_bytes v);                /* bytes */
/* A request/reply method subscribes too; elements drop the reply. */
int32_t Reader_add(Reader *self, int32_t v);                /* i32 */
/* A byte pair is a byte buffer, like bs_bytes. */
int Reader_onRaw(Reader *self, const void *data, size_t len); /* bytes */

/* One dynamic array of an element type: a helper for T_array. */
int Reader_onHeadlines(Reader *self, const Headline *items, size_t count);
int Reader_onPoints(Reader *self, const Point *pts, size_t n); /* Point_array */
int Reader_onValues(Reader *self, const int32_t *v, size_t n); /* i32_array */
int Reader_onI8s(Reader *self, const signed char *v, size_t n); /* i8_array */
int Reader_onI16s(Reader *self, const int16_t *v, size_t n);   /* i16_array */
int Reader_onBatch(Reader *self, const int64_t *values, size_t count);
int Reader_onU16s(Reader *self, const uint16_t *v, size_t n);  /* u16_array */
int Reader_onU32s(Reader *self, const unsigned *v, size_t n);  /* u32_array */
int Reader_onSizes(Reader *self, const size_t *v, size_t n);   /* u64_array */
int Reader_onFlags(Reader *self, const bool *v, size_t n);     /* boolean_array */
int Reader_onRatios(Reader *self, const float *v, size_t n);   /* float_array */
int Reader_onLevels(Reader *self, const double *v, size_t n);  /* double_array */
int Reader_onNames(Reader *self, const char *const *names, size_t n); /* cstr_array */
int Reader_onBlobs(Reader *self, const bs_bytes *v, size_t n); /* bytes_array */

/* No element token: no helper. */
int Reader_onColor(Reader *self, Color c);                  /* enum */
int Reader_onLabel(Reader *self, const char label[8]);      /* fixed array */
int Reader_onColors(Reader *self, const Color *c, size_t n); /* array of enums */
int Reader_onWhere(Reader *self, const Point *const *p, size_t n); /* of pointers */
int Reader_onPair(Reader *self, const char *a, int64_t b);  /* two */
int Reader_onWide(Reader *self, i64 v);                     /* see i64 */
void Reader_ping(Reader *self);                             /* none */

#endif
