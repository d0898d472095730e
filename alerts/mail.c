/* alerts/mail.c — an alert e-mail as bytes (see mail.h). Pure: no allocation, no I/O, no locale, no
 * global state; safe from any thread.
 *
 * Two phases: every input is validated first (so a refusal never depends on the buffer size and
 * nothing is written for a bad message), then the message is written through a small bounded
 * writer (wbuf) that tracks the column, so that folding decisions are made on what is really on
 * the line. The same writer with no buffer only counts: an ASCII header text is tried that way
 * first and encoded as RFC 2047 words instead when folding at its spaces cannot keep every line
 * within 78 characters (a word too long for a line, or one that looks like an encoded word).
 *
 * Folding happens only before a space that a non-space follows, so unfolding (removing the CRLF)
 * gives the text back and no continuation line is only white space. Lines that carry an encoded
 * word are kept within 76 characters (RFC 2047 section 2); an encoded word holds at most 45 bytes
 * of whole UTF-8 characters (60 base64 characters: 72 with "=?UTF-8?B?" and "?="). */
#include "alerts/mail.h"

#include "common/utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINE_SOFT 78        /* RFC 5322 2.1.1: a line SHOULD hold at most 78 characters */
#define LINE_EW 76          /* RFC 2047 2: a line with an encoded word holds at most 76 */
#define EW_OVERHEAD 12      /* "=?UTF-8?B?" and "?=" */
#define EW_B64_MAX 60       /* base64 characters in one encoded word: 12 + 60 <= 75 */
#define B64_LINE 76         /* RFC 2045 6.8 */
#define LOCAL_MAX 64        /* RFC 5321 4.5.3.1.1 */
#define ADDR_MAX 254        /* RFC 5321 4.5.3.1.3 (a path of 256 with its angle brackets) */
#define MSGID_MAX 900       /* so that "In-Reply-To: <…>" stays within the 998 of RFC 5322 2.1.1 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* ---- errors ----------------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* ---- the bounded writer ----------------------------------------------------------------------- */

typedef struct wbuf {
    char *out;       /* NULL: only count */
    size_t cap;      /* bytes that may be written (the NUL not included) */
    size_t len;
    size_t col;      /* characters on the current line (CR not counted) */
    int ew_on_line;  /* the current line holds an encoded word: its limit is LINE_EW */
    int over;        /* some line went past its limit (LINE_SOFT or LINE_EW) */
    int full;        /* out was too short: everything after is dropped */
} wbuf;

static size_t line_limit(const wbuf *w) { return w->ew_on_line ? LINE_EW : LINE_SOFT; }

static void w_put(wbuf *w, const char *s, size_t n)
{
    if (w->full)
        return;
    if (n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    if (w->out)
        memcpy(w->out + w->len, s, n);
    w->len += n;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            w->col = 0;
            w->ew_on_line = 0;
        } else if (s[i] != '\r' && ++w->col > line_limit(w)) {
            w->over = 1;
        }
    }
}

static void w_str(wbuf *w, const char *s) { w_put(w, s, strlen(s)); }

/* A count-only writer that starts where w is. */
static wbuf w_dry(const wbuf *w)
{
    wbuf d = {.out = NULL, .cap = SIZE_MAX, .col = w->col, .ew_on_line = w->ew_on_line};
    return d;
}

/* ---- base64 ----------------------------------------------------------------------------------- */

/* Bytes for the encoder; with canon set, line ends (LF, CR LF or a lone CR) come out as CR LF, the
 * canonical form of text that RFC 2045 6.8 asks for before base64. */
typedef struct bsrc {
    const unsigned char *p;
    size_t n, i;
    int canon, lf_due;
} bsrc;

static int src_next(bsrc *s)
{
    if (s->lf_due) {
        s->lf_due = 0;
        return '\n';
    }
    if (s->i >= s->n)
        return -1;
    unsigned char c = s->p[s->i++];
    if (s->canon && (c == '\n' || c == '\r')) {
        if (c == '\r' && s->i < s->n && s->p[s->i] == '\n')
            s->i++;
        s->lf_due = 1;
        return '\r';
    }
    return c;
}

