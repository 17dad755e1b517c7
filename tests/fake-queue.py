#!/usr/bin/python3
"""Stand-in for the real qmail-queue: installed as bin/qmail-queue, or run
as a test user to queue a message as that user.

fake-queue.py [--out DIR] [--exit N] [--named-users]
              [--mess-fd N] [--sender-fd N]

What it copies from qmail-queue(8) and notqmail's qmail-queue.c (qmail
1.03 and netqmail 1.06 alike):
  - it reads the message on fd 0 from the current offset to end of file
    (a read error: exit 54), then the envelope on fd 1: "F", the sender
    up to a NUL, then "T" recipient NUL... and one more NUL; a first byte
    other than F, or a recipient not starting with T: exit 91; an address
    of 1003 bytes or more: exit 11; end of file before the last NUL:
    exit 54;
  - the queue file is its own line, then the message exactly as read,
    nothing else added; the line is receivedfmt()'s
    "Received: (qmail PID invoked WHAT); DATE": PID its own process id
    (getpid), WHAT "by uid UID" for the real uid (getuid), DATE the time
    now in UTC as date822fmt() writes it: day without a leading zero,
    month name, year, hh:mm:ss, " -0000", then the line's LF
    ("29 Nov 2026 14:01:42 -0000");
  - with --named-users, WHAT is "by alias" for the user alias, "from
    network" for qmaild (qmail-smtpd), "for bounce" for qmails
    (qmail-send), "by uid UID" for anyone else, root and qmailr included.
    notqmail looks the three up by name at start (inituid), a missing one
    "fatal: unable to find user NAME" on fd 2 and exit 111; qmail 1.03 has
    their uids compiled in;
  - it prints nothing else, and answers with its exit status alone.
Not copied: the queue directories, the trigger, and without --named-users
the alias, network and bounce uids (bin/qmail-queue's tests inject as an
ordinary user).  With --exit N it fails with N after reading both, as a
full disk at fsync() would (53).

Where the queue file goes, once message and envelope are read and good:
--mess-fd N writes it to fd N, --sender-fd N the envelope sender (no F, no
NUL) to fd N.  --out DIR records in DIR: mess (the queue file), envelope
(the bytes read on fd 1), pid, fd0 ("type=reg offset=N" or "type=fifo" on
start), env (K=V, NUL-terminated) and fds (open fds above 2).
"""
import argparse
import os
import pwd
import stat
import sys
import time

ADDR = 1003
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def record(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def write_fd(fd, data):
    while data:
        data = data[os.write(fd, data):]


def describe_fd0():
    try:
        st = os.fstat(0)
    except OSError:
        return "type=closed\n"
    if stat.S_ISREG(st.st_mode):
        return "type=reg offset=%d\n" % os.lseek(0, 0, os.SEEK_CUR)
    if stat.S_ISFIFO(st.st_mode):
        return "type=fifo\n"
    return "type=other mode=%o\n" % st.st_mode


def record_start(out):
    os.makedirs(out, exist_ok=True)
    record(out, "pid", b"%d\n" % os.getpid())
    record(out, "fd0", describe_fd0().encode())
    with open("/proc/self/environ", "rb") as f:
        record(out, "env", f.read())
    fds = ""
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        try:
            if fd > 2:
                fds += "%d -> %s\n" % (fd, os.readlink("/proc/self/fd/%d" % fd))
        except OSError:
            pass
    record(out, "fds", fds.encode())


def named_users():
    """inituid() of alias, qmaild and qmails: {uid: WHAT}."""
    named = {}
    for name, what in (("alias", "by alias"), ("qmaild", "from network"),
                       ("qmails", "for bounce")):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            os.write(2, b"fatal: unable to find user %s\n" % name.encode())
            sys.exit(111)
        named.setdefault(uid, what)
    return named


def received(named):
    """receivedfmt(): the queue file's first line."""
    uid = os.getuid()
    g = time.gmtime()
    date = "%d %s %d %02d:%02d:%02d -0000" % (
        g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year,
        g.tm_hour, g.tm_min, g.tm_sec)
    return ("Received: (qmail %d invoked %s); %s\n" % (
        os.getpid(), named.get(uid, "by uid %d" % uid), date)).encode()


def read_envelope(data):
    """The exit code qmail-queue.c gives this envelope, 0 when good."""
    if not data:
        return 54
    if data[0:1] != b"F":
        return 91
    i = 1
    while True:
        end = data.find(b"\0", i)
        if end < 0:
            return 11 if len(data) - i >= ADDR else 54
        if end - i >= ADDR:
            return 11
        i = end + 1
        if i >= len(data):
            return 54
        if data[i:i + 1] == b"\0":
            return 0
        if data[i:i + 1] != b"T":
            return 91
        i += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--exit", type=int, default=0)
    ap.add_argument("--named-users", action="store_true")
    ap.add_argument("--mess-fd", type=int)
    ap.add_argument("--sender-fd", type=int)
    a = ap.parse_args()
    if a.out is None and a.mess_fd is None:
        ap.error("the queue file needs --out or --mess-fd")
    named = named_users() if a.named_users else {}
    if a.out is not None:
        record_start(a.out)

    mess = received(named)
    try:
        while True:
            chunk = os.read(0, 65536)
            if not chunk:
                break
            mess += chunk
    except OSError:
        return 54
    env = b""
    try:
        while True:
            chunk = os.read(1, 65536)
            if not chunk:
                break
            env += chunk
            if read_envelope(env) == 0:
                break
    except OSError:
        return 54
    if a.out is not None:
        record(a.out, "envelope", env)
    r = read_envelope(env)
    if r:
        return r
    if a.exit:
        return a.exit
    if a.out is not None:
        record(a.out, "mess", mess)
    if a.mess_fd is not None:
        write_fd(a.mess_fd, mess)
    if a.sender_fd is not None:
        write_fd(a.sender_fd, env[1:env.index(b"\0")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
