/* Tests of alerts/template.h against truths found without it: a JSON-escaped value embedded in
 * {"t":"{{text}}"} is read back by cJSON, a FORM value by a form decoder written here from the
 * WHATWG serializer's rules, URL output may hold only RFC 3986 unreserved bytes and %XX, validity of
 * UTF-8 is glibc iconv's verdict, and the expected strings of the examples are written out by hand.
 * Then the refusals (unknown, unclosed and malformed placeholders, each naming its byte offset and
 * what was there), "{{{{" as a literal, -ENOSPC at every cap short of the output with out "" and
 * nothing written past outlen, and alerts_utf8_truncate at the boundaries of 1-, 3- and 4-byte
 * characters. */
#include "alerts/template.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers --------------------------------------------------------------------------------- */

static char g_out[8192], g_err[512];

/* Renders tmpl (a C string) with vars into g_out; the return code. */
static long render(const char *tmpl, const alerts_var *vars, size_t nvars, enum alerts_escape esc)
{
    memset(g_out, 0x5A, sizeof g_out);
    g_err[0] = 0;
    return alerts_template_render(tmpl, strlen(tmpl), vars, nvars, esc, g_out, sizeof g_out, g_err, sizeof g_err);
}

static long escape(const char *value, enum alerts_escape esc)
{
    memset(g_out, 0x5A, sizeof g_out);
    return alerts_escape_value(value, esc, g_out, sizeof g_out);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* application/x-www-form-urlencoded decoding (WHATWG URL, "urlencoded parsing" of one value):
 * '+' is a space, %XX a byte; here also strict: every other byte must be one the serializer keeps
 * (ASCII alphanumerics and *-._). 0 and the decoded string in dst, or -1. */
static int form_decode(const char *s, char *dst, size_t dstlen)
{
    size_t o = 0;
    for (; *s; s++) {
        char c = *s;
        if (o + 1 >= dstlen)
            return -1;
        if (c == '+') {
            dst[o++] = ' ';
        } else if (c == '%') {
            int hi = hexval(s[1]), lo = hi >= 0 ? hexval(s[2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            dst[o++] = (char)(hi * 16 + lo);
            s += 2;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '*' ||
                   c == '-' || c == '.' || c == '_') {
            dst[o++] = c;
        } else {
            return -1;
        }
    }
    dst[o] = 0;
    return 0;
}

/* RFC 3986 percent-decoding of a component that may hold only unreserved bytes and %XX (upper-case
 * hex, as section 2.1 asks of producers). */
static int url_decode(const char *s, char *dst, size_t dstlen)
{
    size_t o = 0;
    for (; *s; s++) {
        char c = *s;
        if (o + 1 >= dstlen)
            return -1;
        if (c == '%') {
            if (!strchr("0123456789ABCDEF", s[1]) || !s[1] || !strchr("0123456789ABCDEF", s[2]) || !s[2])
                return -1;
            dst[o++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '.' || c == '_' || c == '~') {
            dst[o++] = c;
        } else {
            return -1;
        }
    }
    dst[o] = 0;
    return 0;
}

/* Valid UTF-8 values that must survive every escape: quotes, backslashes, each control character,
 * Chinese, emoji, and the characters each format treats specially. */
static const char *const hostile[] = {
    "",
    "plain",
    "say \"hi\"",
    "back\\slash \\\" \\\\",
    ("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
     "\x1b\x1c\x1d\x1e\x1f"),
    "line1\nline2\r\nX-Injected: yes",
    "轴承外圈故障 — 振动超限",
    "emoji 😀🔥 and 𝄞",
    "\x7f del",
    "</script><script>alert(1)</script>",
    "a b+c&d=e%f?g#h/i;j,k:l@m[n]o!p$q'r(s)t*u~v",
    "\u2028\u2029 and U+FFFF \xef\xbf\xbf",
    "{{text}} }} {{",
    "\"\\/\b\f\n\r\t\\u0000",
};

/* ---- JSON ------------------------------------------------------------------------------------ */

static void test_json_roundtrip_with_cjson(void)
{
    char all_controls[32];
    for (int c = 1; c < 32; c++)
        all_controls[c - 1] = (char)c;
    all_controls[31] = 0;
    for (size_t i = 0; i <= N(hostile); i++) {
        const char *v = i < N(hostile) ? hostile[i] : all_controls;
        alerts_var var = {"text", v};
        long n = render("{\"t\":\"{{text}}\"}", &var, 1, ALERTS_ESC_JSON);
        T_CHECK(n >= 0 && (size_t)n == strlen(g_out), "value %zu: rc %ld (%s)", i, n, g_err);
        cJSON *j = cJSON_Parse(g_out);
        T_CHECK(j != NULL, "value %zu: cJSON cannot parse %s", i, g_out);
        const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "t") : NULL;
        T_CHECK(cJSON_IsString(t) && strcmp(t->valuestring, v) == 0, "value %zu: read back as \"%s\"", i,
                cJSON_IsString(t) ? t->valuestring : "(not a string)");
        T_CHECK(t_utf8_valid(g_out, strlen(g_out)), "value %zu: output is not valid UTF-8", i);
        cJSON_Delete(j);
    }
}

static void test_json_escape_forms(void)
{
    /* the header's forms: \" \\ \n \t \u00XX; UTF-8 and '/' and DEL kept as they are */
    T_CHECK(escape("a\"b\\c", ALERTS_ESC_JSON) == 7 && strcmp(g_out, "a\\\"b\\\\c") == 0, "got %s", g_out);
    T_CHECK(escape("x\ny\tz", ALERTS_ESC_JSON) == 7 && strcmp(g_out, "x\\ny\\tz") == 0, "got %s", g_out);
    T_CHECK(escape("\x01\x1f\r", ALERTS_ESC_JSON) == 18 && strcmp(g_out, "\\u0001\\u001F\\u000D") == 0, "got %s",
            g_out);
    T_CHECK(escape("中/😀\x7f", ALERTS_ESC_JSON) == 9 && strcmp(g_out, "中/😀\x7f") == 0, "got %s", g_out);
    /* the template's own text is never escaped */
    alerts_var var = {"v", "\"q\""};
    T_CHECK(render("\"{{v}}\"\n\\", &var, 1, ALERTS_ESC_JSON) == 9 && strcmp(g_out, "\"\\\"q\\\"\"\n\\") == 0,
            "got %s", g_out);
}

/* ---- FORM, URL, HEADER ------------------------------------------------------------------------- */

static void test_form(void)
{
    T_CHECK(escape("a b+c&d=e", ALERTS_ESC_FORM) == 15 && strcmp(g_out, "a+b%2Bc%26d%3De") == 0, "got %s", g_out);
    T_CHECK(escape("*-._~,", ALERTS_ESC_FORM) == 10 && strcmp(g_out, "*-._%7E%2C") == 0, "got %s", g_out);
    T_CHECK(escape("ü", ALERTS_ESC_FORM) == 6 && strcmp(g_out, "%C3%BC") == 0, "got %s", g_out);
    char dec[2048];
    for (size_t i = 0; i < N(hostile); i++) {
        long n = escape(hostile[i], ALERTS_ESC_FORM);
        T_CHECK(n >= 0 && (size_t)n == strlen(g_out), "value %zu: rc %ld", i, n);
        T_CHECK(form_decode(g_out, dec, sizeof dec) == 0 && strcmp(dec, hostile[i]) == 0,
                "value %zu: \"%s\" does not decode back", i, g_out);
    }
    /* every byte value but NUL, alone: decodes back (bytes >= 0x80 alone are invalid UTF-8 → U+FFFD) */
    for (int c = 1; c < 0x80; c++) {
        char v[2] = {(char)c, 0};
        T_CHECK(escape(v, ALERTS_ESC_FORM) > 0 && form_decode(g_out, dec, sizeof dec) == 0 && strcmp(dec, v) == 0,
                "byte 0x%02X: \"%s\"", c, g_out);
    }
    /* in a body: the parts stay apart */
    alerts_var vars[] = {{"text", "a=1&b=2"}, {"asset.name", "Pump #1"}};
    T_CHECK(render("msg={{text}}&asset={{asset.name}}", vars, 2, ALERTS_ESC_FORM) > 0 &&
                strcmp(g_out, "msg=a%3D1%26b%3D2&asset=Pump+%231") == 0,
            "got %s", g_out);
}

static void test_url(void)
{
    T_CHECK(escape("a b/?~", ALERTS_ESC_URL) == 12 && strcmp(g_out, "a%20b%2F%3F~") == 0, "got %s", g_out);
    T_CHECK(escape("+*", ALERTS_ESC_URL) == 6 && strcmp(g_out, "%2B%2A") == 0, "got %s", g_out);
    char dec[2048];
    for (size_t i = 0; i < N(hostile); i++) {
        long n = escape(hostile[i], ALERTS_ESC_URL);
        T_CHECK(n >= 0 && (size_t)n == strlen(g_out), "value %zu: rc %ld", i, n);
        T_CHECK(url_decode(g_out, dec, sizeof dec) == 0 && strcmp(dec, hostile[i]) == 0,
                "value %zu: \"%s\" is not unreserved bytes and %%XX, or does not decode back", i, g_out);
    }
    for (int c = 1; c < 0x80; c++) {
        char v[2] = {(char)c, 0};
        bool unreserved = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~", c) != NULL;
        long n = escape(v, ALERTS_ESC_URL);
        T_CHECK(n == (unreserved ? 1 : 3) && url_decode(g_out, dec, sizeof dec) == 0 && strcmp(dec, v) == 0,
                "byte 0x%02X: \"%s\"", c, g_out);
    }
}

static void test_header(void)
{
    T_CHECK(escape("a\r\nX-Evil: 1", ALERTS_ESC_HEADER) == 12 && strcmp(g_out, "a  X-Evil: 1") == 0, "got %s", g_out);
    T_CHECK(escape("\t\x01\x7f é", ALERTS_ESC_HEADER) == 6 && strcmp(g_out, "    é") == 0, "got %s", g_out);
    for (size_t i = 0; i < N(hostile); i++) {
        long n = escape(hostile[i], ALERTS_ESC_HEADER);
        T_CHECK(n >= 0 && (size_t)n == strlen(hostile[i]), "value %zu: rc %ld", i, n);
        for (long k = 0; k < n; k++)
            T_CHECK((unsigned char)g_out[k] >= 0x20 && g_out[k] != 0x7F, "value %zu: control byte 0x%02X at %ld", i,
                    (unsigned char)g_out[k], k);
    }
    alerts_var var = {"a", "tok\r\nX-Injected: 1\n"};
    long n = render("Bearer {{a}}", &var, 1, ALERTS_ESC_HEADER);
    T_CHECK(n > 0 && !strchr(g_out, '\r') && !strchr(g_out, '\n') && strcmp(g_out, "Bearer tok  X-Injected: 1 ") == 0,
            "got \"%s\"", g_out);
}

static void test_none(void)
{
    for (size_t i = 0; i < N(hostile); i++)
        T_CHECK(escape(hostile[i], ALERTS_ESC_NONE) == (long)strlen(hostile[i]) && strcmp(g_out, hostile[i]) == 0,
                "value %zu changed", i);
    T_CHECK(escape(NULL, ALERTS_ESC_JSON) == 0 && g_out[0] == 0, "NULL is not \"\"");
    T_CHECK(escape("x", (enum alerts_escape)42) == -EINVAL && g_out[0] == 0, "unknown escape accepted");
}

/* ---- invalid UTF-8 ------------------------------------------------------------------------------ */

static void test_invalid_utf8_becomes_fffd(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"\xff", "\xef\xbf\xbd"},
        {"a\xfe" "b", "a\xef\xbf\xbd" "b"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                            /* overlong '/' */
        {"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},            /* overlong, 3 bytes */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},            /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* U+110000 */
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},                            /* cut short */
        {"\xe2\x82\xac\x80", "\xe2\x82\xac\xef\xbf\xbd"},                    /* € then a stray byte */
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},                            /* U+1F600: valid */
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},                            /* U+10FFFF: valid */
        {"\xed\x9f\xbf", "\xed\x9f\xbf"},                                    /* U+D7FF: valid */
    };
    for (size_t i = 0; i < N(cases); i++) {
        for (int e = ALERTS_ESC_NONE; e <= ALERTS_ESC_HEADER; e++) {
            char want[64];
            long wn = alerts_escape_value(cases[i].out, (enum alerts_escape)e, want, sizeof want);
            long n = escape(cases[i].in, (enum alerts_escape)e);
            T_CHECK(wn >= 0 && n == wn && strcmp(g_out, want) == 0, "case %zu escape %d: \"%s\", want \"%s\"", i, e,
                    g_out, want);
        }
        T_CHECK(escape(cases[i].in, ALERTS_ESC_NONE) >= 0 && strcmp(g_out, cases[i].out) == 0 &&
                    t_utf8_valid(g_out, strlen(g_out)),
                "case %zu: not repaired to U+FFFD", i);
    }
    T_CHECK(escape("\xff", ALERTS_ESC_URL) == 9 && strcmp(g_out, "%EF%BF%BD") == 0, "got %s", g_out);
    /* JSON: still parses, to the repaired text */
    alerts_var var = {"text", "ok \xc0\xaf \xff!"};
    T_CHECK(render("{\"t\":\"{{text}}\"}", &var, 1, ALERTS_ESC_JSON) > 0, "rc");
    cJSON *j = cJSON_Parse(g_out);
    const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "t") : NULL;
    T_CHECK(cJSON_IsString(t) && strcmp(t->valuestring, "ok \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd!") == 0,
            "JSON of invalid UTF-8: %s", g_out);
    cJSON_Delete(j);
}

