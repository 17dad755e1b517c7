/*
 * phases.c -- where a one-message libopendkim signer spends its time.
 *
 *	phases [-x] [-n] [-r] [-c pem|asn1|none] [-k pem|der] KEYFILE MESSAGE
 *
 * Does what qmail-dkim does for one message, in its order, with a clock
 * around each step, and prints one line of microseconds of CPU time
 * (user + system, CLOCK_PROCESS_CPUTIME_ID; it is not reset by execve):
 *
 *	exec	execve of this program until main (it re-executes itself
 *		once, passing the time in the environment)
 *	check	qmail-dkim's own look at the key, -c:
 *		pem   PEM_read_bio_PrivateKey, as keys.c does (default)
 *		asn1  the PEM armour and the DER read with OpenSSL's ASN.1
 *		      templates only (PEM_bytes_read_bio, d2i_PKCS8_PRIV_KEY_INFO
 *		      or d2i_ASN1_SEQUENCE_ANY), no OSSL_DECODER
 *		none  no check
 *	init	dkim_init (OpenSSL_add_all_algorithms, res_init)
 *	opts	dkim_options: the sign and oversign lists (a regcomp)
 *	load	dkim_sign, then dkim_privkey_load: libopendkim's own decode
 *	msg	dkim_header for each field, dkim_eoh, dkim_body
 *	eom	dkim_eom (the signature) and dkim_getsighdr_d
 *	close	dkim_free, dkim_close
 *	log	openlog, syslog, closelog, as log.c does
 *	total	main to here
 *	bits	the key's size as the check found it (0 for -c none)
 *
 * -x stops at main, after printing exec: the cost of starting a program
 * linked as this one is.  -n first calls OPENSSL_init_crypto with OPENSSL_INIT_NO_LOAD_CONFIG,
 * OPENSSL_INIT_NO_ADD_ALL_CIPHERS and OPENSSL_INIT_NO_ADD_ALL_DIGESTS, so
 * dkim_init's OpenSSL_add_all_algorithms finds that work done.  -r makes
 * OpenSSL's random generator (which RSA blinding starts) a HASH-DRBG
 * over SHA-256 instead of the default CTR-DRBG over AES-256, whose
 * first use fetches, and so builds, every cipher.  -k der
 * hands libopendkim the key as DER in base64 (what it takes besides PEM)
 * instead of PEM.  The signature header goes to stderr, for checking.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <opendkim/dkim.h>

static const char *sign_hdrs[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-ID", "Content-Description", "Content-Language",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive", NULL
};
static const char *oversign_hdrs[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", NULL
};

static double
now_us(void)
{
	struct timespec ts;

	/* CPU time, not wall time: stable on a busy machine, and it
	 * survives execve, so the exec itself is counted */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void
fail(const char *what)
{
	fprintf(stderr, "phases: %s\n", what);
	exit(1);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0)
		fail(path);
	rewind(f);
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail(path);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The bits of an RSA key from its RSAPrivateKey DER: the second INTEGER. */
static int __attribute__((noinline))
rsa_bits(const unsigned char *der, long len)
{
	STACK_OF(ASN1_TYPE) *seq;
	ASN1_TYPE *t;
	BIGNUM *n;
	int bits = -1;

	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &der, len);
	if (seq == NULL)
		return -1;
	t = sk_ASN1_TYPE_value(seq, 1);
	if (t != NULL && t->type == V_ASN1_INTEGER &&
	    (n = ASN1_INTEGER_to_BN(t->value.integer, NULL)) != NULL) {
		bits = BN_num_bits(n);
		BN_free(n);
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return bits;
}

/* -c asn1: type and bits without OSSL_DECODER; 1 RSA, 2 Ed25519. */
static int __attribute__((noinline))
check_asn1(const char *pem, int *bits)
{
	PKCS8_PRIV_KEY_INFO *p8;
	const ASN1_OBJECT *obj;
	const unsigned char *q, *inner;
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	int type = -1, innerlen;
	long len;
	BIO *b = BIO_new_mem_buf(pem, -1);

	if (b == NULL || !PEM_bytes_read_bio(&der, &len, &name,
	    "ANY PRIVATE KEY", b, NULL, NULL))
		fail("PEM_bytes_read_bio");
	BIO_free(b);
	if (strcmp(name, "RSA PRIVATE KEY") == 0) {	/* PKCS#1 */
		type = 1;
		*bits = rsa_bits(der, len);
	} else if (strcmp(name, "PRIVATE KEY") == 0) {	/* PKCS#8 */
		q = der;
		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, len);
		if (p8 == NULL ||
		    !PKCS8_pkey_get0(&obj, &inner, &innerlen, NULL, p8))
			fail("d2i_PKCS8_PRIV_KEY_INFO");
		if (OBJ_obj2nid(obj) == NID_rsaEncryption) {
			type = 1;
			*bits = rsa_bits(inner, innerlen);
		} else if (OBJ_obj2nid(obj) == NID_ED25519)
			type = 2;
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	return type;
}

static int __attribute__((noinline))
check_pem(const char *pem, int *bits)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	int id;

	if (k == NULL)
		fail("PEM_read_bio_PrivateKey");
	BIO_free(b);
	id = EVP_PKEY_get_base_id(k);
	*bits = EVP_PKEY_get_bits(k);
	EVP_PKEY_free(k);
	return id == EVP_PKEY_RSA ? 1 : id == EVP_PKEY_ED25519 ? 2 : -1;
}

/* -k der: the DER inside the PEM armour, base64 on one line */
static char *
der_base64(const char *pem)
{
	const char *p = strchr(pem, '\n'), *end = strstr(pem, "\n-----END");
	char *out, *q;

	if (p == NULL || end == NULL || (out = malloc(strlen(pem))) == NULL)
		fail("not PEM");
	for (q = out; p < end; p++)
		if (*p != '\n' && *p != '\r')
			*q++ = *p;
	*q = '\0';
	return out;
}

