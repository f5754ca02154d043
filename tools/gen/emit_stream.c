/* Streams (include/backstage/stream.h): every struct whose codec is
 * generated is also a stream element type, and every method whose single
 * parameter has an element type gets a subscriber helper, which is what
 * bs_subscriber("id", TProxy_method) expands to. The helper's return type
 * names the element type, so subscribing it to a stream of another type
 * does not compile. */
#include <string.h>

#include "emit.h"

/* The library's own element tokens (BS_BUILTIN_STREAM_TYPES): a struct of
 * one of these names cannot be an element type, its bs_stream_<name> and
 * bs_elem_<name> would clash with the library's. */
static const char *const BUILTIN_TOKENS[] = {
    "cstr", "bytes", "boolean", "i8", "i16", "i32", "i64",
    "u8", "u16", "u32", "u64", "float", "double", NULL};

const char *emit_struct_token(const gen_struct *st) {
  for (const char *const *b = BUILTIN_TOKENS; *b; b++)
    if (strcmp(st->name, *b) == 0) return NULL;
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
  case GEN_STRUCT:
  case GEN_STRUCT_REF: return emit_struct_token(t->st);
  default: return NULL; /* enums, fixed arrays, pointer + length pairs */
  }
}

const char *emit_method_token(const gen_method *m) {
  if (m->params.len != 1) return NULL;
  const gen_param *p = m->params.items[0];
  return p->count_name ? NULL : elem_token(p->type);
}

/* ---- Struct element types ---------------------------------------------------- */

void emit_struct_stream_decl(gen_sbuf *h, const gen_struct *st) {
  const char *tok = emit_struct_token(st);
  if (tok == NULL) {
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