/* ---- syntax ----------------------------------------------------------------------------------- */

static void test_placeholders(void)
{
    alerts_var vars[] = {{"a", "1"}, {"asset.name", "Pump_1"}, {"v_2", NULL}, {"x", "dup-first"}, {"x", "dup"}};
    static const struct {
        const char *tmpl, *out;
    } ok[] = {
        {"", ""},
        {"no placeholders }} { }", "no placeholders }} { }"},
        {"{{a}}", "1"},
        {"[{{ a }}|{{   asset.name}}|{{v_2   }}]", "[1|Pump_1|]"},
        {"{{{{a}}", "{{a}}"},
        {"x{{{{", "x{{"},
        {"{{{{{{{{", "{{{{"},
        {"{{a}}}}", "1}}"},
        {"{{a}}}", "1}"},
        {"{{{{{{a}}", "{{1"},
        {"{{x}}", "dup-first"},
    };
    for (size_t i = 0; i < N(ok); i++) {
        long n = render(ok[i].tmpl, vars, N(vars), ALERTS_ESC_NONE);
        T_CHECK(n == (long)strlen(ok[i].out) && strcmp(g_out, ok[i].out) == 0 && g_err[0] == 0,
                "\"%s\": rc %ld \"%s\", want \"%s\" (%s)", ok[i].tmpl, n, g_out, ok[i].out, g_err);
    }
    /* a name of 63 bytes is fine */
    char name[64], tmpl[80];
    memset(name, 'n', 63);
    name[63] = 0;
    snprintf(tmpl, sizeof tmpl, "<{{%s}}>", name);
    alerts_var longv = {name, "L"};
    T_CHECK(render(tmpl, &longv, 1, ALERTS_ESC_NONE) == 3 && strcmp(g_out, "<L>") == 0, "63-byte name: %s", g_err);
    /* an empty template may be NULL */
    memset(g_out, 0x5A, sizeof g_out);
    T_CHECK(alerts_template_render(NULL, 0, NULL, 0, ALERTS_ESC_JSON, g_out, 1, g_err, sizeof g_err) == 0 &&
                g_out[0] == 0 && g_out[1] == 0x5A,
            "NULL, 0: %s", g_err);
    T_CHECK(alerts_template_check(NULL, 0, NULL, 0, g_err, sizeof g_err) == 0, "check NULL, 0: %s", g_err);
    /* NUL bytes in the template are text */
    static const char with_nul[] = "a\0{{a}}\0b";
    memset(g_out, 0x5A, sizeof g_out);
    long n = alerts_template_render(with_nul, sizeof with_nul - 1, vars, 1, ALERTS_ESC_NONE, g_out, sizeof g_out, NULL,
                                    0);
    T_CHECK(n == 5 && memcmp(g_out, "a\0" "1\0b", 6) == 0, "NUL in the template: rc %ld", n);
}

