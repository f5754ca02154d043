/* Streams (include/backstage/stream.h): every struct whose codec is
 * generated is also a stream element type, and so are arrays of it
 * (S_array); every method whose single parameter has an element type, or
 * whose parameters are one dynamic array of an element type, gets a
 * subscriber helper, which is what bs_subscriber("id", TProxy_method)
 * expands to. The helper's return type names the element type, so
 * subscribing it to a stream of another type does not compile. */
#include <string.h>

#include "emit.h"

/* The library's own element tokens (BS_BUILTIN_STREAM_TYPES): a struct of
 * one of these names cannot be an element type, its bs_stream_<name> and
 * bs_elem_<name> would clash with the library's. */
static const char *const BUILTIN_TOKENS[] = {
    "cstr", "bytes", "blob", "boolean", "i8", "i16", "i32", "i64",
    "u8", "u16", "u32", "u64", "float", "double", NULL};

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Neither may a struct named like an array token (`i64_array`, and
 * `Point_array`, the array of a struct Point, maybe from another run of
 * the generator): no struct whose name ends in _array is an element type. */
const char *emit_struct_token(const gen_struct *st) {
  for (const char *const *b = BUILTIN_TOKENS; *b; b++)
    if (strcmp(st->name, *b) == 0) return NULL;
  if (ends_with(st->name, "_array")) return NULL;
  return st->name;
}

static const char *int_token(char sign, unsigned bits) {
  if (bits != 8 && bits != 16 && bits != 32 && bits != 64) return NULL;
  return gen_printf("%c%u", sign, bits);
}

/* By the canonical type: `int` is i32, `size_t` u64 (on LP64), `char` i8
 * or u8 as the target's char is signed or not. */
static const char *elem_token(const gen_type *t) {
  switch (t->kind) {
  case GEN_INT: return int_token('i', t->bits);
  case GEN_UINT: return int_token('u', t->bits);
  case GEN_BOOL: return "boolean";
  case GEN_FLOAT: return "float";
  case GEN_DOUBLE: return "double";
  case GEN_CSTR: return "cstr";
  case GEN_BYTES: return "bytes";
  case GEN_BLOB: return "blob";
  case GEN_STRUCT:
  case GEN_STRUCT_REF: return emit_struct_token(t->st);
  default: return NULL; /* enums, fixed arrays, pointer + length pairs */
  }
}

/* A dynamic array `const T *items, size_t count` is T_array when T has a
 * token and the library or the generator defines arrays of it: not for
 * uint8_t (`const uint8_t *` + size_t is a byte buffer, never an array of
 * u8), nor for arrays of pointers to structs (`const S *const *`). */
static const char *array_token(const gen_type *elem) {
  if (elem->kind == GEN_STRUCT_REF) return NULL;
  if (elem->kind == GEN_UINT && elem->bits == 8) return NULL;
  const char *tok = elem_token(elem);
  return tok ? gen_printf("%s_array", tok) : NULL;
}

/* One parameter of a type with a token; or one pointer + length pair: a
 * dynamic array (T_array) or a byte buffer (bytes, as bs_bytes: both are
 * one CBOR byte string). */
const char *emit_method_token(const gen_method *m) {
  if (m->params.len != 1) return NULL;
  const gen_param *p = m->params.items[0];
  if (p->type->kind == GEN_DYNARRAY) return array_token(p->type->elem);
  if (p->type->kind == GEN_BYTEPAIR) return "bytes";
  return p->count_name ? NULL : elem_token(p->type);
}

/* ---- Struct element types ---------------------------------------------------- */

