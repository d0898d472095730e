/* alerts/send.c — see send.h.
 *
 * Each call makes its own curl easy handle, blocks in curl_easy_perform for at most the timeout and
 * frees everything before it returns: no state between calls, nothing shared between threads (the
 * caller did curl_global_init). What the server said is captured while it arrives, into bounded
 * buffers on the stack: the SMTP replies through the debug callback (CURLINFO_HEADER_IN; the reply
 * to our QUIT is not the answer), the HTTP status line, Location and the start of the body through
 * the header and write callbacks. A handle speaks only its own protocols (smtp/smtps or
 * http/https), follows no redirect, and never raises a signal.
 *
 * Messages name the server's URL without its userinfo and with its query cut to "?..." (a token
 * may live there); passwords and tokens never reach a message. */
#include "alerts/send.h"

#include "common/utf8.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SMTP_TIMEOUT_DEFAULT_S 30.0
#define HTTP_TIMEOUT_DEFAULT_S 15.0
#define TIMEOUT_MAX_S 3600.0
#define CONNECT_TIMEOUT_MAX_S 10.0
#define URL_SHOWN_MAX 200   /* bytes of a URL quoted in a message */
#define BODY_KEPT_MAX 400   /* bytes of an HTTP answer's body kept for r->answer */

/* libcurl 8.2 fixed the spelling of this option; 7.88 (Debian 12) only has the old name */
#if LIBCURL_VERSION_NUM >= 0x080200
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLOWFAILS
#else
#define OPT_RCPT_ALLOWFAILS CURLOPT_MAIL_RCPT_ALLLOWFAILS
#endif

/* ---- text helpers ------------------------------------------------------------------------- */

/* Appends n bytes of src to dst (capacity cap, NUL-terminated, *len its length) as printable text:
 * control characters become one space (runs collapse), bytes that are not UTF-8 become '?', and a
 * UTF-8 character is never cut. Stops silently when full. */
static void append_printable(char *dst, size_t cap, size_t *len, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    while (i < n && *len + 1 < cap) {
        if (s[i] < 0x20 || s[i] == 0x7F) {
            if (*len > 0 && dst[*len - 1] != ' ')
                dst[(*len)++] = ' ';
            i++;
            continue;
        }
        size_t k = vw_utf8_seq(s + i, n - i, NULL);
        if (k == 0) {
            dst[(*len)++] = '?';
            i++;
            continue;
        }
        if (*len + k + 1 > cap)
            break;
        memcpy(dst + *len, s + i, k);
        *len += k;
        i += k;
    }
    dst[*len] = 0;
}

static void append_str(char *dst, size_t cap, size_t *len, const char *s)
{
    append_printable(dst, cap, len, s, strlen(s));
}

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = 0;
}

/* Any control character (CR, LF, NUL is the end) in s. */
static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return true;
    return false;
}

/* An addr-spec fit for MAIL FROM / RCPT TO: no controls, spaces or angle brackets (which would
 * change the command libcurl writes). */
static bool envelope_address_ok(const char *a)
{
    if (has_control(a))
        return false;
    for (const char *p = a; *p; p++)
        if (*p == ' ' || *p == '<' || *p == '>')
            return false;
    return true;
}

/* url as it may be shown: scheme://host[:port]/path, without userinfo, the query cut to "?...". */
void alerts_url_shown(const char *url, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = 0;
    if (!url || !*url) {
        append_str(out, cap, &len, "(no URL)");
        return;
    }
    const char *p = url;
    const char *sep = strstr(url, "://");
    if (sep) {
        append_printable(out, cap, &len, url, (size_t)(sep + 3 - url));
        p = sep + 3;
        size_t auth = strcspn(p, "/?#");
        const char *at = NULL;
        for (const char *q = p; q < p + auth; q++)
            if (*q == '@')
                at = q;
        if (at)
            p = at + 1;
    }
    size_t keep = strcspn(p, "?#");
    if (keep > URL_SHOWN_MAX) {
        append_printable(out, cap, &len, p, URL_SHOWN_MAX);
        append_str(out, cap, &len, "...");
    } else {
        append_printable(out, cap, &len, p, keep);
        if (p[keep] == '?')
            append_str(out, cap, &len, "?...");
    }
}

