/* Tests of alerts/mail.h. Each truth is checked independently of the module: base64 against RFC
 * 4648's own test vectors and a decoder written here; the encoded words of a header read back by
 * an RFC 2047 decoder written here (a Chinese asset name, emoji, a subject of a thousand
 * characters, at every starting column) give the text back exactly, with every encoded word within
 * 75 characters and every header line within 78 (998 anywhere, for any input); every line ends in
 * CRLF; the MIME boundary occurs only as its delimiters; header injection, bad addresses, bad UTF-8,
 * empty recipient lists and bad Message-IDs are refused with the field named, whatever the buffer;
 * -ENOSPC at every buffer one byte short, and alerts_mail_bound is an upper bound for random and
 * worst-case messages. And an outside reader: tests/tools/check_mail.py parses the message with
 * Python's email package (policy.default) and must find no defect and the same subject, mailboxes
 * and bodies that went in. */
#include "alerts/mail.h"
#include "testlib.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char ZH_SUBJECT[] = "泵站 3 号主泵 轴承外圈故障 — ALARM";
static const char EMOJI_SUBJECT[] = "🔥 Pump 3 🚨 ALARM ⚠️ bearing outer race 🛠️ 👷‍♀️";

static char g_msg[1 << 18], g_err[512];

/* ---- independent readers -------------------------------------------------------------------- */

/* Base64 (RFC 4648 section 4) decoded strictly; CR and LF between groups are skipped. -1 when it is
 * not base64. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v[4];
    size_t k = 0, len = 0;
    int ended = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        if (ended)
            return -1;
        const char *p = s[i] ? strchr(alpha, s[i]) : NULL;
        if (s[i] == '=') {
            v[k++] = 64;
        } else if (p) {
            if (k > 0 && v[k - 1] == 64)
                return -1;
            v[k++] = (unsigned)(p - alpha);
        } else {
            return -1;
        }
        if (k < 4)
            continue;
        if (v[0] == 64 || v[1] == 64 || (v[2] == 64 && v[3] != 64))
            return -1;
        unsigned bits = v[0] << 18 | v[1] << 12 | (v[2] & 63) << 6 | (v[3] & 63);
        int nb = v[2] == 64 ? 1 : v[3] == 64 ? 2 : 3;
        if (len + (size_t)nb > cap)
            return -1;
        out[len++] = (unsigned char)(bits >> 16);
        if (nb > 1)
            out[len++] = (unsigned char)(bits >> 8);
        if (nb > 2)
            out[len++] = (unsigned char)bits;
        ended = nb < 3;
        k = 0;
    }
    return k ? -1 : (long)len;
}

/* Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or values past U+10FFFF. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n)
            return 0;
        unsigned long cp = len == 1 ? c : len == 2 ? (c & 31u) : len == 3 ? (c & 15u) : (c & 7u);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 63u);
        }
        static const unsigned long min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* An encoded word =?charset?B?text?= that is all of s (n bytes): its decoded bytes into out. */
static long ew_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (n < 8 || strncmp(s, "=?", 2) != 0 || strncmp(s + n - 2, "?=", 2) != 0)
        return -1;
    const char *q1 = memchr(s + 2, '?', n - 4);
    if (!q1 || (size_t)(q1 - s) + 3 > n - 2 || q1[2] != '?')
        return -1;
    if ((size_t)(q1 - s - 2) != 5 || strncasecmp(s + 2, "UTF-8", 5) != 0 || (q1[1] != 'B' && q1[1] != 'b'))
        return -1;
    const char *data = q1 + 3;
    size_t nd = (size_t)(s + n - 2 - data);
    if (memchr(data, '?', nd))
        return -1;
    return b64_decode(data, nd, out, cap);
}

/* An unstructured header value (unfolded) as a reader shows it (RFC 2047 section 6.2): encoded
 * words decoded, the white space between two adjacent encoded words dropped, other text as is;
 * leading white space dropped. -1 when something that starts like an encoded word is not one. */
static long decode_unstructured(const char *v, char *out, size_t cap)
{
    size_t len = 0, i = 0, n = strlen(v);
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    int prev_ew = 0;
    while (i < n) {
        size_t ws = i;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t tok = i;
        while (i < n && v[i] != ' ' && v[i] != '\t')
            i++;
        unsigned char dec[256];
        long k = -1;
        if (i - tok >= 2 && v[tok] == '=' && v[tok + 1] == '?') {
            k = ew_decode(v + tok, i - tok, dec, sizeof dec);
            if (k < 0)
                return -1;
        }
        size_t nws = (k >= 0 && prev_ew) ? 0 : tok - ws;
        if (len + nws + (k >= 0 ? (size_t)k : i - tok) + 1 > cap)
            return -1;
        memcpy(out + len, v + ws, nws);
        len += nws;
        if (k >= 0) {
            memcpy(out + len, dec, (size_t)k);
            len += (size_t)k;
        } else {
            memcpy(out + len, v + tok, i - tok);
            len += i - tok;
        }
        prev_ew = k >= 0;
    }
    out[len] = 0;
    return (long)len;
}

/* Length of the header block of msg (through the CRLF before the empty line); 0 when none. */
static size_t header_len(const char *msg)
{
    const char *e = strstr(msg, "\r\n\r\n");
    return e ? (size_t)(e - msg) + 2 : 0;
}

/* The value of header field `name` (its lines unfolded: the CRLFs removed), and how many times the
 * field occurs. */
static int get_header(const char *msg, const char *name, char *out, size_t cap)
{
    size_t hl = header_len(msg), nl = strlen(name);
    int count = 0;
    out[0] = 0;
    for (size_t i = 0; i < hl;) {
        const char *eol = strstr(msg + i, "\r\n");
        if (strncasecmp(msg + i, name, nl) == 0 && msg[i + nl] == ':') {
            count++;
            size_t len = 0;
            const char *p = msg + i + nl + 1;
            for (;;) {
                size_t k = (size_t)(eol - p);
                if (len + k + 1 <= cap) {
                    memcpy(out + len, p, k);
                    len += k;
                }
                if (eol[2] != ' ' && eol[2] != '\t')
                    break;
                p = eol + 2;
                eol = strstr(p, "\r\n");
            }
            out[len < cap ? len : cap - 1] = 0;
            i = (size_t)(eol - msg) + 2;
        } else {
            i = (size_t)(eol - msg) + 2;
        }
    }
    return count;
}

/* The header field names of msg, in order, joined by ','. */
static void header_names(const char *msg, char *out, size_t cap)
{
    size_t hl = header_len(msg), len = 0;
    out[0] = 0;
    for (size_t i = 0; i < hl;) {
        const char *eol = strstr(msg + i, "\r\n");
        if (msg[i] != ' ' && msg[i] != '\t') {
            const char *colon = memchr(msg + i, ':', (size_t)(eol - (msg + i)));
            size_t k = colon ? (size_t)(colon - msg) - i : 0;
            if (len + k + 2 < cap) {
                if (len)
                    out[len++] = ',';
                memcpy(out + len, msg + i, k);
                len += k;
                out[len] = 0;
            }
        }
        i = (size_t)(eol - msg) + 2;
    }
}

typedef struct shape {
    int crlf_only;        /* every LF after a CR, every CR before a LF */
    size_t max_header;    /* the longest header line (CRLF not counted) */
    size_t max_any;       /* the longest line anywhere */
    size_t max_ew;        /* the longest encoded word in the header */
    int ew_bad;           /* an encoded word that does not decode, or splits a UTF-8 character */
    int header_ws_line;   /* a header line of white space only */
} shape;

static shape shape_of(const char *msg, size_t len)
{
    shape s = {.crlf_only = 1};
    size_t hl = header_len(msg);
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
            s.crlf_only = 0;
        if (msg[i] == '\r' && (i + 1 == len || msg[i + 1] != '\n'))
            s.crlf_only = 0;
    }
    for (size_t i = 0; i < len;) {
        const char *eol = strstr(msg + i, "\r\n");
        size_t k = eol ? (size_t)(eol - msg) - i : len - i;
        if (k > s.max_any)
            s.max_any = k;
        if (i < hl) {
            if (k > s.max_header)
                s.max_header = k;
            size_t sp = 0;
            while (sp < k && (msg[i + sp] == ' ' || msg[i + sp] == '\t'))
                sp++;
            if (k && sp == k)
                s.header_ws_line = 1;
        }
        i += k + 2;
    }
    for (size_t i = 0; i + 1 < hl; i++) {
        if (msg[i] != '=' || msg[i + 1] != '?')
            continue;
        size_t e = i + 2;
        while (e < hl && msg[e] != ' ' && msg[e] != '\r' && msg[e] != '>' && msg[e] != ',')
            e++;
        unsigned char dec[256];
        long k = ew_decode(msg + i, e - i, dec, sizeof dec);
        if (k < 0 || !utf8_ok(dec, (size_t)k))
            s.ew_bad = 1;
        if (e - i > s.max_ew)
            s.max_ew = e - i;
        i = e;
    }
    return s;
}

