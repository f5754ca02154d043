/* Writes the seed corpora of the fuzz targets from the real encoders:
 *
 *   fuzz_seeds CORPUS_DIR APPENDIX_A_JSON GEN_FIXTURES_DIR GEN_ERRORS_DIR
 *
 *   CORPUS_DIR/codec/     the RFC 8949 Appendix A vectors, and the message
 *                         bodies below whole
 *   CORPUS_DIR/dispatch/  for every method of fixtures/fuzz_actors.h, the
 *                         arguments its generated proxy encodes (captured by
 *                         a test-kit probe), behind the 3-byte prefix
 *                         fuzz_dispatch reads, in several modes
 *   CORPUS_DIR/gen/       the generator's fixtures (valid headers) and error
 *                         headers (each broken in one way), and a few more
 *
 * The output is checked in; rerun after changing the fixtures
 * (cmake --build build-fuzz --target fuzz-seeds). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <backstage.h>
#include <backstage/testkit.h>

#include "fuzz_actors.bs.h"
#include "shapes.bs.h"
#include "types.bs.h"

static const char *root;

static void write_file(const char *sub, const char *name, const void *p,
                       size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, sub);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/%s", root, sub, name);
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(p, 1, n, f) != n)) {
    perror(path);
    exit(1);
  }
  fclose(f);
}

static char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)len + 1);
  if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) exit(1);
  buf[len] = 0;
  fclose(f);
  *n = (size_t)len;
  return buf;
}

/* ---- codec: Appendix A ------------------------------------------------------- */

static void appendix_a(const char *json_path) {
  size_t n;
  char *text = read_all(json_path, &n);
  cJSON *all = cJSON_Parse(text);
  if (!all) exit(1);
  int i = 0;
  cJSON *v;
  cJSON_ArrayForEach(v, all) {
    const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(v, "hex"));
    if (!hex) continue;
    uint8_t bytes[512];
    size_t len = strlen(hex) / 2;
    if (len > sizeof bytes) continue;
    for (size_t k = 0; k < len; k++) {
      unsigned b;
      sscanf(hex + 2 * k, "%2x", &b);
      bytes[k] = (uint8_t)b;
    }
    char name[64];
    snprintf(name, sizeof name, "appendix_a_%02d", i++);
    write_file("codec", name, bytes, len);
  }
  cJSON_Delete(all);
  free(text);
}

/* ---- dispatch: arguments from the generated proxies ---------------------------- */

static const Point pts[3] = {{1, -2}, {300, -40000}, {INT32_MAX, INT32_MIN}};
static const Point extra[2] = {{7, 8}, {-9, 10}};

static Polygon make_polygon(const char *name) {
  Polygon p;
  memset(&p, 0, sizeof p);
  p.name = name;
  p.color = COLOR_BLUE;
  memcpy(p.corners, pts, sizeof p.corners);
  p.extra = extra;
  p.extra_count = 2;
  p.weights[0][1] = 0.5;
  p.weights[1][0] = -1e300;
  return p;
}

static Polygon polys[2];
static const char *const tags[3] = {"red", "", "a longer tag"};
static const uint8_t thumb[5] = {0, 1, 2, 0xfe, 0xff};

static struct Scene make_scene(void) {
  struct Scene s;
  memset(&s, 0, sizeof s);
  polys[0] = make_polygon("first");
  polys[1] = make_polygon(NULL);
  s.polygons = polys;
  s.polygon_count = 2;
  s.highlight = &polys[0];
  s.origin = &pts[1];
  s.thumbnail.data = thumb;
  s.thumbnail.len = sizeof thumb;
  s.id[0] = 1;
  s.id[15] = 0xff;
  s.tags = tags;
  s.tag_count = 3;
  return s;
}

static const uint64_t numbers[4] = {0, 23, 24, UINT64_MAX};

static AllTypes make_all(void) {
  AllTypes a;
  memset(&a, 0, sizeof a);
  a.i8 = -128;
  a.i16 = 1000;
  a.i32 = -70000;
  a.i64 = INT64_MIN;
  a.u8 = 255;
  a.u16 = 65535;
  a.u32 = 4000000000u;
  a.u64 = UINT64_MAX;
  a.c = 'x';
  a.l = -5;
  a.ull = 1ull << 40;
  a.size = 12345;
  a.flag = true;
  a.f = 1.5f;
  a.d = -0.0;
  a.level = LEVEL_LOW;
  a.flags = FLAG_B;
  a.color = COLOR_GREEN;
  a.text = "text";
  strcpy(a.fixed_text, "fixed");
  a.digest[7] = 9;
  a.blob.data = thumb;
  a.blob.len = 3;
  a.raw = thumb;
  a.raw_len = 5;
  a.grid[1][2] = -3;
  a.corner = pts[0];
  a.shapes[0] = make_polygon("s0");
  a.more = polys;
  a.more_count = 2;
  a.numbers = numbers;
  a.numbers_count = 4;
  a.optional = &pts[2];
  return a;
}

