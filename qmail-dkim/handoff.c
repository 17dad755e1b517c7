/*
 * handoff.c -- becoming the real qmail-remote.
 *
 * Unsigned, the message is left on fd 0 as it came and the real
 * qmail-remote is exec'd in our place: same pid, same argv, same report
 * pipe, so qmail-rspawn sees only the real one.
 *
 * Signed, the real qmail-remote reads the DKIM-Signature field, then the
 * message.  A message that fits in a pipe is written into one before the
 * exec and no process is added.  A larger one goes through a socket pair
 * and is written by a detached writer (forked twice, so it is nobody's
 * zombie) with sendfile(2), straight from the queue file: no copy is
 * made.  The writer closes fds 1 and 2 at once, because qmail-rspawn
 * reads the report until every holder of the pipe has closed it, and
 * ends on EPIPE if qmail-remote stops reading.
 *
 * Through a pipe, a writer that died mid-message (killed by an admin,
 * pkill, a shutdown; or stopped by a read error) would give qmail-remote
 * a clean end of file: it would send the cut message and report success.
 * The socket pair makes that impossible (see in_socket): unless the
 * writer has written everything and taken back the token, its end closes
 * as a reset, which qmail-remote reads as an error and defers.  So
 * whatever process is killed, by whatever signal, the whole message goes
 * out or qmail-send retries.  Hence the writer keeps the default action
 * of SIGTERM, SIGHUP and SIGINT: dying costs only a retry, and a writer
 * that ignored them would outlive the kill meant to stop it.  It has a
 * name of its own in ps(1), qmail-dkim-feed, so that a signal aimed at
 * qmail-remote does not reach it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qdkim.h"

/* Set in the real qmail-remote's environment: seeing it means a loop. */
#define HANDED_ON "QMAILDKIM_HANDED_ON"

#define PIPE_MAX (256 * 1024)	/* grow the pipe up to this, not more */
#define WRITER "qmail-dkim-feed"	/* the writer's name in ps(1) */

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

/*
 * With a note, the real one runs as our child and we relay its report;
 * when no child can be had, it runs in our place all the same.
 */
static void
become(const char *real, char **argv, const char *note)
{
	sigaction(SIGXFSZ, &xfsz, NULL);
	if (setenv(HANDED_ON, "1", 1) == -1) {
		why_sys("cannot set the environment for %s", real);
		return;
	}
	if (note != NULL)
		relay_run(real, argv, note);
	execv(real, argv);
	why_sys("cannot run %s", real);
}

