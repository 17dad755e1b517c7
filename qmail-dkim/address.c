/*
 * address.c -- the domain of the author in a From: field (RFC 5322 3.4).
 *
 * DMARC aligns the DKIM d= with the From: domain (RFC 7489 3.1), so that
 * is the domain to sign for.  The field may carry a display name, quoted
 * strings, comments, group syntax and several mailboxes; the first
 * mailbox is the one taken.  Whatever comes out is checked by
 * domain_normalize() before it is used in a path.
 */
#include <string.h>

#include "qdkim.h"

struct acc {
	char buf[512];
	size_t len;
	int full;
};

static void
acc_add(struct acc *a, char c)
{
	if (a->len < sizeof a->buf - 1)
		a->buf[a->len++] = c;
	else
		a->full = 1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
address_domain(const char *v, size_t len, char *out, size_t size)
{
	struct acc bare = { .len = 0 }, angle = { .len = 0 };
	struct acc *cur = &bare;
	int quoted = 0, comment = 0, inangle = 0, seenangle = 0;
	const char *at;
	char *addr, *end;
	size_t i, n;

	for (i = 0; i < len; i++) {
		char c = v[i];

		if (c == '\\' && (quoted || comment) && i + 1 < len) {
			i++;
			if (quoted)
				acc_add(cur, v[i]);
			continue;
		}
		if (comment) {
			if (c == '(')
				comment++;
			else if (c == ')')
				comment--;
			continue;
		}
		if (quoted) {
			if (c == '"')
				quoted = 0;
			else
				acc_add(cur, c);
			continue;
		}
		switch (c) {
		case '(':
			comment = 1;
			continue;
		case '"':
			quoted = 1;
			continue;
		case '<':
			if (!seenangle) {
				inangle = 1;
				cur = &angle;
			}
			continue;
		case '>':
			if (inangle) {
				inangle = 0;
				seenangle = 1;
				cur = &bare;
			}
			continue;
		case ':':
			/* RFC 5322 3.4 group: the display name ends here;
			 * in an angle-addr it ends an obsolete route */
			if (inangle)
				angle.len = 0;
			else
				bare.len = 0;
			continue;
		case ',':
		case ';':
			if (inangle)
				continue;
			if (seenangle || bare.len > 0)
				goto done;
			continue;
		default:
			if (!is_space(c))
				acc_add(cur, c);
		}
	}
done:
	if (bare.full || angle.full)
		return 0;
	if (seenangle) {
		angle.buf[angle.len] = '\0';
		addr = angle.buf;
	} else {
		bare.buf[bare.len] = '\0';
		addr = bare.buf;
	}
	at = strrchr(addr, '@');
	if (at == NULL)
		return 0;
	end = addr + strlen(addr);
	n = (size_t)(end - (at + 1));
	if (n == 0 || n >= size)
		return 0;
	memcpy(out, at + 1, n);
	out[n] = '\0';
	return domain_normalize(out);
}
