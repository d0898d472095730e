/* daemon/config_read.c — the tools of the configuration walk: the JSON path of the value in hand,
 * messages that name it, typed getters and the checks of ids, names, URIs and addresses.
 *
 * Every getter answers a wrong value the same way, "PATH: must be DESCRIPTION, not VALUE", so a
 * wrong type and an out-of-range number read alike ("schedule.interval_s: must be a number from 1
 * to 86400, not \"ten\""). Values are quoted with control characters and invalid UTF-8 escaped, so
 * a hostile file cannot put raw bytes into a log line. */
#include "config_priv.h"

#include "common/utf8.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- text ---------------------------------------------------------------------------------- */

/* One decoder for the whole program (common/utf8.h); the daemon's callers keep this name. */
size_t vw_cfg_utf8_check(const unsigned char *s, size_t n) { return vw_utf8_valid_prefix(s, n); }

/* Appends str to out[0..*o) when it fits with its terminator; false when it does not. */
static bool put(char *out, size_t outlen, size_t *o, const char *str)
{
    size_t l = strlen(str);
    if (*o + l + 1 > outlen)
        return false;
    memcpy(out + *o, str, l);
    *o += l;
    out[*o] = 0;
    return true;
}

void vw_cfg_quote(char *out, size_t outlen, const char *s)
{
    enum { MAX_CHARS = 48 };
    if (!outlen)
        return;
    out[0] = 0;
    size_t o = 0, n = strlen(s), chars = 0;
    const unsigned char *u = (const unsigned char *)s;
    if (!put(out, outlen, &o, "\""))
        return;
    for (size_t i = 0; i < n; chars++) {
        if (chars == MAX_CHARS) {
            if (!put(out, outlen, &o, "…"))
                return;
            break;
        }
        unsigned char c = u[i];
        char tmp[8];
        if (c == '"' || c == '\\') {
            snprintf(tmp, sizeof tmp, "\\%c", c);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\x%02X", c);
            i++;
        } else if (c < 0x80) {
            tmp[0] = (char)c;
            tmp[1] = 0;
            i++;
        } else {
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (k <= n - i && vw_cfg_utf8_check(u + i, k) == k) {
                memcpy(tmp, u + i, k);
                tmp[k] = 0;
                i += k;
            } else {
                snprintf(tmp, sizeof tmp, "\\x%02X", c);
                i++;
            }
        }
        if (!put(out, outlen, &o, tmp))
            return;
    }
    put(out, outlen, &o, "\"");
}

char *vw_cfg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- the path ------------------------------------------------------------------------------ */

static void path_append(vw_cfg_ctx *x, const char *s)
{
    size_t n = strlen(s), room = sizeof x->path - 1 - x->plen;
    if (n > room)
        n = room;
    memcpy(x->path + x->plen, s, n);
    x->plen += n;
    x->path[x->plen] = 0;
}

static bool is_plain_key(const char *k)
{
    if (!*k)
        return false;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_'))
            return false;
    return true;
}

/* Appends ".key", or ["key"] when the key is not a plain word. */
static void path_add_key(vw_cfg_ctx *x, const char *key)
{
    if (is_plain_key(key) && strlen(key) <= 64) {
        if (x->plen)
            path_append(x, ".");
        path_append(x, key);
    } else {
        char q[160];
        vw_cfg_quote(q, sizeof q, key);
        path_append(x, "[");
        path_append(x, q);
        path_append(x, "]");
    }
}

size_t vw_cfg_path_key(vw_cfg_ctx *x, const char *key)
{
    size_t mark = x->plen;
    path_add_key(x, key);
    return mark;
}

size_t vw_cfg_path_index(vw_cfg_ctx *x, unsigned i)
{
    size_t mark = x->plen;
    char b[24];
    snprintf(b, sizeof b, "[%u]", i);
    path_append(x, b);
    return mark;
}

void vw_cfg_path_pop(vw_cfg_ctx *x, size_t mark)
{
    x->plen = mark;
    x->path[mark] = 0;
}

/* ---- messages ------------------------------------------------------------------------------ */

