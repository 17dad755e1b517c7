#!/usr/bin/python3
"""Odd requests to a qmail-dkimd, for tests/180-daemon.t.

fake-dkimc.py SOCKET MSGFILE

Sends each request below on a connection of its own and prints, on one
line, the first byte of each reply ("-" for none: the daemon closed the
connection).  The last two are well formed: a pipe (answered L, "sign it
yourself") and MSGFILE (answered S, signed, when it has a key).
"""
import array
import os
import socket
import sys


def rights(*fds):
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]


def ask(path, data, anc):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(30)
    s.connect(path)
    try:
        if data is not None:
            s.sendmsg([data], anc)
        reply = s.recv(1 << 18)
    except OSError:
        reply = b""
    s.close()
    return reply[:1].decode("latin-1") or "-"


def main():
    path, msgfile = sys.argv[1:3]
    m = os.open(msgfile, os.O_RDONLY)
    r, w = os.pipe()
    os.write(w, b"From: a@example.com\n\nx\n")
    os.close(w)
    good = b"QDKIM1\0sender@example.com\0"
    cases = [
        (None, []),                                  # nothing at all
        (b"garbage", []),                            # no magic, no fd
        (good, []),                                  # no fd
        (good, rights(m, m)),                        # two fds
        (good, rights(m)[:1] + rights(m)),           # two fds, two messages
        (good[:-1], rights(m)),                      # no final NUL
        (b"QDKIM1\0", rights(m)),                    # no sender
        (b"QDKIM2\0sender@example.com\0", rights(m)),  # another magic
        (b"QDKIM1\0a\0b\0", rights(m)),              # a NUL inside
        (b"QDKIM1\0" + b"a" * 5000 + b"\0", rights(m)),  # too long
        (good, rights(r)),                           # a pipe
        (good, rights(m)),                           # the message
    ]
    print("".join(ask(path, d, a) for d, a in cases))


if __name__ == "__main__":
    main()
