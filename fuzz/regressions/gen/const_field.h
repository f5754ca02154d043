/* fuzz_gen finding (minimised): a const-qualified field in a message struct.
 * backstage-gen accepts it (status 0) but the code it writes does not
 * compile: Node__decode assigns the field ("assignment of read-only member
 * 'id'"), HolderProxy_push__args assigns the whole struct, and a const
 * struct or char[N] field is passed to a decoder taking a non-const
 * pointer. Expected: a clear error at the field, like the other unsupported
 * constructs (or code that decodes it). */
#include <backstage.h>

typedef struct Node {
  int32_t value;
  const int32_t id;
} Node;

// @generate-proxy
typedef struct Holder {
  bs_context *ctx;
} Holder;

int Holder_init(Holder *self, bs_context *ctx);
void Holder_deinit(Holder *self);
int Holder_push(Holder *self, Node n);
