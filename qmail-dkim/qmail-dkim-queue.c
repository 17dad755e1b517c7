/*
 * qmail-dkim-queue -- sign one's own mail at queue time, without root.
 *
 * A customer of a shared host cannot replace qmail-remote, but netqmail
 * and notqmail let whoever injects mail name the program that queues it
 * (QMAILQUEUE, qmail-queue(8)).  qmail-dkim-queue is such a program: it
 * runs as the user, takes the message on fd 0 and leaves the envelope on
 * fd 1 unread, signs with the user's own key (~/.qmail-dkim/DOMAIN/, the
 * layout of control/domainkeys) through the same engine as qmail-dkim,
 * and execs the real qmail-queue.
 *
 * qmail-queue answers with its exit status alone, so there is one way
 * out: become the real qmail-queue, with the message signed or byte for
 * byte as it came.  A message that cannot be signed goes on unsigned.
 * Only when the message itself cannot be read or kept, or the real
 * qmail-queue cannot be run, does it exit with one of qmail-queue's own
 * temporary codes.  Nothing runs beside the real qmail-queue: the message
 * is handed on in an unlinked temporary file, never through a pipe whose
 * writer could die and leave a cut message to be queued.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"

/* Set in the real qmail-queue's environment: seeing it means a loop. */
#define QUEUED "QMAILDKIM_QUEUED"

/* qmail-queue(8): the temporary failures that are ours to report too */
#define QQ_NOMEM 51
#define QQ_WRITE 53	/* cannot keep the message: disk full */
#define QQ_READ 54	/* cannot read the message */
#define QQ_BUG 81	/* no real qmail-queue to run */

static char real[512];		/* the real qmail-queue */
static char *home;		/* QMAILDKIM_HOME as we were given it */
static struct sigaction xfsz;	/* SIGXFSZ as we were given it */

static void __attribute__((noreturn))
die(int code, const char *text)
{
	log_line("qmail-dkim-queue: uid %u: not queued: %s",
	    (unsigned)getuid(), text);
	_exit(code);
}

/* Becomes the real qmail-queue with fd 0 as it is now. */
static void __attribute__((noreturn))
queue(const char *verdict, const char *text)
{
	char *args[2] = { real, NULL };

	log_line("qmail-dkim-queue: uid %u: %s: %s", (unsigned)getuid(),
	    verdict, text);
	sigaction(SIGXFSZ, &xfsz, NULL);
	if ((home != NULL ? setenv("QMAILDKIM_HOME", home, 1) :
	    unsetenv("QMAILDKIM_HOME")) == -1 ||
	    setenv(QUEUED, "1", 1) == -1)
		die(QQ_BUG, "cannot set the environment for qmail-queue");
	execv(real, args);
	why_sys("cannot run %s", real);
	die(QQ_BUG, why);
}

/* QMAILDKIM_QUEUE, or bin/qmail-queue in the qmail home. */
static void
find_real(void)
{
	const char *q = getenv("QMAILDKIM_QUEUE");

	if (q != NULL && *q != '\0')
		snprintf(real, sizeof real, "%s", q);
	else
		snprintf(real, sizeof real, "%s/bin/qmail-queue",
		    control_home());
}

