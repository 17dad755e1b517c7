/* t-normalize.c -- line endings, including CRs split across reads */
#include "qdkim.h"
#include "tap.h"

/* Feeds in pieces of every size; each must give the same result. */
static void
lf(const char *in, const char *want, int want_cr)
{
	char buf[256], out[256], desc[300];
	size_t len = strlen(in), piece, i, k, n;
	struct norm nm;
	int same = 1, sawcr = 1;

	for (piece = 1; piece <= len; piece++) {
		memset(&nm, 0, sizeof nm);
		n = 0;
		for (i = 0; i < len; i += piece) {
			k = len - i < piece ? len - i : piece;
			memcpy(buf, in + i, k);
			k = norm_lf(&nm, buf, k);
			memcpy(out + n, buf, k);
			n += k;
		}
		out[n] = '\0';
		if (strcmp(out, want) != 0)
			same = 0;
		if (nm.any_cr != want_cr)
			sawcr = 0;
	}
	snprintf(desc, sizeof desc, "norm_lf of %zu bytes, all piece sizes",
	    len);
	ok(same && sawcr, desc);
}

int
main(void)
{
	char out[64];
	size_t n;

	lf("a\nb\n", "a\nb\n", 0);
	lf("a\r\nb\r\n", "a\nb\n", 1);
	lf("a\rb\r", "a\nb\n", 1);
	lf("a\r\r\nb", "a\n\nb", 1);
	lf("\r\n\r\n", "\n\n", 1);
	lf("x\n\ry\r\n\nz", "x\n\ny\n\nz", 1);

	n = norm_crlf("a\nbc\n\n", 6, out);
	out[n] = '\0';
	is_str(out, "a\r\nbc\r\n\r\n", "norm_crlf");
	n = norm_crlf("no newline", 10, out);
	out[n] = '\0';
	is_str(out, "no newline", "norm_crlf without LF");
	return done();
}
