/* alerts/mail.h — an alert e-mail as bytes on the wire (RFC 5322 with MIME, RFC 2045–2047): pure
 * functions, no I/O, no allocation, output into caller buffers, so a message is built once, kept in
 * the outbox and sent byte for byte the same on every retry.
 *
 * The message: Date, From, To, Subject, Message-ID, In-Reply-To and References (when threading an
 * asset's alerts), MIME-Version, Auto-Submitted: auto-generated, X-Vibewatch-Alert, and a
 * multipart/alternative body of text/plain and text/html, both charset=UTF-8 and base64 encoded (so
 * no line exceeds 76 characters whatever the text). Lines end in CRLF. Header fields that carry
 * non-ASCII text (the subject, display names) are RFC 2047 encoded words (=?UTF-8?B?…?=), each at
 * most 75 characters, never splitting a UTF-8 character, folded onto continuation lines so that no
 * header line exceeds 78 characters; pure printable ASCII is kept as is (folded at spaces when long),
 * unless a reader would not get it back so ("=?", a leading space, a word too long to fold within
 * 78): then it is encoded words too.
 * The MIME boundary is derived from the Message-ID (stable) and checked not to occur in the base64
 * text (it cannot: it contains '=' and '_' sequences base64 never makes).
 *
 * Refused (-EINVAL): CR or LF or other control characters in any header input (no header
 * injection), an address without exactly one '@' or with characters outside RFC 5321's atext and
 * dots (or not dot-atoms, or longer than RFC 5321's 64-character local part and 254 in all), an
 * empty recipient list, invalid UTF-8 in the subject or a display name, a Message-ID not of the
 * form left@right in dot-atom text (or longer than 900 characters, so that its line stays within
 * RFC 5322's 998). */
#ifndef VW_ALERTS_MAIL_H
#define VW_ALERTS_MAIL_H

#include <stddef.h>
#include <stdint.h>

#define ALERTS_MAIL_MAX_RCPT 16

typedef struct alerts_mail {
    const char *from;                 /* "addr@host" or "Display Name <addr@host>" (name UTF-8) */
    const char *const *to;            /* the same forms; 1…ALERTS_MAIL_MAX_RCPT */
    size_t nto;
    const char *subject;              /* UTF-8 */
    const char *message_id;           /* "left@right", without the angle brackets */
    const char *in_reply_to;          /* NULL, or a Message-ID (without brackets): threads the mail */
    int64_t date_s;                   /* the Date header: Unix seconds, written in UTC (+0000) */
    const char *alert_id;             /* X-Vibewatch-Alert value (ASCII, may be NULL) */
    const char *text;                 /* the plain-text part, UTF-8 ("\n" line ends are made CRLF) */
    const char *html;                 /* the HTML part, UTF-8; NULL: a text/plain-only message */
} alerts_mail;

/* Formats the whole message into out (NUL-terminated). Returns its length, -EINVAL (err says which
 * field and why) or -ENOSPC (out too short; alerts_mail_bound bytes always suffice). err may be NULL. */
long alerts_mail_format(const alerts_mail *m, char *out, size_t outlen, char *err, size_t errlen);
/* An upper bound of the formatted size of m (plus the NUL). */
size_t alerts_mail_bound(const alerts_mail *m);

/* The addr-spec of a mailbox ("Name <a@b>" or "a@b") into out: for the SMTP envelope
 * (MAIL FROM / RCPT TO). 0, -EINVAL (not an address), -ENOSPC. */
int alerts_mail_address(const char *mailbox, char *out, size_t outlen);

/* A header text as RFC 2047 encoded words where needed (see above), folded with CRLF + space;
 * `used` is how many characters the line already holds before it ("Subject: " is 9). Returns the
 * length (out NUL-terminated) or -EINVAL (bad UTF-8 or control characters) / -ENOSPC. */
long alerts_mail_header_text(const char *text, size_t used, char *out, size_t outlen);

/* Base64 (RFC 4648, with padding) of n bytes, lines of 76 characters ending in CRLF when wrap is
 * non-zero (the last line too). Returns the length (out NUL-terminated) or -ENOSPC. */
long alerts_base64(const unsigned char *in, size_t n, int wrap, char *out, size_t outlen);

#endif