static void test_refusals_name_offset(void)
{
    alerts_var vars[] = {{"text", "t"}, {"a", "1"}};
    char long_name[100];
    snprintf(long_name, sizeof long_name, "x {{%064d}}", 0);
    static const struct {
        const char *tmpl, *prefix, *mention;
    } bad[] = {
        {"Alarm {{rull}}", "byte 6:", "{{rull}}"},
        {"{{a}} then {{TEXT}}", "byte 11:", "TEXT"},
        {"ab {{text", "byte 3:", "}}"},
        {"ab {{text}", "byte 3:", "}}"},
        {"{{", "byte 0:", "}}"},
        {"x{{}}", "byte 1:", "empty"},
        {"x{{   }}", "byte 1:", "empty"},
        {"{{a-b}}", "byte 0:", "a-b"},
        {"{{a b}}", "byte 0:", "a b"},
        {"12345{{té}}", "byte 5:", "t\\xC3\\xA9"},
        {"{\"t\":{{{text}}}}", "byte 5:", "{text"},
        {"{{te\nxt}}", "byte 0:", "te\\x0Axt"},
        {"{{a}}{{ a.b }}", "byte 5:", "a.b"},
        {"{{tex}}", "byte 0:", "{{tex}}"},    /* a prefix of a name is not the name */
        {"{{textt}}", "byte 0:", "{{textt}}"},
    };
    for (size_t i = 0; i < N(bad); i++) {
        long n = render(bad[i].tmpl, vars, N(vars), ALERTS_ESC_JSON);
        T_CHECK(n == -EINVAL && g_out[0] == 0, "\"%s\": rc %ld, out \"%s\"", bad[i].tmpl, n, g_out);
        T_CHECK(t_starts_with(g_err, bad[i].prefix) && strstr(g_err, bad[i].mention) && !strchr(g_err, '\n'),
                "\"%s\": err \"%s\" (want \"%s\" ... \"%s\")", bad[i].tmpl, g_err, bad[i].prefix, bad[i].mention);
    }
    long n = render(long_name, vars, N(vars), ALERTS_ESC_NONE);
    T_CHECK(n == -EINVAL && t_starts_with(g_err, "byte 2:") && strstr(g_err, "63"), "64-byte name: %ld %s", n, g_err);
    /* the exact message of the header's example */
    T_CHECK(render("0123456789ab{{rull}}", vars, N(vars), ALERTS_ESC_NONE) == -EINVAL &&
                strcmp(g_err, "byte 12: unknown placeholder {{rull}}") == 0,
            "got \"%s\"", g_err);
    /* a bad template is -EINVAL even when out is too small for anything */
    char tiny[1] = {'Z'};
    T_CHECK(alerts_template_render("{{nope}}", 8, vars, 2, ALERTS_ESC_NONE, tiny, 1, NULL, 0) == -EINVAL &&
                tiny[0] == 0,
            "small out: not -EINVAL");
    /* a short err is cut and terminated, never overrun */
    char small[8];
    memset(small, 'Y', sizeof small);
    T_CHECK(alerts_template_render("{{nope}}", 8, vars, 2, ALERTS_ESC_NONE, g_out, sizeof g_out, small, 5) == -EINVAL &&
                small[4] == 0 && small[5] == 'Y' && strcmp(small, "byte") == 0,
            "err cut: \"%.8s\"", small);
    /* an unknown escape, NULL arguments */
    T_CHECK(render("x", vars, 2, (enum alerts_escape)7) == -EINVAL && g_out[0] == 0 && g_err[0], "unknown escape");
    T_CHECK(alerts_template_render(NULL, 3, vars, 2, ALERTS_ESC_NONE, g_out, sizeof g_out, g_err, sizeof g_err) ==
                -EINVAL,
            "NULL template");
    T_CHECK(alerts_template_render("{{a}}", 5, NULL, 2, ALERTS_ESC_NONE, g_out, sizeof g_out, g_err, sizeof g_err) ==
                -EINVAL,
            "NULL vars");
    T_CHECK(alerts_template_render("{{a}}", 5, NULL, 0, ALERTS_ESC_NONE, g_out, sizeof g_out, g_err, sizeof g_err) ==
                -EINVAL && t_starts_with(g_err, "byte 0:"),
            "no vars: %s", g_err);
}

