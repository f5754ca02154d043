/* backstage-inspector's text output: ids are outside input, so control
 * characters are escaped in every mode and columns are aligned by display
 * width (bsi_fit, and --once against a live engine). */
#include <criterion/criterion.h>
#include <locale.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "insp_test.h"
#include "model.h"
#include "text.h"

/* Display width of s[0..n) in a UTF-8 locale. */
static int width_of(const char *s, size_t n) {
  wchar_t w[512];
  char tmp[1024];
  cr_assert_lt(n, sizeof tmp);
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  size_t k = mbstowcs(w, tmp, 512);
  cr_assert_neq(k, (size_t)-1, "not UTF-8: %s", tmp);
  return wcswidth(w, k);
}

static bool has_controls(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p < 0x20 && *p != '\n') || *p == 0x7f) return true;
  return false;
}

static void utf8_locale(void) {
  cr_assert(setlocale(LC_CTYPE, "C.UTF-8"), "no C.UTF-8 locale");
}

Test(insp_tui, fit_escapes_controls_and_pads_to_the_display_width) {
  utf8_locale();
  static const char *in[] = {"plain", "esc-\x1b[31m-red", "tab\there", "uml-\xc3\xbc\xc3\xbc",
                             "wide-\xe4\xb8\xad\xe6\x96\x87", "bad-\xff\xfe", "del\x7f",
                             "c1-\xc2\x9b\x33\x31m", "back\\slash",
                             "a-very-long-id-that-does-not-fit-in-the-column"};
  for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
    for (int w = 1; w <= 30; w++) {
      char out[256];
      bsi_fit(in[i], w, out, sizeof out);
      cr_assert_not(has_controls(out), "%zu/%d: control bytes left", i, w);
      cr_assert_eq(width_of(out, strlen(out)), w, "%zu/%d: '%s' is not %d columns", i, w, out, w);
    }
  }
  char out[64];
  bsi_fit("esc-\x1b[31m", 16, out, sizeof out);
  cr_assert_str_eq(out, "esc-\\x1b[31m    ");
  bsi_fit("uml-\xc3\xbc", 8, out, sizeof out);
  cr_assert_str_eq(out, "uml-\xc3\xbc   ");
  bsi_fit("wide-\xe4\xb8\xad", 6, out, sizeof out); /* no half of a wide character */
  cr_assert_str_eq(out, "wide- ");
}

/* Outside a UTF-8 locale, anything but printable ASCII is escaped. */
Test(insp_tui, fit_in_an_ascii_locale_escapes_everything_else) {
  setlocale(LC_CTYPE, "C");
  char out[64];
  bsi_fit("uml-\xc3\xbc", 12, out, sizeof out);
  cr_assert_str_eq(out, "uml-\\u00fc  ");
}

typedef struct once {
  int port;
  char out[65536];
  size_t len;
  int status;
  int done;
} once;

static void *run_once(void *arg) {
  once *o = arg;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "LC_ALL=C.UTF-8 %s 127.0.0.1:%d --once", BSI_EXE, o->port);
  FILE *f = popen(cmd, "r");
  if (f) {
    o->len = fread(o->out, 1, sizeof o->out - 1, f);
    o->status = pclose(f);
  }
  o->out[o->len] = '\0';
  atomic_store((_Atomic int *)&o->done, 1);
  return NULL;
}

