/* Tests of store/lineproto.h against the InfluxDB line-protocol reference: its own examples written
 * out literally (escaping in measurements, tag keys and values, field keys and string values), the
 * value syntax of each type, floats that read back bit for bit through strtod, what is left out
 * (non-finite fields, empty tag values) and what is refused (newlines, invalid UTF-8, names the
 * protocol cannot carry), with the message naming the culprit and the buffer untouched, at every
 * cap too small. The real truth test reads lines back with tests/fuzz/lp_parse.h, a strict reader
 * written from the spec (the fuzz target uses the same one): thousands of random points made of
 * the nastiest bytes (',', ' ', '=', '"', '\', multi-byte UTF-8, control and invalid bytes) must
 * come back exactly as they went in, or be refused exactly when the spec says they cannot be
 * carried (tests/fuzz/lp_harness.h). */
#include "store/lineproto.h"
#include "testlib.h"
#include "tests/fuzz/lp_harness.h"
#include "tests/fuzz/lp_parse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_SPEC INT64_C(1556813561098000000) /* the timestamp of the reference's examples */

/* ---- helpers --------------------------------------------------------------------------------- */

static store_lp_field fl(const char *k, double v)
{
    store_lp_field f = {.key = k, .type = STORE_LP_FLOAT};
    f.v.f = v;
    return f;
}

static store_lp_field in(const char *k, int64_t v)
{
    store_lp_field f = {.key = k, .type = STORE_LP_INT};
    f.v.i = v;
    return f;
}

static store_lp_field un(const char *k, uint64_t v)
{
    store_lp_field f = {.key = k, .type = STORE_LP_UINT};
    f.v.u = v;
    return f;
}

static store_lp_field bo(const char *k, bool v)
{
    store_lp_field f = {.key = k, .type = STORE_LP_BOOL};
    f.v.b = v;
    return f;
}

static store_lp_field st(const char *k, const char *v)
{
    store_lp_field f = {.key = k, .type = STORE_LP_STRING};
    f.v.s = v;
    return f;
}

/* One line into a fresh buffer (NUL-terminated for comparison); the return code of store_lp_line. */
static char g_line[4096], g_err[512];

