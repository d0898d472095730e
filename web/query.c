/* web/query.c — the request text the server reads besides the path: query strings, the Cookie
 * header, JSON request bodies and the Origin header. Pure functions, no I/O, no global state; each
 * refusal says what was wrong, for a 400 a person can act on. The query parser is the target of
 * tests/fuzz/fuzz_query.c.
 *
 * A parsed query is one allocation: the structure, then the decoded names and values, each
 * NUL-terminated (decoding never makes text longer, so the raw length bounds the buffer). */
#include "web/http_internal.h"

#include <arpa/inet.h>

#include "common/utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct web_query {
    size_t n;
    const char *name[WEB_MAX_PARAMS];
    const char *value[WEB_MAX_PARAMS];
    char text[]; /* the decoded names and values */
};

/* Decodes s[0..n) into out ('+' → space, %XX). Returns the length, or -1 (bad escape), -2 (not
 * valid UTF-8 or a control character). */
static long decode_part(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n < 3 || i > n - 3)
                return -1;
            int h = web_hex_value((unsigned char)s[i + 1]), l = web_hex_value((unsigned char)s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        out[o++] = (char)c;
    }
    const unsigned char *u = (const unsigned char *)out;
    for (size_t i = 0; i < o;) {
        uint32_t cp;
        size_t k = vw_utf8_seq(u + i, o - i, &cp);
        if (k == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return -2;
        i += k;
    }
    out[o] = 0;
    return (long)o;
}

/* The raw name for a message: sanitized and cut. */
static void quote_raw(char *dst, size_t cap, const char *s, size_t n)
{
    web_text_sanitize(dst, cap, s, n);
}

int web_query_parse(const char *qs, size_t len, web_query **out, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    *out = NULL;
    if (len > 0 && !qs) {
        snprintf(err, errlen, "no query string");
        return -EINVAL;
    }
    /* each kept parameter costs its raw bytes (minus '=') plus two NULs */
    size_t textcap = len + 2 * (WEB_MAX_PARAMS + 1) + 1;
    web_query *q = malloc(sizeof *q + textcap);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    q->n = 0;
    size_t used = 0;
    char shown[80];
    for (size_t at = 0; at <= len;) {
        const char *piece = qs ? qs + at : "";
        const char *amp = len > at ? memchr(piece, '&', len - at) : NULL;
        size_t plen = amp ? (size_t)(amp - piece) : len - at;
        at += plen + 1;
        if (plen == 0)
            continue;
        const char *eq = memchr(piece, '=', plen);
        size_t nlen = eq ? (size_t)(eq - piece) : plen;
        const char *val = eq ? eq + 1 : piece + plen;
        size_t vlen = eq ? plen - nlen - 1 : 0;
        if (nlen == 0) {
            snprintf(err, errlen, "query parameter without a name");
            goto refuse;
        }
        if (q->n == WEB_MAX_PARAMS) {
            snprintf(err, errlen, "more than %d query parameters", WEB_MAX_PARAMS);
            goto refuse;
        }
        char *name = q->text + used;
        long dn = decode_part(piece, nlen, name);
        if (dn < 0) {
            quote_raw(shown, sizeof shown, piece, nlen);
            snprintf(err, errlen, "query parameter name \"%s\": %s", shown,
                     dn == -1 ? "bad %-escape" : "not valid UTF-8 or a control character");
            goto refuse;
        }
        if (dn > WEB_MAX_PARAM_NAME) {
            quote_raw(shown, 40, name, (size_t)dn);
            snprintf(err, errlen, "query parameter name \"%s\" is longer than %d bytes", shown,
                     WEB_MAX_PARAM_NAME);
            goto refuse;
        }
        for (size_t k = 0; k < q->n; k++)
            if (strcmp(q->name[k], name) == 0) {
                quote_raw(shown, sizeof shown, name, (size_t)dn);
                snprintf(err, errlen, "query parameter \"%s\" is repeated", shown);
                goto refuse;
            }
        used += (size_t)dn + 1;
        char *value = q->text + used;
        long dv = decode_part(val, vlen, value);
        if (dv < 0) {
            quote_raw(shown, sizeof shown, name, (size_t)dn);
            snprintf(err, errlen, "query parameter \"%s\": %s", shown,
                     dv == -1 ? "bad %-escape in the value" : "the value is not valid UTF-8 or has a control character");
            goto refuse;
        }
        used += (size_t)dv + 1;
        q->name[q->n] = name;
        q->value[q->n] = value;
        q->n++;
    }
    *out = q;
    return 0;
refuse:
    if (!err[0] && errlen > 1)
        snprintf(err, errlen, "malformed query string");
    free(q);
    return -EINVAL;
}