Test(insp_tui, once_escapes_ids_and_aligns_columns_by_display_width, .timeout = 30) {
  utf8_locale();
  bs_engine *e = it_engine_http();
  static const char *ids[] = {"plain", "esc-\x1b[31m-red", "tab\there", "uml-\xc3\xbc\xc3\xbc",
                              "wide-\xe4\xb8\xad\xe6\x96\x87", "bad-\xff\xfe",
                              "a-very-long-id-that-does-not-fit-in-the-column"};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) it_send(e, &insp_worker_type, ids[i], 1);
  bs_test_run(e, 0);
  bs_test_advance(e, 1000);
  static once o;
  memset(&o, 0, sizeof o);
  o.port = it_port(e);
  pthread_t t;
  pthread_create(&t, NULL, run_once, &o);
  it_pump_until(e, &o.done);
  pthread_join(t, NULL);
  cr_assert_eq(o.status, 0, "%s", o.out);
  cr_assert_not(has_controls(o.out), "raw control characters in:\n%s", o.out);
  cr_assert(strstr(o.out, "esc-\\x1b[31m-red"), "%s", o.out);
  cr_assert(strstr(o.out, " STORED\n"), "no STORED column:\n%s", o.out);
  int rows = 0;
  for (char *line = o.out, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    char *type = strstr(line, " Worker ");
    if (!type) continue;
    rows++;
    cr_assert_eq(width_of(line, (size_t)(type - line)), 28, "misaligned: '%s'", line);
    size_t n = strlen(line);
    cr_assert(n > 2 && !strcmp(line + n - 2, " -"), "not persistent, STORED '-': '%s'", line);
  }
  cr_assert_eq(rows, (int)(sizeof ids / sizeof ids[0]), "%s", o.out);
  it_free(e);
}

/* A cluster node's line: the snapshot's `cluster` object, escaped. */
Test(insp_tui, cluster_line_from_the_snapshot) {
  static const char json[] =
      "{\"engine\":{},\"actors\":{\"items\":[]},\"cluster\":{\"node\":\"n\\u001b[31m\","
      "\"nodes\":3,\"partitions\":1024,\"owned\":342,\"leader\":true,\"serving\":false,"
      "\"msgs_out_per_s\":1312,\"msgs_in_per_s\":651.5,\"moved_out\":3,\"moved_in\":12,"
      "\"unreachable\":4,\"lost\":37}}";
  bsi_model m = {0};
  cr_assert_eq(bsi_model_parse(&m, json, sizeof json - 1), 0);
  cr_assert(m.cluster.on);
  char line[512];
  bsi_cluster_line(&m.cluster, line, sizeof line);
  cr_assert_str_eq(line, "cluster: node n\\x1b[31m (leader, FENCED)  nodes 3  owns 342 of 1024 "
                         "partitions  msgs/s out 1312.0 in 651.5  moved 3/12  unreachable 4  "
                         "lost 37");
  bsi_model_free(&m);
  static const char plain[] = "{\"engine\":{},\"actors\":{\"items\":[]}}";
  cr_assert_eq(bsi_model_parse(&m, plain, sizeof plain - 1), 0);
  cr_assert_not(m.cluster.on, "no cluster in a standalone engine's snapshot");
  bsi_model_free(&m);
}

/* The STORED column: a persistent actor's stored version from the
 * snapshot's `persisted` object, "!" when its last load or write failed,
 * "-" for the others (and for anything malformed). */
Test(insp_tui, stored_column_shows_version_and_store_failures) {
  static const char json[] =
      "{\"engine\":{\"rate\":1},\"actors\":{\"total\":4,\"items\":["
      "{\"id\":\"plain\",\"type\":\"W\",\"persisted\":null},"
      "{\"id\":\"ok\",\"type\":\"V\",\"persisted\":{\"version\":7,\"saved_at\":5,"
      "\"errors\":0,\"last_error\":null}},"
      "{\"id\":\"bad\",\"type\":\"V\",\"persisted\":{\"version\":3,\"saved_at\":5,"
      "\"errors\":2,\"last_error\":\"ESTORE\"}},"
      "{\"id\":\"odd\",\"type\":\"V\",\"persisted\":\"yes\"}]}}";
  bsi_model m = {0};
  cr_assert_eq(bsi_model_parse(&m, json, sizeof json - 1), 0);
  cr_assert_eq(m.nrows, 4);
  static const char *want[] = {"-", "7", "3!", "-"};
  for (size_t i = 0; i < 4; i++) {
    char v[32];
    bsi_stored(m.rows[i].persistent, m.rows[i].version, m.rows[i].store_failed, v, sizeof v);
    cr_assert_str_eq(v, want[i], "row %zu (%s)", i, m.rows[i].id);
  }
  bsi_model_free(&m);
}
