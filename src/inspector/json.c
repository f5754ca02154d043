/* A growable string for the inspector's responses, with JSON string and
 * number emitters. Output only: the inspector never parses JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "inspector/insp.h"

static bool grow(bs__sb *b, size_t need) {
  if (b->oom) return false;
  if (b->len + need + 1 <= b->cap) return true;
  size_t ncap = b->cap ? b->cap : 256;
  while (ncap < b->len + need + 1) ncap *= 2;
  char *np = realloc(b->p, ncap);
  if (!np) {
    b->oom = true;
    return false;
  }
  b->p = np;
  b->cap = ncap;
  return true;
}

void bs__sb_put(bs__sb *b, const char *s, size_t n) {
  if (!grow(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void bs__sb_puts(bs__sb *b, const char *s) { bs__sb_put(b, s, strlen(s)); }

void bs__sb_printf(bs__sb *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    bs__sb_put(b, small, (size_t)n);
    return;
  }
  if (!grow(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void bs__sb_free(bs__sb *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* RFC 3629: the lead byte gives the length, and the second byte's range
 * excludes overlong forms (E0, F0), surrogates (ED) and code points above
 * U+10FFFF (F4); C0, C1 and F5..FF never start a sequence. */
size_t bs__utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  if (c < 0x80) return 1;
  size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (len == 0 || len > n) return 0;
  unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
  unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return len;
}

static void put_escape(bs__sb *b, unsigned char c) {
  switch (c) {
  case '"': bs__sb_put(b, "\\\"", 2); break;
  case '\\': bs__sb_put(b, "\\\\", 2); break;
  case '\n': bs__sb_put(b, "\\n", 2); break;
  case '\r': bs__sb_put(b, "\\r", 2); break;
  case '\t': bs__sb_put(b, "\\t", 2); break;
  default: bs__sb_printf(b, "\\u%04x", c); break;
  }
}

void bs__sb_json_str(bs__sb *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  bs__sb_put(b, "\"", 1);
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    /* '<' too, so a string can never close a <script> it is inlined in. */
    if (c < 0x20 || c == '"' || c == '\\' || c == '<') {
      if (c == '<') bs__sb_put(b, "\\u003c", 6); else put_escape(b, c);
      i++;
      continue;
    }
    size_t len = bs__utf8_len(p + i, n - i);
    if (len == 0) {
      bs__sb_put(b, "\\ufffd", 6);
      i++;
      continue;
    }
    bs__sb_put(b, s + i, len);
    i += len;
  }
  bs__sb_put(b, "\"", 1);
}

void bs__sb_json_num(bs__sb *b, double v) {
  if (!isfinite(v)) v = 0;
  if (v == floor(v) && fabs(v) < 9007199254740992.0) {
    bs__sb_printf(b, "%.0f", v);
    return;
  }
  bs__sb_printf(b, "%.3f", v);
}

bs__insp_buf *bs__insp_buf_take(bs__sb *b) {
  bs__insp_buf *buf = b->oom ? NULL : malloc(sizeof *buf);
  if (!buf) {
    bs__sb_free(b);
    return NULL;
  }
  buf->refs = 1;
  buf->len = b->len;
  buf->p = b->p;
  memset(b, 0, sizeof *b);
  return buf;
}

bs__insp_buf *bs__insp_buf_ref(bs__insp_buf *buf) {
  if (buf) buf->refs++;
  return buf;
}

void bs__insp_buf_unref(bs__insp_buf *buf) {
  if (!buf || --buf->refs) return;
  free(buf->p);
  free(buf);
}