static int one(const char *m, const store_lp_tag *tags, size_t ntags, const store_lp_field *fields, size_t nfields,
               int64_t t_ns)
{
    size_t len = 0;
    memset(g_line, 0, sizeof g_line);
    g_err[0] = 0;
    int rc = store_lp_line(g_line, sizeof g_line - 1, &len, m, tags, ntags, fields, nfields, t_ns, g_err,
                           sizeof g_err);
    if (rc == 0)
        T_CHECK(len == strlen(g_line), "len %zu for a line of %zu", len, strlen(g_line));
    return rc;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define EXPECT_LINE(want, m, tags, ntags, fields, nfields, t)                                                    \
    do {                                                                                                         \
        int rc_ = one((m), (tags), (ntags), (fields), (nfields), (t));                                           \
        T_CHECK(rc_ == 0, "%s: rc %d: %s", (want), rc_, g_err);                                                  \
        T_CHECK(rc_ != 0 || strcmp(g_line, (want)) == 0, "got   %s want  %s", g_line, (want));                   \
    } while (0)

/* Refused with rc, buffer and *len untouched, and err containing each of the NULL-ended words. */
static void expect_refusal(int line, int want_rc, const char *m, const store_lp_tag *tags, size_t ntags,
                           const store_lp_field *fields, size_t nfields, int64_t t_ns, const char *w1,
                           const char *w2)
{
    char buf[600], ref[600];
    for (size_t k = 0; k < sizeof buf; k++)
        buf[k] = (char)(k * 7 + 3);
    memcpy(ref, buf, sizeof buf);
    size_t len = 11;
    char err[300];
    int rc = store_lp_line(buf, sizeof buf, &len, m, tags, ntags, fields, nfields, t_ns, err, sizeof err);
    if (rc != want_rc) {
        t_fail_at(__FILE__, line, "rc %d, want %d (err: %s)", rc, want_rc, err);
        return;
    }
    if (len != 11 || memcmp(buf, ref, sizeof buf) != 0)
        t_fail_at(__FILE__, line, "rc %d but the buffer or *len changed", rc);
    if (!err[0] || strchr(err, '\n'))
        t_fail_at(__FILE__, line, "message \"%s\" is empty or has a raw newline", err);
    if (w1 && !strstr(err, w1))
        t_fail_at(__FILE__, line, "message \"%s\" does not say \"%s\"", err, w1);
    if (w2 && !strstr(err, w2))
        t_fail_at(__FILE__, line, "message \"%s\" does not say \"%s\"", err, w2);
}

#define REFUSED(rc, m, tags, ntags, fields, nfields, t, w1, w2)                                                  \
    expect_refusal(__LINE__, (rc), (m), (tags), (ntags), (fields), (nfields), (t), (w1), (w2))

/* A uniformly random 64-bit pattern from the shared generator. */
static uint64_t rand64(void)
{
    uint64_t hi = (uint64_t)(t_urand() * 4294967296.0) & 0xFFFFFFFFu;
    uint64_t lo = (uint64_t)(t_urand() * 4294967296.0) & 0xFFFFFFFFu;
    return hi << 32 | lo;
}

static size_t rand_below(size_t n) { return (size_t)(t_urand() * (double)n) % n; }

/* ---- the reference's own examples, written out ------------------------------------------------ */

static void test_spec_examples(void)
{
    /* "Measurement name with spaces" */
    store_lp_field f1[] = {st("fieldKey", "string value")};
    EXPECT_LINE("my\\ Measurement fieldKey=\"string value\" 1556813561098000000\n", "my Measurement", NULL, 0, f1, 1,
                T_SPEC);

    /* "Double quotes in a string field value" */
    store_lp_field f2[] = {st("fieldKey", "\"string\" within a string")};
    EXPECT_LINE("myMeasurement fieldKey=\"\\\"string\\\" within a string\" 1556813561098000000\n", "myMeasurement",
                NULL, 0, f2, 1, T_SPEC);

    /* "Tag keys and values with spaces" (given out of order: they come out sorted) */
    store_lp_tag t3[] = {{"tag Key2", "tag Value2"}, {"tag Key1", "tag Value1"}};
    store_lp_field f3[] = {fl("fieldKey", 100)};
    EXPECT_LINE("myMeasurement,tag\\ Key1=tag\\ Value1,tag\\ Key2=tag\\ Value2 fieldKey=100 1556813561098000000\n",
                "myMeasurement", t3, 2, f3, 1, T_SPEC);

    /* "Emojis" */
    store_lp_tag t4[] = {{"tagKey", "🍭"}};
    store_lp_field f4[] = {st("fieldKey", "Launch 🚀")};
    EXPECT_LINE("myMeasurement,tagKey=🍭 fieldKey=\"Launch 🚀\" 1556813561098000000\n", "myMeasurement", t4, 1, f4, 1,
                T_SPEC);

    /* The 1.x reference's "point with special characters": quotes are part of the measurement, the
     * field key's backslash before 'e' is a plain backslash, only '"' is escaped in the string. */
    store_lp_tag t5[] = {{"tag key with sp🚀ces", "tag,value,with\"commas\""}};
    store_lp_field f5[] = {st("field_k\\ey", "string field value, only \" need be esc🍭ped")};
    EXPECT_LINE("\"measurement\\ with\\ quo⚡️es\\ and\\ emoji\",tag\\ key\\ with\\ sp🚀ces=tag\\,value\\,with\"commas\" "
                "field_k\\ey=\"string field value, only \\\" need be esc🍭ped\" 1556813561098000000\n",
                "\"measurement with quo⚡️es and emoji\"", t5, 1, f5, 1, T_SPEC);

    /* a comma in a measurement, a space in tag values (InfluxDB's tsdb README) */
    store_lp_tag t6[] = {{"region", "us-west"}, {"host", "serverA"}};
    store_lp_field f6[] = {fl("value", 1.0)};
    EXPECT_LINE("cpu\\,01,host=serverA,region=us-west value=1 0\n", "cpu,01", t6, 2, f6, 1, 0);
    store_lp_tag t7[] = {{"host", "server A"}, {"region", "us west"}};
    EXPECT_LINE("cpu,host=server\\ A,region=us\\ west value=1 0\n", "cpu", t7, 2, f6, 1, 0);

    /* '=' is escaped in tag keys, tag values and field keys, not in measurements */
    store_lp_tag t8[] = {{"k=1", "v=2"}};
    store_lp_field f8[] = {in("f=x", 1)};
    EXPECT_LINE("a=b,k\\=1=v\\=2 f\\=x=1i 0\n", "a=b", t8, 1, f8, 1, 0);

    /* commas and spaces in a field key */
    store_lp_field f9[] = {bo("f k,x", true)};
    EXPECT_LINE("m f\\ k\\,x=true 0\n", "m", NULL, 0, f9, 1, 0);

    /* string values: '\' is escaped as well as '"' ("\\" reads as "\") */
    store_lp_field f10[] = {st("path", "C:\\dir\\"), st("one", "\\"), st("two", "\\\\"), st("q", "\"")};
    EXPECT_LINE("m path=\"C:\\\\dir\\\\\",one=\"\\\\\",two=\"\\\\\\\\\",q=\"\\\"\" 0\n", "m", NULL, 0, f10, 4, 0);

    /* "You do not need to escape other special characters": quotes, '#' after the start, tabs in
     * strings, backslashes before other bytes in names */
    store_lp_tag t11[] = {{"dir", "C:\\temp"}, {"#k", "'q'"}};
    store_lp_field f11[] = {st("s", "a\tb = c, d"), fl("x\\y", 0.5)};
    EXPECT_LINE("m#1,#k='q',dir=C:\\temp s=\"a\tb = c, d\",x\\y=0.5 0\n", "m#1", t11, 2, f11, 2, 0);
}

/* The reference's own line, read by the shared reader: the reader follows the spec too. */
static void test_reader_on_spec_lines(void)
{
    static const char line[] = "\"measurement\\ with\\ quo⚡️es\\ and\\ emoji\",tag\\ key\\ with\\ sp🚀ces="
                               "tag\\,value\\,with\"commas\" field_k\\ey=\"string field value, only \\\" need be "
                               "esc🍭ped\" 1556813561098000000\n";
    static lp_parsed p;
    char arena[2 * sizeof line + 16];
    int rc = lp_parse_line(line, sizeof line - 1, &p, arena, sizeof arena);
    T_CHECK(rc == 0, "the reference's line does not read: %s", p.why);
    if (rc)
        return;
    T_CHECK(strcmp(p.measurement, "\"measurement with quo⚡️es and emoji\"") == 0, "measurement %s", p.measurement);
    T_CHECK(p.ntags == 1 && strcmp(p.tag_key[0], "tag key with sp🚀ces") == 0 &&
                strcmp(p.tag_value[0], "tag,value,with\"commas\"") == 0,
            "tag %s=%s", p.tag_key[0], p.tag_value[0]);
    T_CHECK(p.nfields == 1 && strcmp(p.fields[0].key, "field_k\\ey") == 0 && p.fields[0].type == LP_P_STRING &&
                strcmp(p.fields[0].s, "string field value, only \" need be esc🍭ped") == 0,
            "field %s", p.fields[0].key);
    T_CHECK(p.t_ns == T_SPEC, "timestamp %lld", (long long)p.t_ns);

    /* the reference's value examples */
    static const struct {
        const char *line;
        enum lp_ptype type;
        double f;
        int64_t i;
    } vals[] = {
        {"m v=-1.234456e+78 0\n", LP_P_FLOAT, -1.234456e+78, 0}, {"m v=1.0 0\n", LP_P_FLOAT, 1.0, 0},
        {"m v=1 0\n", LP_P_FLOAT, 1.0, 0},                       {"m v=1.e+78 0\n", LP_P_FLOAT, 1e78, 0},
        {"m v=1.E+78 0\n", LP_P_FLOAT, 1e78, 0},                 {"m v=1i 0\n", LP_P_INT, 0, 1},
        {"m v=-9223372036854775808i 0\n", LP_P_INT, 0, INT64_MIN},
    };
    for (size_t k = 0; k < N(vals); k++) {
        char a[128];
        rc = lp_parse_line(vals[k].line, strlen(vals[k].line), &p, a, sizeof a);
        T_CHECK(rc == 0 && p.fields[0].type == vals[k].type &&
                    (vals[k].type == LP_P_FLOAT ? p.fields[0].f == vals[k].f : p.fields[0].i == vals[k].i),
                "%s read as type %d (%s)", vals[k].line, (int)p.fields[0].type, p.why);
    }
}

/* The reader has teeth: lines a sloppy formatter could write are refused. */
static void test_reader_is_strict(void)
{
    static const char *const bad[] = {
        "m x=1 0",                     /* no newline */
        "m x=1 0\n\n",                 /* two lines */
        "m x=1\n",                     /* no timestamp */
        "m  x=1 0\n",                  /* two spaces */
        "m,b=1,a=2 x=1 0\n",           /* tags out of order */
        "m,a=1,a=2 x=1 0\n",           /* duplicate tag */
        "m,a= x=1 0\n",                /* empty tag value */
        "m x=inf 0\n",                 /* not a number */
        "m x=nan 0\n",                 /* not a number */
        "m x=1e999 0\n",               /* overflows */
        "m x=9223372036854775808i 0\n",/* past int64 */
        "m x=-1u 0\n",                 /* a negative uint */
        "m x=\"a\\b\" 0\n",            /* a stray backslash in a string */
        "m x=\"a 0\n",                 /* an unclosed string */
        "m\\\\,t=1 x=1 0\n",           /* a plain backslash before an escape */
        "m\tx x=1 0\n",                /* a control character in a name */
        "m x=1 9223372036854775807\n", /* past InfluxDB's time range */
        "#m x=1 0\n",                  /* a comment */
        "m x=1 0\r\n",                 /* a carriage return */
        "m\xc0\xaf x=1 0\n",           /* overlong UTF-8 */
        "m x=\"\xed\xa0\x80\" 0\n",    /* a surrogate */
        "m x=yes 0\n",                 /* not a boolean */
    };
    static lp_parsed p;
    for (size_t k = 0; k < N(bad); k++) {
        char a[128];
        T_CHECK(lp_parse_line(bad[k], strlen(bad[k]), &p, a, sizeof a) != 0, "the reader took \"%s\"", bad[k]);
    }
}

/* ---- values ------------------------------------------------------------------------------------ */

static void test_types(void)
{
    store_lp_field i1[] = {in("i", 1), in("n", -12485903), in("z", 0)};
    EXPECT_LINE("m i=1i,n=-12485903i,z=0i 0\n", "m", NULL, 0, i1, 3, 0);
    store_lp_field i2[] = {in("min", INT64_MIN), in("max", INT64_MAX)};
    EXPECT_LINE("m min=-9223372036854775808i,max=9223372036854775807i 0\n", "m", NULL, 0, i2, 2, 0);
    store_lp_field u1[] = {un("u", 0), un("max", UINT64_MAX), un("v", 12485903)};
    EXPECT_LINE("m u=0u,max=18446744073709551615u,v=12485903u 0\n", "m", NULL, 0, u1, 3, 0);
    store_lp_field b1[] = {bo("t", true), bo("f", false)};
    EXPECT_LINE("m t=true,f=false 0\n", "m", NULL, 0, b1, 2, 0);
    store_lp_field s1[] = {st("empty", ""), st("s", "x")};
    EXPECT_LINE("m empty=\"\",s=\"x\" 0\n", "m", NULL, 0, s1, 2, 0);

    /* floats: the fewest of 15, 16, 17 significant digits that read back */
    static const struct {
        double v;
        const char *text;
    } floats[] = {
        {1.0, "1"},
        {100.0, "100"},
        {0.1, "0.1"},
        {-1.234456e+78, "-1.234456e+78"},
        {1e308, "1e+308"},
        {1e23, "1e+23"},
        {0.1 + 0.2, "0.30000000000000004"},   /* needs 17 */
        {1.0 / 3.0, "0.3333333333333333"},    /* needs 16 */
        {9007199254740992.0, "9007199254740992"}, /* 2^53: 15 digits are not enough */
        {-0.0, "-0"},
        {4.9406564584124654e-324, "4.94065645841247e-324"}, /* the smallest subnormal */
        {DBL_MAX, "1.7976931348623157e+308"},                /* 16 digits would round past it */
        {DBL_MIN, "2.2250738585072014e-308"},              /* needs 17 */
    };
    for (size_t k = 0; k < N(floats); k++) {
        store_lp_field f[] = {fl("v", floats[k].v)};
        char want[80];
        snprintf(want, sizeof want, "m v=%s 0\n", floats[k].text);
        EXPECT_LINE(want, "m", NULL, 0, f, 1, 0);
    }
}

/* Random doubles of every kind read back bit for bit, as the shortest of %.15g/%.16g/%.17g, in a
 * text InfluxDB takes as a float (digits, '-', '.', 'e', '+' only: never "inf" or "nan"). */
static void check_float(double v, unsigned *bad)
{
    store_lp_field f[] = {fl("v", v)};
    size_t len = 0;
    char buf[128];
    int rc = store_lp_line(buf, sizeof buf - 1, &len, "m", NULL, 0, f, 1, 0, NULL, 0);
    if (rc != 0 || len < 8 || memcmp(buf, "m v=", 4) != 0 || memcmp(buf + len - 3, " 0\n", 3) != 0) {
        if (!(*bad)++)
            T_CHECK(0, "%a: rc %d, \"%.*s\"", v, rc, (int)len, buf);
        return;
    }
    char text[64];
    size_t n = len - 7;
    memcpy(text, buf + 4, n);
    text[n] = 0;
    bool chars_ok = n > 0 && strspn(text, "0123456789-.e+") == n;
    char *end;
    double back = strtod(text, &end);
    char shortest[64] = "";
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(shortest, sizeof shortest, "%.*g", prec, v);
        if (strtod(shortest, NULL) == v && signbit(strtod(shortest, NULL)) == signbit(v))
            break;
    }
    if (!chars_ok || *end || memcmp(&back, &v, sizeof v) != 0 || strcmp(text, shortest) != 0) {
        if (!(*bad)++)
            T_CHECK(0, "%a written \"%s\", reads back as %a (shortest \"%s\")", v, text, back, shortest);
    }
}

