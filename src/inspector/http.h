/* The inspector's HTTP server: connections (http.c), the paced queue of
 * answers (serve.c) and the endpoints (routes.c). One request per
 * connection: every response says "Connection: close" except the event
 * stream, which stays open.
 *
 * A client's life:
 *
 *   READING    the request; closed if it is not complete idle_timeout_ms
 *              after connecting, however its bytes trickle in
 *   ANSWERING  in the serve queue, or answered in steps (a big scan, a
 *              sliced /metrics)
 *   WRITING    the answer is queued; closed if it makes no progress for
 *              idle_timeout_ms
 *   LINGER     written and shut down; input discarded until EOF, at most
 *              BS__INSP_LINGER_MS (idle_timeout_ms if shorter), which input
 *              does not extend
 *   SSE        the event stream; dropped when it stops reading
 *
 * A client over max_clients is answered 503 and closed at once, so
 * sockets never exceed max_clients plus the one being refused. */
#ifndef BACKSTAGE_INSP_HTTP_H
#define BACKSTAGE_INSP_HTTP_H

#include <http_parser.h>

#include "inspector/insp.h"

#define BS__INSP_HEAD_MAX 8192   /* request line + headers: 431 beyond */
#define BS__INSP_BODY_MAX 8192   /* 413 beyond */
#define BS__INSP_URL_MAX 2048    /* 414 beyond */
#define BS__INSP_HDR_MAX 512     /* longest kept header value (the rest is cut) */
#define BS__INSP_TOKEN_MAX 256
#define BS__INSP_SSE_BACKLOG (1u << 20) /* unsent bytes before a slow SSE
                                           client is dropped */
#define BS__INSP_LINGER_MS 2000  /* after an answer is written, wait this long for EOF */
#define BS__INSP_REAP_MS 100     /* how often deadlines are checked */
#define BS__INSP_WRITE_LOW (256u << 10) /* a streamed answer's next chunk is made
                                           once less than this is unsent */

/* The time budget (serve.c): answering may take this share of the loop's
 * time (per mille), with bursts up to BS__INSP_BURST_US; beyond it,
 * requests wait their turn. Each new connection is also charged
 * BS__INSP_CONN_US for the work libuv does before our callbacks run
 * (accept, read), which is not measured. */
#define BS__INSP_SHARE_PERMILLE 30
#define BS__INSP_BURST_US 20000
#define BS__INSP_CONN_US 60
#define BS__INSP_PER_TURN 8      /* answers or steps per loop iteration at most */

typedef struct bs__insp_client bs__insp_client;

/* The request headers the server looks at; the others are only counted. */
enum { BS__H_AUTH, BS__H_HOST, BS__H_ORIGIN, BS__H_FETCH_SITE, BS__H_COUNT, BS__H_NONE };

typedef struct bs__insp_hdr {
  char v[BS__INSP_HDR_MAX + 1];
  uint16_t len;
  uint8_t seen;                 /* how many times it appeared */
} bs__insp_hdr;

typedef enum bs__insp_state {
  BS__C_READING, BS__C_ANSWERING, BS__C_WRITING, BS__C_LINGER, BS__C_SSE
} bs__insp_state;

typedef enum bs__insp_job { BS__JOB_NONE, BS__JOB_SNAPSHOT, BS__JOB_METRICS } bs__insp_job;

struct bs__insp_client {
  uv_tcp_t tcp;
  uv_shutdown_t shut;
  http_parser parser;
  bs__insp_server *srv;
  bs__insp_client *prev, *next; /* all clients */
  bs__insp_client *qnext;       /* the serve queue */
  bs__insp_state state;
  bs__insp_job job;             /* an answer made in steps */
  union {
    bs__insp_scan scan;
    bs__insp_metrics metrics;
  } u;
  bool queued, routed, closing;
  bool blocked;                 /* a streamed answer waits for its writes to drain */
  uint64_t deadline;            /* uv_now ms: end of READING or LINGER */
  uint64_t progress_at;         /* uv_now ms when unsent last went down */
  size_t unsent;                /* bytes queued for writing at the last check */
  size_t url_len, field_len, head_bytes, body_bytes, extra_bytes;
  int reject;                   /* status to answer instead of routing */
  int field_hdr;                /* BS__H_* of the header being read */
  bool in_value;
  char url[BS__INSP_URL_MAX + 1];
  char field[16];
  bs__insp_hdr hdr[BS__H_COUNT];
  char rbuf[4096];
};

struct bs__insp_server {
  bs__inspector *in;        /* NULL once stopped: handles are closing */
  uv_loop_t *loop;
  uv_tcp_t listener;
  uv_timer_t pace;          /* serves the queue within the time budget */
  uv_timer_t reap;          /* checks deadlines while there are clients */
  bs__insp_client *clients;
  bs__insp_client *qhead, *qtail;
  uint32_t nclients;
  int64_t budget_us;        /* time budget left (may go below 0) */
  uint64_t budget_at;       /* uv_hrtime() of its last refill */
  int open;                 /* handles not yet closed; frees itself at 0 */
  bool listener_init, timers_init;
  char url[96];
};

/* http.c: answers. Each one ends the request (the connection then
 * closes once it is written). */
void bs__insp_respond(bs__insp_client *c, int status, const char *ctype,
                      const char *headers, const char *body, size_t len);
void bs__insp_respond_error(bs__insp_client *c, int status, const char *msg);
/* A 200 whose body is the given pieces, written without copying them (each
 * is referenced until written). */
void bs__insp_respond_parts(bs__insp_client *c, const char *ctype, bs__insp_buf **parts,
                            int n);
/* A 200 in chunks: the head, then one chunk per call (b is emptied), then
 * the end. They return 0 or BS_ENOMEM/BS_EUV (the client is then closed). */
int bs__insp_chunked_begin(bs__insp_client *c, const char *ctype);
int bs__insp_chunk(bs__insp_client *c, bs__sb *b);
void bs__insp_chunked_end(bs__insp_client *c);
/* Bytes queued to the client and not yet written. */
size_t bs__insp_unsent(bs__insp_client *c);
/* Sends the event-stream head and the first update; the client then gets
 * one update per sample. */
void bs__insp_sse_begin(bs__insp_client *c);
void bs__insp_client_close(bs__insp_client *c);

/* serve.c */
/* Puts c in the serve queue (once): its request is complete, or its
 * answer has a next step. Answers are made in queue order, within the
 * time budget. */
void bs__insp_queue(bs__insp_client *c);
void bs__insp_unqueue(bs__insp_client *c);
int bs__insp_serve_init(bs__insp_server *s);
void bs__insp_serve_close(bs__insp_server *s, uv_close_cb closed);

/* routes.c */
/* Answers c's request, or starts an answer in steps (then c is queued
 * again); uses at most about *budget units of work. */
void bs__insp_route(bs__insp_client *c, size_t *budget);
/* The next step of c's answer. */
void bs__insp_job_step(bs__insp_client *c, size_t *budget);
void bs__insp_job_free(bs__insp_client *c);
/* Constant-time token check of the request (header or ?token=). */
bool bs__insp_authorized(const bs__insp_client *c, const char *query, size_t qlen);

#endif
