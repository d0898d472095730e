/* web/http.c — the box's HTTP server: libmicrohttpd (MHD) with one thread per connection, the
 * daemon's route table beside the server's own routes (login, logout, session, the event stream),
 * the dashboard's files, and a JSON error for everything else.
 *
 * Threads: MHD runs one thread per connection (at most max_connections, 256 KiB of stack each);
 * every function below web_start/web_stop runs on one of them, so handlers run concurrently and
 * an event stream may block its own thread waiting for events (web/sse.c).
 * Ownership: the listen socket is opened by http_listen.c, lent to MHD and closed here after MHD
 * stopped. Each request owns a malloc'd record from the moment its request line is read (MHD's
 * URI-log hook, which also gives us the target exactly as sent, before MHD decodes it) until MHD
 * reports the request completed; the record holds the decoded path, the parsed query, who asks
 * (web/auth.h) and the body read so far.
 * Order of a request: every check that can be made from the headers (target length, body size,
 * path, query, route and method, role, Origin, CSRF, Content-Type) is made before a body is read,
 * so a refused body is never read (the connection closes after the answer). A body is read into a
 * buffer of at most max_body_bytes (a chunked body that grows past it is a 413) and handed to the
 * handler NUL-terminated.
 * Routing is done on our own strict decoding of the raw path: an encoded NUL or control
 * character is a 400, never a truncated path that matches a route. */
#include "web/http.h"
#include "web/http_internal.h"

#include "common/utf8.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_result;
#else
typedef int mhd_result;
#endif

#define LOG_WINDOW_S 60 /* diagnostics: at most LOG_MAX_LINES lines per window */
#define LOG_MAX_LINES 20
#define PATH_ECHO_MAX 200          /* bytes of the request path quoted back in a 404 */
#define THREAD_STACK_BYTES (256 * 1024)
#define DISCARD_MAX (1u << 20)     /* bytes of an oversized chunked body read (and dropped) before the 413 */
#define SESSION_COOKIE "vw_session"
#define COOKIE_MAX 512             /* bytes of a Set-Cookie value */

static const web_limits default_limits = {
    .max_connections = 64,
    .max_per_ip = 16,
    .timeout_s = 10,
    .conn_memory_bytes = 32 * 1024,
    .max_body_bytes = 64 * 1024,
    .max_streams = 16,
    .drain_ms = 3000,
};

struct web_server {
    struct MHD_Daemon *mhd;
    web_api api;
    web_limits lim;
    int listen_fd;
    unsigned port;
    int tls;
    int loopback;   /* listening on a loopback address: only loopback Host headers are answered */
    int check_host; /* beyond loopback: only IP literals and hosts[] are answered */
    char **hosts;   /* copies of web_options.hosts */
    size_t nhosts;
    atomic_int stopping;
    web_auth *auth;
    web_static *files;
    char no_dashboard[160]; /* why "/" is a 404 when files is NULL */
    web_sse *sse;

    atomic_uint_fast64_t requests, status_2xx, status_3xx, status_4xx, status_5xx;
    atomic_uint_fast64_t logins_ok, logins_failed, logins_throttled;

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t idle;  /* signalled when in_flight drops to 0; CLOCK_MONOTONIC */
    unsigned in_flight;   /* requests whose headers were read and whose response is not done */
    struct timespec log_window_start;
    unsigned log_lines, log_suppressed;
    int starting;         /* MHD's messages during start go to start_msg too */
    char start_msg[200];
};

typedef enum route_kind {
    ROUTE_NONE,
    ROUTE_TABLE,   /* the daemon's */
    ROUTE_LOGIN,
    ROUTE_LOGOUT,
    ROUTE_SESSION,
    ROUTE_STREAM,
    ROUTE_STATIC,
} route_kind;

/* The server's own routes, tried before the daemon's. */
static const struct builtin {
    web_route r;
    route_kind kind;
} builtins[] = {
    {{"POST", "/api/v1/login", WEB_ROLE_NONE, 1, NULL}, ROUTE_LOGIN},
    {{"POST", "/api/v1/logout", WEB_ROLE_NONE, 0, NULL}, ROUTE_LOGOUT},
    {{"GET", "/api/v1/session", WEB_ROLE_NONE, 0, NULL}, ROUTE_SESSION},
    {{"GET", "/api/v1/stream", WEB_ROLE_VIEWER, 0, NULL}, ROUTE_STREAM},
};

/* One request, from its request line to its completion. */
typedef struct web_request {
    int counted;     /* in web_server.in_flight */
    int responded;   /* a response is queued */
    int decided;     /* the header checks passed: the body (if any) is being read */
    int target_long; /* the target was longer than WEB_MAX_TARGET_BYTES */
    route_kind kind;
    const web_route *route;
    const web_static_file *file;
    web_query *query;
    web_principal who;
    int stale;       /* the session cookie named no live session: clear it */
    int has_sid;
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    char *body;      /* POST: malloc'd, NUL-terminated */
    size_t body_len, body_cap;
    int body_too_large;
    size_t discarded;
    char remote[INET6_ADDRSTRLEN];
    char path[WEB_MAX_TARGET_BYTES + 1]; /* decoded */
    char id[WEB_MAX_TARGET_BYTES + 1];   /* the {id} segment, decoded */
    int has_id;
    char target[];   /* the request target as the client sent it (path?query) */
} web_request;

