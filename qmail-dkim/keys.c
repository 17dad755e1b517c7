/*
 * keys.c -- finding and checking the private key for a domain.
 *
 * The layout is the one the existing qmail DKIM patches use, so their
 * keys work unchanged:
 *
 *	control/domainkeys/DOMAIN/selector	the selector (default "default")
 *	control/domainkeys/DOMAIN/SELECTOR	the private key, PEM
 *
 * A key is checked with OpenSSL before libopendkim sees it, because the
 * library prompts on the terminal for an encrypted key, reports a bad key
 * only at the end of the message, and signs with an RSA key whatever
 * algorithm it was asked for (libopendkim-facts.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "qdkim.h"

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;	/* never ask: there is no terminal, and no one to ask */
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
	EVP_PKEY *pkey;
	BIO *bio;
	int id;

	if (strncmp(k->pem, "-----BEGIN ENCRYPTED", 20) == 0 ||
	    strstr(k->pem, "Proc-Type: 4,ENCRYPTED") != NULL) {
		why_set("the key %s is encrypted; qmail-dkim needs it without "
		    "a pass phrase", k->path);
		return -1;
	}
	bio = BIO_new_mem_buf(k->pem, -1);
	if (bio == NULL) {
		why_set("out of memory checking the key %s", k->path);
		return -1;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		why_set("the key %s is not a PEM private key OpenSSL can read",
		    k->path);
		return -1;
	}
	id = EVP_PKEY_get_base_id(pkey);
	k->bits = EVP_PKEY_get_bits(pkey);
	EVP_PKEY_free(pkey);
	if (id == EVP_PKEY_RSA) {
		k->type = KEY_RSA;
		if (k->bits < RSA_MIN_BITS) {
			why_set("the key %s has %d bits; RFC 8301 asks for "
			    "%d at least", k->path, k->bits, RSA_MIN_BITS);
			return -1;
		}
		return 0;
	}
	if (id == EVP_PKEY_ED25519) {	/* RFC 8463 */
		k->type = KEY_ED25519;
		return 0;
	}
	why_set("the key %s is neither RSA nor Ed25519", k->path);
	return -1;
}

/* The key of one domain: -1 error, 0 no key, 1 found. */
static int
key_of(const char *domain, struct key *k)
{
	char dir[320], path[384];
	struct stat st;
	char *buf, *begin;
	int r;

	snprintf(dir, sizeof dir, "%s/control/domainkeys/%s", control_home(),
	    domain);
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		why_sys("cannot look at %s", dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		why_set("%s is not a directory", dir);
		return -1;
	}
	snprintf(path, sizeof path, "%s/selector", dir);
	r = control_readline(path, k->selector, sizeof k->selector);
	if (r == -1)
		return -1;
	if (r == 0)
		strcpy(k->selector, "default");
	if (!selector_valid(k->selector)) {
		why_set("%s does not name a valid selector", path);
		return -1;
	}
	snprintf(k->path, sizeof k->path, "%s/%s", dir, k->selector);
	if (lstat(k->path, &st) == -1) {
		if (errno == ENOENT)
			return 0;	/* a directory without a key */
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
	k->pem = begin;
	if (check_key(k) == -1) {
		free(buf);
		k->pem = NULL;
		return -1;
	}
	snprintf(k->domain, sizeof k->domain, "%s", domain);
	return 1;
}

/*
 * Tries each domain of the list, then its parents, in order: the From:
 * domain first (DMARC alignment, RFC 7489 3.1), then the envelope
 * sender's.  NULL entries are skipped.
 */
int
keys_pick(const char *const *domains, size_t n, struct key *k)
{
	const char *d;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		for (d = domains[i]; d != NULL; d = domain_parent(d)) {
			r = key_of(d, k);
			if (r != 0)
				return r;
		}
	return 0;
}
