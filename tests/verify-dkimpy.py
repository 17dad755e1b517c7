#!/usr/bin/python3
"""verify-dkimpy.py DNSDIR WIREFILE: check every DKIM-Signature with dkimpy.

WIREFILE is the message as the receiver gets it (CRLF).  TXT records come
from DNSDIR/NAME (NAME without the trailing dot), not from DNS.  One line per
signature, "pass d= s= a=" or "fail d= s= a= (reason)"; exit 0 only if there
is at least one signature and every one passes.
"""
import logging
import os
import sys

# Importing dnspython costs 0.4 s (it pulls in httpx); we never ask DNS,
# and without it dkim still imports, just with no default resolver.
sys.modules["dns"] = sys.modules["DNS"] = None
import dkim  # noqa: E402
import dkim.canonicalization  # noqa: E402


PIECE = 1 << 20


def by_pieces(fn):
    """dkimpy's relaxed body canonicalization runs line-local regexes over the
    whole body at once and needs ~40 times its size in memory (12 GB for
    300 MB).  The same function over pieces that end in CRLF gives the same
    bytes."""
    def piecewise(content):
        out, start = [], 0
        while start < len(content):
            end = content.find(b"\r\n", start + PIECE)
            end = len(content) if end < 0 else end + 2
            out.append(fn(content[start:end]))
            start = end
        return b"".join(out)
    return piecewise


for name in ("strip_trailing_whitespace", "compress_whitespace"):
    setattr(dkim.canonicalization, name, by_pieces(getattr(dkim.canonicalization, name)))


def load(msg, log):
    """dkim.DKIM(msg), without splitting a big body into a list of lines: for
    CRLF-only input the body dkimpy builds is the bytes after the blank line."""
    sep = msg.find(b"\r\n\r\n")
    if sep < 0 or msg.startswith(b"\r\n") or msg.count(b"\n") != msg.count(b"\r\n"):
        return dkim.DKIM(msg, logger=log)
    d = dkim.DKIM(msg[:sep + 4], logger=log)
    d.body = msg[sep + 4:]
    return d


class Reasons(logging.Handler):
    """Collects the messages dkimpy logs."""
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: verify-dkimpy.py DNSDIR WIREFILE")
    dnsdir, wirefile = sys.argv[1:]

    def dnsfunc(name, timeout=5):
        name = name.decode("ascii", "replace").rstrip(".")
        if "/" in name or name.startswith("."):
            return None
        try:
            with open(os.path.join(dnsdir, name), "rb") as f:
                return f.read().strip()
        except FileNotFoundError:
            return None  # NXDOMAIN

    # dkimpy logs why it rejected a key; keep that as the reason.
    handler = Reasons()
    reasons = handler.messages
    log = logging.getLogger("verify-dkimpy")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.ERROR)

    try:
        with open(wirefile, "rb") as f:
            d = load(f.read(), log)
    except (OSError, dkim.DKIMException) as e:
        print("fail: %s: %s" % (type(e).__name__, e))
        return 1
    nsig = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
    if nsig == 0:
        print("fail: no DKIM-Signature")
    good = 0
    for i in range(nsig):
        reasons.clear()
        d.signature_fields = {}
        try:
            res = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            res = False
            reasons.append("%s: %s" % (type(e).__name__, e))
        sig = d.signature_fields
        tags = " ".join("%s=%s" % (t, sig.get(t.encode(), b"?").decode("ascii", "replace"))
                        for t in ("d", "s", "a"))
        if res:
            good += 1
            print("pass", tags)
        else:
            print("fail", tags, "(%s)" % ("; ".join(reasons) or "signature does not verify"))
    return 0 if nsig and good == nsig else 1


if __name__ == "__main__":
    sys.exit(main())
