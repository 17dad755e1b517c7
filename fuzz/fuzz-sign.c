/*
 * fuzz-sign.c -- libFuzzer harness for the whole signing path: the input
 * is a queue file, taken as main() takes it (msg_open, msg_header,
 * header_parse, address_domain, sign_*), with the fixed test keys of
 * testkeys.h (an RSA and an Ed25519 key for example.com, both signing),
 * in a canonicalization chosen by the input's length.
 *
 * The invariants are qmail-remote's contract: a message main() would
 * hand on unsigned is the input itself (nothing to check beyond not
 * crashing); a message it would sign must go out as the DKIM-Signature
 * fields (LF line ends, no CR) followed by the input, byte for byte, or
 * with every CRLF and bare CR made LF when it has CRs, and every
 * signature must verify over the bytes qmail-remote would send (LF made
 * CRLF).  Verification is libopendkim's own, in process, with the key
 * records served by a callback: fast enough to fuzz, and the end-to-end
 * tests check the same cases with dkimpy and Mail::DKIM.
 *
 * main() itself exits and cannot be linked; this follows it and its
 * sign_message() step by step (qmail-dkim.c).  The library handles that sign.c keeps in statics are
 * caught with ld --wrap: the signing handles are freed after each input,
 * or the fuzzer would run out of memory, and the library is made once.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <opendkim/dkim.h>

#include "qdkim.h"
#include "testkeys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, \
	    __LINE__); abort(); } } while (0)

/* --- the library handles sign.c keeps --------------------------------------- */

DKIM_LIB *__real_dkim_init(void *(*)(void *, size_t), void (*)(void *, void *));
DKIM *__real_dkim_sign(DKIM_LIB *, const unsigned char *, void *,
    dkim_sigkey_t, const unsigned char *, const unsigned char *,
    dkim_canon_t, dkim_canon_t, dkim_alg_t, ssize_t, DKIM_STAT *);
DKIM_LIB *__wrap_dkim_init(void *(*)(void *, size_t), void (*)(void *, void *));
DKIM *__wrap_dkim_sign(DKIM_LIB *, const unsigned char *, void *,
    dkim_sigkey_t, const unsigned char *, const unsigned char *,
    dkim_canon_t, dkim_canon_t, dkim_alg_t, ssize_t, DKIM_STAT *);

static DKIM_LIB *made_lib;
static DKIM *made[SEL_MAX];
static size_t nmade;

/* One library for all inputs: dkim_init() costs more than a signature,
 * and sign.c sets every option it relies on each time. */
DKIM_LIB *
__wrap_dkim_init(void *(*m)(void *, size_t), void (*f)(void *, void *))
{
	if (made_lib == NULL)
		made_lib = __real_dkim_init(m, f);
	return made_lib;
}

DKIM *
__wrap_dkim_sign(DKIM_LIB *lib, const unsigned char *id, void *ctx,
    dkim_sigkey_t key, const unsigned char *sel, const unsigned char *dom,
    dkim_canon_t hc, dkim_canon_t bc, dkim_alg_t alg, ssize_t len,
    DKIM_STAT *st)
{
	DKIM *d = __real_dkim_sign(lib, id, ctx, key, sel, dom, hc, bc, alg,
	    len, st);

	if (d != NULL && nmade < SEL_MAX)
		made[nmade++] = d;
	return d;
}

static void
free_made(void)
{
	while (nmade > 0)
		dkim_free(made[--nmade]);
}

/* --- set-up: a qmail home with the test keys -------------------------------- */

static struct keyset ks;
static struct policy base;	/* as policy_load() leaves it */
static DKIM_LIB *vlib;
static char txt_rsa[1024], txt_ed[256];

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) == EOF)
		abort();
}

/* The TXT record of a private key (RFC 6376 3.6.1, RFC 8463 4). */
static void
txt_of(const char *pem, int ed, char *out, size_t size)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	unsigned char der[1024], *p = der, b64[1500];
	size_t n = sizeof der;
	int len;

	if (k == NULL)
		abort();
	if (ed) {
		if (EVP_PKEY_get_raw_public_key(k, der, &n) != 1)
			abort();
		len = (int)n;
	} else if ((len = i2d_PUBKEY(k, &p)) <= 0)
		abort();
	EVP_EncodeBlock(b64, der, len);
	snprintf(out, size, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa",
	    (char *)b64);
	EVP_PKEY_free(k);
	BIO_free(b);
}