/* s with every line end (LF, CR LF, lone CR) made CR LF, the canonical form of text. */
static void canon(const char *s, char *out, size_t cap)
{
    size_t len = 0;
    for (; *s && len + 3 < cap; s++) {
        if (*s == '\r' || *s == '\n') {
            if (*s == '\r' && s[1] == '\n')
                s++;
            out[len++] = '\r';
            out[len++] = '\n';
        } else {
            out[len++] = *s;
        }
    }
    out[len] = 0;
}

/* ---- a sample message ---------------------------------------------------------------------- */

static const char *const ZH_TO[] = {"\"Doe, John\" <john.doe@example.com>", "值班工程师 <duty@plant.example.cn>",
                                    "ops@example.org", "O'Brien (night shift) <ob@example.org>"};

static const char ZH_TEXT[] = "泵站 3 号主泵: 轴承外圈故障 (BPFO 107.4 Hz)\n"
                              "包络谱峰值 0.82 g, 阈值 0.5 g.\n\n"
                              "Pump 3: bearing outer race fault — ALARM since 01:31 UTC.\n";
static const char ZH_HTML[] = "<!DOCTYPE html>\n<html><body>\n<h1>泵站 3 号主泵</h1>\n"
                              "<p>轴承外圈故障 — <b>ALARM</b></p>\n</body></html>\n";

static alerts_mail sample(void)
{
    alerts_mail m = {
        .from = "Vibewatch 泵站监测 <vw@plant.example.cn>",
        .to = ZH_TO,
        .nto = N(ZH_TO),
        .subject = ZH_SUBJECT,
        .message_id = "alert-42.1795915887@vw-box-7.plant.example.cn",
        .in_reply_to = "alert-41.1795900000@vw-box-7.plant.example.cn",
        .date_s = 1795915887, /* Sun, 29 Nov 2026 01:31:27 UTC */
        .alert_id = "pump3/bearing_outer/alarm",
        .text = ZH_TEXT,
        .html = ZH_HTML,
    };
    return m;
}

static long fmt(const alerts_mail *m)
{
    g_err[0] = 0;
    return alerts_mail_format(m, g_msg, sizeof g_msg, g_err, sizeof g_err);
}

/* The shape rules every formatted message keeps (with lines up to 78 in the header unless
 * long_ok: an address of 254 characters cannot fold). */
static void check_shape(int line, const char *msg, long len, int long_ok)
{
    shape s = shape_of(msg, (size_t)len);
    if (!s.crlf_only)
        t_fail_at(__FILE__, line, "a bare CR or LF");
    if (s.max_any > 998)
        t_fail_at(__FILE__, line, "a line of %zu characters (998 at most)", s.max_any);
    if (!long_ok && s.max_header > 78)
        t_fail_at(__FILE__, line, "a header line of %zu characters (78 at most)", s.max_header);
    if (s.max_ew > 75)
        t_fail_at(__FILE__, line, "an encoded word of %zu characters (75 at most)", s.max_ew);
    if (s.ew_bad)
        t_fail_at(__FILE__, line, "an encoded word that does not decode to whole UTF-8 characters");
    if (s.header_ws_line)
        t_fail_at(__FILE__, line, "a header line of white space only");
    if ((size_t)len != strlen(msg))
        t_fail_at(__FILE__, line, "length %ld, but %zu bytes before the NUL", len, strlen(msg));
}

/* The subject of msg read back. */
static void check_subject(int line, const char *msg, const char *want)
{
    char v[8192], dec[8192];
    if (get_header(msg, "Subject", v, sizeof v) != 1) {
        t_fail_at(__FILE__, line, "not exactly one Subject");
        return;
    }
    long k = decode_unstructured(v, dec, sizeof dec);
    if (k < 0 || strcmp(dec, want) != 0)
        t_fail_at(__FILE__, line, "subject reads back as \"%s\" (rc %ld), want \"%s\"", k < 0 ? "" : dec, k, want);
}

/* ---- base64 ---------------------------------------------------------------------------------- */

static void test_base64_rfc4648_vectors(void)
{
    static const char *const vec[][2] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                         {"foobar", "Zm9vYmFy"}};
    for (size_t v = 0; v < N(vec); v++) {
        const unsigned char *in = (const unsigned char *)vec[v][0];
        size_t n = strlen(vec[v][0]), want = strlen(vec[v][1]);
        char out[64], wrapped[64];
        long k = alerts_base64(in, n, 0, out, sizeof out);
        T_CHECK(k == (long)want && strcmp(out, vec[v][1]) == 0, "base64(\"%s\") = \"%s\" (%ld), want \"%s\"", vec[v][0],
                k >= 0 ? out : "", k, vec[v][1]);
        k = alerts_base64(in, n, 1, wrapped, sizeof wrapped);
        char want_wrapped[64];
        snprintf(want_wrapped, sizeof want_wrapped, "%s%s", vec[v][1], n ? "\r\n" : "");
        T_CHECK(k >= 0 && strcmp(wrapped, want_wrapped) == 0, "wrapped base64(\"%s\") = \"%s\"", vec[v][0],
                k >= 0 ? wrapped : "");
        /* exactly want + 1 bytes are needed, and nothing is written past outlen */
        for (size_t cap = 0; cap <= want; cap++) {
            char buf[64];
            memset(buf, '#', sizeof buf);
            k = alerts_base64(in, n, 0, buf, cap);
            T_CHECK(k == -ENOSPC, "base64(\"%s\") into %zu bytes: %ld, want -ENOSPC", vec[v][0], cap, k);
            T_CHECK(cap == 0 ? buf[0] == '#' : buf[0] == 0, "cap %zu: out not \"\"", cap);
            for (size_t i = cap; i < sizeof buf; i++)
                T_CHECK(buf[i] == '#', "cap %zu: byte %zu written", cap, i);
        }
        k = alerts_base64(in, n, 0, out, want + 1);
        T_CHECK(k == (long)want, "base64(\"%s\") into exactly %zu bytes: %ld", vec[v][0], want + 1, k);
    }
}

static void test_base64_lines_and_roundtrip(void)
{
    static unsigned char in[4000], back[4000];
    static char out[8000];
    t_rng_seed(4648);
    for (size_t n = 0; n < 700; n += 1 + n / 20) {
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(t_urand() * 256);
        long k = alerts_base64(in, n, 1, out, sizeof out);
        size_t chars = 4 * ((n + 2) / 3), lines = (chars + 75) / 76;
        T_CHECK(k == (long)(chars + 2 * lines), "n %zu: length %ld, want %zu", n, k, chars + 2 * lines);
        if (k < 0)
            continue;
        shape s = shape_of(out, (size_t)k);
        T_CHECK(s.crlf_only && s.max_any <= 76, "n %zu: line of %zu or bare CR/LF", n, s.max_any);
        /* every line but the last is exactly 76 */
        for (size_t i = 0; i + 78 <= (size_t)k; i += 78)
            if (i + 78 < (size_t)k)
                T_CHECK(out[i + 76] == '\r' && out[i + 77] == '\n', "n %zu: a short line at %zu", n, i);
        long d = b64_decode(out, (size_t)k, back, sizeof back);
        T_CHECK(d == (long)n && memcmp(back, in, n) == 0, "n %zu: does not decode back (%ld)", n, d);
        k = alerts_base64(in, n, 0, out, sizeof out);
        T_CHECK(k == (long)chars && !strchr(out, '\r'), "n %zu unwrapped: %ld", n, k);
    }
    /* 57 bytes make exactly one full line */
    memset(in, 0xFB, 58);
    long k = alerts_base64(in, 57, 1, out, sizeof out);
    T_CHECK(k == 78 && out[76] == '\r' && out[77] == '\n', "57 bytes: %ld", k);
    k = alerts_base64(in, 58, 1, out, sizeof out);
    T_CHECK(k == 84 && strcmp(out + 78, "+w==\r\n") == 0, "58 bytes: %ld \"%s\"", k, k > 78 ? out + 78 : "");
}

/* ---- header text ----------------------------------------------------------------------------- */

/* text formatted at every starting column from 0 to 100: reads back, lines within 78 (76 with an
 * encoded word), the first line adds nothing when the caller's line is already full. */
