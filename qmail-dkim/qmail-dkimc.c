/*
 * qmail-dkimc -- qmail-dkim's quick front: qmail-dkimd signs, this hands on.
 *
 * Installed as qmail-remote in qmail-dkim's place on a host that runs
 * qmail-dkimd.  Every delivery of a qmail-remote stand-in pays for
 * starting a process; qmail-dkim also pays, each time, for loading
 * OpenSSL, decoding the key and setting up RSA (bench/PROFILE.md).
 * qmail-dkimc links none of that: it passes the queue file to
 * qmail-dkimd, which is warm, gets the DKIM-Signature fields back and
 * execs the real qmail-remote exactly as qmail-dkim does.
 *
 * Whenever the daemon cannot give an answer (not configured, not
 * running, slow, or the message is a pipe or large), it execs qmail-dkim
 * with the same argv and fd 0 untouched: the message is signed all the
 * same, only slower.  Its results are qmail-dkim's: handed on signed or
 * unchanged, or one Z record and exit 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"

/* Set when we exec qmail-dkim: seeing it means bin/qmail-dkim is us. */
#define FELL_BACK "QMAILDKIMC_FELL_BACK"

/*
 * control/dkimdmaxsize: larger messages go to qmail-dkim: start-up is
 * then a small part of the cost, and a daemon worker is not held by one
 * long body.
 */
#define DAEMON_MSG_MAX (1024 * 1024)
#define DAEMON_MSG_LIMIT (1024L * 1024 * 1024)
/*
 * control/dkimdtimeout: how long each step (connecting, sending, the
 * answer) may take before the message is signed here.  A warm worker
 * answers for a small message in about 0.6 ms (bench/PROFILE.md), and
 * hashing 1 MiB adds milliseconds, not seconds; even a queue of
 * concurrencyremote deliveries ahead on a few workers is well under a
 * second.  Longer means a daemon that accepts and never answers, whose
 * wait every delivery pays before qmail-dkim signs it: 2 s bounds that
 * and leaves a loaded host room.
 */
#define DAEMON_SECONDS 2
#define DAEMON_SECONDS_LIMIT 300

/* The Z record; the log line is the caller's (or the daemon's). */
static void __attribute__((noreturn))
defer(const char *text)
{
	char buf[sizeof why + 64];

	snprintf(buf, sizeof buf, "qmail-dkim: %s. (#4.3.0)", text);
	_exit(report_temp(buf) == -1 ? 111 : 0);
}

static void __attribute__((noreturn))
temp(const char *text)
{
	log_line("deferred: %s", text);
	defer(text);
}

/* qmail-dkim, in the same bin/ as the real qmail-remote */
static const char *
signer(void)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/bin/qmail-dkim", control_home());
	return path;
}

static void __attribute__((noreturn))
sign_here(char **argv)
{
	const char *path = signer();

	if (setenv(FELL_BACK, "1", 1) == -1) {
		why_sys("cannot set the environment for %s", path);
		temp(why);
	}
	execv(path, argv);
	why_sys("cannot run %s", path);
	temp(why);
}

/* The daemon's socket from control/dkimsocket: 1 found, 0 not there. */
static int
daemon_socket(char *buf, size_t size)
{
	char path[512];

	snprintf(path, sizeof path, "%s/control/dkimsocket", control_home());
	return control_readline(path, buf, size) == 1 && *buf == '/';
}

/*
 * A number from control/NAME, min to max: the default when the file is
 * absent.  A tuning file never defers a message: one that cannot be
 * read or holds no such number gives the default too, and a note in
 * the log for each delivery until it is put right.
 */
static long
tuning(const char *name, long dflt, long min, long max)
{
	char path[512], v[32], *end;
	long n;
	int r;

	snprintf(path, sizeof path, "%s/control/%s", control_home(), name);
	r = control_readline(path, v, sizeof v);
	if (r == 0)
		return dflt;
	if (r == 1) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (v[0] >= '0' && v[0] <= '9' && *end == '\0' &&
		    errno == 0 && n >= min && n <= max)
			return n;
		why_set("%s: give a number from %ld to %ld", path, min, max);
	}
	log_line("%s; using %ld", why, dflt);
	return dflt;
}

/*
 * The daemon's verdict on the message on fd 0: 1 answered, 0 it is for
 * qmail-dkim (a note in the log says why when something went wrong).
 */
static int
ask_daemon(const char *sender, struct msg *m, struct verdict *v)
{
	char sock[256];
	struct stat st;
	int s, r;

	if (!daemon_socket(sock, sizeof sock))
		return 0;
	if (fstat(0, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > tuning("dkimdmaxsize", DAEMON_MSG_MAX, 1,
	    DAEMON_MSG_LIMIT))
		return 0;
	if (msg_open(m, 0) != 1)
		return 0;	/* empty: qmail-dkim says so */
	s = wire_connect(sock, (int)tuning("dkimdtimeout", DAEMON_SECONDS, 1,
	    DAEMON_SECONDS_LIMIT));
	if (s == -1) {
		log_line("signing here: %s", why);
		return 0;
	}
	r = wire_ask(s, 0, sender);
	if (r == 0)
		r = wire_answer(s, v);
	close(s);
	if (r != 0) {
		log_line("signing here: %s", why);
		return 0;
	}
	/* signed over the CR-free form: hand that form on (qmail-dkim(8)) */
	m->norm.any_cr = v->any_cr;
	return 1;
}

int
main(int argc, char **argv)
{
	const char *real;
	struct msg m;
	struct verdict v;

	handoff_guard();
	if (handoff_looped())
		temp("the real qmail-remote is qmail-dkimc itself; "
		    "see qmail-dkim-install(8)");
	if (getenv(FELL_BACK) != NULL)
		temp("bin/qmail-dkim is qmail-dkimc itself; "
		    "see qmail-dkimd(8)");
	real = handoff_real();
	if (argc < 4 || access(real, X_OK) == -1 ||
	    !ask_daemon(argv[2], &m, &v))
		sign_here(argv);

	/* qmail-dkimd has logged the verdict, after answering */
	switch (v.kind) {
	case VERDICT_SIGNED:
		handoff_signed(real, argv, &m, v.sighdr, v.siglen);
		temp(why);
	case VERDICT_UNSIGNED:
		handoff_plain(real, argv);
		temp(why);
	default:
		defer(v.text);
	}
}