/* ---- -ENOSPC ---------------------------------------------------------------------------------- */

static void test_enospc_every_cap(void)
{
    alerts_var vars[] = {{"text", "轴承 \"fault\"\n😀 \xff"}, {"a", "x y"}};
    static const char *const tmpls[] = {"", "{{text}}", "{\"t\":\"{{text}}\",\"a\":\"{{a}}\"} {{{{", "a"};
    for (size_t i = 0; i < N(tmpls); i++)
        for (int e = ALERTS_ESC_NONE; e <= ALERTS_ESC_HEADER; e++) {
            char full[1024];
            long n = alerts_template_render(tmpls[i], strlen(tmpls[i]), vars, 2, (enum alerts_escape)e, full,
                                            sizeof full, NULL, 0);
            T_CHECK(n >= 0 && (size_t)n == strlen(full), "template %zu escape %d: rc %ld", i, e, n);
            if (n < 0)
                continue;
            for (size_t cap = 0; cap <= (size_t)n + 1; cap++) {
                char buf[1100];
                memset(buf, 0x5A, sizeof buf);
                g_err[0] = 0;
                long r = alerts_template_render(tmpls[i], strlen(tmpls[i]), vars, 2, (enum alerts_escape)e, buf, cap,
                                                g_err, sizeof g_err);
                bool untouched_after = true;
                for (size_t k = cap; k < sizeof buf; k++)
                    untouched_after &= buf[k] == 0x5A;
                T_CHECK(untouched_after, "template %zu escape %d cap %zu: written past outlen", i, e, cap);
                if (cap == (size_t)n + 1) {
                    T_CHECK(r == n && memcmp(buf, full, cap) == 0, "template %zu escape %d: exact cap gives %ld", i,
                            e, r);
                } else {
                    T_CHECK(r == -ENOSPC && (cap == 0 || buf[0] == 0) && g_err[0],
                            "template %zu escape %d cap %zu of %ld: rc %ld", i, e, cap, n + 1, r);
                }
                /* the value alone, likewise */
                char ev[1024];
                long en = alerts_escape_value(vars[0].value, (enum alerts_escape)e, ev, sizeof ev);
                if (cap <= (size_t)en + 1) {
                    memset(buf, 0x5A, sizeof buf);
                    long r2 = alerts_escape_value(vars[0].value, (enum alerts_escape)e, buf, cap);
                    T_CHECK(cap == (size_t)en + 1 ? r2 == en && strcmp(buf, ev) == 0
                                                  : r2 == -ENOSPC && (cap == 0 || buf[0] == 0),
                            "escape %d cap %zu of %ld: rc %ld", e, cap, en + 1, r2);
                    T_CHECK(cap >= sizeof buf || buf[cap] == 0x5A, "escape %d cap %zu: written past outlen", e, cap);
                }
            }
        }
    T_CHECK(alerts_template_render("x", 1, NULL, 0, ALERTS_ESC_NONE, NULL, 0, NULL, 0) == -ENOSPC, "NULL, 0");
}

