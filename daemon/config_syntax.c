/* daemon/config_syntax.c — JSON syntax, checked before cJSON parses the text, so that a mistake is
 * answered with its line and column and what is wrong there ("line 7, column 3: trailing comma
 * before '}'") instead of cJSON's bare position, which often points past the mistake.
 *
 * A recursive descent over RFC 8259 that builds nothing. It also refuses what cJSON would accept
 * and then get wrong: NUL characters (a raw byte or \u0000 cuts a cJSON string short), numbers
 * longer than the 63 characters cJSON reads, and nesting beyond VW_CFG_MAX_DEPTH (which also bounds
 * this file's and cJSON's recursion). Pure: no allocation, no state beyond the scanner. */
#include "config_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct scanner {
    const unsigned char *s;
    size_t n, i;
    int depth;
    size_t bad_utf8;
    char *err;
    size_t errlen;
} scanner;

void vw_cfg_line_col(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char b = (unsigned char)text[i];
        if (b == '\n') {
            l++;
            c = 1;
        } else if ((b & 0xC0) != 0x80) { /* a character starts here (continuation bytes do not) */
            c++;
        }
    }
    *line = l;
    *col = c;
}

__attribute__((format(printf, 3, 4)))
static int fail_at(scanner *sc, size_t off, const char *fmt, ...)
{
    unsigned line, col;
    vw_cfg_line_col((const char *)sc->s, sc->n, off, &line, &col);
    int k = snprintf(sc->err, sc->errlen, "line %u, column %u: ", line, col);
    if (k >= 0 && (size_t)k < sc->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sc->err + k, sc->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static void skip_ws(scanner *sc)
{
    while (sc->i < sc->n) {
        unsigned char c = sc->s[sc->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->i++;
    }
}

static int at(const scanner *sc) { return sc->i < sc->n ? sc->s[sc->i] : -1; }

static int is_word_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* What stands at the scanner, for "expected X, found Y". */
static void describe(const scanner *sc, char *out, size_t outlen)
{
    int c = at(sc);
    if (c < 0)
        snprintf(out, outlen, "the end of the text");
    else if (c >= 0x21 && c < 0x7f)
        snprintf(out, outlen, "'%c'", c);
    else if (c == ' ')
        snprintf(out, outlen, "a space");
    else if (c >= 0xC2) {
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (k <= sc->n - sc->i && vw_cfg_utf8_check(sc->s + sc->i, k) == k)
            snprintf(out, outlen, "'%.*s'", (int)k, (const char *)sc->s + sc->i);
        else
            snprintf(out, outlen, "byte 0x%02X", (unsigned)c);
    } else
        snprintf(out, outlen, "byte 0x%02X", (unsigned)c);
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = p[k];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static int scan_string(scanner *sc)
{
    size_t start = sc->i++; /* the opening quote */
    while (sc->i < sc->n) {
        unsigned char c = sc->s[sc->i];
        if (c == '"') {
            sc->i++;
            return 0;
        }
        if (c < 0x20) {
            if (c == '\n')
                return fail_at(sc, start, "this string is not closed on its line (a '\"' is missing)");
            return fail_at(sc, sc->i, "control character 0x%02X in a string (escape it: \\u%04X)", c, c);
        }
        if (c == '\\') {
            size_t esc = sc->i;
            if (sc->i + 1 >= sc->n)
                break;
            unsigned char e = sc->s[sc->i + 1];
            if (e && strchr("\"\\/bfnrt", e)) {
                sc->i += 2;
                continue;
            }
            if (e != 'u')
                return fail_at(sc, esc, "invalid escape '\\%c' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                               e >= 0x21 && e < 0x7f ? e : '?');
            unsigned u;
            if (sc->i + 6 > sc->n || hex4(sc->s + sc->i + 2, &u) < 0)
                return fail_at(sc, esc, "\\u must be followed by 4 hexadecimal digits");
            sc->i += 6;
            if (u == 0)
                return fail_at(sc, esc, "\\u0000 (a NUL character) is not allowed");
            if (u >= 0xDC00 && u <= 0xDFFF)
                return fail_at(sc, esc, "\\u%04X is the second half of a surrogate pair without its first half", u);
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (sc->i + 6 > sc->n || sc->s[sc->i] != '\\' || sc->s[sc->i + 1] != 'u' ||
                    hex4(sc->s + sc->i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return fail_at(sc, esc, "\\u%04X must be followed by the second half of its surrogate pair "
                                   "(\\uDC00 to \\uDFFF)", u);
                sc->i += 6;
            }
            continue;
        }
        if (c >= 0x80) {
            /* one character at a time, so a bad byte never hides the closing quote */
            size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (k > sc->n - sc->i || vw_cfg_utf8_check(sc->s + sc->i, k) != k) {
                if (sc->bad_utf8 == sc->n)
                    sc->bad_utf8 = sc->i;
                k = 1;
            }
            sc->i += k;
            continue;
        }
        sc->i++;
    }
    return fail_at(sc, start, "this string is not closed (a '\"' is missing)");
}

static int scan_number(scanner *sc)
{
    size_t start = sc->i;
    if (at(sc) == '-')
        sc->i++;
    int c = at(sc);
    if (c == '0') {
        sc->i++;
        if (at(sc) >= '0' && at(sc) <= '9')
            return fail_at(sc, start, "a number must not start with 0 (write 7, not 07)");
    } else if (c >= '1' && c <= '9') {
        while (at(sc) >= '0' && at(sc) <= '9')
            sc->i++;
    } else {
        return fail_at(sc, start, "'-' must be followed by digits");
    }
    if (at(sc) == '.') {
        sc->i++;
        if (!(at(sc) >= '0' && at(sc) <= '9'))
            return fail_at(sc, start, "a decimal point must be followed by digits (write 1.0 or 1)");
        while (at(sc) >= '0' && at(sc) <= '9')
            sc->i++;
    }
    if (at(sc) == 'e' || at(sc) == 'E') {
        sc->i++;
        if (at(sc) == '+' || at(sc) == '-')
            sc->i++;
        if (!(at(sc) >= '0' && at(sc) <= '9'))
            return fail_at(sc, start, "an exponent must have digits (write 1e3)");
        while (at(sc) >= '0' && at(sc) <= '9')
            sc->i++;
    }
    if (sc->i - start > 63)
        return fail_at(sc, start, "a number of more than 63 characters");
    if (is_word_char(at(sc)) || at(sc) == '.')
        return fail_at(sc, start, "malformed number");
    return 0;
}

static int scan_value(scanner *sc);

/* The separator after a member or an element: ',' or the closing bracket. */
static int after_item(scanner *sc, char close, size_t open_at, const char *what)
{
    skip_ws(sc);
    int c = at(sc);
    if (c == ',' || c == close)
        return 0;
    unsigned line, col;
    vw_cfg_line_col((const char *)sc->s, sc->n, open_at, &line, &col);
    if (c < 0)
        return fail_at(sc, sc->i, "the text ends inside the %s opened at line %u, column %u (a '%c' is missing)",
                       what, line, col, close);
    char found[24];
    describe(sc, found, sizeof found);
    if (c == '"' || c == '{' || c == '[' || is_word_char(c) || c == '-')
        return fail_at(sc, sc->i, "expected ',' or '%c', found %s (a ',' is missing before it?)", close, found);
    return fail_at(sc, sc->i, "expected ',' or '%c' in the %s opened at line %u, column %u, found %s", close, what,
                   line, col, found);
}

static int scan_object(scanner *sc)
{
    size_t open_at = sc->i++, comma_at = 0;
    skip_ws(sc);
    if (at(sc) == '}') {
        sc->i++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        int c = at(sc);
        if (c != '"') {
            char found[24];
            describe(sc, found, sizeof found);
            if (c == '}')
                return fail_at(sc, comma_at, "trailing comma before '}' (JSON allows none)");
            if (c == '/')
                return fail_at(sc, sc->i, "comments are not JSON: write them as a \"//\" key, "
                                          "\"//\": \"like this\"");
            if (c == '\'')
                return fail_at(sc, sc->i, "keys take double quotes, not single ones");
            if (is_word_char(c))
                return fail_at(sc, sc->i, "keys take double quotes (\"key\": value)");
            if (c < 0) {
                unsigned line, col;
                vw_cfg_line_col((const char *)sc->s, sc->n, open_at, &line, &col);
                return fail_at(sc, sc->i, "the text ends inside the object opened at line %u, column %u", line,
                               col);
            }
            return fail_at(sc, sc->i, "expected a key in double quotes, found %s", found);
        }
        int rc = scan_string(sc);
        if (rc < 0)
            return rc;
        skip_ws(sc);
        if (at(sc) != ':') {
            char found[24];
            describe(sc, found, sizeof found);
            return fail_at(sc, sc->i, "expected ':' after the key, found %s", found);
        }
        sc->i++;
        if ((rc = scan_value(sc)) < 0)
            return rc;
        if ((rc = after_item(sc, '}', open_at, "object")) < 0)
            return rc;
        comma_at = sc->i;
        if (sc->s[sc->i++] == '}')
            return 0;
    }
}

static int scan_array(scanner *sc)
{
    size_t open_at = sc->i++, comma_at = 0;
    skip_ws(sc);
    if (at(sc) == ']') {
        sc->i++;
        return 0;
    }
    for (;;) {
        skip_ws(sc);
        if (at(sc) == ']')
            return fail_at(sc, comma_at, "trailing comma before ']' (JSON allows none)");
        int rc = scan_value(sc);
        if (rc < 0)
            return rc;
        if ((rc = after_item(sc, ']', open_at, "array")) < 0)
            return rc;
        comma_at = sc->i;
        if (sc->s[sc->i++] == ']')
            return 0;
    }
}

static int scan_word(scanner *sc)
{
    static const char *const words[] = {"true", "false", "null"};
    size_t start = sc->i, k = 0;
    while (sc->i + k < sc->n && is_word_char(sc->s[sc->i + k]) && k < 32)
        k++;
    for (size_t w = 0; w < 3; w++)
        if (k == strlen(words[w]) && memcmp(sc->s + start, words[w], k) == 0) {
            sc->i += k;
            return 0;
        }
    char word[40];
    snprintf(word, sizeof word, "%.*s%s", (int)(k > 24 ? 24 : k), (const char *)sc->s + start, k > 24 ? "…" : "");
    if ((k == 3 && memcmp(word, "NaN", 3) == 0) || (k == 8 && memcmp(word, "Infinity", 8) == 0))
        return fail_at(sc, start, "%s is not a JSON number", word);
    if (k && (strncmp("true", word, k) == 0 || strncmp("false", word, k) == 0 || strncmp("null", word, k) == 0))
        return fail_at(sc, start, "unknown word %s (true, false or null?)", word);
    return fail_at(sc, start, "unquoted text %s: strings take double quotes", word);
}

static int scan_value(scanner *sc)
{
    skip_ws(sc);
    int c = at(sc);
    if (c == '{' || c == '[') {
        if (++sc->depth > VW_CFG_MAX_DEPTH)
            return fail_at(sc, sc->i, "nested more than %d levels deep", VW_CFG_MAX_DEPTH);
        int rc = c == '{' ? scan_object(sc) : scan_array(sc);
        sc->depth--;
        return rc;
    }
    if (c == '"')
        return scan_string(sc);
    if (c == '-' || (c >= '0' && c <= '9'))
        return scan_number(sc);
    if (is_word_char(c))
        return scan_word(sc);
    if (c < 0)
        return fail_at(sc, sc->i, "the text ends where a value is expected");
    if (c == '/')
        return fail_at(sc, sc->i, "comments are not JSON: write them as a \"//\" key, \"//\": \"like this\"");
    if (c == '\'')
        return fail_at(sc, sc->i, "strings take double quotes, not single ones");
    if (c == '.')
        return fail_at(sc, sc->i, "a number must start with a digit (write 0.5, not .5)");
    if (c == '+')
        return fail_at(sc, sc->i, "a number must not start with '+'");
    char found[24];
    describe(sc, found, sizeof found);
    return fail_at(sc, sc->i, "expected a value, found %s", found);
}

int vw_cfg_check_syntax(const char *text, size_t len, size_t *bad_utf8, char *err, size_t errlen)
{
    scanner sc = {(const unsigned char *)text, len, 0, 0, len, err, errlen};
    *bad_utf8 = len;
    const void *nul = memchr(text, 0, len);
    if (nul)
        return fail_at(&sc, (size_t)((const char *)nul - text), "a NUL byte (is this a text file?)");
    skip_ws(&sc);
    if (sc.i == len)
        return fail_at(&sc, sc.i, "the text is empty: expected a JSON object { … }");
    int rc = scan_value(&sc);
    if (rc < 0)
        return rc;
    skip_ws(&sc);
    if (sc.i < len) {
        char found[24];
        describe(&sc, found, sizeof found);
        return fail_at(&sc, sc.i, "%s after the end of the JSON value (one more '}' or ']' than opened, or two "
                       "values?)", found);
    }
    *bad_utf8 = sc.bad_utf8;
    return 0;
}
