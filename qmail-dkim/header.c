/*
 * header.c -- the header block split into fields, and the verdict on
 * whether it can be signed so that every verifier agrees.
 *
 * Refused here, so that the message goes on unsigned and unchanged
 * instead of with a signature that fails (libopendkim-facts.md):
 * a NUL byte (the library hashes it wrongly), a line that is neither a
 * field nor a continuation, a field name with white space or 8-bit bytes
 * (RFC 5322 3.6.8 ftext; the obs-syntax "Date :" of RFC 5322 4.5 too:
 * dkimpy cannot read a header that holds one), and no From: or several
 * (RFC 5322 3.6 allows one).
 *
 * header_relaxed_ok finds the fields that relaxed header canonicalization
 * cannot sign; policy.c leaves them out of h=, or, for From: and for a
 * continuation line of white space only (h->blank_line), has the header
 * canonicalized simple.
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

/* "WSP* :" at p: the rest of an obs-syntax field name (RFC 5322 4.5) */
static int
obs_colon(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p < end && *p == ':';
}

int
header_parse(const char *hdr, size_t len, struct header *h,
    const char **reason)
{
	size_t i = 0, cap = 0, nfrom = 0, name;
	const char *lf, *end = hdr + len, *line;
	struct field *f;

	h->n = 0;
	h->blank_line = 0;
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
		if (name > 0 && i + name < len && (hdr[i + name] == ' ' ||
		    hdr[i + name] == '\t') && obs_colon(hdr + i + name,
		    end)) {
			*reason = "white space between a field name and its "
			    "colon (RFC 5322 4.5), which dkimpy cannot read";
			return 0;
		}
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
			if (blank_line(line, lf ? lf : end))
				h->blank_line = 1;
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

/* The length of the UTF-8 Unicode white space character at p, or 0. */
static size_t
uspace(const unsigned char *p, size_t len)
{
	if (len >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;		/* NEL, NBSP */
	if (len < 3)
		return 0;
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
		return 3;		/* U+1680 */
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a ||
	    p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3;		/* U+2000-200A, U+2028, 2029, 202F */
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
		return 3;		/* U+205F */
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;		/* U+3000 */
	return 0;
}

static int
wsp(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/*
 * 1 if relaxed header canonicalization (RFC 6376 3.4.2) of the field
 * comes out the same in libopendkim and in the verifiers, 0 if not.
 * RFC 6376 3.4.2 reduces only SP and HTAB; libopendkim reduces every
 * isspace() byte, so a VT or FF anywhere differs (dkimpy, go-msgauth
 * and Mail::DKIM each keep some of them).  go-msgauth also trims
 * Unicode white space (UTF-8 NBSP, NEL, U+2000...) off both ends of the
 * value, which libopendkim and the others keep.  Bare CRs never get
 * here: normalize.c made them line ends.
 */
int
header_relaxed_ok(const char *hdr, const struct field *f)
{
	const unsigned char *v, *end;
	size_t k;

	v = (const unsigned char *)hdr + f->off + f->namelen + 1;
	end = (const unsigned char *)hdr + f->off + f->len;
	if (memchr(v, '\v', (size_t)(end - v)) != NULL ||
	    memchr(v, '\f', (size_t)(end - v)) != NULL)
		return 0;
	while (v < end && wsp(*v))
		v++;
	while (end > v && wsp(end[-1]))
		end--;
	if (v == end)
		return 1;
	if (uspace(v, (size_t)(end - v)) > 0)
		return 0;
	for (k = 2; k <= 3 && (size_t)(end - v) >= k; k++)
		if (uspace(end - k, k) == k)
			return 0;
	return 1;
}
