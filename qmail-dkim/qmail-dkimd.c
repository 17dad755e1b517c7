/*
 * qmail-dkimd -- sign for qmail-dkimc, with OpenSSL already warm.
 *
 *	qmail-dkimd [-n WORKERS] [-r REQUESTS] SOCKET
 *
 * Run under supervise(8) or systemd as qmailr, the user qmail-remote runs
 * as.  It makes SOCKET (under umask 077, so for its user alone), starts
 * WORKERS processes (default: one per CPU) that take requests one at a
 * time, and starts a new one whenever one ends: each ends on its own
 * after REQUESTS messages (default 10000), so nothing one message leaves
 * behind builds up, and a message that takes more than REQUEST_SECONDS
 * kills its worker (the front then signs it itself).  SIGTERM stops it
 * and removes SOCKET, if SOCKET is still its own.
 *
 * One instance a socket: SOCKET.lock is held (flock) while it runs, and
 * a second one refuses to start.  The socket is made under a new name
 * and renamed over SOCKET, so that a restart after a crash never leaves
 * the path without a socket.
 *
 * Each request is what qmail-dkim would do with the message (engine.c),
 * with the same control files, read afresh each time: a new key, a new
 * selector or a new policy applies to the next message, no reload.
 * Another delivery of a queue file already signed gets the same
 * signatures while none of what made them has changed (sigcache.c,
 * shared by the workers).
 * control/dkimrights is looked at each time too; its table, names
 * resolved, is kept while the file is unchanged (rights.c).  Who sent
 * the message is read from the queue file, never from the request.
 * What it cannot say goes to syslog; fd 2 is its own (supervise's log),
 * not a report pipe, and gets only the start-up errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "qdkim.h"

#define WORKERS_MAX 64
#define REQUEST_SECONDS 120
#define PEER_SECONDS 10

static volatile sig_atomic_t stop;
static int lock_fd = -1;	/* the parent's alone */

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* only to end sigsuspend(2): the workers are reaped in main() */
static void
on_child(int sig)
{
	(void)sig;
}

/*
 * SIGTERM, SIGINT and SIGCHLD stay blocked in the parent except inside
 * sigsuspend(2): a SIGTERM that came between a look at stop and a
 * blocking wait(2) would leave the parent waiting for workers that never
 * end.  This is the mask the launcher gave, without those three: the
 * parent's while it waits, the workers' for good.
 */
static sigset_t open_mask;

static void __attribute__((noreturn))
die(const char *text)
{
	log_line("qmail-dkimd: %s", text);
	dprintf(2, "qmail-dkimd: %s\n", text);
	exit(111);
}

static void __attribute__((noreturn))
usage(void)
{
	die("usage: qmail-dkimd [-n WORKERS] [-r REQUESTS] SOCKET");
}

/* The verdict on the message in fd, made afresh, and kept if it may be. */
static void
sign(int fd, const struct stat *st, const char *sender,
    const struct timespec *began, struct msg *m, struct verdict *v)
{
	int r;

	sigcache_begin();
	r = msg_open(m, fd);
	if (r == -1) {
		v->kind = VERDICT_DEFER;
		snprintf(v->text, sizeof v->text, "%s", why);
	} else if (r == 0) {
		v->kind = VERDICT_UNSIGNED;
		snprintf(v->text, sizeof v->text, "empty message");
	} else
		engine_sign(m, sender, v);
	sigcache_store(st, m->start, sender, v, began);
}

/* One request: read, sign, answer.  A failure only loses the answer. */
static void
serve(int c)
{
	char sender[1024];
	struct msg m;
	struct verdict v;
	struct stat st;
	struct timespec began;
	off_t start;
	int fd, held;

	/* a reason left from the last request must not pass for this one's */
	why[0] = '\0';
	if (!wire_peer_ok(c) || wire_timeout(c, PEER_SECONDS) == -1 ||
	    wire_request(c, &fd, sender, sizeof sender) == -1) {
		log_line("qmail-dkimd: request refused: %s", why);
		return;
	}
	memset(&v, 0, sizeof v);
	memset(&m, 0, sizeof m);
	/* a pipe would be spooled, and it is the front's: leave it to it */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		v.kind = VERDICT_LOCAL;
		snprintf(v.text, sizeof v.text, "not a regular file");
	} else if ((start = lseek(fd, 0, SEEK_CUR)) != -1 &&
	    sigcache_find(&st, start, sender, &v)) {
		/* signed for an earlier delivery of this queue file */
	} else {
		alarm(REQUEST_SECONDS);
		clock_gettime(CLOCK_REALTIME, &began);
		/* another worker may be signing it: wait, then take its */
		held = sigcache_claim(fd, &st, &began);
		if (!held || start == -1 ||
		    !sigcache_find(&st, start, sender, &v))
			sign(fd, &st, sender, &began, &m, &v);
		if (held)
			sigcache_release(fd);
		alarm(0);
	}
	if (wire_reply(c, &v) == -1 && v.kind == VERDICT_SIGNED) {
		v.kind = VERDICT_LOCAL;	/* too large: let the front sign */
		snprintf(v.text, sizeof v.text, "%s", why);
		wire_reply(c, &v);
	}
	/* qmail-dkim's line for the delivery, made here after the answer:
	 * the front, waiting, does not pay for it */
	switch (v.kind) {
	case VERDICT_SIGNED: log_line("signed: %s", v.text); break;
	case VERDICT_UNSIGNED: log_line("not signed: %s", v.text); break;
	case VERDICT_DEFER: log_line("deferred: %s", v.text); break;
	default: break;
	}
	engine_done(&m, &v);
	close(fd);
}