static void test_float_roundtrip(void)
{
    t_rng_seed(7);
    unsigned bad = 0, n = 0;
    for (int k = 0; k < 200000; k++) { /* any bit pattern: every exponent, both signs */
        uint64_t bits = rand64();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        check_float(v, &bad);
        n++;
    }
    for (int k = 0; k < 50000; k++) { /* subnormals: exponent field 0 */
        uint64_t bits = rand64() & (UINT64_C(0x800FFFFFFFFFFFFF) >> (k % 52));
        double v;
        memcpy(&v, &bits, sizeof v);
        check_float(v, &bad);
        n++;
    }
    for (int k = 0; k < 50000; k++) { /* everyday magnitudes and values near integers and decimals */
        double v = t_grand() * pow(10.0, (double)(k % 40) - 20.0);
        check_float(v, &bad);
        check_float(nextafter(round(v), INFINITY), &bad);
        check_float(round(v * 1000.0) / 1000.0, &bad);
        n += 3;
    }
    static const double edges[] = {0.0, -0.0, 1e308, -1e308, DBL_MAX, -DBL_MAX, DBL_MIN, -DBL_MIN,
                                   4.9406564584124654e-324, -4.9406564584124654e-324, 2.2250738585072009e-308,
                                   9007199254740993.0, 1e15, 1e16, 1e17, 123456789012345678.0, 5e-324, 1e-323,
                                   0.1, 0.2, 0.3, 2.0 / 3.0, M_PI, M_E};
    for (size_t k = 0; k < N(edges); k++) { /* each edge and its 8 neighbours either side */
        double up = edges[k], down = edges[k];
        check_float(edges[k], &bad);
        n++;
        for (int j = 0; j < 8; j++, n += 2) {
            up = nextafter(up, INFINITY);
            down = nextafter(down, -INFINITY);
            if (isfinite(up))
                check_float(up, &bad);
            if (isfinite(down))
                check_float(down, &bad);
        }
    }
    T_CHECK(bad == 0, "%u of %u floats did not read back exactly", bad, n);
    printf("# floats: %u read back bit for bit\n", n - bad);
}

