/*
 * policy.c -- how to sign, from optional control files (qmail's habit:
 * one file per setting, a missing file means the default):
 *
 *	control/dkimcanon		c=, default relaxed/relaxed
 *	control/dkimsignheaders		fields to sign, default below
 *	control/dkimoversignheaders	fields to oversign, default below
 *	control/dkimexpire		seconds until x=, default no x=
 *
 * A file that is there but wrong defers the message with the file's name:
 * a guessed policy would make signatures the admin did not ask for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "qdkim.h"

#define NAMES_MAX 64
#define NAMES_TEXT 800	/* libopendkim keeps the list in a 1 KB regex */

/* RFC 6376 5.4.1: the fields that carry the message's meaning */
static const char *sign_default[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date",
	"Message-ID", "In-Reply-To", "References", "MIME-Version",
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"Content-ID", "Content-Description", "Content-Language",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive",
	NULL
};

/* RFC 6376 8.15: named once more than they occur, so that an added
 * instance breaks the signature */
static const char *oversign_default[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", NULL
};

static const char *sign_list[NAMES_MAX + 1];
static const char *oversign_list[NAMES_MAX + 1];
static char sign_text[1024], oversign_text[1024];

static int
is_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)		/* RFC 5322 3.6.8 ftext */
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 ||
		    *s == ':')
			return 0;
	return 1;
}

static int
listed(const char **list, const char *name)
{
	for (; *list; list++)
		if (strcasecmp(*list, name) == 0)
			return 1;
	return 0;
}

/* Field names, one a line or separated by colons or white space. */
static int
read_names(const char *file, char *text, const char **list, size_t max,
    const char **dflt, const char ***out)
{
	char path[512], *tok, *save;
	size_t n = 0;
	int r;

	/* the list is static: qmail-dkimd's last message left its names */
	list[0] = NULL;
	snprintf(path, sizeof path, "%s/control/%s", control_home(), file);
	r = control_readfile(path, text, NAMES_TEXT);
	if (r == -1)
		return -1;
	if (r == 0) {
		*out = dflt;
		return 0;
	}
	for (tok = strtok_r(text, ": \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, ": \t\r\n", &save)) {
		if (!is_name(tok)) {
			why_set("%s: \"%s\" is not a header field name", path,
			    tok);
			return -1;
		}
		if (n == max) {
			why_set("%s names too many fields", path);
			return -1;
		}
		if (!listed(list, tok))
			list[n++] = tok;
		list[n] = NULL;
	}
	list[n] = NULL;
	*out = list;
	return 0;
}

static int
read_canon(struct policy *p)
{
	char path[512], v[64], *slash;
	int h, b, r;

	snprintf(path, sizeof path, "%s/control/dkimcanon", control_home());
	p->hcanon = p->bcanon = DKIM_CANON_RELAXED;
	r = control_readline(path, v, sizeof v);
	if (r != 1)
		return r;
	/* RFC 6376 3.5: a lone algorithm is the header's; body is simple */
	slash = strchr(v, '/');
	if (slash != NULL)
		*slash++ = '\0';
	h = strcmp(v, "simple") == 0 ? DKIM_CANON_SIMPLE :
	    strcmp(v, "relaxed") == 0 ? DKIM_CANON_RELAXED : -1;
	b = slash == NULL ? DKIM_CANON_SIMPLE :
	    strcmp(slash, "simple") == 0 ? DKIM_CANON_SIMPLE :
	    strcmp(slash, "relaxed") == 0 ? DKIM_CANON_RELAXED : -1;
	if (h == -1 || b == -1) {
		why_set("%s: use simple or relaxed, as in relaxed/relaxed",
		    path);
		return -1;
	}
	p->hcanon = h;
	p->bcanon = b;
	return 0;
}

static int
read_expire(struct policy *p)
{
	char path[512], v[64], *end;
	unsigned long long s;
	int r;

	snprintf(path, sizeof path, "%s/control/dkimexpire", control_home());
	p->expire = 0;
	r = control_readline(path, v, sizeof v);
	if (r != 1)
		return r;
	errno = 0;
	s = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || s == 0 ||
	    s > 10ULL * 366 * 86400) {
		why_set("%s: give the signature's lifetime in seconds, "
		    "as 604800 for a week", path);
		return -1;
	}
	p->expire = s;
	return 0;
}

/* Adds name to a list with room for it; 0, or -1 when full. */
static int
add_name(const char **list, size_t max, const char *name)
{
	size_t n;

	for (n = 0; list[n] != NULL; n++)
		if (strcasecmp(list[n], name) == 0)
			return 0;
	if (n == max)
		return -1;
	list[n++] = name;
	list[n] = NULL;
	return 0;
}

int
policy_load(struct policy *p)
{
	const char **names;
	size_t i, text = 0;

	if (read_canon(p) == -1 || read_expire(p) == -1)
		return -1;
	if (read_names("dkimoversignheaders", oversign_text, oversign_list,
	    NAMES_MAX, oversign_default, &p->oversign) == -1)
		return -1;
	if (read_names("dkimsignheaders", sign_text, sign_list, NAMES_MAX,
	    sign_default, &names) == -1)
		return -1;
	if (names != sign_list) {
		for (i = 0; names[i] != NULL; i++)
			sign_list[i] = names[i];
		sign_list[i] = NULL;
	} else if (!listed(sign_list, "From")) {
		why_set("%s/control/dkimsignheaders must name From "
		    "(RFC 6376 5.4)", control_home());
		return -1;
	}
	/* an oversigned name that is not also signed fails every verifier */
	for (i = 0; p->oversign[i] != NULL; i++)
		if (add_name(sign_list, NAMES_MAX, p->oversign[i]) == -1) {
			why_set("too many header fields to sign");
			return -1;
		}
	for (i = 0; sign_list[i] != NULL; i++)
		text += strlen(sign_list[i]) + 1;
	if (text > NAMES_TEXT) {
		why_set("%s/control/dkimsignheaders: the list is longer than "
		    "libopendkim takes", control_home());
		return -1;
	}
	p->sign = sign_list;
	return 0;
}

/*
 * Only the names that occur in this header, and the oversigned ones:
 * libopendkim compiles the list into one regex per message, and a short
 * one compiles faster (bench/PROFILE.md).  What is signed is the same.
 * A name with a "*" wildcard is always kept.
 */
void
policy_narrow(struct policy *p, const char *hdr, const struct header *h)
{
	static const char *narrow[NAMES_MAX + 1];
	size_t i, j, n = 0;
	int keep;

	for (i = 0; p->sign[i] != NULL; i++) {
		keep = strchr(p->sign[i], '*') != NULL ||
		    listed(p->oversign, p->sign[i]);
		for (j = 0; !keep && j < h->n; j++)
			keep = h->f[j].namelen == strlen(p->sign[i]) &&
			    strncasecmp(hdr + h->f[j].off, p->sign[i],
			    h->f[j].namelen) == 0;
		if (keep)
			narrow[n++] = p->sign[i];
	}
	narrow[n] = NULL;
	p->sign = narrow;
}