static void __attribute__((noreturn))
worker(int l, long requests, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	long n;
	int c;

	sigemptyset(&dfl.sa_mask);
	sigaction(SIGTERM, &dfl, NULL);
	sigaction(SIGINT, &dfl, NULL);
	sigaction(SIGCHLD, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &open_mask, NULL);
	/* the lock is the parent's: a worker left behind must not keep a
	 * new instance from starting; and none is left behind, since one
	 * whose parent is killed ends too */
	close(lock_fd);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(111);
	for (n = 0; n < requests; n++) {
		c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			log_line("qmail-dkimd: accept: %s", strerror(errno));
			_exit(111);
		}
		serve(c);
		close(c);
	}
	_exit(0);
}

/*
 * SOCKET.lock, locked for as long as this instance runs: a second one on
 * the same socket would take it over, and remove it when it stopped.
 * flock(2) needs no write access: the file is empty and readable by all,
 * so that one left by a start as root does not keep qmailr's out.
 */
static void
lock_socket(const char *path)
{
	char lock[4096];
	struct stat st;

	if ((size_t)snprintf(lock, sizeof lock, "%s.lock", path) >= sizeof lock)
		die("the socket path is too long");
	lock_fd = open(lock, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC, 0644);
	if (lock_fd == -1) {
		why_sys("cannot open the lock %s", lock);
		die(why);
	}
	if (fstat(lock_fd, &st) == 0 && st.st_uid == geteuid())
		(void)fchmod(lock_fd, 0644);	/* whatever the umask */
	if (flock(lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			why_set("another qmail-dkimd runs on %s: it holds %s",
			    path, lock);
		else
			why_sys("cannot lock %s", lock);
		die(why);
	}
}

static long
number(const char *s, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || n < 1 || n > max)
		usage();
	return n;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct sigaction sc = { .sa_handler = on_child };
	sigset_t blocked;
	struct stat made;
	pid_t pids[WORKERS_MAX], p, self = getpid();
	time_t born[WORKERS_MAX];
	long workers, requests = 10000, i;
	int l, opt, status;

	workers = sysconf(_SC_NPROCESSORS_ONLN);
	if (workers < 1 || workers > WORKERS_MAX)
		workers = 2;
	while ((opt = getopt(argc, argv, "n:r:")) != -1)
		switch (opt) {
		case 'n': workers = number(optarg, WORKERS_MAX); break;
		case 'r': requests = number(optarg, 1000000000L); break;
		default: usage();
		}
	if (argc - optind != 1 || argv[optind][0] != '/')
		usage();

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, &open_mask);
	sigdelset(&open_mask, SIGTERM);
	sigdelset(&open_mask, SIGINT);
	sigdelset(&open_mask, SIGCHLD);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, NULL);

	lock_socket(argv[optind]);
	l = wire_listen(argv[optind], &made);
	if (l == -1)
		die(why);
	signal(SIGPIPE, SIG_IGN);
	/* svc -h: nothing to reload, every request reads the control files */
	signal(SIGHUP, SIG_IGN);
	log_ready();	/* the workers inherit the connection and time zone */
	/* the signatures kept for queue files, shared by the workers */
	if (sigcache_init() == -1)
		log_line("qmail-dkimd: no shared memory: every delivery is "
		    "signed anew");
	log_line("qmail-dkimd: listening on %s with %ld workers",
	    argv[optind], workers);

	for (i = 0; i < workers; i++)
		pids[i] = -1;
	while (!stop) {
		for (i = 0; i < workers && !stop; i++) {
			if (pids[i] != -1)
				continue;
			p = fork();
			if (p == 0)
				worker(l, requests, self);
			if (p == -1) {
				log_line("qmail-dkimd: fork: %s",
				    strerror(errno));
				sleep(1);
				continue;
			}
			pids[i] = p;
			born[i] = time(NULL);
		}
		p = waitpid(-1, &status, WNOHANG);
		if (p == 0) {
			sigsuspend(&open_mask);	/* a worker ended, or SIGTERM */
			continue;
		}
		for (i = 0; i < workers; i++)
			if (p > 0 && pids[i] == p) {
				pids[i] = -1;
				if (WIFSIGNALED(status) && !stop)
					log_line("qmail-dkimd: worker %ld killed "
					    "by signal %d", (long)p,
					    WTERMSIG(status));
				else if (WIFEXITED(status) &&
				    WEXITSTATUS(status) != 0)
					log_line("qmail-dkimd: worker %ld exited "
					    "%d", (long)p, WEXITSTATUS(status));
				/* one that dies at once would spin */
				if (!stop && time(NULL) - born[i] < 1)
					sleep(1);
			}
	}
	for (i = 0; i < workers; i++)
		if (pids[i] != -1)
			kill(pids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	wire_unlisten(argv[optind], &made);
	log_line("qmail-dkimd: stopped");
	return 0;
}
