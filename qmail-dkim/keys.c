/*
 * keys.c -- finding and checking the private key for a domain.
 *
 * The layout is the one the existing qmail DKIM patches use, so their
 * keys work unchanged:
 *
 *	control/domainkeys/DOMAIN/selector	selectors, one a line
 *						(default "default")
 *	control/domainkeys/DOMAIN/SELECTOR	a private key, PEM
 *	control/domainkeys/DOMAIN/identity	i=, optional
 *
 * A key is checked before libopendkim sees it, because the library
 * prompts on the terminal for an encrypted key and signs with an RSA key
 * whatever algorithm it was asked for (libopendkim-facts.md); sign.c then
 * has the library load it before any of the message is fed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "qdkim.h"

static const char *root;	/* NULL: control/domainkeys in the qmail home */

/* qmail-dkim-queue: the user's own key directory, same layout below it */
void
keys_root(const char *dir)
{
	root = dir;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;	/* never ask: there is no terminal, and no one to ask */
}

/*
 * OpenSSL as a signer needs it, set up before its first use.  No
 * openssl.cnf and no legacy cipher and digest name tables: nothing here
 * looks an algorithm up by name.  (Encrypted keys are refused by their
 * PEM armour in check_key before OpenSSL sees them.)
 * RSA blinding draws random numbers: a SHA-256 Hash_DRBG (SP 800-90A,
 * like the default CTR-DRBG) spares the first-use cost of building every
 * cipher for AES-CTR.  Together about 1.3 ms a delivery (bench/PROFILE.md).
 */
static int
crypto_start(void)
{
	static int done;

	if (done)
		return 0;
	if (!OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
	    NULL) ||
	    !RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256")) {
		why_set("cannot start OpenSSL");
		return -1;
	}
	done = 1;
	return 0;
}

/* The modulus is the second INTEGER of an RSAPrivateKey (RFC 8017 A.1.2). */
static int
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

/*
 * The key's type and size, read from its ASN.1: PKCS#1 "RSA PRIVATE KEY"
 * or PKCS#8 "PRIVATE KEY" (RFC 5958) holding RSA or Ed25519.  OpenSSL 3's
 * full decoder costs milliseconds per process, and libopendkim decodes
 * the key anyway (sign.c), so it is not run twice.
 */
static int
key_type(const char *pem, int *bits)
{
	PKCS8_PRIV_KEY_INFO *p8;
	const ASN1_OBJECT *obj;
	const unsigned char *q, *inner;
	unsigned char *der = NULL;
	char *name = NULL, *header = NULL;
	int type = -1, innerlen;
	long len;
	BIO *b;

	b = BIO_new_mem_buf(pem, -1);
	if (b == NULL)
		return -1;
	if (!PEM_bytes_read_bio(&der, &len, &name, "ANY PRIVATE KEY", b,
	    no_passphrase, NULL)) {
		BIO_free(b);
		return -1;
	}
	BIO_free(b);
	if (strcmp(name, "RSA PRIVATE KEY") == 0) {
		type = KEY_RSA;
		*bits = rsa_bits(der, len);
	} else if (strcmp(name, "PRIVATE KEY") == 0) {
		q = der;
		p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, len);
		if (p8 != NULL &&
		    PKCS8_pkey_get0(&obj, &inner, &innerlen, NULL, p8)) {
			if (OBJ_obj2nid(obj) == NID_rsaEncryption) {
				type = KEY_RSA;
				*bits = rsa_bits(inner, innerlen);
			} else if (OBJ_obj2nid(obj) == NID_ED25519) {
				type = KEY_ED25519;
				*bits = 256;
			} else
				type = 0;
		}
		PKCS8_PRIV_KEY_INFO_free(p8);
	} else
		type = 0;
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	return type;
}

/*
 * Whoever can write a key or its directory can put a key of their own
 * there; whoever can read a key can sign as its domain anywhere.  The
 * admin hears of it; the delivery goes on (world-writable stops it).
 * The signer's own user reads the keys anyway: its files are no news.
 */
static void
warn_mode(const char *what, const char *path, const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid() &&
	    (st->st_mode & S_IWUSR))
		log_warning("warning: %s %s is writable by uid %lu, not only "
		    "by root", what, path, (unsigned long)st->st_uid);
	else if (st->st_gid != 0 && (st->st_mode & S_IWGRP))
		log_warning("warning: %s %s is writable by group %lu, not only "
		    "by root", what, path, (unsigned long)st->st_gid);
	if (S_ISREG(st->st_mode) && (st->st_mode & S_IROTH))
		log_warning("warning: %s %s is readable by every local user",
		    what, path);
}

