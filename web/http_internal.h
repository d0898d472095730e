/* web/http_internal.h — pieces shared by the files of web/ and by tests/unit/test_web.c and the
 * fuzz target tests/fuzz/fuzz_query.c; not the module's face (that is web/http.h). The text
 * functions (http_text.c, query.c) are pure: no I/O, no global state. */
#ifndef VW_WEB_HTTP_INTERNAL_H
#define VW_WEB_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "web/http.h"

/* ---- http_listen.c ---------------------------------------------------------------------------- */

/* Opens a listening TCP socket for "ADDR:PORT" (see web_start): non-blocking, close-on-exec,
 * SO_REUSEADDR. Returns the socket and the bound port in *port, or a negative errno with a
 * message in err: -EINVAL for a malformed value, -ENOENT for a host name that does not resolve,
 * the bind/listen errno otherwise. */
int web_listen_open(const char *spec, unsigned *port, char *err, size_t errlen);

/* 1 when the socket's bound address is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z);
 * 0 otherwise (0.0.0.0 and :: are every interface, not loopback) or when it cannot be read. */
int web_listen_is_loopback(int fd);

/* ---- http_text.c ------------------------------------------------------------------------------ */

/* The value of one hexadecimal digit (either case), or -1. */
int web_hex_value(unsigned char c);

/* Percent-decodes the path of a request target (raw[0..rawlen), without the query) into out.
 * Returns the decoded length; -EINVAL when the path does not start with '/', has a malformed
 * %-escape, or decodes to NUL or another control character; -ENAMETOOLONG when out is too small. */
int web_path_decode(const char *raw, size_t rawlen, char *out, size_t outcap);

/* Copies src[0..srclen) into dst as printable, valid UTF-8: every byte of an invalid sequence and
 * every control character (C0, DEL, C1) becomes U+FFFD. When it does not fit in dstcap (≥ 8) it is
 * cut at a character boundary and ends with "…". Returns strlen(dst). */
size_t web_text_sanitize(char *dst, size_t dstcap, const char *src, size_t srclen);

/* {"error":{"status":STATUS,"message":MESSAGE}} with the message sanitized (web_text_sanitize,
 * at most 300 bytes), malloc'd; NULL when out of memory. */
char *web_error_json(unsigned status, const char *message);

/* ---- query.c: query strings, cookies, request bodies, Origin (pure) ---------------------------- */

/* Parses the query string qs[0..len) (without the '?'; qs may be NULL when len is 0) into *out
 * (free with web_query_free). Parameters are separated by '&' (empty pieces are skipped), a name
 * without '=' has the value "". Names and values are percent-decoded ('+' is a space; "%" must be
 * followed by two hex digits) and must be valid UTF-8 without control characters (C0, DEL, C1);
 * names are non-empty, at most WEB_MAX_PARAM_NAME bytes and not repeated; at most WEB_MAX_PARAMS
 * parameters. Returns 0, or -EINVAL with *out NULL and err naming what was wrong
 * ("query parameter \"from\": bad %-escape"), -ENOMEM when out of memory. */
int web_query_parse(const char *qs, size_t len, web_query **out, char *err, size_t errlen);
void web_query_free(web_query *q); /* accepts NULL */
/* The parameters in the order they came (i < web_query_count). */
size_t web_query_count(const web_query *q);
const char *web_query_name_at(const web_query *q, size_t i);
const char *web_query_value_at(const web_query *q, size_t i);

/* The value of cookie `name` in a Cookie header h[0..len) ("a=1; vw_session=XYZ;b=2"; spaces
 * around pieces tolerated; a value in double quotes loses them; the first of a repeated name
 * counts), copied NUL-terminated into out. Returns its length, -ENOENT when absent, -EINVAL when
 * the value has bytes a cookie value may not hold (controls, space, '"', ',', ';', '\\', non-ASCII),
 * -E2BIG when it does not fit in outcap. Never reads past h[len). */
int web_cookie_get(const char *h, size_t len, const char *name, char *out, size_t outcap);

/* A request body that must be a JSON object: body[0..len) followed by a NUL at body[len]. 0, or
 * -EINVAL with err ("malformed JSON body: …"): a NUL byte, invalid UTF-8, a syntax error, trailing
 * text, or a value that is not an object. */
int web_json_object_check(const char *body, size_t len, char *err, size_t errlen);

/* 1 when a Content-Type header value is application/json (case-insensitive, parameters such as
 * "; charset=utf-8" allowed), else 0 (NULL included). */
int web_content_type_is_json(const char *v);

