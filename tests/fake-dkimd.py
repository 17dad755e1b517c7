#!/usr/bin/python3
"""A qmail-dkimd that gives no usable answer, for tests/180-daemon.t.

fake-dkimd.py MODE SOCKET LOG

Listens on SOCKET (AF_UNIX, SOCK_SEQPACKET, as qmail-dkimd does), appends
one line to LOG for each connection it takes, once "ready" when it
listens, and answers each request according to MODE:
  close    closes the connection at once, reading nothing
  garbage  reads the request, answers b"garbage"
  local    a well-formed "sign it yourself" verdict (L)
  badsig   a "signed" verdict whose fields are not DKIM-Signature fields
  nonul    a "signed" verdict with no NUL after its text
Runs until killed.
"""
import os
import socket
import sys

REPLIES = {
    "garbage": b"garbage",
    "local": b"L0leave it to qmail-dkim\0",
    "badsig": b"S0d=example.com\0X-Not-A-Signature: x\n",
    "nonul": b"S0d=example.com",
}


def main():
    mode, path, log = sys.argv[1:4]
    if mode != "close" and mode not in REPLIES:
        sys.exit("fake-dkimd.py: unknown mode %r" % mode)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.listen(16)
    with open(log, "a") as f:
        f.write("ready\n")
    while True:
        c, _ = s.accept()
        with open(log, "a") as f:
            f.write("connection\n")
        try:
            if mode != "close":
                c.recvmsg(4096, socket.CMSG_SPACE(16))
                c.send(REPLIES[mode])
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
