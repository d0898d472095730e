/* Tests of common/utf8.h against truths derived apart from it: the byte sequences of RFC 3629's
 * table written out literally (every boundary code point, the overlong forms, the surrogates, the
 * values past U+10FFFF), every sequence cut at every byte, and glibc's own UTF-8 decoder (iconv to
 * UTF-32LE, which follows RFC 3629 too) as the judge of every 2- and 3-byte input and of every
 * lead byte F0..FF before all second bytes. Inputs live in buffers of exactly their size, so that
 * ASan sees any read past the bytes given (or past a string's NUL). */
#include "common/utf8.h"
#include "testlib.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------------------- */

typedef struct known {
    const char *what;
    const char *bytes; /* the sequence, written out from RFC 3629's table */
    size_t len;
    uint32_t cp;
} known;

#define K(what, bytes, cp) {what, bytes, sizeof bytes - 1, cp}

/* Every boundary of the table, and a character from the middle of each length. */
static const known valid[] = {
    K("U+0000", "\x00", 0x0000),
    K("U+0041", "A", 0x0041),
    K("U+007F", "\x7F", 0x007F),
    K("U+0080", "\xC2\x80", 0x0080),
    K("U+00E9", "\xC3\xA9", 0x00E9),
    K("U+07FF", "\xDF\xBF", 0x07FF),
    K("U+0800", "\xE0\xA0\x80", 0x0800),
    K("U+20AC", "\xE2\x82\xAC", 0x20AC),
    K("U+D7FF", "\xED\x9F\xBF", 0xD7FF),
    K("U+E000", "\xEE\x80\x80", 0xE000),
    K("U+FFFD", "\xEF\xBF\xBD", 0xFFFD),
    K("U+FFFF", "\xEF\xBF\xBF", 0xFFFF),
    K("U+10000", "\xF0\x90\x80\x80", 0x10000),
    K("U+1F600", "\xF0\x9F\x98\x80", 0x1F600),
    K("U+FFFFF", "\xF3\xBF\xBF\xBF", 0xFFFFF),
    K("U+100000", "\xF4\x80\x80\x80", 0x100000),
    K("U+10FFFF", "\xF4\x8F\xBF\xBF", 0x10FFFF),
};

static const known invalid[] = {
    K("overlong U+0000 (C0 80)", "\xC0\x80", 0),
    K("overlong U+007F (C1 BF)", "\xC1\xBF", 0),
    K("overlong U+0000 (E0 80 80)", "\xE0\x80\x80", 0),
    K("overlong U+07FF (E0 9F BF)", "\xE0\x9F\xBF", 0),
    K("overlong U+0000 (F0 80 80 80)", "\xF0\x80\x80\x80", 0),
    K("overlong U+FFFF (F0 8F BF BF)", "\xF0\x8F\xBF\xBF", 0),
    K("surrogate U+D800 (ED A0 80)", "\xED\xA0\x80", 0),
    K("surrogate U+DBFF (ED AF BF)", "\xED\xAF\xBF", 0),
    K("surrogate U+DC00 (ED B0 80)", "\xED\xB0\x80", 0),
    K("surrogate U+DFFF (ED BF BF)", "\xED\xBF\xBF", 0),
    K("U+110000 (F4 90 80 80)", "\xF4\x90\x80\x80", 0),
    K("U+13FFFF (F4 BF BF BF)", "\xF4\xBF\xBF\xBF", 0),
    K("lead F5", "\xF5\x80\x80\x80", 0),
    K("lead F7", "\xF7\xBF\xBF\xBF", 0),
    K("lead F8 (old 5-byte form)", "\xF8\x88\x80\x80\x80", 0),
    K("lead FC (old 6-byte form)", "\xFC\x84\x80\x80\x80\x80", 0),
    K("lead FE", "\xFE", 0),
    K("lead FF", "\xFF", 0),
    K("lone continuation 80", "\x80", 0),
    K("lone continuation BF", "\xBF", 0),
    K("2-byte lead then ASCII", "\xC3\x41", 0),
    K("2-byte lead then lead", "\xC3\xC3", 0),
    K("3-byte, third byte ASCII", "\xE2\x82\x41", 0),
    K("3-byte, third byte a lead", "\xE2\x82\xE2", 0),
    K("4-byte, fourth byte ASCII", "\xF0\x9F\x98\x41", 0),
    K("4-byte, third byte past BF", "\xF0\x9F\xC0\x80", 0),
};

