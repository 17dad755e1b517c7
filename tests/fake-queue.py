#!/usr/bin/python3
"""Stand-in for the real qmail-queue, installed as bin/qmail-queue.

fake-queue.py --out DIR [--exit N]

What it copies from qmail-queue(8) and notqmail's qmail-queue.c:
  - it reads the message on fd 0 from the current offset to end of file
    (a read error: exit 54), then the envelope on fd 1: "F", the sender
    up to a NUL, then "T" recipient NUL... and one more NUL; a first byte
    other than F, or a recipient not starting with T: exit 91; an address
    of 1003 bytes or more: exit 11; end of file before the last NUL:
    exit 54;
  - the queue file is its own line
    "Received: (qmail PID invoked by uid UID); DATE" (date822fmt: "29 Nov
    2026 14:01:42 -0000"), then the message exactly as read;
  - it prints nothing, and answers with its exit status alone.
Not copied: the queue directories, the trigger, the alias, network and
bounce uids (the tests inject as an ordinary user).  With --exit N it
fails with N after reading both, as a full disk at fsync() would (53).
It records in DIR: mess (the queue file), envelope (the bytes read on
fd 1), pid, fd0 ("type=reg offset=N" or "type=fifo" on start), env
(K=V, NUL-terminated) and fds (open fds above 2).
"""
import argparse
import os
import stat
import sys
import time

ADDR = 1003


def record(out, name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


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
    ap.add_argument("--out", required=True)
    ap.add_argument("--exit", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    record(a.out, "pid", b"%d\n" % os.getpid())
    record(a.out, "fd0", describe_fd0().encode())
    with open("/proc/self/environ", "rb") as f:
        record(a.out, "env", f.read())
    fds = ""
    for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
        try:
            if fd > 2:
                fds += "%d -> %s\n" % (fd, os.readlink("/proc/self/fd/%d" % fd))
        except OSError:
            pass
    record(a.out, "fds", fds.encode())

    date = time.strftime("%d %b %Y %H:%M:%S -0000", time.gmtime()).lstrip("0")
    mess = b"Received: (qmail %d invoked by uid %d); %s\n" % (
        os.getpid(), os.getuid(), date.encode())
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
    record(a.out, "envelope", env)
    r = read_envelope(env)
    if r:
        return r
    if a.exit:
        return a.exit
    record(a.out, "mess", mess)
    return 0


if __name__ == "__main__":
    sys.exit(main())
