/* Struct codecs and actor state encoders.
 *
 * On the wire, a struct is a CBOR map from the FNV-1a hash of each field
 * name to the field's value. Decoding zeroes the struct first, then fills
 * the fields whose keys it knows and skips the others: that is what lets an
 * older and a newer version of a struct read each other
 * (docs/wire-format.md).
 *
 * Actor state encoders exist only for the inspector, which shows the state
 * to people: they write maps keyed by the field NAMES (CBOR text), also for
 * nested structs (S__encode_named), and nothing ever decodes them. */
#include "emit.h"

/* `named`: text keys and S__encode_named for nested structs (state
 * encoders); otherwise hashed keys and S__encode (the wire). */
static void encode_fields(gen_sbuf *c, const gen_vec *fields, bool named) {
  sb_printf(c, "  bs_write_map(w, %zu);\n", fields->len);
  for (size_t i = 0; i < fields->len; i++) {
    const gen_field *f = fields->items[i];
    const char *expr = gen_printf("v->%s", f->name);
    const char *count =
        f->count_name ? gen_printf("v->%s", f->count_name) : NULL;
    if (named) {
      sb_printf(c, "  bs_write_cstr(w, \"%s\");\n", f->name);
      emit_encode_named(c, f->type, "w", expr, count, 0, 1);
    } else {
      sb_printf(c, "  bs_write_uint(w, 0x%08xu); /* %s */\n", f->key,
                f->name);
      emit_encode(c, f->type, "w", expr, count, 0, 1);
    }
  }
  sb_puts(c, "  return w->err;\n");
}

void emit_struct_prototypes(gen_sbuf *h, const gen_struct *st) {
  sb_printf(h,
            "/* %s as a CBOR map {fnv1a32(field name): value}. Decoded\n"
            " * strings, bytes and arrays point into the reader's input or\n"
            " * arena. */\n",
            st->spelling);
  sb_printf(h, "int %s__encode(bs_writer *w, const %s *v);\n", st->name,
            st->spelling);
  sb_printf(h, "int %s__decode(bs_reader *r, %s *v);\n", st->name,
            st->spelling);
  if (st->state_used) {
    sb_puts(h, "/* The same as a map {\"field name\": value}, for actor state "
               "encoders (the\n * inspector's view): not the wire encoding, "
               "never decoded. */\n");
    sb_printf(h, "int %s__encode_named(bs_writer *w, const %s *v);\n",
              st->name, st->spelling);
  }
  sb_puts(h, "\n");
}

/* The body of a decoder into `v`: a map, fields by key, unknown keys (and
 * keys of other CBOR types) skipped with their values. */
static void decode_fields(gen_sbuf *c, const gen_vec *fields) {
  sb_puts(c, "  if (bs_read_map(r, &n) != 0) return r->err;\n"
             "  for (i = 0; i < n && r->err == 0; i++) {\n"
             "    bool known;\n"
             "    uint64_t key = bs_gen_read_key(r, &known);\n"
             "    if (!known) continue;\n"
             "    switch (key) {\n");
  for (size_t i = 0; i < fields->len; i++) {
    const gen_field *f = fields->items[i];
    sb_printf(c, "    case 0x%08xu: /* %s */\n", f->key, f->name);
    emit_decode(c, f->type, "r", gen_printf("v->%s", f->name),
                f->count_name ? gen_printf("v->%s", f->count_name) : NULL, 0,
                3);
    sb_puts(c, "      break;\n");
  }
  sb_puts(c, "    default: /* a field this version does not know */\n"
             "      bs_read_skip(r);\n"
             "      break;\n"
             "    }\n"
             "  }\n"
             "  return r->err;\n"
             "}\n\n");
}

static void emit_decoder(gen_sbuf *c, const gen_struct *st) {
  sb_printf(c, "int %s__decode(bs_reader *r, %s *v) {\n", st->name,
            st->spelling);
  sb_puts(c, "  uint64_t n = 0, i;\n"
             "  memset(v, 0, sizeof *v);\n");
  decode_fields(c, &st->fields);
}

void emit_struct_codec(gen_sbuf *c, const gen_struct *st) {
  sb_printf(c, "int %s__encode(bs_writer *w, const %s *v) {\n", st->name,
            st->spelling);
  encode_fields(c, &st->fields, false);
  sb_puts(c, "}\n\n");
  emit_decoder(c, st);
  if (st->state_used) {
    sb_printf(c, "int %s__encode_named(bs_writer *w, const %s *v) {\n",
              st->name, st->spelling);
    encode_fields(c, &st->fields, true);
    sb_puts(c, "}\n\n");
  }
}

/* The inspector's view of an actor: a map {"field name": value} of the
 * fields the generator can encode (no context pointer, no non-const
 * pointers), nested structs likewise. */
void emit_state_encoder(gen_sbuf *c, const gen_actor *a) {
  sb_printf(c, "int %s__encode_state(const void *self, bs_writer *w) {\n",
            a->name);
  sb_printf(c, "  const %s *v = self;\n", a->spelling);
  if (a->state_fields.len == 0) sb_puts(c, "  (void)v;\n");
  encode_fields(c, &a->state_fields, true);
  sb_puts(c, "}\n\n");
}

/* A persistent actor's stored state (docs/persistence.md): its stored
 * fields as the wire encodes a struct, {fnv1a32(field name): value}, so
 * records written by an older or newer version of the struct load (added
 * fields stay zero, removed ones are skipped). The loader fills a zeroed
 * state: it never touches the fields that are not stored. */
void emit_persist_codec(gen_sbuf *c, const gen_actor *a) {
  sb_printf(c, "int %s__save_state(const void *self, bs_writer *w) {\n",
            a->name);
  sb_printf(c, "  const %s *v = self;\n", a->spelling);
  if (a->persist_fields.len == 0) sb_puts(c, "  (void)v;\n");
  encode_fields(c, &a->persist_fields, false);
  sb_puts(c, "}\n\n");
  sb_printf(c, "int %s__load_state(void *self, bs_reader *r) {\n", a->name);
  sb_printf(c, "  %s *v = self;\n", a->spelling);
  sb_puts(c, "  uint64_t n = 0, i;\n");
  if (a->persist_fields.len == 0) sb_puts(c, "  (void)v;\n");
  decode_fields(c, &a->persist_fields);
}
