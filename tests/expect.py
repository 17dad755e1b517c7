"""expect: whether qmail-dkim must sign a message, by the rules qmail-dkim(8)
documents, worked out from the message bytes alone (never by the C code),
for tests/differential.py.

signable(data, sender, relaxed, keyed) -> None when the message must come
out signed, else the documented case that sends it on unsigned and
unchanged.  data is the queue file as read on fd 0, sender the envelope
sender, relaxed whether the header canonicalization is relaxed, keyed the
domains with a key (their subdomains sign with it too).

The rules, as qmail-dkim(8) gives them (DESCRIPTION, Line endings and
RESULTS):
  - the message is read in the form it is signed in: every CRLF and every
    bare CR made an LF; the header ends at the first empty line
    (RFC 5322 2.1);
  - unsigned: an empty message; a last line without a line end; no empty
    line after the header; a header block over 1 MB; a NUL in the
    header; a field name followed by white space before its colon
    (RFC 5322 4.5 obs-syntax, which dkimpy cannot read); a header line
    that is neither a field (RFC 5322 3.6.8 ftext name, then a colon) nor
    a continuation of one; no From: field or several;
  - the signing domain is the domain of the first address in From:, or
    a parent of it (never a bare top-level domain), else the envelope
    sender's domain or a parent (none for a bounce, <> or #@[], without
    control/bouncehost or control/me): no key there, unsigned;
  - under relaxed header canonicalization a header with a continuation
    line of white space only, or a From: whose value holds a VT or FF, or
    begins or ends with Unicode white space, is signed with simple header
    canonicalization instead (other such fields are left out of h=).
Anything else must be signed: "a message that is signed already is signed
all the same", and a DKIM-Signature field of another signer is never
covered (RFC 6376 5.4), so whatever it holds a correct signature is
possible.

header_canon(data, relaxed) is the header canonicalization the signature
must name in c=; h_wrong(data, h, relaxed) checks a signature's h=
against what qmail-dkim(8) says it covers and leaves out (relaxed: the
header canonicalization of that signature).
"""
import re

HDR_MAX = 1024 * 1024
FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
OBS_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]+:")
# UTF-8 Unicode white space qmail-dkim(8) names: NBSP, NEL, U+1680,
# U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000
USPACE = [b"\xc2\xa0", b"\xc2\x85", b"\xe1\x9a\x80", b"\xe2\x80\xa8", b"\xe2\x80\xa9",
          b"\xe2\x80\xaf", b"\xe2\x81\x9f", b"\xe3\x80\x80"] + [
          b"\xe2\x80" + bytes([c]) for c in range(0x80, 0x8b)]
