/* common/utf8.h — the one strict UTF-8 decoder every module uses (RFC 3629).
 *
 * common/ is the lowest layer: it includes nothing of vibewatch's and any module may include it.
 * Pure functions: no allocation, no state, no locale; any thread may call them.
 *
 * Well-formed means RFC 3629 section 4 exactly: no overlong forms (C0, C1, E0 80..9F, F0 80..8F),
 * no UTF-16 surrogates (ED A0..BF), nothing above U+10FFFF (F4 90..BF, F5..FF), no stray
 * continuation bytes, no sequence cut short. U+0000 is a character like any other here (one byte);
 * what a NUL means is the caller's business. Bytes are read one at a time, the next only after the
 * one before was a lead or a continuation byte, so neither function reads past the first byte that
 * ends the sequence — nor past a string's terminating NUL, which is never a continuation byte. */
#ifndef VW_COMMON_UTF8_H
#define VW_COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define VW_UTF8_SEQ_MAX 4 /* bytes of the longest sequence */

/* The length (1–4) of the well-formed sequence at s[0..n), or 0 when s does not start one: an
 * invalid lead byte, an overlong form, a surrogate, a code point past U+10FFFF, or a sequence that
 * n cuts short (n == 0 included). When the result is not 0 and cp is not NULL, *cp is the code
 * point; otherwise *cp is left alone. */
size_t vw_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* vw_utf8_seq on a NUL-terminated string: a sequence the terminator cuts short is invalid (0), and
 * nothing past the terminator is read. s[0] == 0 gives 1 (U+0000): the caller stops at its NUL. */
size_t vw_utf8_seq_str(const unsigned char *s, uint32_t *cp);

/* The offset of the first byte of s[0..n) that does not start a well-formed sequence (or begins
 * one n cuts short), or n when all of it is well-formed UTF-8. NUL bytes are well-formed. */
size_t vw_utf8_valid_prefix(const unsigned char *s, size_t n);

#endif
