/* t-chain.c -- a forward's chain of queue lines, and what it may sign */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"
#include "tap.h"

#define Q(x) "Received: (qmail 77 invoked " x "); 7 Dec 2026 10:00:00 -0000\n"
#define DT "Delivered-To: alice-info@host.example\n"
#define BODY "From: ceo@alice.example\nSubject: hi\n"
/* notqmail received.c: HELO part, then (INFO@IP), then the by line */
#define SMTPD(x) "Received: from localhost (HELO pc) (" x ")\n" \
	"  by host.example with SMTP; 7 Dec 2026 10:00:00 -0000\n"

static char home[64];

static void
who(const char *hdr, struct who *w)
{
	rights_who(hdr, strlen(hdr), w);
	w->envdom = "lists.example";
}

/* the log's name for the chain on top of hdr */
static void
name_is(const char *hdr, const char *want)
{
	struct who w;
	char name[400];

	who(hdr, &w);
	rights_name(&w, name, sizeof name);
	is_str(name, want, want);
}

/* may the message with hdr sign as domain? */
static int
may(const char *hdr, const char *domain)
{
	struct who w;

	who(hdr, &w);
	return rights_check(&w, domain);
}

static int
rights(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/control/dkimrights", home);
	if (text == NULL) {
		unlink(path);
		return rights_load();
	}
	f = fopen(path, "w");
	if (f == NULL)
		return -2;
	fputs(text, f);
	fclose(f);
	return rights_load();
}

