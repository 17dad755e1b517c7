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
  silent   reads the request and never answers, holding the connection
  huge     a "signed" verdict larger than qmail-dkimc takes (WIRE_MAX)
  good     two well-formed DKIM-Signature fields, one folded (they do not
           verify: the test checks they are handed on as they came)
  and the malformed "signed" verdicts in BAD below, by name
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
    "good": b"S0d=example.com\0DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\n"
            b"\ts=one; b=AAAA\nDKIM-Signature: v=1; d=example.com; s=two; b=BBBB\n",
    # 128 KiB + 1 of text with no NUL: more than qmail-dkimc's buffer
    "huge": b"S0" + b"x" * (128 * 1024 + 1) + b"\0DKIM-Signature: v=1\n",
}

SIG = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=default; b=AAAA"
# "signed" verdicts whose fields must not be put before the message
BAD = {
    "addfield": SIG + b"\nX-Added: by the daemon\n",
    "emptyline": SIG + b"\n\nSubject: injected\n",
    "emptyfirst": b"\n" + SIG + b"\n",
    "cr": SIG + b"\r\n",
    "crinside": SIG[:30] + b"\r" + SIG[30:] + b"\n",
    "nulinside": SIG[:30] + b"\0" + SIG[30:] + b"\n",
    "nolf": SIG,
    "nocont": SIG + b"\nb=BBBB\n",
    "wspcont": SIG + b"\n \t\n",
    "wspend": SIG + b"\n ",
    "lowercase": SIG.lower() + b"\n",
    "noblank": b"DKIM-Signature:v=1; d=example.com\n",
    "emptyvalue": b"DKIM-Signature: \n",
    "eightbit": SIG + b"\xc3\xa9\n",
    "ctrl": SIG + b"\x1b\n",
    "secondbad": SIG + b"\nDKIM-Signature: v=1\nReceived: x\n",
    "onlyname": b"DKIM-Signature: ",
    "empty": b"",
}
for _k, _v in BAD.items():
    REPLIES[_k] = b"S0d=example.com\0" + _v
# other verdicts that are not well-formed
REPLIES.update({
    "textlf": b"Z0two\nlines\0",
    "unsignedtail": b"U0not signed\0DKIM-Signature: v=1\n",
    "badcr": b"S2d=example.com\0" + SIG + b"\n",
    "zero": b"",
    "short": b"S0",
})


def main():
    mode, path, log = sys.argv[1:4]
    if mode not in ("close", "silent") and mode not in REPLIES:
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
    held = []
    while True:
        c, _ = s.accept()
        with open(log, "a") as f:
            f.write("connection\n")
        try:
            if mode != "close":
                _, anc, _, _ = c.recvmsg(4096, socket.CMSG_SPACE(16))
                for _lv, _ty, data in anc:  # the passed fd: not ours to keep
                    for i in range(0, len(data) - len(data) % 4, 4):
                        os.close(int.from_bytes(data[i:i + 4], sys.byteorder))
            if mode == "silent":
                held.append(c)
                continue
            if mode != "close":
                c.send(REPLIES[mode])
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
