/* t-header.c -- splitting the header, and what is refused as unsignable */
#include "qdkim.h"
#include "tap.h"

static struct header h;

static int
parse(const char *hdr, size_t len, const char **reason)
{
	*reason = NULL;
	return header_parse(hdr, len, &h, reason);
}

/* header_relaxed_ok on the only field of "From: x\nNAME: value\n". */
static int
relaxed_ok(const char *value, size_t len)
{
	static char buf[256];
	const char *reason;
	int n;

	n = snprintf(buf, sizeof buf, "From: a@example.com\nSubject:");
	memcpy(buf + n, value, len);
	buf[n + len] = '\n';
	if (parse(buf, (size_t)n + len + 1, &reason) != 1 || h.n != 2)
		return -1;
	return header_relaxed_ok(buf, &h.f[1]);
}

#define RELAXED(s) relaxed_ok(s, sizeof s - 1)

static void
refused(const char *hdr, size_t len, const char *why_want)
{
	const char *reason;
	int r = parse(hdr, len, &reason);

	ok(r == 0, why_want);
	is_str(r == 0 ? reason : NULL, why_want, "  reason given");
}

int
main(void)
{
	static const char good[] =
	    "Received: (qmail 1 invoked by uid 0); 1 Jan 2026\n"
	    "From: Alice\n <alice@example.com>\n"
	    "Subject: a\n\tb\n"
	    "X-Empty:\n";
	static const char nul[] = "From: a@example.com\nX: a\0b\n";
	const char *reason;

	ok(parse(good, sizeof good - 1, &reason) == 1, "good header parses");
	ok(h.n == 4, "four fields");
	ok(h.from == 1, "From is the second field");
	ok(h.f[1].len == strlen("From: Alice\n <alice@example.com>"),
	    "From runs over its continuation line, without the final LF");
	ok(h.f[1].namelen == 4, "name length");
	ok(h.f[3].len == strlen("X-Empty:"), "empty field");
	ok(parse("from: a@example.com", 19, &reason) == 1,
	    "a last field without LF (header-only message)");

	refused(nul, sizeof nul - 1, "a NUL byte in the header");
	refused("From: a@example.com\nno colon here\n", 34,
	    "a header line that is not a field");
	refused("From : a@example.com\n", 21,
	    "white space between a field name and its colon (RFC 5322 4.5), "
	    "which dkimpy cannot read");
	refused("From: a@example.com\nDate\t :x\n", 29,
	    "white space between a field name and its colon (RFC 5322 4.5), "
	    "which dkimpy cannot read");
	refused(" From: a@example.com\n", 21,
	    "the header starts with a continuation line");
	ok(parse("From: a@example.com\n \nX: y\n", 27, &reason) == 1 &&
	    h.blank_line && h.n == 2, "a continuation line of white space "
	    "only is part of its field, and marked");
	ok(parse("From: a@example.com\nX: y\n", 25, &reason) == 1 &&
	    !h.blank_line, "  and none is not marked");
	refused("Subject: x\n", 11, "no From: field");
	refused("", 0, "no From: field");
	refused("From: a@example.com\nFROM: b@example.com\n", 40,
	    "several From: fields");
	refused("F\xc3\xb6o: x\nFrom: a@example.com\n", 28,
	    "a header line that is not a field");

	/* what libopendkim's relaxed canonicalization gets right */
	ok(RELAXED(" hello world") == 1, "plain value");
	ok(RELAXED(" a\tb  c \t") == 1, "SP and HTAB anywhere");
	ok(RELAXED(" a\n\tb") == 1, "a continuation line");
	ok(RELAXED("\n b") == 1, "a value that starts on the next line");
	ok(RELAXED(" a\x01\x1f\x7f\x80\xff b") == 1,
	    "other control bytes, DEL, 8-bit bytes");
	ok(RELAXED(" a\xc2\xa0" "b") == 1, "NBSP inside the value");
	ok(RELAXED(" \xe2\x80\x8bx") == 1,
	    "zero-width space (not white space) at the start");
	ok(RELAXED("") == 1, "empty value");
	/* and what it gets wrong */
	ok(RELAXED(" a\fb") == 0, "form feed inside");
	ok(RELAXED(" a\vb") == 0, "vertical tab inside");
	ok(RELAXED("\fa") == 0, "form feed at the start");
	ok(RELAXED(" a\n\tb\v") == 0, "VT on a continuation line");
	ok(RELAXED(" \xc2\xa0x") == 0, "NBSP at the start");
	ok(RELAXED(" x\xc2\x85 ") == 0, "NEL at the end");
	ok(RELAXED(" x\xe3\x80\x80") == 0, "U+3000 at the end");
	ok(RELAXED(" x\xe2\x80\xa8 \t") == 0,
	    "U+2028 before trailing SP and HTAB");
	ok(RELAXED(" \xe2\x80\x8a") == 0, "only U+200A");
	return done();
}
