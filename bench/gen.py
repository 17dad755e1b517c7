#!/usr/bin/python3
"""gen.py SIZE OUTFILE: a realistic queue-file message of about SIZE bytes.

SIZE is bytes, or a number with K, M or G (2K, 100K, 10M, 100M, 1G).  The message
is what qmail-queue stores: LF line ends, qmail's own Received: line on top,
then a MIME message: a text/plain part of prose (a few lines with trailing
or doubled spaces, which relaxed canonicalization has to work on) and base64
attachments of random bytes in 76-column lines.  The same SIZE always gives
the same bytes.
"""
import base64
import random
import sys

WORDS = ("the of and to in a is that for it as was with be by on not he this "
         "are or his from at which but have an they you were her she there "
         "been one all we their has would when if so no will can more who out "
         "report quarter figures contract meeting signed invoice attached "
         "delivery schedule budget review draft final approval minutes").split()


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def prose(rng, size):
    """Paragraphs of words, lines of at most 72 columns, about size bytes."""
    out, n, line = [], 0, []
    while n < size:
        w = rng.choice(WORDS)
        if sum(len(x) + 1 for x in line) + len(w) > 72:
            text = " ".join(line)
            r = rng.random()
            if r < 0.03:
                text += "  "  # trailing white space
            elif r < 0.06:
                text = text.replace(" ", "  ", 1)  # doubled space
            out.append(text + "\n")
            n += len(out[-1])
            line = []
            if rng.random() < 0.15:
                out.append("\n")
                n += 1
        line.append(w.capitalize() if not line else w)
    return "".join(out)


def attachment(rng, boundary, name, rawlen):
    data = base64.encodebytes(rng.randbytes(rawlen)).decode("ascii")
    return ("--%s\n"
            "Content-Type: application/pdf; name=\"%s\"\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"%s\"\n"
            "\n%s\n" % (boundary, name, name, data))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen.py SIZE OUTFILE")
    size = parse_size(sys.argv[1])
    rng = random.Random(size)
    boundary = "=_qmail-dkim-bench_%d" % size
    header = (
        "Received: (qmail 4242 invoked by uid 1000); 28 Nov 2026 09:14:07 -0000\n"
        "From: Alice Example <alice@example.com>\n"
        "To: Bob Receiver <bob@gmail.example>\n"
        "Subject: Q3 report, figures and the signed contract\n"
        "Date: Sat, 28 Nov 2026 10:14:07 +0100\n"
        "Message-ID: <20261128091407.4242.qmail@mail.example.com>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed;\n"
        "\tboundary=\"%s\"\n"
        "User-Agent: Bench/1.0\n"
        "\n"
        "This is a multi-part message in MIME format.\n"
        "\n" % boundary)
    textlen = min(max(size // 3, 600), 16 * 1024)
    text = ("--%s\n"
            "Content-Type: text/plain; charset=utf-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            "\n%s\n" % (boundary, prose(rng, textlen)))
    end = "--%s--\n" % boundary
    # attachments of at most 32 MB each, filling what is left
    left = size - len(header) - len(text) - len(end)
    with open(sys.argv[2], "w", newline="\n") as f:
        f.write(header + text)
        i = 1
        while left > 300:
            b64 = min(left - 200, 32 * 1024 * 1024)
            raw = b64 * 57 // 77  # 57 bytes make a 76-column line plus LF
            part = attachment(rng, boundary, "scan-%d.pdf" % i, raw)
            f.write(part)
            left -= len(part)
            i += 1
        f.write(end)


if __name__ == "__main__":
    main()
