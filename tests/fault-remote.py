#!/usr/bin/python3
"""A real qmail-remote that misbehaves, for the fault tests (tests/3NN-*.t).

fault-remote.py --out DIR [--die-after N] [--keep-head N] [--pause-after N]
                HOST SENDER RECIP...

Without --die-after it reads fd 0 to the end without keeping it (a large
message costs no disk), writes DIR/argv (each argument NUL-terminated) and
DIR/stdin.size and DIR/stdin.sha256 (of the bytes read), and reports as
qmail-remote does: "r" per recipient, then "K".  With --keep-head N the
first N bytes are kept too, in DIR/stdin.head.

With --pause-after N it stops reading after N bytes, creates DIR/paused,
and goes on only once DIR/resume exists (for 30 s at most): a test can
change the world under the writer that feeds it.

A read error on fd 0 ends it as qmail-remote's blast() does (temp_read):
"ZUnable to read message. (#4.3.0)", the final dot never sent.

With --die-after N it reports the recipients, reads N bytes of the message
and kills itself with SIGKILL, as a qmail-remote killed mid-DATA (by qmail-send
shutting down, the OOM killer, an admin) would end.
"""
import argparse
import hashlib
import os
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--die-after", type=int)
    ap.add_argument("--keep-head", type=int, default=0)
    ap.add_argument("--pause-after", type=int)
    ap.add_argument("host")
    ap.add_argument("sender")
    ap.add_argument("recips", nargs="+")
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "argv"), "wb") as f:
        f.write(b"".join(os.fsencode(x) + b"\0" for x in [a.host, a.sender] + a.recips))
    os.write(1, b"r\0" * len(a.recips))

    h, size, head = hashlib.sha256(), 0, b""
    paused = False
    while True:
        want = 1 << 20
        if a.pause_after is not None and not paused:
            if size >= a.pause_after:
                paused = True
                open(os.path.join(a.out, "paused"), "w").close()
                for _ in range(3000):
                    if os.path.exists(os.path.join(a.out, "resume")):
                        break
                    time.sleep(0.01)
            else:
                want = min(want, a.pause_after - size)
        if a.die_after is not None:
            if size >= a.die_after:
                os.kill(os.getpid(), signal.SIGKILL)
            want = min(want, a.die_after - size)
        try:
            buf = os.read(0, want)
        except OSError:
            # qmail-remote's blast(): temp_read() on any read error
            os.write(1, b"ZUnable to read message. (#4.3.0)\n\0")
            return 0
        if not buf:
            break
        h.update(buf)
        size += len(buf)
        if len(head) < a.keep_head:
            head += buf[:a.keep_head - len(head)]
    if a.keep_head:
        with open(os.path.join(a.out, "stdin.head"), "wb") as f:
            f.write(head)
    with open(os.path.join(a.out, "stdin.size"), "w") as f:
        f.write("%d\n" % size)
    with open(os.path.join(a.out, "stdin.sha256"), "w") as f:
        f.write(h.hexdigest() + "\n")
    os.write(1, b"Kok (fault-remote)\n\0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
