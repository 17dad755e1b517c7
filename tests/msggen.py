"""msggen: queue files built from a grammar of what a header and a body can
hold, for tests/differential.py.

messages(seed, count) yields Message(name, data, sender, shape): the bytes
of a queue file (what qmail-dkim reads on fd 0), the envelope sender, and
the grammar choices that made it, for a person to read.  The same seed
gives the same messages (random.Random, no other source of chance).

Keys exist for example.com (and so its subdomains); nokey.test has none.
Most messages have a From: in example.com, so that many are signable and
the odd bytes meet the signer, not just the "no key" path.  The weights
are set so that about two in five messages are signable (tests/expect.py
says which) and each feature that makes a message unsignable still
occurs in one message or more in a hundred.
"""
import random
from collections import namedtuple

Message = namedtuple("Message", "name data sender shape")

CTL = bytes(list(range(0x00, 0x20)) + [0x7F])
HIGH = bytes(range(0x80, 0x100))
WORDS = [b"hello", b"world", b"qmail", b"dkim", b"Re:", b"=?utf-8?q?x?=",
         b"(comment)", b"\"quoted\"", b"a,b", b";", b"<x@y>", b"\xc3\xa9t\xc3\xa9",
         b"\xe9t\xe9", b"x" * 40]
AUTHORS = [b"a@example.com", b"Ann <ann@example.com>", b"b@sub.example.com",
           b"\"Q, R\" <q@example.com>", b"c@EXAMPLE.COM", b"x@nokey.test",
           b"(c) d@example.com", b"e@example.com (e)", b"<f@example.com>",
           b"undisclosed:;", b"g@example.com, h@nokey.test"]
NAMES = [b"To", b"Cc", b"Subject", b"Date", b"Message-ID", b"Reply-To",
         b"MIME-Version", b"Content-Type", b"Content-Transfer-Encoding",
         b"In-Reply-To", b"References", b"List-Id", b"List-Unsubscribe",
         b"Sender", b"X-Mailer", b"X-Odd", b"Received", b"Return-Path", b"Bcc",
         b"Resent-From", b"DKIM-Signature", b"Comments", b"Keywords"]
# Unicode white space (UTF-8 NBSP, U+2003, U+3000) and VT, FF: relaxed
# header canonicalization cannot sign them at a value's ends
# (qmail-dkim(8)): left out of h=, or in From: unsigned
USPACE = [b"\xc2\xa0", b"\xe2\x80\x83", b"\xe3\x80\x80", b"\x0b", b"\x0c"]
SENDERS = [b"x@nokey.test", b"x@nokey.test", b"bounce@example.com", b"",
           b"#@[]", b"s@sub.example.com"]


