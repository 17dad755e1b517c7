#!/usr/bin/python3
"""A syslog socket of the tests' own: log-sink.py SOCKET FILE

Binds the datagram socket SOCKET (tests/private.sh mounts it on /dev/log in
the tests' namespace) and appends each message it gets to FILE, one line
each, as syslog(3) sent it ("<PRI>TIMESTAMP IDENT[PID]: TEXT").  Prints
"ready" on stdout once bound; runs until killed.
"""
import os
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)  # qmail-dkim runs as qmailr or nobody in some tests
    with open(out, "ab", buffering=0) as f:
        print("ready", flush=True)
        sys.stdout.close()
        while True:
            msg = s.recv(1 << 16)
            f.write(msg.rstrip(b"\0\n").replace(b"\n", b" ") + b"\n")


if __name__ == "__main__":
    main()