/* ---- diagnostics ------------------------------------------------------------------------------ */

static void emit_line(web_server *s, const char *line)
{
    if (s->api.log)
        s->api.log(s->api.ctx, line);
    else
        fprintf(stderr, "web: %s\n", line);
}

static void log_line(web_server *s, const char *line)
{
    struct timespec now;
    unsigned suppressed = 0;
    int emit;
    clock_gettime(CLOCK_MONOTONIC, &now);
    pthread_mutex_lock(&s->lock);
    if (s->starting)
        snprintf(s->start_msg, sizeof s->start_msg, "%s", line);
    if (now.tv_sec - s->log_window_start.tv_sec >= LOG_WINDOW_S) {
        suppressed = s->log_suppressed;
        s->log_window_start = now;
        s->log_lines = s->log_suppressed = 0;
    }
    emit = s->log_lines < LOG_MAX_LINES;
    if (emit)
        s->log_lines++;
    else
        s->log_suppressed++;
    pthread_mutex_unlock(&s->lock);
    if (suppressed) {
        char note[96];
        snprintf(note, sizeof note, "(%u more messages in the last minute were not shown)", suppressed);
        emit_line(s, note);
    }
    if (emit)
        emit_line(s, line);
}

static void log_fmt(web_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_fmt(web_server *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_line(s, line);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    log_line(cls, line);
}
#pragma GCC diagnostic pop

/* ---- responses -------------------------------------------------------------------------------- */

static const char *const security_headers[][2] = {
    {"Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
};

static const char json_type[] = "application/json; charset=utf-8";

/* What a response carries besides the common headers; every field may be left 0/NULL. */
typedef struct out_headers {
    const char *type;        /* Content-Type; NULL: JSON (none for 204 and 304) */
    const char *cache;       /* Cache-Control; NULL: no-store */
    const char *allow;       /* 405 */
    const char *retry_after; /* 429 */
    const char *set_cookie;
    const char *etag;
    const char *encoding;    /* Content-Encoding */
    int vary_encoding;       /* Vary: Accept-Encoding */
    int close;               /* Connection: close */
    int event_stream;        /* X-Accel-Buffering: no */
} out_headers;

static void count_status(web_server *s, unsigned status)
{
    atomic_uint_fast64_t *c = status < 300 ? &s->status_2xx : status < 400 ? &s->status_3xx
                              : status < 500 ? &s->status_4xx : &s->status_5xx;
    atomic_fetch_add(c, 1);
}

/* Adds the common headers and h to resp, queues it and destroys our reference. */
static mhd_result queue(web_server *s, struct MHD_Connection *c, const web_request *r, unsigned status,
                        struct MHD_Response *resp, const out_headers *h)
{
    static const out_headers none;
    if (!h)
        h = &none;
    int ok = 1;
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        ok &= MHD_add_response_header(resp, security_headers[i][0], security_headers[i][1]) == MHD_YES;
    if (s->tls)
        ok &= MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000") == MHD_YES;
    if (status != MHD_HTTP_NO_CONTENT && status != MHD_HTTP_NOT_MODIFIED)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, h->type ? h->type : json_type) == MHD_YES;
    ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, h->cache ? h->cache : "no-store") == MHD_YES;
    if (h->allow)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, h->allow) == MHD_YES;
    if (h->retry_after)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, h->retry_after) == MHD_YES;
    if (h->etag)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, h->etag) == MHD_YES;
    if (h->encoding)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, h->encoding) == MHD_YES;
    if (h->vary_encoding)
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding") == MHD_YES;
    if (h->event_stream)
        ok &= MHD_add_response_header(resp, "X-Accel-Buffering", "no") == MHD_YES;
    if (h->set_cookie) {
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, h->set_cookie) == MHD_YES;
    } else if (r && r->stale && s->auth) {
        char clear[COOKIE_MAX];
        web_auth_cookie_clear(s->auth, clear, sizeof clear);
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, clear) == MHD_YES;
    }
    if (h->close || atomic_load(&s->stopping))
        ok &= MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
    mhd_result ret = ok ? MHD_queue_response(c, status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    if (ret == MHD_YES)
        count_status(s, status);
    return ret;
}

/* Queues body (malloc'd, taken over; NULL = out of memory, answered 503) with h. */
static mhd_result respond(web_server *s, struct MHD_Connection *c, web_request *r, unsigned status, char *body,
                          size_t len, const out_headers *h)
{
    static const char oom[] = "{\"error\":{\"status\":503,\"message\":\"out of memory\"}}";
    struct MHD_Response *resp = NULL;
    out_headers oh = h ? *h : (out_headers){0};
    if (r)
        r->responded = 1;
    if (body) {
        resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(body);
    } else if (status == MHD_HTTP_NO_CONTENT || status == MHD_HTTP_NOT_MODIFIED) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        oh = (out_headers){.close = 1};
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO; /* MHD closes the connection */
    }
    return queue(s, c, r, status, resp, &oh);
}

