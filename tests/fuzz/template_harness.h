/* tests/fuzz/template_harness.h — the one check of the webhook templates (alerts/template.h), shared
 * by the libFuzzer target (tests/fuzz/fuzz_template.c) and the corpus replay in `make test`
 * (tests/unit/test_fuzz_template_replay.c).
 *
 * th_check_case() renders one case and holds the result to what the header promises, against a
 * model written here from the header alone (the grammar read literally: "{{", spaces, a name,
 * spaces, "}}"; a UTF-8 check that decodes code points; the escapes as the header lists them):
 *   - the return code is the model's: -EINVAL for an unknown escape or a bad template (err then
 *     starts "byte N:" with the offset of the offending "{{", and alerts_template_check says the
 *     same), else the length of the model's output, which must be there byte for byte, NUL-ended
 *     (strlen agrees when the template has no NUL);
 *   - on any error out is "" and err is one line; a short err is cut, never overrun;
 *   - each value escaped alone (alerts_escape_value) decodes back, with decoders written from the
 *     formats (a strict JSON string reader, form and URL percent-decoding that refuse any byte the
 *     format wants escaped), to the value with every byte that starts no valid UTF-8 sequence
 *     replaced by U+FFFD; HEADER output has no control bytes, and a rendered HEADER template no CR
 *     or LF beyond the template's own; a JSON rendering of a template whose text is JSON-safe reads
 *     as one JSON string;
 *   - the exact cap (length + 1) gives the same output, one byte less -ENOSPC with out "" (every
 *     smaller cap, when asked); buffers are malloc'd at their exact size so ASan sees any overrun;
 *   - alerts_utf8_truncate cuts each value to what the header describes: at most max_chars
 *     characters, never inside one, "…" only when cut, never longer than before, valid UTF-8 kept.
 * th_harness_one() makes a case out of arbitrary bytes (the layout is below) and checks it.
 *
 * Everything is static inline: this header is included where it is used. */
#ifndef VW_TEMPLATE_HARNESS_H
#define VW_TEMPLATE_HARNESS_H

#include "alerts/template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TH_MAX_VARS 4

static inline const char *th_name(size_t k)
{
    static const char *const names[TH_MAX_VARS] = {"a", "text", "asset.name", "v_2"};
    return k < TH_MAX_VARS ? names[k] : "";
}

__attribute__((format(printf, 3, 4))) static inline int th_fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

static inline void *th_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

/* ---- the model ---------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (NUL-terminated), 0 when s[0] starts none: the code point
 * is decoded and held to its shortest form, the surrogate gap and U+10FFFF. */
static inline size_t th_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        n = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        n = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static inline bool th_utf8_valid(const char *s)
{
    for (const unsigned char *u = (const unsigned char *)s; *u;) {
        size_t n = th_seq(u);
        if (!n)
            return false;
        u += n;
    }
    return true;
}

/* v with each byte that starts no valid sequence replaced by EF BF BD, into dst (NULL: only the
 * length). */
static inline size_t th_repair(const char *v, char *dst)
{
    size_t o = 0;
    for (const unsigned char *u = (const unsigned char *)(v ? v : ""); *u;) {
        size_t n = th_seq(u);
        const char *src = (const char *)u, *fffd = "\xEF\xBF\xBD";
        size_t m = n;
        if (!n)
            src = fffd, m = 3, n = 1;
        if (dst)
            memcpy(dst + o, src, m);
        o += m;
        u += n;
    }
    return o;
}

static inline bool th_in(unsigned char c, const char *set) { return c && strchr(set, c) != NULL; }

