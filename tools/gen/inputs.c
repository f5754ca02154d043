#include "inputs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/') n--;
  return gen_printf("%.*s/%s", (int)n, dir, name);
}

static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  gen_sbuf b = {0};
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
    chunk[n] = '\0';
    if (memchr(chunk, '\0', n) != NULL) break; /* binary: stop at the NUL */
    sb_puts(&b, chunk);
  }
  fclose(f);
  char *text = gen_strndup(b.data ? b.data : "", b.len);
  *len = b.len;
  sb_free(&b);
  return text;
}

static bool already_added(const gen_vec *inputs, const char *real) {
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    if (strcmp(in->real, real) == 0) return true;
  }
  return false;
}

static int add_file(gen_vec *inputs, const char *path, const char *rel) {
  char *real = realpath(path, NULL);
  if (real == NULL) {
    gen_error_plain("cannot read '%s'", path);
    return -1;
  }
  gen_input *in = gen_alloc(sizeof *in);
  in->real = gen_strdup(real);
  free(real);
  if (already_added(inputs, in->real)) return 0;
  in->path = gen_strdup(path);
  in->rel = gen_strdup(rel);
  const char *dot = strrchr(rel, '.');
  in->stem = gen_strndup(rel, dot ? (size_t)(dot - rel) : strlen(rel));
  in->text = read_text(path, &in->text_len);
  if (in->text == NULL) {
    gen_error_plain("cannot read '%s'", path);
    return -1;
  }
  gen_vec_push(inputs, in);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool under(const char *real, const char *dir_real) {
  size_t n = strlen(dir_real);
  return dir_real[0] && strncmp(real, dir_real, n) == 0 &&
         (real[n] == '/' || real[n] == '\0');
}

/* `rel` is the path below the scanned root: it names the output (mirrored
 * under OUTPUT_DIR) and the #include of the generated header. */
static int add_dir(gen_vec *inputs, const char *dir, const char *rel,
                   const char *skip_real) {
  char *real = realpath(dir, NULL);
  bool skip = real == NULL || (skip_real != NULL && under(real, skip_real));
  free(real);
  if (skip) return 0;
  DIR *d = opendir(dir);
  if (d == NULL) {
    gen_error_plain("cannot open directory '%s'", dir);
    return -1;
  }
  gen_vec names = {0};
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') gen_vec_push(&names, gen_strdup(e->d_name));
  closedir(d);
  if (names.len) qsort(names.items, names.len, sizeof(void *), cmp_str);
  int rc = 0;
  for (size_t i = 0; i < names.len && rc == 0; i++) {
    const char *name = names.items[i];
    char *path = join(dir, name);
    char *sub = rel[0] ? join(rel, name) : gen_strdup(name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode))
      rc = add_dir(inputs, path, sub, skip_real);
    else if (ends_with(name, ".h") && !ends_with(name, ".bs.h"))
      rc = add_file(inputs, path, sub);
  }
  return rc;
}

int gen_inputs_add(gen_vec *inputs, const char *arg, const char *skip_real) {
  struct stat st;
  if (stat(arg, &st) != 0) {
    gen_error_plain("no such file or directory: '%s'", arg);
    return -1;
  }
  if (S_ISDIR(st.st_mode)) return add_dir(inputs, arg, "", skip_real);
  const char *base = strrchr(arg, '/');
  return add_file(inputs, arg, base ? base + 1 : arg);
}

int gen_inputs_check(const gen_vec *inputs) {
  int rc = 0;
  for (size_t i = 0; i < inputs->len; i++)
    for (size_t j = 0; j < i; j++) {
      const gen_input *a = inputs->items[j], *b = inputs->items[i];
      if (strcmp(a->stem, b->stem) == 0) {
        gen_error_plain("'%s' and '%s' would both generate %s.bs.h; "
                        "scan their directories instead of listing them",
                        a->path, b->path, a->stem);
        rc = -1;
      }
    }
  return rc;
}

/* ---- Marker lexer -------------------------------------------------------- */

static const char MARKER[] = "@generate-proxy";

static bool word_char(char c) {
  return c == '-' || c == '_' || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* True if the comment body [s, e) is the marker, optionally followed by
 * more words. Leading '*', '/' and '!' are ignored, so doc-comment styles
 * work too. The first word after the marker may be an option: `persistent`
 * sets GEN_MARK_PERSISTENT in *opts. */
static bool is_marker(const char *s, const char *e, uintptr_t *opts) {
  while (s < e && (*s == ' ' || *s == '\t' || *s == '*' || *s == '/' ||
                   *s == '!'))
    s++;
  size_t m = sizeof MARKER - 1;
  if ((size_t)(e - s) < m || memcmp(s, MARKER, m) != 0) return false;
  s += m;
  if (s < e && word_char(*s)) return false;
  *opts = 0;
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  static const char PERSISTENT[] = "persistent";
  size_t p = sizeof PERSISTENT - 1;
  if ((size_t)(e - s) >= p && memcmp(s, PERSISTENT, p) == 0 &&
      (s + p == e || !word_char(s[p])))
    *opts |= GEN_MARK_PERSISTENT;
  return true;
}

static void add_marker(gen_input *in, const char *at, uintptr_t opts) {
  gen_vec_push(&in->markers, (void *)(uintptr_t)(at - in->text));
  gen_vec_push(&in->marker_opts, (void *)opts);
}

static const char *skip_literal(const char *p, const char *end, char quote) {
  for (p++; p < end && *p != quote && *p != '\n'; p++)
    if (*p == '\\' && p + 1 < end) p++;
  return p < end ? p + 1 : end;
}

void gen_find_markers(gen_input *in) {
  const char *p = in->text, *end = in->text + in->text_len;
  while (p < end) {
    if (*p == '"' || *p == '\'') {
      p = skip_literal(p, end, *p);
    } else if (p + 1 < end && p[0] == '/' && p[1] == '/') {
      const char *e = memchr(p, '\n', (size_t)(end - p));
      if (e == NULL) e = end;
      uintptr_t opts;
      if (is_marker(p + 2, e, &opts)) add_marker(in, e, opts);
      p = e;
    } else if (p + 1 < end && p[0] == '/' && p[1] == '*') {
      const char *e = p + 2;
      while (e + 1 < end && !(e[0] == '*' && e[1] == '/')) e++;
      const char *close = e + 1 < end ? e + 2 : end;
      uintptr_t opts;
      if (is_marker(p + 2, e, &opts)) add_marker(in, close, opts);
      p = close;
    } else {
      p++;
    }
  }
}
