#include "echo.h"

#include "echo.bs.h"

int Server_init(Server *self, bs_context *ctx) {
  self->ctx = ctx;
  return 0;
}

void Server_deinit(Server *self) { (void)self; }

int64_t Server_echo(Server *self, int64_t x) {
  self->served++;
  return x + 1;
}

int Asker_init(Asker *self, bs_context *ctx) {
  ServerProxy server;
  int rc = bs_get_actor(ctx, Server, "server", &server);
  self->ctx = ctx;
  self->server = server.ref;
  return rc;
}

void Asker_deinit(Asker *self) { (void)self; }

/* Runs on the asker's own turn, once per reply. */
static void on_echo(void *ud, int status, int64_t value) {
  Asker *self = ud;
  if (status < 0) {
    self->failed++;
    return;
  }
  self->trips++;
  if (--self->left > 0 &&
      ServerProxy_echo((ServerProxy){self->server}, value, on_echo, self) < 0)
    self->failed++;
}

int Asker_run(Asker *self, int64_t rounds) {
  if (rounds <= 0) return 0;
  self->left = rounds;
  return ServerProxy_echo((ServerProxy){self->server}, 0, on_echo, self);
}

int64_t Asker_trips(const Asker *self) { return self->failed ? -1 : self->trips; }