static mhd_result respond_json(web_server *s, struct MHD_Connection *c, web_request *r, unsigned status,
                               char *doc, const out_headers *h)
{
    return respond(s, c, r, status, doc, doc ? strlen(doc) : 0, h);
}

static mhd_result respond_error(web_server *s, struct MHD_Connection *c, web_request *r, unsigned status,
                                const out_headers *h, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static mhd_result respond_error(web_server *s, struct MHD_Connection *c, web_request *r, unsigned status,
                                const out_headers *h, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return respond_json(s, c, r, status, web_error_json(status, msg), h);
}

/* ---- small helpers ---------------------------------------------------------------------------- */

static const char *header_value(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Content-Length as a number; -1 when absent, -2 when not a number. */
static long long content_length(struct MHD_Connection *c)
{
    const char *v = header_value(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return -1;
    size_t n = strlen(v);
    if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
        return -2;
    return strtoll(v, NULL, 10);
}

static int request_has_body(struct MHD_Connection *c)
{
    long long n = content_length(c);
    return n > 0 || n == -2 || header_value(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static void iso_time(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "1970-01-01T00:00:00Z");
}

static void remote_of(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "unknown");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, a->s6_addr + 12, out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
    }
}

/* Matches path against pattern (at most one "{id}" segment, which takes one non-empty segment);
 * the id's place in path goes to *id, *idlen. */
static int pattern_match(const char *pattern, const char *path, const char **id, size_t *idlen)
{
    const char *p = pattern, *q = path;
    *id = NULL;
    *idlen = 0;
    while (*p && *q) {
        if (*p != '/' || *q != '/')
            return 0;
        p++;
        q++;
        size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
        if (pl == 4 && memcmp(p, "{id}", 4) == 0) {
            if (ql == 0 || vw_utf8_valid_prefix((const unsigned char *)q, ql) != ql)
                return 0;
            *id = q;
            *idlen = ql;
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return 0;
        }
        p += pl;
        q += ql;
    }
    return *p == 0 && *q == 0;
}

enum { ALLOW_GET = 1, ALLOW_POST = 2 };

static const char *allow_text(unsigned bits)
{
    switch (bits) {
    case ALLOW_GET:
        return "GET, HEAD";
    case ALLOW_POST:
        return "POST";
    default:
        return "GET, HEAD, POST";
    }
}

static int is_api_path(const char *path) { return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0; }

/* ---- deciding from the headers ---------------------------------------------------------------- */

/* Finds the route for path and method: 0 when found (r->kind, r->route, r->id set), else the
 * status to answer (404, 405 with *allow). */
static unsigned find_route(web_server *s, web_request *r, const char *method, unsigned *allow)
{
    int want_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int want_post = strcmp(method, "POST") == 0;
    const char *id;
    size_t idlen;
    *allow = 0;
    r->kind = ROUTE_NONE;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0] + s->api.nroutes; i++) {
        const web_route *rt = i < sizeof builtins / sizeof builtins[0] ? &builtins[i].r
                                                                      : &s->api.routes[i - sizeof builtins / sizeof builtins[0]];
        if (!rt->pattern || !rt->method || !pattern_match(rt->pattern, r->path, &id, &idlen))
            continue;
        int is_get = strcmp(rt->method, "GET") == 0;
        *allow |= is_get ? ALLOW_GET : ALLOW_POST;
        if (r->kind != ROUTE_NONE || !((is_get && want_get) || (!is_get && want_post)))
            continue;
        r->kind = i < sizeof builtins / sizeof builtins[0] ? builtins[i].kind : ROUTE_TABLE;
        r->route = rt;
        r->has_id = id != NULL;
        if (id) {
            memcpy(r->id, id, idlen);
            r->id[idlen] = 0;
        }
    }
    if (r->kind != ROUTE_NONE)
        return 0;
    if (*allow)
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    if (!is_api_path(r->path) && (r->file = web_static_find(s->files, r->path)) != NULL) {
        if (!want_get) {
            *allow = ALLOW_GET;
            return MHD_HTTP_METHOD_NOT_ALLOWED;
        }
        r->kind = ROUTE_STATIC;
        return 0;
    }
    return MHD_HTTP_NOT_FOUND;
}

/* Who asks: the session cookie and the Authorization header. */
static void resolve_principal(web_server *s, struct MHD_Connection *c, web_request *r)
{
    const char *cookie = header_value(c, MHD_HTTP_HEADER_COOKIE);
    r->has_sid = cookie && web_cookie_get(cookie, strlen(cookie), SESSION_COOKIE, r->sid, sizeof r->sid) > 0;
    if (!r->has_sid)
        r->sid[0] = 0;
    r->stale = 0;
    web_auth_resolve(s->auth, r->has_sid ? r->sid : NULL, header_value(c, MHD_HTTP_HEADER_AUTHORIZATION), &r->who,
                     &r->stale);
    if (!r->has_sid)
        r->stale = 0;
    if (!r->who.via_token && !r->who.csrf[0] && r->who.role != WEB_ROLE_NONE) {
        const char *anon = web_auth_anonymous_csrf(s->auth);
        snprintf(r->who.csrf, sizeof r->who.csrf, "%s", anon ? anon : "");
    }
}