#define TH_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* One byte of a repaired value as the header's escape writes it (dst NULL: only the length). */
static inline size_t th_esc_byte(unsigned char c, enum alerts_escape esc, char *dst)
{
    char tmp[8];
    size_t n;
    switch (esc) {
    case ALERTS_ESC_JSON:
        if (c == '"' || c == '\\')
            n = (size_t)snprintf(tmp, sizeof tmp, "\\%c", c);
        else if (c == '\n')
            n = (size_t)snprintf(tmp, sizeof tmp, "\\n");
        else if (c == '\t')
            n = (size_t)snprintf(tmp, sizeof tmp, "\\t");
        else if (c < 0x20)
            n = (size_t)snprintf(tmp, sizeof tmp, "\\u%04X", c);
        else
            tmp[0] = (char)c, n = 1;
        break;
    case ALERTS_ESC_FORM:
        if (th_in(c, TH_ALNUM "*-._"))
            tmp[0] = (char)c, n = 1;
        else if (c == ' ')
            tmp[0] = '+', n = 1;
        else
            n = (size_t)snprintf(tmp, sizeof tmp, "%%%02X", c);
        break;
    case ALERTS_ESC_URL:
        if (th_in(c, TH_ALNUM "-._~"))
            tmp[0] = (char)c, n = 1;
        else
            n = (size_t)snprintf(tmp, sizeof tmp, "%%%02X", c);
        break;
    case ALERTS_ESC_HEADER:
        tmp[0] = c < 0x20 || c == 0x7F ? ' ' : (char)c, n = 1;
        break;
    default:
        tmp[0] = (char)c, n = 1;
        break;
    }
    if (dst)
        memcpy(dst, tmp, n);
    return n;
}

static inline size_t th_escape(const char *v, enum alerts_escape esc, char *dst)
{
    size_t rn = th_repair(v, NULL), o = 0;
    char *r = th_malloc(rn);
    th_repair(v, r);
    for (size_t k = 0; k < rn; k++)
        o += th_esc_byte((unsigned char)r[k], esc, dst ? dst + o : NULL);
    free(r);
    return o;
}

static inline bool th_name_char(unsigned char c) { return th_in(c, TH_ALNUM "_."); }

/* The template rendered by the grammar read literally, into dst (NULL: only the length): the
 * length, or -EINVAL with *bad_at the offset of the first bad "{{" (malformed or unknown). */
static inline long th_render(const char *t, size_t tlen, const alerts_var *vars, size_t nvars,
                             enum alerts_escape esc, char *dst, size_t *bad_at)
{
    size_t o = 0, i = 0;
    while (i < tlen) {
        if (i + 1 >= tlen || t[i] != '{' || t[i + 1] != '{') {
            if (dst)
                dst[o] = t[i];
            o++, i++;
            continue;
        }
        if (i + 3 < tlen && t[i + 2] == '{' && t[i + 3] == '{') {
            if (dst)
                memcpy(dst + o, "{{", 2);
            o += 2, i += 4;
            continue;
        }
        size_t j = i + 2;
        while (j < tlen && t[j] == ' ')
            j++;
        size_t name = j;
        while (j < tlen && th_name_char((unsigned char)t[j]))
            j++;
        size_t name_len = j - name;
        while (j < tlen && t[j] == ' ')
            j++;
        *bad_at = i;
        if (name_len < 1 || name_len > ALERTS_TEMPLATE_MAX_NAME || j + 1 >= tlen || t[j] != '}' || t[j + 1] != '}')
            return -EINVAL;
        size_t k = 0;
        while (k < nvars && !(vars[k].name && strlen(vars[k].name) == name_len &&
                              memcmp(vars[k].name, t + name, name_len) == 0))
            k++;
        if (k == nvars)
            return -EINVAL;
        o += th_escape(vars[k].value, esc, dst ? dst + o : NULL);
        i = j + 2;
    }
    return (long)o;
}

/* ---- decoders, from the formats ----------------------------------------------------------------- */

static inline int th_hex(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static inline size_t th_put_utf8(uint32_t cp, char *dst)
{
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80)
        return d[0] = (unsigned char)cp, 1;
    if (cp < 0x800)
        return d[0] = (unsigned char)(0xC0 | cp >> 6), d[1] = (unsigned char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return d[0] = (unsigned char)(0xE0 | cp >> 12), d[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)),
               d[2] = (unsigned char)(0x80 | (cp & 0x3F)), 3;
    return d[0] = (unsigned char)(0xF0 | cp >> 18), d[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F)),
           d[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F)), d[3] = (unsigned char)(0x80 | (cp & 0x3F)), 4;
}