static void test_nonfinite_left_out(void)
{
    store_lp_field f[] = {fl("a", NAN), fl("b", 1.5), fl("c", INFINITY), fl("d", -INFINITY), fl("e", -NAN),
                          in("i", 2)};
    EXPECT_LINE("m b=1.5,i=2i 0\n", "m", NULL, 0, f, N(f), 0);
    store_lp_field g[] = {fl("a", NAN), fl("b", 3.0)};
    EXPECT_LINE("m b=3 0\n", "m", NULL, 0, g, 2, 0); /* the first written field has no comma before it */
    store_lp_field none[] = {fl("a", NAN), fl("b", INFINITY), fl("c", -INFINITY)};
    REFUSED(-ENODATA, "m", NULL, 0, none, N(none), 0, "no field", NULL);
    REFUSED(-ENODATA, "m", NULL, 0, NULL, 0, 0, "no field", NULL);
    /* a refusal outranks "no data": the all-NaN fields are still checked */
    store_lp_field badkey[] = {fl("a\nb", NAN)};
    REFUSED(-EINVAL, "m", NULL, 0, badkey, 1, 0, "fields[0] key", "newline");
}

static void test_tags(void)
{
    store_lp_field x[] = {fl("x", 1)};
    store_lp_tag t1[] = {{"zone", "c"}, {"host", "a"}, {"region", "b"}};
    EXPECT_LINE("m,host=a,region=b,zone=c x=1 0\n", "m", t1, 3, x, 1, 0);

    /* sorted as written, escapes and all (Go's bytes.Compare on the line, which InfluxDB checks):
     * '\' (0x5c) sorts after '!' (0x21), although ' ' (0x20) sorts before it */
    store_lp_tag t2[] = {{"a b", "1"}, {"a!", "2"}, {"a", "3"}, {"a=", "4"}, {"B", "5"}};
    EXPECT_LINE("m,B=5,a=3,a!=2,a\\ b=1,a\\==4 x=1 0\n", "m", t2, N(t2), x, 1, 0);

    /* byte order, not the locale's: 'Z' < 'a' < 'é' */
    store_lp_tag t3[] = {{"é", "1"}, {"a", "2"}, {"Z", "3"}};
    EXPECT_LINE("m,Z=3,a=2,é=1 x=1 0\n", "m", t3, 3, x, 1, 0);

    /* an empty (or NULL) value leaves the tag out; its key is checked all the same */
    store_lp_tag t4[] = {{"gone", ""}, {"kept", "v"}, {"null", NULL}};
    EXPECT_LINE("m,kept=v x=1 0\n", "m", t4, 3, x, 1, 0);
    store_lp_tag t5[] = {{"a", ""}, {"b", ""}};
    EXPECT_LINE("m x=1 0\n", "m", t5, 2, x, 1, 0);
    store_lp_tag t6[] = {{"bad\nkey", ""}};
    REFUSED(-EINVAL, "m", t6, 1, x, 1, 0, "tags[0] key", "newline");

    /* duplicates: InfluxDB refuses the point; one left out is no duplicate */
    store_lp_tag t7[] = {{"host", "a"}, {"zone", "z"}, {"host", "b"}};
    REFUSED(-EINVAL, "m", t7, 3, x, 1, 0, "same key", "\"host\"");
    store_lp_tag t8[] = {{"host", ""}, {"host", "b"}};
    EXPECT_LINE("m,host=b x=1 0\n", "m", t8, 2, x, 1, 0);

    /* STORE_LP_MAX_TAGS in a shuffled order come out sorted; one more is refused */
    store_lp_tag many[STORE_LP_MAX_TAGS + 1];
    char keys[STORE_LP_MAX_TAGS + 1][8];
    for (int k = 0; k <= STORE_LP_MAX_TAGS; k++) {
        snprintf(keys[k], sizeof keys[k], "t%02d", (k * 13) % (STORE_LP_MAX_TAGS + 1));
        many[k].key = keys[k];
        many[k].value = "v";
    }
    T_CHECK(one("m", many, STORE_LP_MAX_TAGS, x, 1, 0) == 0, "%d tags: %s", STORE_LP_MAX_TAGS, g_err);
    const char *prev = g_line, *p = g_line;
    int seen = 0;
    while ((p = strstr(p + 1, ",t")) != NULL) {
        T_CHECK(prev == g_line || strncmp(prev, p, 4) < 0, "tags out of order in %s", g_line);
        prev = p;
        seen++;
    }
    T_CHECK(seen == STORE_LP_MAX_TAGS, "%d tags written of %d", seen, STORE_LP_MAX_TAGS);
    REFUSED(-EINVAL, "m", many, STORE_LP_MAX_TAGS + 1, x, 1, 0, "33 tags", "STORE_LP_MAX_TAGS");
}

