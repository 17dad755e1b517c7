/*
 * fuzz-header.c -- libFuzzer harness for the code that reads untrusted
 * message text: line-end normalization, the header scanner, the From:
 * address parser and the domain checks that stand between a From: field
 * and a path under control/domainkeys.
 *
 * The modules return and never exit, so they are linked in as they are.
 * Besides ASan/UBSan's own checks, every result is checked against what
 * the rest of qmail-dkim relies on:
 *   norm_lf     the same output however the input is split into reads;
 *               no CR out; never longer than the input
 *   norm_crlf   every LF preceded by CR; length + one per LF
 *   header_parse  fields in order, inside the block, each "name:" with
 *               name ftext, exactly one From when it says yes
 *   address_domain, domain_normalize  a lower-case LDH host name of two
 *               labels at least and 253 bytes at most: never "/", "..",
 *               a leading "." or anything a path could climb out with
 *   domain_parent  each a proper suffix, ending at two labels
 *   selector_valid  LDH labels, never "selector"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qdkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, \
	    __LINE__); abort(); } } while (0)

/* A host name that is safe as a directory name under domainkeys/. */
static void
check_domain(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 1, i;

	CHECK(len > 0 && len <= 253);
	for (i = 0; i < len; i++) {
		char c = d[i];

		if (c == '.') {
			CHECK(label > 0 && d[i - 1] != '-');
			label = 0;
			labels++;
			continue;
		}
		CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-');
		CHECK(label > 0 || c != '-');
		label++;
		CHECK(label <= 63);
	}
	CHECK(label > 0 && d[len - 1] != '-');
	CHECK(labels >= 2);
}

static void
check_norm(const uint8_t *data, size_t size)
{
	char *whole = malloc(size + 1), *parts = malloc(size + 1), *crlf;
	struct norm n1 = { 0, 0 }, n2 = { 0, 0 };
	size_t len1, len2 = 0, off = 0, cut, step, i, lfs = 0, k;

	if (whole == NULL || parts == NULL)
		abort();
	memcpy(whole, data, size);
	len1 = norm_lf(&n1, whole, size);
	CHECK(len1 <= size);
	CHECK(memchr(whole, '\r', len1) == NULL);

	/* the same bytes in pieces, as reads of any size bring them */
	step = size > 0 ? (size_t)data[0] % 7 + 1 : 1;
	while (off < size) {
		cut = off + step < size ? step : size - off;
		memcpy(parts + len2, data + off, cut);
		len2 += norm_lf(&n2, parts + len2, cut);
		off += cut;
		step = step * 3 % 11 + 1;
	}
	CHECK(len1 == len2);
	CHECK(memcmp(whole, parts, len1) == 0);
	CHECK(n1.any_cr == n2.any_cr);
	CHECK(n1.any_cr == (memchr(data, '\r', size) != NULL));

	for (i = 0; i < len1; i++)
		lfs += whole[i] == '\n';
	crlf = malloc(2 * len1 + 1);
	if (crlf == NULL)
		abort();
	k = norm_crlf(whole, len1, crlf);
	CHECK(k == len1 + lfs);
	for (i = 0; i < k; i++)
		if (crlf[i] == '\n')
			CHECK(i > 0 && crlf[i - 1] == '\r');
	free(crlf);
	free(parts);
	free(whole);
}

static int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static void
check_header(const char *hdr, size_t len)
{
	struct header h = { .f = NULL };
	const char *reason = NULL;
	size_t i, j, end = 0, froms = 0;
	char *dom;
	int r;

	r = header_parse(hdr, len, &h, &reason);
	CHECK(r == -1 || r == 0 || r == 1);
	if (r == 0)
		CHECK(reason != NULL && *reason != '\0');
	if (r == 1) {
		CHECK(memchr(hdr, '\0', len) == NULL);
		for (i = 0; i < h.n; i++) {
			const struct field *f = &h.f[i];

			CHECK(f->off >= end && f->off + f->len <= len);
			CHECK(f->namelen > 0 && f->len >= f->namelen + 1);
			for (j = 0; j < f->namelen; j++)
				CHECK(is_ftext((unsigned char)hdr[f->off + j]));
			CHECK(hdr[f->off + f->namelen] == ':');
			if (f->namelen == 4 &&
			    strncasecmp(hdr + f->off, "From", 4) == 0)
				froms++;
			end = f->off + f->len;
		}
		CHECK(froms == 1);
		CHECK(h.from < h.n);
		CHECK(strncasecmp(hdr + h.f[h.from].off, "From", 4) == 0);

		/* the From: value, as main() hands it over, into a buffer
		 * of exactly the size given: ASan sees any overrun */
		dom = malloc(256);
		if (dom == NULL)
			abort();
		if (address_domain(hdr + h.f[h.from].off + 5,
		    h.f[h.from].len - 5, dom, 256))
			check_domain(dom);
		free(dom);
	}
	free(h.f);
}

static void
check_strings(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *out;
	const char *p, *prev;
	size_t outsize;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	/* any bytes as an address field value, with small outputs too */
	outsize = size > 0 ? (size_t)data[size - 1] % 300 + 1 : 1;
	out = malloc(outsize);
	if (out == NULL)
		abort();
	if (address_domain((const char *)data, size, out, outsize)) {
		CHECK(strlen(out) < outsize);
		check_domain(out);
	}
	free(out);

	if (domain_normalize(s)) {
		check_domain(s);
		for (prev = s; (p = domain_parent(prev)) != NULL; prev = p) {
			CHECK(p > prev && p[-1] == '.');
			check_domain(p);
		}
		CHECK(strchr(prev, '.') != NULL);
	}

	memcpy(s, data, size);
	s[size] = '\0';
	if (selector_valid(s)) {
		CHECK(strcmp(s, "selector") != 0);
		CHECK(strchr(s, '/') == NULL && s[0] != '.' && s[0] != '\0');
		CHECK(strstr(s, "..") == NULL && strlen(s) <= 63);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *hdr;
	size_t len;
	struct norm n = { 0, 0 };

	check_norm(data, size);
	check_strings(data, size);

	/* the header block as msg_header() cuts it: normalized, up to and
	 * with the LF before the first empty line */
	hdr = malloc(size + 1);
	if (hdr == NULL)
		abort();
	memcpy(hdr, data, size);
	len = norm_lf(&n, hdr, size);
	if (len > 0 && hdr[0] == '\n')
		len = 0;
	else {
		char *sep = memmem(hdr, len, "\n\n", 2);

		if (sep != NULL)
			len = (size_t)(sep - hdr) + 1;
	}
	/* a copy of exactly that length, so a read past it is caught */
	{
		char *block = malloc(len > 0 ? len : 1);

		if (block == NULL)
			abort();
		memcpy(block, hdr, len);
		check_header(block, len);
		free(block);
	}
	free(hdr);
	return 0;
}
