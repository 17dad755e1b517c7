/*
 * launch.c -- start a program the way qmail-rspawn starts qmail-remote,
 * and measure it.
 *
 *	launch [-n COUNT] [-e K=V]... [-d DIR] [-o REPORT] [-p PID]
 *	    MSGFILE PROG ARG...
 *
 * Each of COUNT deliveries (default 1, all started at once) gets fd 0
 * MSGFILE opened read-only and non-blocking, fd 1 a pipe back to us and
 * fd 2 a copy of it, SIGPIPE ignored and SIGCHLD blocked (both survive
 * exec), umask 077, the environment PATH plus the -e pairs, DIR as its
 * working directory, and no other descriptor.  Like qmail-rspawn we read
 * every report pipe until end of file; the first delivery's report goes
 * to REPORT.
 *
 * We are a child subreaper, so a detached writer that qmail-dkim forks
 * (twice, to be nobody's zombie) is reparented to us, not to init: we
 * reap every descendant and count its CPU time too.  The clock starts
 * before the first fork and stops when every report pipe is at end of
 * file and every descendant is reaped.  One line on stdout:
 *
 *	wall_ms cpu_ms main_rss_kb other_rss_kb ok resident_cpu_ms
 *
 * main_rss_kb is the peak RSS of the process we started (Linux carries
 * the peak over exec, so it is the larger of the signer and the stand-in
 * qmail-remote it became), other_rss_kb that of every other descendant
 * (a writer; 0 if none), both summed over the deliveries;
 * ok is the number of reports that hold a K record.
 *
 * -p PID names a resident process (qmail-dkimd) that works for the
 * deliveries: the CPU time that PID and its children (its workers, from
 * /proc/PID/task/PID/children) use between just before the first fork and
 * just after the last reaping is resident_cpu_ms, and is added to cpu_ms
 * too.  It is read with clock_getcpuclockid(3), the same utime+stime as
 * /proc/PID/stat's but in nanoseconds, not 10 ms clock ticks.  A child
 * that ends in between loses its share (qmail-dkimd -r large: none does).
 * Without -p, resident_cpu_ms is 0.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 1000
#define MAXENV 16
#define MAXRES 64

static pid_t res_pid[MAXRES];	/* -p PID and its children */
static double res_t0[MAXRES];
static int nres;