/* Newlines, carriage returns and invalid UTF-8 in each place a string goes: refused, buffer untouched,
 * the message naming the place (and the key, shown safely). */
static void test_refused_strings(void)
{
    static const struct {
        const char *s, *reason;
    } bad[] = {
        {"a\nb", "newline"},
        {"\n", "newline"},
        {"ab\r", "carriage return"},
        {"\xff", "UTF-8"},
        {"a\x80", "UTF-8"},            /* a stray continuation byte */
        {"\xc0\xaf", "UTF-8"},         /* overlong '/' */
        {"\xe0\x80\xaf", "UTF-8"},     /* overlong, 3 bytes */
        {"\xed\xa0\x80", "UTF-8"},     /* a surrogate */
        {"\xf4\x90\x80\x80", "UTF-8"}, /* past U+10FFFF */
        {"x\xe2\x82", "UTF-8"},        /* cut short */
        {"\xf8\x88\x80\x80\x80", "UTF-8"},
    };
    store_lp_field x[] = {fl("x", 1)};
    for (size_t k = 0; k < N(bad); k++) {
        const char *s = bad[k].s, *r = bad[k].reason;
        REFUSED(-EINVAL, s, NULL, 0, x, 1, 0, "measurement", r);
        store_lp_tag tk[] = {{"ok", "v"}, {s, "v"}};
        REFUSED(-EINVAL, "m", tk, 2, x, 1, 0, "tags[1] key", r);
        store_lp_tag tv[] = {{"ok", "v"}, {"host", s}};
        REFUSED(-EINVAL, "m", tv, 2, x, 1, 0, "tags[1] (key \"host\") value", r);
        store_lp_field fk[] = {fl("ok", 1), fl(s, 2)};
        REFUSED(-EINVAL, "m", NULL, 0, fk, 2, 0, "fields[1] key", r);
        store_lp_field fv[] = {fl("ok", 1), st("msg", s)};
        REFUSED(-EINVAL, "m", NULL, 0, fv, 2, 0, "fields[1] (key \"msg\") string value", r);
    }
    /* the key itself is named, its newline shown as an escape */
    store_lp_field nk[] = {fl("temp\nc", 1)};
    REFUSED(-EINVAL, "m", NULL, 0, nk, 1, 0, "\"temp\\x0ac\"", "newline (byte 4)");
    /* valid multi-byte UTF-8 everywhere is fine */
    store_lp_tag ut[] = {{"lieu", "Zürich €"}};
    store_lp_field uf[] = {st("ключ", "日本語 😀")};
    EXPECT_LINE("température,lieu=Zürich\\ € ключ=\"日本語 😀\" 0\n", "température", ut, 1, uf, 1, 0);
}