static void set_error(alerts_send_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(alerts_send_result *r, const char *fmt, ...)
{
    char raw[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    size_t len = 0;
    r->error[0] = 0;
    append_str(r->error, sizeof r->error, &len, raw);
    trim_end(r->error);
}

static long timeout_ms(double t, double dflt)
{
    if (!(t > 0))
        t = dflt;
    if (t > TIMEOUT_MAX_S)
        t = TIMEOUT_MAX_S;
    long ms = (long)(t * 1000.0);
    return ms > 0 ? ms : 1;
}

/* What curl said went wrong: its error buffer when it wrote one, else the generic text. */
static const char *curl_why(CURLcode rc, const char *errbuf)
{
    return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

/* Failures that another try may cure: no answer, a broken connection, TLS, resources. Not: what
 * is wrong with the request or this libcurl (scheme, URL, options). */
static bool curl_transient(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_FAILED_INIT:
        return false;
    default:
        return true;
    }
}

static bool curl_tls_failure(CURLcode rc)
{
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return true;
    default:
        return false;
    }
}

/* Common TLS options. */
static void set_tls(CURL *h, const char *ca_file, bool insecure)
{
    if (ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
}

/* Options every handle gets; a non-zero return is a libcurl without what we rely on. */
static CURLcode set_common(CURL *h, const char *url, const char *protocols, long tmo_ms, char *errbuf)
{
    CURLcode rc;
    errbuf[0] = 0;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     tmo_ms < (long)(CONNECT_TIMEOUT_MAX_S * 1000) ? tmo_ms : (long)(CONNECT_TIMEOUT_MAX_S * 1000));
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if ((rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols)) != CURLE_OK)
        return rc;
    if ((rc = curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols)) != CURLE_OK)
        return rc;
    return curl_easy_setopt(h, CURLOPT_URL, url);
}

/* One send: its result (the caller's, or a scratch one), the URL as it may be shown, the curl handle
 * with its error buffer, and the list the handle is given (recipients or headers). */
typedef struct send_call {
    alerts_send_result *r, scratch;
    char where[URL_SHOWN_MAX + 64];
    char errbuf[CURL_ERROR_SIZE];
    CURL *h;
    struct curl_slist *list;
} send_call;

/* Starts a send: the result reset, the URL shown, the configuration's problem (bad) refused, a curl
 * handle made. 0, or what the sender returns then (the error set, nothing to free). */
static int call_begin(send_call *s, alerts_send_result *r, const char *url, const char *bad)
{
    s->r = r ? r : &s->scratch;
    memset(s->r, 0, sizeof *s->r);
    alerts_url_shown(url, s->where, sizeof s->where);
    s->errbuf[0] = 0;
    s->h = NULL;
    s->list = NULL;
    if (bad) {
        set_error(s->r, "%s: %s", s->where, bad);
        return -EINVAL;
    }
    s->h = curl_easy_init();
    if (!s->h) {
        set_error(s->r, "%s: cannot create a curl handle", s->where);
        s->r->retry = true;
        return -EIO;
    }
    return 0;
}

/* "out of memory" (worth retrying). */
static void call_out_of_memory(send_call *s)
{
    set_error(s->r, "%s: out of memory", s->where);
    s->r->retry = true;
}

/* The options every handle gets (set_common); false, the error set, when libcurl refuses one. */
static bool call_options(send_call *s, const char *url, const char *protocols, long tmo_ms)
{
    CURLcode rc = set_common(s->h, url, protocols, tmo_ms, s->errbuf);
    if (rc != CURLE_OK)
        set_error(s->r, "%s: %s", s->where, curl_why(rc, s->errbuf));
    return rc == CURLE_OK;
}