/* The principal came from a live session cookie. */
static int has_session(const web_request *r) { return r->has_sid && !r->stale && !r->who.via_token && r->who.expires_s; }

/* Every check that needs no body. Returns MHD_YES/MHD_NO when it answered (r->responded), or -1
 * when the request goes on (the body, if any, is to be read). */
static int decide(web_server *s, struct MHD_Connection *c, web_request *r, const char *method)
{
    long long body = content_length(c);
    int has_body = request_has_body(c);
    out_headers close_if_body = {.close = has_body};

    if (r->target_long)
        return respond_error(s, c, r, MHD_HTTP_URI_TOO_LONG, &close_if_body, "request target longer than %d bytes",
                             WEB_MAX_TARGET_BYTES);
    if (body == -2)
        return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, &(out_headers){.close = 1}, "malformed Content-Length");
    if (body > 0 && (unsigned long long)body > s->lim.max_body_bytes)
        return respond_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, &(out_headers){.close = 1},
                             "request body of %lld bytes is over the limit of %zu bytes", body, s->lim.max_body_bytes);

    size_t path_len = strcspn(r->target, "?");
    if (web_path_decode(r->target, path_len, r->path, sizeof r->path) < 0)
        return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, &close_if_body,
                             "malformed path (it must start with \"/\"; no bad %%-escapes, "
                             "encoded NUL or control characters)");
    char qerr[256];
    const char *qs = r->target[path_len] == '?' ? r->target + path_len + 1 : NULL;
    int qrc = web_query_parse(qs, qs ? strlen(qs) : 0, &r->query, qerr, sizeof qerr);
    if (qrc == -ENOMEM)
        return respond(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, &(out_headers){.close = 1});
    if (qrc < 0)
        return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, &close_if_body, "%s", qerr);

    unsigned allow = 0, st = find_route(s, r, method, &allow);
    if (st == MHD_HTTP_NOT_FOUND) {
        if (strcmp(r->path, "/") == 0 && !s->files)
            return respond_error(s, c, r, st, &close_if_body, "%s", s->no_dashboard);
        char echo[PATH_ECHO_MAX + 1];
        web_text_sanitize(echo, sizeof echo, r->target, path_len);
        return respond_error(s, c, r, st, &close_if_body, "no such resource: %s", echo);
    }
    if (st == MHD_HTTP_METHOD_NOT_ALLOWED) {
        char echo[40], pecho[PATH_ECHO_MAX + 1];
        web_text_sanitize(echo, sizeof echo, method, strlen(method));
        web_text_sanitize(pecho, sizeof pecho, r->path, strlen(r->path));
        return respond_error(s, c, r, st, &(out_headers){.allow = allow_text(allow), .close = has_body},
                             "method %s is not allowed on %s (allowed: %s)", echo, pecho, allow_text(allow));
    }
    int is_post = strcmp(method, "POST") == 0;
    if (!is_post && has_body)
        return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, &(out_headers){.close = 1}, "a %s request takes no body",
                             method);

    remote_of(c, r->remote, sizeof r->remote);
    if (s->loopback || s->check_host) {
        const char *host = header_value(c, MHD_HTTP_HEADER_HOST);
        int ok = s->loopback ? web_host_is_loopback(host) : web_host_known(host, (const char *const *)s->hosts, s->nhosts);
        if (!ok) {
            char echo[100];
            web_text_sanitize(echo, sizeof echo, host ? host : "", host ? strlen(host) : 0);
            if (s->loopback)
                return respond_error(s, c, r, MHD_HTTP_MISDIRECTED_REQUEST, &close_if_body,
                                     "this box listens on its loopback address and answers only to Host localhost, "
                                     "127.0.0.1 or [::1] (not \"%s\")", echo);
            return respond_error(s, c, r, MHD_HTTP_MISDIRECTED_REQUEST, &close_if_body,
                                 "this box answers to its IP addresses and the names in web.hosts, not \"%s\"", echo);
        }
    }
    if (r->kind == ROUTE_STATIC)
        return -1; /* anyone may load the dashboard (and its login page) */
    resolve_principal(s, c, r);
    web_role need = r->route->min_role;
    if (need > r->who.role) {
        if (r->who.role == WEB_ROLE_NONE)
            return respond_error(s, c, r, MHD_HTTP_UNAUTHORIZED, &close_if_body, "log in first");
        return respond_error(s, c, r, MHD_HTTP_FORBIDDEN, &close_if_body,
                             "this needs the role \"%s\" (you have \"%s\")", web_role_name(need),
                             web_role_name(r->who.role));
    }
    if (is_post) {
        const char *origin = header_value(c, MHD_HTTP_HEADER_ORIGIN);
        if (origin && !web_origin_matches(origin, header_value(c, MHD_HTTP_HEADER_HOST))) {
            char echo[100];
            web_text_sanitize(echo, sizeof echo, origin, strlen(origin));
            return respond_error(s, c, r, MHD_HTTP_FORBIDDEN, &close_if_body,
                                 "the request comes from another site (Origin %s)", echo);
        }
        int need_csrf = r->kind != ROUTE_LOGIN && !r->who.via_token && (r->kind != ROUTE_LOGOUT || has_session(r));
        if (need_csrf && !web_auth_csrf_ok(&r->who, header_value(c, "X-CSRF-Token")))
            return respond_error(s, c, r, MHD_HTTP_FORBIDDEN, &close_if_body,
                                 "missing or wrong CSRF token (X-CSRF-Token)");
        if (r->route->json_body && !web_content_type_is_json(header_value(c, MHD_HTTP_HEADER_CONTENT_TYPE)))
            return respond_error(s, c, r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, &close_if_body,
                                 "the body must be JSON (Content-Type: application/json)");
    }
    return -1;
}