int
main(void)
{
	struct who w;
	struct link me;
	char path[128], *big;
	size_t i;

	/* what chain_read finds */
	name_is(Q("by uid 1005") BODY, "uid 1005");
	name_is(Q("by uid 1005") DT Q("by uid 1006") BODY,
	    "uid 1005 < uid 1006");
	name_is(Q("by uid 1005") DT Q("from network")
	    "Received: from mx.example (1.2.3.4)\n  by h with SMTP; d\n" BODY,
	    "uid 1005 < network");
	name_is(Q("by alias") DT Q("by uid 1005") DT Q("for bounce") BODY,
	    "alias < uid 1005 < bounce");
	name_is(Q("by uid 1005") Q("by uid 1006") BODY,
	    "uid 1005 < uid 1006");	/* | qmail-inject: no Delivered-To */
	name_is(Q("by uid 1005") DT "Delivered-To: x@y.example\n"
	    "Delivered-To: folded\n z@y.example\n" Q("by uid 1006") BODY,
	    "uid 1005 < uid 1006");
	name_is(Q("by uid 1005") DT "X-Other: 1\n" Q("by uid 1006") BODY,
	    "uid 1005");	/* a field between ends the chain */
	name_is(Q("for bounce") DT Q("by uid 1006") BODY, "bounce");
	name_is(BODY Q("by uid 1006"), "unknown");
	name_is(Q("from network") SMTPD("alice@127.0.0.1") BODY,
	    "network (this host, ident alice)");
	name_is(Q("from network") SMTPD("127.0.0.1") BODY,
	    "network (this host, no ident)");
	name_is(Q("from network") "Received: from unknown (::1)\n"
	    "  by h with SMTP; d\n" BODY, "network (this host, no ident)");
	name_is(Q("from network") SMTPD("a@b.example@::ffff:127.0.0.9")
	    BODY, "network (this host, ident a@b.example)");
	name_is(Q("from network") SMTPD("alice@10.0.0.1") BODY, "network");
	name_is(Q("by uid 1005") "Mailing-List: contact l-help@lists.example\n"
	    "Delivered-To: mailing list l@lists.example\n" BODY,
	    "uid 1005 (a list post)");
	big = malloc(20 * sizeof Q("by uid 1005") DT);
	*big = '\0';
	for (i = 0; i < 20; i++)
		strcat(big, Q("by uid 1005") DT);
	name_is(big, "uid 1005 < uid 1005 < uid 1005 < uid 1005 < uid 1005 < "
	    "uid 1005 < uid 1005 < uid 1005 < uid 1005 < uid 1005 < uid 1005 "
	    "< uid 1005 < uid 1005 < uid 1005 < uid 1005 < uid 1005 < ...");
	who(Q("from network") SMTPD("alice@127.0.0.1"), &w);
	ok(w.c.smtp == SMTP_LOOPBACK && strcmp(w.c.info, "alice") == 0,
	    "qmail-smtpd's line: loopback, the ident answer");
	who(Q("from network") "Received: from x (HELO y) (127.0.0.1) extra\n",
	    &w);
	ok(w.c.smtp == SMTP_LOOPBACK, "text after the address is not read");
	who(Q("from network") "Received: from x (HELO y (127.0.0.1)\n", &w);
	ok(w.c.smtp == SMTP_UNREAD, "a HELO part not closed: unread");
	who(Q("from network") "Received: from x by y\n", &w);
	ok(w.c.smtp == SMTP_UNREAD, "another line: unread");
	who(Q("from network") BODY, &w);
	ok(w.c.smtp == SMTP_UNREAD, "no qmail-smtpd line: unread");
	me.injector = INJ_UID;
	me.uid = 1005;
	rights_given(&me);
	name_is(DT Q("from network") SMTPD("127.0.0.1") BODY,
	    "uid 1005 < network");
	name_is(BODY, "uid 1005");

	snprintf(home, sizeof home, "/tmp/t-chain.%ld", (long)getpid());
	snprintf(path, sizeof path, "%s/control", home);
	if (mkdir(home, 0700) == -1 || mkdir(path, 0700) == -1)
		return 1;
	setenv("QMAILDKIM_HOME", home, 1);

	/* no control/dkimrights: only a network origin inside a chain */
	ok(rights(NULL) == 0, "no file");
	ok(!may(DT Q("from network") BODY, "alice.example"),
	    "no file, queue time: a forward from the network signs nothing");
	ok(may(BODY, "alice.example"), "no file, queue time: own mail signs");
	ok(may(DT Q("by uid 1006") BODY, "alice.example"),
	    "no file, queue time: a local forward signs");

	/* the first link from here on is qmail-queue's line */
	rights_given(NULL);
	ok(may(Q("by uid 1005") DT Q("by uid 1006") BODY, "alice.example"),
	    "no file: a forward of local mail signs");
	ok(!may(Q("by uid 1005") DT Q("from network") SMTPD("1.2.3.4") BODY,
	    "alice.example"), "no file: a forward of network mail does not");
	ok(!may(Q("by uid 1005") DT Q("by uid 1005") DT Q("from network") BODY,
	    "alice.example"), "no file: nor two forwards of it");
	ok(may(Q("from network") SMTPD("127.0.0.1") BODY, "alice.example"),
	    "no file: relayed mail signs, as before");
	ok(!may(big, "alice.example"), "no file: a chain too long, nothing");
	ok(!may(Q("by uid 1005") "Delivered-To: mailing list l@lists.example\n"
	    BODY, "alice.example"), "no file: a list post, not the From:");
	ok(may(Q("by uid 1005") "Delivered-To: mailing list l@lists.example\n"
	    BODY, "lists.example"), "no file: a list post, the list's domain");

	ok(rights("1005: alice.example lists.example\n1006: bob.example\n"
	    "1007: forwarder carol.example\n0: *\n"
	    "1008: forwarder\n") == 1, "a file with forwarders loads");
	ok(may(Q("by uid 1005") DT Q("by uid 1005") BODY, "alice.example"),
	    "alice's own mail through her forward: alice's domain");
	ok(!may(Q("by uid 1005") DT Q("by uid 1006") BODY, "alice.example"),
	    "bob's mail through alice's forward: not alice's domain");
	ok(!may(Q("by uid 1005") DT Q("by uid 1006") BODY, "bob.example"),
	    "nor bob's: alice did not grant it");
	ok(!may(Q("by uid 1006") DT Q("by uid 1005") BODY, "alice.example"),
	    "bob's forged chain line for alice: nothing of alice's");
	ok(!may(Q("by uid 1005") DT Q("by uid 1006") DT Q("by uid 1005") BODY,
	    "alice.example"), "nor under alice's forward");
	ok(!may(Q("by uid 1005") DT Q("from network") SMTPD("alice@127.0.0.1")
	    BODY, "alice.example"), "network inside a chain: nothing");
	ok(!may(Q("by uid 0") DT Q("by uid 1006") BODY, "alice.example"),
	    "root's * forwarding bob: not more than bob");
	ok(may(Q("by uid 1007") DT Q("by uid 1006") BODY, "bob.example"),
	    "a trusted forwarder passes bob's rights on");
	ok(!may(Q("by uid 1007") DT Q("by uid 1006") BODY, "carol.example"),
	    "and not its own");
	ok(may(Q("by uid 1007") BODY, "carol.example"),
	    "a trusted forwarder's own mail: its own rights");
	ok(!may(Q("by uid 1007") DT Q("from network") BODY, "carol.example"),
	    "a trusted forwarder passes on the network's nothing");
	ok(may(Q("by uid 1008") DT Q("by uid 1007") DT Q("by uid 1006") BODY,
	    "bob.example"), "two trusted forwarders in a row");
	ok(!may(Q("by uid 1008") BODY, "bob.example"),
	    "forwarder alone grants no domain");
	ok(!may(Q("by uid 1006") BODY, "forwarder"),
	    "\"forwarder\" is no domain to sign as");
	ok(may(Q("by uid 0") BODY, "any.example") &&
	    !may(Q("by uid 0") DT Q("by uid 1007") DT Q("by uid 1005") BODY,
	    "any.example"), "* does not make root a forwarder");
	ok(!may(Q("by uid 1005") "Delivered-To: mailing list l@lists.example\n"
	    BODY, "alice.example") && may(Q("by uid 1005")
	    "Delivered-To: mailing list l@lists.example\n" BODY,
	    "lists.example"), "a list post: the list's domain, if granted");

	/* the first link from qmail-smtpd */
	ok(may(Q("from network") SMTPD("root@127.0.0.1") BODY, "x.example"),
	    "loopback with ident root: root's rights");
	ok(!may(Q("from network") SMTPD("127.0.0.1") BODY, "lists.example"),
	    "loopback without ident: nothing, not the envelope domain");
	ok(!may(Q("from network") SMTPD("no-such-user-here@127.0.0.1") BODY,
	    "lists.example"), "loopback, ident not a user: nothing");
	ok(may(Q("from network") SMTPD("a@lists.example@127.0.0.1") BODY,
	    "lists.example") && !may(Q("from network")
	    SMTPD("a@lists.example@127.0.0.1") BODY, "example"),
	    "loopback, an AUTH address: its domain only");
	ok(may(Q("from network") SMTPD("root@10.0.0.1") BODY, "lists.example")
	    && !may(Q("from network") SMTPD("root@10.0.0.1") BODY, "x.example"),
	    "another host: the envelope rule, its ident ignored");
	ok(!may(Q("from network") "Received: from x by y\n" BODY,
	    "lists.example"), "qmail-smtpd's line unread: nothing");

	rights(NULL);
	snprintf(path, sizeof path, "%s/control", home);
	rmdir(path);
	rmdir(home);
	free(big);
	return done();
}
