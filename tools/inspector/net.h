/* A minimal blocking HTTP/1.1 GET with a deadline, for backstage-inspector. */
#ifndef BSI_NET_H
#define BSI_NET_H

#include <stddef.h>

typedef struct bsi_response {
  int status;   /* HTTP status, 0 if none was read */
  char *body;   /* NUL-terminated, malloc'd; NULL on failure */
  size_t len;
  char err[128];/* why it failed */
} bsi_response;

/* GET http://host:port/path (path includes the query). `token` may be
 * NULL. Returns 0 with a response, or -1 with err set. The whole exchange
 * is bounded by timeout_ms and by max_body bytes. */
int bsi_get(const char *host, const char *port, const char *path, const char *token,
            int timeout_ms, size_t max_body, bsi_response *out);
void bsi_response_free(bsi_response *r);

#endif