/* Runs the transfer: curl's code, and in *code the last reply code or HTTP status (0: none). */
static CURLcode call_perform(send_call *s, long *code)
{
    CURLcode rc = curl_easy_perform(s->h);
    *code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, code);
    return rc;
}

/* Ends a send that call_begin started: the list and the handle freed; returns ret. Called where the
 * callbacks' data still lives: the handle's cleanup may still call them (SMTP's QUIT). */
static int call_end(send_call *s, int ret)
{
    curl_slist_free_all(s->list);
    curl_easy_cleanup(s->h);
    return ret;
}

/* ---- SMTP --------------------------------------------------------------------------------- */

typedef struct smtp_capture {
    char reply[sizeof ((alerts_send_result *)0)->answer]; /* the last reply, lines joined by " | " */
    size_t reply_len;
    bool reply_done;    /* its last line was the final one ("250 …", not "250-…") */
    int reply_code;
    bool quitting;      /* QUIT sent: its 221 is not the answer */
    bool in_rcpt;       /* the command awaiting its reply is a RCPT TO */
    char rcpt[128];     /* that RCPT's address */
    char refused[256];  /* "addr: reply; …" for recipients refused while others were taken */
    size_t refused_len;
} smtp_capture;

static void smtp_reply_line(smtp_capture *cap, const char *line, size_t n)
{
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        n--;
    if (n == 0 || cap->quitting)
        return;
    if (cap->reply_done) {
        cap->reply_len = 0;
        cap->reply[0] = 0;
    }
    if (cap->reply_len > 0)
        append_str(cap->reply, sizeof cap->reply, &cap->reply_len, " | ");
    append_printable(cap->reply, sizeof cap->reply, &cap->reply_len, line, n);
    bool digits = n >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
                  line[2] >= '0' && line[2] <= '9';
    cap->reply_done = !(n > 3 && line[3] == '-');
    if (digits)
        cap->reply_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (cap->reply_done && cap->in_rcpt) {
        if (cap->reply_code >= 400) {
            if (cap->refused_len > 0)
                append_str(cap->refused, sizeof cap->refused, &cap->refused_len, "; ");
            append_str(cap->refused, sizeof cap->refused, &cap->refused_len, cap->rcpt);
            append_str(cap->refused, sizeof cap->refused, &cap->refused_len, ": ");
            append_printable(cap->refused, sizeof cap->refused, &cap->refused_len, line, n);
        }
        cap->in_rcpt = false;
    }
}

