/*
 * fuzz-sign.c -- libFuzzer harness for the whole signing path: the input
 * is a queue file, given to engine_sign() as qmail-dkim's main() and
 * qmail-dkimd give it, in a qmail home with the fixed test keys of
 * testkeys.h (an RSA and an Ed25519 key for example.com, both signing)
 * and the envelope sender fuzz@example.com, so that every signable
 * message is signed; the canonicalization (control/dkimcanon) is chosen
 * by the input's length.
 *
 * The invariants are qmail-remote's contract: never a deferral (the keys
 * and the policy are good); a message handed on unsigned is the input
 * itself (nothing to check beyond not crashing); a signed one goes out
 * as the DKIM-Signature fields (LF line ends, no CR) followed by the
 * input, byte for byte, or with every CRLF and bare CR made LF when it
 * has CRs, and every signature must verify over the bytes qmail-remote
 * would send (LF made CRLF).  Verification is libopendkim's own, in
 * process, with the key records served by a callback: fast enough to
 * fuzz, and the end-to-end tests check the same cases with dkimpy and
 * Mail::DKIM.  It sees the fields as a receiver judges our signatures:
 * another signer's DKIM-Signature fields in the input are left out,
 * as engine.c leaves them out of what it signs; libopendkim refuses the
 * whole header for one that is no valid tag list, where dkimpy and
 * Mail::DKIM judge each signature apart.  Were one of them covered by
 * our h=, leaving it out would make our signature fail here.
 *
 * engine_sign gives back all it takes (engine_done), as it must in
 * qmail-dkimd; only the library made by dkim_init is kept across inputs
 * (ld --wrap), since making it costs more than a signature.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* --- one library for every input ------------------------------------------ */

DKIM_LIB *__real_dkim_init(void *(*)(void *, size_t), void (*)(void *, void *));
DKIM_LIB *__wrap_dkim_init(void *(*)(void *, size_t), void (*)(void *, void *));
void __real_dkim_close(DKIM_LIB *);
void __wrap_dkim_close(DKIM_LIB *);

static DKIM_LIB *made_lib;

/* sign.c sets every option it relies on each time */
DKIM_LIB *
__wrap_dkim_init(void *(*m)(void *, size_t), void (*f)(void *, void *))
{
	if (made_lib == NULL)
		made_lib = __real_dkim_init(m, f);
	return made_lib;
}

void
__wrap_dkim_close(DKIM_LIB *lib)
{
	if (lib != made_lib)
		__real_dkim_close(lib);
}

/* --- set-up: a qmail home with the test keys -------------------------------- */

#define SENDER "fuzz@example.com"
#define SIGS_MADE 2			/* both test keys sign */

/* a qmail home for each of control/dkimcanon's four values */
static const char *const canons[4] = {
	"relaxed/relaxed", "simple/relaxed", "relaxed/simple", "simple/simple"
};
static char homes[4][64];
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

static void
make_dir(const char *path)
{
	if (mkdir(path, 0700) == -1)
		abort();
}

static void
remove_homes(void)
{
	char cmd[128];
	size_t i;

	for (i = 0; i < 4; i++)
		if (homes[i][0] != '\0') {
			snprintf(cmd, sizeof cmd, "rm -rf '%s'", homes[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "fuzz-sign: cannot remove %s\n",
				    homes[i]);
		}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[512];
	size_t i;

	(void)argc;
	(void)argv;
	atexit(remove_homes);
	for (i = 0; i < 4; i++) {
		snprintf(homes[i], sizeof homes[i], "/tmp/qdkim-fuzz.XXXXXX");
		if (mkdtemp(homes[i]) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/control", homes[i]);
		make_dir(path);
		snprintf(path, sizeof path, "%s/control/dkimcanon", homes[i]);
		put(path, canons[i]);
		snprintf(path, sizeof path, "%s/control/domainkeys", homes[i]);
		make_dir(path);
		snprintf(path, sizeof path,
		    "%s/control/domainkeys/example.com", homes[i]);
		make_dir(path);
		snprintf(path, sizeof path,
		    "%s/control/domainkeys/example.com/rsa", homes[i]);
		put(path, testkey_rsa);
		snprintf(path, sizeof path,
		    "%s/control/domainkeys/example.com/ed", homes[i]);
		put(path, testkey_ed25519);
		snprintf(path, sizeof path,
		    "%s/control/domainkeys/example.com/selector", homes[i]);
		put(path, "rsa\ned\n");
	}
	txt_of(testkey_rsa, 0, txt_rsa, sizeof txt_rsa);
	txt_of(testkey_ed25519, 1, txt_ed, sizeof txt_ed);

	vlib = __real_dkim_init(NULL, NULL);
	if (vlib == NULL || dkim_set_key_lookup(vlib, lookup) != DKIM_STAT_OK)
		abort();
	return 0;
}

/* --- verification of what qmail-remote would send ---------------------------- */

/* A DKIM-Signature field: its name, then white space or the colon. */
static int
is_signature(const char *field, size_t len)
{
	size_t i = 14;

	if (len < i || strncasecmp(field, "DKIM-Signature", i) != 0)
		return 0;
	while (i < len && (field[i] == ' ' || field[i] == '\t'))
		i++;
	return i < len && field[i] == ':';
}

/* Every signature in wire (CRLF) verifies; the first nsig fields are
 * ours, any later DKIM-Signature field another signer's. */
static void
verify_wire(const char *wire, size_t len, size_t nsig)
{
	DKIM_SIGINFO **sigs;
	DKIM_STAT st;
	DKIM *d;
	size_t i = 0, start, end, nfield = 0;
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
		if (nfield++ >= nsig && is_signature(wire + start, end - start))
			continue;	/* another signer's */
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
	verify_wire(wire, w, SIGS_MADE);
	free(wire);
	free(out);
}

/* --- one input, as the programs give it to the engine ------------------------ */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg m;
	struct verdict v;
	int fd, r;

	if (size > 4 * 1024 * 1024)
		return 0;
	fd = memfd_create("queue-file", MFD_CLOEXEC);
	if (fd == -1 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)	/* the queue file, at offset 0 */
		abort();
	if (setenv("QMAILDKIM_HOME", homes[size % 4], 1) == -1)
		abort();

	memset(&v, 0, sizeof v);
	r = msg_open(&m, fd);
	CHECK(r == 0 || r == 1);
	if (r == 1) {
		CHECK(m.size == (off_t)size);
		r = engine_sign(&m, SENDER, &v);
		if (r == VERDICT_DEFER)
			fprintf(stderr, "deferred: %s\n", v.text);
		CHECK(r == VERDICT_SIGNED || r == VERDICT_UNSIGNED);
		CHECK(m.hdr == NULL || m.hdrlen <= HDR_MAX);
		if (r == VERDICT_SIGNED)
			check_signed(data, size, v.any_cr, v.sighdr, v.siglen);
		engine_done(&m, &v);
	}
	close(fd);
	return 0;
}
