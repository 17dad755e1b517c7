/*
 * relay.c -- qmail-remote's report, with the DKIM outcome in it.
 *
 * qmail-send's log is where a qmail admin looks: "delivery 12: success:
 * 1.2.3.4_accepted_message./Remote_host_said:_250_ok/" is the text of
 * qmail-remote's K, Z or D record, with spaces made _ and newlines /
 * (qmail-send.c, qsutil.c logsafe).  Our syslog line is lost where no
 * syslog daemon runs.  So, when control/dkimreport asks for it, the real
 * qmail-remote runs as our child, its fds 1 and 2 a pipe to us, and we
 * copy its report to qmail-rspawn byte for byte, but for a short note
 * (" DKIM signed d=example.com s=s1,e1") put into the text of its first
 * K, Z or D record, before the newline that ends it.  The r, h and s
 * records, the status code and the NUL stay as they were.  qmail-rspawn
 * shows the first record's text and the message record's (qmail-rspawn.c
 * report()), so the note reaches the log line.
 *
 * Then we end as the child ended: its exit status, or death by its
 * signal, so that qmail-rspawn judges the delivery as it would judge the
 * real one alone.  Killed ourselves, qmail-rspawn sees "qmail-remote
 * crashed" and qmail-send retries: a deferral, never a lost message.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qdkim.h"

/* Until the measured cost and risk say otherwise (qmail-dkim(8)). */
#define REPORT_DEFAULT 1

extern char **environ;

/* control/dkimreport: 1 the note goes into the report, 0 it does not. */
static int
wanted(void)
{
	static const char *const words[] = { "0", "1", NULL };
	int r = control_choice("dkimreport", words, REPORT_DEFAULT);

	if (r != -1)
		return r;
	/* a switch for the log never defers mail */
	log_line("%s; using %d", why, REPORT_DEFAULT);
	return REPORT_DEFAULT;
}

/*
 * "d=example.com s=s1 a=rsa-sha256 s=e1 a=ed25519-sha256; h= ..."
 * (engine.c) becomes " DKIM signed d=example.com s=s1,e1".
 */
static void
signed_note(char *buf, size_t size, const char *text)
{
	char word[256];
	const char *p = text;
	size_t n, len, sels = 0;

	n = (size_t)snprintf(buf, size, " DKIM signed");
	while (*p != '\0' && *p != ';' && n < size) {
		len = strcspn(p, " ;");
		if (len > 0 && len < sizeof word) {
			memcpy(word, p, len);
			word[len] = '\0';
			if (strncmp(word, "d=", 2) == 0)
				n += (size_t)snprintf(buf + n, size - n, " %s",
				    word);
			else if (strncmp(word, "s=", 2) == 0)
				n += (size_t)snprintf(buf + n, size - n, "%s%s",
				    sels++ ? "," : " s=", word + 2);
		}
		p += len;
		while (*p == ' ')
			p++;
	}
}

const char *
relay_note(int kind, const char *text)
{
	static char note[RELAY_NOTE_MAX];
	char *p;

	if (!wanted())
		return NULL;
	if (kind == VERDICT_SIGNED)
		signed_note(note, sizeof note, text);
	else
		snprintf(note, sizeof note, " DKIM not signed: %s", text);
	/* one line of text in one record: no NUL, no control byte */
	for (p = note; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
			*p = '?';
	return note;
}

void
relay_start(struct relay *r, const char *note)
{
	memset(r, 0, sizeof *r);
	r->note = note;
	r->start = 1;
}

/*
 * Copies len bytes of the report to out, which has room for len + 1 +
 * RELAY_NOTE_MAX bytes, and returns how many it put there.  In the
 * message record a newline is held back until the next byte shows
 * whether it ends the record.  len 0 is the end of the report: a newline
 * still held goes out as it came.
 */
size_t
relay_filter(struct relay *r, const char *in, size_t len, char *out)
{
	size_t i, n = 0, k;
	int nl;
	char c;

	if (len == 0 && r->held) {
		out[n++] = '\n';
		r->held = 0;
	}
	for (i = 0; i < len; i++) {
		c = in[i];
		nl = r->held;
		r->held = 0;
		if (nl && c != '\0')
			out[n++] = '\n';
		if (r->start) {
			r->start = c == '\0';
			if (!r->done && (c == 'K' || c == 'Z' || c == 'D'))
				r->final = 1;
			out[n++] = c;
			continue;
		}
		if (r->final && c == '\n') {
			r->held = 1;
			continue;
		}
		if (r->final && c == '\0') {
			k = strlen(r->note);
			memcpy(out + n, r->note, k);
			n += k;
			if (nl)
				out[n++] = '\n';
			r->final = 0;
			r->done = 1;
		}
		if (c == '\0')
			r->start = 1;
		out[n++] = c;
	}
	return n;
}

/* Ends as the child ended: its exit status, or its signal. */
static void __attribute__((noreturn))
end_as(int status)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct rlimit rl;
	sigset_t set;
	int sig;

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	sig = WTERMSIG(status);
	/* its core file, if it left one, is the one to read, not ours */
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		rl.rlim_cur = 0;
		(void)setrlimit(RLIMIT_CORE, &rl);
	} else {
		/* the C library asks prlimit64, which kernels before
		 * 2.6.36 lack: no core at all then (prctl(2)) */
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	}
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)kill(getpid(), sig);
	_exit(111);	/* a signal that does not kill: still a deferral */
}

/* The report, from the pipe to fd 1, with the note in it. */
static void
copy(int from, const char *note)
{
	static char in[4096], out[sizeof in + 1 + RELAY_NOTE_MAX];
	struct relay r;
	ssize_t got;
	size_t n;

	relay_start(&r, note);
	for (;;) {
		do
			got = read(from, in, sizeof in);
		while (got == -1 && errno == EINTR);
		if (got == -1)
			got = 0;	/* not from a pipe; an end all the same */
		n = relay_filter(&r, in, (size_t)got, out);
		/* qmail-rspawn gone: nobody reads; the child sees EPIPE */
		if (io_write(1, out, n) == -1 || got == 0)
			return;
	}
}

/*
 * Returns when it cannot start the child (no process or descriptor to
 * be had): the caller then execs the real one itself, without the note,
 * rather than defer a message for the sake of a log line.
 */
void
relay_run(const char *real, char **argv, const char *note)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	posix_spawn_file_actions_t fa;
	int p[2], e, status;
	pid_t pid, w;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_line("no DKIM note in the report: cannot make a pipe: %s",
		    strerror(errno));
		return;
	}
	/* with SIGCHLD ignored, the kernel would reap it: no status */
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	e = posix_spawn_file_actions_init(&fa);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (e == 0)
		e = posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	if (e == 0)
		e = posix_spawn(&pid, real, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e != 0) {
		close(p[0]);
		sigaction(SIGCHLD, &old, NULL);
		log_line("no DKIM note in the report: cannot run %s: %s",
		    real, strerror(e));
		return;
	}
	/*
	 * The message is the child's alone: a writer feeding a socket on
	 * fd 0 must see EPIPE when the child stops reading.  Nothing of
	 * ours goes to fd 2.
	 */
	close(0);
	close(2);
	copy(p[0], note);
	close(p[0]);
	do
		w = waitpid(pid, &status, 0);
	while (w == -1 && errno == EINTR);
	if (w == -1)
		_exit(111);
	end_as(status);
}
