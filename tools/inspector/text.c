/* Terminal-safe, width-aligned text (see text.h). */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* wcwidth (ncursesw's flags set it already) */
#endif
#include "text.h"

#include "model.h"

#include <langinfo.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The code point of the well-formed UTF-8 sequence at s (its length in
 * *len), or -1 (RFC 3629: no overlongs, surrogates, or above U+10FFFF). */
static long decode(const unsigned char *s, size_t *len) {
  unsigned c = s[0];
  if (c < 0x80) return *len = 1, (long)c;
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
           : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (!n) return -1;
  unsigned lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
  unsigned hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
  if (s[1] < lo || s[1] > hi) return -1; /* also the NUL terminator */
  long cp = (long)(c & (0x7f >> n));
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  *len = n;
  return cp;
}

static bool utf8_locale(void) {
  const char *cs = nl_langinfo(CODESET);
  return MB_CUR_MAX > 1 && cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

/* One input character as it is shown: its bytes in piece, its columns. */
static int show(const unsigned char *s, size_t *used, bool utf8, char piece[16]) {
  size_t len;
  long cp = decode(s, &len);
  if (cp < 0) {
    *used = 1;
    return snprintf(piece, 16, "\\x%02x", s[0]);
  }
  *used = len;
  if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
    return snprintf(piece, 16, "\\x%02lx", cp);
  if (cp == '\\') return strcpy(piece, "\\\\"), 2;
  if (cp < 0x80) return piece[0] = (char)cp, piece[1] = '\0', 1;
  int w = utf8 ? wcwidth((wchar_t)cp) : -1;
  if (w < 0) return snprintf(piece, 16, "\\u%04lx", cp);
  memcpy(piece, s, len);
  piece[len] = '\0';
  return w;
}

void bsi_fit(const char *s, int width, char *out, size_t cap) {
  if (!cap) return;
  bool utf8 = utf8_locale();
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  size_t o = 0;
  int cols = 0;
  while (*p) {
    char piece[16];
    size_t used;
    int w = show(p, &used, utf8, piece);
    size_t plen = strlen(piece);
    /* room for it, the padding after it and the NUL */
    if (cols + w > width || o + plen + (size_t)(width - cols - w) + 1 > cap) break;
    memcpy(out + o, piece, plen);
    o += plen;
    cols += w;
    p += used;
  }
  while (cols < width && o + 1 < cap) out[o++] = ' ', cols++;
  out[o] = '\0';
}

void bsi_stored(bool persistent, double version, bool failed, char *out, size_t cap) {
  if (!cap) return;
  if (!persistent) snprintf(out, cap, "-");
  else snprintf(out, cap, "%.0f%s", version < 0 ? 0 : version, failed ? "!" : "");
}

void bsi_cluster_line(const bsi_cluster *c, char *out, size_t cap) {
  char node[4 * 24 + 16];
  bsi_fit(c->node, 24, node, sizeof node);
  size_t n = strlen(node);
  while (n > 0 && node[n - 1] == ' ') node[--n] = '\0';
  snprintf(out, cap,
           "cluster: node %s (%s%s)  nodes %.0f  owns %.0f of %.0f partitions  "
           "msgs/s out %.1f in %.1f  moved %.0f/%.0f  unreachable %.0f  lost %.0f",
           node, c->leader ? "leader, " : "", c->serving ? "serving" : "FENCED", c->nodes,
           c->owned, c->partitions, c->out_per_s, c->in_per_s, c->moved_out, c->moved_in,
           c->unreachable, c->lost);
}