static void test_refused_names(void)
{
    store_lp_field x[] = {fl("x", 1)};
    REFUSED(-EINVAL, "", NULL, 0, x, 1, 0, "measurement", "empty");
    REFUSED(-EINVAL, NULL, NULL, 0, x, 1, 0, "measurement", "NULL");
    REFUSED(-EINVAL, "#cpu", NULL, 0, x, 1, 0, "measurement", "comment");
    store_lp_tag ek[] = {{"", "v"}};
    REFUSED(-EINVAL, "m", ek, 1, x, 1, 0, "tags[0] key", "empty");
    store_lp_tag nk[] = {{NULL, "v"}};
    REFUSED(-EINVAL, "m", nk, 1, x, 1, 0, "tags[0] key", "NULL");
    store_lp_field ef[] = {fl("", 1)};
    REFUSED(-EINVAL, "m", NULL, 0, ef, 1, 0, "fields[0] key", "empty");
    store_lp_field ns[] = {st("s", NULL)};
    REFUSED(-EINVAL, "m", NULL, 0, ns, 1, 0, "fields[0] (key \"s\") string value", "NULL");
    store_lp_field ut[] = {fl("x", 1), {.key = "odd", .type = (enum store_lp_type)9}};
    REFUSED(-EINVAL, "m", NULL, 0, ut, 2, 0, "fields[1] (key \"odd\")", "unknown type 9");

    /* a backslash that no parser reads back: at the end, or before a byte that is escaped there */
    store_lp_tag b1[] = {{"dir", "C:\\"}};
    REFUSED(-EINVAL, "m", b1, 1, x, 1, 0, "tags[0] (key \"dir\") value", "ends with a backslash");
    store_lp_tag b2[] = {{"a\\,b", "v"}};
    REFUSED(-EINVAL, "m", b2, 1, x, 1, 0, "tags[0] key", "backslash before ','");
    store_lp_field b3[] = {fl("a\\=b", 1)};
    REFUSED(-EINVAL, "m", NULL, 0, b3, 1, 0, "fields[0] key", "backslash before '='");
    REFUSED(-EINVAL, "m\\ x", NULL, 0, x, 1, 0, "measurement", "backslash before ' '");
    /* ... but in a measurement '=' is not escaped, so a backslash before it is plain */
    EXPECT_LINE("m\\=x x=1 0\n", "m\\=x", NULL, 0, x, 1, 0);

    /* control characters have no place in names (a tab is fine in a string value) */
    static const char *const ctl[] = {"a\tb", "\x01", "a\x1f", "del\x7f"};
    for (size_t k = 0; k < N(ctl); k++) {
        REFUSED(-EINVAL, ctl[k], NULL, 0, x, 1, 0, "measurement", "control character");
        store_lp_tag tv[] = {{"k", ctl[k]}};
        REFUSED(-EINVAL, "m", tv, 1, x, 1, 0, "tags[0] (key \"k\") value", "control character");
    }

    /* arguments */
    char buf[64];
    size_t len = 65;
    char err[200];
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "m", NULL, 0, x, 1, 0, err, sizeof err) == -EINVAL &&
                strstr(err, "past cap"),
            "*len past cap: %s", err);
    T_CHECK(store_lp_line(buf, sizeof buf, NULL, "m", NULL, 0, x, 1, 0, err, sizeof err) == -EINVAL,
            "len NULL accepted");
    len = 0;
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "m", NULL, 2, x, 1, 0, err, sizeof err) == -EINVAL,
            "tags NULL with ntags 2 accepted");
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "m", NULL, 0, NULL, 1, 0, err, sizeof err) == -EINVAL,
            "fields NULL with nfields 1 accepted");
    T_CHECK(store_lp_line(NULL, 10, &len, "m", NULL, 0, x, 1, 0, err, sizeof err) == -EINVAL, "buf NULL, cap 10");
    T_CHECK(store_lp_line(NULL, 0, &len, "m", NULL, 0, x, 1, 0, err, sizeof err) == -ENOSPC && len == 0,
            "buf NULL, cap 0: %s", err);

    /* a long name is shown cut, with its start */
    store_lp_field lk[] = {fl("a_very_long_field_key_that_goes_on_and_on_and_on_and_on\n", 1)};
    REFUSED(-EINVAL, "m", NULL, 0, lk, 1, 0, "fields[0] key \"a_very_long_field_key_that_goes_on_and_o...\"",
            "newline (byte 55)");
}

