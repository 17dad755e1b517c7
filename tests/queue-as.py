#!/usr/bin/python3
"""Queue a message as the calling user: the queue file's first line as
qmail-queue writes it, for the alias, network and bounce users too
(tests/fake-queue.py, installed as bin/qmail-queue, writes "by uid" only).

queue-as.py  <MESSAGE  1<ENVELOPE  3>QUEUEFILE  4>SENDER

Called like qmail-queue (the QMAILQUEUE interface): the message on fd 0,
the envelope on fd 1 (F sender NUL, T recipient NUL ..., NUL), running as
the caller.  It writes to fd 3 what qmail-queue writes to queue/mess/N,
and the envelope sender to fd 4.

What it copies from qmail-queue.c (notqmail; qmail 1.03 and netqmail 1.06
alike), receivedfmt() and date822fmt():
  - the first line is written before any byte of the message, and nothing
    else is added:  Received: (qmail PID invoked WHAT); DATE
  - PID is qmail-queue's own process id (getpid), WHAT comes from the real
    uid (getuid): "by alias" for the user alias, "from network" for qmaild
    (qmail-smtpd), "for bounce" for qmails (qmail-send), otherwise
    "by uid N" -- root and qmailr included;
  - DATE is the time now in UTC: day without a leading zero, month name,
    year, hh:mm:ss, then " -0000" and the line's LF.
  - the message follows byte for byte, as given.
notqmail looks the three users up by name at run time (inituid); qmail
1.03 has their uids compiled in.  Exit codes: 0 queued, 54 cannot read the
message or envelope, 91 envelope format error (as qmail-queue).
"""
import os
import pwd
import sys
import time

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def uid_of(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def invoked(uid):
    if uid == uid_of("alias"):
        return "by alias"
    if uid == uid_of("qmaild"):
        return "from network"
    if uid == uid_of("qmails"):
        return "for bounce"
    return "by uid %d" % uid


def date822(t):
    g = time.gmtime(t)
    return "%d %s %d %02d:%02d:%02d -0000\n" % (
        g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


def main():
    line = "Received: (qmail %d invoked %s); %s" % (
        os.getpid(), invoked(os.getuid()), date822(time.time()))
    try:
        message = os.read(0, 1 << 30)
        rest = os.read(0, 1 << 30)
        while rest:
            message += rest
            rest = os.read(0, 1 << 30)
        envelope = b""
        while True:
            chunk = os.read(1, 65536)
            if not chunk:
                break
            envelope += chunk
    except OSError:
        return 54
    if not envelope.startswith(b"F") or b"\0" not in envelope:
        return 91
    sender = envelope[1:envelope.index(b"\0")]
    os.write(3, line.encode() + message)
    os.write(4, sender)
    return 0


if __name__ == "__main__":
    sys.exit(main())
