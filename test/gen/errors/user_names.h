#include <backstage.h>
typedef struct Pt {
  int32_t x;
} Pt;
typedef int FooProxy;
extern const bs_actor_type Foo_actor_type;
enum { FooProxy_stop = 1 };
#define FooProxy_self foo_self
int Pt__decode(int v);
struct bs_stream_Pt; /* a declaration of a generated tag is fine */
struct bs_array_Pt {
  int n;
};
// @generate-proxy
typedef struct Foo {
  int n;
} Foo;
int Foo_init(Foo *self, bs_context *ctx);
void Foo_deinit(Foo *self);
int Foo_move(Foo *self, Pt to);
#define n 3 /* a local of the generated code */
#define w(x) x /* function-like: harmless where w is not called */