static inline long th_u4(const unsigned char *p)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = th_hex(p[k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* The content of a JSON string (RFC 8259, between the quotes) p[0, n) decoded into dst (room for n
 * bytes: no escape decodes longer than itself): 0 and *dlen, or -1 when it is not one (a raw '"',
 * control byte or invalid UTF-8, a bad escape, a lone surrogate). */
static inline int th_json_decode(const char *p, size_t n, char *dst, size_t *dlen)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c == '"' || c < 0x20)
            return -1;
        if (c != '\\') {
            size_t k = 1;
            if (c >= 0x80) { /* a valid sequence, wholly inside p[0, n) */
                unsigned char seq[5] = {0};
                for (k = 0; k < 4 && i + k < n; k++)
                    seq[k] = u[i + k];
                k = th_seq(seq);
                if (!k)
                    return -1;
            }
            memcpy(dst + o, u + i, k);
            o += k, i += k;
            continue;
        }
        if (i + 1 >= n)
            return -1;
        const char *simple = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *at = strchr(simple, u[i + 1]);
        if (u[i + 1] && at) {
            dst[o++] = to[at - simple];
            i += 2;
            continue;
        }
        if (u[i + 1] != 'u' || i + 6 > n)
            return -1;
        long cp = th_u4(u + i + 2);
        if (cp < 0)
            return -1;
        i += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i + 6 > n || u[i] != '\\' || u[i + 1] != 'u')
                return -1;
            long lo = th_u4(u + i + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        o += th_put_utf8((uint32_t)cp, dst + o);
    }
    *dlen = o;
    return 0;
}

/* Percent-decoding of a form body (form: '+' is a space) or a URL component into dst (room for n):
 * -1 for any byte the format wants escaped, or a '%' without two hex digits. */