static int seed_count;

/* Writes [flags][sel][fail][extras][payload] */
static void dispatch_seed_x(const char *what, uint8_t flags, uint8_t sel,
                            uint8_t fail, uint8_t extras, const uint8_t *p,
                            size_t n) {
  uint8_t *buf = malloc(n + 4);
  buf[0] = flags;
  buf[1] = sel;
  buf[2] = fail;
  buf[3] = extras;
  if (n) memcpy(buf + 4, p, n);
  char name[128];
  snprintf(name, sizeof name, "%03d_%s_%02x%02x", seed_count++, what, flags,
           extras);
  write_file("dispatch", name, buf, n + 4);
  free(buf);
}

static void dispatch_seed(const char *what, uint8_t flags, uint8_t sel,
                          uint8_t fail, const uint8_t *p, size_t n) {
  dispatch_seed_x(what, flags, sel, fail, 0, p, n);
}

static void dispatch_seeds(void) {
  bs_engine *e;
  if (bs_engine_new(&e, NULL) < 0) exit(1);
  bs_probe *probe;
  if (bs_probe_new(e, &Target_actor_type, "target", &probe) < 0) exit(1);
  TargetProxy t;
  TargetProxy_get(e, "target", &t);

  polys[0] = make_polygon("first");
  polys[1] = make_polygon(NULL);
  struct Scene scene = make_scene();
  AllTypes all = make_all();
  Polygon poly = make_polygon("poly");
  const int32_t values[3] = {1, -1, 1 << 20};
  const char *const names[2] = {"alpha", "beta"};
  const int16_t m[2][3] = {{1, 2, 3}, {-4, -5, -6}};
  const double w[2][2] = {{0.25, 1e-300}, {-2.0, 3.5}};
  const uint8_t dg[4] = {1, 2, 3, 4};
  const int64_t sums[3] = {1, 2, INT64_MAX};
  bs_bytes blob = {thumb, sizeof thumb};

  TargetProxy_integers(t, -1, -300, 70000, INT64_MIN, 200, 60000, 4000000000u,
                       UINT64_MAX);
  TargetProxy_scalars(t, true, 0.1f, 1e100, COLOR_BLUE, LEVEL_HIGH);
  TargetProxy_text(t, "hello", NULL, "label");
  TargetProxy_bytes(t, blob, "data", 4, dg);
  TargetProxy_arrays(t, values, 3, pts, 3, names, 2);
  TargetProxy_matrix(t, m, w);
  TargetProxy_structs(t, pts[0], &poly, scene);
  TargetProxy_structs(t, pts[1], NULL, scene);
  TargetProxy_all(t, &all);
  TargetProxy_polygon(t, poly);
  TargetProxy_note(t, "note");
  TargetProxy_fail(t, -5);
  TargetProxy_echo(t, all, NULL, NULL);
  TargetProxy_scene(t, scene, NULL, NULL);
  TargetProxy_maybe(t, &poly, NULL, NULL);
  TargetProxy_maybe(t, NULL, NULL, NULL);
  TargetProxy_sum(t, sums, 3, NULL, NULL);
  TargetProxy_blob(t, blob, NULL, NULL);
  TargetProxy_name(t, "name", NULL, NULL);

  bs_probed pm;
  while (bs_probe_next(probe, &pm) == 1) {
    const uint8_t *args = pm.args.p;
    size_t n = (size_t)(pm.args.end - pm.args.p);
    const bs_method *meth = NULL;
    uint8_t sel = 0;
    for (size_t i = 0; i < Target_actor_type.method_count; i++)
      if (Target_actor_type.methods[i].id == pm.method_id) {
        meth = &Target_actor_type.methods[i];
        sel = (uint8_t)i;
      }
    if (!meth) exit(1);
    char cname[128];
    snprintf(cname, sizeof cname, "args_%02d_%s", seed_count, meth->name);
    write_file("codec", cname, args, n); /* args alone are CBOR too */
    dispatch_seed(meth->name, pm.request ? 3 : 0, sel, 0, args, n);
    /* The other modes for a few methods with deep arguments. */
    bool deep = strcmp(meth->name, "echo") == 0 ||
                strcmp(meth->name, "structs") == 0 ||
                strcmp(meth->name, "all") == 0 ||
                strcmp(meth->name, "arrays") == 0;
    if (!deep) continue;
    if (pm.request) dispatch_seed(meth->name, 4, sel, 0, args, n);
    /* The whole body, header included (kind 6). */
    uint8_t body[4096];
    bs_writer bw;
    bs_writer_init(&bw, body, sizeof body);
    bs_write_array(&bw, 1u + meth->argc);
    bs_write_uint(&bw, meth->id);
    bs_write_raw(&bw, args, n);
    if (bw.err == 0) dispatch_seed(meth->name, 6, sel, 0, body, bw.len);
    /* The arguments as a stream element, for one-parameter methods. */
    if (meth->argc == 1) dispatch_seed(meth->name, 7, 0x0f, 0, args, n);
    /* Bounded, dead-letter, stop, restart, allocation failure. */
    uint8_t k = pm.request ? 3 : 0;
    dispatch_seed(meth->name, (uint8_t)(0x08 | k), sel, 0, args, n);
    dispatch_seed(meth->name, (uint8_t)(0x18 | k), sel, 0, args, n);
    dispatch_seed(meth->name, 0x20, (uint8_t)(sel | 1), 0, args, n);
    dispatch_seed(meth->name, 0x40, sel, 0, args, n);
    dispatch_seed(meth->name, (uint8_t)(0x80 | k), sel, 3, args, n);
    /* A probe, a retrying dead-letter hook, a seeded schedule. */
    dispatch_seed_x(meth->name, k, sel, 0, 0x01, args, n);
    dispatch_seed_x(meth->name, 0x20, (uint8_t)(sel | 1), 0, 0x02, args, n);
    dispatch_seed_x(meth->name, (uint8_t)(0x08 | k), sel, 0, 0x07, args, n);
  }
  /* Unknown methods and broken headers. */
  static const uint8_t unknown[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
  dispatch_seed("unknown", 5, 1, 0, unknown, sizeof unknown);
  static const uint8_t notarray[] = {0xa1, 0x01, 0x02};
  dispatch_seed("not_an_array", 6, 0, 0, notarray, sizeof notarray);
  bs_probe_free(probe);
  bs_engine_free(e);
}

/* ---- gen: headers ------------------------------------------------------------- */

static int copy_headers(const char *from, const char *prefix) {
  DIR *d = opendir(from);
  if (!d) {
    perror(from);
    exit(1);
  }
  struct dirent *ent;
  int n = 0;
  while ((ent = readdir(d)) != NULL) {
    size_t len = strlen(ent->d_name);
    if (len < 3 || strcmp(ent->d_name + len - 2, ".h") != 0) continue;
    char path[1024], name[300];
    snprintf(path, sizeof path, "%s/%s", from, ent->d_name);
    size_t size;
    char *text = read_all(path, &size);
    snprintf(name, sizeof name, "%s_%s", prefix, ent->d_name);
    write_file("gen", name, text, size);
    free(text);
    n++;
  }
  closedir(d);
  return n;
}

static void gen_seeds(const char *fixtures, const char *errors) {
  copy_headers(fixtures, "fixture");
  copy_headers(errors, "error");
  static const char *const extra_headers[][2] = {
      {"tiny.h", "#include <backstage.h>\n// @generate-proxy\ntypedef struct A "
                 "{ int x; } A;\nint A_init(A *self, bs_context *ctx);\nvoid "
                 "A_deinit(A *self);\nint A_go(A *self, int32_t v);\n"},
      {"no_marker.h", "#include <stdint.h>\ntypedef struct B { int x; } B;\n"},
      {"marker_eof.h", "// @generate-proxy"},
      {"unterminated.h", "/* @generate-proxy\nstruct C { int x; };\n"},
      {"struct_args.h",
       "#include <backstage.h>\ntypedef struct P { const char *s; "
       "BS_ARRAY(uint16_t, v); uint8_t id[3]; } P;\n/* @generate-proxy */\n"
       "struct D { bs_context *ctx; };\ntypedef struct D D;\nint "
       "D_init(D *self, bs_context *ctx);\nvoid D_deinit(D *self);\nP "
       "D_get(D *self, const P *in, P copy);\nvoid D_put(const D *self, "
       "const P *items, size_t n);\n"},
  };
  for (size_t i = 0; i < sizeof extra_headers / sizeof extra_headers[0]; i++)
    write_file("gen", extra_headers[i][0], extra_headers[i][1],
               strlen(extra_headers[i][1]));
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR APPENDIX_A_JSON "
                    "GEN_FIXTURES_DIR GEN_ERRORS_DIR\n");
    return 2;
  }
  root = argv[1];
  mkdir(root, 0755);
  appendix_a(argv[2]);
  dispatch_seeds();
  gen_seeds(argv[3], argv[4]);
  printf("fuzz_seeds: wrote %d dispatch seeds and the codec and gen corpora "
         "under %s\n", seed_count, root);
  return 0;
}
