#!/usr/bin/python3
"""dkimpy-remote.py HOST SENDER RECIPIENT...: a qmail-remote wrapper that
signs with dkimpy, as an admin would wire in dkimpy's dkimsign.

It does what dkimsign does (reads the whole message, dkim.DKIM with the
message's own line separator, sign) with the settings qmail-dkim uses:
rsa-sha256, c=relaxed/relaxed, the h= list in BENCH_H (taken from a
qmail-dkim signature of the same message, oversigned names included).
Then, like qmail-dkim, it execs the real qmail-remote (BENCH_REAL) with
the signed message on fd 0: a pipe that a forked writer fills.
BENCH_KEY, BENCH_DOMAIN and BENCH_SELECTOR name the key.  dkimpy is
imported as shipped, dnspython included, as dkimsign imports it.
"""
import os
import sys

import dkim
import dkim.util


def main():
    env = os.environ
    with open(env["BENCH_KEY"], "rb") as f:
        key = f.read()
    chunks = []
    while True:
        buf = os.read(0, 1 << 20)
        if not buf:
            break
        chunks.append(buf)
    msg = b"".join(chunks)
    d = dkim.DKIM(msg, linesep=dkim.util.get_linesep(msg))
    sig = d.sign(env["BENCH_SELECTOR"].encode(), env["BENCH_DOMAIN"].encode(), key,
                 canonicalize=(b"relaxed", b"relaxed"),
                 include_headers=[h.encode() for h in env["BENCH_H"].split(":")])
    r, w = os.pipe()
    if os.fork() == 0:
        os.close(r)
        with os.fdopen(w, "wb") as out:
            out.write(sig)
            out.write(msg)
        os._exit(0)
    os.close(w)
    os.dup2(r, 0)
    os.close(r)
    os.execv(env["BENCH_REAL"], [env["BENCH_REAL"]] + sys.argv[1:])


if __name__ == "__main__":
    main()
