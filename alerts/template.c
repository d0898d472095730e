/* alerts/template.c — {{name}} placeholders and the value escapes of alerts/template.h.
 *
 * Pure: no allocation, no I/O, no state, so any thread may call it. Everything is written through a
 * bounded writer that keeps room for the NUL and, at the first byte that would not fit, stops and
 * turns the result into -ENOSPC; out never sees a byte past outlen, and on any error out is "".
 *
 * Rendering walks the template twice: first only checking it (every placeholder well formed and
 * known), so a bad template is -EINVAL whatever the size of out, then writing. A placeholder runs
 * from "{{" to the first "}}" after it (a name and its spaces never contain '}'), which lets an
 * error show what was between. Values are decoded strictly (RFC 3629); every byte that does not
 * start a valid sequence becomes one U+FFFD, escaped like any other character. All escapes act on
 * ASCII bytes only (bytes >= 0x80 are kept, or %XX in FORM and URL), so they work byte by byte on
 * the repaired value. HEADER blanks the ASCII controls (0x00–0x1F, 0x7F); other bytes are legal in
 * a header value. */
#include "alerts/template.h"

#include "common/utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define ELLIPSIS "\xE2\x80\xA6"    /* U+2026 */

/* ---- bounded output ----------------------------------------------------------------------------- */

typedef struct writer {
    char *buf;
    size_t cap; /* bytes usable, the NUL included; at most LONG_MAX so the length fits a long */
    size_t len; /* < cap while !full */
    bool full;
} writer;

static void w_init(writer *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap > (size_t)LONG_MAX ? (size_t)LONG_MAX : cap;
    w->len = 0;
    w->full = buf == NULL || cap == 0;
    if (buf && cap)
        buf[0] = 0;
}