static void check_header_text_everywhere(int line, const char *text, int want_plain)
{
    for (size_t used = 0; used <= 100; used++) {
        char out[16384], line0[16384 + 128], dec[16384];
        long k = alerts_mail_header_text(text, used, out, sizeof out);
        if (k < 0) {
            t_fail_at(__FILE__, line, "used %zu: rc %ld", used, k);
            return;
        }
        /* the caller's line, then the text, then the end of a header block */
        memset(line0, 'x', used);
        memcpy(line0 + used, out, (size_t)k);
        memcpy(line0 + used + (size_t)k, "\r\n\r\n", 5);
        shape s = shape_of(line0, used + (size_t)k + 4);
        if (!s.crlf_only || s.max_ew > 75 || s.ew_bad || s.header_ws_line)
            t_fail_at(__FILE__, line, "used %zu: bad shape (crlf %d, ew of %zu, bad ew %d, blank line %d)", used,
                      s.crlf_only, s.max_ew, s.ew_bad, s.header_ws_line);
        /* every line within 78, within 76 when it holds an encoded word; the first one adds nothing
         * when it has no room */
        size_t lineno = 0;
        for (const char *p = out; p; lineno++) {
            const char *e = strstr(p, "\r\n");
            size_t len = e ? (size_t)(e - p) : strlen(p), col = (lineno ? 0 : used) + len;
            int has_ew = 0;
            for (size_t i = 0; i + 1 < len; i++)
                has_ew |= p[i] == '=' && p[i + 1] == '?';
            if (len && (col > 78 || (has_ew && col > 76)))
                t_fail_at(__FILE__, line, "used %zu: line %zu ends at column %zu", used, lineno, col);
            if (lineno && p[0] != ' ')
                t_fail_at(__FILE__, line, "used %zu: a continuation line without its space", used);
            p = e ? e + 2 : NULL;
        }
        /* unfolded and decoded: the text */
        char unf[16384];
        size_t u = 0;
        for (long i = 0; i < k; i++)
            if (out[i] != '\r' && out[i] != '\n')
                unf[u++] = out[i];
        unf[u] = 0;
        long d = decode_unstructured(unf, dec, sizeof dec);
        if (d < 0 || strcmp(dec, text) != 0) {
            t_fail_at(__FILE__, line, "used %zu: reads back as \"%s\"", used, d < 0 ? "(not decodable)" : dec);
            return;
        }
        if (want_plain >= 0 && used <= 9) {
            int plain = strstr(out, "=?") == NULL;
            if (plain != want_plain)
                t_fail_at(__FILE__, line, "used %zu: %s, want %s", used, plain ? "plain" : "encoded",
                          want_plain ? "plain" : "encoded");
        }
    }
}

static void test_header_text_ascii(void)
{
    char out[512];
    long k = alerts_mail_header_text("Pump 3 bearing ALARM", 9, out, sizeof out);
    T_CHECK(k == 20 && strcmp(out, "Pump 3 bearing ALARM") == 0, "short ASCII not kept as is: \"%s\"", out);
    k = alerts_mail_header_text("", 9, out, sizeof out);
    T_CHECK(k == 0 && out[0] == 0, "empty: %ld", k);
    /* long ASCII folds at its spaces, and unfolding gives it back */
    static const char long_ascii[] = "Pump 3 of pumping station Nord-West: the bearing outer race fault went from "
                                     "WARNING to ALARM at 01:31 UTC (envelope peak 0.82 g at BPFO 107.4 Hz, "
                                     "threshold 0.5 g); please check the lubrication schedule and the spare parts";
    k = alerts_mail_header_text(long_ascii, 9, out, sizeof out);
    T_CHECK(k > 0 && !strstr(out, "=?") && strstr(out, "\r\n "), "long ASCII not folded plain: \"%s\"", out);
    check_header_text_everywhere(__LINE__, long_ascii, 1);
    check_header_text_everywhere(__LINE__, "Pump 3 ALARM", 1);
    /* double spaces, leading and trailing spaces: folding never makes a line of only white space */
    check_header_text_everywhere(__LINE__, "a  b   c    d     e      f       g        h         i          j"
                                           "  k   l    m     n      o       p        q         r          s", 1);
    /* "=?" in ASCII would be read as an encoded word: encoded so it reads back */
    check_header_text_everywhere(__LINE__, "=?UTF-8?B?SGk=?= is not an encoded word here", 0);
    /* a word too long for any line: encoded (the only way to keep lines within 78) */
    char word[200];
    memset(word, 'W', 150);
    word[150] = 0;
    check_header_text_everywhere(__LINE__, word, 0);
}

static void test_header_text_chinese(void)
{
    char out[1024];
    long k = alerts_mail_header_text(ZH_SUBJECT, 9, out, sizeof out);
    T_CHECK(k > 0 && t_starts_with(out, "=?UTF-8?B?"), "not encoded: \"%s\"", out);
    check_header_text_everywhere(__LINE__, ZH_SUBJECT, 0);
    /* a lone non-ASCII character, and 4-byte characters at every column */
    check_header_text_everywhere(__LINE__, "é", 0);
    check_header_text_everywhere(__LINE__, "𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞", 0);
}

static void test_header_text_emoji(void)
{
    check_header_text_everywhere(__LINE__, EMOJI_SUBJECT, 0);
}

static void test_header_text_very_long(void)
{
    static char text[6000];
    size_t len = 0;
    static const char *const pieces[] = {ZH_SUBJECT, " ", EMOJI_SUBJECT, " — ", "bearing outer race",
                                         "ÄÖÜ äöü ß", "x", "  "};
    t_rng_seed(2047);
    while (len < 4000) {
        const char *p = pieces[(size_t)(t_urand() * N(pieces)) % N(pieces)];
        memcpy(text + len, p, strlen(p));
        len += strlen(p);
    }
    text[len] = 0;
    check_header_text_everywhere(__LINE__, text, 0);
}

static void test_header_text_refused(void)
{
    static const char *const bad[] = {"a\r\nBcc: evil@example.com", "a\nb", "a\rb", "a\tb", "a\x01", "a\x7f",
                                      "a\xc2\x85" /* U+0085 NEL */, "\xff", "\xc0\xaf" /* overlong '/' */,
                                      "\xe2\x82", "\xed\xa0\x80" /* surrogate */, "\xf4\x90\x80\x80", "\x80",
                                      "ok \xf0\x9f\x94"};
    for (size_t i = 0; i < N(bad); i++) {
        char out[256];
        memset(out, '#', sizeof out);
        long k = alerts_mail_header_text(bad[i], 9, out, sizeof out);
        T_CHECK(k == -EINVAL && out[0] == 0, "bad text %zu: %ld", i, k);
        k = alerts_mail_header_text(bad[i], 9, out, 1);
        T_CHECK(k == -EINVAL, "bad text %zu into 1 byte: %ld (EINVAL before ENOSPC)", i, k);
    }
    /* -ENOSPC at every size one short, nothing past outlen */
    char full[1024];
    long want = alerts_mail_header_text(ZH_SUBJECT, 9, full, sizeof full);
    for (size_t cap = 0; cap <= (size_t)want; cap++) {
        char out[1024];
        memset(out, '#', sizeof out);
        long k = alerts_mail_header_text(ZH_SUBJECT, 9, out, cap);
        T_CHECK(k == -ENOSPC, "cap %zu: %ld", cap, k);
        for (size_t i = cap ? 1 : 0; i < sizeof out; i++)
            if (out[i] != '#' && i >= cap) {
                T_CHECK(0, "cap %zu: byte %zu written", cap, i);
                break;
            }
    }
    char out[1024];
    T_CHECK(alerts_mail_header_text(ZH_SUBJECT, 9, out, (size_t)want + 1) == want, "exact size refused");
}

/* ---- addresses ------------------------------------------------------------------------------- */