class Gen:
    def __init__(self, rng):
        self.r = rng
        self.shape = []

    def note(self, what):
        self.shape.append(what)

    def chance(self, p):
        return self.r.random() < p

    # --- pieces ---------------------------------------------------------

    def case(self, name):
        """A field name as written: usual, upper, lower or mixed case."""
        k = self.r.random()
        if k < 0.7:
            return name
        if k < 0.8:
            return name.upper()
        if k < 0.9:
            return name.lower()
        return bytes(c ^ 0x20 if 0x41 <= (c | 0x20) <= 0x5A and self.chance(0.5) else c
                     for c in name)

    def sep(self):
        """The colon and what surrounds it."""
        k = self.r.random()
        if k < 0.75:
            return b": "
        if k < 0.85:
            return b":"
        if k < 0.9:
            return b":\t"
        if k < 0.95:
            return b":  "
        if k < 0.985:
            return b": "
        return self.r.choice([b" :", b"\t: ", b" : "])

    def odd_bytes(self):
        """A few bytes no well-formed header holds."""
        k = self.r.random()
        if k < 0.5:
            return bytes(self.r.choice(CTL) for _ in range(self.r.randint(1, 3)))
        if k < 0.8:
            return bytes(self.r.choice(HIGH) for _ in range(self.r.randint(1, 4)))
        return self.r.choice([b"\r", b"\r\r", b"\x00", b"\x7f", b"\x1b[0m", b"\t\t"])

    def text(self, lo=1, hi=8):
        out = []
        for _ in range(self.r.randint(lo, hi)):
            w = self.r.choice(WORDS)
            if self.chance(0.08):
                w = w + self.odd_bytes()
            out.append(w)
        return b" ".join(out)

    def fold(self, value):
        """Value split over continuation lines: returns the list of lines."""
        if not self.chance(0.2) or b" " not in value:
            return [value]
        parts = value.split(b" ")
        lines, cur = [], parts[0]
        for p in parts[1:]:
            if self.chance(0.4):
                lines.append(cur)
                lead = self.r.choice([b" ", b"\t", b"  ", b" \t"])
                cur = lead + p
            else:
                cur = cur + b" " + p
        lines.append(cur)
        if self.chance(0.1):
            # a continuation line of white space only (or nothing at all)
            self.note("empty continuation")
            lines.insert(self.r.randint(1, len(lines)), self.r.choice([b" ", b"\t", b" \t "]))
        return lines

    def value_for(self, name):
        low = name.lower()
        if low in (b"to", b"cc", b"reply-to", b"sender", b"resent-from", b"bcc"):
            v = b", ".join(self.r.choice(AUTHORS) for _ in range(self.r.randint(1, 3)))
        elif low == b"date":
            v = b"Thu, 1 Jan 2026 00:00:00 +0000"
        elif low == b"message-id":
            v = b"<%d@example.com>" % self.r.randint(0, 1 << 30)
        elif low == b"received":
            v = b"from x by y; Thu, 1 Jan 2026 00:00:00 +0000"
        elif low == b"dkim-signature" and self.chance(0.6):
            # another signer's: signed all the same (qmail-dkim(8))
            v = (b"v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=sel;"
                 b" t=1767225600; h=From:To:Subject; bh=%s=; b=%s" % (
                     b"Q" * 43, b"Zm9v" * self.r.randint(1, 80)))
        else:
            v = self.text()
            if self.chance(0.04):
                self.note("white space relaxed cannot sign in %s" % name.decode())
                u = self.r.choice(USPACE)
                v = u + v if self.chance(0.5) else v + u
        if self.chance(0.05):
            v = b""
            self.note("empty value")
        if self.chance(0.03):
            n = self.r.choice([999, 1000, 4096, 70000])
            v = v + b" " + (b"L" * n)
            self.note("long value %d" % n)
        return v

    def field(self, name, value=None):
        value = self.value_for(name) if value is None else value
        lines = self.fold(value)
        lines[0] = self.case(name) + self.sep() + lines[0]
        return lines

    # --- a message ------------------------------------------------------

    def header(self):
        lines = [b"Received: (qmail %d invoked by uid 1000); 1 Jan 2026 00:00:00 -0000"
                 % self.r.randint(1, 99999)]
        fields = []
        nfrom = 1
        k = self.r.random()
        if k < 0.05:
            nfrom = 0
            self.note("no From")
        elif k < 0.11:
            nfrom = 2
            self.note("two From")
        for _ in range(nfrom):
            author = self.r.choice(AUTHORS)
            if self.chance(0.08):
                # odd bytes in the From: value itself, before or after the address
                self.note("odd bytes in From")
                odd = self.odd_bytes()
                author = odd + author if self.chance(0.5) else author + odd
            elif self.chance(0.12):
                self.note("white space relaxed cannot sign in From")
                u = self.r.choice(USPACE)
                author = u + author if self.chance(0.5) else author + u
            fields.append(self.field(b"From", author))
        for _ in range(self.r.randint(0, 8)):
            fields.append(self.field(self.r.choice(NAMES)))
        if self.chance(0.05):
            # the same field twice, the names spelt differently
            name = self.r.choice([b"Subject", b"To", b"Reply-To", b"Date", b"Cc"])
            self.note("%s twice, two spellings" % name.decode())
            fields.append(self.field(name))
            fields.append(self.field(name.swapcase()))
        if self.chance(0.03):
            n = self.r.choice([50, 700, 1401, 1500])
            self.note("%d To fields" % n)
            fields += [[b"To: r%d@example.net" % i] for i in range(n)]
        if self.chance(0.01):
            self.note("header over 1 MB")
            fields += [[b"X-Big: " + b"H" * 99990] for _ in range(11)]
        if self.chance(0.07):
            # a field whose name holds odd bytes, or a line with no colon
            bad = self.r.choice([b"X-\x01Odd", b"X Odd", b"X-\xe9", b"", b"X-Odd\x7f",
                                 b"no colon at all"])
            self.note("bad name %r" % bad)
            fields.append([bad if bad == b"no colon at all" else bad + b": v"])
        self.r.shuffle(fields)
        for f in fields:
            lines += f
        if self.chance(0.02):
            self.note("Received last")
            lines.append(lines.pop(0))
        return lines

    def body(self):
        k = self.r.random()
        if k < 0.1:
            self.note("empty body")
            return []
        lines = []
        for _ in range(self.r.randint(1, 12)):
            k = self.r.random()
            if k < 0.6:
                lines.append(self.text(0, 12))
            elif k < 0.7:
                lines.append(self.r.choice([b".", b"..", b".x", b". ", b"..."]))
            elif k < 0.8:
                lines.append(b"")
            elif k < 0.85:
                lines.append(self.text() + self.r.choice([b" ", b"\t", b"  \t"]))
            elif k < 0.9:
                n = self.r.choice([998, 999, 1000, 5000, 5000, 70000])
                lines.append(b"B" * n)
            else:
                lines.append(self.odd_bytes() + self.text(0, 3))
        if self.chance(0.1):
            lines += [b""] * self.r.randint(1, 3)
        return lines

    def ends(self, nlines):
        """One line end for each line: LF, or a mix with CRLF, bare CR and
        CR CR LF."""
        k = self.r.random()
        if k < 0.7:
            return [b"\n"] * nlines
        if k < 0.8:
            self.note("CRLF")
            return [b"\r\n"] * nlines
        if k < 0.85:
            self.note("CR CR LF")
            return [b"\r\r\n"] * nlines
        self.note("mixed line ends")
        return [self.r.choice([b"\n", b"\n", b"\r\n", b"\r\r\n", b"\r", b"\r\n\r"])
                for _ in range(nlines)]

    def message(self):
        hdr = self.header()
        structure = self.r.random()
        if structure < 0.04:
            self.note("header only, no blank line")
            lines = hdr
        elif structure < 0.07:
            self.note("leading blank line")
            lines = [b""] + hdr + [b""] + self.body()
        else:
            lines = hdr + [b""] + self.body()
        ends = self.ends(len(lines))
        data = b"".join(l + e for l, e in zip(lines, ends))
        if self.chance(0.03) and data:
            self.note("no final line end")
            data = data.rstrip(b"\r\n")
        return data


def messages(seed, count):
    """count messages, the same ones for the same seed."""
    for i in range(count):
        r = random.Random("%s/%d" % (seed, i))
        g = Gen(r)
        data = g.message()
        sender = r.choice(SENDERS)
        yield Message("%s-%d" % (seed, i), data, sender, ", ".join(g.shape) or "plain")


if __name__ == "__main__":
    import sys
    for m in messages(sys.argv[1] if len(sys.argv) > 1 else "1",
                      int(sys.argv[2]) if len(sys.argv) > 2 else 5):
        print(m.name, repr(m.sender), m.shape)
        print(m.data[:400])