void web_query_free(web_query *q) { free(q); }

size_t web_query_count(const web_query *q) { return q ? q->n : 0; }

const char *web_query_name_at(const web_query *q, size_t i) { return q && i < q->n ? q->name[i] : NULL; }

const char *web_query_value_at(const web_query *q, size_t i) { return q && i < q->n ? q->value[i] : NULL; }

const char *web_query_get(const web_query *q, const char *name)
{
    if (!q || !name)
        return NULL;
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->name[i], name) == 0)
            return q->value[i];
    return NULL;
}

int web_query_only(const web_query *q, const char *const *allowed, char *err, size_t errlen)
{
    for (size_t i = 0; q && i < q->n; i++) {
        int known = 0;
        for (size_t k = 0; allowed && allowed[k] && !known; k++)
            known = strcmp(allowed[k], q->name[i]) == 0;
        if (known)
            continue;
        if (err && errlen) {
            char shown[80], list[256] = "";
            size_t used = 0;
            quote_raw(shown, sizeof shown, q->name[i], strlen(q->name[i]));
            for (size_t k = 0; allowed && allowed[k]; k++) {
                int n = snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", allowed[k]);
                if (n < 0 || (size_t)n >= sizeof list - used)
                    break;
                used += (size_t)n;
            }
            if (used)
                snprintf(err, errlen, "unknown parameter \"%s\" (known: %s)", shown, list);
            else
                snprintf(err, errlen, "unknown parameter \"%s\" (this resource takes none)", shown);
        }
        return -EINVAL;
    }
    if (err && errlen)
        err[0] = 0;
    return 0;
}

/* ---- cookies ---------------------------------------------------------------------------------- */

static int is_space(char c) { return c == ' ' || c == '\t'; }

int web_cookie_get(const char *h, size_t len, const char *name, char *out, size_t outcap)
{
    size_t nlen = strlen(name);
    if (!h)
        return -ENOENT;
    for (size_t at = 0; at < len;) {
        const char *piece = h + at;
        const char *semi = memchr(piece, ';', len - at);
        size_t plen = semi ? (size_t)(semi - piece) : len - at;
        at += plen + 1;
        size_t b = 0, e = plen;
        while (b < e && is_space(piece[b]))
            b++;
        while (e > b && is_space(piece[e - 1]))
            e--;
        const char *eq = memchr(piece + b, '=', e - b);
        if (!eq)
            continue;
        size_t kend = (size_t)(eq - piece);
        while (kend > b && is_space(piece[kend - 1]))
            kend--;
        if (kend - b != nlen || memcmp(piece + b, name, nlen) != 0)
            continue;
        size_t vb = (size_t)(eq - piece) + 1, ve = e;
        while (vb < ve && is_space(piece[vb]))
            vb++;
        if (ve - vb >= 2 && piece[vb] == '"' && piece[ve - 1] == '"') {
            vb++;
            ve--;
        }
        for (size_t k = vb; k < ve; k++) {
            unsigned char c = (unsigned char)piece[k];
            if (c <= 0x20 || c >= 0x7F || c == '"' || c == ',' || c == ';' || c == '\\')
                return -EINVAL;
        }
        if (ve - vb >= outcap)
            return -E2BIG;
        memcpy(out, piece + vb, ve - vb);
        out[ve - vb] = 0;
        return (int)(ve - vb);
    }
    return -ENOENT;
}

/* ---- bodies ----------------------------------------------------------------------------------- */

int web_json_object_check(const char *body, size_t len, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    if (!body) {
        snprintf(err, errlen, "malformed JSON body: there is none");
        return -EINVAL;
    }
    const char *nul = memchr(body, 0, len);
    if (nul) {
        snprintf(err, errlen, "malformed JSON body: a NUL byte at byte %zu", (size_t)(nul - body));
        return -EINVAL;
    }
    size_t ok = vw_utf8_valid_prefix((const unsigned char *)body, len);
    if (ok < len) {
        snprintf(err, errlen, "malformed JSON body: not valid UTF-8 at byte %zu", ok);
        return -EINVAL;
    }
    const char *end = NULL;
    /* the length includes the terminating NUL: require_null_terminated looks for it */
    cJSON *j = cJSON_ParseWithLengthOpts(body, len + 1, &end, 1);
    if (!j) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        if (len == 0 || strspn(body, " \t\r\n") == len)
            snprintf(err, errlen, "malformed JSON body: it is empty");
        else
            snprintf(err, errlen, "malformed JSON body: syntax error at byte %zu", at);
        return -EINVAL;
    }
    int obj = cJSON_IsObject(j);
    cJSON_Delete(j);
    if (!obj) {
        snprintf(err, errlen, "malformed JSON body: expected an object ({…})");
        return -EINVAL;
    }
    return 0;
}