static void test_address(void)
{
    static const char *const good[][2] = {
        {"a@b", "a@b"},
        {"vw@plant.example.cn", "vw@plant.example.cn"},
        {"Vibewatch <vw@plant.example>", "vw@plant.example"},
        {"  \"Doe, John\"   <john.doe@example.com>  ", "john.doe@example.com"},
        {"泵站 <duty@plant.example.cn>", "duty@plant.example.cn"},
        {"<bare@example.org>", "bare@example.org"},
        {"a!#$%&'*+-/=?^_`{|}~z@b.c", "a!#$%&'*+-/=?^_`{|}~z@b.c"},
        {"Name <with> angles <x@y.z>", "x@y.z"},
    };
    for (size_t i = 0; i < N(good); i++) {
        char out[300];
        int rc = alerts_mail_address(good[i][0], out, sizeof out);
        T_CHECK(rc == 0 && strcmp(out, good[i][1]) == 0, "\"%s\": rc %d \"%s\"", good[i][0], rc, rc ? "" : out);
        size_t need = strlen(good[i][1]) + 1;
        T_CHECK(alerts_mail_address(good[i][0], out, need - 1) == -ENOSPC, "\"%s\": no -ENOSPC", good[i][0]);
        T_CHECK(alerts_mail_address(good[i][0], out, need) == 0, "\"%s\": exact size refused", good[i][0]);
    }
    char local64[80], long_ok[300], long_bad[300], local65[80];
    memset(local64, 'l', 64);
    strcpy(local64 + 64, "@x.org");
    memset(local65, 'l', 65);
    strcpy(local65 + 65, "@x.org");
    /* 254 characters in all: local 64 + '@' + a domain of 189 */
    memset(long_ok, 'd', 254);
    memset(long_ok, 'l', 64);
    long_ok[64] = '@';
    for (size_t i = 100; i < 254; i += 50)
        long_ok[i] = '.';
    long_ok[254] = 0;
    memcpy(long_bad, long_ok, 254);
    strcpy(long_bad + 254, "d");
    char out[300];
    T_CHECK(alerts_mail_address(local64, out, sizeof out) == 0, "a 64-character local part refused");
    T_CHECK(alerts_mail_address(long_ok, out, sizeof out) == 0 && strlen(out) == 254, "254 characters refused");
    static const char *const bad[] = {"",
                                      "   ",
                                      "ab",
                                      "a@@b",
                                      "a@b@c",
                                      "a b@c",
                                      "a@b c",
                                      "(a)@b",
                                      "a@[192.0.2.1]",
                                      ".a@b",
                                      "a.@b",
                                      "a..b@c",
                                      "a@b.",
                                      "a@.b",
                                      "a@b..c",
                                      "@b",
                                      "a@",
                                      "a\"b@c",
                                      "a,b@c",
                                      "<a@b",
                                      "Name <>",
                                      "Name <a@b",
                                      "Name a@b>",
                                      "Name <a@b> x",
                                      "a@b\r\nBcc: evil@example.com",
                                      "Name\n <a@b>",
                                      "\xff <a@b>",
                                      "é@b",
                                      NULL};
    for (size_t i = 0; i < N(bad); i++) {
        memset(out, '#', sizeof out);
        int rc = alerts_mail_address(bad[i], out, sizeof out);
        T_CHECK(rc == -EINVAL && out[0] == 0, "\"%s\" accepted (rc %d)", bad[i] ? bad[i] : "NULL", rc);
    }
    T_CHECK(alerts_mail_address(local65, out, sizeof out) == -EINVAL, "a 65-character local part accepted");
    T_CHECK(alerts_mail_address(long_bad, out, sizeof out) == -EINVAL, "255 characters accepted");
}

/* ---- the message ----------------------------------------------------------------------------- */

static void test_message_structure(void)
{
    alerts_mail m = sample();
    long len = fmt(&m);
    T_CHECK(len > 0, "rc %ld: %s", len, g_err);
    if (len <= 0)
        return;
    check_shape(__LINE__, g_msg, len, 0);
    char names[1024], v[4096];
    header_names(g_msg, names, sizeof names);
    T_CHECK(strcmp(names, "Date,From,To,Subject,Message-ID,In-Reply-To,References,MIME-Version,Auto-Submitted,"
                          "X-Vibewatch-Alert,Content-Type") == 0,
            "header fields: %s", names);
    get_header(g_msg, "Date", v, sizeof v);
    T_CHECK(strcmp(v, " Sun, 29 Nov 2026 01:31:27 +0000") == 0, "Date:%s", v);
    get_header(g_msg, "Message-ID", v, sizeof v);
    T_CHECK(strcmp(v, " <alert-42.1795915887@vw-box-7.plant.example.cn>") == 0, "Message-ID:%s", v);
    get_header(g_msg, "In-Reply-To", v, sizeof v);
    T_CHECK(strcmp(v, " <alert-41.1795900000@vw-box-7.plant.example.cn>") == 0, "In-Reply-To:%s", v);
    get_header(g_msg, "References", v, sizeof v);
    T_CHECK(strcmp(v, " <alert-41.1795900000@vw-box-7.plant.example.cn>") == 0, "References:%s", v);
    get_header(g_msg, "MIME-Version", v, sizeof v);
    T_CHECK(strcmp(v, " 1.0") == 0, "MIME-Version:%s", v);
    get_header(g_msg, "Auto-Submitted", v, sizeof v);
    T_CHECK(strcmp(v, " auto-generated") == 0, "Auto-Submitted:%s", v);
    get_header(g_msg, "X-Vibewatch-Alert", v, sizeof v);
    T_CHECK(strcmp(v, " pump3/bearing_outer/alarm") == 0, "X-Vibewatch-Alert:%s", v);
    check_subject(__LINE__, g_msg, ZH_SUBJECT);
    T_CHECK(g_msg[len - 2] == '\r' && g_msg[len - 1] == '\n', "the message does not end in CRLF");

    /* without threading or an alert id those fields are left out */
    m.in_reply_to = NULL;
    m.alert_id = NULL;
    len = fmt(&m);
    header_names(g_msg, names, sizeof names);
    T_CHECK(len > 0 && strcmp(names, "Date,From,To,Subject,Message-ID,MIME-Version,Auto-Submitted,Content-Type") == 0,
            "header fields: %s", names);
}

static void test_date(void)
{
    static const struct {
        int64_t t;
        const char *want;
    } dates[] = {
        {0, " Thu, 01 Jan 1970 00:00:00 +0000"},          {951825600, " Tue, 29 Feb 2000 12:00:00 +0000"},
        {2147483648, " Tue, 19 Jan 2038 03:14:08 +0000"}, {1720083903, " Thu, 04 Jul 2024 09:05:03 +0000"},
        {-2208988800, " Mon, 01 Jan 1900 00:00:00 +0000"}, {253402300799, " Fri, 31 Dec 9999 23:59:59 +0000"},
        {-1, " Wed, 31 Dec 1969 23:59:59 +0000"},
    };
    alerts_mail m = sample();
    for (size_t i = 0; i < N(dates); i++) {
        m.date_s = dates[i].t;
        char v[128];
        long len = fmt(&m);
        get_header(g_msg, "Date", v, sizeof v);
        T_CHECK(len > 0 && strcmp(v, dates[i].want) == 0, "%lld: Date:%s, want%s (%s)", (long long)dates[i].t, v,
                dates[i].want, g_err);
    }
    static const int64_t bad[] = {253402300800, -2208988801, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < N(bad); i++) {
        m.date_s = bad[i];
        long len = fmt(&m);
        T_CHECK(len == -EINVAL && strstr(g_err, "date_s"), "%lld: %ld %s", (long long)bad[i], len, g_err);
    }
}

/* The boundary of a multipart message occurs only in its Content-Type and as its delimiters. */
static void check_boundary(int line, const char *msg, int nparts)
{
    char v[512];
    get_header(msg, "Content-Type", v, sizeof v);
    const char *b = strstr(v, "boundary=\"");
    if (!b) {
        t_fail_at(__FILE__, line, "no boundary in Content-Type:%s", v);
        return;
    }
    char boundary[128];
    size_t bl = strcspn(b + 10, "\"");
    if (bl == 0 || bl >= sizeof boundary || bl > 70) {
        t_fail_at(__FILE__, line, "boundary of %zu characters", bl);
        return;
    }
    memcpy(boundary, b + 10, bl);
    boundary[bl] = 0;
    int in_header = 0, open = 0, close = 0;
    size_t hl = header_len(msg);
    for (const char *p = strstr(msg, boundary); p; p = strstr(p + 1, boundary)) {
        size_t at = (size_t)(p - msg);
        if (at < hl) {
            in_header++;
        } else if (at >= hl + 4 && msg[at - 1] == '-' && msg[at - 2] == '-' && msg[at - 3] == '\n' &&
                   strncmp(p + bl, "\r\n", 2) == 0) {
            open++;
        } else if (at >= hl + 4 && msg[at - 1] == '-' && msg[at - 2] == '-' && msg[at - 3] == '\n' &&
                   strcmp(p + bl, "--\r\n") == 0) {
            close++;
        } else {
            t_fail_at(__FILE__, line, "the boundary occurs at byte %zu, not as a delimiter", at);
            return;
        }
    }
    if (in_header != 1 || open != nparts || close != 1)
        t_fail_at(__FILE__, line, "boundary: %d in the header, %d delimiters, %d close", in_header, open, close);
}

