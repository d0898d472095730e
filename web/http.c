/* web/http.c — the box's HTTP server: libmicrohttpd (MHD) serving a fixed table of JSON routes,
 * with a JSON error for everything else.
 *
 * Threads: MHD runs `threads` polling workers (epoll), each serving many connections; every
 * function here below web_start/web_stop runs on one of them, so the daemon's callbacks run
 * concurrently and a slow callback delays the other connections of its worker.
 * Ownership: the listen socket is opened by http_listen.c, lent to MHD and closed here after MHD
 * stopped. Each request owns a small malloc'd record from the moment its request line is read
 * (MHD's URI-log hook, which also gives us the target exactly as sent, before MHD decodes it)
 * until MHD reports the request completed.
 * Bounds: connections in all and per address, idle timeout, per-connection memory (request line
 * and headers; MHD answers a request that overflows it itself), request target length, body
 * size. Every response is decided from the headers alone; no route reads a body, so a body is
 * never buffered, and a response to a request that sent one closes the connection.
 * Routing is done on our own strict decoding of the raw path: an encoded NUL or control
 * character is a 400, never a truncated path that matches a route. */
#include "web/http.h"
#include "web/http_internal.h"

#include <errno.h>
#include <microhttpd.h>
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
#define PATH_ECHO_MAX 200 /* bytes of the request path quoted back in a 404 */

static const web_limits default_limits = {
    .max_connections = 64,
    .max_per_ip = 16,
    .timeout_s = 10,
    .conn_memory_bytes = 32 * 1024,
    .max_body_bytes = 64 * 1024,
    .threads = 2,
    .drain_ms = 3000,
};

struct web_server {
    struct MHD_Daemon *mhd;
    web_api api;
    web_limits lim;
    int listen_fd;
    unsigned port;
    atomic_int stopping;

    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t idle;  /* signalled when in_flight drops to 0; CLOCK_MONOTONIC */
    unsigned in_flight;   /* requests whose headers were read and whose response is not done */
    struct timespec log_window_start;
    unsigned log_lines, log_suppressed;
};

/* One request, from its request line to its completion. */
typedef struct web_request {
    int counted;     /* in web_server.in_flight */
    int responded;   /* a response is queued */
    int target_long; /* the target was longer than WEB_MAX_TARGET_BYTES */
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
    {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};

static const char json_type[] = "application/json; charset=utf-8";
static const char allow_get[] = "GET, HEAD";

/* Queues body (malloc'd, taken over; NULL = out of memory) with the headers every response has.
 * allow: the Allow header of a 405, or NULL. */
static mhd_result respond(web_server *s, struct MHD_Connection *c, unsigned status, char *body,
                          const char *allow, int close_after)
{
    static const char oom[] = "{\"error\":{\"status\":503,\"message\":\"out of memory\"}}";
    struct MHD_Response *r = NULL;
    if (body) {
        r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(body);
    }
    if (!r) {
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO; /* MHD closes the connection */
    }
    int ok = 1;
    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        ok &= MHD_add_response_header(r, security_headers[i][0], security_headers[i][1]) == MHD_YES;
    ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, json_type) == MHD_YES;
    ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
    if (allow)
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) == MHD_YES;
    if (close_after || atomic_load(&s->stopping))
        ok &= MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") == MHD_YES;
    mhd_result ret = ok ? MHD_queue_response(c, status, r) : MHD_NO;
    MHD_destroy_response(r);
    return ret;
}

static mhd_result respond_error(web_server *s, struct MHD_Connection *c, unsigned status,
                                const char *allow, int close_after, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static mhd_result respond_error(web_server *s, struct MHD_Connection *c, unsigned status,
                                const char *allow, int close_after, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return respond(s, c, status, web_error_json(status, msg), allow, close_after);
}

/* ---- routes ----------------------------------------------------------------------------------- */

static char *doc_status(const web_api *a) { return a->status_json ? a->status_json(a->ctx) : NULL; }
static char *doc_assets(const web_api *a) { return a->assets_json ? a->assets_json(a->ctx) : NULL; }

static const struct route {
    const char *path;
    char *(*document)(const web_api *api); /* malloc'd JSON; NULL → 500 */
} routes[] = {
    {"/api/v1/status", doc_status},
    {"/api/v1/assets", doc_assets},
};

static const struct route *find_route(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(routes[i].path, path) == 0)
            return &routes[i];
    return NULL;
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
    web_request *r = malloc(sizeof *r + n + 1);
    if (!r)
        return NULL;
    r->counted = r->responded = 0;
    r->target_long = too_long;
    memcpy(r->target, uri, n);
    r->target[n] = 0;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
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
    free(r);
    *con_cls = NULL;
}

