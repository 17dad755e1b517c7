/* t-sigcache.c -- what qmail-dkimd keeps, and when it hands it out */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qdkim.h"
#include "tap.h"

static const char sig[] = "DKIM-Signature: v=1; a=rsa-sha256; "
    "c=relaxed/relaxed; d=example.com; s=s; t=1000; bh=x; h=From; b=y\n";
static char dep[64];

/* a queue file's stat(2), changed since long before now */
static struct stat
queue_file(void)
{
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_dev = 1;
	st.st_ino = 42;
	st.st_size = 1234;
	st.st_nlink = 1;
	st.st_mtim.tv_sec = st.st_ctim.tv_sec = time(NULL) - 60;
	return st;
}

/* signs "st" for sender, noting dep, with signing begun at began */
static void
store(const struct stat *st, const char *sender, const char *sighdr,
    time_t began_sec)
{
	struct verdict v;
	struct timespec began = { .tv_sec = began_sec };

	memset(&v, 0, sizeof v);
	v.kind = VERDICT_SIGNED;
	v.sighdr = (char *)(uintptr_t)sighdr;
	v.siglen = strlen(sighdr);
	snprintf(v.text, sizeof v.text, "d=example.com s=s a=rsa-sha256");
	sigcache_begin();
	sigcache_note(dep);
	sigcache_store(st, 0, sender, &v, &began);
}

static int
found(const struct stat *st, off_t start, const char *sender)
{
	struct verdict v;
	int r;

	memset(&v, 0, sizeof v);
	r = sigcache_find(st, start, sender, &v);
	if (r == 1) {
		r = v.kind == VERDICT_SIGNED && v.siglen == strlen(sig) &&
		    memcmp(v.sighdr, sig, v.siglen) == 0 ? 1 : -1;
		free(v.sighdr);
	}
	return r;
}

int
main(void)
{
	struct stat st = queue_file(), other;
	struct timespec ts[2];
	struct verdict v;
	char tmpl[] = "/tmp/t-sigcache.XXXXXX";
	char home[] = "/tmp/t-sigcache-home.XXXXXX", ctl[64], dkimx[64];
	int fd2;
	time_t now;
	int fd;

	ok(found(&st, 0, "a@example.com") == 0, "no store yet: nothing found");
	ok(sigcache_init() == 0, "the shared store is made");
	/* a qmail home with one control file no reader notes */
	if (mkdtemp(home) == NULL)
		return 1;
	setenv("QMAILDKIM_HOME", home, 1);
	snprintf(ctl, sizeof ctl, "%s/control", home);
	snprintf(dkimx, sizeof dkimx, "%s/control/dkimx", home);
	if (mkdir(ctl, 0700) == -1 || (fd = creat(dkimx, 0600)) == -1)
		return 1;
	close(fd);
	fd = mkstemp(tmpl);
	snprintf(dep, sizeof dep, "%s", tmpl);
	if (fd == -1 || write(fd, "a\n", 2) != 2)
		return 1;
	/* nothing is kept that changed within 2 s of the signing's start */
	sleep(3);
	now = time(NULL);
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 1, "kept and found");
	memset(&v, 0, sizeof v);
	if (sigcache_find(&st, 0, "a@example.com", &v) == 1)
		free(v.sighdr);
	is_str(v.text, "d=example.com s=s a=rsa-sha256", "  with its log text");
	ok(found(&st, 0, "b@example.com") == 0, "another sender: not found");
	ok(found(&st, 1, "a@example.com") == 0, "another offset: not found");
	other = st;
	other.st_ino++;
	ok(found(&other, 0, "a@example.com") == 0, "another inode: not found");
	other = st;
	other.st_size++;
	ok(found(&other, 0, "a@example.com") == 0, "another size: not found");
	other = st;
	other.st_ctim.tv_nsec++;
	ok(found(&other, 0, "a@example.com") == 0, "another ctime: not found");
	other = st;
	other.st_mtim.tv_nsec++;
	ok(found(&other, 0, "a@example.com") == 0, "another mtime: not found");
	other = st;
	other.st_nlink = 0;
	ok(found(&other, 0, "a@example.com") == 0, "unlinked: not found");
	ok(found(&st, 0, "a@example.com") == 1, "still there for the same");
	fd2 = open(dkimx, O_WRONLY | O_APPEND);
	ok(fd2 != -1 && write(fd2, "x", 1) == 1 &&
	    found(&st, 0, "a@example.com") == 0,
	    "a control/dkim* file no one read changed: gone");
	close(fd2);
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 0,
	    "  and none is kept while it is that new");
	unlink(dkimx);
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 1, "  deleted: kept again, its absence noted");

	/* a file it was read from changes */
	if (write(fd, "b", 1) != 1)
		return 1;
	ok(found(&st, 0, "a@example.com") == 0, "a noted file changed: gone");
	ok(found(&st, 0, "a@example.com") == 0, "  and stays gone");
	unlink(tmpl);
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 1, "noted as absent: kept");
	fd = open(tmpl, O_WRONLY | O_CREAT, 0600);
	ok(found(&st, 0, "a@example.com") == 0, "  then it appears: gone");

	/* the settling rule: nothing changed within CACHE_SETTLE seconds
	 * of the signing's start is kept */
	unlink(tmpl);
	st.st_ctim.tv_sec = now - 1;
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 0,
	    "the queue file changed as signing began: not kept");
	st = queue_file();
	close(fd);
	fd = open(tmpl, O_WRONLY | O_CREAT, 0600);
	ts[0].tv_sec = ts[1].tv_sec = now - 60;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);	/* an old mtime; the ctime is now */
	store(&st, "a@example.com", sig, now);
	ok(found(&st, 0, "a@example.com") == 0,
	    "a noted file changed as signing began: not kept");

	/* x= bounds the age: an eighth of x= - t= at most */
	close(fd);
	unlink(tmpl);
	store(&st, "a@example.com", "DKIM-Signature: v=1; t=1000; x=1800; "
	    "b=y\n", now);
	memset(&v, 0, sizeof v);
	ok(sigcache_find(&st, 0, "a@example.com", &v) == 1,
	    "x= - t= of 800 s: kept (100 s)");
	free(v.sighdr);
	store(&st, "a@example.com", "DKIM-Signature: v=1; t=1000; x=1004; "
	    "b=y\n", now);
	ok(found(&st, 0, "a@example.com") == 0, "x= - t= under 8 s: not kept");
	rmdir(ctl);
	rmdir(home);
	return done();
}
