/* alerts/template.h — the webhook templates: text with {{name}} placeholders, each replaced by the
 * value of that name, escaped for where the text goes (a JSON string, a form body, a URL, a header).
 * Pure functions: no I/O, no allocation; output into caller buffers. Fuzzed by
 * tests/fuzz/fuzz_template.c.
 *
 * Syntax: "{{" optional spaces, a name of [A-Za-z0-9_.]{1,63}, optional spaces, "}}". Everything else
 * is copied byte for byte. "{{{{" writes a literal "{{" (and "}}" outside a placeholder is just text).
 * A "{{" without its "}}", an empty or malformed name, or a name that is not among the variables
 * is refused (-EINVAL) with an error naming the byte offset and the name.
 *
 * Escapes (the value only; the template's own text is never changed):
 *   ALERTS_ESC_NONE    as is
 *   ALERTS_ESC_JSON    the content of a JSON string (the template writes the quotes around it):
 *                      " \ and control characters escaped (\n, \t, \u00XX); UTF-8 kept as is
 *   ALERTS_ESC_FORM    application/x-www-form-urlencoded: [A-Za-z0-9*._-] kept, space as '+',
 *                      every other byte %XX
 *   ALERTS_ESC_URL     a URL component: [A-Za-z0-9._~-] kept, every other byte %XX
 *   ALERTS_ESC_HEADER  a header value: CR, LF and other control characters become a space (no header
 *                      injection), the rest as is
 * Invalid UTF-8 in a value is replaced by U+FFFD (EF BF BD) before escaping, in every mode: one for
 * each byte that does not start a valid sequence (RFC 3629: no overlongs, surrogates, > U+10FFFF). */
#ifndef VW_ALERTS_TEMPLATE_H
#define VW_ALERTS_TEMPLATE_H

#include <stddef.h>

#define ALERTS_TEMPLATE_MAX_NAME 63

enum alerts_escape { ALERTS_ESC_NONE = 0, ALERTS_ESC_JSON, ALERTS_ESC_FORM, ALERTS_ESC_URL, ALERTS_ESC_HEADER };

typedef struct alerts_var {
    const char *name;  /* [A-Za-z0-9_.]{1,63} */
    const char *value; /* UTF-8 text; NULL renders as "" */
} alerts_var;

/* Renders tmpl (tlen bytes, may contain NUL bytes only as text) into out, NUL-terminated. Returns
 * the length written (without the NUL); -EINVAL for a malformed template or an unknown name (err
 * says which and where); -ENOSPC when outlen is too short. On any error out is "" (when outlen > 0).
 * err may be NULL. */
long alerts_template_render(const char *tmpl, size_t tlen, const alerts_var *vars, size_t nvars,
                            enum alerts_escape esc, char *out, size_t outlen, char *err, size_t errlen);

/* For config validation: 0 when every placeholder of tmpl is well formed and one of names[]; else
 * -EINVAL with err naming the first problem ("byte 12: unknown placeholder {{rull}}"). */
int alerts_template_check(const char *tmpl, size_t tlen, const char *const *names, size_t nnames, char *err,
                          size_t errlen);

/* Cuts UTF-8 text s in place to at most max_chars characters (code points), never inside a
 * character; when it had to cut, the last kept character is replaced by "…" (U+2026) so that the
 * result still has at most max_chars characters. The result is never longer in bytes than s was
 * (it is cut in place), so the 3-byte "…" replaces as many characters as it needs ("abc" to 2 is
 * "…"); when s is shorter than "…" it is cut without one. Invalid UTF-8 bytes count as one
 * character each. Returns the new length in bytes. (The SMS {{text}} is cut to 160.) */
size_t alerts_utf8_truncate(char *s, size_t max_chars);

/* Escapes a value alone (the same rules as above) into out, NUL-terminated; the length, or -ENOSPC
 * (out "" then). */
long alerts_escape_value(const char *value, enum alerts_escape esc, char *out, size_t outlen);

#endif
