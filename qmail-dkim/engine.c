/*
 * engine.c -- what to do with one message: the signing domain, its keys,
 * the policy, and the signatures, ending in one verdict.
 *
 * qmail-dkim runs it once and exits; qmail-dkimd runs it for message
 * after message, so everything it takes is given back by engine_done.
 * It never hands the message on and never writes a report: the caller
 * does, from the verdict.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qdkim.h"

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
 * control/dkimforwards: "origin", the default, signs a forward as its
 * From: or envelope domain when every link of its chain may (rights.c);
 * "host" signs every forward as this host's own domain instead, as large
 * forwarders do, so that the signature says who passed it on.  -1 error,
 * 0 origin, 1 host.
 */
static int
forwards_as_host(void)
{
	static const char *const words[] = { "origin", "host", NULL };

	return control_choice("dkimforwards", words, 0);
}

/*
 * Another signer's DKIM-Signature field.  It is never in h= (policy.c
 * signs no DKIM-Signature, RFC 6376 5.4), so the library need not see
 * it; given one, libopendkim parses it as a signature and refuses the
 * whole header when it is not a valid tag list (RFC 6376 3.5).
 */
static int
other_signature(const char *hdr, const struct field *f)
{
	return f->namelen == 14 &&
	    strncasecmp(hdr + f->off, "DKIM-Signature", 14) == 0;
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
		if (!other_signature(m->hdr, &h->f[i]))
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

static int
give(struct verdict *v, int kind, const char *text)
{
	v->kind = kind;
	snprintf(v->text, sizeof v->text, "%s", text);
	return kind;
}

/*
 * "d=example.com s=s1 a=rsa-sha256 s=s2 a=ed25519-sha256 for uid 1005",
 * for the log: whose mail was signed as whom (rights.c).
 */
static void
describe(const struct keyset *ks, const struct who *w, char *buf,
    size_t size)
{
	char name[128];
	size_t i, n;

	n = (size_t)snprintf(buf, size, "d=%s", ks->domain);
	for (i = 0; i < ks->n && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, " s=%s a=%s",
		    ks->k[i].selector, ks->k[i].type == KEY_ED25519 ?
		    "ed25519-sha256" : "rsa-sha256");
	rights_name(w, name, sizeof name);
	if (n < size)
		snprintf(buf + n, size - n, " for %s", name);
}

/*
 * The message is open (msg_open found it not empty) and not read yet;
 * sender is the envelope sender, argv[2] of qmail-remote.
 */
int
engine_sign(struct msg *m, const char *sender, struct verdict *v)
{
	char fromdom[256], envdom[256], name[128];
	const char *domains[2], *reason, *allowed;
	struct header h = { .f = NULL };
	struct keyset ks;
	struct policy pol;
	struct who who;
	int r, as_host;

	memset(v, 0, sizeof *v);
	memset(&ks, 0, sizeof ks);
	r = msg_header(m);
	if (r == -1)
		return give(v, VERDICT_DEFER, why);
	if (r == 0)
		return give(v, VERDICT_UNSIGNED, "header larger than 1 MB");
	/* RFC 5322 2.1 lets the body and its empty line go, but go-msgauth
	 * (0.6) cannot read such a message: its signature would fail */
	if (m->no_body)
		return give(v, VERDICT_UNSIGNED, "no empty line after the "
		    "header, which some verifiers cannot read");
	r = header_parse(m->hdr, m->hdrlen, &h, &reason);
	if (r == -1)
		return give(v, VERDICT_DEFER, "out of memory parsing the header");
	if (r == 0) {
		give(v, VERDICT_UNSIGNED, reason);
		goto done;
	}

	/* the queue file's own lines on top; not there when read from
	 * elsewhere */
	rights_who(m->start == 0 ? m->hdr : NULL, m->hdrlen, &who);
	domains[0] = address_domain(m->hdr + h.f[h.from].off +
	    h.f[h.from].namelen + 1, h.f[h.from].len - h.f[h.from].namelen - 1,
	    fromdom, sizeof fromdom) ? fromdom : NULL;
	if (is_bounce(sender)) {
		r = own_domain(envdom, sizeof envdom);
		allowed = "";
	} else {
		r = sender_domain(sender, envdom, sizeof envdom);
		allowed = r ? envdom : "-";	/* "-" matches only "*" */
	}
	if (r == -1 || allow_load() == -1 || rights_load() == -1) {
		give(v, VERDICT_DEFER, why);
		goto done;
	}
	domains[1] = r ? envdom : NULL;
	who.envdom = domains[1];
	/* qmail-send queues bounces with no other sender */
	who.env_bounce = is_bounce(sender);
	r = as_host = who.c.n > 1 ? forwards_as_host() : 0;
	if (r == 1) {	/* a forward, signed by this host for itself */
		r = own_domain(fromdom, sizeof fromdom);
		domains[0] = fromdom;
		if (r == 0) {
			give(v, VERDICT_UNSIGNED, "control/dkimforwards is host "
			    "but control/me names no domain");
			goto done;
		}
		if (r == 1)
			r = keys_pick(domains, 1, allowed, NULL, &ks);
	} else if (r == 0)
		r = keys_pick(domains, 2, allowed, &who, &ks);
	if (r == -1) {
		give(v, VERDICT_DEFER, why);
		goto done;
	}
	if (r == 0 && who.refused[0] != '\0') {
		rights_name(&who, name, sizeof name);
		v->kind = VERDICT_UNSIGNED;
		if (rights_present())
			snprintf(v->text, sizeof v->text, "control/dkimrights "
			    "does not let %s sign as %s", name, who.refused);
		else	/* a forward of mail from the network (rights.c) */
			snprintf(v->text, sizeof v->text, "%s may not sign as "
			    "%s: it came from the network", name, who.refused);
		goto done;
	}
	if (r == 0) {
		give(v, VERDICT_UNSIGNED, as_host ? "no key for this host's "
		    "own domain, which control/dkimforwards names" :
		    "no key for the From: or envelope domain");
		goto done;
	}

	if (policy_load(&pol) == -1) {
		give(v, VERDICT_DEFER, why);
		goto done;
	}
	r = policy_narrow(&pol, m->hdr, &h);
	if (r == 1)
		r = sign_start(&ks, &pol) == -1 ? -1 :
		    sign_message(m, &h, &v->sighdr, &v->siglen);
	if (r == -1)
		give(v, VERDICT_DEFER, why);
	else if (r == 0)
		give(v, VERDICT_UNSIGNED, why);
	else {
		v->kind = VERDICT_SIGNED;
		describe(&ks, &who, v->text, sizeof v->text);
		if (as_host)
			snprintf(v->text + strlen(v->text), sizeof v->text -
			    strlen(v->text), " (forwarded: as this host)");
		if (pol.note[0] != '\0')
			snprintf(v->text + strlen(v->text), sizeof v->text -
			    strlen(v->text), "; %s", pol.note);
		v->any_cr = m->norm.any_cr;
	}
done:
	sign_end();
	keys_free(&ks);
	free(h.f);
	return v->kind;
}

/* Everything engine_sign and the message took. */
void
engine_done(struct msg *m, struct verdict *v)
{
	free(v->sighdr);
	v->sighdr = NULL;
	msg_close(m);
}