static int smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    smtp_capture *cap = ud;
    if (type == CURLINFO_HEADER_IN) {
        size_t start = 0;
        for (size_t i = 0; i < size; i++)
            if (data[i] == '\n') {
                smtp_reply_line(cap, data + start, i + 1 - start);
                start = i + 1;
            }
        if (start < size)
            smtp_reply_line(cap, data + start, size - start);
    } else if (type == CURLINFO_HEADER_OUT) {
        /* only the verb is looked at: an AUTH line carries credentials */
        if (size >= 4 && strncasecmp(data, "QUIT", 4) == 0) {
            cap->quitting = true;
        } else if (size >= 8 && strncasecmp(data, "RCPT TO:", 8) == 0) {
            size_t n = 0, k = 8;
            while (k < size && (data[k] == '<' || data[k] == ' '))
                k++;
            while (k < size && data[k] != '>' && data[k] != '\r' && data[k] != '\n' && n + 1 < sizeof cap->rcpt)
                cap->rcpt[n++] = data[k++];
            cap->rcpt[n] = 0;
            cap->in_rcpt = true;
        } else {
            cap->in_rcpt = false;
        }
    }
    return 0;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t smtp_read(char *buf, size_t size, size_t nitems, void *ud)
{
    upload *u = ud;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* What is wrong with the configuration or the message, or NULL. */
static const char *smtp_cfg_problem(const alerts_smtp_cfg *c, const char *msg, size_t len)
{
    if (!c->url || !*c->url)
        return "no server URL";
    if (strncasecmp(c->url, "smtp://", 7) != 0 && strncasecmp(c->url, "smtps://", 8) != 0)
        return "the URL must start with smtp:// or smtps://";
    if (has_control(c->url))
        return "control characters in the URL";
    if (c->tls != ALERTS_TLS_REQUIRED && c->tls != ALERTS_TLS_TRY && c->tls != ALERTS_TLS_NONE)
        return "unknown tls mode";
    if (!c->from_addr || !envelope_address_ok(c->from_addr))
        return "the sender (MAIL FROM) is missing or not an address";
    if (!c->rcpt || c->nrcpt == 0)
        return "no recipient";
    for (size_t i = 0; i < c->nrcpt; i++)
        if (!c->rcpt[i] || !*c->rcpt[i] || !envelope_address_ok(c->rcpt[i]))
            return "a recipient (RCPT TO) is missing or not an address";
    if (!msg || len == 0)
        return "the message is empty";
    return NULL;
}

/* The message through the call's handle (c checked), then the call ended here: the capture must
 * outlive the handle (its cleanup sends QUIT, whose reply the debug callback still sees). 0, or -EIO
 * with the error set. */
static int smtp_transfer(send_call *call, const alerts_smtp_cfg *c, const char *msg, size_t len)
{
    bool smtps = strncasecmp(c->url, "smtps://", 8) == 0;
    alerts_send_result *r = call->r;
    const char *where = call->where, *errbuf = call->errbuf;
    CURL *h = call->h;
    smtp_capture cap;
    memset(&cap, 0, sizeof cap);
    cap.reply_done = true;
    upload up = {msg, len};
    for (size_t i = 0; i < c->nrcpt; i++) {
        struct curl_slist *n = curl_slist_append(call->list, c->rcpt[i]);
        if (!n) {
            call_out_of_memory(call);
            return call_end(call, -EIO);
        }
        call->list = n;
    }
    long tmo_ms = timeout_ms(c->timeout_s, SMTP_TIMEOUT_DEFAULT_S);
    if (!call_options(call, c->url, "smtp,smtps", tmo_ms))
        return call_end(call, -EIO);
    /* the wait for each reply, also for QUIT's when the connection is closed (the overall timeout
     * does not cover that one; libcurl's default is 120 s) */
    curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, (tmo_ms + 999) / 1000);
    /* AUTH never goes out in the clear unless tls is NONE: with credentials, "try" becomes "required" */
    long use_ssl = CURLUSESSL_ALL;
    if (!smtps && c->tls == ALERTS_TLS_NONE)
        use_ssl = CURLUSESSL_NONE;
    else if (!smtps && c->tls == ALERTS_TLS_TRY && !c->user)
        use_ssl = CURLUSESSL_TRY;
    curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
    set_tls(h, c->ca_file, c->tls_insecure);
    if (c->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, c->from_addr);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, call->list);
    curl_easy_setopt(h, OPT_RCPT_ALLOWFAILS, 1L); /* delivered when one recipient took it */
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &cap);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L); /* the debug callback sees only what VERBOSE shows */

    long code;
    CURLcode rc = call_perform(call, &code);
    if (code <= 0 && cap.reply[0])
        code = cap.reply_code;
    r->code = (int)code;
    size_t alen = 0;
    append_str(r->answer, sizeof r->answer, &alen, cap.reply);
    if (rc == CURLE_OK) {
        if (cap.refused[0]) {
            append_str(r->answer, sizeof r->answer, &alen, " (refused: ");
            append_str(r->answer, sizeof r->answer, &alen, cap.refused);
            append_str(r->answer, sizeof r->answer, &alen, ")");
        }
        trim_end(r->answer);
        return call_end(call, 0);
    }
    trim_end(r->answer);

    if (rc == CURLE_LOGIN_DENIED || code == 535) {
        r->retry = true;
        set_error(r, "%s: authentication as \"%s\" refused: %s", where, c->user ? c->user : "",
                  cap.reply[0] ? cap.reply : curl_why(rc, errbuf));
    } else if (rc == CURLE_USE_SSL_FAILED) {
        r->retry = true;
        set_error(r, "%s: TLS is required but the server does not offer STARTTLS (%s); nothing was sent", where,
                  curl_why(rc, errbuf));
    } else if (curl_tls_failure(rc)) {
        r->retry = true;
        set_error(r, "%s: TLS failed: %s", where, curl_why(rc, errbuf));
    } else if (code >= 400) {
        r->retry = code < 500;
        set_error(r, "%s: the server refused: %s", where, cap.reply[0] ? cap.reply : curl_why(rc, errbuf));
    } else {
        r->retry = curl_transient(rc);
        set_error(r, "%s: %s", where, curl_why(rc, errbuf));
    }
    return call_end(call, -EIO);
}