static char *
read_key(const char *path)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		why_sys("cannot open the key %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		why_sys("cannot look at the key %s", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		why_set("the key %s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & S_IWOTH) {
		why_set("the key %s is world-writable: anyone could replace "
		    "it", path);
		goto fail;
	}
	warn_mode("the key", path, &st);
	if (st.st_size > KEY_MAX) {
		why_set("the key %s is too large to be a private key", path);
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		why_set("out of memory reading the key %s", path);
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		n = io_pread(fd, buf + len, (size_t)st.st_size - len, (off_t)len);
		if (n == -1) {
			why_sys("cannot read the key %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int
check_key(struct key *k)
{
	if (strncmp(k->pem, "-----BEGIN ENCRYPTED", 20) == 0 ||
	    strstr(k->pem, "Proc-Type: 4,ENCRYPTED") != NULL) {
		why_set("the key %s is encrypted; qmail-dkim needs it without "
		    "a pass phrase", k->path);
		return -1;
	}
	if (crypto_start() == -1)
		return -1;
	k->bits = 0;
	k->type = keycache_type(k->pem, strlen(k->pem), &k->bits);
	if (k->type == 0)
		k->type = key_type(k->pem, &k->bits);
	if (k->type == -1 || (k->type == KEY_RSA && k->bits <= 0)) {
		why_set("the key %s is not a PEM private key OpenSSL can read",
		    k->path);
		return -1;
	}
	if (k->type == 0) {
		why_set("the key %s is neither RSA nor Ed25519", k->path);
		return -1;
	}
	if (k->type == KEY_RSA && k->bits < RSA_MIN_BITS) {
		why_set("the key %s has %d bits; RFC 8301 asks for %d at least",
		    k->path, k->bits, RSA_MIN_BITS);
		return -1;
	}
	return 0;
}

/* Reads and checks one key; -1 error, 0 absent, 1 loaded. */
static int
load_key(struct key *k)
{
	struct stat st;
	char *buf, *begin;

	sigcache_note(k->path);
	if (lstat(k->path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		why_sys("cannot look at the key %s", k->path);
		return -1;
	}
	buf = read_key(k->path);
	if (buf == NULL)
		return -1;
	/* OpenSSL takes nothing before the armour: skip blank lines, BOMs */
	begin = strstr(buf, "-----BEGIN ");
	if (begin == NULL) {
		why_set("the key %s holds no PEM private key", k->path);
		free(buf);
		return -1;
	}
	memmove(buf, begin, strlen(begin) + 1);
	k->pem = buf;
	if (check_key(k) == -1) {
		free(buf);
		k->pem = NULL;
		return -1;
	}
	return 1;
}

/*
 * The selector file lists one selector a line (RFC 6376 3.1), several
 * for several signatures: RSA beside Ed25519, or the old and the new key
 * during a rollover.  Blank lines and # comments are skipped.
 */
static int
read_selectors(const char *path, struct keyset *ks)
{
	char text[1024], *line, *save, *end;
	size_t i;
	int r;

	ks->n = 0;
	r = control_readfile(path, text, sizeof text);
	if (r <= 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		end = line + strcspn(line, "#");
		while (end > line && strchr(" \t\r", end[-1]) != NULL)
			end--;
		*end = '\0';
		if (*line == '\0')
			continue;
		if (!selector_valid(line) || strlen(line) >= sizeof
		    ks->k[0].selector) {
			why_set("%s: \"%s\" is not a valid selector", path,
			    line);
			return -1;
		}
		for (i = 0; i < ks->n; i++)
			if (strcmp(ks->k[i].selector, line) == 0)
				break;
		if (i < ks->n)
			continue;
		if (ks->n == SEL_MAX) {
			why_set("%s lists more than %d selectors", path,
			    SEL_MAX);
			return -1;
		}
		strcpy(ks->k[ks->n++].selector, line);
	}
	if (ks->n == 0) {
		why_set("%s lists no selector", path);
		return -1;
	}
	return 1;
}

/* RFC 6376 3.5 i=: [local-part]@domain, the domain d= or below it. */
static int
read_identity(const char *dir, struct keyset *ks)
{
	char path[400], dom[320];
	const char *at, *p;
	size_t dl = strlen(ks->domain), n;
	int r;

	snprintf(path, sizeof path, "%s/identity", dir);
	r = control_readline(path, ks->identity, sizeof ks->identity);
	if (r != 1) {
		ks->identity[0] = '\0';
		return r;
	}
	at = strrchr(ks->identity, '@');
	for (p = ks->identity; at != NULL && p < at; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127 ||
		    strchr(";=@", *p) != NULL)
			break;
	if (at != NULL && p == at) {
		snprintf(dom, sizeof dom, "%s", at + 1);
		n = strlen(dom);
		if (domain_normalize(dom) && (strcmp(dom, ks->domain) == 0 ||
		    (n > dl && dom[n - dl - 1] == '.' &&
		    strcmp(dom + n - dl, ks->domain) == 0))) {
			snprintf(ks->identity + (at + 1 - ks->identity),
			    sizeof ks->identity - (size_t)(at + 1 -
			    ks->identity), "%s", dom);
			return 1;
		}
	}
	why_set("%s: give user@%s, @%s or an address in a subdomain of it",
	    path, ks->domain, ks->domain);
	return -1;
}

/* The keys of one domain: -1 error, 0 no key, 1 found. */
static int
keys_of(const char *domain, struct keyset *ks)
{
	char dir[320], path[384];
	struct stat st;
	size_t i;
	int r, listed;

	if (root != NULL) {
		if ((size_t)snprintf(dir, sizeof dir, "%s/%s", root, domain) >=
		    sizeof dir)
			return 0;	/* no path, so no key */
	} else
		snprintf(dir, sizeof dir, "%s/control/domainkeys/%s",
		    control_home(), domain);
	sigcache_note(dir);
	if (stat(dir, &st) == -1) {
		/* a dangling symlink (a share not mounted) is not "no key":
		 * signing must not stop without a word */
		if (errno == ENOENT && lstat(dir, &st) == -1 &&
		    errno == ENOENT)
			return 0;
		why_sys("cannot look at %s", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		why_set("%s is not a directory", dir);
		return -1;
	}
	if (st.st_mode & S_IWOTH) {
		why_set("%s is world-writable: anyone could put a key there",
		    dir);
		return -1;
	}
	warn_mode("the key directory", dir, &st);
	snprintf(path, sizeof path, "%s/selector", dir);
	r = read_selectors(path, ks);
	if (r == -1)
		return -1;
	listed = r == 1;
	if (!listed) {
		ks->n = 1;
		strcpy(ks->k[0].selector, "default");
	}
	snprintf(ks->domain, sizeof ks->domain, "%s", domain);
	for (i = 0; i < ks->n; i++) {
		snprintf(ks->k[i].path, sizeof ks->k[i].path, "%s/%s", dir,
		    ks->k[i].selector);
		r = load_key(&ks->k[i]);
		if (r == -1)
			return -1;
		if (r == 0 && !listed)
			return 0;	/* a directory without a key */
		if (r == 0) {
			why_set("the key %s, listed in %s, does not exist",
			    ks->k[i].path, path);
			return -1;
		}
	}
	if (read_identity(dir, ks) == -1)
		return -1;
	return 1;
}

/* The keys' text, wiped: qmail-dkimd's heap outlives the message. */
void
keys_free(struct keyset *ks)
{
	size_t i;

	for (i = 0; i < SEL_MAX; i++)
		if (ks->k[i].pem != NULL) {
			OPENSSL_clear_free(ks->k[i].pem,
			    strlen(ks->k[i].pem) + 1);
			ks->k[i].pem = NULL;
		}
}

/*
 * Whoever can write control/ or control/domainkeys/ can rename a domain's
 * directory and put a key of theirs in its place.
 */
static int
safe_dirs(void)
{
	static const char *const dirs[] = { "control", "control/domainkeys" };
	char path[320];
	struct stat st;
	size_t i;

	for (i = root != NULL ? 1 : 0; i < 2; i++) {
		if (root != NULL)	/* a key directory of one's own, alone */
			snprintf(path, sizeof path, "%s", root);
		else
			snprintf(path, sizeof path, "%s/%s", control_home(),
			    dirs[i]);
		sigcache_note(path);
		if (stat(path, &st) == -1) {
			if (errno == ENOENT)
				return 0;	/* no keys at all */
			why_sys("cannot look at %s", path);
			return -1;
		}
		if (st.st_mode & S_IWOTH) {
			why_set("%s is world-writable: anyone could put a key "
			    "there", path);
			return -1;
		}
	}
	return 0;
}

/*
 * Tries each domain of the list, then its parents, in order: the From:
 * domain first (DMARC alignment, RFC 7489 3.1), then the envelope
 * sender's.  NULL entries are skipped, and so are domains that
 * control/dkimsenders does not let this envelope sender use, or that
 * control/dkimrights does not let the message's injector use.
 */
int
keys_pick(const char *const *domains, size_t n, const char *sender,
    struct who *w, struct keyset *ks)
{
	const char *d;
	size_t i;
	int r;

	if (safe_dirs() == -1)
		return -1;
	for (i = 0; i < n; i++)
		for (d = domains[i]; d != NULL; d = domain_parent(d)) {
			if (!allow_check(d, sender) ||
			    (w != NULL && !rights_check(w, d)))
				continue;
			r = keys_of(d, ks);
			if (r != 0)
				return r;
		}
	return 0;
}
