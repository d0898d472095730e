/* web/http.h — the box's HTTP server (libmicrohttpd) and its JSON API. The server knows nothing of
 * the daemon: the daemon hands in callbacks that build each document (JSON text, malloc'd), so the
 * web module stays below daemon/ in the flow.
 *
 * Threads: libmicrohttpd's internal thread pool; callbacks are called from those threads and must
 * be thread-safe. Requests are bounded (header and body sizes, connection count, timeouts). */
#ifndef VW_WEB_HTTP_H
#define VW_WEB_HTTP_H

#include <stddef.h>

typedef struct web_api {
    void *ctx;
    /* GET /api/v1/status: version, uptime, sources, queues, drops, disk. NULL → 500. */
    char *(*status_json)(void *ctx);
    /* GET /api/v1/assets: assets and sensors with their latest features and state. */
    char *(*assets_json)(void *ctx);
} web_api;

typedef struct web_server web_server;

/* Listens on "ADDR:PORT" ("127.0.0.1:8080", "[::1]:8080", port 0 = any free port). NULL with a
 * message (address in use, bad address) in err. */
web_server *web_start(const char *listen, const web_api *api, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned web_port(const web_server *s);
void web_stop(web_server *s); /* accepts NULL; returns when no request is running */

#endif
