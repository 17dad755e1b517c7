#!/usr/bin/python3
"""body-hash.py FILE: the RFC 6376 3.7 body hash (sha256, base64) of the queue
file FILE as the receiver gets it, for c=.../relaxed, computed in one pass
and little memory, so that a message of gigabytes can be checked without a
verifier that holds it whole.

Relaxed body canonicalization (RFC 6376 3.4.4): LF becomes CRLF (as
qmail-remote sends it), runs of WSP become one SP, WSP at line ends goes,
empty lines at the end go, and a non-empty body ends in CRLF.
"""
import base64
import hashlib
import re
import sys

WSP = re.compile(rb"[ \t]+")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: body-hash.py FILE")
    h = hashlib.sha256()
    empties = 0      # empty lines held back: they count only if more follows
    partial = b""
    in_body = False
    with open(sys.argv[1], "rb") as f:
        while True:
            chunk = f.read(1 << 22)
            if not chunk:
                break
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            for line in lines:
                if not in_body:
                    in_body = line == b""
                    continue
                if b" " in line or b"\t" in line:
                    line = WSP.sub(b" ", line).rstrip(b" ")
                if line == b"":
                    empties += 1
                    continue
                h.update(b"\r\n" * empties + line + b"\r\n")
                empties = 0
    if partial and in_body:
        line = WSP.sub(b" ", partial).rstrip(b" ")
        if line:
            h.update(b"\r\n" * empties + line + b"\r\n")
    print(base64.b64encode(h.digest()).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