/* ---- the server's own routes ------------------------------------------------------------------ */

static mhd_result serve_static(web_server *s, struct MHD_Connection *c, web_request *r)
{
    const web_static_file *f = r->file;
    int gz = f->gz && web_accepts_gzip(header_value(c, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    out_headers h = {.type = f->type, .cache = f->cache, .etag = gz ? f->gz_etag : f->etag, .vary_encoding = f->gz != NULL,
                     .encoding = gz ? "gzip" : NULL};
    r->responded = 1;
    if (web_etag_match(header_value(c, MHD_HTTP_HEADER_IF_NONE_MATCH), h.etag)) {
        h.encoding = NULL;
        return respond(s, c, r, MHD_HTTP_NOT_MODIFIED, NULL, 0, &h);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(gz ? f->gz_len : f->len, gz ? f->gz : f->data,
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return respond(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, NULL);
    return queue(s, c, r, MHD_HTTP_OK, resp, &h);
}

static mhd_result serve_session(web_server *s, struct MHD_Connection *c, web_request *r)
{
    cJSON *o = cJSON_CreateObject();
    const web_principal *w = &r->who;
    int anon = w->role == WEB_ROLE_NONE;
    char when[32];
    if (o) {
        if (anon) {
            cJSON_AddNullToObject(o, "user");
            cJSON_AddNullToObject(o, "role");
            cJSON_AddNullToObject(o, "csrf");
        } else {
            cJSON_AddStringToObject(o, "user", w->user);
            cJSON_AddStringToObject(o, "role", web_role_name(w->role));
            if (w->csrf[0] && !w->via_token)
                cJSON_AddStringToObject(o, "csrf", w->csrf);
            else
                cJSON_AddNullToObject(o, "csrf");
        }
        cJSON_AddBoolToObject(o, "login_required", anon);
        if (!anon && w->expires_s > 0) {
            iso_time(w->expires_s, when, sizeof when);
            cJSON_AddStringToObject(o, "expires", when);
        } else {
            cJSON_AddNullToObject(o, "expires");
        }
    }
    char *doc = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return respond_json(s, c, r, MHD_HTTP_OK, doc, NULL);
}

static mhd_result serve_login(web_server *s, struct MHD_Connection *c, web_request *r)
{
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "user");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "password");
    if (!cJSON_IsString(u) || !cJSON_IsString(p) || !u->valuestring[0]) {
        cJSON_Delete(j);
        return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, NULL,
                             "a login is {\"user\": \"…\", \"password\": \"…\"} (two strings)");
    }
    char sid[WEB_AUTH_TOKEN_CHARS + 1];
    web_principal who;
    unsigned retry = 0;
    memset(&who, 0, sizeof who);
    int rc = web_auth_login(s->auth, u->valuestring, p->valuestring, r->remote, sid, &who, &retry);
    cJSON_Delete(j);
    if (rc == -EAGAIN) {
        char ra[24];
        atomic_fetch_add(&s->logins_throttled, 1);
        snprintf(ra, sizeof ra, "%u", retry ? retry : 1);
        return respond_error(s, c, r, MHD_HTTP_TOO_MANY_REQUESTS, &(out_headers){.retry_after = ra},
                             "too many failed logins; try again in %s s", ra);
    }
    if (rc < 0) {
        atomic_fetch_add(&s->logins_failed, 1);
        log_fmt(s, "failed login from %s", r->remote);
        return respond_error(s, c, r, MHD_HTTP_UNAUTHORIZED, NULL, "wrong user or password");
    }
    atomic_fetch_add(&s->logins_ok, 1);
    char cookie[COOKIE_MAX], when[32];
    web_auth_cookie(s->auth, sid, cookie, sizeof cookie);
    iso_time(who.expires_s, when, sizeof when);
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "user", who.user);
        cJSON_AddStringToObject(o, "role", web_role_name(who.role));
        cJSON_AddStringToObject(o, "csrf", who.csrf);
        cJSON_AddStringToObject(o, "expires", when);
    }
    char *doc = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return respond_json(s, c, r, MHD_HTTP_OK, doc, &(out_headers){.set_cookie = cookie});
}

static mhd_result serve_logout(web_server *s, struct MHD_Connection *c, web_request *r)
{
    char clear[COOKIE_MAX];
    if (r->has_sid)
        web_auth_logout(s->auth, r->sid);
    web_auth_cookie_clear(s->auth, clear, sizeof clear);
    return respond(s, c, r, MHD_HTTP_NO_CONTENT, NULL, 0, &(out_headers){.set_cookie = clear});
}