/* ---- alerts_utf8_truncate --------------------------------------------------------------------- */

/* Truncates a copy of s to max; the result (in a static buffer). */
static char g_trunc[1024];
static size_t trunc_copy(const char *s, size_t max)
{
    snprintf(g_trunc, sizeof g_trunc, "%s", s);
    return alerts_utf8_truncate(g_trunc, max);
}

static void test_truncate_examples(void)
{
    static const struct {
        const char *in;
        size_t max;
        const char *out;
    } cases[] = {
        {"hello", 5, "hello"},  /* exactly max: untouched */
        {"hello", 99, "hello"},
        {"hello", 4, "he…"},    /* "hel…" is 6 bytes, longer than "hello" */
        {"hello world", 6, "hello…"},
        {"abc", 2, "…"},
        {"ab", 1, "a"},         /* shorter than "…": cut without one */
        {"abc", 0, ""},
        {"", 0, ""},
        {"一二三四五", 5, "一二三四五"},
        {"一二三四五", 4, "一二三…"},
        {"一二三四五", 1, "…"},
        {"😀😁😂🤣", 4, "😀😁😂🤣"},
        {"😀😁😂🤣", 3, "😀😁…"},
        {"😀😁😂🤣", 2, "😀…"},
        {"a😀b", 2, "a…"},
        {"a😀bc", 3, "a…"},     /* "a😀…" is 8 bytes, longer than "a😀bc" */
        {"a😀bcd", 3, "a😀…"},
        {"\xff\xfe\xfd\xfc\xfb", 3, "\xff\xfe…"}, /* invalid bytes: one character each */
    };
    for (size_t i = 0; i < N(cases); i++) {
        size_t n = trunc_copy(cases[i].in, cases[i].max);
        T_CHECK(n == strlen(cases[i].out) && strcmp(g_trunc, cases[i].out) == 0, "\"%s\" to %zu: \"%s\", want \"%s\"",
                cases[i].in, cases[i].max, g_trunc, cases[i].out);
    }
    /* the SMS: 200 ASCII characters to 160 is 159 of them and "…" */
    char sms[201];
    memset(sms, 'x', 200);
    sms[200] = 0;
    size_t n = trunc_copy(sms, 160);
    T_CHECK(n == 162 && t_code_points(g_trunc) == 160 && strcmp(g_trunc + 159, "…") == 0, "SMS: %zu bytes", n);
    T_CHECK(alerts_utf8_truncate(NULL, 3) == 0, "NULL");
}

