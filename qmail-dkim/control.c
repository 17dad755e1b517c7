/*
 * control.c -- the qmail home and its control files.
 *
 * qmail's habit: one value per file, a missing file means the default,
 * a file that exists but cannot be read is a temporary failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qdkim.h"

const char *
control_home(void)
{
	const char *h = getenv("QMAILDKIM_HOME");

	return (h != NULL && *h == '/') ? h : QMAILHOME;
}

/* The whole file, NUL-terminated: -1 error, 0 absent, 1 read. */
int
control_readfile(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	sigcache_note(path);
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		why_sys("cannot open %s", path);
		return -1;
	}
	while ((n = io_pread(fd, buf + len, size - 1 - len, (off_t)len)) > 0)
		if ((len += (size_t)n) == size - 1)
			break;
	close(fd);
	if (n == -1) {
		why_sys("cannot read %s", path);
		return -1;
	}
	if (len == size - 1) {
		why_set("%s is too long", path);
		return -1;
	}
	buf[len] = '\0';
	return 1;
}

/* The first line of a control file, without surrounding white space. */
int
control_readline(const char *path, char *buf, size_t size)
{
	char tmp[4096];
	size_t i, j;
	int r;

	r = control_readfile(path, tmp, sizeof tmp);
	if (r != 1)
		return r;
	tmp[strcspn(tmp, "\n")] = '\0';
	for (i = 0; tmp[i] == ' ' || tmp[i] == '\t'; i++)
		;
	j = strlen(tmp);
	while (j > i && (tmp[j - 1] == ' ' || tmp[j - 1] == '\t' ||
	    tmp[j - 1] == '\r'))
		j--;
	if (j - i >= size) {
		why_set("%s: the value is too long", path);
		return -1;
	}
	memcpy(buf, tmp + i, j - i);
	buf[j - i] = '\0';
	return 1;
}

/*
 * control/NAME holds one of words (NULL-terminated): its index; def
 * when the file is absent; -1 when it cannot be read or holds another
 * value (why says which).
 */
int
control_choice(const char *name, const char *const *words, int def)
{
	char path[512], v[64];
	size_t i;
	int r;

	snprintf(path, sizeof path, "%s/control/%s", control_home(), name);
	r = control_readline(path, v, sizeof v);
	if (r != 1)
		return r == 0 ? def : -1;
	for (i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return (int)i;
	why_set("%s: '%s' is not one of", path, v);
	for (i = 0; words[i] != NULL; i++)
		snprintf(why + strlen(why), sizeof why - strlen(why), "%s %s",
		    i == 0 ? "" : words[i + 1] == NULL ? " or" : ",", words[i]);
	return -1;
}
