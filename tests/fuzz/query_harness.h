/* tests/fuzz/query_harness.h — the one check of the HTTP server's request-text parsers (web/query.c),
 * shared by the libFuzzer target (tests/fuzz/fuzz_query.c) and the corpus replay in `make test`
 * (tests/unit/test_fuzz_query_replay.c).
 *
 * The first byte picks the parser, the rest is its input, copied into a buffer of exactly its size
 * (no NUL after it) so that ASan sees any read past the end:
 *   byte 0 % 3 == 0  web_query_parse. Accepted → at most WEB_MAX_PARAMS parameters; names
 *                    non-empty, at most WEB_MAX_PARAM_NAME bytes, unique; every name and value valid
 *                    UTF-8 without control characters (C0, DEL, C1) or NUL; web_query_get finds each
 *                    value; percent-encoding every parameter again and parsing that gives the same
 *                    list; err is "". Refused → -EINVAL, *out NULL, err non-empty, one line, valid
 *                    UTF-8. A short err is cut, never overrun; the verdict never depends on errlen.
 *   byte 0 % 3 == 1  web_cookie_get for "vw_session" (and for "a"). A value found is what a model
 *                    written here finds (the first piece whose trimmed name matches, its trimmed
 *                    value without surrounding quotes), holds only cookie-octets, and fits outcap;
 *                    -E2BIG exactly when one byte more would have been needed.
 *   byte 0 % 3 == 2  web_json_object_check. Accepted ↔ no NUL, valid UTF-8, cJSON parses the
 *                    whole text to an object; refused → err starts "malformed JSON body: ".
 *
 * Everything is static inline: this header is included where it is used. */
#ifndef VW_QUERY_HARNESS_H
#define VW_QUERY_HARNESS_H

#include "web/http_internal.h"

#include "common/utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void qh_fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void qh_fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

static inline void *qh_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* valid UTF-8 with no control character and no NUL */
static inline bool qh_clean_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vw_utf8_seq(u + i, n - i, &cp);
        if (k == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return false;
        i += k;
    }
    return true;
}

/* Percent-encodes every byte that is not unreserved. */
static inline size_t qh_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '.' || *p == '_' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    return o;
}

static inline int qh_check_query(const char *in, size_t n, long *code, char *why, size_t whylen)
{
    char err[256 + 8];
    memset(err, 'X', sizeof err);
    web_query *q = (web_query *)(uintptr_t)1;
    int rc = web_query_parse(n ? in : NULL, n, &q, err, 256);
    *code = rc;
    int res = -1;
    char *enc = NULL;
    web_query *q2 = NULL;
    if (memcmp(err + 256, "XXXXXXXX", 8) != 0 || !memchr(err, 0, 256)) {
        qh_fail(why, whylen, "err written past errlen or not NUL-terminated");
        goto out;
    }
    /* the verdict with a tiny err buffer and with none */
    char small[6];
    memset(small, 'Y', sizeof small);
    web_query *q3 = NULL;
    int rc3 = web_query_parse(n ? in : NULL, n, &q3, small, 4);
    web_query_free(q3);
    if (rc3 != rc || small[4] != 'Y' || !memchr(small, 0, 4)) {
        qh_fail(why, whylen, "with errlen 4: rc %d (was %d) or err overrun", rc3, rc);
        goto out;
    }
    q3 = NULL;
    rc3 = web_query_parse(n ? in : NULL, n, &q3, NULL, 0);
    web_query_free(q3);
    if (rc3 != rc) {
        qh_fail(why, whylen, "with err NULL: rc %d (was %d)", rc3, rc);
        goto out;
    }
    if (rc < 0) {
        if (rc != -EINVAL || q != NULL || !err[0] || strchr(err, '\n') || !qh_clean_text(err, strlen(err))) {
            qh_fail(why, whylen, "refused with rc %d, out %p, err \"%.100s\"", rc, (void *)q, err);
            goto out;
        }
        res = 0;
        goto out;
    }
    if (rc != 0 || !q || err[0]) {
        qh_fail(why, whylen, "rc %d, out %p, err \"%.100s\"", rc, (void *)q, err);
        q = NULL;
        goto out;
    }
    size_t cnt = web_query_count(q);
    if (cnt > WEB_MAX_PARAMS) {
        qh_fail(why, whylen, "%zu parameters", cnt);
        goto out;
    }
    enc = qh_malloc(3 * n + 2 * WEB_MAX_PARAMS + 4);
    size_t elen = 0;
    for (size_t i = 0; i < cnt; i++) {
        const char *nm = web_query_name_at(q, i), *v = web_query_value_at(q, i);
        if (!nm || !v || !nm[0] || strlen(nm) > WEB_MAX_PARAM_NAME || !qh_clean_text(nm, strlen(nm)) ||
            !qh_clean_text(v, strlen(v))) {
            qh_fail(why, whylen, "parameter %zu: bad name or value", i);
            goto out;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(web_query_name_at(q, k), nm) == 0) {
                qh_fail(why, whylen, "name \"%.40s\" repeated", nm);
                goto out;
            }
        if (web_query_get(q, nm) != v) {
            qh_fail(why, whylen, "web_query_get(\"%.40s\") is not the parameter's value", nm);
            goto out;
        }
        if (i)
            enc[elen++] = '&';
        elen += qh_encode(nm, enc + elen);
        enc[elen++] = '=';
        elen += qh_encode(v, enc + elen);
    }
    if (web_query_name_at(q, cnt) != NULL || web_query_value_at(q, cnt) != NULL) {
        qh_fail(why, whylen, "a parameter past the count");
        goto out;
    }
    int rc2 = web_query_parse(elen ? enc : NULL, elen, &q2, err, 256);
    if (rc2 != 0 || web_query_count(q2) != cnt) {
        qh_fail(why, whylen, "re-encoded \"%.80s\": rc %d, %zu parameters of %zu (%s)", enc, rc2, web_query_count(q2),
                cnt, err);
        goto out;
    }
    for (size_t i = 0; i < cnt; i++)
        if (strcmp(web_query_name_at(q, i), web_query_name_at(q2, i)) != 0 ||
            strcmp(web_query_value_at(q, i), web_query_value_at(q2, i)) != 0) {
            qh_fail(why, whylen, "re-encoded parameter %zu differs", i);
            goto out;
        }
    res = 0;
out:
    if (rc == 0)
        web_query_free(q);
    web_query_free(q2);
    free(enc);
    return res;
}

