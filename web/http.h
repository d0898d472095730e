/* web/http.h — the box's HTTP server (libmicrohttpd) and its JSON API. The server knows nothing of
 * the daemon: the daemon hands in callbacks that build each document (JSON text, malloc'd), so the
 * web module stays below daemon/ in the flow.
 *
 * Threads: libmicrohttpd's internal thread pool; callbacks are called from those threads and must
 * be thread-safe. Requests are bounded (header and body sizes, connection count, timeouts).
 *
 * Every response carries the security headers (CSP, nosniff, frame denial, no referrer); API
 * responses are never cached. Every error is JSON: {"error": {"status": 404, "message": "…"}}. */
#ifndef VW_WEB_HTTP_H
#define VW_WEB_HTTP_H

#include <stddef.h>

typedef struct web_api {
    void *ctx;
    /* GET /api/v1/status: version, uptime, sources, queues, drops, disk. NULL → 500. */
    char *(*status_json)(void *ctx);
    /* GET /api/v1/assets: assets and sensors with their latest features and state. */
    char *(*assets_json)(void *ctx);
    /* Optional: one line of the server's own diagnostics (libmicrohttpd's errors, e.g. a refused
     * connection at the limit), without a trailing newline, from any server thread. NULL → stderr
     * as "web: …". Either way at most 20 lines a minute; the rest are counted and reported. */
    void (*log)(void *ctx, const char *line);
} web_api;

/* The server's bounds. A field left 0 takes its default. */
typedef struct web_limits {
    unsigned max_connections;  /* open connections in all (default 64) */
    unsigned max_per_ip;       /* open connections from one address (default 16) */
    unsigned timeout_s;        /* an idle connection is closed after this (default 10 s) */
    size_t conn_memory_bytes;  /* per connection; bounds request line + headers (default 32 KiB) */
    size_t max_body_bytes;     /* a larger request body gets 413 unread (default 64 KiB) */
    unsigned threads;          /* polling worker threads (default 2) */
    unsigned drain_ms;         /* web_stop waits this long for requests in flight (default 3000) */
} web_limits;

#define WEB_MAX_TARGET_BYTES 2048 /* request target (path + query); longer → 414 */

typedef struct web_server web_server;

/* Listens on "ADDR:PORT" ("127.0.0.1:8080", "[::1]:8080", "localhost:8080", "0.0.0.0:8080";
 * port 0 = any free port). NULL with a message in err ("127.0.0.1:8080: address already in use",
 * "\"8080\": expected ADDR:PORT, …"). The api struct is copied. */
web_server *web_start(const char *listen, const web_api *api, char *err, size_t errlen);
/* The same with explicit bounds (NULL = all defaults). */
web_server *web_start_ex(const char *listen, const web_api *api, const web_limits *limits,
                         char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned web_port(const web_server *s);
/* Accepts NULL. Stops accepting, lets requests in flight finish (up to drain_ms), closes every
 * connection and returns when no callback is running. */
void web_stop(web_server *s);

#endif