static mhd_result serve_stream(web_server *s, struct MHD_Connection *c, web_request *r, const char *method)
{
    out_headers h = {.type = "text/event-stream", .event_stream = 1};
    if (strcmp(method, "HEAD") == 0) {
        r->responded = 1;
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        return resp ? queue(s, c, r, MHD_HTTP_OK, resp, &h) : MHD_NO;
    }
    web_sse_stream *st = web_sse_open(s->sse, header_value(c, MHD_HTTP_HEADER_LAST_EVENT_ID), r->remote);
    if (!st) {
        if (errno == EMFILE)
            return respond_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "too many live streams from %s (at most %d); close one", r->remote, WEB_SSE_PER_ADDRESS);
        if (errno == EBUSY)
            return respond_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                                 "too many live streams (at most %u); try again later", s->lim.max_streams);
        return respond_error(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "the server is stopping");
    }
    r->responded = 1;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, web_sse_read, st, web_sse_close);
    if (!resp) {
        web_sse_close(st);
        return respond(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, NULL);
    }
    /* a heartbeat comes every WEB_SSE_HEARTBEAT_S: the idle timeout must be longer */
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)(3 * WEB_SSE_HEARTBEAT_S));
    return queue(s, c, r, MHD_HTTP_OK, resp, &h);
}

static mhd_result call_handler(web_server *s, struct MHD_Connection *c, web_request *r, const char *method)
{
    const web_route *rt = r->route;
    web_call call = {
        .method = method,
        .path = r->path,
        .id = r->has_id ? r->id : NULL,
        .query = r->query,
        .body = r->body,
        .body_len = r->body_len,
        .user = r->who.user[0] ? r->who.user : "anonymous",
        .role = r->who.role,
        .remote = r->remote,
    };
    if (!rt->handler) {
        log_fmt(s, "%s %s: no handler", rt->method, rt->pattern);
        return respond_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "could not build the document for %s",
                             r->path);
    }
    web_reply rep = rt->handler(s->api.ctx, &call);
    unsigned status = rep.status;
    if (status < 200 || status > 599) {
        free(rep.body);
        log_fmt(s, "%s %s: the handler returned status %u", method, r->path, status);
        return respond_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "could not build the document for %s",
                             r->path);
    }
    out_headers h = {.type = rep.content_type};
    if (status == MHD_HTTP_NO_CONTENT) {
        free(rep.body);
        return respond(s, c, r, status, NULL, 0, &h);
    }
    if (!rep.body) {
        if (status >= 400)
            return respond_json(s, c, r, status, web_error_json(status, MHD_get_reason_phrase_for(status)), NULL);
        log_fmt(s, "%s %s: the document could not be built", method, r->path);
        return respond_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "could not build the document for %s",
                             r->path);
    }
    return respond_json(s, c, r, status, rep.body, &h);
}

static mhd_result dispatch(web_server *s, struct MHD_Connection *c, web_request *r, const char *method)
{
    if (r->route && r->route->json_body && strcmp(method, "POST") == 0) {
        char err[200];
        if (web_json_object_check(r->body, r->body_len, err, sizeof err) < 0)
            return respond_error(s, c, r, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
    }
    switch (r->kind) {
    case ROUTE_STATIC:
        return serve_static(s, c, r);
    case ROUTE_SESSION:
        return serve_session(s, c, r);
    case ROUTE_LOGIN:
        return serve_login(s, c, r);
    case ROUTE_LOGOUT:
        return serve_logout(s, c, r);
    case ROUTE_STREAM:
        return serve_stream(s, c, r, method);
    case ROUTE_TABLE:
        return call_handler(s, c, r, method);
    case ROUTE_NONE:
        break;
    }
    return respond_error(s, c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "no route");
}

/* ---- MHD callbacks ---------------------------------------------------------------------------- */

/* Called with the request line, before MHD parses or decodes anything: keeps the raw target. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    size_t n = strlen(uri);
    int too_long = n > WEB_MAX_TARGET_BYTES;
    if (too_long)
        n = 0; /* never used beyond the 414 */
    web_request *r = calloc(1, sizeof *r + n + 1);
    if (!r)
        return NULL;
    r->target_long = too_long;
    memcpy(r->target, uri, n);
    r->target[n] = 0;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why)
{
    web_server *s = cls;
    web_request *r = *con_cls;
    (void)c;
    (void)why;
    if (!r)
        return;
    if (r->counted) {
        pthread_mutex_lock(&s->lock);
        if (--s->in_flight == 0)
            pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->lock);
    }
    web_query_free(r->query);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* Appends a piece of the body; beyond max_body_bytes the body is dropped (and at most DISCARD_MAX
 * more read) and the answer will be 413. 0, or -1 to close the connection. */