static inline int th_pct_decode(const char *p, size_t n, bool form, char *dst, size_t *dlen)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (u[i] == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = th_hex(u[i + 1]), lo = th_hex(u[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (form && u[i] == '+') {
            dst[o++] = ' ';
        } else if (th_in(u[i], form ? TH_ALNUM "*-._" : TH_ALNUM "-._~")) {
            dst[o++] = (char)u[i];
        } else {
            return -1;
        }
    }
    *dlen = o;
    return 0;
}

/* ---- the checks --------------------------------------------------------------------------------- */

static inline bool th_esc_known(enum alerts_escape esc) { return (int)esc >= 0 && (int)esc <= (int)ALERTS_ESC_HEADER; }

/* v escaped alone: the model's bytes, decoding back to the repaired value, -ENOSPC one byte short. */
static inline int th_check_value(const char *v, enum alerts_escape esc, char *why, size_t whylen)
{
    size_t rn = th_repair(v, NULL), en = th_escape(v, esc, NULL), dn = 0;
    char *rep = th_malloc(rn), *want = th_malloc(en), *out = th_malloc(en + 1), *dec = th_malloc(en);
    int res = -1;
    th_repair(v, rep);
    th_escape(v, esc, want);
    long rc = alerts_escape_value(v, esc, out, en + 1);
    if (rc != (long)en || memcmp(out, want, en) != 0 || out[en] != 0) {
        th_fail(why, whylen, "escape %d of \"%.60s\": rc %ld, expected %zu bytes \"%.*s\"", (int)esc, v ? v : "(null)",
                rc, en, (int)(en > 80 ? 80 : en), want);
        goto out;
    }
    switch (esc) {
    case ALERTS_ESC_NONE:
        if (en != rn || memcmp(out, rep, rn) != 0) {
            th_fail(why, whylen, "escape NONE changed more than the invalid UTF-8");
            goto out;
        }
        break;
    case ALERTS_ESC_JSON:
        if (th_json_decode(out, en, dec, &dn) || dn != rn || memcmp(dec, rep, rn) != 0) {
            th_fail(why, whylen, "escape JSON \"%.80s\" does not read back as the value", out);
            goto out;
        }
        break;
    case ALERTS_ESC_FORM:
    case ALERTS_ESC_URL:
        if (th_pct_decode(out, en, esc == ALERTS_ESC_FORM, dec, &dn) || dn != rn || memcmp(dec, rep, rn) != 0) {
            th_fail(why, whylen, "escape %s \"%.80s\" does not decode to the value",
                    esc == ALERTS_ESC_FORM ? "FORM" : "URL", out);
            goto out;
        }
        break;
    case ALERTS_ESC_HEADER:
        for (size_t k = 0; k < en; k++)
            if ((unsigned char)out[k] < 0x20 || out[k] == 0x7F ||
                (out[k] != rep[k] && !(out[k] == ' ' && ((unsigned char)rep[k] < 0x20 || rep[k] == 0x7F)))) {
                th_fail(why, whylen, "escape HEADER byte %zu is 0x%02X for 0x%02X", k, (unsigned char)out[k],
                        (unsigned char)rep[k]);
                goto out;
            }
        break;
    }
    /* one byte short: -ENOSPC and ""; the buffer is exactly that short */
    char *shortbuf = th_malloc(en);
    shortbuf[0] = 'Z';
    rc = alerts_escape_value(v, esc, shortbuf, en);
    bool ok = rc == -ENOSPC && (en == 0 ? shortbuf[0] == 'Z' : shortbuf[0] == 0);
    free(shortbuf);
    if (!ok) {
        th_fail(why, whylen, "escape %d with cap %zu for %zu bytes: rc %ld or out not \"\"", (int)esc, en, en, rc);
        goto out;
    }
    res = 0;
out:
    free(rep);
    free(want);
    free(out);
    free(dec);
    return res;
}

/* alerts_utf8_truncate against the header's description, on an exact-size copy of v. */
static inline int th_check_truncate(const char *v, size_t max_chars, char *why, size_t whylen)
{
    size_t len = strlen(v), nch = 0;
    size_t *at = th_malloc((len + 1) * sizeof *at); /* at[k]: byte offset of character k */
    const unsigned char *u = (const unsigned char *)v;
    for (size_t i = 0; i < len; nch++) {
        at[nch] = i;
        size_t n = th_seq(u + i);
        i += n ? n : 1;
    }
    at[nch] = len;
    char *want = th_malloc(len + 1);
    size_t wn;
    if (nch <= max_chars) {
        wn = len;
        memcpy(want, v, len);
    } else if (max_chars == 0) {
        wn = 0;
    } else if (len < 3) {
        wn = at[max_chars];
        memcpy(want, v, wn);
    } else {
        size_t k = max_chars - 1;
        while (at[k] + 3 > len)
            k--;
        memcpy(want, v, at[k]);
        memcpy(want + at[k], "\xE2\x80\xA6", 3);
        wn = at[k] + 3;
    }
    want[wn] = 0;
    char *s = th_malloc(len + 1);
    memcpy(s, v, len + 1);
    size_t got = alerts_utf8_truncate(s, max_chars);
    int res = -1;
    size_t gch = 0;
    for (size_t i = 0; i < got && i <= len && s[i];) {
        size_t n = th_seq((const unsigned char *)s + i);
        i += n ? n : 1;
        gch++;
    }
    if (got != wn || strlen(s) != got || memcmp(s, want, wn + 1) != 0)
        th_fail(why, whylen, "truncate of %zu characters (%zu bytes) to %zu: %zu bytes \"%.40s\", expected %zu \"%.40s\"",
                nch, len, max_chars, got, s, wn, want);
    else if (gch > max_chars || got > len || (th_utf8_valid(v) && !th_utf8_valid(s)))
        th_fail(why, whylen, "truncate to %zu: %zu characters, %zu bytes of %zu, or invalid UTF-8", max_chars, gch,
                got, len);
    else
        res = 0;
    free(at);
    free(want);
    free(s);
    return res;
}

static inline size_t th_count_crlf(const char *p, size_t n)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += p[k] == '\r' || p[k] == '\n';
    return c;
}

/* The template's own text is a valid JSON string content (so that its JSON rendering must be). */
static inline bool th_json_safe_text(const char *t, size_t tlen)
{
    char *z = th_malloc(tlen + 1);
    memcpy(z, t, tlen);
    z[tlen] = 0;
    bool ok = strlen(z) == tlen && th_utf8_valid(z);
    for (size_t k = 0; ok && k < tlen; k++)
        ok = (unsigned char)t[k] >= 0x20 && t[k] != '"' && t[k] != '\\';
    free(z);
    return ok;
}

static inline long th_call(const char *t, size_t tlen, const alerts_var *vars, size_t nvars, enum alerts_escape esc,
                           size_t cap, char *err, size_t errlen, char **outp)
{
    char *out = th_malloc(cap);
    memset(out, 0xA5, cap ? cap : 1);
    long rc = alerts_template_render(t, tlen, vars, nvars, esc, out, cap, err, errlen);
    *outp = out;
    return rc;
}