/* Content-Length as a number; -1 when absent, -2 when not a number. */
static long long content_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
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
    return n > 0 || n == -2 ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static mhd_result route_request(web_server *s, struct MHD_Connection *c, const web_request *r,
                                const char *method)
{
    long long body = content_length(c);
    int has_body = request_has_body(c);

    if (r->target_long)
        return respond_error(s, c, MHD_HTTP_URI_TOO_LONG, NULL, has_body,
                             "request target longer than %d bytes", WEB_MAX_TARGET_BYTES);
    if (body == -2)
        return respond_error(s, c, MHD_HTTP_BAD_REQUEST, NULL, 1, "malformed Content-Length");
    if (body > 0 && (unsigned long long)body > s->lim.max_body_bytes)
        return respond_error(s, c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, 1,
                             "request body of %lld bytes is over the limit of %zu bytes", body,
                             s->lim.max_body_bytes);

    size_t path_len = strcspn(r->target, "?");
    char path[WEB_MAX_TARGET_BYTES + 1];
    if (web_path_decode(r->target, path_len, path, sizeof path) < 0)
        return respond_error(s, c, MHD_HTTP_BAD_REQUEST, NULL, has_body,
                             "malformed path (it must start with \"/\"; no bad %%-escapes, "
                             "encoded NUL or control characters)");
    const struct route *route = find_route(path);
    if (!route) {
        char echo[PATH_ECHO_MAX + 1];
        web_text_sanitize(echo, sizeof echo, r->target, path_len);
        return respond_error(s, c, MHD_HTTP_NOT_FOUND, NULL, has_body, "no such resource: %s", echo);
    }
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0, is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!is_get && !is_head) {
        char echo[40];
        web_text_sanitize(echo, sizeof echo, method, strlen(method));
        return respond_error(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, allow_get, has_body,
                             "method %s is not allowed on %s (allowed: %s)", echo, route->path, allow_get);
    }
    if (has_body)
        return respond_error(s, c, MHD_HTTP_BAD_REQUEST, NULL, 1, "a %s request takes no body", method);

    char *doc = route->document(&s->api);
    if (!doc) {
        log_fmt(s, "%s: the document could not be built", route->path);
        return respond_error(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, 0,
                             "could not build the document for %s", route->path);
    }
    return respond(s, c, MHD_HTTP_OK, doc, NULL, 0);
}

static mhd_result on_request(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls)
{
    web_server *s = cls;
    web_request *r = *con_cls;
    (void)url; /* MHD's decoded copy; we route on our own decoding of the raw target */
    (void)version;
    (void)upload_data;
    if (!r) /* the request record could not be allocated */
        return respond(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL, 1);
    if (r->responded)
        return *upload_data_size ? MHD_NO : MHD_YES; /* never read a body we refused */
    if (!r->counted) {
        r->counted = 1;
        pthread_mutex_lock(&s->lock);
        s->in_flight++;
        pthread_mutex_unlock(&s->lock);
        /* MHD closes the connection after a response queued on this first call (the headers
         * alone): right for a request with a body, which is refused unread; any other request is
         * answered on the next call, so that its connection can be kept alive. */
        if (!request_has_body(c))
            return MHD_YES;
    }
    r->responded = 1;
    return route_request(s, c, r, method);
}

/* ---- lifecycle -------------------------------------------------------------------------------- */

static void fill_limits(web_limits *lim, const web_limits *given)
{
    *lim = default_limits;
    if (!given)
        return;
#define TAKE(f) if (given->f) lim->f = given->f
    TAKE(max_connections);
    TAKE(max_per_ip);
    TAKE(timeout_s);
    TAKE(conn_memory_bytes);
    TAKE(max_body_bytes);
    TAKE(threads);
    TAKE(drain_ms);
#undef TAKE
}

web_server *web_start(const char *listen, const web_api *api, char *err, size_t errlen)
{
    return web_start_ex(listen, api, NULL, err, errlen);
}

web_server *web_start_ex(const char *listen, const web_api *api, const web_limits *limits,
                         char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (!api) {
        snprintf(err, errlen, "web: no API callbacks given");
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
    fill_limits(&s->lim, limits);
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

    s->listen_fd = web_listen_open(listen, &s->port, err, errlen);
    if (s->listen_fd < 0)
        goto fail;
    struct stat sock;
    if (fstat(s->listen_fd, &sock) != 0) {
        snprintf(err, errlen, "%s: %s", listen, strerror(errno));
        goto fail;
    }

    /* The connection limit is shared out among the workers, so keep at least one per worker. */
    if (s->lim.threads > s->lim.max_connections)
        s->lim.threads = s->lim.max_connections;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_THREAD_POOL_SIZE, s->lim.threads,
        MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->lim.max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, s->lim.timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->lim.conn_memory_bytes,
        MHD_OPTION_URI_LOG_CALLBACK, on_request_line, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errlen, "%s: the HTTP server (libmicrohttpd) did not start", listen);
        /* Depending on where it failed, MHD may already have closed the socket, and its number
         * may belong to someone else by now: close it only if it is still our socket. */
        struct stat now;
        if (fstat(s->listen_fd, &now) != 0 || now.st_dev != sock.st_dev || now.st_ino != sock.st_ino)
            s->listen_fd = -1;
        goto fail;
    }
    return s;

fail_resources:
    snprintf(err, errlen, "web: out of resources (mutex/condition)");
fail:
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (have_cond)
        pthread_cond_destroy(&s->idle);
    if (have_lock)
        pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

unsigned web_port(const web_server *s) { return s ? s->port : 0; }

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
        log_fmt(s, "stopping with %u request%s unfinished after %u ms", left, left == 1 ? "" : "s",
                s->lim.drain_ms);

    MHD_stop_daemon(s->mhd); /* joins the workers: no callback runs after this */
    if (quiesced != MHD_INVALID_SOCKET)
        close(quiesced);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