static inline bool qh_sp(char c) { return c == ' ' || c == '\t'; }

/* The model: -ENOENT, or the value's place (*vb, *ve) in h. */
static inline int qh_cookie_model(const char *h, size_t len, const char *name, size_t *vb, size_t *ve)
{
    size_t nlen = strlen(name);
    size_t at = 0;
    while (at < len) {
        size_t end = at;
        while (end < len && h[end] != ';')
            end++;
        size_t b = at, e = end;
        while (b < e && qh_sp(h[b]))
            b++;
        while (e > b && qh_sp(h[e - 1]))
            e--;
        size_t eq = b;
        while (eq < e && h[eq] != '=')
            eq++;
        if (eq < e) {
            size_t ke = eq;
            while (ke > b && qh_sp(h[ke - 1]))
                ke--;
            if (ke - b == nlen && memcmp(h + b, name, nlen) == 0) {
                size_t v0 = eq + 1;
                while (v0 < e && qh_sp(h[v0]))
                    v0++;
                if (e - v0 >= 2 && h[v0] == '"' && h[e - 1] == '"') {
                    v0++;
                    e--;
                }
                *vb = v0;
                *ve = e;
                return 0;
            }
        }
        at = end + 1;
    }
    return -ENOENT;
}

static inline int qh_check_cookie(const char *in, size_t n, const char *name, long *code, char *why, size_t whylen)
{
    size_t cap = 48;
    char *out = qh_malloc(cap);
    int rc = web_cookie_get(in, n, name, out, cap);
    *code = rc;
    size_t vb = 0, ve = 0;
    int m = qh_cookie_model(in, n, name, &vb, &ve);
    int res = -1;
    bool octets = true;
    for (size_t k = vb; m == 0 && k < ve; k++) {
        unsigned char c = (unsigned char)in[k];
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == ',' || c == ';' || c == '\\')
            octets = false;
    }
    int want = m < 0 ? -ENOENT : !octets ? -EINVAL : ve - vb >= cap ? -E2BIG : (int)(ve - vb);
    if (rc != want) {
        qh_fail(why, whylen, "cookie \"%s\": rc %d, the model says %d", name, rc, want);
        goto out;
    }
    if (rc >= 0 && (memcmp(out, in + vb, (size_t)rc) != 0 || out[rc] != 0)) {
        qh_fail(why, whylen, "cookie \"%s\": value \"%.40s\" differs from the model's", name, out);
        goto out;
    }
    if (rc == -E2BIG) { /* one byte more fits */
        char *big = qh_malloc(ve - vb + 1);
        int r2 = web_cookie_get(in, n, name, big, ve - vb + 1);
        free(big);
        if (r2 != (int)(ve - vb)) {
            qh_fail(why, whylen, "cookie \"%s\": with an exact buffer rc %d", name, r2);
            goto out;
        }
    }
    res = 0;
out:
    free(out);
    return res;
}

static inline int qh_check_body(const char *in, size_t n, long *code, char *why, size_t whylen)
{
    char *b = qh_malloc(n + 1);
    memcpy(b, in, n);
    b[n] = 0;
    char err[200];
    int rc = web_json_object_check(b, n, err, sizeof err);
    *code = rc;
    bool want = !memchr(b, 0, n) && vw_utf8_valid_prefix((const unsigned char *)b, n) == n;
    if (want) {
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithOpts(b, &end, 1);
        want = j && cJSON_IsObject(j);
        cJSON_Delete(j);
    }
    int res = 0;
    if ((rc == 0) != want || (rc != 0 && (rc != -EINVAL || strncmp(err, "malformed JSON body: ", 21) != 0)))
        qh_fail(why, whylen, "body check: rc %d, the model says %s; err \"%.80s\"", rc, want ? "object" : "refuse", err),
            res = -1;
    free(b);
    return res;
}

/* Checks the case the bytes describe; *code gets what the parser returned. 0, or -1 with why. */
static inline int qh_harness_one(const uint8_t *data, size_t size, long *code, char *why, size_t whylen)
{
    long dummy;
    if (!code)
        code = &dummy;
    *code = 0;
    if (size == 0)
        return 0;
    size_t n = size - 1;
    char *in = qh_malloc(n); /* exactly n bytes, no NUL after them */
    if (n)
        memcpy(in, data + 1, n);
    int res;
    switch (data[0] % 3) {
    case 0:
        res = qh_check_query(in, n, code, why, whylen);
        break;
    case 1: {
        long c2;
        res = qh_check_cookie(in, n, "a", &c2, why, whylen);
        if (res == 0)
            res = qh_check_cookie(in, n, "vw_session", code, why, whylen);
        break;
    }
    default:
        res = qh_check_body(in, n, code, why, whylen);
    }
    free(in);
    return res;
}

#endif