static void test_truncate_invariants(void)
{
    static const char *const texts[] = {"ASCII text of some length", "中文告警：轴承外圈故障", "😀😁😂🤣😃😄😅",
                                        "mix a中b😀c d", "€", "ab", ""};
    for (size_t i = 0; i < N(texts); i++) {
        size_t len = strlen(texts[i]), chars = t_code_points(texts[i]);
        for (size_t max = 0; max <= chars + 2; max++) {
            /* an exact-size copy, so ASan sees a write past it */
            char *s = malloc(len + 1);
            if (!s)
                abort();
            memcpy(s, texts[i], len + 1);
            size_t n = alerts_utf8_truncate(s, max);
            bool cut = chars > max;
            T_CHECK(n == strlen(s) && n <= len, "text %zu max %zu: %zu bytes", i, max, n);
            T_CHECK(t_code_points(s) <= max, "text %zu max %zu: %zu characters", i, max, t_code_points(s));
            T_CHECK(t_utf8_valid(s, n), "text %zu max %zu: invalid UTF-8", i, max);
            bool ell = n >= 3 && strcmp(s + n - 3, "…") == 0;
            T_CHECK(cut || (n == len && strcmp(s, texts[i]) == 0), "text %zu max %zu: changed without a cut", i, max);
            T_CHECK(!cut || max == 0 || len < 3 || ell, "text %zu max %zu: cut without \"…\"", i, max);
            size_t keep = ell && cut ? n - 3 : n;
            T_CHECK(memcmp(s, texts[i], keep) == 0, "text %zu max %zu: not a prefix", i, max);
            /* the longest prefix that fits: one character more would break a rule */
            if (cut && ell && keep < len) {
                size_t next = keep + 1;
                while (next < len && ((unsigned char)texts[i][next] & 0xC0) == 0x80)
                    next++;
                T_CHECK(t_code_points(s) == max || next + 3 > len, "text %zu max %zu: \"%s\" cut more than needed", i,
                        max, s);
            }
            free(s);
        }
    }
}

