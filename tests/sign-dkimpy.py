#!/usr/bin/python3
"""sign-dkimpy.py KEYFILE DOMAIN SELECTOR [C] < WIRE > SIGNED

Test-only reference signer: prepends a dkimpy DKIM-Signature (canonicalization
C, default relaxed/simple; h=From:To:Subject:Date:Message-ID) to a CRLF message.  KEYFILE is a PEM key as
make_key writes it; an Ed25519 one gets an ed25519-sha256 signature.
"""
import base64
import sys

# Importing dnspython costs 0.4 s (it pulls in httpx); we never ask DNS,
# and without it dkim still imports, just with no default resolver.
sys.modules["dns"] = sys.modules["DNS"] = None
import dkim  # noqa: E402


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: sign-dkimpy.py KEYFILE DOMAIN SELECTOR [C] < WIRE > SIGNED")
    keyfile, domain, selector = (a.encode() for a in sys.argv[1:4])
    canon = tuple((sys.argv[4] if len(sys.argv) == 5 else "relaxed/simple").encode().split(b"/"))
    with open(keyfile, "rb") as f:
        pem = f.read()
    alg = b"rsa-sha256"
    if b"BEGIN PRIVATE KEY" in pem:
        der = base64.b64decode(b"".join(l for l in pem.splitlines() if b"-----" not in l))
        if len(der) == 48:
            # PKCS#8 Ed25519: dkimpy wants the bare 32-byte seed, base64 (RFC 8463).
            alg, pem = b"ed25519-sha256", base64.b64encode(der[-32:])
    msg = sys.stdin.buffer.read()
    sig = dkim.sign(msg, selector, domain, pem, signature_algorithm=alg,
                    canonicalize=canon,
                    include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"])
    sys.stdout.buffer.write(sig + msg)


if __name__ == "__main__":
    main()