int alerts_smtp_send(const alerts_smtp_cfg *c, const char *msg, size_t len, alerts_send_result *r)
{
    send_call call;
    int ret = call_begin(&call, r, c ? c->url : NULL, c ? smtp_cfg_problem(c, msg, len) : "no configuration");
    return ret != 0 ? ret : smtp_transfer(&call, c, msg, len);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

typedef struct http_capture {
    char status[160];    /* the last status line ("HTTP/1.1 200 OK") */
    char location[400];  /* its Location header, "" when none */
    char body[BODY_KEPT_MAX + 1];
    size_t body_len;
} http_capture;

static size_t http_header(char *data, size_t size, size_t nitems, void *ud)
{
    http_capture *cap = ud;
    size_t n = size * nitems, len = 0;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new answer (after a 100, say) */
        cap->status[0] = 0;
        cap->location[0] = 0;
        cap->body_len = 0;
        append_printable(cap->status, sizeof cap->status, &len, data, n);
    } else if (n > 9 && strncasecmp(data, "Location:", 9) == 0) {
        size_t k = 9;
        while (k < n && (data[k] == ' ' || data[k] == '\t'))
            k++;
        cap->location[0] = 0;
        append_printable(cap->location, sizeof cap->location, &len, data + k, n - k);
    }
    return size * nitems;
}

static size_t http_body(char *data, size_t size, size_t nmemb, void *ud)
{
    http_capture *cap = ud;
    size_t n = size * nmemb, room = BODY_KEPT_MAX - cap->body_len;
    size_t k = n < room ? n : room;
    memcpy(cap->body + cap->body_len, data, k);
    cap->body_len += k;
    return n; /* the rest is read and dropped: the answer is complete either way */
}

static const char *http_cfg_problem(const alerts_http_cfg *c, const char *body, size_t len)
{
    if (!c->url || !*c->url)
        return "no webhook URL";
    if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0)
        return "the URL must start with http:// or https://";
    if (has_control(c->url))
        return "control characters in the URL";
    if (c->method && strcasecmp(c->method, "POST") != 0 && strcasecmp(c->method, "PUT") != 0)
        return "the method must be POST or PUT";
    if (c->content_type && (!*c->content_type || has_control(c->content_type)))
        return "an empty Content-Type or control characters in it";
    if (c->nheaders > 0 && !c->headers)
        return "headers missing";
    for (size_t i = 0; i < c->nheaders; i++) {
        const char *hd = c->headers[i];
        const char *colon = hd ? strchr(hd, ':') : NULL;
        if (!hd || !colon || colon == hd || has_control(hd))
            return "a header is not a \"Name: value\" line";
    }
    if (c->user && c->token)
        return "both basic auth (user) and a bearer token";
    if (c->user && (has_control(c->user) || (c->password && has_control(c->password))))
        return "control characters in the user or password";
    if (c->token && (!*c->token || has_control(c->token)))
        return "an empty bearer token or control characters in it";
    if (c->idempotency_key && (!*c->idempotency_key || has_control(c->idempotency_key)))
        return "an empty Idempotency-Key or control characters in it";
    if (!body && len > 0)
        return "no body";
    return NULL;
}

