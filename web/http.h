/* web/http.h — the box's HTTP server (libmicrohttpd): routing, authentication and roles, CSRF,
 * bounded request bodies, the dashboard's static files, Server-Sent Events and TLS. The server
 * knows nothing of the daemon: the daemon hands in a table of routes whose handlers build each
 * document (JSON text, malloc'd), so the web module stays below daemon/ in the flow. The API is
 * documented in web/API.md.
 *
 * Threads: libmicrohttpd runs one thread per connection (bounded by max_connections), so a
 * Server-Sent Events stream may wait for events without holding up other requests. Handlers are
 * called from those threads, concurrently, and must be thread-safe.
 *
 * Every response carries the security headers (CSP, nosniff, frame denial, no referrer); API
 * responses are never cached. Every error is JSON: {"error": {"status": 404, "message": "…"}}. */
#ifndef VW_WEB_HTTP_H
#define VW_WEB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "web/auth.h"

/* ---- requests and routes ---------------------------------------------------------------------- */

#define WEB_MAX_TARGET_BYTES 2048 /* request target (path + query); longer → 414 */
#define WEB_MAX_PARAMS 32         /* query parameters; more → 400 */
#define WEB_MAX_PARAM_NAME 64     /* bytes of a parameter's name; longer → 400 */

/* A parsed query string (web/query.c). */
typedef struct web_query web_query;

/* What a handler gets. Every string is valid during the call only. */
typedef struct web_call {
    const char *method;        /* "GET", "HEAD" (handled as GET), "POST" */
    const char *path;          /* percent-decoded */
    const char *id;            /* the {id} segment of the route's pattern, decoded; NULL if none */
    const web_query *query;
    const char *body;          /* POST: the body, NUL-terminated (validated as a JSON object when the
                                  route says so); NULL for GET */
    size_t body_len;
    const char *user;          /* the user or token name; "anonymous" */
    web_role role;
    const char *remote;        /* the client's address, "192.0.2.7" */
} web_call;

/* What a handler returns: an HTTP status and a malloc'd body (JSON unless content_type says
 * otherwise; NULL with status ≥ 400 → the server writes a generic error; NULL with 204 → empty).
 * Errors from handlers are built with web_error_json. */
typedef struct web_reply {
    unsigned status;
    char *body;
    const char *content_type;  /* NULL: application/json; a static string otherwise */
} web_reply;

typedef web_reply (*web_handler)(void *ctx, const web_call *call);

/* A route: METHOD and a path pattern with at most one "{id}" segment
 * ("/api/v1/assets/{id}/trend"); the id segment matches one non-empty path segment (no '/').
 * Routes are tried in order; the first whose pattern matches the path decides (a method not
 * listed for a matching pattern → 405 with Allow). */
typedef struct web_route {
    const char *method;        /* "GET" (also answers HEAD) or "POST" */
    const char *pattern;
    web_role min_role;         /* WEB_ROLE_NONE: anyone, even when logins are required */
    int json_body;             /* POST: the body must be a JSON object (Content-Type
                                  application/json); 415/400 otherwise */
    web_handler handler;
} web_route;

/* The query string's values, percent-decoded ('+' is a space), valid UTF-8 or refused by
 * web_query_parse. NULL when absent. */
const char *web_query_get(const web_query *q, const char *name);
/* Returns 0 when every parameter name is in allowed (NULL-terminated); otherwise -EINVAL with
 * err saying which ("unknown parameter \"x\" (known: a, b)"). */
int web_query_only(const web_query *q, const char *const *allowed, char *err, size_t errlen);

/* ---- the server ------------------------------------------------------------------------------- */

typedef struct web_api {
    void *ctx;
    const web_route *routes;   /* the daemon's API routes; the table must outlive the server */
    size_t nroutes;
    /* Optional: one line of the server's own diagnostics, without a trailing newline, from any
     * server thread. NULL → stderr as "web: …". Either way at most 20 lines a minute. */
    void (*log)(void *ctx, const char *line);
} web_api;

/* The server's bounds and options. A number left 0 takes its default. */
typedef struct web_limits {
    unsigned max_connections;  /* open connections in all (default 64) */
    unsigned max_per_ip;       /* open connections from one address (default 16) */
    unsigned timeout_s;        /* an idle connection is closed after this (default 10 s) */
    size_t conn_memory_bytes;  /* per connection; bounds request line + headers (default 32 KiB) */
    size_t max_body_bytes;     /* a larger request body gets 413 unread (default 64 KiB) */
    unsigned max_streams;      /* Server-Sent Events streams at once (default 16) */
    unsigned drain_ms;         /* web_stop waits this long for requests in flight (default 3000) */
} web_limits;

typedef struct web_options {
    const char *listen;        /* "ADDR:PORT" ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080"); port 0: any */
    const char *tls_cert_pem;  /* both set: HTTPS (the PEM text, not a path); both NULL: HTTP */
    const char *tls_key_pem;
    const char *static_dir;    /* the dashboard's folder, read once at start; NULL or missing: "/"
                                  answers 404 saying the dashboard is not installed */
    const web_auth_config *auth; /* users, tokens, anonymous role (web/auth.h); NULL: anonymous operator */
    /* The names this box is reached by beyond loopback (besides its IP addresses). When some are
     * given, or anonymous access is on beyond loopback, a request whose Host is neither an IP
     * literal nor one of them gets 421: a page whose name is re-pointed at the box (DNS rebinding)
     * cannot read it through a browser. On loopback only loopback names are answered. */
    const char *const *hosts;
    size_t nhosts;
    web_limits limits;
} web_options;

typedef struct web_server web_server;

/* Starts the server. NULL with a message in err ("127.0.0.1:8080: address already in use",
 * "web.tls: the key does not match the certificate", "0.0.0.0:8080: refusing to listen beyond this
 * machine without users (set web.users, or web.anonymous to \"viewer\" for read-only access)"). */
web_server *web_start(const web_options *o, const web_api *api, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned web_port(const web_server *s);
/* Publishes a Server-Sent Event to every open stream (and the newest 256 kept for
 * Last-Event-ID): event is a name ("snapshot"), data one line of JSON (≤ 4 KiB; longer is
 * dropped and counted). Thread-safe, never blocks on a client. */
void web_publish(web_server *s, const char *event, const char *data);
/* Counters for /metrics and the status: requests, by class of status, streams open, logins
 * refused. */
typedef struct web_stats {
    uint64_t requests, status_2xx, status_3xx, status_4xx, status_5xx;
    uint64_t logins_ok, logins_failed, logins_throttled;
    unsigned streams_open;
    uint64_t events_published, events_dropped;
} web_stats;
void web_get_stats(web_server *s, web_stats *out);
/* Accepts NULL. Stops accepting, ends every stream, lets requests in flight finish (up to
 * drain_ms), closes every connection and returns when no handler is running. */
void web_stop(web_server *s);

#endif
