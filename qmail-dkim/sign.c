/*
 * sign.c -- the DKIM signatures, made by libopendkim (RFC 6376 5).
 *
 * One library handle per signature (one per selector), all fed the same
 * bytes: the message is read once whatever the number of signatures.
 *
 * The library is fed CRLF lines, as they will be on the wire: converting
 * here is faster than its FIXCRLF mode, and that mode aborts on a message
 * that starts with an empty line (libopendkim-facts.md).  Each field goes
 * through dkim_header, which, unlike dkim_chunk, takes fields of any
 * length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <opendkim/dkim.h>

#include "qdkim.h"

static DKIM_LIB *lib;
static DKIM *dk[SEL_MAX];
static size_t ndk;
static char crlf[2 * CHUNK];

static const char *
status_text(DKIM_STAT st)
{
	const char *s = dkim_getresultstr(st);

	return s != NULL ? s : "unknown error";
}

static int
lib_start(const struct policy *p)
{
	uint64_t ttl = p->expire;

	lib = dkim_init(NULL, NULL);
	if (lib == NULL) {
		why_set("cannot start libopendkim");
		return -1;
	}
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    p->sign, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    p->oversign, sizeof(char **)) != DKIM_STAT_OK) {
		why_set("cannot set libopendkim's header lists");
		return -1;
	}
	/* RFC 6376 3.5 x= */
	if (ttl > 0 && dkim_options(lib, DKIM_OP_SETOPT,
	    DKIM_OPTS_SIGNATURETTL, &ttl, sizeof ttl) != DKIM_STAT_OK) {
		why_set("cannot set libopendkim's signature lifetime");
		return -1;
	}
	return 0;
}

int
sign_start(const struct keyset *ks, const struct policy *p)
{
	const struct key *k;
	DKIM_STAT st;

	if (lib_start(p) == -1)
		return -1;
	for (ndk = 0; ndk < ks->n; ndk++) {
		k = &ks->k[ndk];
		/* explicit values: -1 or an unknown one aborts the library;
		 * the algorithm follows the key, checked in keys.c, since
		 * an RSA key asked for Ed25519 makes a bogus signature */
		dk[ndk] = dkim_sign(lib, (const unsigned char *)"qmail-dkim",
		    NULL, (dkim_sigkey_t)k->pem,
		    (const unsigned char *)k->selector,
		    (const unsigned char *)ks->domain, p->hcanon, p->bcanon,
		    k->type == KEY_ED25519 ? DKIM_SIGN_ED25519SHA256 :
		    DKIM_SIGN_RSASHA256, -1, &st);
		if (dk[ndk] == NULL) {
			why_set("libopendkim cannot sign with %s: %s",
			    k->path, status_text(st));
			return -1;
		}
		/* a bad key is otherwise reported only at dkim_eom */
		st = dkim_privkey_load(dk[ndk]);
		if (st != DKIM_STAT_OK) {
			why_set("the key %s is not a private key libopendkim "
			    "can use: %s", k->path, status_text(st));
			return -1;
		}
		/* unwrapped, the field is hashed as it is emitted: simple
		 * header canonicalization otherwise fails (seen with
		 * Ed25519; libopendkim-facts.md) */
		if (p->hcanon == DKIM_CANON_SIMPLE &&
		    dkim_set_margin(dk[ndk], 0) != DKIM_STAT_OK) {
			why_set("cannot set libopendkim's margin");
			return -1;
		}
		if (ks->identity[0] != '\0' && dkim_set_signer(dk[ndk],
		    (const unsigned char *)ks->identity) != DKIM_STAT_OK) {
			why_set("libopendkim refuses the identity %s",
			    ks->identity);
			return -1;
		}
	}
	return 0;
}

/* The handles and the library, for the next message (qmail-dkimd). */
void
sign_end(void)
{
	size_t i;

	/* all of them: a failed sign_start leaves ndk short of the last */
	for (i = 0; i < SEL_MAX; i++)
		if (dk[i] != NULL) {
			dkim_free(dk[i]);
			dk[i] = NULL;
		}
	ndk = 0;
	if (lib != NULL)
		dkim_close(lib);
	lib = NULL;
	/* libopendkim copies every queued OpenSSL error into a handle whose
	 * key fails to load: none may be this message's for the next one */
	ERR_clear_error();
}

/* Returns 1 if taken, 0 if the library finds the message unsignable. */
static int
verdict(DKIM_STAT st, DKIM *d, const char *step)
{
	const char *e;

	if (st == DKIM_STAT_OK)
		return 1;
	e = dkim_geterror(d);
	why_set("libopendkim %s: %s%s%s", step, status_text(st),
	    e != NULL && *e ? ": " : "", e != NULL ? e : "");
	return st == DKIM_STAT_SYNTAX ? 0 : -1;
}

int
sign_header(const char *field, size_t len)
{
	static char *buf;
	static size_t cap;
	size_t i;
	char *p;
	int r;

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
	for (i = 0; i < ndk; i++) {
		r = verdict(dkim_header(dk[i], (unsigned char *)buf, len),
		    dk[i], "header");
		if (r != 1)
			return r;
	}
	return 1;
}

int
sign_eoh(void)
{
	size_t i;
	int r;

	for (i = 0; i < ndk; i++) {
		r = verdict(dkim_eoh(dk[i]), dk[i], "end of header");
		if (r != 1)
			return r;
	}
	return 1;
}

int
sign_body(const char *buf, size_t len)
{
	size_t k, n, i;
	int r;

	while (len > 0) {
		k = len < CHUNK ? len : CHUNK;
		n = norm_crlf(buf, k, crlf);
		for (i = 0; i < ndk; i++) {
			r = verdict(dkim_body(dk[i], (unsigned char *)crlf, n),
			    dk[i], "body");
			if (r != 1)
				return r;
		}
		buf += k;
		len -= k;
	}
	return 1;
}

/*
 * The complete fields, "DKIM-Signature: ...\n" each.  The library folds
 * with CRLF TAB; the queue form is LF, since qmail-remote turns every LF
 * into CRLF and a stored CR would go out as CR CR LF.
 */
int
sign_finish(char **sighdr, size_t *len)
{
	static const char name[] = "DKIM-Signature: ";
	unsigned char *v[SEL_MAX];
	size_t vlen[SEL_MAX], total = 0, i, j, n = 0;
	char *out;
	int r;

	for (i = 0; i < ndk; i++) {
		r = verdict(dkim_eom(dk[i], NULL), dk[i], "end of message");
		if (r == 1)
			r = verdict(dkim_getsighdr_d(dk[i], sizeof name - 1,
			    &v[i], &vlen[i]), dk[i], "signature");
		if (r != 1)
			return r;
		total += sizeof name + vlen[i];
	}
	out = malloc(total + 1);
	if (out == NULL) {
		why_set("out of memory for the signature");
		return -1;
	}
	for (i = 0; i < ndk; i++) {
		memcpy(out + n, name, sizeof name - 1);
		n += sizeof name - 1;
		for (j = 0; j < vlen[i]; j++)
			if (v[i][j] != '\r')
				out[n++] = (char)v[i][j];
		out[n++] = '\n';
	}
	*sighdr = out;
	*len = n;
	return 1;
}