static void w_put(writer *w, const char *p, size_t n)
{
    if (w->full)
        return;
    if (n >= w->cap - w->len) { /* the NUL needs one more byte */
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void w_putc(writer *w, char c) { w_put(w, &c, 1); }

/* NUL-terminates and returns the length, or makes out "" and returns -ENOSPC. */
static long w_finish(writer *w)
{
    if (w->full) {
        if (w->buf && w->cap)
            w->buf[0] = 0;
        return -ENOSPC;
    }
    w->buf[w->len] = 0;
    return (long)w->len;
}

/* ---- UTF-8 and the escapes ---------------------------------------------------------------------- */

static bool escape_known(enum alerts_escape esc)
{
    int e = (int)esc;
    return e >= (int)ALERTS_ESC_NONE && e <= (int)ALERTS_ESC_HEADER;
}

static bool ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static const char hex_digits[] = "0123456789ABCDEF";

static void put_pct(writer *w, unsigned char c)
{
    char e[3] = {'%', hex_digits[c >> 4], hex_digits[c & 15]};
    w_put(w, e, sizeof e);
}

static void put_escaped_byte(writer *w, unsigned char c, enum alerts_escape esc)
{
    switch (esc) {
    case ALERTS_ESC_JSON:
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            w_put(w, e, 2);
        } else if (c == '\n') {
            w_put(w, "\\n", 2);
        } else if (c == '\t') {
            w_put(w, "\\t", 2);
        } else if (c < 0x20) {
            char e[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 15]};
            w_put(w, e, sizeof e);
        } else {
            w_putc(w, (char)c);
        }
        break;
    case ALERTS_ESC_FORM:
        if (ascii_alnum(c) || c == '*' || c == '-' || c == '.' || c == '_')
            w_putc(w, (char)c);
        else if (c == ' ')
            w_putc(w, '+');
        else
            put_pct(w, c);
        break;
    case ALERTS_ESC_URL:
        if (ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            w_putc(w, (char)c);
        else
            put_pct(w, c);
        break;
    case ALERTS_ESC_HEADER:
        w_putc(w, c < 0x20 || c == 0x7F ? ' ' : (char)c);
        break;
    case ALERTS_ESC_NONE:
    default:
        w_putc(w, (char)c);
        break;
    }
}

static void put_value(writer *w, const char *value, enum alerts_escape esc)
{
    const unsigned char *s = (const unsigned char *)(value ? value : "");
    while (*s && !w->full) {
        size_t n = vw_utf8_seq_str(s, NULL);
        const unsigned char *ch = s;
        size_t chlen = n;
        if (n == 0) {
            ch = (const unsigned char *)REPLACEMENT;
            chlen = 3;
            n = 1;
        }
        for (size_t k = 0; k < chlen; k++)
            put_escaped_byte(w, ch[k], esc);
        s += n;
    }
}

/* ---- the template ------------------------------------------------------------------------------- */

enum ph_status { PH_OK, PH_UNCLOSED, PH_EMPTY, PH_BAD, PH_LONG };

typedef struct placeholder {
    size_t inner, inner_len; /* between "{{" and "}}" */
    size_t name, name_len;   /* the same without the spaces around */
    size_t end;              /* just past "}}" */
} placeholder;

static bool name_char(unsigned char c) { return ascii_alnum(c) || c == '_' || c == '.'; }

/* Reads the placeholder whose "{{" is at t[at]. */
static enum ph_status read_placeholder(const char *t, size_t tlen, size_t at, placeholder *ph)
{
    size_t close = at + 2;
    while (close + 1 < tlen && !(t[close] == '}' && t[close + 1] == '}'))
        close++;
    ph->inner = at + 2;
    ph->inner_len = 0;
    ph->name = ph->inner;
    ph->name_len = 0;
    ph->end = tlen;
    if (close + 1 >= tlen)
        return PH_UNCLOSED;
    size_t a = at + 2, b = close;
    ph->inner_len = close - ph->inner;
    ph->end = close + 2;
    while (a < b && t[a] == ' ')
        a++;
    while (b > a && t[b - 1] == ' ')
        b--;
    ph->name = a;
    ph->name_len = b - a;
    if (a == b)
        return PH_EMPTY;
    for (size_t k = a; k < b; k++)
        if (!name_char((unsigned char)t[k]))
            return PH_BAD;
    return b - a > ALERTS_TEMPLATE_MAX_NAME ? PH_LONG : PH_OK;
}

/* The names a template may use: those of vars[], or names[] (alerts_template_check). */
typedef struct name_set {
    const alerts_var *vars;
    const char *const *names;
    size_t n;
} name_set;

/* Index of the first entry named t[0, len) (len >= 1, no NUL in it), or SIZE_MAX. */
static size_t name_find(const name_set *set, const char *t, size_t len)
{
    for (size_t k = 0; k < set->n; k++) {
        const char *nm = set->vars ? set->vars[k].name : set->names[k];
        /* strncmp stops at nm's NUL, so nm[len] is read only when nm has len bytes before it */
        if (nm && strncmp(nm, t, len) == 0 && nm[len] == 0)
            return k;
    }
    return SIZE_MAX;
}

/* Bytes p[0, n) for a message: printable ASCII as is, the rest as \xHH, at most 40 source bytes. */
static void show(const char *p, size_t n, char *dst, size_t dstlen)
{
    size_t o = 0, limit = n > 40 ? 40 : n;
    dst[0] = 0;
    for (size_t k = 0; k < limit; k++) {
        unsigned char c = (unsigned char)p[k];
        char e[5];
        size_t m = 1;
        e[0] = (char)c;
        if (c < 0x20 || c >= 0x7F) {
            e[0] = '\\';
            e[1] = 'x';
            e[2] = hex_digits[c >> 4];
            e[3] = hex_digits[c & 15];
            m = 4;
        }
        if (m + 4 > dstlen - o) /* room for "..." and the NUL */
            break;
        memcpy(dst + o, e, m);
        o += m;
    }
    if (limit < n && dstlen - o >= 4) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = 0;
}

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Walks the template: checks it against set when w is NULL, else writes it into w with the values
 * of set->vars escaped by esc. 0, or -EINVAL with err naming the first problem. */
static int walk(const char *t, size_t tlen, const name_set *set, writer *w, enum alerts_escape esc, char *err,
                size_t errlen)
{
    size_t text = 0; /* start of the literal text not yet written */
    size_t i = 0;
    if (tlen == 0)
        return 0; /* t may be NULL then: no arithmetic on it */
    while (i + 1 < tlen) {
        if (t[i] != '{' || t[i + 1] != '{') {
            i++;
            continue;
        }
        if (w)
            w_put(w, t + text, i - text);
        if (i + 3 < tlen && t[i + 2] == '{' && t[i + 3] == '{') {
            if (w)
                w_put(w, "{{", 2);
            i += 4;
            text = i;
            continue;
        }
        placeholder ph;
        enum ph_status st = read_placeholder(t, tlen, i, &ph);
        char shown[200] = "";
        if (st != PH_OK)
            show(t + ph.inner, ph.inner_len, shown, sizeof shown);
        switch (st) {
        case PH_UNCLOSED:
            set_err(err, errlen, "byte %zu: \"{{\" without its \"}}\"", i);
            return -EINVAL;
        case PH_EMPTY:
            set_err(err, errlen, "byte %zu: empty placeholder {{%s}}", i, shown);
            return -EINVAL;
        case PH_BAD:
            set_err(err, errlen, "byte %zu: malformed placeholder {{%s}} (a name is [A-Za-z0-9_.]{1,%d})", i,
                    shown, ALERTS_TEMPLATE_MAX_NAME);
            return -EINVAL;
        case PH_LONG:
            set_err(err, errlen, "byte %zu: placeholder name longer than %d bytes {{%s}}", i,
                    ALERTS_TEMPLATE_MAX_NAME, shown);
            return -EINVAL;
        case PH_OK:
            break;
        }
        size_t k = name_find(set, t + ph.name, ph.name_len);
        if (k == SIZE_MAX) {
            set_err(err, errlen, "byte %zu: unknown placeholder {{%.*s}}", i, (int)ph.name_len, t + ph.name);
            return -EINVAL;
        }
        if (w)
            put_value(w, set->vars[k].value, esc);
        i = ph.end;
        text = i;
    }
    if (w)
        w_put(w, t + text, tlen - text);
    return 0;
}

/* ---- the API ------------------------------------------------------------------------------------ */

long alerts_template_render(const char *tmpl, size_t tlen, const alerts_var *vars, size_t nvars,
                            enum alerts_escape esc, char *out, size_t outlen, char *err, size_t errlen)
{
    writer w;
    w_init(&w, out, outlen);
    set_err(err, errlen, "%s", "");
    if ((!tmpl && tlen) || (!vars && nvars) || (!out && outlen)) {
        set_err(err, errlen, "%s", "template: NULL argument");
        return -EINVAL;
    }
    if (!escape_known(esc)) {
        set_err(err, errlen, "template: unknown escape %d", (int)esc);
        return -EINVAL;
    }
    name_set set = {.vars = vars, .names = NULL, .n = nvars};
    int rc = walk(tmpl, tlen, &set, NULL, esc, err, errlen);
    if (rc)
        return rc;
    if (walk(tmpl, tlen, &set, &w, esc, err, errlen))
        return -EINVAL; /* cannot happen: the same walk passed above */
    long n = w_finish(&w);
    if (n < 0)
        set_err(err, errlen, "template: the output does not fit in %zu bytes", outlen);
    return n;
}

int alerts_template_check(const char *tmpl, size_t tlen, const char *const *names, size_t nnames, char *err,
                          size_t errlen)
{
    set_err(err, errlen, "%s", "");
    if ((!tmpl && tlen) || (!names && nnames)) {
        set_err(err, errlen, "%s", "template: NULL argument");
        return -EINVAL;
    }
    name_set set = {.vars = NULL, .names = names, .n = nnames};
    return walk(tmpl, tlen, &set, NULL, ALERTS_ESC_NONE, err, errlen);
}

long alerts_escape_value(const char *value, enum alerts_escape esc, char *out, size_t outlen)
{
    writer w;
    w_init(&w, out, outlen);
    if ((!out && outlen) || !escape_known(esc))
        return -EINVAL;
    put_value(&w, value, esc);
    return w_finish(&w);
}

size_t alerts_utf8_truncate(char *s, size_t max_chars)
{
    if (!s)
        return 0;
    size_t len = strlen(s);
    if (max_chars == 0) {
        s[0] = 0;
        return 0;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, chars = 0, ellipsis_at = SIZE_MAX;
    while (chars < max_chars && i < len) {
        if (len - i >= 3) /* "…" after the chars first characters stays within s */
            ellipsis_at = i;
        size_t n = vw_utf8_seq_str(u + i, NULL);
        i += n ? n : 1;
        chars++;
    }
    if (i >= len)
        return len; /* max_chars characters or fewer: nothing to cut */
    if (ellipsis_at == SIZE_MAX) { /* s is shorter than "…" itself */
        s[i] = 0;
        return i;
    }
    memcpy(s + ellipsis_at, ELLIPSIS, 3);
    s[ellipsis_at + 3] = 0;
    return ellipsis_at + 3;
}