#define COUNT(a) (sizeof a / sizeof a[0])

/* A copy of n bytes in a buffer of exactly n bytes (ASan sees a read past it); term adds a NUL. */
static unsigned char *exact(const void *bytes, size_t n, int term)
{
    size_t size = n + (size_t)term;
    unsigned char *b = malloc(size ? size : 1);
    if (!b)
        abort();
    if (n)
        memcpy(b, bytes, n);
    if (term)
        b[n] = 0;
    return b;
}

/* ---- the table ------------------------------------------------------------------------------- */

static void test_boundaries(void)
{
    for (size_t i = 0; i < COUNT(valid); i++) {
        const known *k = &valid[i];
        unsigned char *b = exact(k->bytes, k->len, 0);
        uint32_t cp = 0xDEADBEEF;
        size_t n = vw_utf8_seq(b, k->len, &cp);
        T_CHECK(n == k->len && cp == k->cp, "%s: length %zu, U+%04X; want %zu, U+%04X", k->what, n, (unsigned)cp,
                k->len, (unsigned)k->cp);
        T_CHECK(vw_utf8_seq(b, k->len, NULL) == k->len, "%s: cp NULL", k->what);
        T_CHECK(vw_utf8_valid_prefix(b, k->len) == k->len, "%s: valid prefix", k->what);
        free(b);

        /* followed by more bytes: still only the one sequence */
        unsigned char more[8];
        memcpy(more, k->bytes, k->len);
        memset(more + k->len, 0x80, sizeof more - k->len);
        T_CHECK(vw_utf8_seq(more, sizeof more, NULL) == k->len, "%s: followed by continuation bytes", k->what);

        if (k->cp != 0) { /* the string form (U+0000 is the terminator there) */
            b = exact(k->bytes, k->len, 1);
            cp = 0;
            n = vw_utf8_seq_str(b, &cp);
            T_CHECK(n == k->len && cp == k->cp, "%s: string form gives %zu, U+%04X", k->what, n, (unsigned)cp);
            free(b);
        }
    }
}

static void test_invalid(void)
{
    for (size_t i = 0; i < COUNT(invalid); i++) {
        const known *k = &invalid[i];
        unsigned char *b = exact(k->bytes, k->len, 0);
        uint32_t cp = 0xDEADBEEF;
        T_CHECK(vw_utf8_seq(b, k->len, &cp) == 0, "%s: accepted", k->what);
        T_CHECK(cp == 0xDEADBEEF, "%s: *cp changed on a refusal", k->what);
        T_CHECK(vw_utf8_valid_prefix(b, k->len) == 0, "%s: valid prefix %zu", k->what,
                vw_utf8_valid_prefix(b, k->len));
        free(b);
        b = exact(k->bytes, k->len, 1);
        T_CHECK(vw_utf8_seq_str(b, NULL) == 0, "%s: accepted as a string", k->what);
        free(b);
    }
    for (unsigned c = 0xF5; c <= 0xFF; c++) { /* every lead past F4, before every continuation */
        for (unsigned c1 = 0x80; c1 <= 0xBF; c1++) {
            unsigned char s[4] = {(unsigned char)c, (unsigned char)c1, 0x80, 0x80};
            T_CHECK(vw_utf8_seq(s, 4, NULL) == 0, "%02X %02X 80 80 accepted", c, c1);
        }
    }
}