/* The decoded bodies of the parts of msg (base64 between each part's blank line and the next
 * delimiter): the text/plain one into text, the text/html one into html. */
static int part_bodies(const char *msg, char *text, char *html, size_t cap)
{
    text[0] = html[0] = 0;
    int found = 0;
    for (const char *p = strstr(msg, "Content-Type: text/"); p; p = strstr(p + 1, "Content-Type: text/")) {
        int is_html = strncmp(p + 19, "html", 4) == 0;
        const char *body = strstr(p, "\r\n\r\n");
        if (!body)
            return -1;
        body += 4;
        const char *end = strstr(body, "\r\n--");
        size_t n = end ? (size_t)(end - body) : strlen(body);
        char *dst = is_html ? html : text;
        long k = b64_decode(body, n, (unsigned char *)dst, cap - 1);
        if (k < 0)
            return -1;
        dst[k] = 0;
        found++;
    }
    return found;
}

static void test_boundary_and_bodies(void)
{
    alerts_mail m = sample();
    long len = fmt(&m);
    T_CHECK(len > 0, "%s", g_err);
    check_boundary(__LINE__, g_msg, 2);
    static char text[65536], html[65536], want[65536];
    T_CHECK(part_bodies(g_msg, text, html, sizeof text) == 2, "two parts not found");
    canon(ZH_TEXT, want, sizeof want);
    T_CHECK(strcmp(text, want) == 0, "text part reads back as \"%s\"", text);
    canon(ZH_HTML, want, sizeof want);
    T_CHECK(strcmp(html, want) == 0, "html part reads back as \"%s\"", html);

    /* a boundary made of what base64 cannot write, stable for a Message-ID, another for another */
    char b1[512], b2[512];
    get_header(g_msg, "Content-Type", b1, sizeof b1);
    T_CHECK(strstr(b1, "=_"), "boundary without \"=_\": %s", b1);
    fmt(&m);
    get_header(g_msg, "Content-Type", b2, sizeof b2);
    T_CHECK(strcmp(b1, b2) == 0, "boundary changed between two runs");
    m.message_id = "alert-43.1795915887@vw-box-7.plant.example.cn";
    fmt(&m);
    get_header(g_msg, "Content-Type", b2, sizeof b2);
    T_CHECK(strcmp(b1, b2) != 0, "the same boundary for another Message-ID");

    /* a text that holds the boundary itself (it is base64, so it cannot show) */
    m.message_id = "alert-42.1795915887@vw-box-7.plant.example.cn";
    static char tricky[2048];
    const char *bd = strstr(b1, "=_");
    snprintf(tricky, sizeof tricky, "--%.*s\r\n--%.*s--\n", (int)strcspn(bd, "\""), bd, (int)strcspn(bd, "\""), bd);
    m.text = m.html = tricky;
    len = fmt(&m);
    T_CHECK(len > 0, "%s", g_err);
    check_boundary(__LINE__, g_msg, 2);
    T_CHECK(part_bodies(g_msg, text, html, sizeof text) == 2, "two parts not found");
    canon(tricky, want, sizeof want);
    T_CHECK(strcmp(text, want) == 0 && strcmp(html, want) == 0, "the boundary text does not read back");
}

static void test_text_only_and_empty(void)
{
    alerts_mail m = sample();
    m.html = NULL;
    long len = fmt(&m);
    T_CHECK(len > 0, "%s", g_err);
    check_shape(__LINE__, g_msg, len, 0);
    char names[512], v[512];
    header_names(g_msg, names, sizeof names);
    T_CHECK(strcmp(names, "Date,From,To,Subject,Message-ID,In-Reply-To,References,MIME-Version,Auto-Submitted,"
                          "X-Vibewatch-Alert,Content-Type,Content-Transfer-Encoding") == 0,
            "header fields: %s", names);
    get_header(g_msg, "Content-Type", v, sizeof v);
    T_CHECK(strcmp(v, " text/plain; charset=UTF-8") == 0, "Content-Type:%s", v);
    T_CHECK(!strstr(g_msg, "multipart"), "a multipart text-only message");
    static char text[8192], html[8192], want[8192];
    T_CHECK(part_bodies(g_msg, text, html, sizeof text) == 1, "no text part");
    canon(ZH_TEXT, want, sizeof want);
    T_CHECK(strcmp(text, want) == 0, "text reads back as \"%s\"", text);

    /* empty bodies */
    m = sample();
    m.text = "";
    m.html = "";
    len = fmt(&m);
    T_CHECK(len > 0, "%s", g_err);
    check_shape(__LINE__, g_msg, len, 0);
    check_boundary(__LINE__, g_msg, 2);
    T_CHECK(part_bodies(g_msg, text, html, sizeof text) == 2 && !text[0] && !html[0], "empty parts not empty");
}

/* Refused with -EINVAL, err naming `word` (and `also`), out "", whatever the buffer size. */
static void expect_refused(int line, const alerts_mail *m, const char *word, const char *also)
{
    static char out[65536];
    memset(out, '#', 4096);
    char err[512] = "";
    long rc = alerts_mail_format(m, out, sizeof out, err, sizeof err);
    if (rc != -EINVAL) {
        t_fail_at(__FILE__, line, "rc %ld, want -EINVAL (%s)", rc, err);
        return;
    }
    if (out[0] != 0 || out[1] != '#')
        t_fail_at(__FILE__, line, "out written on a refusal");
    if (!strstr(err, word) || (also && !strstr(err, also)))
        t_fail_at(__FILE__, line, "err \"%s\" does not say \"%s\" %s", err, word, also ? also : "");
    for (const char *p = err; *p; p++)
        if ((unsigned char)*p < 0x20) {
            t_fail_at(__FILE__, line, "err has a control character: %s", err);
            break;
        }
    if (alerts_mail_format(m, out, 8, err, sizeof err) != -EINVAL)
        t_fail_at(__FILE__, line, "-EINVAL depends on the buffer size");
    if (alerts_mail_format(m, out, sizeof out, NULL, 0) != -EINVAL)
        t_fail_at(__FILE__, line, "-EINVAL without err");
}

#define REFUSED(m, word, also) expect_refused(__LINE__, (m), (word), (also))

