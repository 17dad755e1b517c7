/*
 * spool.c -- a message that arrives on a pipe.
 *
 * qmail-rspawn gives qmail-remote the queue file itself, but other
 * launchers (spawn filters, shell pipelines) give a pipe.  The message is
 * read once into an unlinked temporary file, so that everything after
 * works on a seekable file and nothing is left behind on any exit.
 * qmail-dkim-queue makes the file first and copies into it second, so
 * that it knows whether any of the message was read when one fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "qdkim.h"

int
spool_file(void)
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

/* Reads in to its end into fd: 0, -1 read error, -2 write error. */
int
spool_copy(int in, int fd)
{
	static char buf[CHUNK];
	struct pollfd pfd = { .fd = in, .events = POLLIN };
	ssize_t n;

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
			return -2;
		}
	}
	if (n == -1) {
		why_sys("cannot read the message");
		return -1;
	}
	return 0;
}

int
spool_pipe(int in)
{
	int fd;

	fd = spool_file();
	if (fd == -1) {
		why_sys("cannot create a temporary file for the message");
		return -1;
	}
	if (spool_copy(in, fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}