int
main(int argc, char **argv)
{
	static unsigned char crlf[2 * 65536];
	const char *check = "pem", *keyform = "pem", *t0env;
	char *key, *msg, *p, *end, *libkey, t0buf[64];
	size_t keylen, msglen, len, i, n;
	double t[12], start;
	unsigned char *sig;
	size_t siglen;
	int c, noinit = 0, hashdrbg = 0, type, bits = 0;
	int stop = 0;
	DKIM_LIB *lib;
	DKIM_STAT st;
	DKIM *d;

	start = now_us();
	t0env = getenv("PHASES_T0");
	if (t0env == NULL) {	/* measure the exec: do it again */
		snprintf(t0buf, sizeof t0buf, "%.3f", now_us());
		setenv("PHASES_T0", t0buf, 1);
		execv("/proc/self/exe", argv);
		fail("execv");
	}
	while ((c = getopt(argc, argv, "xnrc:k:")) != -1) {
		switch (c) {
		case 'x': stop = 1; break;
		case 'n': noinit = 1; break;
		case 'r': hashdrbg = 1; break;
		case 'c': check = optarg; break;
		case 'k': keyform = optarg; break;
		default: fail("usage: phases [-x] [-n] [-r] "
		    "[-c pem|asn1|none] [-k pem|der] KEYFILE MESSAGE");
		}
	}
	if (argc - optind != 2)
		fail("usage: phases [-x] [-n] [-r] [-c pem|asn1|none] "
		    "[-k pem|der] KEYFILE MESSAGE");
	if (stop) {
		printf("exec=%.0f\n", start - atof(t0env));
		return 0;
	}
	key = slurp(argv[optind], &keylen);
	msg = slurp(argv[optind + 1], &msglen);
	type = strstr(key, "BEGIN PRIVATE KEY") != NULL && keylen < 200 ? 2 : 1;

	t[0] = now_us();
	if (noinit)
		OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
		    OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
		    OPENSSL_INIT_NO_ADD_ALL_DIGESTS, NULL);
	if (hashdrbg && !RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL,
	    "SHA256"))
		fail("RAND_set_DRBG_type");
	if (strcmp(check, "pem") == 0)
		type = check_pem(key, &bits);
	else if (strcmp(check, "asn1") == 0)
		type = check_asn1(key, &bits);
	if (type < 0)
		fail("neither RSA nor Ed25519");
	t[1] = now_us();

	if ((lib = dkim_init(NULL, NULL)) == NULL)
		fail("dkim_init");
	t[2] = now_us();
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, sign_hdrs,
	    sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    oversign_hdrs, sizeof(char **)) != DKIM_STAT_OK)
		fail("dkim_options");
	t[3] = now_us();

	libkey = strcmp(keyform, "der") == 0 ? der_base64(key) : key;
	d = dkim_sign(lib, (const unsigned char *)"phases", NULL,
	    (dkim_sigkey_t)libkey, (const unsigned char *)"s",
	    (const unsigned char *)"example.com", DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, type == 2 ? DKIM_SIGN_ED25519SHA256 :
	    DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL || dkim_privkey_load(d) != DKIM_STAT_OK)
		fail("dkim_sign or dkim_privkey_load");
	t[4] = now_us();

	end = strstr(msg, "\n\n");
	if (end == NULL)
		fail("no body");
	for (p = msg; p <= end; p += len + 1) {
		for (len = 0; p + len < end && !(p[len] == '\n' &&
		    p[len + 1] != ' ' && p[len + 1] != '\t'); len++)
			;
		for (i = n = 0; i < len; i++) {
			if (p[i] == '\n')
				crlf[n++] = '\r';
			crlf[n++] = (unsigned char)p[i];
		}
		if (dkim_header(d, crlf, n) != DKIM_STAT_OK)
			fail("dkim_header");
	}
	if (dkim_eoh(d) != DKIM_STAT_OK)
		fail("dkim_eoh");
	for (p = end + 2; p < msg + msglen; p += len) {
		len = (size_t)(msg + msglen - p) < 65536 ?
		    (size_t)(msg + msglen - p) : 65536;
		for (i = n = 0; i < len; i++) {
			if (p[i] == '\n')
				crlf[n++] = '\r';
			crlf[n++] = (unsigned char)p[i];
		}
		if (dkim_body(d, crlf, n) != DKIM_STAT_OK)
			fail("dkim_body");
	}
	t[5] = now_us();
	if (dkim_eom(d, NULL) != DKIM_STAT_OK ||
	    dkim_getsighdr_d(d, 16, &sig, &siglen) != DKIM_STAT_OK)
		fail("dkim_eom");
	fprintf(stderr, "DKIM-Signature: %s\n", sig);
	t[6] = now_us();
	dkim_free(d);
	dkim_close(lib);
	t[7] = now_us();
	openlog("phases", LOG_PID, LOG_MAIL);
	syslog(LOG_INFO, "signed: d=example.com s=s bits=%d", bits);
	closelog();
	t[8] = now_us();

	printf("exec=%.0f check=%.0f init=%.0f opts=%.0f load=%.0f msg=%.0f "
	    "eom=%.0f close=%.0f log=%.0f total=%.0f bits=%d\n",
	    start - atof(t0env), t[1] - t[0], t[2] - t[1], t[3] - t[2],
	    t[4] - t[3], t[5] - t[4], t[6] - t[5], t[7] - t[6], t[8] - t[7],
	    t[8] - start, bits);
	return 0;
}
