/*
 * remote-stub HOST SENDER RECIP...: a quick stand-in for the real
 * qmail-remote, for tests that deliver thousands of messages
 * (tests/differential.py).  It copies fd 0 to the file $STUB_OUT, creates
 * $STUB_OUT.fellback when qmail-dkimc fell back to qmail-dkim
 * (QMAILDKIMC_FELL_BACK is set), and reports on fd 1 as qmail-remote 1.03
 * does: "r" per recipient, then "K..." or, for a last line without its
 * LF, qmail-remote's "D..." for a partial final line.  What the message
 * looks like on the wire is the caller's to work out (tests/fake-remote.py
 * says how).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void
out(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(111);
		s += w;
		n -= (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	static const char ok[] = "Kok (remote-stub)\n";
	static const char unread[] = "ZUnable to read message. (#4.3.0)\n";
	static const char partial[] = "DSMTP cannot transfer messages "
	    "with partial final lines. (#5.6.2)\n";
	const char *path = getenv("STUB_OUT");
	char last = '\n';
	ssize_t n;
	int fd, i;

	(void)argv;
	if (path == NULL || argc < 4)
		_exit(100);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		_exit(111);
	if (getenv("QMAILDKIMC_FELL_BACK") != NULL) {
		char mark[4096];

		snprintf(mark, sizeof mark, "%s.fellback", path);
		close(open(mark, O_WRONLY | O_CREAT | O_TRUNC, 0600));
	}
	for (i = 3; i < argc; i++)
		out(1, "r", 2);
	while ((n = read(0, buf, sizeof buf)) != 0) {
		if (n < 0) {
			out(1, unread, sizeof unread);
			_exit(0);
		}
		out(fd, buf, (size_t)n);
		last = buf[n - 1];
	}
	if (close(fd) == -1)
		_exit(111);
	if (last == '\n')
		out(1, ok, sizeof ok);
	else
		out(1, partial, sizeof partial);
	return 0;
}
