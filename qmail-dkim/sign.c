/*
 * sign.c -- one DKIM signature made by libopendkim (RFC 6376 5).
 *
 * The library is fed CRLF lines, as they will be on the wire: converting
 * here is faster than its FIXCRLF mode, and that mode aborts on a message
 * that starts with an empty line (libopendkim-facts.md).  Each field goes
 * through dkim_header, which, unlike dkim_chunk, takes fields of any
 * length.
 */
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "qdkim.h"

/* RFC 6376 5.4.1: the fields that carry the message's meaning */
static const char *signhdrs[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-ID", "Content-Description", "Content-Language",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive",
	NULL
};

/*
 * RFC 6376 8.15: named once more than they occur, so that an added
 * instance breaks the signature.  Each must be in signhdrs too, or every
 * verifier fails.
 */
static const char *oversignhdrs[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", NULL
};

static DKIM_LIB *lib;
static DKIM *dk;
static char crlf[2 * CHUNK];

static const char *
status_text(DKIM_STAT st)
{
	const char *s = dkim_getresultstr(st);

	return s != NULL ? s : "unknown error";
}

int
sign_start(const struct key *k)
{
	DKIM_STAT st;

	lib = dkim_init(NULL, NULL);
	if (lib == NULL) {
		why_set("cannot start libopendkim");
		return -1;
	}
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    signhdrs, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    oversignhdrs, sizeof(char **)) != DKIM_STAT_OK) {
		why_set("cannot set libopendkim's header lists");
		return -1;
	}
	/* explicit values: -1 or an unknown one makes the library abort() */
	dk = dkim_sign(lib, (const unsigned char *)"qmail-dkim", NULL,
	    (dkim_sigkey_t)k->pem, (const unsigned char *)k->selector,
	    (const unsigned char *)k->domain, DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, k->type == KEY_ED25519 ?
	    DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
	if (dk == NULL) {
		why_set("libopendkim cannot sign for %s: %s", k->domain,
		    status_text(st));
		return -1;
	}
	return 0;
}

/* Returns 1 if taken, 0 if the library finds the message unsignable. */
static int
verdict(DKIM_STAT st, const char *step)
{
	const char *e;

	if (st == DKIM_STAT_OK)
		return 1;
	e = dkim_geterror(dk);
	why_set("libopendkim %s: %s%s%s", step, status_text(st),
	    e != NULL && *e ? ": " : "", e != NULL ? e : "");
	return st == DKIM_STAT_SYNTAX ? 0 : -1;
}

int
sign_header(const char *field, size_t len)
{
	static char *buf;
	static size_t cap;
	char *p;

	if (2 * len > cap) {
		p = realloc(buf, 2 * len);
		if (p == NULL) {
			why_set("out of memory for a header field");
			return -1;
		}
		buf = p;
		cap = 2 * len;
	}
	len = norm_crlf(field, len, buf);
	return verdict(dkim_header(dk, (unsigned char *)buf, len), "header");
}

int
sign_eoh(void)
{
	return verdict(dkim_eoh(dk), "end of header");
}

int
sign_body(const char *buf, size_t len)
{
	size_t k, n;
	int r;

	while (len > 0) {
		k = len < CHUNK ? len : CHUNK;
		n = norm_crlf(buf, k, crlf);
		r = verdict(dkim_body(dk, (unsigned char *)crlf, n), "body");
		if (r != 1)
			return r;
		buf += k;
		len -= k;
	}
	return 1;
}

/*
 * The complete field, "DKIM-Signature: ...\n".  The library folds with
 * CRLF TAB; the queue form is LF, since qmail-remote turns every LF into
 * CRLF and a stored CR would go out as CR CR LF.
 */
int
sign_finish(char **sighdr, size_t *len)
{
	static const char name[] = "DKIM-Signature: ";
	unsigned char *v;
	size_t vlen, i, n;
	char *out;
	int r;

	r = verdict(dkim_eom(dk, NULL), "end of message");
	if (r != 1)
		return r;
	r = verdict(dkim_getsighdr_d(dk, sizeof name - 1, &v, &vlen),
	    "signature");
	if (r != 1)
		return r;
	out = malloc(sizeof name + vlen + 1);
	if (out == NULL) {
		why_set("out of memory for the signature");
		return -1;
	}
	memcpy(out, name, sizeof name - 1);
	n = sizeof name - 1;
	for (i = 0; i < vlen; i++)
		if (v[i] != '\r')
			out[n++] = (char)v[i];
	out[n++] = '\n';
	*sighdr = out;
	*len = n;
	return 1;
}