static DKIM_CBSTAT
lookup(DKIM *d, DKIM_SIGINFO *sig, unsigned char *buf, size_t len)
{
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	const char *txt;

	(void)d;
	if (sel == NULL || dom == NULL || strcmp(dom, "example.com") != 0)
		return DKIM_CBSTAT_NOTFOUND;
	txt = strcmp(sel, "rsa") == 0 ? txt_rsa : strcmp(sel, "ed") == 0 ?
	    txt_ed : NULL;
	if (txt == NULL || strlen(txt) >= len)
		return DKIM_CBSTAT_NOTFOUND;
	strcpy((char *)buf, txt);
	return DKIM_CBSTAT_CONTINUE;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char home[] = "/tmp/qdkim-fuzz.XXXXXX";
	const char *domains[1] = { "example.com" };
	char path[512];

	(void)argc;
	(void)argv;
	if (mkdtemp(home) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/control", home);
	if (mkdir(path, 0700) == -1)
		abort();
	snprintf(path, sizeof path, "%s/control/domainkeys", home);
	if (mkdir(path, 0700) == -1)
		abort();
	snprintf(path, sizeof path, "%s/control/domainkeys/example.com", home);
	if (mkdir(path, 0700) == -1)
		abort();
	snprintf(path, sizeof path, "%s/control/domainkeys/example.com/rsa",
	    home);
	put(path, testkey_rsa);
	snprintf(path, sizeof path, "%s/control/domainkeys/example.com/ed",
	    home);
	put(path, testkey_ed25519);
	snprintf(path, sizeof path,
	    "%s/control/domainkeys/example.com/selector", home);
	put(path, "rsa\ned\n");
	setenv("QMAILDKIM_HOME", home, 1);

	/* the keys and the policy do not depend on the input: read once */
	if (keys_pick(domains, 1, "example.com", &ks) != 1 || ks.n != 2 ||
	    policy_load(&base) == -1) {
		fprintf(stderr, "fuzz-sign: set-up failed: %s\n", why);
		abort();
	}
	txt_of(testkey_rsa, 0, txt_rsa, sizeof txt_rsa);
	txt_of(testkey_ed25519, 1, txt_ed, sizeof txt_ed);

	vlib = __real_dkim_init(NULL, NULL);
	if (vlib == NULL || dkim_set_key_lookup(vlib, lookup) != DKIM_STAT_OK)
		abort();
	/* the test keys' directory goes; the keys are in memory */
	snprintf(path, sizeof path, "rm -rf '%s'", home);
	if (system(path) != 0)
		abort();
	return 0;
}

/* --- verification of what qmail-remote would send ---------------------------- */

/* Every signature in wire (CRLF) verifies. */
static void
verify_wire(const char *wire, size_t len, size_t nsig)
{
	DKIM_SIGINFO **sigs;
	DKIM_STAT st;
	DKIM *d;
	size_t i = 0, start, end;
	int n;

	d = dkim_verify(vlib, (const unsigned char *)"fuzz", NULL, &st);
	CHECK(d != NULL);
	/* field by field: a CRLF not followed by WSP ends one */
	while (i < len && !(wire[i] == '\r' && i + 1 < len &&
	    wire[i + 1] == '\n')) {
		start = i;
		for (;;) {
			char *crlf = memmem(wire + i, len - i, "\r\n", 2);

			if (crlf == NULL) {
				i = len;
				break;
			}
			i = (size_t)(crlf - wire) + 2;
			if (i >= len || (wire[i] != ' ' && wire[i] != '\t'))
				break;
		}
		end = i;
		if (end - start >= 2 && wire[end - 2] == '\r' &&
		    wire[end - 1] == '\n')
			end -= 2;	/* the field without its line end */
		st = dkim_header(d, (unsigned char *)(uintptr_t)(wire + start),
		    end - start);
		CHECK(st == DKIM_STAT_OK);
	}
	st = dkim_eoh(d);
	if (st == DKIM_STAT_SYNTAX) {
		/* libopendkim's verifier wants an author address in From:
		 * ("can't determine sender address"); the signer does not.
		 * Not a signature fault: such From: fields are in the
		 * end-to-end corpus, checked by dkimpy and Mail::DKIM. */
		dkim_free(d);
		return;
	}
	CHECK(st == DKIM_STAT_OK);
	if (i + 2 <= len)
		i += 2;	/* the empty line */
	else
		i = len;
	if (i < len) {
		st = dkim_body(d, (unsigned char *)(uintptr_t)(wire + i),
		    len - i);
		CHECK(st == DKIM_STAT_OK);
	}
	st = dkim_eom(d, NULL);
	if (dkim_getsiglist(d, &sigs, &n) != DKIM_STAT_OK)
		n = 0;
	if (st != DKIM_STAT_OK || (size_t)n != nsig) {
		fprintf(stderr, "verify: %s, %d signatures of %zu\n",
		    dkim_getresultstr(st), n, nsig);
		abort();
	}
	for (i = 0; i < (size_t)n; i++)
		if (!DKIM_SIG_CHECK(sigs[i])) {
			fprintf(stderr, "verify: signature %zu (s=%s) fails: "
			    "%s\n", i, dkim_sig_getselector(sigs[i]),
			    dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i])));
			abort();
		}
	dkim_free(d);
}

