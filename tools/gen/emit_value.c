/* Encoding and decoding one value, recursively. The generated code is
 * straight-line: no tables, no function pointers, so a debugger steps
 * through it field by field. */
#include <stdarg.h>
#include <string.h>

#include "emit.h"

static const char *join_decl(const char *spelling, const char *name) {
  size_t n = strlen(spelling);
  return gen_printf("%s%s%s", spelling,
                    n && spelling[n - 1] == '*' ? "" : " ", name);
}

const char *emit_decl(const gen_type *t, const char *name) {
  if (t->kind == GEN_ARRAY || t->kind == GEN_CHARBUF ||
      t->kind == GEN_FIXBYTES)
    return emit_decl(t->elem, gen_printf("%s[%llu]", name, t->len));
  return join_decl(t->spelling, name);
}

bool emit_is_pair(const gen_type *t) {
  return t->kind == GEN_DYNARRAY || t->kind == GEN_BYTEPAIR;
}

bool emit_has_pointers(const gen_type *t) {
  switch (t->kind) {
  case GEN_CSTR:
  case GEN_BYTES:
  case GEN_BYTEPAIR:
  case GEN_BLOB:
  case GEN_DYNARRAY:
  case GEN_STRUCT_REF: return true;
  case GEN_ARRAY: return emit_has_pointers(t->elem);
  case GEN_STRUCT:
    for (size_t i = 0; i < t->st->fields.len; i++)
      if (emit_has_pointers(((gen_field *)t->st->fields.items[i])->type))
        return true;
    return false;
  default: return false;
  }
}

bool emit_holds_blob(const gen_type *t) {
  switch (t->kind) {
  case GEN_BLOB: return true;
  case GEN_ARRAY:
  case GEN_DYNARRAY: return emit_holds_blob(t->elem);
  case GEN_STRUCT:
  case GEN_STRUCT_REF:
    for (size_t i = 0; i < t->st->fields.len; i++)
      if (emit_holds_blob(((gen_field *)t->st->fields.items[i])->type)) return true;
    return false;
  default: return false;
  }
}

bool emit_await_arena(const gen_type *ret) {
  return ret->kind != GEN_BLOB && emit_has_pointers(ret);
}

