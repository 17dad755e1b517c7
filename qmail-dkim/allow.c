/*
 * allow.c -- which envelope senders may use which domain's key.
 *
 * Any local user can write any From: and any envelope sender, so on a
 * shared host every user could have mail signed for every domain with a
 * key.  The optional control/dkimsenders limits that:
 *
 *	# signing domain: envelope sender domains that may use its key
 *	example.com: example.com lists.example.com
 *	example.org: *
 *	bounce.example.net: <>
 *
 * When the file exists, a domain signs only for the envelope senders its
 * line names ("*" any, "<>" bounces); a domain without a line signs
 * nothing.  Without the file every domain with a key signs.
 */
#include <stdio.h>
#include <string.h>

#include "qdkim.h"

/* the file as read for this message: allow_load reads it every time */
static char text[16384];
static int present;

int
allow_load(void)
{
	char path[512];
	int r;

	snprintf(path, sizeof path, "%s/control/dkimsenders", control_home());
	r = control_readfile(path, text, sizeof text);
	if (r == -1) {
		/* never the last message's list, nor a half-read one: until
		 * a load succeeds no domain signs */
		text[0] = '\0';
		present = 1;
		return -1;
	}
	if (r == 0)
		text[0] = '\0';
	present = r;
	return 0;
}

/* Does this line's list name the sender (a domain, "" for a bounce)? */
static int
names(const char *list, size_t len, const char *sender)
{
	char word[256];
	size_t i = 0, n;

	while (i < len) {
		i += strspn(list + i, " \t,");
		n = strcspn(list + i, " \t,");
		if (n > len - i)
			n = len - i;
		if (n > 0 && n < sizeof word) {
			memcpy(word, list + i, n);
			word[n] = '\0';
			if (strcmp(word, "*") == 0 ||
			    (*sender == '\0' && strcmp(word, "<>") == 0) ||
			    (*sender != '\0' && domain_normalize(word) &&
			    strcmp(word, sender) == 0))
				return 1;
		}
		i += n;
	}
	return 0;
}

int
allow_check(const char *domain, const char *sender)
{
	const char *line = text, *end, *colon;
	size_t dl = strlen(domain);

	if (!present)
		return 1;
	for (; *line; line = *end ? end + 1 : end) {
		end = line + strcspn(line, "\n");
		line += strspn(line, " \t");
		colon = memchr(line, ':', (size_t)(end - line));
		if (*line == '#' || colon == NULL)
			continue;
		if ((size_t)(colon - line) == dl &&
		    strncasecmp(line, domain, dl) == 0)
			return names(colon + 1, (size_t)(end - colon - 1),
			    sender);
	}
	return 0;
}
