#include "bench_sink.h"

#include "bench_sink.bs.h"

static char node_name[64] = "?";

void bench_sink_node(const char *name);
void bench_sink_node(const char *name) {
  size_t n = strlen(name);
  if (n >= sizeof node_name) n = sizeof node_name - 1;
  memcpy(node_name, name, n);
  node_name[n] = '\0';
}

int BSink_init(BSink *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}
void BSink_deinit(BSink *self) { (void)self; }
void BSink_put(BSink *self, bs_bytes payload) {
  self->n++;
  self->bytes += payload.len;
}
uint64_t BSink_count(BSink *self) { return self->n; }
uint64_t BSink_echo(BSink *self, uint64_t v) {
  (void)self;
  return v;
}
const char *BSink_where(BSink *self) {
  (void)self;
  return node_name;
}