/* Every sequence cut at every byte: refused, and nothing read past the cut. */
static void test_truncated(void)
{
    static const unsigned char ascii[] = "A";
    T_CHECK(vw_utf8_seq(ascii, 0, NULL) == 0, "a character found in 0 bytes");
    T_CHECK(vw_utf8_valid_prefix(ascii, 0) == 0, "a valid prefix in 0 bytes");
    unsigned cuts = 0;
    for (size_t i = 0; i < COUNT(valid); i++) {
        const known *k = &valid[i];
        for (size_t cut = 0; cut < k->len; cut++) {
            unsigned char *b = exact(k->bytes, cut, 0);
            uint32_t cp = 0xDEADBEEF;
            T_CHECK(vw_utf8_seq(b, cut, &cp) == 0 && cp == 0xDEADBEEF, "%s cut to %zu bytes: accepted", k->what,
                    cut);
            T_CHECK(vw_utf8_valid_prefix(b, cut) == 0, "%s cut to %zu bytes: valid prefix %zu", k->what, cut,
                    vw_utf8_valid_prefix(b, cut));
            free(b);

            /* the same with ASCII before it: the valid prefix ends at the cut sequence */
            unsigned char ab[8] = {'a', 'b'};
            memcpy(ab + 2, k->bytes, cut);
            b = exact(ab, 2 + cut, 0);
            T_CHECK(vw_utf8_valid_prefix(b, 2 + cut) == 2, "\"ab\" + %s cut to %zu: prefix %zu",
                    k->what, cut, vw_utf8_valid_prefix(b, 2 + cut));
            free(b);

            /* cut by a string's NUL: refused (1 for the NUL itself), and the NUL is the last byte read */
            b = exact(k->bytes, cut, 1);
            size_t want = cut == 0 ? 1 : 0;
            T_CHECK(vw_utf8_seq_str(b, NULL) == want, "%s cut by a NUL after %zu bytes: %zu, want %zu", k->what, cut,
                    vw_utf8_seq_str(b, NULL), want);
            free(b);
            cuts++;
        }
    }
    printf("# %u cuts of %zu sequences, all refused\n", cuts, COUNT(valid));
}

static void test_valid_prefix(void)
{
    static const struct {
        const char *s;
        size_t n, want;
    } cases[] = {
        {"", 0, 0},
        {"abc", 3, 3},
        {"a\0b", 3, 3}, /* NUL is a character */
        {"caf\xC3\xA9", 5, 5},
        {"caf\xC3", 4, 3},
        {"a\x80" "b", 3, 1},
        {"\xE2\x82\xAC\xF0\x9F\x98\x80!", 8, 8},
        {"\xE2\x82\xAC\xED\xA0\x80", 6, 3},
        {"ok\xC0\x80", 4, 2},
        {"\xF4\x8F\xBF\xBF\xF4\x90\x80\x80", 8, 4},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        unsigned char *b = exact(cases[i].s, cases[i].n, 0);
        size_t got = vw_utf8_valid_prefix(b, cases[i].n);
        T_CHECK(got == cases[i].want, "case %zu: %zu, want %zu", i, got, cases[i].want);
        free(b);
    }
}

/* ---- glibc's decoder as the judge -------------------------------------------------------------- */

typedef struct verdict {
    size_t ok;       /* bytes glibc converted before the first invalid or incomplete sequence */
    size_t n_cp;     /* code points it gave for them */
    uint32_t cp[4];
} verdict;

static verdict glibc(iconv_t cd, const unsigned char *s, size_t n)
{
    unsigned char out[4 * 4];
    char *in = (char *)s, *o = (char *)out;
    size_t inleft = n, outleft = sizeof out;
    if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1)
        iconv(cd, NULL, NULL, NULL, NULL);
    verdict v = {.ok = n - inleft, .n_cp = (sizeof out - outleft) / 4};
    for (size_t i = 0; i < v.n_cp; i++)
        v.cp[i] = (uint32_t)out[4 * i] | (uint32_t)out[4 * i + 1] << 8 | (uint32_t)out[4 * i + 2] << 16 |
                  (uint32_t)out[4 * i + 3] << 24;
    return v;
}

