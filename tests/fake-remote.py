#!/usr/bin/python3
"""Stand-in for the real qmail-remote, installed as bin/qmail-remote.orig.

fake-remote.py --out DIR --mode netqmail|notqmail [--refuse] [--chunk N]
               [--slow SECS] HOST SENDER RECIP...

Instead of talking SMTP it records, in DIR:
  argv   HOST SENDER RECIP..., each terminated by a NUL
  stdin  the bytes read from fd 0, as they were
  wire   the DATA part as the receiver reconstructs it (CRLF, undotted),
         converted the way the chosen qmail flavour converts it
  fd0    "type=reg offset=N", "type=fifo", "type=sock" (or other): what
         fd 0 was
  cwd    the working directory
  env    the environment as exec'd, each K=V terminated by a NUL
  fds    open fds above 2, one "N -> target" a line (leaks from the signer)
  sigblk the SigBlk line of /proc/self/status (SigIgn is useless here:
         python ignores SIGPIPE itself)
and writes a qmail-remote report on fd 1, as qmail-remote 1.03 does:
"r" per recipient, then "K..." after a clean end of file on fd 0, "D..."
for a partial final line, or "ZUnable to read message" when a read of fd 0
fails (any error, EAGAIN included: blast() calls temp_read() on every -1,
which exits without sending the final dot, so the server drops the DATA);
or with --refuse "h..." per recipient and "DGiving up..." without reading
fd 0 at all.  Memory use is bounded: fd 0 is read in chunks.  --slow SECS
sleeps that long before each read, as a qmail-remote held up by a slow
server reads its fd 0 slowly.
"""
import argparse
import os
import signal
import stat
import sys
import time


def record(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def report(data):
    os.write(1, data)


def describe_fd0():
    st = os.fstat(0)
    if stat.S_ISREG(st.st_mode):
        return "type=reg offset=%d\n" % os.lseek(0, 0, os.SEEK_CUR)
    if stat.S_ISFIFO(st.st_mode):
        return "type=fifo\n"
    if stat.S_ISSOCK(st.st_mode):
        return "type=sock\n"
    return "type=other mode=%o\n" % st.st_mode


def record_process(out):
    """What the signer handed over besides the message."""
    record(out, "fd0", describe_fd0().encode())
    record(out, "cwd", os.getcwd().encode() + b"\n")
    # Not os.environ: python adds LC_CTYPE to it in the C locale (PEP 538).
    with open("/proc/self/environ", "rb") as f:
        record(out, "env", f.read())
    fds = ""
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        try:
            if fd > 2:
                fds += "%d -> %s\n" % (fd, os.readlink("/proc/self/fd/%d" % fd))
        except OSError:
            pass  # the fd os.listdir used, already closed again
    record(out, "fds", fds.encode())
    with open("/proc/self/status") as f:
        record(out, "sigblk", "".join(l for l in f if l.startswith("SigBlk")).encode())


def to_wire(chunk, mode):
    """One chunk of the queue file to wire form; chunk never ends in a CR
    that could belong to a CRLF (the caller holds such a CR back)."""
    if mode == "netqmail":
        # qmail 1.03 blast(): LF -> CRLF, every other byte as is.
        return chunk.replace(b"\n", b"\r\n")
    # notqmail: CRLF, bare CR and bare LF all end a line with CRLF.
    if b"\r" in chunk:
        chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return chunk.replace(b"\n", b"\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=("netqmail", "notqmail"), required=True)
    ap.add_argument("--refuse", action="store_true")
    ap.add_argument("--chunk", type=int, default=1 << 20)
    ap.add_argument("--slow", type=float, default=0)
    ap.add_argument("host")
    ap.add_argument("sender")
    ap.add_argument("recips", nargs="+")
    a = ap.parse_args()
    # qmail-remote catches no signal; python would make SIGINT an exception
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    os.makedirs(a.out, exist_ok=True)
    record(a.out, "argv", b"".join(os.fsencode(x) + b"\0"
                                   for x in [a.host, a.sender] + a.recips))
    record_process(a.out)

    if a.refuse:
        # Every RCPT refused: qmail-remote quits before DATA, never reading fd 0.
        for _ in a.recips:
            report(b"h%s does not like recipient.\nRemote host said: "
                   b"550 no such user (fake-remote)\n\0" % a.host.encode())
        report(b"DGiving up on %s.\n\0" % a.host.encode())
        return 0

    # RCPT accepted: qmail-remote reports each recipient before it sends DATA.
    report(b"r\0" * len(a.recips))
    last = b""
    held = b""  # a trailing CR, kept until we know whether LF follows
    with open(os.path.join(a.out, "stdin"), "wb") as raw, \
         open(os.path.join(a.out, "wire"), "wb") as wire:
        while True:
            if a.slow:
                time.sleep(a.slow)
            try:
                chunk = os.read(0, a.chunk)
            except OSError:
                # blast(): temp_read() on any error, EAGAIN and ECONNRESET too
                report(b"ZUnable to read message. (#4.3.0)\n\0")
                return 0
            if not chunk:
                break
            raw.write(chunk)
            last = chunk[-1:]
            chunk = held + chunk
            held = b""
            if a.mode == "notqmail" and chunk.endswith(b"\r"):
                chunk, held = chunk[:-1], b"\r"
            wire.write(to_wire(chunk, a.mode))
        wire.write(to_wire(held, a.mode))

    if last not in (b"", b"\n"):
        report(b"DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n\0")
    else:
        report(b"Kok (fake-remote)\n\0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