/* Renders the case and checks everything above; *rc_out (when not NULL) gets the code. 0, or -1
 * with why. */
static inline int th_check_case(const char *t, size_t tlen, const alerts_var *vars, size_t nvars,
                                enum alerts_escape esc, bool all_caps, long *rc_out, char *why, size_t whylen)
{
    size_t bad_at = 0, total = 0;
    long want = th_esc_known(esc) ? th_render(t, tlen, vars, nvars, esc, NULL, &bad_at) : -EINVAL;
    for (size_t k = 0; k < nvars; k++)
        total += vars[k].value ? strlen(vars[k].value) : 0;
    size_t cap = (want >= 0 ? (size_t)want + 1 : tlen + 9 * total + 1) + 7;
    char err[256 + 8], err2[256];
    memset(err, 'X', sizeof err);
    char *out = NULL, *exp = NULL, *again = NULL;
    int res = -1;
    long rc = th_call(t, tlen, vars, nvars, esc, cap, err, 256, &out);
    if (rc_out)
        *rc_out = rc;
    if (memcmp(err + 256, "XXXXXXXX", 8) != 0 || !memchr(err, 0, 256)) {
        th_fail(why, whylen, "err written past errlen or not NUL-terminated");
        goto out;
    }
    if (rc != want) {
        th_fail(why, whylen, "returned %ld, expected %ld (escape %d, bad \"{{\" at %zu); err: %s", rc, want, (int)esc,
                bad_at, err);
        goto out;
    }
    /* a short err is cut, never overrun; no err at all gives the same code */
    char small[8];
    memset(small, 'Y', sizeof small);
    free(again);
    long rc2 = th_call(t, tlen, vars, nvars, esc, cap, small, 5, &again);
    if (rc2 != rc || (rc < 0 && (small[4] != 0 || memcmp(small + 5, "YYY", 3) != 0))) {
        th_fail(why, whylen, "with errlen 5: rc %ld (was %ld), or err not cut at 5", rc2, rc);
        goto out;
    }
    free(again);
    if (th_call(t, tlen, vars, nvars, esc, cap, NULL, 0, &again) != rc) {
        th_fail(why, whylen, "with err NULL: a different code");
        goto out;
    }
    const char *names[TH_MAX_VARS];
    for (size_t k = 0; k < nvars && k < TH_MAX_VARS; k++)
        names[k] = vars[k].name;
    int crc = alerts_template_check(t, tlen, names, nvars, err2, sizeof err2);
    if (rc < 0) {
        if (out[0] != 0 || !err[0] || strchr(err, '\n')) {
            th_fail(why, whylen, "refused (%ld) with out not \"\" or err \"%s\"", rc, err);
            goto out;
        }
        if (th_esc_known(esc)) {
            char prefix[40];
            snprintf(prefix, sizeof prefix, "byte %zu:", bad_at);
            if (strncmp(err, prefix, strlen(prefix)) != 0) {
                th_fail(why, whylen, "err \"%s\" does not start \"%s\"", err, prefix);
                goto out;
            }
            if (crc != -EINVAL || strcmp(err2, err) != 0) {
                th_fail(why, whylen, "alerts_template_check: %d \"%s\", render: \"%s\"", crc, err2, err);
                goto out;
            }
        }
        res = 0;
        goto out;
    }
    if (crc != 0 || err[0] || err2[0]) {
        th_fail(why, whylen, "rendered, but alerts_template_check %d \"%s\" / err \"%s\"", crc, err2, err);
        goto out;
    }