static void test_refused(void)
{
    alerts_mail m = sample();
    /* header injection */
    static const char *const inject[] = {"Alarm\r\nBcc: evil@example.com", "Alarm\nBcc: evil@example.com",
                                         "Alarm\r", "Alarm\tnow", "Alarm\x1b[31m", "Alarm\x7f", "Alarm\xc2\x85"};
    for (size_t i = 0; i < N(inject); i++) {
        m = sample();
        m.subject = inject[i];
        REFUSED(&m, "subject", "control character");
    }
    m = sample();
    m.from = "vw@plant.example\r\nBcc: evil@example.com";
    REFUSED(&m, "from", "control character");
    m.from = "Vibewatch\r\nBcc: evil@example.com <vw@plant.example>";
    REFUSED(&m, "from", "control character");
    static const char *const to_inject[] = {"ops@example.org", "duty@plant.example.cn\nBcc: evil@example.com"};
    m = sample();
    m.to = to_inject;
    m.nto = 2;
    REFUSED(&m, "to[1]", "control character");
    m = sample();
    m.alert_id = "x\r\nBcc: evil@example.com";
    REFUSED(&m, "alert_id", NULL);
    m.alert_id = "泵";
    REFUSED(&m, "alert_id", "ASCII");
    m = sample();
    m.message_id = "a@b\r\nBcc: evil@example.com";
    REFUSED(&m, "message_id", NULL);
    m = sample();
    m.in_reply_to = "a@b>\r\nBcc: <evil@example.com";
    REFUSED(&m, "in_reply_to", NULL);

    /* bad UTF-8 */
    static const char *const bad_utf8[] = {"\xff", "泵站\xe6\xb3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                           "a\x80"};
    for (size_t i = 0; i < N(bad_utf8); i++) {
        m = sample();
        m.subject = bad_utf8[i];
        REFUSED(&m, "subject", "UTF-8");
        char from[64];
        snprintf(from, sizeof from, "%s <vw@plant.example>", bad_utf8[i]);
        m = sample();
        m.from = from;
        REFUSED(&m, "from", "UTF-8");
    }

    /* bad addresses */
    static const char *const bad_addr[] = {"ab", "a@@b", "a b@c", ".a@b", "a..b@c", "a@b.", "Name <>", "Name <a@b",
                                           "Name a@b>", "a@[192.0.2.1]", "", "a\"b@c"};
    for (size_t i = 0; i < N(bad_addr); i++) {
        m = sample();
        m.from = bad_addr[i];
        REFUSED(&m, "from", NULL);
        const char *to[3] = {"ops@example.org", "duty@plant.example.cn", bad_addr[i]};
        m = sample();
        m.to = to;
        m.nto = 3;
        REFUSED(&m, "to[2]", NULL);
    }

    /* recipients */
    m = sample();
    m.nto = 0;
    REFUSED(&m, "to", "no recipients");
    m = sample();
    m.to = NULL;
    REFUSED(&m, "to", "no recipients");
    const char *many[ALERTS_MAIL_MAX_RCPT + 1];
    for (size_t i = 0; i < N(many); i++)
        many[i] = "ops@example.org";
    m = sample();
    m.to = many;
    m.nto = N(many);
    REFUSED(&m, "to", "16");
    m.nto = ALERTS_MAIL_MAX_RCPT;
    T_CHECK(fmt(&m) > 0, "16 recipients refused: %s", g_err);
    const char *with_null[2] = {"ops@example.org", NULL};
    m.to = with_null;
    m.nto = 2;
    REFUSED(&m, "to[1]", "missing");

    /* Message-IDs */
    static const char *const bad_id[] = {"<a@b>", "ab", "a@b@c", "a b@c", "a@", "@b", "a..b@c", "", "a@[b]", "a\"@b"};
    for (size_t i = 0; i < N(bad_id); i++) {
        m = sample();
        m.message_id = bad_id[i];
        REFUSED(&m, "message_id", NULL);
        m = sample();
        m.in_reply_to = bad_id[i];
        REFUSED(&m, "in_reply_to", NULL);
    }
    static char long_id[1000];
    memset(long_id, 'i', 950);
    long_id[450] = '@';
    m = sample();
    m.message_id = long_id;
    REFUSED(&m, "message_id", "900");
    long_id[900] = 0;
    T_CHECK(fmt(&m) > 0, "a 900-character Message-ID refused: %s", g_err);
    check_shape(__LINE__, g_msg, (long)strlen(g_msg), 1);

    /* missing fields */
    m = sample();
    m.subject = NULL;
    REFUSED(&m, "subject", "missing");
    m = sample();
    m.from = NULL;
    REFUSED(&m, "from", "missing");
    m = sample();
    m.message_id = NULL;
    REFUSED(&m, "message_id", "missing");
    m = sample();
    m.text = NULL;
    REFUSED(&m, "text", "missing");
    char err[128];
    T_CHECK(alerts_mail_format(NULL, g_msg, sizeof g_msg, err, sizeof err) == -EINVAL, "NULL mail accepted");
}

static void test_display_names(void)
{
    static const char *const to[] = {
        "\"Doe, John\" <john.doe@example.com>",         /* quoted on input: the quotes are quoting */
        "Doe, Jane <jane.doe@example.com>",             /* a comma: quoted on output */
        "Say \"hi\" \\o/ <say@example.com>",            /* quotes and a backslash: escaped */
        "J. R. R. Tolkien <jrrt@example.com>",          /* dots: quoted */
        "Bob =?x?= Smith <bob@example.com>",            /* looks like an encoded word: encoded */
        "Müller-Lüdenscheidt <ml@example.de>",
        "值班工程师 值班工程师 值班工程师 值班工程师 值班工程师 值班工程师 <duty@plant.example.cn>",
        "An Extremely Long Plain Display Name That Goes On Past Any Line <long@example.org>",
        "\"A Quoted Name, Long Enough To Need Folding Inside Its Quotes Somewhere\" <q@example.org>",
        "<angle@example.org>",
        "plain@example.org",
    };
    alerts_mail m = sample();
    m.to = to;
    m.nto = N(to);
    long len = fmt(&m);
    T_CHECK(len > 0, "%s", g_err);
    if (len <= 0)
        return;
    check_shape(__LINE__, g_msg, len, 0);
    char v[8192];
    T_CHECK(get_header(g_msg, "To", v, sizeof v) == 1, "not one To");
    T_CHECK(strstr(v, "\"Doe, John\" <john.doe@example.com>,") && strstr(v, "\"Doe, Jane\" <jane.doe@example.com>,") &&
                strstr(v, "\"Say \\\"hi\\\" \\\\o/\" <say@example.com>,") &&
                strstr(v, "\"J. R. R. Tolkien\" <jrrt@example.com>,") && !strstr(v, "Bob =?x?= Smith") &&
                strstr(v, " angle@example.org, plain@example.org") && !strstr(v, "Müller"),
            "To:%s", v);
}

/* ---- the bound and -ENOSPC ------------------------------------------------------------------- */

static void check_nospc_every_size(int line, const alerts_mail *m)
{
    long want = fmt(m);
    if (want <= 0) {
        t_fail_at(__FILE__, line, "rc %ld: %s", want, g_err);
        return;
    }
    static char full[1 << 18], out[1 << 18];
    memcpy(full, g_msg, (size_t)want + 1);
    size_t bound = alerts_mail_bound(m);
    if (bound < (size_t)want + 1)
        t_fail_at(__FILE__, line, "bound %zu for a message of %ld bytes", bound, want);
    for (size_t cap = 0; cap <= (size_t)want; cap += 1 + (cap > 200 ? cap / 50 : 0)) {
        memset(out, '#', (size_t)want + 2);
        char err[256];
        long rc = alerts_mail_format(m, out, cap, err, sizeof err);
        if (rc != -ENOSPC) {
            t_fail_at(__FILE__, line, "cap %zu: %ld, want -ENOSPC", cap, rc);
            return;
        }
        if (cap && out[0])
            t_fail_at(__FILE__, line, "cap %zu: out not \"\" after -ENOSPC", cap);
        for (size_t i = cap; i < (size_t)want + 2; i++)
            if (out[i] != '#') {
                t_fail_at(__FILE__, line, "cap %zu: byte %zu written", cap, i);
                return;
            }
    }
    long rc = alerts_mail_format(m, out, (size_t)want, NULL, 0);
    if (rc != -ENOSPC)
        t_fail_at(__FILE__, line, "cap len: %ld", rc);
    rc = alerts_mail_format(m, out, (size_t)want + 1, NULL, 0);
    if (rc != want || memcmp(out, full, (size_t)want + 1) != 0)
        t_fail_at(__FILE__, line, "cap len+1: %ld or other bytes", rc);
}

static void test_nospc(void)
{
    alerts_mail m = sample();
    check_nospc_every_size(__LINE__, &m);
    m.html = NULL;
    check_nospc_every_size(__LINE__, &m);
}

/* Random text made of the pieces that cost the most: quotes, backslashes, spaces, 4-byte
 * characters, "=?", line ends (in bodies). */
static size_t random_text(char *out, size_t max_len, int header)
{
    static const char *const pieces[] = {"a", "Pump", " ", "  ", "\"", "\\", ",", ".", "泵站", "🚨", "é", "=?", "?=",
                                         "—", "x y", "<", ">", "(", ")", "ALARM", "\n", "\r\n", "\r"};
    size_t len = 0, target = (size_t)(t_urand() * (double)max_len);
    while (len < target) {
        const char *p = pieces[(size_t)(t_urand() * N(pieces)) % N(pieces)];
        if (header && (p[0] == '\n' || p[0] == '\r'))
            continue;
        size_t k = strlen(p);
        if (len + k > max_len)
            break;
        memcpy(out + len, p, k);
        len += k;
    }
    out[len] = 0;
    return len;
}

static void test_bound_random(void)
{
    static char subject[3000], text[20000], html[20000], names[ALERTS_MAIL_MAX_RCPT + 1][400];
    static char mailbox[ALERTS_MAIL_MAX_RCPT + 1][600];
    t_rng_seed(5322);
    for (int iter = 0; iter < 400; iter++) {
        random_text(subject, iter % 7 == 0 ? sizeof subject - 1 : 200, 1);
        random_text(text, iter % 5 == 0 ? sizeof text - 1 : 500, 0);
        random_text(html, 300, 0);
        const char *to[ALERTS_MAIL_MAX_RCPT];
        size_t nto = 1 + (size_t)(t_urand() * ALERTS_MAIL_MAX_RCPT) % ALERTS_MAIL_MAX_RCPT;
        for (size_t k = 0; k <= nto; k++) {
            random_text(names[k], 300, 1);
            /* a name that is all spaces, or ends in '<…>'-like text, is not what this test is about */
            size_t n = strlen(names[k]);
            while (n && (names[k][n - 1] == ' ' || names[k][n - 1] == '>'))
                names[k][--n] = 0;
            if (t_urand() < 0.2)
                snprintf(mailbox[k], sizeof mailbox[k], "r%zu.x@example.org", k);
            else
                snprintf(mailbox[k], sizeof mailbox[k], "%.399s <r%zu.x@example.org>", names[k], k);
            if (k < nto)
                to[k] = mailbox[k];
        }
        alerts_mail m = sample();
        m.from = mailbox[nto];
        m.to = to;
        m.nto = nto;
        m.subject = subject;
        m.text = text;
        m.html = t_urand() < 0.3 ? NULL : html;
        m.in_reply_to = t_urand() < 0.5 ? NULL : m.in_reply_to;
        long len = fmt(&m);
        if (len <= 0) {
            T_CHECK(0, "iter %d: rc %ld: %s", iter, len, g_err);
            break;
        }
        size_t bound = alerts_mail_bound(&m);
        T_CHECK(bound >= (size_t)len + 1, "iter %d: bound %zu, message %ld", iter, bound, len);
        check_shape(__LINE__, g_msg, len, 0);
        check_subject(__LINE__, g_msg, subject);
        if (m.html)
            check_boundary(__LINE__, g_msg, 2);
        if (iter % 40 == 0)
            check_nospc_every_size(__LINE__, &m);
    }
}

/* The inputs that cost the most per byte, at many sizes. */
static void test_bound_worst_cases(void)
{
    static const char *const units[] = {"\"", "\\", "a ", " \"", "𝄞", "é", "\n", "=?", "a", " "};
    static char s[8000], mbox[8100];
    for (size_t u = 0; u < N(units); u++) {
        for (size_t reps = 1; reps < 1500; reps = reps * 3 / 2 + 1) {
            size_t k = strlen(units[u]), len = 0;
            for (size_t r = 0; r < reps && len + k < 3000; r++, len += k)
                memcpy(s + len, units[u], k);
            s[len] = 0;
            int header_ok = units[u][0] != '\n';
            alerts_mail m = sample();
            if (header_ok) {
                m.subject = s;
                snprintf(mbox, sizeof mbox, "%s <w@example.org>", s);
                m.from = mbox;
            }
            m.text = s;
            m.html = s;
            long n = fmt(&m);
            /* a name of only spaces or one that ends in a space is trimmed: fine, still formats */
            T_CHECK(n > 0, "unit \"%s\" x%zu: %s", units[u], reps, g_err);
            if (n <= 0)
                continue;
            size_t bound = alerts_mail_bound(&m);
            T_CHECK(bound >= (size_t)n + 1, "unit \"%s\" x%zu: bound %zu, message %ld", units[u], reps, bound, n);
            check_shape(__LINE__, g_msg, n, 0);
            if (header_ok)
                check_subject(__LINE__, g_msg, s);
        }
    }
    /* the longest address and Message-ID: lines within 998 */
    char addr[300];
    memset(addr, 'd', 254);
    memset(addr, 'l', 64);
    addr[64] = '@';
    addr[254] = 0;
    const char *to[ALERTS_MAIL_MAX_RCPT];
    for (size_t k = 0; k < N(to); k++)
        to[k] = addr;
    alerts_mail m = sample();
    m.from = addr;
    m.to = to;
    m.nto = N(to);
    long n = fmt(&m);
    T_CHECK(n > 0 && alerts_mail_bound(&m) >= (size_t)n + 1, "longest addresses: %ld %s", n, g_err);
    if (n > 0)
        check_shape(__LINE__, g_msg, n, 1);
}

/* ---- the outside reader: Python's email package ---------------------------------------------- */

typedef struct py_job {
    const char *script, *file;
} py_job;

static int py_child(void *ctx, int fd)
{
    const py_job *j = ctx;
    if (dup2(fd, 1) < 0)
        return 126;
    execl(PYTHON, PYTHON, j->script, j->file, (char *)NULL);
    return 127;
}

/* m formatted, written to a file and read by tests/tools/check_mail.py: its JSON summary (NULL and
 * a failure when that does not work). Checks what every message must give: no defect, the Date,
 * the Message-ID and the subject. */
static cJSON *python_reads(int line, const alerts_mail *m, const char *tag)
{
    if (access(PYTHON, X_OK) != 0) {
        t_fail_at(__FILE__, line, "%s is missing: the mail tests read messages with Python's email package "
                                  "(apt-get install python3)", PYTHON);
        return NULL;
    }
    const char *tools = t_repo_dir("tests/tools");
    static char script[1200], file[1200];
    if (!tools) {
        t_fail_at(__FILE__, line, "tests/tools not found (run from the repository root)");
        return NULL;
    }
    snprintf(script, sizeof script, "%s/check_mail.py", tools);
    snprintf(file, sizeof file, "%s/%s.eml", t_tmpdir(), tag);
    long len = fmt(m);
    if (len <= 0) {
        t_fail_at(__FILE__, line, "%s: rc %ld: %s", tag, len, g_err);
        return NULL;
    }
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(g_msg, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
        t_fail_at(__FILE__, line, "%s: cannot write %s", tag, file);
        return NULL;
    }
    static char json[1 << 20];
    py_job job = {script, file};
    int st = t_fork_capture(py_child, &job, json, sizeof json);
    if (st != 0) {
        t_fail_at(__FILE__, line, "%s: check_mail.py exited with %d: %.300s", tag, st, json);
        return NULL;
    }
    cJSON *j = cJSON_Parse(json);
    if (!j) {
        t_fail_at(__FILE__, line, "%s: not JSON: %.300s", tag, json);
        return NULL;
    }
    cJSON *defects = cJSON_GetObjectItem(j, "defects");
    if (!cJSON_IsArray(defects) || cJSON_GetArraySize(defects) != 0) {
        char *d = cJSON_PrintUnformatted(defects);
        t_fail_at(__FILE__, line, "%s: the parser found defects: %s", tag, d ? d : "?");
        free(d);
    }
    const char *subject = cJSON_GetStringValue(cJSON_GetObjectItem(j, "subject"));
    if (!subject || strcmp(subject, m->subject) != 0)
        t_fail_at(__FILE__, line, "%s: Python reads the subject as \"%s\"", tag, subject ? subject : "(none)");
    char want[1024];
    snprintf(want, sizeof want, "<%s>", m->message_id);
    const char *mid = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message_id"));
    if (!mid || strcmp(mid, want) != 0)
        t_fail_at(__FILE__, line, "%s: Message-ID %s", tag, mid ? mid : "(none)");
    const char *ct = cJSON_GetStringValue(cJSON_GetObjectItem(j, "content_type"));
    if (!ct || strcmp(ct, m->html ? "multipart/alternative" : "text/plain") != 0)
        t_fail_at(__FILE__, line, "%s: content type %s", tag, ct ? ct : "(none)");
    static char body[1 << 17];
    canon(m->text, body, sizeof body);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(j, "text"));
    if (!text || strcmp(text, body) != 0)
        t_fail_at(__FILE__, line, "%s: Python reads the text as \"%.200s\"", tag, text ? text : "(none)");
    cJSON *html = cJSON_GetObjectItem(j, "html");
    if (m->html) {
        canon(m->html, body, sizeof body);
        if (!cJSON_GetStringValue(html) || strcmp(cJSON_GetStringValue(html), body) != 0)
            t_fail_at(__FILE__, line, "%s: Python reads the html as \"%.200s\"", tag,
                      cJSON_GetStringValue(html) ? cJSON_GetStringValue(html) : "(none)");
    } else if (!cJSON_IsNull(html)) {
        t_fail_at(__FILE__, line, "%s: an html part in a text-only message", tag);
    }
    return j;
}