void emit_struct_stream_decl(gen_sbuf *h, const gen_struct *st) {
  const char *tok = emit_struct_token(st);
  if (tok == NULL) {
    if (ends_with(st->name, "_array"))
      sb_printf(h, "/* %s is not a stream element type: '%s' ends in _array, "
                "like array\n * element tokens. */\n\n", st->spelling,
                st->name);
    else
      sb_printf(h, "/* %s is not a stream element type: '%s' is a built-in "
                "element token. */\n\n", st->spelling, st->name);
    return;
  }
  sb_printf(h,
            "/* %s as a stream element (bs_stream_%s, bs_subscriber_%s):\n"
            " * bs_stream_next takes a const %s *, encoded by %s__encode;\n"
            " * NULL does not encode (BS_EINVAL, when there are subscribers). "
            "*/\n",
            st->spelling, tok, tok, st->spelling, st->name);
  sb_printf(h, "BS_DECLARE_STREAM_TYPE(%s, const %s *)\n\n", tok, st->spelling);
  sb_printf(h,
            "/* Arrays of %s as stream elements (bs_stream_%s_array,\n"
            " * bs_subscriber_%s_array): bs_stream_next takes a "
            "bs_array_%s\n"
            " * {items, count}, encoded as one CBOR array of %s__encode "
            "maps, like\n"
            " * a `const %s *items, size_t count` parameter. */\n",
            st->spelling, tok, tok, tok, st->name, st->spelling);
  sb_printf(h, "BS_DECLARE_STREAM_ARRAY_TYPE(%s, %s)\n\n", tok, st->spelling);
}

void emit_struct_stream_impl(gen_sbuf *c, const gen_struct *st) {
  const char *tok = emit_struct_token(st);
  if (tok == NULL) return;
  sb_printf(c, "/* `value` is the address of the const %s * given to\n"
            " * bs_stream_next. */\n", st->spelling);
  sb_printf(c, "static int %s__encode_elem(bs_writer *w, const void *value) "
            "{\n", st->name);
  sb_printf(c, "  const %s *v = *(const %s *const *)value;\n", st->spelling,
            st->spelling);
  sb_puts(c, "  if (v == NULL) return BS_EINVAL;\n");
  sb_printf(c, "  return %s__encode(w, v);\n}\n\n", st->name);
  sb_printf(c, "const bs_elem_type bs_elem_%s = {\"%s\", %s__encode_elem};\n",
            tok, tok, st->name);
  sb_printf(c, "BS_IMPLEMENT_STREAM_TYPE(%s, const %s *)\n\n", tok,
            st->spelling);

  sb_printf(c, "/* `value` is the address of the bs_array_%s given to\n"
            " * bs_stream_next. */\n", tok);
  sb_printf(c, "static int %s__encode_array_elem(bs_writer *w, "
            "const void *value) {\n", st->name);
  sb_printf(c, "  const bs_array_%s *v = value;\n", tok);
  sb_puts(c, "  if (v->items == NULL && v->count != 0) return BS_EINVAL;\n");
  sb_puts(c, "  bs_write_array(w, v->count);\n");
  sb_puts(c, "  for (size_t i = 0; i < v->count && w->err == 0; i++)\n");
  sb_printf(c, "    %s__encode(w, &v->items[i]);\n", st->name);
  sb_puts(c, "  return w->err;\n}\n\n");
  sb_printf(c, "const bs_elem_type bs_elem_%s_array = {\"%s_array\", "
            "%s__encode_array_elem};\n", tok, tok, st->name);
  sb_printf(c, "BS_IMPLEMENT_STREAM_ARRAY_TYPE(%s)\n\n", tok);
}

/* ---- Subscriber helpers ----------------------------------------------------- */

void emit_subscriber(gen_sbuf *h, const gen_actor *a, const gen_method *m) {
  const char *tok = m->elem_token;
  sb_printf(h, "/* %s as a subscriber of %s streams:\n"
            " *   bs_stream_subscribe(stream, bs_subscriber(\"id\", "
            "%sProxy_%s));%s */\n",
            m->cname, tok, a->name, m->name,
            m->request ? "\n * Elements are not requests: the return value "
                         "is dropped."
                       : "");
  sb_printf(h, "static inline bs_subscriber_%s %sProxy_%s__subscriber("
            "const char *actor_id) {\n", tok, a->name, m->name);
  sb_printf(h, "  bs_subscriber_%s sub;\n", tok);
  sb_puts(h, "  sub.actor_id = actor_id;\n");
  sb_printf(h, "  sub.type = &%s_actor_type;\n", a->name);
  sb_printf(h, "  sub.method = &%s_actor_type.methods[%zu]; /* %s */\n",
            a->name, m->index, m->name);
  sb_puts(h, "  return sub;\n}\n\n");
}