/* The message as it goes out: the fields, then the message (CRs made
 * LFs if it had any), every LF made CRLF by qmail-remote. */
static void
check_signed(const uint8_t *data, size_t size, int any_cr,
    const char *sig, size_t siglen)
{
	char *out, *wire;
	size_t len, i, w = 0;
	struct norm n = { 0, 0 };

	CHECK(siglen > 16 && memcmp(sig, "DKIM-Signature: ", 16) == 0);
	CHECK(sig[siglen - 1] == '\n' && memchr(sig, '\r', siglen) == NULL);
	CHECK(memchr(sig, '\0', siglen) == NULL);
	for (i = 0; i + 1 < siglen; i++)
		if (sig[i] == '\n')
			CHECK(sig[i + 1] == ' ' || sig[i + 1] == '\t' ||
			    memcmp(sig + i + 1, "DKIM-Signature: ", 16) == 0);

	out = malloc(siglen + size + 1);
	wire = malloc(2 * (siglen + size) + 1);
	if (out == NULL || wire == NULL)
		abort();
	memcpy(out, sig, siglen);
	memcpy(out + siglen, data, size);
	len = siglen + size;
	if (any_cr)
		len = siglen + norm_lf(&n, out + siglen, size);
	for (i = 0; i < len; i++) {
		if (out[i] == '\n')
			wire[w++] = '\r';
		wire[w++] = out[i];
	}
	verify_wire(wire, w, ks.n);
	free(wire);
	free(out);
}

/* --- one input: main(), step by step ----------------------------------------- */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char body[CHUNK];
	struct header h = { .f = NULL };
	struct policy pol;
	struct msg m;
	char fromdom[256], *sighdr = NULL;
	const char *reason;
	size_t i, siglen = 0;
	ssize_t n = 0;
	int fd, r;

	if (size > 4 * 1024 * 1024)
		return 0;
	fd = memfd_create("queue-file", MFD_CLOEXEC);
	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)	/* the queue file, at offset 0 */
		abort();

	r = msg_open(&m, fd);
	CHECK(r == 0 || r == 1);
	if (r == 0)
		goto out;	/* empty: handed on as it is */
	CHECK(m.size == (off_t)size);
	r = msg_header(&m);
	CHECK(r == 0 || r == 1);
	if (r == 0)
		goto out;	/* header too big: unsigned */
	CHECK(m.hdrlen <= HDR_MAX);
	r = header_parse(m.hdr, m.hdrlen, &h, &reason);
	CHECK(r != -1);
	if (r == 0)
		goto out;	/* unsignable: unsigned */
	(void)address_domain(m.hdr + h.f[h.from].off + h.f[h.from].namelen + 1,
	    h.f[h.from].len - h.f[h.from].namelen - 1, fromdom,
	    sizeof fromdom);

	/* main() would find example.com's keys through the envelope sender
	 * when From: has none: sign every signable message with them, in
	 * each of the four canonicalizations control/dkimcanon allows */
	pol = base;
	pol.hcanon = size % 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	pol.bcanon = size / 2 % 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	policy_narrow(&pol, m.hdr, &h);
	r = sign_start(&ks, &pol);
	CHECK(r == 0);
	for (i = 0, r = 1; i < h.n && r == 1; i++)
		r = sign_header(m.hdr + h.f[i].off, h.f[i].len);
	if (r == 1)
		r = sign_eoh();
	while (r == 1 && (n = msg_read(&m, body, sizeof body)) > 0)
		r = sign_body(body, (size_t)n);
	CHECK(n != -1 && r != -1);
	if (r == 1 && m.last != '\n')
		goto out;	/* qmail-remote refuses it: unsigned */
	if (r == 1)
		r = sign_finish(&sighdr, &siglen);
	CHECK(r != -1);
	if (r == 1)
		check_signed(data, size, m.norm.any_cr, sighdr, siglen);
out:
	free_made();
	free(sighdr);
	free(h.f);
	free(m.hdr);
	close(fd);
	return 0;
}