/* s without its spaces. */
static void squeeze(const char *s, char *out, size_t cap)
{
    size_t len = 0;
    for (; *s && len + 1 < cap; s++)
        if (*s != ' ')
            out[len++] = *s;
    out[len] = 0;
}

/* The display name before "<addr>" in header field `field` of g_msg, read by the decoder here:
 * only for names in encoded words (they hold no ',' or '"' of their own). */
static int own_reading(const char *field, const char *addr, char *out, size_t cap)
{
    char v[16384], want[400];
    get_header(g_msg, field, v, sizeof v);
    snprintf(want, sizeof want, " <%s>", addr);
    char *end = strstr(v, want);
    if (!end)
        return -1;
    *end = 0;
    char *start = strrchr(v, ',');
    return decode_unstructured(start ? start + 1 : v, out, cap) < 0 ? -1 : 0;
}

/* The mailbox k of the JSON list `which` has this name and address. A name of more than one encoded
 * word is read by CPython before gh-128110 (Debian 12 has 3.11) with the folding white space between
 * the words kept, against RFC 2047 6.2: for those the decoder here must read the name exactly, and
 * Python the same characters but for spaces. */
static void check_mailbox(int line, cJSON *j, const char *which, int k, const char *name, const char *addr)
{
    cJSON *mb = cJSON_GetArrayItem(cJSON_GetObjectItem(j, which), k);
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(mb, "name"));
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(mb, "addr"));
    if (!n || !a || strcmp(a, addr) != 0) {
        t_fail_at(__FILE__, line, "%s[%d]: \"%s\" <%s>, want <%s>", which, k, n ? n : "?", a ? a : "?", addr);
        return;
    }
    if (strcmp(n, name) == 0)
        return;
    char own[1024], sq_n[1024], sq_want[1024];
    squeeze(n, sq_n, sizeof sq_n);
    squeeze(name, sq_want, sizeof sq_want);
    int several_words = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        several_words |= *p >= 0x80;
    several_words &= strlen(name) > 45;
    if (!several_words || strcmp(sq_n, sq_want) != 0 ||
        own_reading(strcmp(which, "from") == 0 ? "From" : "To", addr, own, sizeof own) != 0 || strcmp(own, name) != 0)
        t_fail_at(__FILE__, line, "%s[%d]: Python reads \"%s\", want \"%s\"", which, k, n, name);
}

