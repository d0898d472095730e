/* alerts/send.h — the transports of a notification, through libcurl: an e-mail to an SMTP server and
 * an HTTP request to a webhook (the SMS gateways). Each call blocks for at most its timeout and says
 * exactly what the server answered, so that the outbox can retry or give up and `vibewatch
 * alert-test` can show it to the engineer commissioning the box.
 *
 * E-mail: smtp://host[:port] (default port 25; 587 is the usual submission port) with STARTTLS
 * required (ALERTS_TLS_REQUIRED: refuses to send in the clear), opportunistic (ALERTS_TLS_TRY) or
 * off (ALERTS_TLS_NONE), or smtps://host[:port] (TLS from the first byte, port 465). Certificates
 * are checked (the system's CAs, or ca_file) unless tls_insecure. AUTH when user is given (libcurl
 * picks PLAIN or LOGIN as the server offers; never over a connection in the clear unless tls is
 * NONE). The envelope: MAIL FROM from_addr, RCPT TO each address; delivered when the server
 * accepted the DATA (250) for at least one recipient.
 *
 * Webhook: POST or PUT of body with its Content-Type, extra headers, basic auth (user/password) or a
 * bearer token, and an Idempotency-Key header (the outbox's stable key, so that a receiver can drop
 * a repeat after a crash between its answer and our record of it). 2xx is delivered; redirects are
 * not followed (a 3xx is an error naming the Location).
 *
 * Threads: each call uses its own curl handle; call curl_global_init once at start (the daemon
 * does). Nothing is kept between calls. */
#ifndef VW_ALERTS_SEND_H
#define VW_ALERTS_SEND_H

#include <stdbool.h>
#include <stddef.h>

enum alerts_tls { ALERTS_TLS_REQUIRED = 0, ALERTS_TLS_TRY, ALERTS_TLS_NONE };

typedef struct alerts_send_result {
    int code;           /* the last SMTP reply code or the HTTP status; 0: no answer (connection) */
    bool retry;         /* a failure worth retrying (see alerts_smtp_send / alerts_http_send) */
    char answer[512];   /* what the server said: its last reply line(s) (SMTP), or the status line
                           and the start of the body (HTTP), printable, "" when none */
    char error[512];    /* "" when delivered; else what went wrong, naming the server's URL */
} alerts_send_result;

typedef struct alerts_smtp_cfg {
    const char *url;               /* smtp://… or smtps://… */
    enum alerts_tls tls;           /* for smtp:// (smtps:// is always TLS) */
    const char *user, *password;   /* NULL user: no AUTH */
    const char *ca_file;           /* NULL: the system's CAs */
    bool tls_insecure;             /* do not check the certificate (tests only) */
    const char *from_addr;         /* envelope sender (an addr-spec) */
    const char *const *rcpt;       /* envelope recipients (addr-specs) */
    size_t nrcpt;
    double timeout_s;              /* the whole exchange (default 30 when ≤ 0) */
} alerts_smtp_cfg;

/* Sends msg (a whole RFC 5322 message, CRLF line ends; alerts/mail.h). 0 when the server accepted
 * it (r->answer then also names any recipient refused); -EIO otherwise with r->error and r->answer
 * set; -EINVAL (r->error says why, nothing sent) for a configuration that cannot be sent: not
 * smtp(s)://, no recipient, an address with spaces, <> or control characters, an empty message.
 * Credentials with ALERTS_TLS_TRY act as ALERTS_TLS_REQUIRED. r->retry is true for a connection
 * failure or timeout, a 4xx reply, a TLS failure, and an authentication failure (535: the password
 * may be fixed and the configuration reloaded); false for other 5xx replies (a recipient refused
 * for good, a message refused). */
int alerts_smtp_send(const alerts_smtp_cfg *c, const char *msg, size_t len, alerts_send_result *r);

typedef struct alerts_http_cfg {
    const char *url;               /* http:// or https:// */
    const char *method;            /* "POST" (default when NULL) or "PUT" */
    const char *content_type;      /* e.g. "application/json", "application/x-www-form-urlencoded" */
    const char *const *headers;    /* extra "Name: value" lines (already rendered, no CR/LF) */
    size_t nheaders;
    const char *user, *password;   /* basic auth when user is not NULL */
    const char *token;             /* "Authorization: Bearer TOKEN" when not NULL */
    const char *ca_file;
    bool tls_insecure;
    const char *idempotency_key;   /* NULL: no Idempotency-Key header */
    double timeout_s;              /* default 15 when ≤ 0 */
} alerts_http_cfg;

/* 0 on a 2xx answer; -EIO otherwise with r set. r->retry is true for a connection failure or
 * timeout, 408, 429 and 5xx; false for other statuses (a 4xx means the request itself is wrong).
 * -EINVAL (r->error says why, nothing sent): not http(s)://, a method other than POST/PUT, a header
 * that is not "Name: value" or has control characters, both user and token. */
int alerts_http_send(const alerts_http_cfg *c, const char *body, size_t len, alerts_send_result *r);

/* A URL as it may be shown or logged: without user:password@ and with any query as "?...", printable,
 * at most 200 bytes of it (out: at least 264 bytes). */
void alerts_url_shown(const char *url, char *out, size_t cap);

#endif
