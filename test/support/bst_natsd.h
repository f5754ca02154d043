/* A real nats-server (Debian's, with JetStream) for tests: started on
 * loopback on a free port with its own temporary JetStream directory, and
 * stopped again. The server dies with the test process (PR_SET_PDEATHSIG),
 * so a crashed test leaves nothing running.
 *
 *   bst_natsd d;
 *   if (bst_natsd_start(&d) < 0) ...;      // d.url is "nats://127.0.0.1:PORT"
 *   ...
 *   bst_natsd_signal(&d, SIGSTOP);         // stall it, SIGCONT to resume
 *   bst_natsd_restart(&d);                 // kill -9, start again: same port
 *   bst_natsd_stop(&d);                    // and the directory is removed
 *
 * The binary is `nats-server` on PATH, /usr/sbin/nats-server or
 * $BST_NATS_SERVER. Its output goes to <dir>/server.log.
 */
#ifndef BST_NATSD_H
#define BST_NATSD_H

#include <sys/types.h>

typedef struct bst_natsd {
  pid_t pid;      /* 0 when not running */
  int port;
  char dir[256];  /* temporary; the JetStream store is <dir>/js */
  char url[64];
} bst_natsd;

/* The server binary, or NULL if none is installed. */
const char *bst_natsd_binary(void);
/* Starts a server and waits (up to 10 s) until it accepts connections.
 * 0, or -1 with a message on stderr. */
int bst_natsd_start(bst_natsd *d);
/* Kills it (SIGKILL) and starts it again on the same port and store. */
int bst_natsd_restart(bst_natsd *d);
/* Sends `sig` to the running server. */
int bst_natsd_signal(bst_natsd *d, int sig);
/* Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its
 * directory. Safe to call twice. */
void bst_natsd_stop(bst_natsd *d);

#endif
