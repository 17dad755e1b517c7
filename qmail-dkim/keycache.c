/*
 * keycache.c -- decode each private key once per process, not once per
 * message.
 *
 * libopendkim decodes the key text it is given in every signing handle
 * (dkim_privkey_load, PEM_read_bio_PrivateKey) and frees it with the
 * handle.  In OpenSSL 3 that decode goes through OSSL_DECODER, and the
 * fresh RSA object must set up its blinding again at the first
 * signature: together most of what a warm qmail-dkimd spends on a small
 * message (bench/PROFILE.md).  The programs are linked with
 * -Wl,--wrap=PEM_read_bio_PrivateKey, so libopendkim's call lands here:
 * the same key text gives the same EVP_PKEY, one more reference each
 * time, and the RSA object keeps its blinding (refreshed by OpenSSL as
 * it is used).  A key changed on disk is different text, so a new entry;
 * qmail-dkimd's workers end after a number of messages, which bounds how
 * long an old key is held.  The text kept for comparing is wiped when an
 * entry goes.
 *
 * Besides OpenSSL's start-up (keys.c) and the log's connection (log.c),
 * this is all a qmail-dkimd worker keeps from one message to the next,
 * and it is meant to: an entry is found only by the whole key text, so
 * it stands for exactly the key that a message's control files name
 * now, whichever domain and selector name it.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "qdkim.h"

#define CACHE_KEYS 16

/* the names ld(1) gives --wrap: they cannot be other than reserved */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
EVP_PKEY *__real_PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x,
    pem_password_cb *cb, void *u);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
EVP_PKEY *__wrap_PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x,
    pem_password_cb *cb, void *u);

static struct entry {
	char *text;
	size_t len;
	EVP_PKEY *key;
	unsigned long used;
} cache[CACHE_KEYS];
static unsigned long clock_;

static void
drop(struct entry *e)
{
	OPENSSL_clear_free(e->text, e->len);
	EVP_PKEY_free(e->key);
	memset(e, 0, sizeof *e);
}

/* The entry to fill: an empty one, else the least recently used. */
static struct entry *
slot(void)
{
	struct entry *e = &cache[0];
	size_t i;

	for (i = 0; i < CACHE_KEYS; i++) {
		if (cache[i].key == NULL)
			return &cache[i];
		if (cache[i].used < e->used)
			e = &cache[i];
	}
	drop(e);
	return e;
}

EVP_PKEY *
__wrap_PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb,
    void *u)
{
	struct entry *e;
	EVP_PKEY *k;
	char *text;
	long len;
	size_t i;

	/* libopendkim passes a memory BIO and no x; anything else as is */
	len = x == NULL ? BIO_get_mem_data(bp, &text) : 0;
	if (len <= 0)
		return __real_PEM_read_bio_PrivateKey(bp, x, cb, u);
	for (i = 0; i < CACHE_KEYS; i++) {
		e = &cache[i];
		if (e->key != NULL && e->len == (size_t)len &&
		    CRYPTO_memcmp(e->text, text, e->len) == 0 &&
		    EVP_PKEY_up_ref(e->key)) {
			e->used = ++clock_;
			return e->key;
		}
	}
	k = __real_PEM_read_bio_PrivateKey(bp, NULL, cb, u);
	if (k == NULL)
		return NULL;
	e = slot();
	e->text = OPENSSL_malloc((size_t)len);
	if (e->text == NULL || !EVP_PKEY_up_ref(k)) {
		OPENSSL_free(e->text);
		e->text = NULL;
		return k;	/* uncached, but decoded */
	}
	memcpy(e->text, text, (size_t)len);
	e->len = (size_t)len;
	e->key = k;
	e->used = ++clock_;
	return k;
}

/*
 * What keys.c's check would find out again (RSA or Ed25519, the bits),
 * from a key this process has decoded already: KEY_RSA or KEY_ED25519,
 * or 0 when the text is not in the cache.  qmail-dkimd checks each
 * message's key; this spares it the ASN.1 parse every time.
 */
int
keycache_type(const char *text, size_t len, int *bits)
{
	size_t i;

	for (i = 0; i < CACHE_KEYS; i++)
		if (cache[i].key != NULL && cache[i].len == len &&
		    CRYPTO_memcmp(cache[i].text, text, len) == 0)
			switch (EVP_PKEY_get_base_id(cache[i].key)) {
			case EVP_PKEY_RSA:
				*bits = EVP_PKEY_get_bits(cache[i].key);
				return KEY_RSA;
			case EVP_PKEY_ED25519:
				*bits = EVP_PKEY_get_bits(cache[i].key);
				return KEY_ED25519;
			default:
				return 0;
			}
	return 0;
}
