/*
 * spool.c -- a message that arrives on a pipe.
 *
 * qmail-rspawn gives qmail-remote the queue file itself, but other
 * launchers (spawn filters, shell pipelines) give a pipe.  The message is
 * read once into an unlinked temporary file, so that everything after
 * works on a seekable file and nothing is left behind on any exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qdkim.h"

static int
tmpfile_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	int fd;

	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	/* no O_TMPFILE on this file system: create and unlink at once */
	snprintf(path, sizeof path, "%s/qmail-dkim.XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd != -1)
		unlink(path);
	return fd;
}

int
spool_pipe(int in)
{
	static char buf[CHUNK];
	struct pollfd pfd = { .fd = in, .events = POLLIN };
	ssize_t n;
	int fd;

	fd = tmpfile_open();
	if (fd == -1) {
		why_sys("cannot create a temporary file for the message");
		return -1;
	}
	for (;;) {
		n = read(in, buf, sizeof buf);
		if (n == -1 && errno == EAGAIN) {
			/* qmail opens fd 0 non-blocking */
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				break;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (io_write(fd, buf, (size_t)n) == -1) {
			why_sys("cannot write the message to a temporary file");
			close(fd);
			return -1;
		}
	}
	if (n == -1) {
		why_sys("cannot read the message");
		close(fd);
		return -1;
	}
	return fd;
}
