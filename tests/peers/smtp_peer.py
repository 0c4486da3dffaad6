#!/usr/bin/python3
"""smtp_peer.py: a strict SMTP peer for the email sink's tests.

A real SMTP server (aiosmtpd) on 127.0.0.1 that may offer STARTTLS (or
speak TLS from the start) and require AUTH, answers each message from a
script, parses what arrived with Python's email package (policy.default)
and writes one JSON summary per message, with every protocol violation it
saw: what /work/shared/formats/email.md says a strict peer checks.

    smtp_peer.py DIR [--cert PEM --key PEM] [--starttls | --implicit-tls]
                     [--require-tls] [--auth USER:PASSWORD] [--auth-mech MECH]

DIR/port        written once listening (the port, then a newline)
DIR/script      read before each answer to DATA: "450,250,hang" answers the
                next three messages so (250 once it is used up); "hang"
                never answers (the client's timeout ends it)
DIR/msg-NNNN.json  one per message, answered or not, written before the
                answer goes out: see summary() below (part texts with LF)
DIR/violations  one line per violation outside a message (a failed AUTH)

Runs until SIGTERM. Needs /usr/bin/python3 with python3-aiosmtpd.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import signal
import ssl
import logging
import sys
import warnings

warnings.simplefilter("ignore")  # aiosmtpd's deprecation notes are not ours
logging.getLogger("mail.log").setLevel(logging.ERROR)

from aiosmtpd.smtp import SMTP, AuthResult  # noqa: E402

ANSWERS = {
    "250": "250 2.0.0 OK: queued",
    "450": "450 4.2.1 Mailbox busy, try again later",
    "451": "451 4.3.0 Local error in processing",
    "550": "550 5.1.1 No such user here",
    "554": "554 5.7.1 Message rejected as spam",
}
MSGID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


def next_answer(directory):
    """Pops the script's first entry (DIR/script), or 250."""
    path = os.path.join(directory, "script")
    try:
        with open(path, encoding="ascii") as f:
            items = [s.strip() for s in f.read().split(",") if s.strip()]
    except FileNotFoundError:
        items = []
    if not items:
        return "250"
    write_atomic(path, ",".join(items[1:]))
    return items[0]


def addresses(msg, name):
    out = []
    for h in msg.get_all(name) or []:
        out += [a.addr_spec for a in h.addresses]
    return out


def summary(envelope, session, server, answer, opts, seen_ids):
    """What arrived, parsed, and what in it breaks the rules."""
    raw = envelope.original_content
    v = []
    lines = raw.split(b"\r\n")
    if lines[-1] == b"":
        lines.pop()
    else:
        v.append("the message does not end with CRLF")
    max_line = 0
    for i, line in enumerate(lines, 1):
        if b"\r" in line or b"\n" in line:
            v.append("line %d: a bare CR or LF" % i)
        if any(b >= 0x80 or b == 0 for b in line):
            v.append("line %d: an 8-bit or NUL byte (no 8BITMIME was asked for)" % i)
        max_line = max(max_line, len(line))
    if max_line > 998:
        v.append("a line of %d octets (RFC 5322: at most 998)" % max_line)

    msg = email.message_from_bytes(raw, policy=email.policy.default)
    v += ["message defect: %r" % d for d in msg.defects]
    headers = []
    for name, value in msg.items():
        headers.append([name, str(value)])
        v += ["%s: defect %r" % (name, d) for d in getattr(value, "defects", ())]
    for name in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version"):
        n = len(msg.get_all(name) or [])
        if n != 1:
            v.append("%d %s fields (RFC 5322: exactly one)" % (n, name))
    for name in ("Cc", "In-Reply-To", "References"):
        if len(msg.get_all(name) or []) > 1:
            v.append("more than one %s field" % name)
    if msg.get_all("Bcc"):
        v.append("a Bcc field")

    date = msg["Date"]
    if date is not None and (date.datetime is None or date.datetime.tzinfo is None):
        v.append("Date %r is not an RFC 5322 date with a zone" % str(date))
    msgid = str(msg["Message-ID"] or "").strip()
    if not MSGID.match(msgid):
        v.append("Message-ID %r is not <left@right>" % msgid)
    elif answer == "250":
        if msgid in seen_ids:
            v.append("Message-ID %s was already accepted in another message" % msgid)
        seen_ids.add(msgid)
    for name in ("In-Reply-To", "References"):
        val = msg[name]
        if val is not None and not all(MSGID.match(x) for x in str(val).split()):
            v.append("%s %r is not a list of <left@right>" % (name, str(val)))

    sender = addresses(msg, "From")
    if len(sender) != 1 or sender[0].lower() != (envelope.mail_from or "").lower():
        v.append("From %r does not match MAIL FROM %r" % (sender, envelope.mail_from))
    shown = sorted({a.lower() for a in addresses(msg, "To") + addresses(msg, "Cc")})
    rcpt = sorted({a.lower() for a in envelope.rcpt_tos})
    if shown != rcpt:
        v.append("To and Cc %r are not RCPT TO %r" % (shown, rcpt))
    if len(envelope.rcpt_tos) != len(set(a.lower() for a in envelope.rcpt_tos)):
        v.append("a recipient given twice in RCPT TO: %r" % envelope.rcpt_tos)
    if not addresses(msg, "To"):
        v.append("no To address")
    if msg["Subject"] is None or not str(msg["Subject"]).strip():
        v.append("no Subject")
    if str(msg["MIME-Version"] or "").strip() != "1.0":
        v.append("MIME-Version is not 1.0")

    parts = []
    if msg.get_content_type() != "multipart/alternative":
        v.append("Content-Type %s, not multipart/alternative" % msg.get_content_type())
    else:
        for p in msg.iter_parts():
            part = {
                "content_type": p.get_content_type(),
                "charset": p.get_content_charset(),
                "cte": p.get("Content-Transfer-Encoding", "7bit").lower(),
            }
            v += ["%s part: defect %r" % (part["content_type"], d) for d in p.defects]
            if part["charset"] != "utf-8":
                v.append("%s part: charset %r" % (part["content_type"], part["charset"]))
            if part["cte"] not in ("quoted-printable", "base64"):
                v.append("%s part: Content-Transfer-Encoding %s" % (part["content_type"],
                                                                     part["cte"]))
            try:
                part["text"] = p.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
            except (UnicodeDecodeError, AttributeError) as e:
                v.append("%s part does not decode as UTF-8: %s" % (part["content_type"], e))
            parts.append(part)
        if [p["content_type"] for p in parts] != ["text/plain", "text/html"]:
            v.append("parts %r, not text/plain then text/html" % [p["content_type"] for p in parts])

    tls = server.transport.get_extra_info("ssl_object") is not None
    if opts.require_tls and not tls:
        v.append("the message came without TLS")
    if opts.auth and not session.authenticated:
        v.append("the message came without AUTH")
    return {
        "answer": int(answer) if answer.isdigit() else 0,
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "tls": tls,
        "auth_user": (session.auth_data.login.decode() if session.authenticated and
                      session.auth_data is not None else None),
        "auth_mech": getattr(session, "tocsin_mech", None),
        "headers": headers,
        "raw": raw.decode("ascii", "replace"),
        "subject": str(msg["Subject"] or ""),
        "message_id": msgid,
        "in_reply_to": str(msg["In-Reply-To"] or ""),
        "references": str(msg["References"] or ""),
        "date": str(msg["Date"] or ""),
        "parts": parts,
        "max_line": max_line,
        "violations": v,
    }


