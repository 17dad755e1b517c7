/*
 * handoff.c -- becoming the real qmail-remote.
 *
 * Unsigned, the message is left on fd 0 as it came and the real
 * qmail-remote is exec'd in our place: same pid, same argv, same report
 * pipe, so qmail-rspawn sees only the real one.
 *
 * Signed, the real qmail-remote reads a pipe: the DKIM-Signature field,
 * then the message.  A message that fits in the pipe is written before
 * the exec and no process is added.  A larger one is written by a
 * detached writer (forked twice, so it is nobody's zombie) with
 * sendfile(2), straight from the queue file: no copy is made.  The writer
 * closes fds 1 and 2 at once, because qmail-rspawn reads the report until
 * every holder of the pipe has closed it; it ends on EPIPE if
 * qmail-remote stops reading, and kills it if the message cannot be read
 * to the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qdkim.h"

/* Set in the real qmail-remote's environment: seeing it means a loop. */
#define HANDED_ON "QMAILDKIM_HANDED_ON"

#define PIPE_MAX (256 * 1024)	/* grow the pipe up to this, not more */

struct push {
	int out;
	const char *hdr;	/* what is left of the signature field */
	size_t hdrlen;
	int in;
	off_t pos, end;		/* what is left of the message */
	int normalize;		/* the message has CRs: rewrite line ends */
	struct norm norm;
	char *buf;
	size_t bufoff, buflen;
};

const char *
handoff_real(void)
{
	static char path[512];

	/* notqmail runs $QMAILREMOTE; then qmail-remote is the real one */
	snprintf(path, sizeof path, "%s/bin/%s", control_home(),
	    getenv("QMAILREMOTE") != NULL ? "qmail-remote" :
	    "qmail-remote.orig");
	return path;
}

int
handoff_looped(void)
{
	return getenv(HANDED_ON) != NULL;
}

static struct sigaction xfsz;	/* as the launcher gave it */

/*
 * A file-size limit (softlimit -f) kills with SIGXFSZ when the spool
 * reaches it; ignored, the write fails with EFBIG and a Z record says
 * why.  The real qmail-remote gets the disposition we were given.
 */
void
handoff_guard(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };

	sigemptyset(&ign.sa_mask);
	sigaction(SIGXFSZ, &ign, &xfsz);
}

static void
become(const char *real, char **argv)
{
	sigaction(SIGXFSZ, &xfsz, NULL);
	if (setenv(HANDED_ON, "1", 1) == -1) {
		why_sys("cannot set the environment for %s", real);
		return;
	}
	execv(real, argv);
	why_sys("cannot run %s", real);
}

void
handoff_plain(const char *real, char **argv)
{
	become(real, argv);
}

/* After a failed write: 0 to stop for now (pipe full), -1 error. */
static int
stalled(void)
{
	return errno == EAGAIN ? 0 : -1;
}

/* Moves bytes to the pipe: 1 all done, 0 the pipe is full, -1 error. */
static int
push(struct push *s)
{
	ssize_t w, n;

	while (s->hdrlen > 0) {
		w = write(s->out, s->hdr, s->hdrlen);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return stalled();
		s->hdr += w;
		s->hdrlen -= (size_t)w;
	}
	while (!s->normalize && s->pos < s->end) {
		w = sendfile(s->out, s->in, &s->pos, (size_t)(s->end - s->pos));
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return stalled();
		if (w == 0) {
			errno = EIO;	/* the file got shorter */
			return -1;
		}
	}
	while (s->normalize) {
		if (s->bufoff == s->buflen) {
			if (s->pos == s->end)
				return 1;
			n = io_pread(s->in, s->buf, s->end - s->pos < CHUNK ?
			    (size_t)(s->end - s->pos) : CHUNK, s->pos);
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				return -1;
			}
			s->pos += n;
			s->buflen = norm_lf(&s->norm, s->buf, (size_t)n);
			s->bufoff = 0;
			continue;
		}
		w = write(s->out, s->buf + s->bufoff, s->buflen - s->bufoff);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return stalled();
		s->bufoff += (size_t)w;
	}
	return 1;
}

/*
 * A message cut short by a read error would reach qmail-remote as a
 * clean end of file and go out cut, logged as delivered: the real
 * qmail-remote is killed instead, which qmail-send takes as a temporary
 * failure ("qmail-remote crashed") and retries.  A pidfd names it
 * without the risk of a reused pid.
 */
static void
stop_remote(int pidfd, pid_t remote)
{
	if (pidfd == -1 ||
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == -1)
		kill(remote, SIGKILL);
}

static void
writer(struct push *s, int pidfd, pid_t remote)
{
	struct pollfd pfd = { .fd = s->out, .events = POLLOUT };
	int r;

	signal(SIGPIPE, SIG_IGN);
	close(1);
	close(2);
	while ((r = push(s)) == 0)
		(void)poll(&pfd, 1, -1);
	/* EPIPE: qmail-remote stopped reading, which is its business */
	if (r == -1 && errno != EPIPE)
		stop_remote(pidfd, remote);
}

/*
 * Starts the detached writer; 0 when it runs, -1 when it cannot.
 * SIGCHLD may come ignored from the launcher, and then waitpid() cannot
 * reap: it is set to the default for the while, and put back.
 */
static int
spawn_writer(struct push *s, int readend)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	pid_t remote = getpid(), pid, w;
	int status, pidfd;

	pidfd = (int)syscall(SYS_pidfd_open, remote, 0);
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0) {
		pid = fork();
		if (pid != 0)
			_exit(pid == -1 ? 111 : 0);
		close(readend);
		writer(s, pidfd, remote);
		_exit(0);
	}
	if (pid == -1)
		why_sys("cannot fork a writer");
	else {
		do
			w = waitpid(pid, &status, 0);
		while (w == -1 && errno == EINTR);
		if (w == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			why_set("cannot fork a writer");
			pid = -1;
		}
	}
	sigaction(SIGCHLD, &old, NULL);
	if (pidfd != -1)
		close(pidfd);
	return pid == -1 ? -1 : 0;
}

void
handoff_signed(const char *real, char **argv, struct msg *m,
    const char *sighdr, size_t siglen)
{
	static char buf[CHUNK];
	struct push s;
	size_t total, want;
	int p[2], r;

	memset(&s, 0, sizeof s);
	s.hdr = sighdr;
	s.hdrlen = siglen;
	s.in = m->fd;
	s.pos = m->start;
	s.end = m->start + m->size;
	s.normalize = m->norm.any_cr;
	s.buf = buf;
	if (pipe2(p, O_CLOEXEC) == -1) {
		why_sys("cannot make a pipe");
		return;
	}
	/* room for the field, the message, and pages half used */
	total = siglen + (size_t)m->size + 3 * 4096;
	if (total > 65536 && total <= PIPE_MAX) {
		for (want = 65536; want < total; want *= 2)
			;
		(void)fcntl(p[1], F_SETPIPE_SZ, (int)want);
	}
	s.out = p[1];
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) == -1) {
		why_sys("cannot set up the pipe");
		goto fail;
	}
	r = push(&s);
	if (r == -1) {
		why_sys("cannot write the message to the pipe");
		goto fail;
	}
	if (r == 0 && spawn_writer(&s, p[0]) == -1)
		goto fail;
	close(p[1]);
	if (p[0] != 0) {
		if (dup2(p[0], 0) == -1) {
			why_sys("cannot put the pipe on fd 0");
			close(p[0]);
			return;
		}
		close(p[0]);
	}
	become(real, argv);
	return;
fail:
	close(p[0]);
	close(p[1]);
}
