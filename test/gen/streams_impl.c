#include "streams_impl.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "news.bs.h"

news_log news_logs[NEWS_LOGS_MAX];
int news_nlogs;
const char *news_stop_after;

news_log *news_log_for(const char *id) {
  for (int i = 0; i < news_nlogs; i++)
    if (strcmp(news_logs[i].id, id) == 0) return &news_logs[i];
  if (news_nlogs == NEWS_LOGS_MAX) return &news_logs[NEWS_LOGS_MAX - 1];
  news_log *l = &news_logs[news_nlogs++];
  snprintf(l->id, sizeof l->id, "%s", id);
  return l;
}

void news_reset(void) {
  memset(news_logs, 0, sizeof news_logs);
  news_nlogs = 0;
  news_stop_after = NULL;
}

/* ---- Newsroom: publishes from inside an actor --------------------------- */

int Newsroom_init(Newsroom *self, bs_context *ctx) {
  self->ctx = ctx;
  bs_stream_Headline headlines;
  int rc = bs_get_stream(ctx, Headline, "headlines", &headlines);
  if (rc < 0) return rc;
  self->headlines = headlines.s;
  return 0;
}

void Newsroom_deinit(Newsroom *self) { (void)self; }

int Newsroom_subscribe(Newsroom *self, const char *reader) {
  bs_stream_cstr news;
  int rc = bs_get_stream(self->ctx, cstr, "news", &news);
  if (rc < 0) return rc;
  return bs_stream_subscribe(news, bs_subscriber(reader, ReaderProxy_handleNews));
}

int Newsroom_publish(Newsroom *self, const char *headline) {
  bs_stream_cstr news;
  int rc = bs_get_stream(self->ctx, cstr, "news", &news);
  if (rc < 0) return rc;
  rc = bs_stream_next(news, headline);
  if (rc < 0) return rc;
  self->published++;
  return 0;
}

/* `h` points into this call's message: publishing encodes it again. */
int Newsroom_publishHeadline(Newsroom *self, const Headline *h) {
  bs_stream_Headline headlines;
  int rc = bs_get_stream(self->ctx, Headline, "headlines", &headlines);
  if (rc < 0) return rc;
  rc = bs_stream_next(headlines, h);
  if (rc < 0) return rc;
  self->published++;
  return 0;
}

int Newsroom_publishKept(Newsroom *self, const Headline *h) {
  int rc = bs_stream_next(bs_stream_from(Headline, self->headlines), h);
  if (rc < 0) return rc;
  self->published++;
  return 0;
}

/* ---- Reader: one line per element ------------------------------------------ */

int Reader_init(Reader *self, bs_context *ctx) {
  self->ctx = ctx;
  news_log_for(bs_context_id(ctx))->inits++;
  return 0;
}

void Reader_deinit(Reader *self) {
  news_log_for(bs_context_id(self->ctx))->deinits++;
}

static void record(Reader *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void record(Reader *self, const char *fmt, ...) {
  news_log *l = news_log_for(bs_context_id(self->ctx));
  if (l->n < NEWS_LINES_MAX) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->lines[l->n], sizeof l->lines[0], fmt, ap);
    va_end(ap);
    if (news_stop_after && strcmp(l->lines[l->n], news_stop_after) == 0) {
      bs_ref me = bs_context_self(self->ctx);
      bs_stop(&me);
    }
  }
  l->n++;
}

static void describe_headline(char *out, size_t size, const Headline *h) {
  int k = snprintf(out, size, "#%" PRIu64 " %s by %s/%s p%" PRId32 " path", h->seq,
                   h->title ? h->title : "(null)",
                   h->by.author ? h->by.author : "(null)", h->by.desk,
                   h->priority);
  for (size_t i = 0; i < h->path_count && k > 0 && (size_t)k < size; i++)
    k += snprintf(out + k, size - (size_t)k, " %" PRId32 ",%" PRId32,
                  h->path[i].x, h->path[i].y);
  if (k > 0 && (size_t)k < size) {
    if (h->where)
      snprintf(out + k, size - (size_t)k, " at %" PRId32 ",%" PRId32,
               h->where->x, h->where->y);
    else
      snprintf(out + k, size - (size_t)k, " nowhere");
  }
}

