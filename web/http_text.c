/* web/http_text.c — the text that crosses the HTTP boundary: strict percent-decoding of request
 * paths, and making request text safe to put back into a response (valid UTF-8, no control
 * characters, bounded length) inside a JSON error built by cJSON. Pure functions, no I/O. */
#include "web/http_internal.h"

#include "common/utf8.h"

#include <cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#define ERROR_MESSAGE_MAX 300 /* bytes of message text in an error document, "…" included */

int web_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int web_path_decode(const char *raw, size_t rawlen, char *out, size_t outcap)
{
    if (rawlen == 0 || raw[0] != '/')
        return -EINVAL;
    size_t n = 0;
    for (size_t i = 0; i < rawlen; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < rawlen ? web_hex_value((unsigned char)raw[i + 1]) : -1;
            int lo = i + 2 < rawlen ? web_hex_value((unsigned char)raw[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -EINVAL;
        if (n + 1 >= outcap)
            return -ENAMETOOLONG;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return (int)n;
}

/* Length of the valid, printable UTF-8 character at s[0..len), or 0 when it is not one: control
 * characters (C0, DEL, C1) are not printable. */
static size_t utf8_char_len(const unsigned char *s, size_t len)
{
    uint32_t cp;
    size_t n = vw_utf8_seq(s, len, &cp);
    if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return 0;
    return n;
}

size_t web_text_sanitize(char *dst, size_t dstcap, const char *src, size_t srclen)
{
    static const char replacement[] = "\xef\xbf\xbd", ellipsis[] = "\xe2\x80\xa6";
    if (dstcap == 0)
        return 0;
    const unsigned char *s = (const unsigned char *)src;
    size_t total = 0; /* the length of the whole sanitized text */
    for (size_t i = 0; i < srclen;) {
        size_t len = utf8_char_len(s + i, srclen - i);
        total += len ? len : 3;
        i += len ? len : 1;
    }
    /* when it does not all fit, keep room for the ellipsis */
    size_t limit = total < dstcap ? total : dstcap >= 4 ? dstcap - 4 : 0;
    size_t n = 0;
    for (size_t i = 0; i < srclen;) {
        size_t len = utf8_char_len(s + i, srclen - i);
        size_t piece_len = len ? len : 3;
        if (n + piece_len > limit)
            break;
        memcpy(dst + n, len ? src + i : replacement, piece_len);
        n += piece_len;
        i += len ? len : 1;
    }
    if (total >= dstcap && dstcap >= 4) {
        memcpy(dst + n, ellipsis, 3);
        n += 3;
    }
    dst[n] = 0;
    return n;
}

char *web_error_json(unsigned status, const char *message)
{
    char text[ERROR_MESSAGE_MAX + 1];
    web_text_sanitize(text, sizeof text, message ? message : "", message ? strlen(message) : 0);
    cJSON *root = cJSON_CreateObject(), *err = cJSON_CreateObject();
    char *out = NULL;
    if (!root || !err) {
        cJSON_Delete(err);
        goto done;
    }
    cJSON_AddItemToObject(root, "error", err);
    if (cJSON_AddNumberToObject(err, "status", status) && cJSON_AddStringToObject(err, "message", text))
        out = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    return out;
}