static void w_base64(wbuf *w, bsrc *s, int wrap)
{
    size_t linecol = 0;
    for (;;) {
        int c[3] = {0, 0, 0}, k = 0;
        while (k < 3) {
            int b = src_next(s);
            if (b < 0)
                break;
            c[k++] = b;
        }
        if (k == 0)
            break;
        unsigned v = (unsigned)c[0] << 16 | (unsigned)c[1] << 8 | (unsigned)c[2];
        char q[4] = {B64[v >> 18 & 63], B64[v >> 12 & 63], k > 1 ? B64[v >> 6 & 63] : '=', k > 2 ? B64[v & 63] : '='};
        w_put(w, q, 4);
        linecol += 4;
        if (wrap && linecol == B64_LINE) {
            w_put(w, "\r\n", 2);
            linecol = 0;
        }
        if (k < 3)
            break;
    }
    if (wrap && linecol)
        w_put(w, "\r\n", 2);
}

/* The exact length of the base64 of n bytes; SIZE_MAX when it does not fit a size_t. */
static size_t b64_len(size_t n, int wrap)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > SIZE_MAX / 4)
        return SIZE_MAX;
    size_t chars = 4 * groups;
    if (!wrap)
        return chars;
    size_t lines = chars / B64_LINE + (chars % B64_LINE != 0);
    if (lines > (SIZE_MAX - chars) / 2)
        return SIZE_MAX;
    return chars + 2 * lines;
}

long alerts_base64(const unsigned char *in, size_t n, int wrap, char *out, size_t outlen)
{
    size_t need = b64_len(n, wrap);
    if (need >= outlen || need > LONG_MAX || (n && !in)) {
        if (outlen)
            out[0] = 0;
        return -ENOSPC;
    }
    wbuf w = {.out = out, .cap = outlen - 1};
    bsrc s = {.p = in, .n = n};
    w_base64(&w, &s, wrap);
    out[w.len] = 0;
    return (long)w.len;
}

/* ---- characters ------------------------------------------------------------------------------- */

static int is_control(unsigned long cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

/* Header text: 0 when s (n bytes) is UTF-8 without control characters (C0, DEL, C1); else
 * -EINVAL with err saying which byte of field is wrong. *ascii: all of it is ASCII. */
static int check_header_text(const char *field, const char *what, const char *s, size_t n, int *ascii, char *err,
                             size_t errlen)
{
    const unsigned char *u = (const unsigned char *)s;
    int all_ascii = 1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vw_utf8_seq(u + i, n - i, &cp);
        if (!k)
            return fail(err, errlen, "%s: invalid UTF-8 at byte %zu%s", field, i, what);
        if (is_control(cp))
            return fail(err, errlen,
                        "%s: control character U+%04lX at byte %zu%s (no CR, LF or other control characters "
                        "in a header)",
                        field, (unsigned long)cp, i, what);
        all_ascii &= k == 1;
        i += k;
    }
    if (ascii)
        *ascii = all_ascii;
    return 0;
}

/* How many bytes of whole characters from the start of s (n bytes, valid UTF-8) fit in max. */
static size_t utf8_prefix(const unsigned char *s, size_t n, size_t max)
{
    size_t i = 0;
    while (i < n) {
        size_t k = vw_utf8_seq(s + i, n - i, NULL);
        if (!k)
            k = 1; /* not reached (the text was checked), but always progress */
        if (i + k > max)
            break;
        i += k;
    }
    return i;
}

/* RFC 5322 3.2.3 atext (the same set as RFC 5321's). */
static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* 1*atext *("." 1*atext) */
static int is_dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

static int has_ew_marker(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '=' && s[i + 1] == '?')
            return 1;
    return 0;
}

/* ---- addresses -------------------------------------------------------------------------------- */

typedef struct mbox {
    const char *name, *addr; /* the display name (may be empty), the addr-spec */
    size_t nname, naddr;
} mbox;

/* What is wrong with the addr-spec s (n bytes), or NULL. */
static const char *addr_problem(const char *s, size_t n)
{
    const char *at = n ? memchr(s, '@', n) : NULL;
    if (!at || memchr(at + 1, '@', n - (size_t)(at + 1 - s)))
        return "an address needs exactly one '@'";
    size_t nlocal = (size_t)(at - s);
    if (nlocal > LOCAL_MAX)
        return "the local part is longer than 64 characters";
    if (n > ADDR_MAX)
        return "the address is longer than 254 characters";
    if (!is_dot_atom(s, nlocal))
        return "the local part is not dot-atom text (RFC 5321 atext and single inner dots)";
    if (!is_dot_atom(at + 1, n - nlocal - 1))
        return "the domain is not dot-atom text (RFC 5321 atext and single inner dots)";
    return NULL;
}