/* ---- alerts_template_check -------------------------------------------------------------------- */

static void test_check(void)
{
    const char *const names[] = {"text", "asset.name", "rule", "level"};
    const char *tmpl = "{\"text\":\"{{text}}\",\"asset\":\"{{ asset.name }}\"} {{{{literal";
    g_err[0] = 'Q';
    T_CHECK(alerts_template_check(tmpl, strlen(tmpl), names, N(names), g_err, sizeof g_err) == 0 && g_err[0] == 0,
            "valid template refused: %s", g_err);
    T_CHECK(alerts_template_check("0123456789ab{{rull}}", 20, names, N(names), g_err, sizeof g_err) == -EINVAL &&
                strcmp(g_err, "byte 12: unknown placeholder {{rull}}") == 0,
            "got \"%s\"", g_err);
    T_CHECK(alerts_template_check("a {{text", 8, names, N(names), g_err, sizeof g_err) == -EINVAL &&
                t_starts_with(g_err, "byte 2:"),
            "unclosed: \"%s\"", g_err);
    T_CHECK(alerts_template_check("{{bad name}}", 12, names, N(names), NULL, 0) == -EINVAL, "err NULL");
    T_CHECK(alerts_template_check("no placeholders", 15, NULL, 0, g_err, sizeof g_err) == 0, "no names");
    T_CHECK(alerts_template_check("{{text}}", 8, NULL, 0, g_err, sizeof g_err) == -EINVAL, "no names, a placeholder");
    /* check and render agree */
    alerts_var vars[] = {{"text", "t"}, {"asset.name", "a"}, {"rule", "r"}, {"level", "l"}};
    static const char *const probes[] = {"{{text}}{{level}}", "{{rule", "{{ level}} {{levels}}", "{{{{x}}", "{{}}"};
    for (size_t i = 0; i < N(probes); i++) {
        char e1[256], e2[256];
        int c = alerts_template_check(probes[i], strlen(probes[i]), names, N(names), e1, sizeof e1);
        long r = alerts_template_render(probes[i], strlen(probes[i]), vars, N(vars), ALERTS_ESC_NONE, g_out,
                                        sizeof g_out, e2, sizeof e2);
        T_CHECK((c == 0) == (r >= 0) && (c == 0 || (r == -EINVAL && strcmp(e1, e2) == 0)), "\"%s\": %d \"%s\" / %ld \"%s\"",
                probes[i], c, e1, r, e2);
    }
}

int main(void)
{
    T_RUN(test_json_roundtrip_with_cjson);
    T_RUN(test_json_escape_forms);
    T_RUN(test_form);
    T_RUN(test_url);
    T_RUN(test_header);
    T_RUN(test_none);
    T_RUN(test_invalid_utf8_becomes_fffd);
    T_RUN(test_placeholders);
    T_RUN(test_refusals_name_offset);
    T_RUN(test_enospc_every_cap);
    T_RUN(test_truncate_examples);
    T_RUN(test_truncate_invariants);
    T_RUN(test_check);
    return t_done();
}
