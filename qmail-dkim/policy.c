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
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendkim/dkim.h>

#include "qdkim.h"

#define NAMES_MAX 64
#define NAMES_TEXT 800	/* libopendkim keeps the list in a 1 KB regex */
#define HLIST_MAX 4095	/* libopendkim keeps this much of the names it signs */

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
		/* another signer's field is never fed to the library (engine.c),
		 * so naming it in h= would break this signature */
		if (strcasecmp(tok, "DKIM-Signature") == 0)
			continue;
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
 * Field name matching, case-insensitive; "*" matches any run.  One
 * step back to the last "*" on a mismatch: time stays in proportion to
 * the pattern times the name, however long a name the message has.
 */
static int
glob(const char *pat, const char *s, size_t len)
{
	const char *star = NULL;
	size_t i = 0, back = 0;

	while (i < len) {
		if (*pat == '*') {
			star = ++pat;
			back = i;
		} else if (*pat != '\0' && tolower((unsigned char)*pat) ==
		    tolower((unsigned char)s[i])) {
			pat++;
			i++;
		} else if (star != NULL) {
			pat = star;
			i = ++back;
		} else
			return 0;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static void
note(struct policy *p, const char *name, const char *what)
{
	size_t n = strlen(p->note);

	snprintf(p->note + n, sizeof p->note - n, "%s%s (%s)",
	    strstr(p->note, "h= leaves out ") == NULL ? (n == 0 ?
	    "h= leaves out " : "; h= leaves out ") : ", ", name, what);
}

/*
 * Relaxed header canonicalization (RFC 6376 3.4.2) cannot sign this
 * header so that every verifier agrees, simple (3.4.1) can: it takes
 * the fields as they are.  A continuation line of white space only, or
 * a From: with white space libopendkim reduces wrongly (From MUST be
 * signed, RFC 6376 5.4).  0 when relaxed will do.
 */
static const char *
needs_simple(const char *hdr, const struct header *h)
{
	if (h->blank_line)
		return "a continuation line of white space only";
	if (!header_relaxed_ok(hdr, &h->f[h->from]))
		return "white space in From: that libopendkim's relaxed "
		    "canonicalization gets wrong";
	return NULL;
}

/* The names libopendkim will sign, joined by colons, as it copies them. */
static size_t
hlist_len(const struct header *h, const uint64_t *mask, uint64_t kept)
{
	size_t j, len = 0;

	for (j = 0; j < h->n; j++)
		if (mask[j] & kept)
			len += h->f[j].namelen + 1;
	return len > 0 ? len - 1 : 0;
}

/* The kept name, From aside, with the most fields; of equals, one that
 * is not oversigned.  NAMES_MAX if none. */
static size_t
most_fields(const struct policy *p, const size_t *count, uint64_t kept)
{
	size_t i, best = NAMES_MAX;

	for (i = 0; p->sign[i] != NULL; i++)
		if ((kept >> i & 1) && count[i] > 0 &&
		    strcasecmp(p->sign[i], "From") != 0 &&
		    (best == NAMES_MAX || count[i] > count[best] ||
		    (count[i] == count[best] &&
		    listed(p->oversign, p->sign[best]) &&
		    !listed(p->oversign, p->sign[i]))))
			best = i;
	return best;
}

/*
 * The lists for this message.  Only the names that occur in it, and
 * the oversigned ones: libopendkim compiles the list into one regex per
 * message, and a short one compiles faster (bench/PROFILE.md).  A name
 * with a "*" wildcard is always kept.  Left out of h=, all instances,
 * oversigned too (a verifier picks instances from the bottom: RFC 6376
 * 5.4.2), and said in p->note:
 *
 * - a field relaxed canonicalization cannot sign (header_relaxed_ok);
 *   when that is From (RFC 6376 5.4: From MUST be signed), the header
 *   is canonicalized simple instead (needs_simple), and all are kept;
 * - a name spelt in more than one case: RFC 6376 3.5 h= says names
 *   "MUST be compared against actual header field names in a
 *   case-insensitive manner", and libopendkim does, but go-msgauth
 *   (0.6) counts the instances it has picked per spelling, so that
 *   "h=TO:To" picks the last "To:" field twice.  h= spells a signed
 *   field as the message does, and an oversigned name is spelt here as
 *   the message spells it: every name in h= then has one spelling;
 * - names with the most fields, until the names to sign fit in the
 *   4,095 bytes libopendkim keeps of them (dkim-canon.c cuts the rest,
 *   yet h= and the oversigned names still claim them: every verifier
 *   fails).  Of names with as many fields, one not oversigned goes
 *   first.
 */
int
policy_narrow(struct policy *p, const char *hdr, const struct header *h)
{
	static const char *narrow[NAMES_MAX + 1], *over[NAMES_MAX + 1];
	static char spelt[NAMES_TEXT + NAMES_MAX + 1];
	size_t count[NAMES_MAX], first[NAMES_MAX], i, j, k, n = 0, s = 0;
	uint64_t *mask, kept = 0, bad = 0, mixed = 0;
	const struct field *f;
	const char *name, *why_simple;
	char num[32];

	p->note[0] = '\0';
	if (p->hcanon == DKIM_CANON_RELAXED &&
	    (why_simple = needs_simple(hdr, h)) != NULL) {
		p->hcanon = DKIM_CANON_SIMPLE;
		snprintf(p->note, sizeof p->note, "c=simple/%s for %s",
		    p->bcanon == DKIM_CANON_RELAXED ? "relaxed" : "simple",
		    why_simple);
	}
	mask = calloc(h->n > 0 ? h->n : 1, sizeof *mask);
	if (mask == NULL) {
		why_set("out of memory choosing the fields to sign");
		return -1;
	}
	for (i = 0; p->sign[i] != NULL; i++) {
		kept |= (uint64_t)1 << i;
		count[i] = 0;
	}
	for (j = 0; j < h->n; j++) {
		f = &h->f[j];
		name = hdr + f->off;
		for (i = 0; p->sign[i] != NULL; i++) {
			if (!glob(p->sign[i], name, f->namelen))
				continue;
			mask[j] |= (uint64_t)1 << i;
			if (count[i]++ == 0)
				first[i] = j;
			else if (strchr(p->sign[i], '*') == NULL &&
			    memcmp(name, hdr + h->f[first[i]].off,
			    f->namelen) != 0)
				mixed |= (uint64_t)1 << i;
		}
		if (mask[j] != 0 && p->hcanon == DKIM_CANON_RELAXED &&
		    !header_relaxed_ok(hdr, f))
			bad |= mask[j];
	}
	for (i = 0; p->sign[i] != NULL; i++)
		if ((bad | mixed) >> i & 1) {
			kept &= ~((uint64_t)1 << i);
			note(p, p->sign[i], bad >> i & 1 ?
			    "white space libopendkim canonicalizes wrongly" :
			    "spelt in several cases");
		}
	while (hlist_len(h, mask, kept) > HLIST_MAX) {
		i = most_fields(p, count, kept);
		if (i == NAMES_MAX) {	/* From alone is a few bytes */
			free(mask);
			why_set("too many fields to sign");
			return 0;
		}
		kept &= ~((uint64_t)1 << i);
		snprintf(num, sizeof num, "%zu fields", count[i]);
		note(p, p->sign[i], num);
	}
	free(mask);

	for (k = 0; p->oversign[k] != NULL; k++) {
		for (i = 0; p->sign[i] != NULL; i++)
			if (strcasecmp(p->sign[i], p->oversign[k]) == 0)
				break;
		if (p->sign[i] != NULL && !(kept >> i & 1))
			continue;
		over[n] = p->oversign[k];
		if (p->sign[i] != NULL && count[i] > 0 &&
		    strchr(p->sign[i], '*') == NULL &&
		    s + strlen(p->sign[i]) < sizeof spelt) {
			j = strlen(p->sign[i]);
			memcpy(spelt + s, hdr + h->f[first[i]].off, j);
			spelt[s + j] = '\0';
			over[n] = spelt + s;
			s += j + 1;
		}
		n++;
	}
	over[n] = NULL;
	p->oversign = over;

	for (i = 0, n = 0; p->sign[i] != NULL; i++)
		if ((kept >> i & 1) && (count[i] > 0 ||
		    strchr(p->sign[i], '*') != NULL ||
		    listed(p->oversign, p->sign[i])))
			narrow[n++] = p->sign[i];
	narrow[n] = NULL;
	p->sign = narrow;
	return 1;
}