/* "addr@host" or "Display Name <addr@host>" into mb (pointers into s). */
static int parse_mailbox(const char *field, const char *s, mbox *mb, char *err, size_t errlen)
{
    if (!s)
        return fail(err, errlen, "%s: missing", field);
    size_t n = strlen(s);
    int rc = check_header_text(field, "", s, n, NULL, err, errlen);
    if (rc)
        return rc;
    size_t a = 0, b = n;
    while (a < b && s[a] == ' ')
        a++;
    while (b > a && s[b - 1] == ' ')
        b--;
    mb->name = s + a;
    mb->nname = 0;
    mb->addr = s + a;
    mb->naddr = b - a;
    if (b > a && s[b - 1] == '>') {
        size_t lt = b - 1;
        while (lt > a && s[lt - 1] != '<')
            lt--;
        if (lt == a)
            return fail(err, errlen, "%s: '>' without its '<'", field);
        mb->addr = s + lt;
        mb->naddr = b - 1 - lt;
        size_t e = lt - 1;
        while (e > a && s[e - 1] == ' ')
            e--;
        mb->nname = e - a;
        /* "Doe, John" <j@x>: the quotes of a plain quoted-string (no '"' or '\' inside) are taken
         * as quoting, not as part of the name; anything else is the name as written. */
        if (mb->nname >= 2 && mb->name[0] == '"' && mb->name[mb->nname - 1] == '"' &&
            !memchr(mb->name + 1, '"', mb->nname - 2) && !memchr(mb->name + 1, '\\', mb->nname - 2)) {
            mb->name++;
            mb->nname -= 2;
        }
    }
    if (mb->naddr == 0)
        return fail(err, errlen, "%s: no address", field);
    const char *why = addr_problem(mb->addr, mb->naddr);
    if (why)
        return fail(err, errlen, "%s: %s", field, why);
    return 0;
}

int alerts_mail_address(const char *mailbox, char *out, size_t outlen)
{
    mbox mb;
    int rc = parse_mailbox("mailbox", mailbox, &mb, NULL, 0);
    if (rc) {
        if (outlen)
            out[0] = 0;
        return rc;
    }
    if (mb.naddr >= outlen) {
        if (outlen)
            out[0] = 0;
        return -ENOSPC;
    }
    memcpy(out, mb.addr, mb.naddr);
    out[mb.naddr] = 0;
    return 0;
}

static int check_msgid(const char *field, const char *s, char *err, size_t errlen)
{
    if (!s)
        return fail(err, errlen, "%s: missing", field);
    size_t n = strlen(s);
    int rc = check_header_text(field, "", s, n, NULL, err, errlen);
    if (rc)
        return rc;
    if (n > MSGID_MAX)
        return fail(err, errlen, "%s: longer than %d characters", field, MSGID_MAX);
    const char *at = memchr(s, '@', n);
    if (!at || !is_dot_atom(s, (size_t)(at - s)) || !is_dot_atom(at + 1, n - (size_t)(at - s) - 1))
        return fail(err, errlen, "%s: not left@right in dot-atom text (without the angle brackets)", field);
    return 0;
}

/* ---- header text ------------------------------------------------------------------------------ */

enum tmode { M_PLAIN, M_QUOTED, M_ENCODED };

/* ASCII folded at its spaces (before a space that a non-space follows). quoted: as a quoted-string,
 * '"' and '\' escaped. lead: a space comes first, where the line may fold too. */
static void put_folded(wbuf *w, const char *s, size_t n, int quoted, int lead)
{
    size_t a = 0;
    do {
        size_t b = a + 1;
        while (b < n && !(s[b] == ' ' && b + 1 < n && s[b + 1] != ' '))
            b++;
        if (b > n)
            b = n;
        int first = a == 0, last = b == n, space = first ? lead : 1;
        size_t width = (size_t)(first && lead) + (size_t)(quoted && first) + (size_t)(quoted && last);
        for (size_t i = a; i < b; i++)
            width += 1 + (size_t)(quoted && (s[i] == '"' || s[i] == '\\'));
        if (space && w->col + width > line_limit(w))
            w_put(w, "\r\n", 2);
        if (first && lead)
            w_put(w, " ", 1);
        if (first && quoted)
            w_put(w, "\"", 1);
        for (size_t i = a; i < b; i++) {
            if (quoted && (s[i] == '"' || s[i] == '\\'))
                w_put(w, "\\", 1);
            w_put(w, s + i, 1);
        }
        if (last && quoted)
            w_put(w, "\"", 1);
        a = b;
    } while (a < n);
}