/* 1 when the Origin header value ("http://host:port") names the same host and port as the Host
 * header (case-insensitive; a default port, 80 for http and 443 for https, may be left out on
 * either side), else 0 ("null", a missing Host, anything malformed). */
int web_origin_matches(const char *origin, const char *host);
/* 1 when a Host header names this machine's loopback: "localhost", 127.0.0.0/8 or [::1], with or
 * without a port. A server listening on loopback answers only such requests, so that a web page
 * whose name is re-pointed at 127.0.0.1 (DNS rebinding) cannot reach it. */
int web_host_is_loopback(const char *host);
/* 1 when a Host header is an IP literal (IPv4, or [IPv6]) or one of names (case-insensitive), with
 * or without a port. */
int web_host_known(const char *host, const char *const *names, size_t n);

/* ---- static.c: the dashboard's files, read once ----------------------------------------------- */

#define WEB_STATIC_FILE_MAX (4u << 20)   /* bytes of one file */
#define WEB_STATIC_TOTAL_MAX (16u << 20) /* bytes of all files together */

typedef struct web_static_file {
    char *name;                /* "index.html", "assets/app.js" */
    unsigned char *data;       /* the file */
    size_t len;
    unsigned char *gz;         /* NAME.gz when it exists, else NULL */
    size_t gz_len;
    char etag[24], gz_etag[24]; /* strong: "\"<16 hex digits>\"" of a 64-bit hash of the bytes */
    const char *type;          /* Content-Type */
    const char *cache;         /* Cache-Control */
} web_static_file;

typedef struct web_static web_static;

/* Reads dir (files directly in it and in one level of sub-folders; names [A-Za-z0-9._-]+ not
 * starting with '.'; symbolic links and other kinds are skipped). 0 with *out set; 0 with *out NULL
 * when dir is NULL or does not exist; a negative errno with err (a file over
 * WEB_STATIC_FILE_MAX, all over WEB_STATIC_TOTAL_MAX, a read error). */
int web_static_load(const char *dir, web_static **out, char *err, size_t errlen);
void web_static_free(web_static *st); /* accepts NULL */
/* The file for a decoded request path ("/" → index.html), NULL when there is none. Only the names
 * read at load are ever found: the path is compared, never opened. */
const web_static_file *web_static_find(const web_static *st, const char *path);
/* Content-Type by a name's extension. */
const char *web_static_type(const char *name);
/* 1 when an If-None-Match header value lists etag (or is "*"); weak comparison. */
int web_etag_match(const char *if_none_match, const char *etag);
/* 1 when an Accept-Encoding header value accepts gzip (not with q=0). */
int web_accepts_gzip(const char *accept_encoding);

/* ---- sse.c: Server-Sent Events ---------------------------------------------------------------- */

#define WEB_SSE_RING 256          /* events kept for Last-Event-ID */
#define WEB_SSE_DATA_MAX 4096     /* bytes of an event's data */
#define WEB_SSE_NAME_MAX 32       /* bytes of an event's name */
#define WEB_SSE_HEARTBEAT_S 15    /* a comment line after this long without an event */

typedef struct web_sse web_sse;
typedef struct web_sse_stream web_sse_stream;

web_sse *web_sse_new(unsigned max_streams);
void web_sse_free(web_sse *h); /* accepts NULL; every stream must have been closed */
/* Keeps the event and wakes every stream. 0, or -EINVAL (a bad name, data too long or with CR/LF:
 * dropped and counted), -ENOMEM (dropped and counted). Never blocks on a client. */
int web_sse_publish(web_sse *h, const char *event, const char *data);
/* A new stream for the client at address remote, starting after last_event_id (NULL or not a
 * number: only new events). NULL with errno EBUSY when max_streams are open, EMFILE when remote
 * has WEB_SSE_PER_ADDRESS open already (one address cannot take every slot), ENOMEM, or
 * ESHUTDOWN after web_sse_stop. */
#define WEB_SSE_PER_ADDRESS 4
web_sse_stream *web_sse_open(web_sse *h, const char *last_event_id, const char *remote);
/* libmicrohttpd's content reader for a stream (blocks until there is something to send, at most
 * WEB_SSE_HEARTBEAT_S) and its free callback (closes the stream). */
ssize_t web_sse_read(void *stream, uint64_t pos, char *buf, size_t max);
void web_sse_close(void *stream);
/* Ends every stream: their readers return end of stream at once, and new ones are refused. */
void web_sse_stop(web_sse *h);
/* streams open, events published, events dropped */
void web_sse_stats(web_sse *h, unsigned *open, uint64_t *published, uint64_t *dropped);

#endif
