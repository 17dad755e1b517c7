/*
 * remote.c -- the stand-in real qmail-remote of the benchmark.
 *
 *	remote HOST SENDER RECIPIENT...
 *
 * Reads the message on fd 0 to its end (into BENCH_REMOTE_OUT when that
 * is set, else nowhere), then reports as qmail-remote does: "r\0" for
 * each recipient and "Kok\n\0" for the message.  It does no SMTP, so what
 * it costs is a process start and reading the message once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

static int
put(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char buf[65536];
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	const char *out = getenv("BENCH_REMOTE_OUT");
	int fd = -1, i;
	ssize_t n;

	(void)argv;
	if (out != NULL) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd == -1)
			return 111;
	}
	for (;;) {
		n = read(0, buf, sizeof buf);
		if (n == -1 && errno == EAGAIN) {	/* qmail's fd 0 is */
			poll(&pfd, 1, -1);		/* non-blocking */
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return 111;
		if (n == 0)
			break;
		if (fd != -1 && put(fd, buf, (size_t)n) == -1)
			return 111;
	}
	if (fd != -1 && close(fd) == -1)
		return 111;
	for (i = 3; i < argc; i++)
		if (put(1, "r", 2) == -1)
			return 111;
	return put(1, "Kok\n", 5) == -1 ? 111 : 0;
}