/* UTF-8 text as encoded words, each on the current line when it has room, else on a new one; the
 * rest of the text goes to a new line rather than be split when one word there holds it all (fewer
 * adjacent encoded words: some readers, CPython's address parser before gh-128110 among them, show
 * the folding white space between two of them in a display name, which RFC 2047 6.2 says to drop).
 * lead: a space comes first (where the line may fold). Without it, a first word that finds no room
 * makes the line fold before it all the same (only when the caller's line is already full). */
static void put_encoded(wbuf *w, const unsigned char *s, size_t n, int lead)
{
    int space = lead;
    for (size_t i = 0; i < n;) {
        size_t col = w->col + (size_t)space, room = 0;
        if (col + EW_OVERHEAD < LINE_EW)
            room = LINE_EW - col - EW_OVERHEAD;
        if (room > EW_B64_MAX)
            room = EW_B64_MAX;
        size_t take = utf8_prefix(s + i, n - i, room / 4 * 3);
        if (take == 0 || (space && take < n - i && n - i <= EW_B64_MAX / 4 * 3)) {
            w_put(w, "\r\n", 2);
            space = 1;
            take = utf8_prefix(s + i, n - i, EW_B64_MAX / 4 * 3);
        }
        if (space)
            w_put(w, " ", 1);
        w_str(w, "=?UTF-8?B?");
        bsrc src = {.p = s + i, .n = take};
        w_base64(w, &src, 0);
        w_str(w, "?=");
        w->ew_on_line = 1;
        i += take;
        space = 1;
    }
}

/* Text in the form mode asks for, or as encoded words when that form cannot keep its lines short. */
static void put_text(wbuf *w, const char *s, size_t n, enum tmode mode, int lead)
{
    if (n == 0)
        return;
    if (mode != M_ENCODED) {
        wbuf dry = w_dry(w);
        put_folded(&dry, s, n, mode == M_QUOTED, lead);
        if (!dry.over) {
            put_folded(w, s, n, mode == M_QUOTED, lead);
            return;
        }
    }
    put_encoded(w, (const unsigned char *)s, n, lead);
}

/* An unstructured text (validated): kept as is when printable ASCII that a reader gets back as it
 * is: not mistaken for an encoded word, no leading space (readers drop it after the colon). */
static enum tmode unstructured_mode(const char *s, size_t n, int ascii)
{
    return ascii && (n == 0 || s[0] != ' ') && !has_ew_marker(s, n) ? M_PLAIN : M_ENCODED;
}

/* A display name (validated): atoms, a quoted-string (RFC 5322 3.2.4) or encoded words. */
static enum tmode phrase_mode(const char *s, size_t n)
{
    int atoms = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            return M_ENCODED;
        if (c == ' ' ? i == 0 || i + 1 == n || s[i - 1] == ' ' : !is_atext(c))
            atoms = 0;
    }
    if (has_ew_marker(s, n))
        return M_ENCODED;
    return atoms ? M_PLAIN : M_QUOTED;
}

long alerts_mail_header_text(const char *text, size_t used, char *out, size_t outlen)
{
    if (outlen)
        out[0] = 0;
    if (!text)
        return -EINVAL;
    size_t n = strlen(text);
    int ascii;
    int rc = check_header_text("text", "", text, n, &ascii, NULL, 0);
    if (rc)
        return rc;
    if (!outlen)
        return -ENOSPC;
    wbuf w = {.out = out, .cap = outlen - 1, .col = used};
    put_text(&w, text, n, unstructured_mode(text, n, ascii), 0);
    if (w.full || w.len > LONG_MAX) {
        out[0] = 0;
        return -ENOSPC;
    }
    out[w.len] = 0;
    return (long)w.len;
}

/* An unbreakable piece: open, s (n bytes), close; after a space where the line may fold when lead. */
static void put_piece(wbuf *w, int lead, const char *open, const char *s, size_t n, const char *close)
{
    size_t width = (size_t)lead + strlen(open) + n + strlen(close);
    if (lead && w->col + width > line_limit(w))
        w_put(w, "\r\n", 2);
    if (lead)
        w_put(w, " ", 1);
    w_str(w, open);
    w_put(w, s, n);
    w_str(w, close);
}

