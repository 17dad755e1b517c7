/*
 * normalize.c -- line endings.
 *
 * The queue file is LF-only and qmail-remote turns each LF into CRLF on
 * the wire.  A CR stored in the queue file is sent differently by
 * different versions (notqmail: CRLF stays CRLF, a bare CR becomes CRLF;
 * qmail 1.03 and netqmail: the CR passes through, so CRLF goes out as
 * CR CR LF).  A signed message is therefore handed on with every CRLF
 * and every bare CR made an LF: what notqmail would send, and what every
 * version sends alike.  The signature is made over that same form.
 */
#include <string.h>

#include "qdkim.h"

/* In place: CRLF -> LF, bare CR -> LF.  Never grows the data. */
size_t
norm_lf(struct norm *n, char *buf, size_t len)
{
	char *r = buf, *w = buf, *end = buf + len, *cr;

	if (len > 0 && n->cr && *r == '\n')
		r++;	/* the LF of a CRLF split across two reads */
	n->cr = 0;
	while (r < end) {
		cr = memchr(r, '\r', (size_t)(end - r));
		if (cr == NULL) {
			if (w != r)
				memmove(w, r, (size_t)(end - r));
			w += end - r;
			break;
		}
		n->any_cr = 1;
		if (w != r)
			memmove(w, r, (size_t)(cr - r));
		w += cr - r;
		*w++ = '\n';
		r = cr + 1;
		if (r == end)
			n->cr = 1;
		else if (*r == '\n')
			r++;
	}
	return (size_t)(w - buf);
}

/* LF -> CRLF, as the bytes will be on the wire; out holds 2 * len. */
size_t
norm_crlf(const char *in, size_t len, char *out)
{
	const char *end = in + len, *lf;
	char *w = out;

	while (in < end) {
		lf = memchr(in, '\n', (size_t)(end - in));
		if (lf == NULL) {
			memcpy(w, in, (size_t)(end - in));
			w += end - in;
			break;
		}
		memcpy(w, in, (size_t)(lf - in));
		w += lf - in;
		*w++ = '\r';
		*w++ = '\n';
		in = lf + 1;
	}
	return (size_t)(w - out);
}
