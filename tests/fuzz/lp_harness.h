/* tests/fuzz/lp_harness.h — the one check of store_lp_line (store/lineproto.h), shared by the
 * libFuzzer target (tests/fuzz/fuzz_lineproto.c), the corpus replay in `make test`
 * (tests/unit/test_fuzz_lineproto_replay.c) and the random round trips of tests/unit/test_lineproto.c.
 *
 * lp_check_case() formats one case and holds the result to what the header promises:
 *   - the return code is the one this file predicts from the inputs alone (lp_expect: -EINVAL for
 *     what the protocol cannot carry, else -ENODATA when no field is finite, else 0);
 *   - on any error the buffer (all of it, up to cap) and *len are as they were, and err says why
 *     on one line;
 *   - on success exactly one line was appended after the old *len, ending in its only '\n', with
 *     nothing touched past it; tests/fuzz/lp_parse.h reads it back to the same measurement, the
 *     non-empty tags sorted by escaped key, the finite fields in their order (floats bit for bit)
 *     and the timestamp;
 *   - one byte less of cap gives -ENOSPC with nothing touched (every smaller cap, when asked), the
 *     exact cap gives the same line again, and a short err buffer is cut, never overrun.
 * lp_harness_one() makes a case out of arbitrary bytes (the layout is below) and checks it.
 *
 * Everything is static inline (this header is included where it is used); it allocates with
 * malloc, each string and buffer at its exact size, so that ASan sees a read past any of them. */
#ifndef VW_LP_HARNESS_H
#define VW_LP_HARNESS_H

#include "lp_parse.h"
#include "store/lineproto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_CASE_MAX_TAGS (STORE_LP_MAX_TAGS + 3) /* a few more than allowed, to be refused */
#define LP_CASE_MAX_FIELDS 64

typedef struct lp_case {
    const char *measurement;
    store_lp_tag tags[LP_CASE_MAX_TAGS];
    size_t ntags;
    store_lp_field fields[LP_CASE_MAX_FIELDS];
    size_t nfields;
    int64_t t_ns;
} lp_case;

__attribute__((format(printf, 3, 4))) static inline int lp_h_fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- what the header says, from the inputs alone ---------------------------------------------- */

static inline bool lp_h_special(unsigned char c, bool eq_special)
{
    return c == ',' || c == ' ' || (eq_special && c == '=');
}

/* A name the protocol can carry: non-empty UTF-8 without control characters, and no backslash at
 * the end or before a byte that is escaped in this kind of name. */
static inline bool lp_h_name_ok(const char *s, bool eq_special)
{
    if (!s || !*s || !lp_p_utf8_ok((const unsigned char *)s, strlen(s)))
        return false;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if (*u < 0x20 || *u == 0x7F)
            return false;
        if (*u == '\\' && (u[1] == 0 || lp_h_special(u[1], eq_special)))
            return false;
    }
    return true;
}

static inline bool lp_h_string_ok(const char *s)
{
    return s && lp_p_utf8_ok((const unsigned char *)s, strlen(s)) && !strchr(s, '\n') && !strchr(s, '\r');
}

static inline bool lp_h_tag_written(const store_lp_tag *t) { return t->value && t->value[0]; }

static inline bool lp_h_field_written(const store_lp_field *f)
{
    return f->type != STORE_LP_FLOAT || isfinite(f->v.f);
}