static void put_mailbox(wbuf *w, const mbox *mb, int lead, int comma)
{
    if (mb->nname) {
        put_text(w, mb->name, mb->nname, phrase_mode(mb->name, mb->nname), lead);
        put_piece(w, 1, "<", mb->addr, mb->naddr, comma ? ">," : ">");
    } else {
        put_piece(w, lead, "", mb->addr, mb->naddr, comma ? "," : "");
    }
}

/* ---- the message ------------------------------------------------------------------------------ */

typedef struct checked {
    mbox from, to[ALERTS_MAIL_MAX_RCPT];
    size_t nsubject, nalert;
    enum tmode subject_mode, alert_mode;
    struct tm date;
    char boundary[32];
} checked;

static int check_mail(const alerts_mail *m, checked *c, char *err, size_t errlen)
{
    if (!m)
        return fail(err, errlen, "mail: NULL");
    int rc = parse_mailbox("from", m->from, &c->from, err, errlen);
    if (rc)
        return rc;
    if (m->nto == 0 || !m->to)
        return fail(err, errlen, "to: no recipients");
    if (m->nto > ALERTS_MAIL_MAX_RCPT)
        return fail(err, errlen, "to: %zu recipients, at most %d", m->nto, ALERTS_MAIL_MAX_RCPT);
    for (size_t k = 0; k < m->nto; k++) {
        char field[32];
        snprintf(field, sizeof field, "to[%zu]", k);
        if ((rc = parse_mailbox(field, m->to[k], &c->to[k], err, errlen)))
            return rc;
    }
    if (!m->subject)
        return fail(err, errlen, "subject: missing");
    c->nsubject = strlen(m->subject);
    int ascii;
    if ((rc = check_header_text("subject", "", m->subject, c->nsubject, &ascii, err, errlen)))
        return rc;
    c->subject_mode = unstructured_mode(m->subject, c->nsubject, ascii);
    if ((rc = check_msgid("message_id", m->message_id, err, errlen)))
        return rc;
    if (m->in_reply_to && (rc = check_msgid("in_reply_to", m->in_reply_to, err, errlen)))
        return rc;
    c->nalert = m->alert_id ? strlen(m->alert_id) : 0;
    if ((rc = check_header_text("alert_id", "", m->alert_id ? m->alert_id : "", c->nalert, &ascii, err, errlen)))
        return rc;
    if (!ascii)
        return fail(err, errlen, "alert_id: not ASCII");
    c->alert_mode = unstructured_mode(m->alert_id ? m->alert_id : "", c->nalert, ascii);
    time_t t = (time_t)m->date_s;
    if ((int64_t)t != m->date_s || !gmtime_r(&t, &c->date) || c->date.tm_year < 0 || c->date.tm_year > 9999 - 1900)
        return fail(err, errlen, "date_s: %lld is out of range (years 1900 to 9999)", (long long)m->date_s);
    if (!m->text)
        return fail(err, errlen, "text: missing");
    /* The boundary: stable (a hash of the Message-ID), and "=_" is a pair base64 never writes. */
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)m->message_id; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    snprintf(c->boundary, sizeof c->boundary, "=_vw_%016llx", (unsigned long long)h);
    return 0;
}

static void put_date(wbuf *w, const struct tm *tm)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char s[64];
    int k = snprintf(s, sizeof s, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm->tm_wday % 7],
                     tm->tm_mday, months[tm->tm_mon % 12], tm->tm_year + 1900, tm->tm_hour, tm->tm_min, tm->tm_sec);
    w_put(w, s, (size_t)k);
}

static void put_msgid(wbuf *w, const char *name, const char *id)
{
    w_str(w, name);
    w_str(w, ": <");
    w_str(w, id);
    w_str(w, ">\r\n");
}

/* A part's Content-Type and Content-Transfer-Encoding, a blank line, its base64 body. in_multipart:
 * a delimiter follows, and an empty body still gets its line before it (the delimiter's CRLF is
 * its own). */