void
handoff_plain(const char *real, char **argv, const char *note)
{
	become(real, argv, note);
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
 * The writer's end of the socket holds the token that handoff_signed put
 * there; only a writer that has written everything takes it out.
 */
static int
drain(int fd)
{
	char token;
	ssize_t r;

	do
		r = read(fd, &token, 1);
	while (r == -1 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

/*
 * ps(1) and pkill(1) see the writer under a name of its own, not as
 * qmail-remote with its argv: a signal meant for qmail-remote should not
 * hit it.  argv's strings are the writer's own copy since the fork.
 */
static void
writer_name(char **argv)
{
	char *end;
	int i;

	(void)prctl(PR_SET_NAME, WRITER);
	end = argv[0];
	for (i = 0; argv[i] != NULL && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1;
	if ((size_t)(end - argv[0]) > strlen(WRITER)) {
		memset(argv[0], 0, (size_t)(end - argv[0]));
		memcpy(argv[0], WRITER, strlen(WRITER));
	}
}

static void
writer(struct push *s, char **argv)
{
	struct pollfd pfd = { .fd = s->out, .events = POLLOUT };
	int r;

	writer_name(argv);
	signal(SIGPIPE, SIG_IGN);
	close(1);
	close(2);
	while ((r = push(s)) == 0)
		(void)poll(&pfd, 1, -1);
	/*
	 * -1: qmail-remote stopped reading (EPIPE), which is its business,
	 * or the message cannot be read to its end: the token left unread,
	 * qmail-remote's next read fails.
	 */
	if (r == 1)
		(void)drain(s->out);
}

/*
 * Starts the detached writer; 0 when it runs, -1 when it cannot.
 * SIGCHLD may come ignored from the launcher, and then waitpid() cannot
 * reap: it is set to the default for the while, and put back.
 */
static int
spawn_writer(struct push *s, int remote_end, char **argv)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	pid_t pid, w;
	int status;

	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	pid = fork();
	if (pid == 0) {
		pid = fork();
		if (pid != 0)
			_exit(pid == -1 ? 111 : 0);
		close(remote_end);
		writer(s, argv);
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
	return pid == -1 ? -1 : 0;
}

static void
push_start(struct push *s, struct msg *m, const char *sighdr, size_t siglen)
{
	static char buf[CHUNK];

	memset(s, 0, sizeof *s);
	s->hdr = sighdr;
	s->hdrlen = siglen;
	s->in = m->fd;
	s->pos = m->start;
	s->end = m->start + m->size;
	s->normalize = m->norm.any_cr;
	s->buf = buf;
}

/*
 * The whole message written into a pipe, fd[0] its read end: 1 done,
 * 0 it does not fit (nothing is left open), -1 error.
 */
static int
in_pipe(struct push *s, int fd[2])
{
	size_t total, want;
	int r;

	/* room for the field, the message, and pages half used */
	total = s->hdrlen + (size_t)(s->end - s->pos) + 3 * 4096;
	if (total > PIPE_MAX)
		return 0;
	if (pipe2(fd, O_CLOEXEC) == -1) {
		why_sys("cannot make a pipe");
		return -1;
	}
	if (total > 65536) {
		for (want = 65536; want < total; want *= 2)
			;
		(void)fcntl(fd[1], F_SETPIPE_SZ, (int)want);
	}
	s->out = fd[1];
	if (fcntl(fd[1], F_SETFL, O_NONBLOCK) == -1) {
		why_sys("cannot set up the pipe");
		r = -1;
	} else if ((r = push(s)) == -1)
		why_sys("cannot write the message to the pipe");
	close(fd[1]);
	if (r != 1)
		close(fd[0]);
	return r;
}

/*
 * The message through a socket, fd[0] qmail-remote's end, and a writer
 * for what does not fit: 0 done, -1 error.  The token, one byte from
 * qmail-remote's end, stays unread in the writer's receive queue until
 * the writer has written the message.  Linux closes a stream socket
 * with unread data as a reset (net/unix/af_unix.c, unix_release_sock):
 * the peer reads what was sent, then ECONNRESET instead of end of file.
 * So a writer that ends early, killed by any signal or stopped by a read
 * error, makes every qmail-remote's blast() end in temp_read() ("Z...
 * Unable to read message"): it drops the connection without the final
 * dot, and qmail-send retries.
 */
static int
in_socket(struct push *s, int fd[2], char **argv)
{
	ssize_t w;
	int r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == -1) {
		why_sys("cannot make a socket pair");
		return -1;
	}
	do
		w = write(fd[0], "", 1);
	while (w == -1 && errno == EINTR);
	s->out = fd[1];
	if (w != 1 || fcntl(fd[1], F_SETFL, O_NONBLOCK) == -1) {
		why_sys("cannot set up the socket pair");
		r = -1;
	} else if ((r = push(s)) == -1)
		why_sys("cannot write the message to the socket");
	else if (r == 1 && drain(fd[1]) == -1) {
		why_sys("cannot read the socket pair's token");
		r = -1;
	} else if (r == 0)
		r = spawn_writer(s, fd[0], argv);
	close(fd[1]);
	if (r == -1)
		close(fd[0]);
	return r == -1 ? -1 : 0;
}

void
handoff_signed(const char *real, char **argv, struct msg *m,
    const char *sighdr, size_t siglen, const char *note)
{
	struct push s;
	int fd[2], r;

	push_start(&s, m, sighdr, siglen);
	r = in_pipe(&s, fd);
	if (r == 0) {	/* the pipe is too small: start again */
		push_start(&s, m, sighdr, siglen);
		r = in_socket(&s, fd, argv);
	}
	if (r == -1)
		return;
	if (fd[0] == 0)
		r = fcntl(0, F_SETFD, 0);
	else {
		r = dup2(fd[0], 0);
		close(fd[0]);
	}
	if (r == -1) {
		why_sys("cannot put the message on fd 0");
		return;
	}
	become(real, argv, note);
}
