/*
 * tool-key.c -- the few openssl(1) commands the scripts run, for a host
 * that has no openssl command or one too old for Ed25519 (OpenSSL 1.0.x,
 * CentOS 6 and 7): qmail-dkim-tool openssl genpkey|pkey|base64.
 *
 * Only the options the scripts give are known; anything else is refused,
 * so a script that grows a new openssl option fails here in its tests
 * rather than doing something else on a customer's host.  Output is what
 * openssl 3 writes: PKCS#8 PEM private keys made mode 0600, PEM public
 * keys, DER, one-line base64, and of -text only the lines the scripts
 * read ("Public-Key: (N bit)" and "Modulus:" for RSA, "ED25519
 * Public-Key:" for Ed25519).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "qdkim.h"

struct opts {
	const char *in, *out, *algorithm, *outform;
	int bits, pubin, pubout, text, noout, oneline;
};

/* RSA sizes from 512 to 16384 bits, else -1 */
static int
key_bits(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 512 || n > 16384)
		return -1;
	return (int)n;
}

/* Reads the options the scripts use; -1 and why on any other. */
static int
opts_read(struct opts *o, int argc, char **argv)
{
	int i;

	memset(o, 0, sizeof *o);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(a, "-pubin") == 0)
			o->pubin = 1;
		else if (strcmp(a, "-pubout") == 0)
			o->pubout = 1;
		else if (strcmp(a, "-text") == 0 || strcmp(a, "-text_pub") == 0)
			o->text = 1;
		else if (strcmp(a, "-noout") == 0)
			o->noout = 1;
		else if (strcmp(a, "-A") == 0)
			o->oneline = 1;
		else if (i + 1 < argc && strcmp(a, "-in") == 0)
			o->in = argv[++i];
		else if (i + 1 < argc && strcmp(a, "-out") == 0)
			o->out = argv[++i];
		else if (i + 1 < argc && strcmp(a, "-outform") == 0)
			o->outform = argv[++i];
		else if (i + 1 < argc && strcmp(a, "-algorithm") == 0)
			o->algorithm = argv[++i];
		else if ((strcmp(a, "-passin") == 0 && strcmp(v, "pass:") == 0) ||
		    (strcmp(a, "-pkeyopt") == 0 &&
		    strncmp(v, "rsa_keygen_bits:", 16) == 0 &&
		    (o->bits = key_bits(v + 16)) != -1))
			i++;	/* -passin: an empty one; an encrypted key fails */
		else {
			why_set("openssl option %s is not one qmail-dkim-tool knows",
			    a);
			return -1;
		}
	}
	return 0;
}

static BIO *
open_in(const char *path)
{
	BIO *b = path != NULL ? BIO_new_file(path, "r") :
	    BIO_new_fp(stdin, BIO_NOCLOSE);

	if (b == NULL)
		why_sys("cannot read %s", path != NULL ? path : "stdin");
	return b;
}

/* A private key file is made mode 0600, as openssl makes it. */
static BIO *
open_out(const char *path, int private)
{
	BIO *b;
	int fd;

	if (path == NULL)
		return BIO_new_fp(stdout, BIO_NOCLOSE);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    private ? 0600 : 0644);
	if (fd == -1 || (b = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		why_sys("cannot write %s", path);
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return b;
}

static int
finish(BIO *b, int ok)
{
	if (b != NULL && BIO_flush(b) != 1)
		ok = 0;
	BIO_free_all(b);
	if (!ok && why[0] == '\0')
		why_set("cannot write the output");
	return ok ? 0 : -1;
}

/* genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:N | ED25519, -out F */
int
tool_genpkey(int argc, char **argv)
{
	struct opts o;
	EVP_PKEY_CTX *c = NULL;
	EVP_PKEY *k = NULL;
	BIO *out;
	int id, ok;

	if (opts_read(&o, argc, argv) == -1)
		return -1;
	if (o.algorithm == NULL) {
		why_set("genpkey needs -algorithm");
		return -1;
	}
	if (strcasecmp(o.algorithm, "RSA") == 0)
		id = EVP_PKEY_RSA;
	else if (strcasecmp(o.algorithm, "ED25519") == 0)
		id = EVP_PKEY_ED25519;
	else {
		why_set("unknown algorithm %s: RSA or ED25519", o.algorithm);
		return -1;
	}
	if ((c = EVP_PKEY_CTX_new_id(id, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(c) <= 0 ||
	    (id == EVP_PKEY_RSA && o.bits > 0 &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(c, o.bits) <= 0) ||
	    EVP_PKEY_keygen(c, &k) <= 0) {
		EVP_PKEY_CTX_free(c);
		why_set("OpenSSL could not make the key");
		return -1;
	}
	EVP_PKEY_CTX_free(c);
	if ((out = open_out(o.out, 1)) == NULL) {
		EVP_PKEY_free(k);
		return -1;
	}
	ok = PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0, NULL, NULL) == 1;
	EVP_PKEY_free(k);
	return finish(out, ok);
}

/* The lines of openssl's -text that tell the kind of key and its size. */
static int
key_text(BIO *out, EVP_PKEY *k)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		return BIO_printf(out, "Public-Key: (%d bit)\nModulus:\n",
		    EVP_PKEY_get_bits(k)) > 0;
	case EVP_PKEY_ED25519:
		return BIO_printf(out, "ED25519 Public-Key:\n") > 0;
	default:
		return BIO_printf(out, "Public-Key: (%d bit)\n",
		    EVP_PKEY_get_bits(k)) > 0;
	}
}