static void put_part_body(wbuf *w, const char *type, const char *s, int in_multipart)
{
    w_str(w, "Content-Type: ");
    w_str(w, type);
    w_str(w, "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    bsrc src = {.p = (const unsigned char *)s, .n = strlen(s), .canon = 1};
    size_t before = w->len;
    w_base64(w, &src, 1);
    if (in_multipart && w->len == before)
        w_put(w, "\r\n", 2);
}

static int occurs(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

long alerts_mail_format(const alerts_mail *m, char *out, size_t outlen, char *err, size_t errlen)
{
    checked c;
    if (err && errlen)
        err[0] = 0;
    if (outlen)
        out[0] = 0;
    int rc = check_mail(m, &c, err, errlen);
    if (rc)
        return rc;
    if (!outlen)
        goto nospc;
    wbuf w = {.out = out, .cap = outlen - 1};

    put_date(&w, &c.date);
    w_str(&w, "From: ");
    put_mailbox(&w, &c.from, 0, 0);
    w_str(&w, "\r\nTo: ");
    for (size_t k = 0; k < m->nto; k++)
        put_mailbox(&w, &c.to[k], k > 0, k + 1 < m->nto);
    w_str(&w, "\r\nSubject: ");
    put_text(&w, m->subject, c.nsubject, c.subject_mode, 0);
    w_str(&w, "\r\n");
    put_msgid(&w, "Message-ID", m->message_id);
    if (m->in_reply_to) {
        put_msgid(&w, "In-Reply-To", m->in_reply_to);
        put_msgid(&w, "References", m->in_reply_to);
    }
    w_str(&w, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
    if (c.nalert) {
        w_str(&w, "X-Vibewatch-Alert: ");
        put_text(&w, m->alert_id, c.nalert, c.alert_mode, 0);
        w_str(&w, "\r\n");
    }
    if (!m->html) {
        put_part_body(&w, "text/plain", m->text, 0);
    } else {
        w_str(&w, "Content-Type: multipart/alternative; boundary=\"");
        w_str(&w, c.boundary);
        w_str(&w, "\"\r\n\r\n");
        const char *types[2] = {"text/plain", "text/html"}, *texts[2] = {m->text, m->html};
        for (int k = 0; k < 2; k++) {
            w_str(&w, "--");
            w_str(&w, c.boundary);
            w_str(&w, "\r\n");
            size_t part = w.len;
            put_part_body(&w, types[k], texts[k], 1);
            if (!w.full && occurs(out + part, w.len - part, c.boundary)) {
                out[0] = 0;
                return fail(err, errlen, "the MIME boundary %s occurs in the %s part", c.boundary, types[k]);
            }
        }
        w_str(&w, "--");
        w_str(&w, c.boundary);
        w_str(&w, "--\r\n");
    }
    if (w.full || w.len > LONG_MAX)
        goto nospc;
    out[w.len] = 0;
    return (long)w.len;
nospc:
    if (outlen)
        out[0] = 0;
    if (err && errlen)
        snprintf(err, errlen, "out: %zu bytes are too few for the message", outlen);
    return -ENOSPC;
}

/* ---- the bound -------------------------------------------------------------------------------- */

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/* Any header text of s written by put_text: at most 2 bytes of encoded word per byte (4/3 of
 * base64 and its share of the 15 bytes of a word of at least 42 bytes with its fold), or of
 * quoted-string (an escape per byte), plus the short words and quotes at either end. */
static size_t text_bound(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > (SIZE_MAX - 64) / 3 ? SIZE_MAX : 3 * n + 64;
}

/* A body of s: line ends may double in the canonical form. */
static size_t body_bound(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > SIZE_MAX / 2 ? SIZE_MAX : b64_len(2 * n, 1);
}

size_t alerts_mail_bound(const alerts_mail *m)
{
    size_t b = 1024; /* the field names, the date, the boundary lines, the part headers, the NUL */
    if (!m)
        return b;
    b = sat_add(b, text_bound(m->from));
    if (m->to && m->nto <= ALERTS_MAIL_MAX_RCPT)
        for (size_t k = 0; k < m->nto; k++)
            b = sat_add(b, text_bound(m->to[k]));
    b = sat_add(b, text_bound(m->subject));
    b = sat_add(b, text_bound(m->alert_id));
    b = sat_add(b, text_bound(m->message_id));
    b = sat_add(b, sat_add(text_bound(m->in_reply_to), text_bound(m->in_reply_to)));
    b = sat_add(b, body_bound(m->text));
    b = sat_add(b, body_bound(m->html));
    return b;
}
