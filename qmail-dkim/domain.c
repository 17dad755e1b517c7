/*
 * domain.c -- domain names and selectors that come from message text.
 *
 * A From: domain becomes a directory name under control/domainkeys, so
 * only host names made of LDH labels pass (RFC 1035 2.3.1; RFC 5890
 * A-labels are LDH too): no "/", no empty label, so no "." or "..".
 */
#include <string.h>

#include "qdkim.h"

static int
labels_valid(const char *s, size_t maxlen, int minlabels)
{
	size_t len = strlen(s), label = 0;
	int labels = 1;
	const char *p;

	if (len == 0 || len > maxlen)
		return 0;
	for (p = s; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			labels++;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
		if (label == 0 && *p == '-')
			return 0;
		if (++label > 63)
			return 0;
	}
	if (label == 0 || p[-1] == '-')
		return 0;
	return labels >= minlabels;
}

int
domain_normalize(char *d)
{
	size_t len = strlen(d);
	char *p;

	if (len > 0 && d[len - 1] == '.')	/* RFC 1034 3.1: absolute */
		d[--len] = '\0';
	for (p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	/* never a bare top-level domain: two labels at least */
	return labels_valid(d, 253, 2);
}

const char *
domain_parent(const char *d)
{
	const char *dot = strchr(d, '.');

	if (dot == NULL || strchr(dot + 1, '.') == NULL)
		return NULL;
	return dot + 1;
}

/* RFC 6376 3.1: selector = sub-domain *( "." sub-domain ) */
int
selector_valid(const char *s)
{
	/* "selector" names the file that lists the selectors */
	if (strcmp(s, "selector") == 0)
		return 0;
	return labels_valid(s, 63, 1);
}
