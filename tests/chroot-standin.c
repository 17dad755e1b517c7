/*
 * A stand-in for the real qmail-queue and qmail-remote inside an empty
 * root (tests/720-dist.t), linked static so that it needs nothing there
 * either.  Called qmail-remote.orig, it keeps the message in
 * /out/message and reports one recipient and the message delivered, as
 * qmail-remote does; called qmail-queue, it keeps the message in
 * /out/mess and the envelope (fd 1) in /out/envelope, and exits 0.
 * For the sender crash@example.com, qmail-remote.orig reports one
 * recipient and dies of SIGSEGV in /out, where its core file goes.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int
keep(int from, const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd == -1)
		return -1;
	while ((n = read(from, buf, sizeof buf)) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return -1;
	return n == 0 ? close(fd) : -1;
}

int
main(int argc, char **argv)
{
	static const char report[] = "r\0Kok\n";
	const char *name = strrchr(argv[0], '/');

	name = name != NULL ? name + 1 : argv[0];
	if (strcmp(name, "qmail-queue") == 0)
		return keep(0, "/out/mess") == 0 &&
		    keep(1, "/out/envelope") == 0 ? 0 : 71;
	if (argc < 4 || keep(0, "/out/message") == -1)
		return 111;
	if (strcmp(argv[2], "crash@example.com") == 0) {
		if (write(1, report, 2) != 2 || chdir("/out") == -1)
			return 111;
		raise(SIGSEGV);
	}
	return write(1, report, sizeof report) == sizeof report ? 0 : 111;
}