/* The input decoded here, one sequence after another, must end where glibc's does, with the same
 * code points; the string form must agree up to a NUL. 0 when all agree. */
static int disagrees(iconv_t cd, const unsigned char *s, size_t n)
{
    verdict v = glibc(cd, s, n);
    size_t i = 0, n_cp = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = vw_utf8_seq(s + i, n - i, &cp);
        if (k == 0)
            break;
        if (n_cp >= v.n_cp || v.cp[n_cp] != cp)
            return 1;
        n_cp++;
        i += k;
    }
    if (i != v.ok || n_cp != v.n_cp || vw_utf8_valid_prefix(s, n) != v.ok)
        return 1;
    size_t to_nul = strnlen((const char *)s, n);
    unsigned char z[8];
    memcpy(z, s, to_nul);
    z[to_nul] = 0;
    size_t want = to_nul == 0 ? 1 : vw_utf8_seq(s, to_nul, NULL);
    return vw_utf8_seq_str(z, NULL) != want;
}

typedef size_t make_input(unsigned long i, unsigned char s[4]); /* input number i in s, its length */

/* Every input make gives for i in [0, count) judged here and by glibc; the first disagreement named. */
static void judge(const char *what, unsigned long count, make_input *make)
{
    iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
    if (cd == (iconv_t)-1) {
        t_skip("iconv_open(\"UTF-32LE\", \"UTF-8\"): %s", strerror(errno));
        return;
    }
    unsigned long bad = 0;
    char first[3 * 4 + 1] = "";
    for (unsigned long i = 0; i < count; i++) {
        unsigned char s[4];
        size_t n = make(i, s);
        if (disagrees(cd, s, n) && !bad++)
            for (size_t k = 0; k < n; k++)
                snprintf(first + 3 * k, sizeof first - 3 * k, "%02X ", s[k]);
    }
    iconv_close(cd);
    T_CHECK(bad == 0, "%s: %lu of %lu inputs judged otherwise than glibc, the first %s", what, bad, count, first);
    printf("# %s: %lu inputs, %lu judged otherwise than glibc's iconv\n", what, count, bad);
}

static size_t one_or_two_bytes(unsigned long i, unsigned char s[4])
{
    if (i < 256) {
        s[0] = (unsigned char)i;
        return 1;
    }
    i -= 256;
    s[0] = (unsigned char)(i >> 8), s[1] = (unsigned char)i;
    return 2;
}

static size_t three_bytes(unsigned long i, unsigned char s[4])
{
    s[0] = (unsigned char)(i >> 16), s[1] = (unsigned char)(i >> 8), s[2] = (unsigned char)i;
    return 3;
}

/* The 4-byte forms: every lead F0..FF before every second byte, the last two from the bytes where
 * the rules change. */
static const unsigned char edge[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                     0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF4, 0xFF};
#define N_EDGE (sizeof edge)

static size_t four_byte_leads(unsigned long i, unsigned char s[4])
{
    s[3] = edge[i % N_EDGE], i /= N_EDGE;
    s[2] = edge[i % N_EDGE], i /= N_EDGE;
    s[1] = (unsigned char)(i % 256), s[0] = (unsigned char)(0xF0 + i / 256);
    return 4;
}

static void test_iconv_two_bytes(void) { judge("every 1- and 2-byte input", 256 + 65536, one_or_two_bytes); }
static void test_iconv_three_bytes(void) { judge("every 3-byte input", 1ul << 24, three_bytes); }
static void test_iconv_four_byte_leads(void)
{
    judge("4-byte inputs led by F0..FF", 16 * 256 * N_EDGE * N_EDGE, four_byte_leads);
}

int main(void)
{
    T_RUN(test_boundaries);
    T_RUN(test_invalid);
    T_RUN(test_truncated);
    T_RUN(test_valid_prefix);
    T_RUN(test_iconv_two_bytes);
    T_RUN(test_iconv_three_bytes);
    T_RUN(test_iconv_four_byte_leads);
    return t_done();
}