static int take_body(web_server *s, web_request *r, const char *data, size_t n)
{
    if (r->body_too_large) {
        r->discarded += n;
        return r->discarded > DISCARD_MAX ? -1 : 0;
    }
    if (r->body_len + n > s->lim.max_body_bytes) {
        r->body_too_large = 1;
        r->discarded = r->body_len + n;
        free(r->body);
        r->body = NULL;
        r->body_len = 0;
        return 0;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 1024;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        if (cap > s->lim.max_body_bytes + 1)
            cap = s->lim.max_body_bytes + 1;
        char *b = realloc(r->body, cap);
        if (!b)
            return -1;
        r->body = b;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
    return 0;
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    web_server *s = cls;
    web_request *r = *con_cls;
    (void)url; /* MHD's decoded copy; we route on our own decoding of the raw target */
    (void)version;
    if (!r) /* the request record could not be allocated */
        return respond(s, c, NULL, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, &(out_headers){.close = 1});
    if (r->responded)
        return *upload_data_size ? MHD_NO : MHD_YES; /* never read a body we refused */
    if (!r->counted) {
        r->counted = 1;
        atomic_fetch_add(&s->requests, 1);
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        /* MHD closes the connection after a response queued on this first call (the headers
         * alone): right for a request with a body that is refused unread; any other request is
         * answered on a later call, so that its connection can be kept alive. */
        if (!request_has_body(c))
            return MHD_YES;
    }
    if (!r->decided) {
        int d = decide(s, c, r, method);
        if (d != -1)
            return (mhd_result)d;
        r->decided = 1;
        if (strcmp(method, "POST") == 0 && take_body(s, r, "", 0) < 0)
            return respond(s, c, r, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, 0, &(out_headers){.close = 1});
        if (request_has_body(c))
            return MHD_YES; /* the body comes in the next calls */
    }
    if (*upload_data_size) {
        int rc = take_body(s, r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return rc < 0 ? MHD_NO : MHD_YES;
    }
    if (r->body_too_large)
        return respond_error(s, c, r, MHD_HTTP_CONTENT_TOO_LARGE, &(out_headers){.close = 1},
                             "request body over the limit of %zu bytes", s->lim.max_body_bytes);
    return dispatch(s, c, r, method);
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static void fill_limits(web_limits *lim, const web_limits *given)
{
    *lim = default_limits;
#define TAKE(f) if (given->f) lim->f = given->f
    TAKE(max_connections);
    TAKE(max_per_ip);
    TAKE(timeout_s);
    TAKE(conn_memory_bytes);
    TAKE(max_body_bytes);
    TAKE(max_streams);
    TAKE(drain_ms);
#undef TAKE
}

static void free_hosts(web_server *s)
{
    for (size_t i = 0; i < s->nhosts; i++)
        free(s->hosts[i]);
    free(s->hosts);
    s->hosts = NULL;
    s->nhosts = 0;
}

/* The listening rule: beyond loopback, users or read-only anonymous access, never anonymous
 * operators. 0 or -EPERM with err. */
static int check_exposure(const char *listen, int loopback, const web_auth_config *ac, char *err, size_t errlen)
{
    if (loopback)
        return 0;
    int users = ac->nusers > 0;
    if ((!users && ac->anonymous == WEB_ROLE_NONE) || (!users && ac->anonymous > WEB_ROLE_VIEWER)) {
        snprintf(err, errlen,
                 "%s: refusing to listen beyond this machine without users (set web.users, or web.anonymous to "
                 "\"viewer\" for read-only access)",
                 listen);
        return -EPERM;
    }
    if (ac->anonymous > WEB_ROLE_VIEWER) {
        snprintf(err, errlen,
                 "%s: refusing anonymous \"%s\" access beyond this machine (web.anonymous may be \"viewer\" at most "
                 "there, or \"none\")",
                 listen, web_role_name(ac->anonymous));
        return -EPERM;
    }
    return 0;
}

web_server *web_start(const web_options *o, const web_api *api, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (!o || !api) {
        snprintf(err, errlen, "web: no %s given", o ? "API" : "options");
        return NULL;
    }
    if (!o->tls_cert_pem != !o->tls_key_pem) {
        snprintf(err, errlen, "web.tls: both a certificate and a key are needed");
        return NULL;
    }
    web_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "web: out of memory");
        return NULL;
    }
    int have_lock = 0, have_cond = 0;
    pthread_condattr_t ca;
    s->listen_fd = -1;
    s->api = *api;
    s->tls = o->tls_cert_pem != NULL;
    fill_limits(&s->lim, &o->limits);
    atomic_init(&s->stopping, 0);
    clock_gettime(CLOCK_MONOTONIC, &s->log_window_start);
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        goto fail_resources;
    have_lock = 1;
    if (pthread_condattr_init(&ca) != 0)
        goto fail_resources;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    have_cond = pthread_cond_init(&s->idle, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!have_cond)
        goto fail_resources;

    web_auth_config ac = {.anonymous = WEB_ROLE_OPERATOR};
    if (o->auth)
        ac = *o->auth;
    if (s->tls)
        ac.secure_cookie = 1;
    char aerr[256] = "";
    s->auth = web_auth_new(&ac, aerr, sizeof aerr);
    if (!s->auth) {
        snprintf(err, errlen, "%s", aerr[0] ? aerr : "web: the authentication could not be set up");
        goto fail;
    }
    if (web_static_load(o->static_dir, &s->files, err, errlen) < 0)
        goto fail;
    if (!s->files)
        snprintf(s->no_dashboard, sizeof s->no_dashboard, "the dashboard is not installed (%s%.100s)",
                 o->static_dir ? "no folder " : "no static folder is configured", o->static_dir ? o->static_dir : "");
    s->sse = web_sse_new(s->lim.max_streams);
    if (!s->sse)
        goto fail_resources;

    s->listen_fd = web_listen_open(o->listen, &s->port, err, errlen);
    if (s->listen_fd < 0)
        goto fail;
    s->loopback = web_listen_is_loopback(s->listen_fd);
    if (check_exposure(o->listen, s->loopback, &ac, err, errlen) < 0)
        goto fail;
    s->check_host = !s->loopback && (ac.anonymous > WEB_ROLE_NONE || o->nhosts > 0);
    if (o->nhosts) {
        if (!(s->hosts = calloc(o->nhosts, sizeof *s->hosts)))
            goto fail_resources;
        for (size_t i = 0; i < o->nhosts; i++)
            if (!(s->hosts[s->nhosts++] = strdup(o->hosts[i] ? o->hosts[i] : "")))
                goto fail_resources;
    }
    struct stat sock;
    if (fstat(s->listen_fd, &sock) != 0) {
        snprintf(err, errlen, "%s: %s", o->listen, strerror(errno));
        goto fail;
    }

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (s->tls ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls_opts[] = {
        {s->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, (void *)o->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    pthread_mutex_lock(&s->lock);
    s->starting = 1;
    pthread_mutex_unlock(&s->lock);
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
        MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->lim.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, s->lim.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->lim.conn_memory_bytes,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_END);
    pthread_mutex_lock(&s->lock);
    s->starting = 0;
    pthread_mutex_unlock(&s->lock);
    if (!s->mhd) {
        if (s->tls)
            snprintf(err, errlen, "web.tls: the certificate or key was refused (%s)",
                     s->start_msg[0] ? s->start_msg : "not PEM, or the key does not match the certificate");
        else
            snprintf(err, errlen, "%s: the HTTP server (libmicrohttpd) did not start%s%s", o->listen,
                     s->start_msg[0] ? ": " : "", s->start_msg);
        /* Depending on where it failed, MHD may already have closed the socket, and its number
         * may belong to someone else by now: close it only if it is still our socket. */
        struct stat now;
        if (fstat(s->listen_fd, &now) != 0 || now.st_dev != sock.st_dev || now.st_ino != sock.st_ino)
            s->listen_fd = -1;
        goto fail;
    }
    return s;

fail_resources:
    snprintf(err, errlen, "web: out of resources (memory, mutex or condition)");
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free_hosts(s);
    web_sse_free(s->sse);
    web_static_free(s->files);
    web_auth_free(s->auth);
    if (have_cond)
        pthread_cond_destroy(&s->idle);
    if (have_lock)
        pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

unsigned web_port(const web_server *s) { return s ? s->port : 0; }

void web_publish(web_server *s, const char *event, const char *data)
{
    if (s)
        (void)web_sse_publish(s->sse, event, data);
}

void web_get_stats(web_server *s, web_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return;
    out->requests = atomic_load(&s->requests);
    out->status_2xx = atomic_load(&s->status_2xx);
    out->status_3xx = atomic_load(&s->status_3xx);
    out->status_4xx = atomic_load(&s->status_4xx);
    out->status_5xx = atomic_load(&s->status_5xx);
    out->logins_ok = atomic_load(&s->logins_ok);
    out->logins_failed = atomic_load(&s->logins_failed);
    out->logins_throttled = atomic_load(&s->logins_throttled);
    web_sse_stats(s->sse, &out->streams_open, &out->events_published, &out->events_dropped);
}

void web_stop(web_server *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, 1); /* responses from now on close their connection */
    /* Stop accepting. The socket stays open until MHD stopped (its threads may still look at it);
     * when quiescing fails, MHD keeps the socket and closes it itself. */
    MHD_socket quiesced = MHD_quiesce_daemon(s->mhd);
    /* ... but it stops listening now, so that a client connecting during the drain is refused at
     * once instead of waiting in the backlog for a reset. */
    if (quiesced != MHD_INVALID_SOCKET)
        (void)shutdown(quiesced, SHUT_RDWR);
    web_sse_stop(s->sse); /* every stream's reader ends now */

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += s->lim.drain_ms / 1000;
    deadline.tv_nsec += (long)(s->lim.drain_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (s->in_flight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == ETIMEDOUT)
            break;
    unsigned left = s->in_flight;
    pthread_mutex_unlock(&s->lock);
    if (left)
        log_fmt(s, "stopping with %u request%s unfinished after %u ms", left, left == 1 ? "" : "s", s->lim.drain_ms);

    MHD_stop_daemon(s->mhd); /* joins the connection threads: no callback runs after this */
    if (quiesced != MHD_INVALID_SOCKET)
        close(quiesced);
    web_sse_free(s->sse);
    web_static_free(s->files);
    web_auth_free(s->auth);
    free_hosts(s);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
