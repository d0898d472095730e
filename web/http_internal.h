/* web/http_internal.h — pieces shared by the files of web/ and by tests/unit/test_web.c; not the
 * module's face (that is web/http.h). The text functions are pure: no I/O, no global state. */
#ifndef VW_WEB_HTTP_INTERNAL_H
#define VW_WEB_HTTP_INTERNAL_H

#include <stddef.h>

/* Opens a listening TCP socket for "ADDR:PORT" (see web_start): non-blocking, close-on-exec,
 * SO_REUSEADDR. Returns the socket and the bound port in *port, or a negative errno with a
 * message in err: -EINVAL for a malformed value, -ENOENT for a host name that does not resolve,
 * the bind/listen errno otherwise. */
int web_listen_open(const char *spec, unsigned *port, char *err, size_t errlen);

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

#endif
