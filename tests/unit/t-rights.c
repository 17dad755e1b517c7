/* t-rights.c -- qmail-queue's first line, and control/dkimrights */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"
#include "tap.h"

static char home[64];

/* the injector rights_who finds in hdr, as the log names it */
static void
who_is(const char *hdr, const char *want)
{
	struct who w;
	char name[64], desc[300];

	rights_who(hdr, strlen(hdr), &w);
	rights_name(&w, name, sizeof name);
	snprintf(desc, sizeof desc, "'%.*s' -> %s", (int)strcspn(hdr, "\n"),
	    hdr, want);
	is_str(name, want, desc);
}

static int
rights(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/control/dkimrights", home);
	f = fopen(path, "w");
	if (f == NULL)
		return -2;
	fputs(text, f);
	fclose(f);
	return rights_load();
}

/* may uid sign as domain? */
static int
may(uid_t uid, const char *domain)
{
	struct who w = { .c = { .n = 1, .l = { { INJ_UID, uid } } } };

	return rights_check(&w, domain);
}

int
main(void)
{
	struct who w;
	char path[128];

	who_is("Received: (qmail 1234 invoked by uid 1005); 29 Nov 2026 "
	    "14:00:10 -0000\nFrom: a@b.example\n", "uid 1005");
	who_is("Received: (qmail 1 invoked by uid 0); 1 Jan 2026 00:00:00 "
	    "-0000\n", "uid 0");
	who_is("Received: (qmail 77 invoked by alias); 1 Jan 2026 00:00:00 "
	    "-0000\n", "alias");
	who_is("Received: (qmail 77 invoked from network); 1 Jan 2026 "
	    "00:00:00 -0000\n", "network");
	who_is("Received: (qmail 77 invoked for bounce); 1 Jan 2026 "
	    "00:00:00 -0000\n", "bounce");
	who_is("From: a@b.example\nReceived: (qmail 1 invoked by uid 0); "
	    "1 Jan 2026 00:00:00 -0000\n", "unknown");
	who_is("received: (qmail 1 invoked by uid 0); x\n", "unknown");
	who_is("Received: (qmail 1 invoked by uid 0)\n", "unknown");
	who_is("Received: (qmail 1 invoked by uid 0\n); x\n", "unknown");
	who_is("Received: (qmail 1 invoked by uid -1); x\n", "unknown");
	who_is("Received: (qmail 1 invoked by uid 4294967295); x\n",
	    "unknown");
	who_is("Received: (qmail 1 invoked by uid 99999999999999999999); x\n",
	    "unknown");
	who_is("Received: (qmail x invoked by uid 5); x\n", "unknown");
	who_is("Received: (qmail 1 invoked by user 5); x\n", "unknown");
	who_is("Received: (qmail 1 invoked by uid 5); ", "uid 5");
	who_is("", "unknown");
	rights_who(NULL, 0, &w);
	ok(w.c.n == 1 && w.c.l[0].injector == INJ_UNKNOWN,
	    "no first line: unknown");

	snprintf(home, sizeof home, "/tmp/t-rights.%ld", (long)getpid());
	snprintf(path, sizeof path, "%s/control", home);
	if (mkdir(home, 0700) == -1 || mkdir(path, 0700) == -1)
		return 1;
	setenv("QMAILDKIM_HOME", home, 1);

	ok(rights_load() == 0, "no file: 0");
	ok(may(5, "victim.example"), "no file: anyone may sign as anything");

	ok(rights("# WHO: DOMAIN...\n\n1005: Alice.Example\tshop.alice.example\n"
	    "1006:bob.example # a comment\n1007: example.net\n0: *\n"
	    "1005: extra.example\r\nno-such-user-here: x.example\n"
	    "@no-such-group-here: x.example\n") == 1, "a file loads");
	ok(may(1005, "alice.example"), "a domain of the uid's line");
	ok(may(1005, "shop.alice.example"), "another one, after a tab");
	ok(may(1005, "extra.example"), "a second line for the same uid");
	ok(!may(1005, "bob.example"), "not another uid's domain");
	ok(!may(1005, "www.alice.example"), "not a subdomain not listed");
	ok(may(1006, "bob.example"), "no blank after the colon, a comment");
	ok(may(1007, "example.net"), "a domain itself");
	ok(!may(1007, "a.example.net"), "not a subdomain of it");
	ok(!may(1007, "xexample.net"), "not a lookalike");
	ok(may(0, "anything.example"), "*: any domain");
	ok(!may(1009, "alice.example"), "no line, no domain");
	w = (struct who){ .c = { .n = 1, .l = { { INJ_UNKNOWN, 0 } } } };
	ok(!rights_check(&w, "alice.example"), "unknown injector: nothing");
	is_str(w.refused, "alice.example", "the refused domain is noted");
	w = (struct who){ .c = { .n = 1, .l = { { INJ_NETWORK, 0 } },
	    .smtp = SMTP_REMOTE }, .envdom = "lists.bob.example" };
	ok(rights_check(&w, "lists.bob.example"), "network: the envelope domain");
	ok(rights_check(&w, "bob.example"), "network: a parent of it");
	ok(!rights_check(&w, "alice.example"), "network: no other");
	w = (struct who){ .c = { .n = 1, .l = { { INJ_BOUNCE, 0 } } },
	    .env_bounce = 1 };
	ok(!rights_check(&w, "bob.example"), "bounce without own domain: nothing");

	ok(rights("1005: alice.example\nthis line has no colon\n") == -1 &&
	    strstr(why, "control/dkimrights line 2: no colon") != NULL,
	    "no colon: an error naming the file and line");
	ok(!may(1005, "alice.example"), "and a failed load grants nothing");
	ok(rights("1005: alice..example\n") == -1 &&
	    strstr(why, "dkimrights line 1: alice..example is not a domain") != NULL,
	    "a bad domain: an error naming it");
	ok(rights("\n\n1008:\n") == -1 &&
	    strstr(why, "dkimrights line 3: no domain after 1008:") != NULL,
	    "no domain: an error");
	ok(rights("1005: a.example,b.example\n") == -1 &&
	    strstr(why, "line 1: a.example,b.example is not a domain name, * or forwarder")
	    != NULL, "domains are separated by blanks, not commas");
	ok(rights("1005: *.example.net\n") == -1 &&
	    strstr(why, "line 1: *.example.net is not a domain") != NULL,
	    "no wildcard but *");
	ok(rights(": a.example\n") == -1 &&
	    strstr(why, "line 1:  is not a user name, a uid or @group") != NULL,
	    "no one before the colon");
	ok(rights("@ : a.example\n") == -1 &&
	    strstr(why, "line 1: @ is not a user name") != NULL, "a bare @");
	ok(rights("root bin: a.example\n") == -1 &&
	    strstr(why, "line 1: root bin is not a user name") != NULL,
	    "two names");
	ok(rights("-root: a.example\n") == -1 &&
	    strstr(why, "line 1: -root is not a user name") != NULL,
	    "a name starting with -");
	ok(rights("99999999999: a.example\n") == -1 &&
	    strstr(why, "line 1: 99999999999 is not a uid") != NULL,
	    "a uid out of range");
	ok(rights("root: a.example\n") == 1 && may(0, "a.example"),
	    "a user name is resolved to its uid");
	ok(rights("@root: b.example\n") == 1 && may(0, "b.example"),
	    "@group: the users whose primary group it is");

	snprintf(path, sizeof path, "%s/control/dkimrights", home);
	unlink(path);
	ok(rights_load() == 0 && may(5, "victim.example"),
	    "the file removed: back to no rights table");
	snprintf(path, sizeof path, "%s/control", home);
	rmdir(path);
	rmdir(home);
	return done();
}