/* Would the real qmail-queue be this very program? */
static int
looped(void)
{
	struct stat a, b;

	if (getenv(QUEUED) != NULL)
		return 1;
	return stat(real, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* QMAILDKIM_KEYS, or .qmail-dkim in the user's home; NULL, why says. */
static const char *
key_dir(void)
{
	static char path[256];
	const char *k = getenv("QMAILDKIM_KEYS"), *h = getenv("HOME");
	struct passwd *pw;
	int n;

	if (k != NULL && *k != '\0') {
		if (*k != '/') {
			why_set("QMAILDKIM_KEYS is not an absolute path");
			return NULL;
		}
		n = snprintf(path, sizeof path, "%s", k);
	} else {
		if (h == NULL || *h != '/') {
			pw = getpwuid(getuid());
			if (pw == NULL || pw->pw_dir[0] != '/') {
				why_set("no home directory for uid %u",
				    (unsigned)getuid());
				return NULL;
			}
			h = pw->pw_dir;
		}
		n = snprintf(path, sizeof path, "%s/.qmail-dkim", h);
	}
	if (n < 0 || (size_t)n >= sizeof path) {
		why_set("the key directory's path is too long");
		return NULL;
	}
	return path;
}

/* A pipe on fd 0 becomes a temporary file on fd 0, at offset 0. */
static void
spool(void)
{
	struct stat st;
	int fd, r;

	if (fstat(0, &st) == -1 || S_ISREG(st.st_mode))
		return;		/* qmail-queue sees to it, or needs none */
	fd = spool_file();
	if (fd == -1) {
		why_sys("cannot create a temporary file for the message");
		queue("not signed", why);	/* nothing read yet */
	}
	r = spool_copy(0, fd);
	if (r == -1)
		die(QQ_READ, why);
	if (r == -2)
		die(QQ_WRITE, why);
	if (dup2(fd, 0) == -1 || lseek(0, 0, SEEK_SET) == -1) {
		why_sys("cannot put the spooled message on fd 0");
		die(QQ_READ, why);
	}
	close(fd);
}

/* The signature fields, then the message, CR-free if it had CRs. */
static int
write_signed(int out, const struct msg *m, const struct verdict *v)
{
	static char buf[CHUNK];
	struct norm norm = { 0 };
	off_t pos = m->start, end = m->start + m->size;
	ssize_t n;
	size_t len;

	if (io_write(out, v->sighdr, v->siglen) == -1)
		goto fail;
	while (pos < end) {
		n = io_pread(m->fd, buf, end - pos < CHUNK ?
		    (size_t)(end - pos) : CHUNK, pos);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file got shorter */
			goto fail;
		}
		pos += n;
		len = v->any_cr ? norm_lf(&norm, buf, (size_t)n) : (size_t)n;
		if (io_write(out, buf, len) == -1)
			goto fail;
	}
	if (lseek(out, 0, SEEK_SET) == -1)
		goto fail;
	return 0;
fail:
	why_sys("cannot write the signed message to a temporary file");
	return -1;
}

static void __attribute__((noreturn))
pass(struct msg *m, const char *reason)
{
	if (msg_rewind(m) == -1)
		die(QQ_READ, why);
	queue("not signed", reason);
}

int
main(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct verdict v;
	struct stat st;
	struct link me;
	struct msg m;
	const char *keys;
	int out;

	/* a file-size limit makes a write fail (EFBIG), not kill us */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGXFSZ, &ign, &xfsz);
	find_real();
	if (looped())
		die(QQ_BUG, "the real qmail-queue would be qmail-dkim-queue "
		    "itself; see QMAILDKIM_QUEUE in qmail-dkim-queue(8)");
	home = getenv("QMAILDKIM_HOME");
	if (home != NULL && (home = strdup(home)) == NULL)
		die(QQ_NOMEM, "out of memory");
	keys = key_dir();
	if (keys == NULL)
		queue("not signed", why);
	if (stat(keys, &st) == -1 && errno == ENOENT)
		queue("not signed", "no key directory");

	spool();
	switch (msg_open(&m, 0)) {
	case -1:
		queue("not signed", why);	/* not read: fd 0 as it came */
	case 0:
		pass(&m, "empty message");
	}
	/* the policy files are the key directory's: control/dkimcanon... */
	keys_root(keys);
	if (setenv("QMAILDKIM_HOME", keys, 1) == -1)
		pass(&m, "cannot set the environment");
	/* the caller is the first link; a forward's chain below narrows */
	me.injector = INJ_UID;
	me.uid = getuid();
	rights_given(&me);
	/* the envelope is qmail-queue's to read: no sender, From: alone */
	if (engine_sign(&m, "-", &v) != VERDICT_SIGNED)
		pass(&m, v.text);
	out = spool_file();
	if (out == -1) {
		why_sys("cannot create a temporary file for the message");
		pass(&m, why);
	}
	if (write_signed(out, &m, &v) == -1)
		pass(&m, why);
	if (dup2(out, 0) == -1) {
		why_sys("cannot put the signed message on fd 0");
		pass(&m, why);
	}
	queue("signed", v.text);
}