int Reader_handleNews(Reader *self, const char *headline) {
  record(self, "%s", headline ? headline : "(null)");
  return 0;
}

void Reader_onHeadline(Reader *self, const Headline *h) {
  char text[160];
  if (h == NULL) {
    record(self, "headline NULL");
    return;
  }
  describe_headline(text, sizeof text, h);
  record(self, "%s", text);
}

int Reader_onHeadlineCopy(Reader *self, Headline h) {
  char text[160];
  describe_headline(text, sizeof text, &h);
  record(self, "copy %s", text);
  return 0;
}

int Reader_onNotice(Reader *self, const Notice *n) {
  record(self, "notice %s", n && n->text ? n->text : "(null)");
  return 0;
}

int Reader_onPoint(Reader *self, Point p) {
  record(self, "point %" PRId32 ",%" PRId32, p.x, p.y);
  return 0;
}

int Reader_onI8(Reader *self, signed char v) {
  record(self, "i8 %d", v);
  return 0;
}

int Reader_onI16(Reader *self, int16_t v) {
  record(self, "i16 %d", v);
  return 0;
}

int Reader_onInt(Reader *self, int v) {
  record(self, "i32 %d", v);
  return 0;
}

int Reader_onCount(Reader *self, int64_t v) {
  record(self, "i64 %" PRId64, v);
  return 0;
}

int Reader_onU8(Reader *self, unsigned char v) {
  record(self, "u8 %u", v);
  return 0;
}

int Reader_onU16(Reader *self, uint16_t v) {
  record(self, "u16 %u", v);
  return 0;
}

int Reader_onU32(Reader *self, unsigned v) {
  record(self, "u32 %u", v);
  return 0;
}

int Reader_onSize(Reader *self, size_t v) {
  record(self, "u64 %zu", v);
  return 0;
}

int Reader_onFlag(Reader *self, bool v) {
  record(self, "boolean %s", v ? "true" : "false");
  return 0;
}

int Reader_onRatio(Reader *self, float v) {
  record(self, "float %.3f", (double)v);
  return 0;
}

int Reader_onLevel(Reader *self, double v) {
  record(self, "double %.6f", v);
  return 0;
}

int Reader_onBlob(Reader *self, bs_bytes v) {
  char hex[64] = "";
  const uint8_t *p = v.data;
  for (size_t i = 0; i < v.len && i < 16; i++)
    snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", p[i]);
  record(self, "bytes %zu %s", v.len, hex);
  return 0;
}

int32_t Reader_add(Reader *self, int32_t v) {
  self->total += v;
  record(self, "add %" PRId32 " total %" PRId32, v, self->total);
  return self->total;
}

int Reader_onColor(Reader *self, Color c) {
  record(self, "color %d", (int)c);
  return 0;
}

int Reader_onLabel(Reader *self, const char label[8]) {
  record(self, "label %.8s", label);
  return 0;
}

int Reader_onRaw(Reader *self, const void *data, size_t len) {
  char hex[64] = "";
  const uint8_t *p = data;
  for (size_t i = 0; i < len && i < 16; i++)
    snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", p[i]);
  record(self, "raw %zu %s", len, hex);
  return 0;
}

/* ---- Array elements: "<token>[n] first items ... last" ----------------------- */

typedef struct line_buf {
  char text[160];
  size_t k;
} line_buf;

