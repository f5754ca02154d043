/* Terminal-safe text for backstage-inspector: ids and type names come from
 * the engine's users, so nothing reaches the terminal raw. */
#ifndef BSI_TEXT_H
#define BSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes s into out as exactly `width` display columns: control characters
 * (C0, DEL, C1) and bytes that are not UTF-8 become \xHH, a backslash \\,
 * characters the terminal cannot show \uXXXX (in a UTF-8 locale only the
 * unprintable ones, elsewhere everything but ASCII); then it is cut at the
 * last whole character that fits and padded with spaces. out is always
 * NUL-terminated; cap of 4 * width + 16 bytes is always enough. */
void bsi_fit(const char *s, int width, char *out, size_t cap);

/* The STORED column: "-" for an actor that is not persistent, else its
 * stored version, with a "!" after it when its last load or write failed
 * (the dashboard and /api/actor say which error). */
void bsi_stored(bool persistent, double version, bool failed, char *out, size_t cap);

struct bsi_cluster;
/* One line on a cluster node: its name (escaped), leader, serving or
 * fenced, members, partitions owned, envelopes per second out and in,
 * "moved" out/in, unreachable and lost. */
void bsi_cluster_line(const struct bsi_cluster *c, char *out, size_t cap);

#endif
