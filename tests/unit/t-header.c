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
	    "a header line that is not a field");
	refused(" From: a@example.com\n", 21,
	    "the header starts with a continuation line");
	refused("From: a@example.com\n \nX: y\n", 27,
	    "a header line of white space only");
	refused("Subject: x\n", 11, "no From: field");
	refused("", 0, "no From: field");
	refused("From: a@example.com\nFROM: b@example.com\n", 40,
	    "several From: fields");
	refused("F\xc3\xb6o: x\nFrom: a@example.com\n", 28,
	    "a header line that is not a field");
	return done();
}