static void put(line_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(line_buf *b, const char *fmt, ...) {
  if (b->k >= sizeof b->text) return;
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(b->text + b->k, sizeof b->text - b->k, fmt, ap);
  va_end(ap);
  if (k > 0) b->k += (size_t)k;
}

/* The first three items, and the last one of longer arrays. */
#define ARRAY_LINE(b, what, v, n, fmt, conv)                                   \
  do {                                                                         \
    put(&(b), "%s[%zu]", (what), (n));                                         \
    for (size_t i_ = 0; i_ < (n) && i_ < 3; i_++)                              \
      put(&(b), " " fmt, conv((v)[i_]));                                       \
    if ((n) > 3) put(&(b), " .. " fmt, conv((v)[(n) - 1]));                    \
  } while (0)

#define AS_IS(x) (x)
#define AS_INT(x) ((int)(x))
#define AS_DOUBLE(x) ((double)(x))
#define AS_BOOL(x) ((x) ? "true" : "false")
#define AS_TEXT(x) ((x) ? (x) : "(null)")
#define AS_LEN(x) ((x).len)

#define NUMBER_ARRAY_METHOD(name, T, what, fmt, conv)                          \
  int Reader_##name(Reader *self, const T *v, size_t n) {                      \
    line_buf b = {"", 0};                                                      \
    ARRAY_LINE(b, what, v, n, fmt, conv);                                      \
    record(self, "%s", b.text);                                                \
    return 0;                                                                  \
  }

NUMBER_ARRAY_METHOD(onI8s, signed char, "i8", "%d", AS_INT)
NUMBER_ARRAY_METHOD(onI16s, int16_t, "i16", "%d", AS_INT)
NUMBER_ARRAY_METHOD(onValues, int32_t, "i32", "%" PRId32, AS_IS)
NUMBER_ARRAY_METHOD(onU16s, uint16_t, "u16", "%d", AS_INT)
NUMBER_ARRAY_METHOD(onU32s, unsigned, "u32", "%u", AS_IS)
NUMBER_ARRAY_METHOD(onSizes, size_t, "u64", "%zu", AS_IS)
NUMBER_ARRAY_METHOD(onFlags, bool, "boolean", "%s", AS_BOOL)
NUMBER_ARRAY_METHOD(onRatios, float, "float", "%.3f", AS_DOUBLE)
NUMBER_ARRAY_METHOD(onLevels, double, "double", "%.6f", AS_IS)
NUMBER_ARRAY_METHOD(onBlobs, bs_bytes, "bytes", "%zu", AS_LEN)

/* The sum too: every item of a large array arrived. */
int Reader_onBatch(Reader *self, const int64_t *values, size_t count) {
  line_buf b = {"", 0};
  int64_t sum = 0;
  for (size_t i = 0; i < count; i++) sum += values[i];
  ARRAY_LINE(b, "i64", values, count, "%" PRId64, AS_IS);
  put(&b, " sum %" PRId64, sum);
  record(self, "%s", b.text);
  return 0;
}

int Reader_onNames(Reader *self, const char *const *names, size_t n) {
  line_buf b = {"", 0};
  ARRAY_LINE(b, "cstr", names, n, "%s", AS_TEXT);
  record(self, "%s", b.text);
  return 0;
}

int Reader_onPoints(Reader *self, const Point *pts, size_t n) {
  line_buf b = {"", 0};
  put(&b, "Point[%zu]", n);
  for (size_t i = 0; i < n && i < 3; i++)
    put(&b, " %" PRId32 ",%" PRId32, pts[i].x, pts[i].y);
  record(self, "%s", b.text);
  return 0;
}

/* One line per headline, as onHeadline writes them, after a count line. */
int Reader_onHeadlines(Reader *self, const Headline *items, size_t count) {
  char text[160];
  record(self, "Headline[%zu]", count);
  for (size_t i = 0; i < count; i++) {
    describe_headline(text, sizeof text, &items[i]);
    record(self, "%s", text);
  }
  return 0;
}

int Reader_onColors(Reader *self, const Color *c, size_t n) {
  record(self, "colors %zu %d", n, n ? (int)c[0] : -1);
  return 0;
}

int Reader_onWhere(Reader *self, const Point *const *p, size_t n) {
  record(self, "where %zu %s", n, n && p[0] ? "set" : "none");
  return 0;
}

int Reader_onPair(Reader *self, const char *a, int64_t b) {
  record(self, "pair %s %" PRId64, a, b);
  return 0;
}

int Reader_onWide(Reader *self, i64 v) {
  record(self, "wide %" PRId64 " %" PRIu64, v.hi, v.lo);
  return 0;
}

void Reader_ping(Reader *self) { record(self, "ping"); }