int vw_cfg_fail(vw_cfg_ctx *x, const char *key, const char *fmt, ...)
{
    size_t mark = x->plen;
    if (key)
        path_add_key(x, key);
    int k = snprintf(x->err, x->errlen, "%s: ", x->plen ? x->path : "top level");
    vw_cfg_path_pop(x, mark);
    if (k >= 0 && (size_t)k < x->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err + k, x->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static void render_value(char *out, size_t outlen, const cJSON *v)
{
    if (cJSON_IsString(v))
        vw_cfg_quote(out, outlen, v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, outlen, isfinite(v->valuedouble) ? "%.10g" : "a number too large to represent", v->valuedouble);
    else if (cJSON_IsTrue(v))
        snprintf(out, outlen, "true");
    else if (cJSON_IsFalse(v))
        snprintf(out, outlen, "false");
    else if (cJSON_IsNull(v))
        snprintf(out, outlen, "null");
    else if (cJSON_IsArray(v))
        snprintf(out, outlen, "an array");
    else if (cJSON_IsObject(v))
        snprintf(out, outlen, "an object");
    else
        snprintf(out, outlen, "an unknown value");
}

int vw_cfg_fail_value(vw_cfg_ctx *x, const char *key, const char *desc, const cJSON *v)
{
    char val[200];
    render_value(val, sizeof val, v);
    return vw_cfg_fail(x, key, "must be %s, not %s", desc, val);
}

/* ---- keys ---------------------------------------------------------------------------------- */

bool vw_cfg_is_comment(const char *key) { return key && key[0] == '/' && key[1] == '/'; }

const cJSON *vw_cfg_member(const cJSON *obj, const char *key)
{
    for (const cJSON *m = obj ? obj->child : NULL; m; m = m->next)
        if (m->string && strcmp(m->string, key) == 0)
            return m;
    return NULL;
}

/* Levenshtein distance, for "did you mean"; only short words are compared. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 40 || nb > 40)
        return 99;
    unsigned row[41];
    for (size_t j = 0; j <= nb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= na; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= nb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static int unknown_key(vw_cfg_ctx *x, const char *key, const char *const *known)
{
    const char *best = NULL;
    unsigned best_d = 3;
    for (size_t k = 0; known[k]; k++) {
        unsigned d = edit_distance(key, known[k]);
        /* a different case is always a near miss: keys are case-sensitive */
        if (strlen(key) == strlen(known[k]) && strcasecmp(key, known[k]) == 0)
            d = 0;
        /* "min" for "min_rpm", "interval" for "interval_s": a known key begins with it */
        else if (strlen(key) >= 3 && strncmp(known[k], key, strlen(key)) == 0)
            d = 1;
        if (d < best_d && d < strlen(known[k])) {
            best_d = d;
            best = known[k];
        }
    }
    if (best)
        return vw_cfg_fail(x, key, "unknown key (did you mean \"%s\"?)", best);
    char list[400] = "";
    size_t o = 0;
    for (size_t k = 0; known[k] && o < sizeof list; k++) {
        int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", known[k]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    return vw_cfg_fail(x, key, "unknown key (known here: %s; keys starting with \"//\" are comments)", list);
}

int vw_cfg_check_keys(vw_cfg_ctx *x, const cJSON *obj, const char *const *known)
{
    unsigned long long seen = 0;
    for (const cJSON *m = obj->child; m; m = m->next) {
        const char *key = m->string ? m->string : "";
        if (vw_cfg_is_comment(key))
            continue;
        size_t k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (!known[k])
            return unknown_key(x, key, known);
        if (k < 64 && (seen >> k & 1))
            return vw_cfg_fail(x, key, "this key appears twice in the same object");
        if (k < 64)
            seen |= 1ull << k;
    }
    return 0;
}

/* ---- getters ------------------------------------------------------------------------------- */

static int missing(vw_cfg_ctx *x, const char *key, const char *desc)
{
    return vw_cfg_fail(x, key, "missing (required: %s)", desc);
}

static void range_desc(char *out, size_t len, const char *what, double lo, double hi)
{
    snprintf(out, len, "%s from %.10g to %.10g", what, lo, hi);
}

static int get_num(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, double lo, double hi,
                   bool whole, double *out)
{
    char desc[96];
    range_desc(desc, sizeof desc, whole ? "a whole number" : "a number", lo, hi);
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return required ? missing(x, key, desc) : 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi ||
        (whole && v->valuedouble != floor(v->valuedouble)))
        return vw_cfg_fail_value(x, key, desc, v);
    *out = v->valuedouble;
    return 0;
}

