/*
 * qmail-dkim -- sign outgoing mail with DKIM, in qmail-remote's place.
 *
 * qmail has no filter hook at delivery time; the one program that sees
 * every outgoing message is qmail-remote, which qmail-rspawn starts once
 * per remote delivery.  qmail-dkim is installed under that name.  It
 * reads the message on fd 0, picks the key of the From: domain (or of a
 * parent domain, or of the envelope sender's), adds a DKIM-Signature
 * field (RFC 6376, made by libopendkim), and execs the real qmail-remote
 * with the signed message on fd 0 and the same argv.
 *
 * qmail-remote's contract binds every line: fd 2 is the report pipe,
 * any exit status other than 0 and 111 bounces the message.  So there are
 * exactly two ways out: become the real qmail-remote, with the message
 * signed or byte for byte unchanged, or write one Z record (qmail-send
 * keeps the message and retries) and exit 0.  A message that cannot be
 * signed so that it verifies goes on unsigned: no signature is better
 * than one that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qdkim.h"

static void __attribute__((noreturn))
temp(const char *text)
{
	char buf[sizeof why + 64];

	log_line("deferred: %s", text);
	snprintf(buf, sizeof buf, "qmail-dkim: %s. (#4.3.0)", text);
	_exit(report_temp(buf) == -1 ? 111 : 0);
}

static void __attribute__((noreturn))
temp_why(void)
{
	temp(why);
}

static void __attribute__((noreturn))
pass(const char *real, char **argv, struct msg *m, const char *reason)
{
	log_line("not signed: %s", reason);
	if (m != NULL && msg_rewind(m) == -1)
		temp_why();
	handoff_plain(real, argv);
	temp_why();
}

static void
log_signed(const struct keyset *ks)
{
	char list[SEL_MAX * 80];
	size_t i, n = 0;

	for (i = 0; i < ks->n; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, " s=%s a=%s",
		    ks->k[i].selector, ks->k[i].type == KEY_ED25519 ?
		    "ed25519-sha256" : "rsa-sha256");
	log_line("signed: d=%s%s", ks->domain, list);
}

/* qmail-send's envelope senders for bounces and double bounces */
static int
is_bounce(const char *sender)
{
	return *sender == '\0' || strcmp(sender, "#@[]") == 0;
}

/* The domain after the last @ of the envelope sender: 1 valid, 0 not. */
static int
sender_domain(const char *sender, char *buf, size_t size)
{
	const char *at = strrchr(sender, '@');

	if (at == NULL || strlen(at + 1) >= size)
		return 0;
	strcpy(buf, at + 1);
	return domain_normalize(buf);
}

/*
 * This host's own domain, for bounces, which have no envelope domain:
 * qmail-send's control/bouncehost, else control/me (Gmail rejects
 * unsigned bounces too).  -1 when a control file cannot be read.
 */
static int
own_domain(char *buf, size_t size)
{
	char path[512];
	int r;

	snprintf(path, sizeof path, "%s/control/bouncehost", control_home());
	r = control_readline(path, buf, size);
	if (r == 0) {
		snprintf(path, sizeof path, "%s/control/me", control_home());
		r = control_readline(path, buf, size);
	}
	return r == 1 ? domain_normalize(buf) : r;
}

/*
 * Feeds the header fields and the body to the signatures, reading the
 * message on from where msg_header stopped: -1 error, 0 unsignable (the
 * reason in why), 1 signed.
 */
static int
sign_message(struct msg *m, const struct header *h, char **sighdr,
    size_t *siglen)
{
	static char body[CHUNK];
	ssize_t n = 0;
	size_t i;
	int r;

	for (i = 0, r = 1; i < h->n && r == 1; i++)
		r = sign_header(m->hdr + h->f[i].off, h->f[i].len);
	if (r == 1)
		r = sign_eoh();
	while (r == 1 && (n = msg_read(m, body, sizeof body)) > 0)
		r = sign_body(body, (size_t)n);
	if (n == -1)
		return -1;
	/* qmail-remote refuses a last line without LF: leave it to it */
	if (r == 1 && m->last != '\n') {
		why_set("the last line has no line end");
		return 0;
	}
	return r == 1 ? sign_finish(sighdr, siglen) : r;
}

int
main(int argc, char **argv)
{
	char fromdom[256], envdom[256], *sighdr = NULL;
	const char *domains[2], *real, *reason, *sender;
	struct header h = { .f = NULL };
	struct msg m;
	struct keyset ks;
	struct policy pol;
	size_t siglen = 0;
	int r;

	handoff_guard();
	if (handoff_looped())
		temp("the real qmail-remote is qmail-dkim itself; "
		    "see qmail-dkim-install(8)");
	real = handoff_real();
	if (access(real, X_OK) == -1) {
		why_sys("cannot run %s", real);
		temp_why();
	}
	if (argc < 4)	/* let the real one say what is wrong */
		pass(real, argv, NULL, "usage");

	r = msg_open(&m, 0);
	if (r == -1)
		temp_why();
	if (r == 0)
		pass(real, argv, &m, "empty message");
	r = msg_header(&m);
	if (r == -1)
		temp_why();
	if (r == 0)
		pass(real, argv, &m, "header larger than 1 MB");
	r = header_parse(m.hdr, m.hdrlen, &h, &reason);
	if (r == -1)
		temp("out of memory parsing the header");
	if (r == 0)
		pass(real, argv, &m, reason);

	domains[0] = address_domain(m.hdr + h.f[h.from].off +
	    h.f[h.from].namelen + 1, h.f[h.from].len - h.f[h.from].namelen - 1,
	    fromdom, sizeof fromdom) ? fromdom : NULL;
	if (is_bounce(argv[2])) {
		r = own_domain(envdom, sizeof envdom);
		sender = "";
	} else {
		r = sender_domain(argv[2], envdom, sizeof envdom);
		sender = r ? envdom : "-";	/* "-" matches only "*" */
	}
	if (r == -1 || allow_load() == -1)
		temp_why();
	domains[1] = r ? envdom : NULL;
	r = keys_pick(domains, 2, sender, &ks);
	if (r == -1)
		temp_why();
	if (r == 0)
		pass(real, argv, &m, "no key for the From: or envelope domain");

	if (policy_load(&pol) == -1)
		temp_why();
	policy_narrow(&pol, m.hdr, &h);
	if (sign_start(&ks, &pol) == -1)
		temp_why();
	r = sign_message(&m, &h, &sighdr, &siglen);
	if (r == -1)
		temp_why();
	if (r == 0)
		pass(real, argv, &m, why);

	log_signed(&ks);
	handoff_signed(real, argv, &m, sighdr, siglen);
	temp_why();
	return 0;
}