/* The code store_lp_line must return for c given room enough, with the reason in words. */
static inline int lp_expect(const lp_case *c, const char **reason)
{
    *reason = "";
    if (c->ntags > STORE_LP_MAX_TAGS)
        return *reason = "too many tags", -EINVAL;
    if (!lp_h_name_ok(c->measurement, false) || c->measurement[0] == '#')
        return *reason = "bad measurement", -EINVAL;
    for (size_t i = 0; i < c->ntags; i++) {
        if (!lp_h_name_ok(c->tags[i].key, true))
            return *reason = "bad tag key", -EINVAL;
        if (lp_h_tag_written(&c->tags[i]) && !lp_h_name_ok(c->tags[i].value, true))
            return *reason = "bad tag value", -EINVAL;
    }
    for (size_t i = 0; i < c->ntags; i++)
        for (size_t j = i + 1; j < c->ntags; j++)
            if (lp_h_tag_written(&c->tags[i]) && lp_h_tag_written(&c->tags[j]) &&
                strcmp(c->tags[i].key, c->tags[j].key) == 0)
                return *reason = "duplicate tag key", -EINVAL;
    size_t written = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        const store_lp_field *f = &c->fields[i];
        if (!lp_h_name_ok(f->key, true))
            return *reason = "bad field key", -EINVAL;
        if ((int)f->type < (int)STORE_LP_FLOAT || (int)f->type > (int)STORE_LP_STRING)
            return *reason = "unknown field type", -EINVAL;
        if (f->type == STORE_LP_STRING && !lp_h_string_ok(f->v.s))
            return *reason = "bad string value", -EINVAL;
        written += lp_h_field_written(f);
    }
    if (c->t_ns < INT64_MIN + 2 || c->t_ns > INT64_MAX - 1)
        return *reason = "timestamp out of InfluxDB's range", -EINVAL;
    if (!written)
        return *reason = "no finite field", -ENODATA;
    return 0;
}

/* A tag key as it is written in the line (',', '=', ' ' escaped), malloc'd. */
static inline char *lp_h_escape_key(const char *s)
{
    size_t n = strlen(s);
    char *e = malloc(2 * n + 1), *o = e;
    if (!e)
        return NULL;
    for (; *s; s++) {
        if (lp_h_special((unsigned char)*s, true))
            *o++ = '\\';
        *o++ = *s;
    }
    *o = 0;
    return e;
}

/* Indices of the written tags of c, sorted by escaped key (plain insertion on escaped copies). */
static inline size_t lp_h_sorted_tags(const lp_case *c, size_t *idx)
{
    char *esc[LP_CASE_MAX_TAGS] = {0};
    size_t n = 0;
    for (size_t i = 0; i < c->ntags; i++) {
        if (!lp_h_tag_written(&c->tags[i]))
            continue;
        esc[i] = lp_h_escape_key(c->tags[i].key);
        if (!esc[i])
            abort();
        size_t j = n++;
        for (; j > 0 && strcmp(esc[idx[j - 1]], esc[i]) > 0; j--)
            idx[j] = idx[j - 1];
        idx[j] = i;
    }
    for (size_t i = 0; i < c->ntags; i++)
        free(esc[i]);
    return n;
}

static inline size_t lp_h_bound(const lp_case *c)
{
    size_t b = 64 + 2 * (c->measurement ? strlen(c->measurement) : 0);
    for (size_t i = 0; i < c->ntags && i < LP_CASE_MAX_TAGS; i++)
        b += 4 + 2 * (c->tags[i].key ? strlen(c->tags[i].key) : 0) +
             2 * (c->tags[i].value ? strlen(c->tags[i].value) : 0);
    for (size_t i = 0; i < c->nfields; i++) {
        b += 48 + 2 * (c->fields[i].key ? strlen(c->fields[i].key) : 0);
        if (c->fields[i].type == STORE_LP_STRING && c->fields[i].v.s)
            b += 2 * strlen(c->fields[i].v.s);
    }
    return b;
}

/* ---- the check ---------------------------------------------------------------------------------- */

static inline int lp_h_call(char *buf, size_t cap, size_t *len, const lp_case *c, char *err, size_t errlen)
{
    return store_lp_line(buf, cap, len, c->measurement, c->tags, c->ntags, c->fields, c->nfields, c->t_ns, err,
                         errlen);
}

static inline void lp_h_fill(char *buf, size_t n, unsigned seed)
{
    for (size_t k = 0; k < n; k++)
        buf[k] = (char)(0xA5 ^ (k * 31 + seed));
}