    size_t n = (size_t)rc;
    exp = th_malloc(n + 1);
    th_render(t, tlen, vars, nvars, esc, exp, &bad_at);
    exp[n] = 0;
    if (memcmp(out, exp, n + 1) != 0) {
        th_fail(why, whylen, "rendered \"%.80s\", expected \"%.80s\"", out, exp);
        goto out;
    }
    if (!memchr(t, 0, tlen) && strlen(out) != n) {
        th_fail(why, whylen, "length %zu, strlen %zu", n, strlen(out));
        goto out;
    }
    if (esc == ALERTS_ESC_HEADER && th_count_crlf(out, n) != th_count_crlf(t, tlen)) {
        th_fail(why, whylen, "HEADER rendering has %zu CR/LF, the template %zu", th_count_crlf(out, n),
                th_count_crlf(t, tlen));
        goto out;
    }
    if (esc == ALERTS_ESC_JSON && th_json_safe_text(t, tlen)) {
        size_t dn;
        char *dec = th_malloc(n);
        int jr = th_json_decode(out, n, dec, &dn);
        free(dec);
        if (jr) {
            th_fail(why, whylen, "JSON rendering \"%.80s\" is not a JSON string's content", out);
            goto out;
        }
    }
    /* the exact cap gives the same, each shorter one -ENOSPC and "" */
    size_t lo = all_caps ? 0 : n;
    for (size_t c2 = n + 1;; c2--) {
        free(again);
        again = NULL;
        long r3 = th_call(t, tlen, vars, nvars, esc, c2, err, 256, &again);
        if (c2 == n + 1 ? (r3 != rc || memcmp(again, out, n + 1) != 0)
                        : (r3 != -ENOSPC || (c2 ? again[0] != 0 : (unsigned char)again[0] != 0xA5) || !err[0])) {
            th_fail(why, whylen, "cap %zu for %zu bytes: rc %ld, out \"%.40s\"", c2, n, r3, c2 ? again : "");
            goto out;
        }
        if (c2 == lo)
            break;
    }
    if (alerts_template_render(t, tlen, vars, nvars, esc, NULL, 0, NULL, 0) != -ENOSPC) {
        th_fail(why, whylen, "out NULL, outlen 0: not -ENOSPC");
        goto out;
    }
    res = 0;
out:
    free(out);
    free(exp);
    free(again);
    return res;
}

/* ---- arbitrary bytes → a case --------------------------------------------------------------------
 *
 *   byte 0      the escape, mod 6 (5: an unknown one, 9)
 *   byte 1      bits 0–2: the number of variables, mod 5 (named a, text, asset.name, v_2);
 *               bit 3: try every cap (short outputs); bit 4: the first value is NULL
 *   byte 2      the template's length (it follows, and may hold NUL bytes)
 *   byte 3      max_chars for alerts_utf8_truncate, tried on each value
 *   the rest    after the template, the values, NUL-separated; those missing are "". */

/* Checks the case the bytes describe; *rc_out gets what alerts_template_render returned. 0 or -1
 * with why. */
static inline int th_harness_one(const uint8_t *data, size_t size, long *rc_out, char *why, size_t whylen)
{
    uint8_t b0 = size > 0 ? data[0] : 0, b1 = size > 1 ? data[1] : 0, b2 = size > 2 ? data[2] : 0,
            b3 = size > 3 ? data[3] : 0;
    enum alerts_escape esc = b0 % 6 == 5 ? (enum alerts_escape)9 : (enum alerts_escape)(b0 % 6);
    size_t nvars = (b1 & 7) % 5;
    bool all_caps = (b1 & 8) != 0;
    size_t at = size < 4 ? size : 4;
    size_t tlen = b2 < size - at ? b2 : size - at;
    char *t = th_malloc(tlen); /* exactly tlen bytes, no NUL after them */
    if (tlen)
        memcpy(t, data + at, tlen);
    at += tlen;
    alerts_var vars[TH_MAX_VARS];
    char *val[TH_MAX_VARS] = {0};
    memset(vars, 0, sizeof vars);
    for (size_t k = 0; k < nvars; k++) {
        size_t n = 0;
        if (at < size) {
            const uint8_t *z = memchr(data + at, 0, size - at);
            n = z ? (size_t)(z - (data + at)) : size - at;
        }
        val[k] = th_malloc(n + 1);
        if (n)
            memcpy(val[k], data + at, n);
        val[k][n] = 0;
        at += n + 1;
        vars[k].name = th_name(k);
        vars[k].value = k == 0 && (b1 & 16) ? NULL : val[k];
    }
    int res = th_check_case(t, tlen, vars, nvars, esc, all_caps && tlen + size < 1024, rc_out, why, whylen);
    for (size_t k = 0; res == 0 && k < nvars; k++) {
        if (th_esc_known(esc))
            res = th_check_value(vars[k].value, esc, why, whylen);
        if (res == 0)
            res = th_check_truncate(val[k], b3, why, whylen);
    }
    for (size_t k = 0; k < nvars; k++)
        free(val[k]);
    free(t);
    return res;
}

#endif
