#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

static int mkdirs_for(const char *path) {
  char *dir = gen_strdup(path);
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
      gen_error_plain("cannot create directory '%s': %s", dir, strerror(errno));
      return -1;
    }
    *p = '/';
  }
  return 0;
}

static const char *temp_name(const char *path) {
  return gen_printf("%s.tmp%ld", path, (long)getpid());
}

static int write_one(const char *path, const gen_sbuf *text) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    gen_error_plain("cannot write '%s': %s", path, strerror(errno));
    return -1;
  }
  size_t n = text->len;
  bool ok = (n == 0 || fwrite(text->data, 1, n, f) == n);
  ok = (fclose(f) == 0) && ok;
  if (!ok) gen_error_plain("cannot write '%s'", path);
  return ok ? 0 : -1;
}

static void remove_temps(gen_file *files, size_t n) {
  for (size_t i = 0; i < n; i++) remove(temp_name(files[i].path));
}

int gen_write_all(gen_file *files, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (mkdirs_for(files[i].path) != 0 ||
        write_one(temp_name(files[i].path), &files[i].text) != 0) {
      remove_temps(files, i + 1);
      return -1;
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (rename(temp_name(files[i].path), files[i].path) != 0) {
      gen_error_plain("cannot rename into '%s': %s", files[i].path,
                      strerror(errno));
      remove_temps(files, n);
      return -1;
    }
  }
  return 0;
}

static void put_escaped(gen_sbuf *b, const char *path) {
  sb_puts(b, " \\\n  ");
  for (const char *p = path; *p; p++) {
    if (*p == ' ' || *p == '#') sb_puts(b, "\\");
    if (*p == '$') sb_puts(b, "$");
    sb_printf(b, "%c", *p);
  }
}

static bool listed(const gen_vec *seen, const char *path) {
  for (size_t i = 0; i < seen->len; i++)
    if (strcmp(seen->items[i], path) == 0) return true;
  return false;
}

int gen_write_depfile(const char *path, const char *target,
                      const gen_vec *inputs) {
  gen_file f = {path, {0}};
  gen_vec seen = {0};
  sb_puts(&f.text, target);
  sb_puts(&f.text, ":");
  for (size_t i = 0; i < inputs->len; i++) {
    const gen_input *in = inputs->items[i];
    if (!listed(&seen, in->path)) gen_vec_push(&seen, (void *)in->path);
    for (size_t j = 0; j < in->deps.len; j++)
      if (!listed(&seen, in->deps.items[j]))
        gen_vec_push(&seen, in->deps.items[j]);
  }
  for (size_t i = 0; i < seen.len; i++) put_escaped(&f.text, seen.items[i]);
  sb_puts(&f.text, "\n");
  int rc = gen_write_all(&f, 1);
  sb_free(&f.text);
  return rc;
}