class Handler:
    def __init__(self, opts):
        self.opts = opts
        self.count = 0
        self.seen_ids = set()

    async def handle_DATA(self, server, session, envelope):
        answer = next_answer(self.opts.dir)
        self.count += 1
        try:
            rec = summary(envelope, session, server, answer, self.opts, self.seen_ids)
        except Exception as e:  # a message the parser chokes on is a violation too
            rec = {"answer": 0, "violations": ["cannot parse the message: %r" % e],
                   "raw": envelope.original_content.decode("ascii", "replace")}
        rec["seq"] = self.count
        for line in rec["violations"]:
            print("smtp_peer: violation in message %d: %s" % (self.count, line),
                  file=sys.stderr, flush=True)
        write_atomic(os.path.join(self.opts.dir, "msg-%04d.json" % self.count),
                     json.dumps(rec, indent=1))
        if answer == "hang":
            await asyncio.sleep(3600)
        return ANSWERS.get(answer, answer + " scripted answer")


def violation(opts, text):
    print("smtp_peer: violation: " + text, file=sys.stderr, flush=True)
    with open(os.path.join(opts.dir, "violations"), "a", encoding="utf-8") as f:
        f.write(text + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--auth")
    ap.add_argument("--auth-mech", choices=("PLAIN", "LOGIN"))
    opts = ap.parse_args()

    ctx = None
    if opts.starttls or opts.implicit_tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(opts.cert, opts.key)
    user, _, password = (opts.auth or "").partition(":")

    def authenticator(server, session, envelope, mechanism, auth_data):
        session.tocsin_mech = mechanism
        ok = (auth_data.login.decode() == user and auth_data.password.decode() == password)
        if not ok:
            violation(opts, "AUTH %s with wrong credentials for %r" %
                      (mechanism, auth_data.login.decode("utf-8", "replace")))
        # handled=False: aiosmtpd then answers 535 itself
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    handler = Handler(opts)
    excluded = [m for m in ("PLAIN", "LOGIN") if opts.auth_mech and m != opts.auth_mech]

    def factory():
        return SMTP(handler, hostname="smtp-peer.test",
                    tls_context=ctx if opts.starttls else None,
                    require_starttls=bool(opts.require_tls and opts.starttls),
                    auth_required=bool(opts.auth),
                    # TLS from the start is TLS too (aiosmtpd only sees STARTTLS)
                    auth_require_tls=not opts.implicit_tls,
                    authenticator=authenticator if opts.auth else None,
                    auth_exclude_mechanism=excluded)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=ctx if opts.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    write_atomic(os.path.join(opts.dir, "port"), "%d\n" % port)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    server.close()


if __name__ == "__main__":
    main()
