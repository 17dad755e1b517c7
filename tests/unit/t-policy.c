/* t-policy.c -- policy_narrow: the field lists for one message */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "qdkim.h"
#include "tap.h"

static const char *sign[] = { "From", "To", "Cc", "Subject", "X-*", NULL };
static const char *oversign[] = { "From", "To", "Cc", NULL };
static struct policy p;
static struct header h;
static char list[4096];

/* The lists policy_narrow makes for hdr, as "sign / oversign". */
static int
narrow(const char *hdr, int canon)
{
	const char *reason;
	size_t i, n = 0;
	int r;

	memset(&p, 0, sizeof p);
	p.hcanon = canon;
	p.sign = sign;
	p.oversign = oversign;
	if (header_parse(hdr, strlen(hdr), &h, &reason) != 1)
		return -2;
	r = policy_narrow(&p, hdr, &h);
	list[0] = '\0';
	if (r != 1)
		return r;
	for (i = 0; p.sign[i] != NULL; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
		    i ? ":" : "", p.sign[i]);
	n += (size_t)snprintf(list + n, sizeof list - n, " /");
	for (i = 0; p.oversign[i] != NULL; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, " %s",
		    p.oversign[i]);
	return r;
}

int
main(void)
{
	char *big;
	size_t i, n;

	ok(narrow("From: a@example.com\nSubject: x\n",
	    DKIM_CANON_RELAXED) == 1, "plain header");
	is_str(list, "From:To:Cc:Subject:X-* / From To Cc",
	    "present, oversigned and wildcard names kept");
	is_str(p.note, "", "nothing left out");

	ok(narrow("FROM: a@example.com\nto: b@example.net\n",
	    DKIM_CANON_RELAXED) == 1, "names in other cases");
	is_str(list, "From:To:Cc:X-* / FROM to Cc",
	    "oversigned names spelt as the message spells them");

	ok(narrow("From: a@example.com\nTo: b@example.net\nTO: c@example.net\n",
	    DKIM_CANON_RELAXED) == 1, "one name in two spellings");
	is_str(list, "From:Cc:X-* / From Cc", "left out, oversigned too");
	is_str(p.note, "h= leaves out To (spelt in several cases)", "note");

	ok(narrow("From: a@example.com\nSubject: a\fb\nTo: b@example.net\n",
	    DKIM_CANON_RELAXED) == 1, "a form feed in Subject");
	is_str(list, "From:To:Cc:X-* / From To Cc", "Subject left out");
	is_str(p.note, "h= leaves out Subject (white space libopendkim "
	    "canonicalizes wrongly)", "note");
	ok(narrow("From: a@example.com\nSubject: a\fb\n",
	    DKIM_CANON_SIMPLE) == 1, "the same, simple");
	is_str(p.note, "", "simple canonicalization signs it");

	ok(narrow("From: a@example.com\nX-Foo: \xc2\xa0x\n",
	    DKIM_CANON_RELAXED) == 1, "NBSP at the start of X-Foo");
	is_str(list, "From:To:Cc / From To Cc", "the wildcard left out");

	ok(narrow("From: a@example.com\nX: \fa\nY-X-A: \fb\nx-: \fc\n",
	    DKIM_CANON_RELAXED) == 1, "form feeds in X:, Y-X-A: and x-:");
	is_str(list, "From:To:Cc / From To Cc",
	    "X-* matches x- (case-insensitive, * may be empty), not X or Y-X-A");
	ok(narrow("From: a@example.com\nX: \fa\nY-X-A: \fb\n",
	    DKIM_CANON_RELAXED) == 1, "form feeds in fields not signed");
	is_str(p.note, "", "nothing left out");

	ok(narrow("From: a\vb <a@example.com>\nX-A: \fa\n",
	    DKIM_CANON_RELAXED) == 1 && p.hcanon == DKIM_CANON_SIMPLE,
	    "a vertical tab in From: makes the header simple");
	is_str(list, "From:To:Cc:X-* / From To Cc",
	    "  and simple signs X-A's form feed too");
	is_str(p.note, "c=simple/simple for white space in From: that "
	    "libopendkim's relaxed canonicalization gets wrong", "  said so");
	ok(narrow("From: a@example.com\nTo: b\n \n c\n",
	    DKIM_CANON_RELAXED) == 1 && p.hcanon == DKIM_CANON_SIMPLE,
	    "a continuation line of white space only makes the header simple");
	ok(narrow("From: a@example.com\nTo: b\n \n c\n",
	    DKIM_CANON_SIMPLE) == 1 && p.hcanon == DKIM_CANON_SIMPLE &&
	    p.note[0] == '\0', "  simple already: nothing said");
	ok(narrow("From: \xc2\xa0" "a@example.com\nX-B: \vb\n",
	    DKIM_CANON_RELAXED) == 1 && p.hcanon == DKIM_CANON_SIMPLE &&
	    strcmp(list, "From:To:Cc:X-* / From To Cc") == 0,
	    "NBSP at the start of From: makes the header simple");

	/* 1,400 To: fields: 4,200 bytes of names */
	big = malloc(64 * 1500);
	n = (size_t)sprintf(big, "From: a@example.com\nSubject: s\n");
	for (i = 0; i < 1400; i++)
		n += (size_t)sprintf(big + n, "To: r%zu@example.net\n", i);
	for (i = 0; i < 10; i++)
		n += (size_t)sprintf(big + n, "X-A: x\nCc: c\n");
	ok(narrow(big, DKIM_CANON_RELAXED) == 1, "1,400 To: fields");
	is_str(list, "From:Cc:Subject:X-* / From Cc",
	    "To, the name with most fields, left out");
	is_str(p.note, "h= leaves out To (1400 fields)", "note");
	n = (size_t)sprintf(big, "From: a@example.com\n");
	for (i = 0; i < 700; i++)
		n += (size_t)sprintf(big + n, "To: t\nX-B: x\n");
	ok(narrow(big, DKIM_CANON_RELAXED) == 1, "700 To: and 700 X-B:");
	is_str(list, "From:To:Cc / From To Cc",
	    "the name not oversigned goes first");
	free(big);
	free(h.f);
	return done();
}