static inline int lp_h_compare(const lp_case *c, const lp_parsed *p, char *why, size_t whylen)
{
    if (strcmp(p->measurement, c->measurement) != 0)
        return lp_h_fail(why, whylen, "measurement read back as \"%s\", written \"%s\"", p->measurement,
                         c->measurement);
    size_t idx[LP_CASE_MAX_TAGS];
    size_t nt = lp_h_sorted_tags(c, idx);
    if (p->ntags != nt)
        return lp_h_fail(why, whylen, "%zu tags read back, %zu written", p->ntags, nt);
    for (size_t k = 0; k < nt; k++) {
        const store_lp_tag *t = &c->tags[idx[k]];
        if (strcmp(p->tag_key[k], t->key) != 0 || strcmp(p->tag_value[k], t->value) != 0)
            return lp_h_fail(why, whylen, "tag %zu read back as \"%s\"=\"%s\", expected \"%s\"=\"%s\"", k,
                             p->tag_key[k], p->tag_value[k], t->key, t->value);
    }
    size_t k = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        const store_lp_field *f = &c->fields[i];
        if (!lp_h_field_written(f))
            continue;
        if (k >= p->nfields)
            return lp_h_fail(why, whylen, "only %zu fields read back", p->nfields);
        const lp_pfield *g = &p->fields[k++];
        if (strcmp(g->key, f->key) != 0)
            return lp_h_fail(why, whylen, "field %zu key read back as \"%s\", written \"%s\"", i, g->key, f->key);
        bool same = false;
        switch (f->type) {
        case STORE_LP_FLOAT:
            same = g->type == LP_P_FLOAT && memcmp(&g->f, &f->v.f, sizeof(double)) == 0;
            break;
        case STORE_LP_INT:
            same = g->type == LP_P_INT && g->i == f->v.i;
            break;
        case STORE_LP_UINT:
            same = g->type == LP_P_UINT && g->u == f->v.u;
            break;
        case STORE_LP_BOOL:
            same = g->type == LP_P_BOOL && g->b == f->v.b;
            break;
        case STORE_LP_STRING:
            same = g->type == LP_P_STRING && strcmp(g->s, f->v.s) == 0;
            break;
        }
        if (!same)
            return lp_h_fail(why, whylen, "field \"%s\" (type %d) read back differently (type %d, %.17g)", f->key,
                             (int)f->type, (int)g->type, g->f);
    }
    if (k != p->nfields)
        return lp_h_fail(why, whylen, "%zu fields read back, %zu written", p->nfields, k);
    if (p->t_ns != c->t_ns)
        return lp_h_fail(why, whylen, "timestamp read back as %lld, written %lld", (long long)p->t_ns,
                         (long long)c->t_ns);
    return 0;
}

/* Checks that an error left buf[0, cap) equal to ref and *len at len0, with a one-line message. */
static inline int lp_h_untouched(const char *buf, const char *ref, size_t cap, size_t len, size_t len0,
                                 const char *err, int rc, const char *when, char *why, size_t whylen)
{
    if (len != len0)
        return lp_h_fail(why, whylen, "%s: rc %d moved *len from %zu to %zu", when, rc, len0, len);
    if (cap && memcmp(buf, ref, cap) != 0)
        return lp_h_fail(why, whylen, "%s: rc %d changed the buffer", when, rc);
    if (!err[0] || strchr(err, '\n'))
        return lp_h_fail(why, whylen, "%s: rc %d with message \"%s\"", when, rc, err);
    return 0;
}

/* Formats c after len0 bytes already in the buffer and checks everything above; all_caps tries every
 * cap short of the line. *rc_out (when not NULL) gets the code returned. 0, or -1 with why. */