int web_content_type_is_json(const char *v)
{
    static const char want[] = "application/json";
    if (!v)
        return 0;
    while (is_space(*v))
        v++;
    if (strncasecmp(v, want, sizeof want - 1) != 0)
        return 0;
    v += sizeof want - 1;
    while (is_space(*v))
        v++;
    return *v == 0 || *v == ';';
}

/* Splits "host[:port]" (host may be "[v6]") into host and port; the default port when absent.
 * 0 or -1 when malformed. */
static int split_hostport(const char *s, size_t n, const char **host, size_t *hlen, unsigned long *port,
                          unsigned long def_port)
{
    if (n == 0)
        return -1;
    const char *colon;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return -1;
        *host = s;
        *hlen = (size_t)(rb - s) + 1;
        colon = rb + 1 < s + n ? rb + 1 : NULL;
        if (colon && *colon != ':')
            return -1;
    } else {
        colon = memchr(s, ':', n);
        *host = s;
        *hlen = colon ? (size_t)(colon - s) : n;
    }
    if (*hlen == 0)
        return -1;
    if (!colon) {
        *port = def_port;
        return 0;
    }
    size_t plen = n - (size_t)(colon + 1 - s);
    if (plen == 0 || plen > 5)
        return -1;
    unsigned long p = 0;
    for (size_t i = 0; i < plen; i++) {
        char c = colon[1 + i];
        if (c < '0' || c > '9')
            return -1;
        p = p * 10 + (unsigned long)(c - '0');
    }
    if (p > 65535)
        return -1;
    *port = p;
    return 0;
}

int web_origin_matches(const char *origin, const char *host)
{
    if (!origin || !host)
        return 0;
    unsigned long def;
    const char *rest;
    if (strncasecmp(origin, "http://", 7) == 0) {
        def = 80;
        rest = origin + 7;
    } else if (strncasecmp(origin, "https://", 8) == 0) {
        def = 443;
        rest = origin + 8;
    } else {
        return 0;
    }
    size_t rlen = strlen(rest);
    if (rlen > 0 && rest[rlen - 1] == '/') /* tolerated, though browsers send none */
        rlen--;
    if (memchr(rest, '/', rlen) || memchr(rest, '@', rlen))
        return 0;
    const char *oh, *hh;
    size_t ohl, hhl;
    unsigned long op, hp;
    size_t hlen = strlen(host);
    while (hlen > 0 && is_space(host[hlen - 1]))
        hlen--;
    if (split_hostport(rest, rlen, &oh, &ohl, &op, def) < 0 ||
        split_hostport(host, hlen, &hh, &hhl, &hp, def) < 0)
        return 0;
    return ohl == hhl && strncasecmp(oh, hh, ohl) == 0 && op == hp;
}

/* The host part of a Host header into name (at most 63 bytes); 0 or -1. */
static int host_name(const char *host, char name[64])
{
    if (!host)
        return -1;
    size_t n = strlen(host);
    while (n > 0 && is_space(host[n - 1]))
        n--;
    const char *h;
    size_t hl;
    unsigned long port;
    if (split_hostport(host, n, &h, &hl, &port, 80) < 0 || hl >= 64)
        return -1;
    memcpy(name, h, hl);
    name[hl] = 0;
    return 0;
}

int web_host_is_loopback(const char *host)
{
    char name[64];
    if (host_name(host, name) < 0)
        return 0;
    if (strcasecmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0)
        return 1;
    struct in_addr a;
    return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int web_host_known(const char *host, const char *const *names, size_t n)
{
    char name[64];
    if (host_name(host, name) < 0)
        return 0;
    struct in_addr a4;
    struct in6_addr a6;
    size_t len = strlen(name);
    if (inet_pton(AF_INET, name, &a4) == 1)
        return 1;
    if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
        name[len - 1] = 0;
        return inet_pton(AF_INET6, name + 1, &a6) == 1;
    }
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcasecmp(names[i], name) == 0)
            return 1;
    return 0;
}