static void test_timestamps(void)
{
    store_lp_field x[] = {in("x", 1)};
    EXPECT_LINE("m x=1i -1\n", "m", NULL, 0, x, 1, -1);
    EXPECT_LINE("m x=1i 0\n", "m", NULL, 0, x, 1, 0);
    EXPECT_LINE("m x=1i -1556813561098000000\n", "m", NULL, 0, x, 1, -T_SPEC);
    /* InfluxDB's range is ±9223372036854775806 ns; the int64 values past it are refused */
    EXPECT_LINE("m x=1i -9223372036854775806\n", "m", NULL, 0, x, 1, INT64_MIN + 2);
    EXPECT_LINE("m x=1i 9223372036854775806\n", "m", NULL, 0, x, 1, INT64_MAX - 1);
    REFUSED(-EINVAL, "m", NULL, 0, x, 1, INT64_MIN, "timestamp -9223372036854775808", "range");
    REFUSED(-EINVAL, "m", NULL, 0, x, 1, INT64_MIN + 1, "timestamp", "range");
    REFUSED(-EINVAL, "m", NULL, 0, x, 1, INT64_MAX, "timestamp 9223372036854775807", "range");
}

/* Every cap short of the line: -ENOSPC, not one byte written anywhere, *len as it was; the exact
 * cap: the line. Lines appended one after another until full are exactly their concatenation. */
static void test_enospc_every_cap(void)
{
    store_lp_tag tags[] = {{"site", "plant 1"}, {"asset", "pump,7"}, {"empty", ""}};
    store_lp_field fields[] = {fl("rms_g", 0.123456789), fl("nan", NAN), in("seq", -42), un("n", 7),
                               bo("ok", true), st("note", "a \"quoted\" C:\\ path")};
    static const size_t len0s[] = {0, 1, 17};
    unsigned checked = 0;
    for (size_t a = 0; a < N(len0s); a++) {
        char full[512], buf[512], ref[512], err[128];
        size_t len0 = len0s[a], len = len0;
        memset(full, '#', sizeof full);
        T_CHECK(store_lp_line(full, sizeof full, &len, "vibration", tags, 3, fields, N(fields), T_SPEC, err,
                              sizeof err) == 0,
                "%s", err);
        size_t n = len - len0;
        for (size_t cap = 0; cap <= len0 + n; cap++) {
            for (size_t k = 0; k < sizeof buf; k++)
                buf[k] = (char)(k ^ 0x5A);
            memcpy(ref, buf, sizeof buf);
            size_t l = len0;
            int rc = store_lp_line(buf, cap, &l, "vibration", tags, 3, fields, N(fields), T_SPEC, err, sizeof err);
            if (cap < len0) {
                T_CHECK(rc == -EINVAL && l == len0 && memcmp(buf, ref, sizeof buf) == 0, "cap %zu < *len: rc %d", cap,
                        rc);
            } else if (cap < len0 + n) {
                T_CHECK(rc == -ENOSPC && l == len0 && memcmp(buf, ref, sizeof buf) == 0,
                        "cap %zu for %zu bytes after %zu: rc %d, len %zu, or bytes written", cap, n, len0, rc, l);
                checked++;
            } else {
                T_CHECK(rc == 0 && l == len0 + n && memcmp(buf + len0, full + len0, n) == 0 &&
                            memcmp(buf, ref, len0) == 0 && memcmp(buf + l, ref + l, sizeof buf - l) == 0,
                        "the exact cap %zu: rc %d", cap, rc);
            }
        }
    }
    /* appending until full */
    char buf[1000], one_line[200];
    size_t len = 0, n1 = 0, lines = 0;
    store_lp_field f[] = {fl("v", 0.5)};
    T_CHECK(store_lp_line(one_line, sizeof one_line, &n1, "m", NULL, 0, f, 1, 1, NULL, 0) == 0, "one line");
    int rc;
    while ((rc = store_lp_line(buf, sizeof buf, &len, "m", NULL, 0, f, 1, 1, NULL, 0)) == 0)
        lines++;
    T_CHECK(rc == -ENOSPC && lines == sizeof buf / n1 && len == lines * n1, "%zu lines of %zu in %zu bytes, rc %d",
            lines, n1, sizeof buf, rc);
    for (size_t k = 0; k < lines; k++)
        T_CHECK(memcmp(buf + k * n1, one_line, n1) == 0, "line %zu differs", k);
    printf("# -ENOSPC: %u caps short of a line, none wrote a byte\n", checked);
}

static void test_err_buffer(void)
{
    store_lp_field x[] = {fl("x", 1)};
    char buf[64], err[32];
    size_t len = 0;
    /* success empties err; NULL err is fine */
    strcpy(err, "stale");
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "m", NULL, 0, x, 1, 0, err, sizeof err) == 0 && err[0] == 0,
            "err after success: \"%s\"", err);
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "", NULL, 0, x, 1, 0, NULL, 0) == -EINVAL, "err NULL");
    /* a short err is cut and terminated, never overrun */
    memset(err, 'Z', sizeof err);
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "", NULL, 0, x, 1, 0, err, 10) == -EINVAL, "errlen 10");
    T_CHECK(strlen(err) == 9 && err[10] == 'Z', "errlen 10: \"%.10s\"", err);
    memset(err, 'Z', sizeof err);
    T_CHECK(store_lp_line(buf, sizeof buf, &len, "", NULL, 0, x, 1, 0, err, 1) == -EINVAL && err[0] == 0 &&
                err[1] == 'Z',
            "errlen 1");
}

/* ---- the truth test: random nasty points read back exactly, or are refused exactly when the
 * spec says they cannot be carried ----------------------------------------------------------------- */

/* Pieces of names and values: safe ones (the protocol's special characters among them), risky ones (a
 * backslash, which may end up last or before a special character) and nasty ones (what no name or
 * value may hold, or no name). */
