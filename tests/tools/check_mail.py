#!/usr/bin/python3
"""Reads an e-mail message (the bytes alerts/mail.c writes) with the standard library's own parser,
email.policy.default, and prints what a mail client would make of it as one JSON object: the
decoded subject, the From and To mailboxes (display name, address), Message-ID, In-Reply-To,
References, the Date parsed (ISO 8601), the content type of the message and of each part, the
decoded text and HTML bodies (exactly as decoded: CRLF line ends kept), and every defect the
parser recorded on the message, its parts and their headers (an empty list for a clean message).

usage: check_mail.py FILE      (exit 0 when the message could be read; 2 on a usage error)
Stdlib only."""
import json
import sys
from email import policy
from email.parser import BytesParser


def defects_of(where, obj, out):
    for d in getattr(obj, "defects", ()) or ():
        out.append("%s: %s: %s" % (where, type(d).__name__, d))


def mailboxes(header):
    if header is None:
        return None
    return [{"name": a.display_name, "addr": a.addr_spec} for a in header.addresses]


def header_str(msg, name):
    h = msg[name]
    return None if h is None else str(h)


def main():
    if len(sys.argv) != 2:
        print("usage: check_mail.py FILE", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    msg = BytesParser(policy=policy.default).parsebytes(raw)

    defects = []
    for i, part in enumerate(msg.walk()):
        where = "message" if i == 0 else "part %d" % i
        defects_of(where, part, defects)
        for name, value in part.items():
            defects_of("%s header %s" % (where, name), value, defects)

    date = msg["Date"]
    parts = [{"content_type": p.get_content_type(), "charset": p.get_content_charset(),
              "transfer_encoding": p.get("Content-Transfer-Encoding")}
             for p in msg.walk() if not p.is_multipart()]
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    summary = {
        "subject": header_str(msg, "Subject"),
        "from": mailboxes(msg["From"]),
        "to": mailboxes(msg["To"]),
        "message_id": header_str(msg, "Message-ID"),
        "in_reply_to": header_str(msg, "In-Reply-To"),
        "references": header_str(msg, "References"),
        "date": date.datetime.isoformat() if date is not None and date.datetime is not None else None,
        "mime_version": header_str(msg, "MIME-Version"),
        "auto_submitted": header_str(msg, "Auto-Submitted"),
        "alert": header_str(msg, "X-Vibewatch-Alert"),
        "content_type": msg.get_content_type(),
        "parts": parts,
        "text": text.get_content() if text is not None else None,
        "html": html.get_content() if html is not None else None,
        "defects": defects,
    }
    json.dump(summary, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
