/* The generator's model: what it learned from the headers, independent of
 * libclang, so that emitting code never touches cursors (those die with
 * their translation unit, and each header is parsed on its own). */
#ifndef BS_GEN_MODEL_H
#define BS_GEN_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef struct gen_loc {
  const char *file; /* as the user named it (or as clang found it) */
  unsigned line, col;
} gen_loc;

typedef enum gen_kind {
  GEN_INT,        /* any signed integer type, `bits` wide */
  GEN_UINT,       /* any unsigned integer type */
  GEN_BOOL,
  GEN_FLOAT,
  GEN_DOUBLE,
  GEN_ENUM,       /* `bits`/`is_signed` describe the underlying type */
  GEN_CSTR,       /* const char *: CBOR text, or null for NULL */
  GEN_CHARBUF,    /* char[len]: CBOR text */
  GEN_FIXBYTES,   /* uint8_t[len]: CBOR bytes */
  GEN_BYTES,      /* bs_bytes: CBOR bytes */
  GEN_BYTEPAIR,   /* const void * / const uint8_t * + size_t: CBOR bytes */
  GEN_BLOB,       /* const bs_blob *: a reference the message holds (a
                     byte string once flattened), or null for NULL */
  GEN_STRUCT,     /* by value: CBOR map */
  GEN_STRUCT_REF, /* const S *: CBOR map, or null for NULL */
  GEN_ARRAY,      /* elem[len]: CBOR array */
  GEN_DYNARRAY    /* const elem * + size_t: CBOR array */
} gen_kind;

typedef struct gen_struct gen_struct;

/* One constant of an enum: the inspector's state view shows its name. */
typedef struct gen_enumerator {
  const char *name;
  long long value;          /* is_signed enums */
  unsigned long long uvalue; /* the others */
} gen_enumerator;

typedef struct gen_type {
  gen_kind kind;
  unsigned bits;            /* integers, enums */
  bool is_signed;           /* enums */
  gen_vec enumerators;      /* enums: gen_enumerator *, one per value, first
                               name wins */
  const char *spelling;     /* unqualified C type ("uint32_t", "const char *") */
  gen_struct *st;           /* STRUCT, STRUCT_REF */
  struct gen_type *elem;    /* ARRAY, DYNARRAY */
  unsigned long long len;   /* ARRAY, CHARBUF, FIXBYTES */
} gen_type;

typedef struct gen_input gen_input;

/* A name some parse declared (functions, variables, typedefs, enumerators,
 * struct/union/enum tags, macros), checked against the generated names. */
typedef enum gen_ns { GEN_NS_ORDINARY, GEN_NS_TAG, GEN_NS_MACRO } gen_ns;

typedef struct gen_decl {
  const char *name;
  gen_ns ns;
  const char *kind;         /* "function", "typedef", "struct", "macro", ... */
  gen_loc loc;
  bool function_like;       /* macros: expanded only before a '(' */
} gen_decl;

typedef struct gen_field {
  const char *name;
  const char *count_name;   /* the size_t of a pointer + length pair */
  uint32_t key;             /* FNV-1a of name: the wire key */
  gen_type *type;
  gen_loc loc;
} gen_field;

typedef enum gen_state { GEN_NEW, GEN_RESOLVING, GEN_OK, GEN_FAILED } gen_state;

struct gen_struct {
  const char *name;         /* codec prefix: Name__encode / Name__decode */
  const char *spelling;     /* "struct Tag" or the typedef of an anonymous one */
  const char *def_real;     /* realpath of the defining file */
  unsigned def_offset;      /* file offset of the definition: identity + order */
  gen_loc loc;
  gen_vec fields;           /* gen_field * */
  gen_state state;
  gen_loc err_loc;          /* first unsupported member, when FAILED */
  const char *err;
  gen_input *home;          /* the scanned input that defines it */
  bool used;                /* reachable from an actor: emit its codec */
  bool state_used;          /* reachable from an actor's state: also emit
                               S__encode_named (text keys, inspector only) */
};

typedef struct gen_param {
  const char *name;         /* user's name, or argN */
  const char *count_name;   /* pairs: the size_t parameter */
  const char *decl;         /* declaration as the user spelled it */
  const char *cast;         /* arrays: the decayed type, for the call */
  gen_type *type;
} gen_param;

typedef struct gen_method {
  const char *name;         /* "sayHello" */
  const char *cname;        /* "Greeter_sayHello" */
  uint32_t id;
  gen_vec params;           /* gen_param * (a pair counts once) */
  gen_type *ret;            /* NULL for void */
  bool ret_is_int;          /* plain int: the method's status */
  bool request;             /* any other non-void return: request/reply */
  gen_loc loc;
  size_t index;             /* position in the id-sorted method table */
  const char *elem_token;   /* stream element token of the single parameter
                               ("cstr", "i64", "Headline", "i64_array"), or
                               NULL: the method gets no __subscriber helper */
} gen_method;

/* Options written after the marker: `// @generate-proxy persistent`. */
enum { GEN_MARK_PERSISTENT = 1 };

typedef struct gen_actor {
  const char *name;         /* "Greeter": method prefix and proxy name */
  const char *spelling;     /* C type of the state */
  gen_loc loc;
  gen_vec methods;          /* gen_method *, sorted by id (the table) */
  gen_vec in_source_order;  /* the same, as declared (proxies, docs) */
  gen_vec state_fields;     /* gen_field * the state encoder can encode */
  bool persistent;          /* `@generate-proxy persistent` */
  gen_vec persist_fields;   /* gen_field * stored (persistent actors): all
                               but the context pointer and @transient ones */
} gen_actor;

struct gen_input {
  const char *path;         /* path handed to clang, used in messages */
  const char *real;         /* realpath, to match struct definitions */
  const char *rel;          /* spelling in #include "..." */
  const char *stem;         /* output path without .bs.h/.bs.c */
  const char *text;         /* file contents */
  size_t text_len;
  gen_vec markers;          /* (uintptr_t) offsets just past each marker */
  gen_vec marker_opts;      /* (uintptr_t) GEN_MARK_* of each marker */
  gen_vec actors;           /* gen_actor * */
  gen_vec structs;          /* gen_struct * defined here and used */
  gen_vec deps;             /* const char * files its parse read */
  gen_vec decls;            /* gen_decl * its parse saw, at file scope */
};

/* Every struct seen in any translation unit, by definition identity. */
gen_struct *gen_struct_find(const char *real, unsigned offset);
void gen_struct_add(gen_struct *st);
gen_vec *gen_struct_all(void);

#endif