static inline int lp_check_case(const lp_case *c, size_t len0, bool all_caps, int *rc_out, char *why, size_t whylen)
{
    const char *reason;
    int want = lp_expect(c, &reason);
    size_t cap = len0 + lp_h_bound(c);
    char *buf = malloc(cap), *ref = malloc(cap), *again = malloc(cap);
    char *parsed_arena = NULL;
    lp_parsed *p = NULL;
    int res = -1;
    if (!buf || !ref || !again)
        abort();
    lp_h_fill(buf, cap, 1);
    memcpy(ref, buf, cap);
    char err[256 + 8];
    memset(err, 'X', sizeof err);
    size_t len = len0;
    int rc = lp_h_call(buf, cap, &len, c, err, 256);
    if (rc_out)
        *rc_out = rc;
    if (memcmp(err + 256, "XXXXXXXX", 8) != 0) {
        lp_h_fail(why, whylen, "err written past errlen");
        goto out;
    }
    if (rc != want) {
        lp_h_fail(why, whylen, "returned %d, expected %d (%s); err: %s", rc, want, reason, err);
        goto out;
    }
    /* a short err is cut, NUL-terminated, never overrun; no err at all is fine too */
    char small[8];
    memset(small, 'Y', sizeof small);
    size_t len_small = len0;
    lp_h_fill(again, cap, 1);
    int rc2 = lp_h_call(again, cap, &len_small, c, small, 5);
    if (rc2 != rc || (rc && (small[4] != 0 || memcmp(small + 5, "YYY", 3) != 0))) {
        lp_h_fail(why, whylen, "with errlen 5: rc %d (was %d), err not cut at 5", rc2, rc);
        goto out;
    }
    len_small = len0;
    lp_h_fill(again, cap, 1);
    if (lp_h_call(again, cap, &len_small, c, NULL, 0) != rc) {
        lp_h_fail(why, whylen, "with err NULL: a different code");
        goto out;
    }
    if (rc != 0) {
        res = lp_h_untouched(buf, ref, cap, len, len0, err, rc, "refused", why, whylen);
        goto out;
    }

    /* one line appended after len0, nothing else touched */
    size_t n = len - len0;
    const char *line = buf + len0;
    if (len < len0 || n < 2 || len > cap || memcmp(buf, ref, len0) != 0 || memcmp(buf + len, ref + len, cap - len)) {
        lp_h_fail(why, whylen, "bytes outside the appended line changed (len %zu → %zu, cap %zu)", len0, len, cap);
        goto out;
    }
    if (line[n - 1] != '\n' || memchr(line, '\n', n - 1) || memchr(line, '\r', n)) {
        lp_h_fail(why, whylen, "not one line ending in '\\n': \"%.*s\"", (int)n, line);
        goto out;
    }
    p = malloc(sizeof *p);
    parsed_arena = malloc(2 * n + 16);
    if (!p || !parsed_arena)
        abort();
    if (lp_parse_line(line, n, p, parsed_arena, 2 * n + 16)) {
        lp_h_fail(why, whylen, "the line does not read back: %s: \"%.*s\"", p->why, (int)(n - 1), line);
        goto out;
    }
    if (lp_h_compare(c, p, why, whylen)) {
        size_t k = strlen(why);
        snprintf(why + k, whylen - k, " in \"%.*s\"", (int)(n - 1), line);
        goto out;
    }

    /* the exact cap writes the same line; any cap short of it writes nothing */
    size_t lo = all_caps ? len0 : len0 + n - 1;
    for (size_t cap2 = len0 + n;; cap2--) {
        size_t len2 = len0;
        lp_h_fill(again, cap, 1);
        int rc3 = lp_h_call(again, cap2, &len2, c, err, 256);
        if (cap2 == len0 + n) {
            if (rc3 != 0 || len2 != len || memcmp(again, buf, cap) != 0) {
                lp_h_fail(why, whylen, "with the exact cap %zu: rc %d, len %zu, or a different line", cap2, rc3, len2);
                goto out;
            }
        } else {
            char when[64];
            snprintf(when, sizeof when, "cap %zu for a line of %zu after %zu", cap2, n, len0);
            if (rc3 != -ENOSPC) {
                lp_h_fail(why, whylen, "%s: returned %d, not -ENOSPC", when, rc3);
                goto out;
            }
            if (lp_h_untouched(again, ref, cap, len2, len0, err, rc3, when, why, whylen))
                goto out;
        }
        if (cap2 == lo)
            break;
    }
    res = 0;
out:
    free(buf);
    free(ref);
    free(again);
    free(p);
    free(parsed_arena);
    return res;
}