int vw_cfg_get_number(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, double lo, double hi,
                      double *out)
{
    return get_num(x, obj, key, required, lo, hi, false, out);
}

int vw_cfg_get_whole(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, double lo, double hi,
                     double *out)
{
    return get_num(x, obj, key, required, lo, hi, true, out);
}

int vw_cfg_get_bool(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return vw_cfg_fail_value(x, key, "true or false", v);
    *out = cJSON_IsTrue(v);
    return 0;
}

int vw_cfg_get_object(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, const cJSON **out)
{
    *out = NULL;
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return required ? missing(x, key, "an object") : 0;
    if (!cJSON_IsObject(v))
        return vw_cfg_fail_value(x, key, "an object { … }", v);
    *out = v;
    return 0;
}

int vw_cfg_get_array(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, unsigned max,
                     const char *what, const cJSON **out)
{
    *out = NULL;
    const cJSON *v = vw_cfg_member(obj, key);
    char desc[96];
    snprintf(desc, sizeof desc, "an array of %s [ … ]", what);
    if (!v)
        return required ? missing(x, key, desc) : 0;
    if (!cJSON_IsArray(v))
        return vw_cfg_fail_value(x, key, desc, v);
    unsigned n = 0;
    for (const cJSON *e = v->child; e; e = e->next)
        if (++n > max)
            return vw_cfg_fail(x, key, "at most %u %s, not more", max, what);
    *out = v;
    return 0;
}

int vw_cfg_get_choice(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required,
                      const char *const *choices, int *out)
{
    char desc[200] = "one of ";
    size_t o = strlen(desc);
    for (size_t k = 0; choices[k] && o < sizeof desc; k++) {
        int w = snprintf(desc + o, sizeof desc - o, "%s\"%s\"", k == 0 ? "" : choices[k + 1] ? ", " : " or ",
                         choices[k]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return required ? missing(x, key, desc) : 0;
    if (cJSON_IsString(v))
        for (int k = 0; choices[k]; k++)
            if (strcmp(v->valuestring, choices[k]) == 0) {
                *out = k;
                return 0;
            }
    return vw_cfg_fail_value(x, key, desc, v);
}

/* ---- kinds of text ------------------------------------------------------------------------- */

static int is_id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

static int check_listen(const char *s, char *why, size_t whylen)
{
    if (!*s)
        return 0;
    const char *colon;
    char addr[64];
    int ok = 0;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close && close[1] == ':' && (size_t)(close - s - 1) < sizeof addr) {
            memcpy(addr, s + 1, (size_t)(close - s - 1));
            addr[close - s - 1] = 0;
            struct in6_addr a6;
            ok = inet_pton(AF_INET6, addr, &a6) == 1;
        }
        colon = close ? close + 1 : NULL;
    } else {
        colon = strrchr(s, ':');
        if (colon && (size_t)(colon - s) < sizeof addr) {
            memcpy(addr, s, (size_t)(colon - s));
            addr[colon - s] = 0;
            struct in_addr a4;
            ok = inet_pton(AF_INET, addr, &a4) == 1;
        }
    }
    if (ok) {
        const char *p = colon + 1;
        unsigned long port = 0;
        size_t digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (unsigned long)(*p - '0');
        ok = digits > 0 && !*p && port <= 65535;
    }
    if (ok)
        return 0;
    char q[120];
    vw_cfg_quote(q, sizeof q, s);
    snprintf(why, whylen,
             "must be \"ADDR:PORT\" with a numeric IPv4 address or a [bracketed] IPv6 address (\"127.0.0.1:8080\", "
             "\"0.0.0.0:8080\", \"[::1]:8080\"), or \"\" to disable the web server, not %s",
             q);
    return -EINVAL;
}