/* pkey [-in F] [-pubin] [-passin pass:] [-pubout] [-outform DER]
 * [-text|-text_pub] [-noout] [-out F] */
int
tool_pkey(int argc, char **argv)
{
	struct opts o;
	EVP_PKEY *k;
	BIO *in, *out;
	int ok = 1, der;

	if (opts_read(&o, argc, argv) == -1 || (in = open_in(o.in)) == NULL)
		return -1;
	k = o.pubin ? PEM_read_bio_PUBKEY(in, NULL, NULL, NULL) :
	    PEM_read_bio_PrivateKey(in, NULL, NULL, (void *)"");
	BIO_free_all(in);
	if (k == NULL) {
		why_set("cannot read %s as a %s key", o.in ? o.in : "stdin",
		    o.pubin ? "public" : "private");
		return -1;
	}
	der = o.outform != NULL && strcasecmp(o.outform, "DER") == 0;
	if ((out = open_out(o.out, !(o.pubin || o.pubout))) == NULL) {
		EVP_PKEY_free(k);
		return -1;
	}
	if (!o.noout) {
		if (o.pubin || o.pubout)
			ok = der ? i2d_PUBKEY_bio(out, k) == 1 :
			    PEM_write_bio_PUBKEY(out, k) == 1;
		else
			ok = der ? i2d_PrivateKey_bio(out, k) == 1 :
			    PEM_write_bio_PrivateKey(out, k, NULL, NULL, 0,
			    NULL, NULL) == 1;
	}
	if (ok && o.text)
		ok = key_text(out, k);
	EVP_PKEY_free(k);
	return finish(out, ok);
}

/* base64 [-A]: stdin to base64, on one line with -A, else 64 a line */
int
tool_base64(int argc, char **argv)
{
	struct opts o;
	static unsigned char buf[48 * 1024], enc[65 * 1024];
	size_t n, i;
	int len;

	if (opts_read(&o, argc, argv) == -1 || o.in != NULL || o.out != NULL) {
		if (why[0] == '\0')
			why_set("base64 reads stdin and writes stdout only");
		return -1;
	}
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		/* whole 3-byte groups except at the end: no padding inside */
		while (n % 3 != 0 && !feof(stdin)) {
			size_t m = fread(buf + n, 1, 3 - n % 3, stdin);
			if (m == 0)
				break;
			n += m;
		}
		len = EVP_EncodeBlock(enc, buf, (int)n);
		for (i = 0; i < (size_t)len; i += 64) {
			size_t w = (size_t)len - i < 64 ? (size_t)len - i : 64;
			fwrite(enc + i, 1, o.oneline ? (size_t)len : w, stdout);
			if (o.oneline)
				break;
			putchar('\n');
		}
	}
	/* -A: no newline at the end either, as openssl writes it */
	if (ferror(stdin) || fflush(stdout) == EOF) {
		why_set("cannot copy base64 through");
		return -1;
	}
	return 0;
}
