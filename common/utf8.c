/* common/utf8.c — the strict UTF-8 decoder of common/utf8.h.
 *
 * One decoder, written from RFC 3629's table of well-formed byte sequences (section 4) rather than
 * by decoding first and range-checking the code point afterwards: the lead byte fixes the length
 * and the allowed range of the second byte (narrower after E0, ED, F0 and F4), every later byte is
 * 80..BF. Checking the bytes in order is what lets the decoder stop at the first one that ends the
 * sequence, so a NUL-terminated string can be decoded without knowing its length. */
#include "common/utf8.h"

/* The decoder behind all three functions. n bounds what may be read; for a NUL-terminated string
 * VW_UTF8_SEQ_MAX is enough, since the NUL fails the continuation test before anything past it is
 * looked at. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0], lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        len = 1, v = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
        len = 2, v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, v = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, v = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong), F5..FF */
    }
    for (size_t k = 1; k < len; k++) {
        if (k >= n || s[k] < lo || s[k] > hi)
            return 0;
        v = v << 6 | (s[k] & 0x3Fu);
        lo = 0x80, hi = 0xBF;
    }
    if (cp)
        *cp = v;
    return len;
}

size_t vw_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    return decode(s, n, cp);
}

size_t vw_utf8_seq_str(const unsigned char *s, uint32_t *cp)
{
    return decode(s, VW_UTF8_SEQ_MAX, cp);
}

size_t vw_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : decode(s + i, n - i, NULL);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}
