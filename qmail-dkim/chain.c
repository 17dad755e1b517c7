/*
 * chain.c -- where a queue file's message came from, read from the
 * lines qmail wrote on top of it.
 *
 * qmail-queue writes the first line itself (notqmail qmail-queue.c,
 * receivedfmt), naming the real uid that ran it:
 *
 *	Received: (qmail PID invoked by uid N); DATE
 *	Received: (qmail PID invoked by alias); DATE
 *	Received: (qmail PID invoked from network); DATE	qmail-smtpd
 *	Received: (qmail PID invoked for bounce); DATE		qmail-send
 *
 * A forward queues a stored message again: qmail-local's &address
 * (qmail-local.c mailforward), forward, condredirect and fastforward
 * each write the DTLINE (`Delivered-To: RECIPIENT`) and then the stored
 * message, which begins with the queue line its own qmail-queue wrote.
 * A .qmail program that pipes the message to qmail-inject keeps the
 * stored lines too, with no Delivered-To between.  So a forward's header
 * begins with a chain: queue line, Delivered-To lines, queue line, ...;
 * its last link is where the message came from.
 *
 * Only the first line is qmail's for certain: the rest may be text the
 * sender wrote.  Every link read here is a further party that must be
 * allowed to sign (rights.c takes the intersection), so a lookalike line
 * can only take rights away, never add them.
 *
 * Mail from the network ends the chain: the lines below qmail-smtpd's
 * are other hosts'.  For the first link, qmail-smtpd's own line (notqmail
 * received.c) says who connected:
 *
 *	Received: from HOST (HELO NAME) (INFO@IP)
 *	  by LOCAL with SMTP; DATE
 *
 * "(HELO NAME) " only when NAME differs from HOST, "INFO@" only when
 * tcpserver had an ident answer (TCPREMOTEINFO) or an SMTP AUTH patch
 * put the login there; safeput() turns every byte but letters, digits
 * and .@%+/=:-[] into '?', so no part holds a blank or a parenthesis.
 *
 * ezmlm-send puts "Delivered-To: mailing list LIST@HOST" above a post's
 * own header and drops its Received lines (ezmlm-idx ezmlm-send.c): the
 * post is the list's, and where it came from is no longer written.
 */
#include <string.h>
#include <strings.h>

#include "qdkim.h"

/* Reads a decimal number up to stop; 1 with the value, 0 not. */
static int
number(const char **p, const char *end, char stop, unsigned long long *v)
{
	const char *q = *p;

	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && *v < 1ULL << 40)
		*v = *v * 10 + (unsigned)(*q++ - '0');
	if (q == *p || q == end || *q != stop)
		return 0;
	*p = q;
	return 1;
}

static int
eat(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* 1: the line [p, end) is qmail-queue's, l says who ran it; 0 not */
int
chain_queue_line(const char *p, const char *end, struct link *l)
{
	unsigned long long v;

	memset(l, 0, sizeof *l);
	if (!eat(&p, end, "Received: (qmail ") || !number(&p, end, ' ', &v) ||
	    !eat(&p, end, " invoked "))
		return 0;
	if (eat(&p, end, "by alias)"))
		l->injector = INJ_ALIAS;
	else if (eat(&p, end, "from network)"))
		l->injector = INJ_NETWORK;
	else if (eat(&p, end, "for bounce)"))
		l->injector = INJ_BOUNCE;
	else if (eat(&p, end, "by uid ") && number(&p, end, ')', &v) &&
	    v < (uid_t)-1 && eat(&p, end, ")")) {
		l->injector = INJ_UID;
		l->uid = (uid_t)v;
	} else
		return 0;
	return eat(&p, end, "; ");
}

/* the end of the line at p (its LF, or end) */
static const char *
eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

/* the start of the next field: past the line at p and its continuations */
static const char *
next_field(const char *p, const char *end)
{
	p = eol(p, end);
	while (p < end && ++p < end && (*p == ' ' || *p == '\t'))
		p = eol(p, end);
	return p;
}

static int
field_is(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - p) >= n && strncasecmp(p, name, n) == 0;
}

/* 127.0.0.0/8, ::1, and 127/8 mapped to IPv6, as tcpserver writes them */
static int
loopback(const char *ip)
{
	if (strncasecmp(ip, "::ffff:", 7) == 0)
		ip += 7;
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	    strcmp(ip, "0:0:0:0:0:0:0:1") == 0;
}

/* qmail-smtpd's line at p, for the first link from the network */
static void
smtpd_line(const char *p, const char *end, struct chain *c)
{
	const char *at, *close;
	char who[sizeof c->info + 64];
	size_t n;

	end = eol(p, end);
	c->smtp = SMTP_UNREAD;
	if (!eat(&p, end, "Received: from "))
		return;
	while (p < end && *p != ' ')	/* HOST: safeput, no blank */
		p++;
	if (eat(&p, end, " (HELO ")) {
		close = memchr(p, ')', (size_t)(end - p));
		if (close == NULL)
			return;
		p = close + 1;
	}
	if (!eat(&p, end, " ("))
		return;
	close = memchr(p, ')', (size_t)(end - p));
	n = close != NULL ? (size_t)(close - p) : 0;
	if (n == 0 || n >= sizeof who || memchr(p, ' ', n) != NULL)
		return;
	memcpy(who, p, n);
	who[n] = '\0';
	at = strrchr(who, '@');
	if (!loopback(at != NULL ? at + 1 : who)) {
		c->smtp = SMTP_REMOTE;
		return;
	}
	c->smtp = SMTP_LOOPBACK;
	if (at != NULL && (size_t)(at - who) < sizeof c->info) {
		memcpy(c->info, who, (size_t)(at - who));
		c->info[at - who] = '\0';
	}
}

/*
 * The chain on top of hdr (LF line ends).  given, when not NULL, is the
 * first link, not written in hdr: qmail-dkim-queue reads the message
 * before qmail-queue puts its line on it.  Without it and without a
 * queue line on top, the one link is INJ_UNKNOWN.
 */
void
chain_read(const char *hdr, size_t len, const struct link *given,
    struct chain *c)
{
	const char *p, *end, *q;
	struct link l;

	if (hdr == NULL) {
		hdr = "";
		len = 0;
	}
	p = hdr;
	end = hdr + len;
	memset(c, 0, sizeof *c);
	c->n = 1;
	if (given != NULL)
		c->l[0] = *given;
	else if (chain_queue_line(p, eol(p, end), &l)) {
		c->l[0] = l;
		p = next_field(p, end);
	} else {
		c->l[0].injector = INJ_UNKNOWN;
		return;
	}
	for (;;) {
		if (c->l[c->n - 1].injector == INJ_NETWORK) {
			if (c->n == 1)
				smtpd_line(p, end, c);
			return;
		}
		if (c->l[c->n - 1].injector == INJ_BOUNCE)
			break;	/* qmail-send's own text follows */
		for (q = p; q < end && field_is(q, end, "Delivered-To:");)
			q = next_field(q, end);
		if (q >= end || !chain_queue_line(q, eol(q, end), &l))
			break;
		if (c->n == CHAIN_MAX) {
			c->overflow = 1;
			return;
		}
		c->l[c->n++] = l;
		p = next_field(q, end);
	}
	/* ezmlm-send's line, anywhere in the header: it only narrows */
	for (; p < end; p = next_field(p, end))
		if (field_is(p, end, "Delivered-To: mailing list ")) {
			c->list = 1;
			break;
		}
}