/* Appends "Name: value" to *list; false when out of memory. */
static bool add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[1200];
    const char *s = line;
    if (value) {
        size_t need = strlen(name) + strlen(value) + 3;
        char *big = NULL;
        if (need > sizeof line) {
            big = malloc(need);
            if (!big)
                return false;
            s = big;
        }
        snprintf(big ? big : line, big ? need : sizeof line, "%s: %s", name, value);
        struct curl_slist *n = curl_slist_append(*list, s);
        free(big);
        if (!n)
            return false;
        *list = n;
        return true;
    }
    struct curl_slist *n = curl_slist_append(*list, name);
    if (!n)
        return false;
    *list = n;
    return true;
}

/* The request through the call's handle (c checked), then the call ended here (the capture
 * outlives the handle). 0, or -EIO with the error set. */
static int http_transfer(send_call *call, const alerts_http_cfg *c, const char *body, size_t len)
{
    bool put = c->method && strcasecmp(c->method, "PUT") == 0;
    alerts_send_result *r = call->r;
    const char *where = call->where, *errbuf = call->errbuf;
    CURL *h = call->h;
    http_capture cap;
    memset(&cap, 0, sizeof cap);
    /* "Name:" with nothing after it removes a header libcurl would add on its own */
    bool ok = (c->content_type ? add_header(&call->list, "Content-Type", c->content_type)
                               : add_header(&call->list, "Content-Type:", NULL)) &&
              add_header(&call->list, "Expect:", NULL) &&
              (!c->idempotency_key || add_header(&call->list, "Idempotency-Key", c->idempotency_key));
    for (size_t i = 0; ok && i < c->nheaders; i++)
        ok = add_header(&call->list, c->headers[i], NULL);
    if (!ok) {
        call_out_of_memory(call);
        return call_end(call, -EIO);
    }
    if (!call_options(call, c->url, "http,https", timeout_ms(c->timeout_s, HTTP_TIMEOUT_DEFAULT_S)))
        return call_end(call, -EIO);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vibewatch-alerts/1");
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    if (put)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, call->list);
    if (c->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->password ? c->password : "");
    } else if (c->token) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, c->token);
    }
    set_tls(h, c->ca_file, c->tls_insecure);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &cap);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &cap);

    long code;
    CURLcode rc = call_perform(call, &code);
    r->code = (int)code;
    size_t alen = 0;
    append_str(r->answer, sizeof r->answer, &alen, cap.status);
    if (cap.body_len > 0) {
        if (alen > 0)
            append_str(r->answer, sizeof r->answer, &alen, " | ");
        append_printable(r->answer, sizeof r->answer, &alen, cap.body, cap.body_len);
    }
    trim_end(r->answer);
    /* "HTTP/1.1 404 Not Found" → "404 Not Found" */
    const char *status = strchr(cap.status, ' ');
    status = status ? status + 1 : "";

    int ret = -EIO;
    if (code >= 200 && code < 300) { /* the server took it, even if its body then broke off */
        ret = 0;
    } else if (code < 200) { /* no answer, or only an interim one */
        r->retry = curl_transient(rc);
        set_error(r, "%s: %s%s", where, curl_tls_failure(rc) ? "TLS failed: " : "",
                  rc != CURLE_OK ? curl_why(rc, errbuf) : "no HTTP answer");
    } else if (code < 400) {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        if (!loc || !*loc)
            loc = cap.location[0] ? cap.location : NULL;
        r->retry = false;
        set_error(r, "%s: HTTP %s, a redirect to %s (redirects are not followed)", where,
                  status[0] ? status : "3xx", loc ? loc : "(no Location)");
    } else {
        r->retry = code == 408 || code == 429 || code >= 500;
        set_error(r, "%s: HTTP %s", where, status[0] ? status : "error");
    }
    return call_end(call, ret);
}

int alerts_http_send(const alerts_http_cfg *c, const char *body, size_t len, alerts_send_result *r)
{
    send_call call;
    int ret = call_begin(&call, r, c ? c->url : NULL, c ? http_cfg_problem(c, body, len) : "no configuration");
    return ret != 0 ? ret : http_transfer(&call, c, body, len);
}