static const char *const safe[] = {",", " ", "=", "\"", "a", "Z", "0", "#", "_", "é", "€", "😀", "⚡️", "x y",
                                   "'", "a=b", "\"\"", "\\a", "\\\\x", ",=", "\\\""};
static const char *const risky[] = {"\\", "\\\\"};
static const char *const nasty[] = {"\n", "\r", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\x80",
                                    "\xf4\x90\x80\x80", "\t", "\x01", "\x7f"};

/* A string of 0–8 pieces, risky and nasty ones rarely (control characters are nasty only in names),
 * written into out (of 64 bytes). */
static const char *rand_text(char *out, bool may_be_empty, bool is_name)
{
    size_t n = rand_below(9), o = 0;
    if (!may_be_empty && n == 0)
        n = 1;
    for (size_t k = 0; k < n; k++) {
        double r = t_urand();
        const char *p = r < 0.006 ? nasty[rand_below(is_name ? N(nasty) : N(nasty) - 3)]
                        : r < 0.02 ? risky[rand_below(N(risky))]
                        : !is_name && r < 0.03 ? nasty[N(nasty) - 3 + rand_below(3)]
                                               : safe[rand_below(N(safe))];
        size_t l = strlen(p);
        if (o + l >= 64)
            break;
        memcpy(out + o, p, l);
        o += l;
    }
    out[o] = 0;
    return out;
}

static double rand_double(void)
{
    double v;
    uint64_t bits;
    switch (rand_below(6)) {
    case 0:
        bits = rand64();
        memcpy(&v, &bits, sizeof v);
        return v;
    case 1:
        return NAN;
    case 2:
        return t_urand() < 0.5 ? INFINITY : -INFINITY;
    case 3:
        bits = rand64() & UINT64_C(0x800FFFFFFFFFFFFF);
        memcpy(&v, &bits, sizeof v);
        return v;
    case 4:
        return round(t_grand() * 1000.0);
    default:
        return t_grand() * 1e3;
    }
}

static void test_roundtrip_random(void)
{
    t_rng_seed(42);
    enum { CASES = 30000 };
    static char text[1 + 2 * LP_CASE_MAX_TAGS + 2 * LP_CASE_MAX_FIELDS][64];
    unsigned written = 0, invalid = 0, nodata = 0, failures = 0, all_caps = 0;
    for (int k = 0; k < CASES; k++) {
        lp_case c;
        memset(&c, 0, sizeof c);
        size_t s = 0;
        c.measurement = rand_text(text[s++], t_urand() < 0.02, true);
        c.ntags = t_urand() < 0.05 ? STORE_LP_MAX_TAGS - 2 + rand_below(5) : rand_below(6);
        for (size_t i = 0; i < c.ntags; i++) {
            c.tags[i].key = rand_text(text[s++], t_urand() < 0.02, true);
            c.tags[i].value = t_urand() < 0.02 ? NULL : rand_text(text[s++], true, true);
        }
        c.nfields = rand_below(7);
        for (size_t i = 0; i < c.nfields; i++) {
            store_lp_field *f = &c.fields[i];
            f->key = rand_text(text[s++], t_urand() < 0.02, true);
            f->type = (enum store_lp_type)rand_below(5);
            switch (f->type) {
            case STORE_LP_FLOAT:
                f->v.f = rand_double();
                break;
            case STORE_LP_INT:
                f->v.i = t_urand() < 0.1 ? (t_urand() < 0.5 ? INT64_MIN : INT64_MAX) : (int64_t)rand64();
                break;
            case STORE_LP_UINT:
                f->v.u = t_urand() < 0.1 ? UINT64_MAX : rand64();
                break;
            case STORE_LP_BOOL:
                f->v.b = t_urand() < 0.5;
                break;
            case STORE_LP_STRING:
                f->v.s = rand_text(text[s++], true, false);
                break;
            }
        }
        double tr = t_urand();
        c.t_ns = tr < 0.01 ? INT64_MIN + (int64_t)rand_below(3) : tr < 0.02 ? INT64_MAX - (int64_t)rand_below(2)
                                                                             : (int64_t)rand64();
        size_t len0 = rand_below(4);
        bool every_cap = k % 20 == 0;
        all_caps += every_cap;
        int rc = 0;
        char why[1024];
        if (lp_check_case(&c, len0, every_cap, &rc, why, sizeof why) != 0) {
            if (!failures++)
                T_CHECK(0, "case %d: %s", k, why);
        }
        written += rc == 0;
        invalid += rc == -EINVAL;
        nodata += rc == -ENODATA;
    }
    T_CHECK(failures == 0, "%u of %d random cases failed", failures, CASES);
    /* the generator must exercise both sides */
    T_CHECK(written > CASES / 4 && invalid > CASES / 10 && nodata > CASES / 100,
            "%u written, %u refused, %u without data: the generator is off", written, invalid, nodata);
    printf("# round trip: %d random points, %u written and read back, %u refused (-EINVAL), %u without data, "
           "%u tried at every cap\n",
           CASES, written, invalid, nodata, all_caps);
}

int main(void)
{
    T_RUN(test_spec_examples);
    T_RUN(test_reader_on_spec_lines);
    T_RUN(test_reader_is_strict);
    T_RUN(test_types);
    T_RUN(test_float_roundtrip);
    T_RUN(test_nonfinite_left_out);
    T_RUN(test_tags);
    T_RUN(test_refused_strings);
    T_RUN(test_refused_names);
    T_RUN(test_timestamps);
    T_RUN(test_enospc_every_cap);
    T_RUN(test_err_buffer);
    T_RUN(test_roundtrip_random);
    return t_done();
}
