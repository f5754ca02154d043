#include <backstage.h>
/* An array of strings needs both consts: `const char **` is rejected, with
 * a hint (BS_ARRAY(const char *, name) spells it right). */
typedef struct Names {
  const char **names;
  size_t names_count;
} Names;
// @generate-proxy
typedef struct Bad {
  int x;
} Bad;
int Bad_init(Bad *self, bs_context *ctx);
void Bad_deinit(Bad *self);
int Bad_list(Bad *self, const char **names, size_t count);
int Bad_named(Bad *self, Names n);