static void line(gen_sbuf *b, int ind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void line(gen_sbuf *b, int ind, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  sb_indent(b, ind);
  sb_vprintf(b, fmt, ap);
  va_end(ap);
  sb_puts(b, "\n");
}

/* ---- Encoding ------------------------------------------------------------- */

/* `named`: structs go through S__encode_named (text keys, for actor state
 * encoders) instead of S__encode (the wire's hashed keys). Nothing else
 * differs. */
static void encode(gen_sbuf *b, const gen_type *t, const char *w,
                   const char *expr, const char *count, int depth, int ind,
                   bool named);

static void encode_loop(gen_sbuf *b, const gen_type *elem, const char *w,
                        const char *expr, const char *n, int depth, int ind,
                        bool named) {
  line(b, ind, "bs_write_array(%s, %s);", w, n);
  line(b, ind, "for (size_t i%d = 0; i%d < %s; i%d++) {", depth, depth, n,
       depth);
  encode(b, elem, w, gen_printf("%s[i%d]", expr, depth), NULL, depth + 1,
         ind + 1, named);
  line(b, ind, "}");
}

static const char *struct_encoder(const gen_type *t, bool named) {
  return gen_printf("%s__encode%s", t->st->name, named ? "_named" : "");
}

static void encode_struct_ref(gen_sbuf *b, const gen_type *t, const char *w,
                              const char *expr, int ind, bool named) {
  line(b, ind, "if (%s != NULL)", expr);
  line(b, ind + 1, "%s(%s, %s);", struct_encoder(t, named), w, expr);
  line(b, ind, "else");
  line(b, ind + 1, "bs_write_null(%s);", w);
}

/* A case label for an enumerator's value (INT64_MIN has no literal). */
static const char *enum_label(const gen_type *t, const gen_enumerator *k) {
  if (!t->is_signed) return gen_printf("%lluu", k->uvalue);
  if (k->value == INT64_MIN) return "INT64_MIN";
  return gen_printf("%lld", k->value);
}

/* The inspector's view of an enum: its enumerator's name as text when the
 * value has one, the number otherwise. Case labels are numbers (the names
 * are in comments), so an enumerator named like a local still works. */
static void encode_enum_named(gen_sbuf *b, const gen_type *t, const char *w,
                              const char *expr, int ind) {
  const char *as = t->is_signed ? "int64_t" : "uint64_t";
  line(b, ind, "switch ((%s)%s) {", as, expr);
  for (size_t i = 0; i < t->enumerators.len; i++) {
    const gen_enumerator *k = t->enumerators.items[i];
    line(b, ind, "case %s: /* %s */", enum_label(t, k), k->name);
    line(b, ind + 1, "bs_write_cstr(%s, \"%s\");", w, k->name);
    line(b, ind + 1, "break;");
  }
  line(b, ind, "default:");
  line(b, ind + 1, "bs_write_%s(%s, (%s)%s);", t->is_signed ? "int" : "uint",
       w, as, expr);
  line(b, ind + 1, "break;");
  line(b, ind, "}");
}

void emit_encode(gen_sbuf *b, const gen_type *t, const char *w,
                 const char *expr, const char *count, int depth, int ind) {
  encode(b, t, w, expr, count, depth, ind, false);
}

void emit_encode_named(gen_sbuf *b, const gen_type *t, const char *w,
                       const char *expr, const char *count, int depth,
                       int ind) {
  encode(b, t, w, expr, count, depth, ind, true);
}

static void encode(gen_sbuf *b, const gen_type *t, const char *w,
                   const char *expr, const char *count, int depth, int ind,
                   bool named) {
  switch (t->kind) {
  case GEN_INT: line(b, ind, "bs_write_int(%s, (int64_t)%s);", w, expr); break;
  case GEN_UINT:
    line(b, ind, "bs_write_uint(%s, (uint64_t)%s);", w, expr);
    break;
  case GEN_ENUM:
    if (named && t->enumerators.len > 0)
      encode_enum_named(b, t, w, expr, ind);
    else if (t->is_signed)
      line(b, ind, "bs_write_int(%s, (int64_t)%s);", w, expr);
    else
      line(b, ind, "bs_write_uint(%s, (uint64_t)%s);", w, expr);
    break;
  case GEN_BOOL: line(b, ind, "bs_write_bool(%s, %s);", w, expr); break;
  case GEN_FLOAT: line(b, ind, "bs_write_float(%s, %s);", w, expr); break;
  case GEN_DOUBLE: line(b, ind, "bs_write_double(%s, %s);", w, expr); break;
  case GEN_CSTR: line(b, ind, "bs_write_cstr(%s, %s);", w, expr); break;
  case GEN_CHARBUF:
    line(b, ind, "bs_gen_write_charbuf(%s, %s, %llu);", w, expr, t->len);
    break;
  case GEN_FIXBYTES:
    line(b, ind, "bs_write_bytes(%s, %s, %llu);", w, expr, t->len);
    break;
  case GEN_BYTES:
    line(b, ind, "bs_write_bytes(%s, %s.data, %s.len);", w, expr, expr);
    break;
  case GEN_BYTEPAIR:
    line(b, ind, "bs_write_bytes(%s, %s, %s);", w, expr, count);
    break;
  case GEN_BLOB: line(b, ind, "bs_write_blob(%s, %s);", w, expr); break;
  case GEN_STRUCT:
    line(b, ind, "%s(%s, &%s);", struct_encoder(t, named), w, expr);
    break;
  case GEN_STRUCT_REF: encode_struct_ref(b, t, w, expr, ind, named); break;
  case GEN_ARRAY:
    encode_loop(b, t->elem, w, expr, gen_printf("%lluu", t->len), depth, ind,
                named);
    break;
  case GEN_DYNARRAY:
    encode_loop(b, t->elem, w, expr, count, depth, ind, named);
    break;
  }
}

/* ---- Decoding ------------------------------------------------------------- */

static void decode_int(gen_sbuf *b, const gen_type *t, const char *r,
                       const char *lv, bool is_signed, int ind) {
  if (is_signed)
    line(b, ind, "%s = (%s)bs_gen_read_int(%s, INT%u_MIN, INT%u_MAX);", lv,
         t->spelling, r, t->bits, t->bits);
  else
    line(b, ind, "%s = (%s)bs_gen_read_uint(%s, UINT%u_MAX);", lv,
         t->spelling, r, t->bits);
}

/* A fixed array takes what arrives: missing elements stay zero, extra
 * ones are skipped, so the array may grow or shrink between versions. */
static void decode_array(gen_sbuf *b, const gen_type *t, const char *r,
                         const char *lv, int depth, int ind) {
  line(b, ind, "{");
  line(b, ind + 1, "uint64_t n%d = 0, i%d;", depth, depth);
  line(b, ind + 1, "memset(&%s, 0, sizeof %s);", lv, lv);
  line(b, ind + 1, "bs_read_array(%s, &n%d);", r, depth);
  line(b, ind + 1, "for (i%d = 0; i%d < n%d && %s->err == 0; i%d++) {", depth,
       depth, depth, r, depth);
  line(b, ind + 2, "if (i%d < %lluu) {", depth, t->len);
  emit_decode(b, t->elem, r, gen_printf("%s[i%d]", lv, depth), NULL,
              depth + 1, ind + 3);
  line(b, ind + 2, "} else {");
  line(b, ind + 3, "bs_read_skip(%s);", r);
  line(b, ind + 2, "}");
  line(b, ind + 1, "}");
  line(b, ind, "}");
}

static void decode_dynarray(gen_sbuf *b, const gen_type *t, const char *r,
                            const char *lv, const char *count, int depth,
                            int ind) {
  const char *es = t->elem->spelling;
  line(b, ind, "{");
  line(b, ind + 1, "size_t n%d = 0, i%d;", depth, depth);
  line(b, ind + 1, "%s = bs_gen_read_array(%s, &n%d, sizeof(%s), _Alignof(%s));",
       join_decl(es, gen_printf("*t%d", depth)), r, depth, es, es);
  line(b, ind + 1, "for (i%d = 0; i%d < n%d && %s->err == 0; i%d++) {", depth,
       depth, depth, r, depth);
  emit_decode(b, t->elem, r, gen_printf("t%d[i%d]", depth, depth), NULL,
              depth + 1, ind + 2);
  line(b, ind + 1, "}");
  line(b, ind + 1, "%s = t%d;", lv, depth);
  line(b, ind + 1, "%s = n%d;", count, depth);
  line(b, ind, "}");
}

static void decode_bytepair(gen_sbuf *b, const char *r, const char *lv,
                            const char *count, int depth, int ind) {
  line(b, ind, "{");
  line(b, ind + 1, "const void *p%d = NULL;", depth);
  line(b, ind + 1, "size_t n%d = 0;", depth);
  line(b, ind + 1, "bs_read_bytes(%s, &p%d, &n%d);", r, depth, depth);
  line(b, ind + 1, "%s = p%d;", lv, depth);
  line(b, ind + 1, "%s = n%d;", count, depth);
  line(b, ind, "}");
}

static void decode_struct_ref(gen_sbuf *b, const gen_type *t, const char *r,
                              const char *lv, int depth, int ind) {
  const char *s = t->st->spelling;
  line(b, ind, "{");
  line(b, ind + 1, "%s *t%d = bs_gen_read_ref(%s, sizeof(%s), _Alignof(%s));",
       s, depth, r, s, s);
  line(b, ind + 1, "if (t%d != NULL)", depth);
  line(b, ind + 2, "%s__decode(%s, t%d);", t->st->name, r, depth);
  line(b, ind + 1, "%s = t%d;", lv, depth);
  line(b, ind, "}");
}

void emit_decode(gen_sbuf *b, const gen_type *t, const char *r,
                 const char *lv, const char *count, int depth, int ind) {
  switch (t->kind) {
  case GEN_INT: decode_int(b, t, r, lv, true, ind); break;
  case GEN_UINT: decode_int(b, t, r, lv, false, ind); break;
  case GEN_ENUM: decode_int(b, t, r, lv, t->is_signed, ind); break;
  case GEN_BOOL: line(b, ind, "bs_read_bool(%s, &%s);", r, lv); break;
  case GEN_FLOAT: line(b, ind, "bs_read_float(%s, &%s);", r, lv); break;
  case GEN_DOUBLE: line(b, ind, "bs_read_double(%s, &%s);", r, lv); break;
  case GEN_CSTR: line(b, ind, "bs_read_cstr(%s, &%s);", r, lv); break;
  case GEN_CHARBUF:
    line(b, ind, "bs_gen_read_charbuf(%s, %s, %llu);", r, lv, t->len);
    break;
  case GEN_FIXBYTES:
    line(b, ind, "bs_gen_read_fixbytes(%s, %s, %llu);", r, lv, t->len);
    break;
  case GEN_BYTES:
    line(b, ind, "bs_read_bytes(%s, &%s.data, &%s.len);", r, lv, lv);
    break;
  case GEN_BYTEPAIR: decode_bytepair(b, r, lv, count, depth, ind); break;
  case GEN_BLOB: line(b, ind, "bs_read_blob(%s, &%s);", r, lv); break;
  case GEN_STRUCT:
    line(b, ind, "%s__decode(%s, &%s);", t->st->name, r, lv);
    break;
  case GEN_STRUCT_REF: decode_struct_ref(b, t, r, lv, depth, ind); break;
  case GEN_ARRAY: decode_array(b, t, r, lv, depth, ind); break;
  case GEN_DYNARRAY: decode_dynarray(b, t, r, lv, count, depth, ind); break;
  }
}

void emit_arg_local(gen_sbuf *b, const gen_type *t, const char *name, int ind) {
  if (t->kind == GEN_STRUCT || t->kind == GEN_ARRAY) {
    /* Zeroed by its decoder before anything else (S__decode, the fixed
     * array loop), which always runs: a memset here would double the cost
     * of a large one. */
    line(b, ind, "%s;", emit_decl(t, name));
    return;
  }
  emit_local(b, t, name, ind);
}

void emit_local(gen_sbuf *b, const gen_type *t, const char *name, int ind) {
  switch (t->kind) {
  case GEN_CSTR:
  case GEN_STRUCT_REF:
  case GEN_BYTEPAIR:
  case GEN_DYNARRAY:
  case GEN_BLOB:
    line(b, ind, "%s = NULL;", emit_decl(t, name));
    if (emit_is_pair(t)) line(b, ind, "size_t %s_n = 0;", name);
    break;
  case GEN_BOOL: line(b, ind, "bool %s = false;", name); break;
  case GEN_BYTES:
  case GEN_STRUCT:
  case GEN_ARRAY:
  case GEN_CHARBUF:
  case GEN_FIXBYTES:
    line(b, ind, "%s;", emit_decl(t, name));
    line(b, ind, "memset(&%s, 0, sizeof %s);", name, name);
    break;
  default: line(b, ind, "%s = 0;", emit_decl(t, name)); break;
  }
}
