/*
 * header.c -- the header block split into fields, and the verdict on
 * whether it can be signed so that every verifier agrees.
 *
 * Refused here, so that the message goes on unsigned and unchanged
 * instead of with a signature that fails (libopendkim-facts.md):
 * a NUL byte (the library hashes it wrongly), a line that is neither a
 * field nor a continuation, a field name with white space or 8-bit bytes
 * (RFC 5322 3.6.8 ftext; dkimpy rejects "From :"), a continuation line of
 * white space only, and no From: or several (RFC 5322 3.6 allows one).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qdkim.h"

static int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static int
blank_line(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return 0;
	return 1;
}

int
header_parse(const char *hdr, size_t len, struct header *h,
    const char **reason)
{
	size_t i = 0, cap = 0, nfrom = 0, name;
	const char *lf, *end = hdr + len, *line;
	struct field *f;

	h->n = 0;
	if (memchr(hdr, '\0', len) != NULL) {
		*reason = "a NUL byte in the header";
		return 0;
	}
	while (i < len) {
		if (hdr[i] == ' ' || hdr[i] == '\t') {
			*reason = "the header starts with a continuation line";
			return 0;
		}
		for (name = 0; i + name < len && is_ftext((unsigned char)hdr[i + name]);
		    name++)
			;
		if (name == 0 || i + name == len || hdr[i + name] != ':') {
			*reason = "a header line that is not a field";
			return 0;
		}
		if (h->n == cap) {
			cap = cap ? cap * 2 : 64;
			f = realloc(h->f, cap * sizeof *f);
			if (f == NULL)
				return -1;
			h->f = f;
		}
		f = &h->f[h->n];
		f->off = i;
		f->namelen = name;
		/* the field runs on over continuation lines (RFC 5322 2.2.3) */
		line = hdr + i;
		for (;;) {
			lf = memchr(line, '\n', (size_t)(end - line));
			if (lf == NULL) {
				line = end;
				break;
			}
			line = lf + 1;
			if (line == end || (*line != ' ' && *line != '\t'))
				break;
			lf = memchr(line, '\n', (size_t)(end - line));
			if (blank_line(line, lf ? lf : end)) {
				*reason = "a header line of white space only";
				return 0;
			}
		}
		f->len = (size_t)(line - hdr) - i;
		if (f->len > 0 && hdr[i + f->len - 1] == '\n')
			f->len--;
		if (name == 4 && strncasecmp(hdr + i, "From", 4) == 0) {
			nfrom++;
			h->from = h->n;
		}
		h->n++;
		i = (size_t)(line - hdr);
	}
	if (nfrom == 0) {
		*reason = "no From: field";
		return 0;
	}
	if (nfrom > 1) {
		*reason = "several From: fields";
		return 0;
	}
	return 1;
}