int vw_cfg_check_text(const char *s, enum vw_cfg_text kind, char *why, size_t whylen)
{
    size_t n = strlen(s);
    char q[120];
    if (kind == VW_CFG_SECRET)
        snprintf(q, sizeof q, "(the value is a secret: not shown)");
    else
        vw_cfg_quote(q, sizeof q, s);
    if (kind == VW_CFG_LISTEN)
        return check_listen(s, why, whylen);
    if (kind == VW_CFG_ID || kind == VW_CFG_AXIS) {
        size_t max = kind == VW_CFG_ID ? VW_CFG_MAX_ID : VW_CFG_MAX_AXIS;
        bool ok = n >= 1 && n <= max && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
        for (size_t i = 0; ok && i < n; i++)
            ok = is_id_char((unsigned char)s[i]);
        if (!ok) {
            snprintf(why, whylen,
                     "must be 1 to %zu letters, digits, '_', '.' or '-' (and not \".\" or \"..\"), not %s", max, q);
            return -EINVAL;
        }
        return 0;
    }
    size_t max = kind == VW_CFG_NAME || kind == VW_CFG_SECRET ? VW_CFG_MAX_TEXT
                 : kind == VW_CFG_URI                          ? VW_CFG_MAX_URI
                                                               : VW_CFG_MAX_PATH;
    if (n == 0) {
        snprintf(why, whylen, "must not be empty");
        return -EINVAL;
    }
    if (n > max) {
        snprintf(why, whylen, "must be at most %zu bytes, not %zu", max, n);
        return -EINVAL;
    }
    size_t bad = vw_cfg_utf8_check((const unsigned char *)s, n);
    if (bad < n) {
        snprintf(why, whylen, "not valid UTF-8 (byte 0x%02X at byte %zu): %s", (unsigned char)s[bad], bad, q);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(why, whylen, "must not contain control characters (0x%02X at byte %zu): %s", c, i, q);
            return -EINVAL;
        }
    }
    return 0;
}

int vw_cfg_get_text(vw_cfg_ctx *x, const cJSON *obj, const char *key, bool required, enum vw_cfg_text kind,
                    char **out)
{
    static const char *const desc[] = {
        [VW_CFG_ID] = "an id of 1 to 64 letters, digits, '_', '.' or '-', in double quotes",
        [VW_CFG_AXIS] = "an axis label of 1 to 31 letters, digits, '_', '.' or '-', in double quotes",
        [VW_CFG_NAME] = "a text in double quotes",
        [VW_CFG_URI] = "a source URI in double quotes (\"sim:pump\", \"file:PATH\", \"iio:…\", \"alsa:…\")",
        [VW_CFG_PATH] = "a path in double quotes",
        [VW_CFG_LISTEN] = "\"ADDR:PORT\" or \"\"",
        [VW_CFG_SECRET] = "a text in double quotes",
    };
    const cJSON *v = vw_cfg_member(obj, key);
    if (!v)
        return required ? missing(x, key, desc[kind]) : 0;
    if (!cJSON_IsString(v) && kind == VW_CFG_SECRET)
        return vw_cfg_fail(x, key, "must be %s (the value is a secret: not shown)", desc[kind]);
    if (!cJSON_IsString(v))
        return vw_cfg_fail_value(x, key, desc[kind], v);
    char why[400];
    if (vw_cfg_check_text(v->valuestring, kind, why, sizeof why) < 0)
        return vw_cfg_fail(x, key, "%s", why);
    free(*out);
    *out = vw_cfg_strdup(v->valuestring);
    if (!*out)
        return vw_cfg_fail(x, key, "out of memory");
    return 0;
}

int vw_config_check_id(const char *s, char *why, size_t whylen) { return vw_cfg_check_text(s, VW_CFG_ID, why, whylen); }