LDH = re.compile(rb"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def lf_form(data):
    """The form signed: CRLF and bare CR made LF (qmail-dkim(8), Line endings)."""
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def fields(header):
    """The header block as [name, value] (value with its continuation
    lines), or a string: why it is not a header."""
    out = []
    for line in header.split(b"\n")[:-1]:
        if line[:1] in (b" ", b"\t"):
            if not out:
                return "a header line that is not a field"
            out[-1][1] += b"\n" + line
            continue
        m = FIELD.match(line)
        if not m and OBS_FIELD.match(line):
            return "white space between a field name and its colon"
        if not m:
            return "a header line that is not a field"
        out.append([line[:m.end() - 1], line[m.end():]])
    return out


def strip_cfws(v):
    """The From: value with comments gone and quoted strings made one
    placeholder byte, so that only the address syntax is left (RFC 5322
    3.2.2, 3.2.4)."""
    out = bytearray()
    depth, quoted, i = 0, False, 0
    while i < len(v):
        c = v[i:i + 1]
        if c == b"\\" and (quoted or depth):
            i += 2
            continue
        if quoted:
            if c == b'"':
                quoted = False
                out += b"Q"
        elif depth:
            depth += {b"(": 1, b")": -1}.get(c, 0)
        elif c == b"(":
            depth = 1
        elif c == b'"':
            quoted = True
        else:
            out += c
        i += 1
    return bytes(out)


def from_domain(value):
    """The domain of the first address of a From: value (RFC 5322 3.4),
    lower case, or None."""
    v = strip_cfws(value)
    # a group: its display name ends at the colon (before any address)
    colon, lt = v.find(b":"), v.find(b"<")
    if colon != -1 and (lt == -1 or colon < lt):
        v = v[colon + 1:]
    first = b""
    for part in re.findall(rb"(?:<[^>]*>?|[^,;<])+", v):
        if part.strip(b" \t\n"):
            first = part     # the first mailbox; obs-mbox-list allows empty ones
            break
    m = re.search(rb"<([^>]*)", first)
    addr = m.group(1).rsplit(b":", 1)[-1] if m else first   # an obsolete route
    addr = re.sub(rb"[ \t\n]", b"", addr)
    if b"@" not in addr:
        return None
    return addr.rsplit(b"@", 1)[1]


def valid_domain(d):
    if d is None:
        return None
    d = d.lower()
    if d.endswith(b"."):
        d = d[:-1]
    labels = d.split(b".")
    if len(d) > 253 or len(labels) < 2 or not all(LDH.fullmatch(x) for x in labels):
        return None
    return d


def has_key(domain, keyed):
    """domain or a parent of two labels at least has a key."""
    if domain is None:
        return False
    labels = domain.split(b".")
    return any(b".".join(labels[i:]) in keyed for i in range(len(labels) - 1))


def relaxed_ok(value):
    if b"\x0b" in value or b"\x0c" in value:
        return False
    v = value.strip(b" \t\n")
    return not any(v.startswith(u) or v.endswith(u) for u in USPACE)


def signable(data, sender, relaxed, keyed):
    if not data:
        return "an empty message"
    if not data.endswith(b"\n"):
        return "a last line without a line end"
    n = lf_form(data)
    if n.startswith(b"\n"):
        return "no From: field (the message starts with an empty line)"
    end = n.find(b"\n\n")
    if end == -1:
        return "no empty line after the header"
    header = n[:end + 1]
    if len(header) > HDR_MAX:
        return "a header block over 1 MB"
    if b"\0" in header:
        return "a NUL byte in the header"
    fs = fields(header)
    if isinstance(fs, str):
        return fs
    froms = [v for name, v in fs if name.lower() == b"from"]
    if len(froms) != 1:
        return "no From: field" if not froms else "several From: fields"
    fromdom = valid_domain(from_domain(froms[0]))
    envdom = None
    if sender not in (b"", b"#@[]") and b"@" in sender:
        envdom = valid_domain(sender.rsplit(b"@", 1)[1])
    if not has_key(fromdom, keyed) and not has_key(envdom, keyed):
        return "no key for the From: or envelope domain"
    return None


def header_canon(data, relaxed):
    """c='s header part for a signable message: the policy's, but simple
    where relaxed cannot sign the header so that every verifier agrees."""
    if not relaxed:
        return "simple"
    header = lf_form(data).split(b"\n\n", 1)[0] + b"\n"
    fs = fields(header)
    blank = any(re.search(rb"\n[ \t]+(?:\n|\Z)", v) for _, v in fs)
    froms = [v for name, v in fs if name.lower() == b"from"]
    if blank or not relaxed_ok(froms[0]):
        return "simple"
    return "relaxed"


NEVER = {b"received", b"return-path", b"bcc", b"dkim-signature"}


def h_wrong(data, h, relaxed):
    """What is wrong with the h= tag (names joined by colons, white space
    gone) of a signature on this signable message by qmail-dkim(8), or
    None: no longer than 4,095 bytes; From: always signed (RFC 6376 5.4);
    Received, Return-Path, Bcc and DKIM-Signature never; each name has one
    spelling; under relaxed header canonicalization no field whose value
    holds a VT or FF, or begins or ends with Unicode white space, is
    covered."""
    if len(h) > 4095:
        return "h= is longer than the 4,095 bytes libopendkim keeps"
    names = h.split(b":")
    low = [n.lower() for n in names]
    if b"from" not in low:
        return "h= does not name From"
    if NEVER & set(low):
        return "h= names %s" % b", ".join(sorted(NEVER & set(low))).decode()
    if len(set(names)) != len(set(low)):
        return "h= spells a name in several cases"
    if relaxed:
        header = lf_form(data).split(b"\n\n", 1)[0] + b"\n"
        for name, v in fields(header):
            if name.lower() in low and not relaxed_ok(v):
                return "h= names %s, which relaxed canonicalization cannot sign" % (
                    name.decode("latin-1"))
    return None