static void test_python_reads_chinese(void)
{
    alerts_mail m = sample();
    cJSON *j = python_reads(__LINE__, &m, "chinese");
    if (!j)
        return;
    check_mailbox(__LINE__, j, "from", 0, "Vibewatch 泵站监测", "vw@plant.example.cn");
    T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "to")) == 4, "not 4 recipients");
    check_mailbox(__LINE__, j, "to", 0, "Doe, John", "john.doe@example.com");
    check_mailbox(__LINE__, j, "to", 1, "值班工程师", "duty@plant.example.cn");
    check_mailbox(__LINE__, j, "to", 2, "", "ops@example.org");
    check_mailbox(__LINE__, j, "to", 3, "O'Brien (night shift)", "ob@example.org");
    static const char *const want[][2] = {
        {"date", "2026-11-29T01:31:27+00:00"},
        {"in_reply_to", "<alert-41.1795900000@vw-box-7.plant.example.cn>"},
        {"references", "<alert-41.1795900000@vw-box-7.plant.example.cn>"},
        {"mime_version", "1.0"},
        {"auto_submitted", "auto-generated"},
        {"alert", "pump3/bearing_outer/alarm"},
    };
    for (size_t i = 0; i < N(want); i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(j, want[i][0]));
        T_CHECK(v && strcmp(v, want[i][1]) == 0, "%s: %s, want %s", want[i][0], v ? v : "(none)", want[i][1]);
    }
    cJSON *parts = cJSON_GetObjectItem(j, "parts");
    T_CHECK(cJSON_GetArraySize(parts) == 2, "not 2 parts");
    static const char *const types[] = {"text/plain", "text/html"};
    for (int k = 0; k < 2; k++) {
        cJSON *p = cJSON_GetArrayItem(parts, k);
        const char *ct = cJSON_GetStringValue(cJSON_GetObjectItem(p, "content_type"));
        const char *cs = cJSON_GetStringValue(cJSON_GetObjectItem(p, "charset"));
        const char *te = cJSON_GetStringValue(cJSON_GetObjectItem(p, "transfer_encoding"));
        T_CHECK(ct && cs && te && strcmp(ct, types[k]) == 0 && strcmp(cs, "utf-8") == 0 && strcmp(te, "base64") == 0,
                "part %d: %s %s %s", k, ct ? ct : "?", cs ? cs : "?", te ? te : "?");
    }
    cJSON_Delete(j);
}

static void test_python_reads_emoji_text_only(void)
{
    alerts_mail m = sample();
    m.subject = EMOJI_SUBJECT;
    m.html = NULL;
    m.in_reply_to = NULL;
    m.text = "🔥 Pump 3\r\nmixed\rline\nends\r\n\n";
    cJSON *j = python_reads(__LINE__, &m, "emoji");
    if (!j)
        return;
    T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "in_reply_to")), "an In-Reply-To without threading");
    cJSON_Delete(j);
    m.text = "";
    cJSON_Delete(python_reads(__LINE__, &m, "empty_text_only"));
}

static void test_python_reads_long_and_names(void)
{
    static char subject[4000];
    size_t len = 0;
    for (int r = 0; r < 12; r++)
        len += (size_t)snprintf(subject + len, sizeof subject - len, "%s %s %s — ", ZH_SUBJECT, EMOJI_SUBJECT,
                                "bearing outer race fault on pump 3 of station Nord-West");
    subject[len - strlen(" — ")] = 0; /* no trailing dash and space */
    static const char *const to[] = {
        "Doe, Jane <jane.doe@example.com>",
        "Say \"hi\" \\o/ <say@example.com>",
        "J. R. R. Tolkien <jrrt@example.com>",
        "Bob =?x?= Smith <bob@example.com>",
        "Müller-Lüdenscheidt <ml@example.de>",
        "值班工程师 值班工程师 值班工程师 值班工程师 值班工程师 值班工程师 <duty@plant.example.cn>",
        "An Extremely Long Plain Display Name That Goes On Past Any Line <long@example.org>",
        "\"A Quoted Name, Long Enough To Need Folding Inside Its Quotes Somewhere\" <q@example.org>",
        "<angle@example.org>",
        "plain@example.org",
        "🚨 On-call 🚨 <oncall@example.org>",
        "a <a@example.org>",
        "b <b@example.org>",
        "c <c@example.org>",
        "d <d@example.org>",
        "e <e@example.org>",
    };
    static const char *const names[] = {"Doe, Jane",
                                        "Say \"hi\" \\o/",
                                        "J. R. R. Tolkien",
                                        "Bob =?x?= Smith",
                                        "Müller-Lüdenscheidt",
                                        "值班工程师 值班工程师 值班工程师 值班工程师 值班工程师 值班工程师",
                                        "An Extremely Long Plain Display Name That Goes On Past Any Line",
                                        "A Quoted Name, Long Enough To Need Folding Inside Its Quotes Somewhere",
                                        "",
                                        "",
                                        "🚨 On-call 🚨",
                                        "a",
                                        "b",
                                        "c",
                                        "d",
                                        "e"};
    alerts_mail m = sample();
    m.subject = subject;
    m.to = to;
    m.nto = N(to);
    m.from = "\"Vibewatch — Station Nord-West, Halle 3 (Pumpen)\" <vw@plant.example>";
    cJSON *j = python_reads(__LINE__, &m, "long");
    if (!j)
        return;
    check_shape(__LINE__, g_msg, (long)strlen(g_msg), 0);
    check_subject(__LINE__, g_msg, subject);
    check_mailbox(__LINE__, j, "from", 0, "Vibewatch — Station Nord-West, Halle 3 (Pumpen)", "vw@plant.example");
    T_CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "to")) == (int)N(to), "not %zu recipients", N(to));
    for (size_t k = 0; k < N(to); k++) {
        char addr[128];
        alerts_mail_address(to[k], addr, sizeof addr);
        check_mailbox(__LINE__, j, "to", (int)k, names[k], addr);
    }
    cJSON_Delete(j);

    /* a long ASCII subject stays plain (folded), and empty bodies read as empty */
    m = sample();
    m.subject = "Pump 3 of pumping station Nord-West: the bearing outer race fault went from WARNING to ALARM "
                "at 01:31 UTC (envelope peak 0.82 g at BPFO 107.4 Hz, threshold 0.5 g)";
    m.text = "";
    m.html = "";
    j = python_reads(__LINE__, &m, "ascii");
    char v[1024];
    get_header(g_msg, "Subject", v, sizeof v);
    T_CHECK(!strstr(v, "=?") && strlen(v) == strlen(m.subject) + 1, "the ASCII subject not kept as is:%s", v);
    cJSON_Delete(j);
}

int main(void)
{
    T_RUN(test_base64_rfc4648_vectors);
    T_RUN(test_base64_lines_and_roundtrip);
    T_RUN(test_header_text_ascii);
    T_RUN(test_header_text_chinese);
    T_RUN(test_header_text_emoji);
    T_RUN(test_header_text_very_long);
    T_RUN(test_header_text_refused);
    T_RUN(test_address);
    T_RUN(test_message_structure);
    T_RUN(test_date);
    T_RUN(test_boundary_and_bodies);
    T_RUN(test_text_only_and_empty);
    T_RUN(test_refused);
    T_RUN(test_display_names);
    T_RUN(test_nospc);
    T_RUN(test_bound_random);
    T_RUN(test_bound_worst_cases);
    T_RUN(test_python_reads_chinese);
    T_RUN(test_python_reads_emoji_text_only);
    T_RUN(test_python_reads_long_and_names);
    return t_done();
}
