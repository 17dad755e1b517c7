#!/usr/bin/python3
"""Stand-in for qmail-inject (and sendmail) at the QMAILQUEUE interface.

fake-inject.py --out DIR [--home QMAILHOME] [--fsize N] SENDER RECIP... <MESSAGE

What it copies from qmail (notqmail qmail.c qmail_open/qmail_close; netqmail
1.06 is the same without fd 6, qmail 1.03 without fd 6 and QMAILQUEUE):
  - it forks; the child gets the message pipe on fd 0, the envelope pipe
    on fd 1 and (notqmail) an error pipe on fd 6, chdir()s to the qmail
    home, and execs $QMAILQUEUE, or bin/qmail-queue when it is not set,
    with argv [that name] and qmail-inject's environment; exit 120 when
    any of that fails;
  - the parent writes the whole message, closes the message pipe, then
    writes the envelope: "F" sender NUL, "T" recipient NUL for each, NUL;
    closes it, reads fd 6 to its end and waits for the child;
  - the child inherits qmail-inject's fd 2: here that is DIR/stderr, so
    that a test sees anything the queue program writes there, which real
    qmail-inject's user would see mixed with qmail-inject's own words.
Not copied: qmail-inject's header rewriting (Date:, Message-ID:, From:
added when missing): the test messages have their header complete.
It records in DIR: status (the child's exit code, or "signal N"), child
(the pid it forked, for the stand-in qmail-queue to compare with its
own: exec'd, not forked), errtext (what came on fd 6) and epipe when a
write to the child failed.  --fsize sets RLIMIT_FSIZE in the child.
"""
import argparse
import os
import resource
import signal
import sys


def record(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def write_all(fd, data):
    try:
        while data:
            data = data[os.write(fd, data):]
        return True
    except BrokenPipeError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--home", default="/var/qmail")
    ap.add_argument("--fsize", type=int)
    ap.add_argument("sender")
    ap.add_argument("recips", nargs="+")
    a = ap.parse_args()
    message = sys.stdin.buffer.read()
    os.makedirs(a.out, exist_ok=True)

    pim, pie, pierr = os.pipe(), os.pipe(), os.pipe()
    err = os.open(os.path.join(a.out, "stderr"),
                  os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    pid = os.fork()
    if pid == 0:
        try:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
            if a.fsize is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (a.fsize, a.fsize))
            os.close(pim[1])
            os.close(pie[1])
            os.close(pierr[0])
            os.dup2(err, 2)
            os.dup2(pim[0], 0)
            os.dup2(pie[0], 1)
            os.dup2(pierr[1], 6)
            for fd in {pim[0], pie[0], pierr[1], err} - {0, 1, 2, 6}:
                os.close(fd)
            os.chdir(a.home)
            qq = os.environ.get("QMAILQUEUE", "bin/qmail-queue")
            os.execv(qq, [qq])
        finally:
            os._exit(120)
    os.close(err)
    os.close(pim[0])
    os.close(pie[0])
    os.close(pierr[1])
    ok = write_all(pim[1], message)
    os.close(pim[1])
    env = b"F" + a.sender.encode() + b"\0"
    env += b"".join(b"T" + r.encode() + b"\0" for r in a.recips) + b"\0"
    ok = write_all(pie[1], env) and ok
    os.close(pie[1])
    errtext = b""
    while True:
        chunk = os.read(pierr[0], 256)
        if not chunk:
            break
        errtext += chunk
    os.close(pierr[0])
    _, wstat = os.waitpid(pid, 0)
    if os.WIFSIGNALED(wstat):
        status = "signal %d" % os.WTERMSIG(wstat)
    else:
        status = str(os.WEXITSTATUS(wstat))
    record(a.out, "status", status.encode() + b"\n")
    record(a.out, "child", b"%d\n" % pid)
    record(a.out, "errtext", errtext)
    if not ok:
        record(a.out, "epipe", b"")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    sys.exit(main())
