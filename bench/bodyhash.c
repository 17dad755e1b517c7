/*
 * bodyhash.c -- what libopendkim alone needs to canonicalize and hash a
 * message body: the floor for qmail-dkim on a large message.
 *
 *	bodyhash KEYFILE < MESSAGE
 *
 * One signing handle, c=relaxed/relaxed rsa-sha256, as qmail-dkim makes.
 * The header fields go in with dkim_header, then the body, turned from LF
 * to CRLF lines in 64 KiB pieces, with dkim_body.  No dkim_eom: the key
 * is never decoded and no signature is made.  Prints
 *
 *	body_ms=B total_ms=T bytes=N
 *
 * B is the time spent inside dkim_body only; T the whole run from
 * dkim_init to dkim_close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <opendkim/dkim.h>

#define PIECE 65536

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
fail(const char *what)
{
	fprintf(stderr, "bodyhash: %s\n", what);
	exit(1);
}

static char *
slurp(FILE *f, size_t *len)
{
	char *buf = NULL, *p;
	size_t cap = 0, n;

	*len = 0;
	for (;;) {
		if (cap - *len < PIECE) {
			cap = *len + PIECE + cap;
			if ((p = realloc(buf, cap + 1)) == NULL)
				fail("out of memory");
			buf = p;
		}
		n = fread(buf + *len, 1, PIECE, f);
		if (n == 0)
			break;
		*len += n;
	}
	buf[*len] = '\0';
	return buf;
}

/* LF lines to CRLF lines; out has room for 2 * len */
static size_t
crlf(const char *in, size_t len, unsigned char *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '\n')
			out[n++] = '\r';
		out[n++] = (unsigned char)in[i];
	}
	return n;
}

int
main(int argc, char **argv)
{
	static char in[PIECE];
	static unsigned char out[2 * PIECE], field[2 * PIECE];
	char *key, *hdr = NULL, *p, *end;
	size_t keylen, len, hlen = 0, hcap = 0, total = 0;
	double t0, tb, body = 0;
	DKIM_LIB *lib;
	DKIM_STAT st;
	DKIM *d;
	FILE *f;
	ssize_t n;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL)
		fail("usage: bodyhash KEYFILE < MESSAGE");
	key = slurp(f, &keylen);
	fclose(f);

	t0 = now_ms();
	if ((lib = dkim_init(NULL, NULL)) == NULL)
		fail("dkim_init");
	d = dkim_sign(lib, (const unsigned char *)"bench", NULL,
	    (dkim_sigkey_t)key, (const unsigned char *)"bench",
	    (const unsigned char *)"example.com", DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL)
		fail("dkim_sign");

	/* the header block, up to the empty line */
	for (;;) {
		if (hcap - hlen < PIECE) {
			hcap += PIECE;
			if ((hdr = realloc(hdr, hcap + 1)) == NULL)
				fail("out of memory");
		}
		n = read(0, hdr + hlen, PIECE);
		if (n <= 0)
			fail("no empty line after the header");
		hlen += (size_t)n;
		hdr[hlen] = '\0';
		if ((end = strstr(hdr, "\n\n")) != NULL)
			break;
	}
	for (p = hdr; p <= end; p += len + 1) {	/* one field at a time */
		for (len = 0; p + len < end && !(p[len] == '\n' &&
		    p[len + 1] != ' ' && p[len + 1] != '\t'); len++)
			;
		if (len > PIECE)
			fail("header field too long");
		if (dkim_header(d, field, crlf(p, len, field)) != DKIM_STAT_OK)
			fail("dkim_header");
	}
	if (dkim_eoh(d) != DKIM_STAT_OK)
		fail("dkim_eoh");

	/* the body: what came with the header, then the rest */
	p = end + 2;
	len = hlen - (size_t)(p - hdr);
	for (;;) {
		while (len > 0) {
			size_t k = len < PIECE ? len : PIECE;
			size_t m = crlf(p, k, out);

			tb = now_ms();
			if (dkim_body(d, out, m) != DKIM_STAT_OK)
				fail("dkim_body");
			body += now_ms() - tb;
			total += m;
			p += k;
			len -= k;
		}
		n = read(0, in, sizeof in);
		if (n < 0)
			fail("read");
		if (n == 0)
			break;
		p = in;
		len = (size_t)n;
	}
	dkim_free(d);
	dkim_close(lib);
	printf("body_ms=%.3f total_ms=%.3f bytes=%zu\n", body,
	    now_ms() - t0, total);
	return 0;
}