struct run {
	pid_t pid;
	int rep;		/* report pipe, -1 at end of file */
	char head[256];		/* the start of the report */
	size_t headlen;
	long maxrss;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die(const char *what)
{
	perror(what);
	exit(111);
}

static void
child(int msg, int rep, const char *dir, char **env, char **argv)
{
	sigset_t set;

	if (dup2(msg, 0) == -1 || dup2(rep, 1) == -1 || dup2(rep, 2) == -1)
		_exit(120);
	close_range(3, ~0U, 0);	/* nothing else open, as from qmail-rspawn */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	umask(077);
	if (dir != NULL && chdir(dir) == -1)
		_exit(121);
	execve(argv[0], argv, env);
	_exit(122);
}

/* CPU time of a process, ms; -1 if it is gone */
static double
cpu_of(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;

	if (clock_getcpuclockid(pid, &clk) != 0 ||
	    clock_gettime(clk, &ts) == -1)
		return -1;
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The resident process PID and its children, and their CPU now. */
static void
resident_start(pid_t pid)
{
	char path[64];
	long child;
	FILE *f;

	res_pid[nres++] = pid;
	snprintf(path, sizeof path, "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		die(path);
	while (nres < MAXRES && fscanf(f, "%ld", &child) == 1)
		res_pid[nres++] = (pid_t)child;
	fclose(f);
	for (int i = 0; i < nres; i++)
		if ((res_t0[i] = cpu_of(res_pid[i])) < 0)
			die("clock_getcpuclockid");
}

/* The CPU they used since resident_start. */
static double
resident_used(void)
{
	double t, sum = 0;

	for (int i = 0; i < nres; i++)
		if ((t = cpu_of(res_pid[i])) >= 0)
			sum += t - res_t0[i];
	return sum;
}

/* A report is good when one of its records starts with K. */
static int
delivered(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->headlen; i++)
		if ((i == 0 || r->head[i - 1] == '\0') && r->head[i] == 'K')
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct run runs[MAXN];
	static char buf[65536], path[4096];
	char *env[MAXENV + 2];
	const char *dir = NULL, *report = NULL;
	struct pollfd pfd[MAXN];
	struct rusage ru;
	double t0, cpu = 0, rescpu = 0;
	pid_t resident = 0;
	long mainrss = 0, otherrss = 0;
	int n = 1, nenv = 0, open_pipes, i, j, c, st, ok = 0, msg, p[2];
	pid_t pid;
	ssize_t k;
	FILE *f;

	snprintf(path, sizeof path, "PATH=%s",
	    getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	env[nenv++] = path;
	while ((c = getopt(argc, argv, "+n:e:d:o:p:")) != -1) {
		switch (c) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'e':
			if (nenv == MAXENV)
				die("too many -e");
			env[nenv++] = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'o':
			report = optarg;
			break;
		case 'p':
			resident = (pid_t)atol(optarg);
			break;
		default:
			fprintf(stderr, "usage: launch [-n COUNT] [-e K=V]... "
			    "[-d DIR] [-o REPORT] [-p PID] MSGFILE PROG ARG...\n");
			return 111;
		}
	}
	env[nenv] = NULL;
	if (argc - optind < 2 || n < 1 || n > MAXN) {
		fprintf(stderr, "launch: bad arguments\n");
		return 111;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		die("prctl");

	if (resident > 0)
		resident_start(resident);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		msg = open(argv[optind], O_RDONLY | O_NONBLOCK);
		if (msg == -1)
			die(argv[optind]);
		if (pipe2(p, O_CLOEXEC) == -1)
			die("pipe");
		pid = fork();
		if (pid == -1)
			die("fork");
		if (pid == 0)
			child(msg, p[1], dir, env, argv + optind + 1);
		close(msg);
		close(p[1]);
		runs[i].pid = pid;
		runs[i].rep = p[0];
	}

	/* the reports, until every holder of every pipe has closed it */
	for (open_pipes = n; open_pipes > 0;) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = runs[i].rep;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, -1) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			k = read(runs[i].rep, buf, sizeof buf);
			if (k == -1 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(runs[i].rep);
				runs[i].rep = -1;
				open_pipes--;
				continue;
			}
			j = (int)(sizeof runs[i].head - runs[i].headlen);
			if (j > k)
				j = (int)k;
			memcpy(runs[i].head + runs[i].headlen, buf, (size_t)j);
			runs[i].headlen += (size_t)j;
		}
	}

	/* every descendant, ours or reparented to us */
	for (;;) {
		pid = wait4(-1, &st, 0, &ru);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		cpu += ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
		    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
		for (i = 0; i < n && runs[i].pid != pid; i++)
			;
		if (i < n) {
			runs[i].maxrss = ru.ru_maxrss;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
				runs[i].headlen = 0;	/* not delivered */
		} else
			otherrss += ru.ru_maxrss;

	}
	t0 = now_ms() - t0;
	if (resident > 0) {
		rescpu = resident_used();
		cpu += rescpu;
	}

	for (i = 0; i < n; i++) {
		mainrss += runs[i].maxrss;
		ok += delivered(&runs[i]);
	}
	if (report != NULL) {
		f = fopen(report, "w");
		if (f == NULL)
			die(report);
		fwrite(runs[0].head, 1, runs[0].headlen, f);
		fclose(f);
	}
	printf("%.3f %.3f %ld %ld %d %.3f\n", t0, cpu, mainrss, otherrss, ok,
	    rescpu);
	return 0;
}