/* ---- arbitrary bytes → a case --------------------------------------------------------------------
 *
 *   byte 0        number of tags, mod STORE_LP_MAX_TAGS + 3 (the last two are too many)
 *   byte 1        number of fields, mod 17
 *   byte 2        bits 0–2: bytes already in the buffer (len0); bit 3: try every cap (short inputs)
 *   bytes 3–10    the timestamp, little-endian int64
 *   9 per field   type (mod 6: the five types, or an unknown one) and 8 value bytes (a float's bits,
 *                 an int64 or uint64 little-endian, a bool's low bit)
 *   the rest      NUL-separated strings, in order: measurement, each tag's key and value, each
 *                 field's key, then one per field again (the value of a string field, unused for
 *                 the other types); those missing are "". */

static inline uint64_t lp_h_u64(const uint8_t *d, size_t size, size_t at)
{
    uint64_t v = 0;
    for (size_t k = 0; k < 8; k++)
        v |= (uint64_t)(at + k < size ? d[at + k] : 0) << (8 * k);
    return v;
}

/* Checks the case the bytes describe; *rc_out gets what store_lp_line returned. 0 or -1 with why. */
static inline int lp_harness_one(const uint8_t *data, size_t size, int *rc_out, char *why, size_t whylen)
{
    lp_case c;
    memset(&c, 0, sizeof c);
    if (rc_out)
        *rc_out = 0;
    uint8_t b0 = size > 0 ? data[0] : 0, b1 = size > 1 ? data[1] : 0, b2 = size > 2 ? data[2] : 0;
    c.ntags = b0 % (STORE_LP_MAX_TAGS + 3);
    c.nfields = b1 % 17;
    size_t len0 = b2 & 7;
    bool all_caps = (b2 & 8) && size < 512;
    c.t_ns = (int64_t)lp_h_u64(data, size, 3);
    size_t at = 11;
    for (size_t i = 0; i < c.nfields; i++, at += 9) {
        store_lp_field *f = &c.fields[i];
        uint8_t t = at < size ? data[at] : 0;
        uint64_t v = lp_h_u64(data, size, at + 1);
        f->type = t % 6 == 5 ? (enum store_lp_type)7 : (enum store_lp_type)(t % 6);
        switch (t % 6) {
        case STORE_LP_FLOAT:
            memcpy(&f->v.f, &v, sizeof v);
            break;
        case STORE_LP_INT:
            f->v.i = (int64_t)v;
            break;
        case STORE_LP_UINT:
            f->v.u = v;
            break;
        case STORE_LP_BOOL:
            f->v.b = v & 1;
            break;
        default:
            break;
        }
    }
    /* the strings, each in its own buffer of its exact size */
    char *str[1 + 2 * LP_CASE_MAX_TAGS + 2 * LP_CASE_MAX_FIELDS];
    size_t nstr = 1 + 2 * c.ntags + 2 * c.nfields;
    for (size_t k = 0; k < nstr; k++) {
        size_t n = 0;
        if (at <= size) {
            const uint8_t *z = memchr(data + at, 0, size - at);
            n = z ? (size_t)(z - (data + at)) : size - at;
        }
        str[k] = malloc(n + 1);
        if (!str[k])
            abort();
        if (n)
            memcpy(str[k], data + at, n);
        str[k][n] = 0;
        at += n + 1;
    }
    size_t s = 0;
    c.measurement = str[s++];
    for (size_t i = 0; i < c.ntags; i++) {
        c.tags[i].key = str[s++];
        c.tags[i].value = str[s++];
    }
    for (size_t i = 0; i < c.nfields; i++)
        c.fields[i].key = str[s++];
    for (size_t i = 0; i < c.nfields; i++) {
        const char *v = str[s++];
        if (c.fields[i].type == STORE_LP_STRING)
            c.fields[i].v.s = v;
    }
    int res = lp_check_case(&c, len0, all_caps, rc_out, why, whylen);
    for (size_t k = 0; k < nstr; k++)
        free(str[k]);
    return res;
}

#endif
