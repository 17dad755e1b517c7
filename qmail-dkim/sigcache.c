/*
 * sigcache.c -- the DKIM-Signature fields qmail-dkimd made for a queue
 * file, handed to the next delivery of the same file.
 *
 * qmail-send runs qmail-remote once per recipient, each time with the
 * same queue file on fd 0: a newsletter is the same bytes signed with the
 * same keys over and over.  RFC 6376 3.5 lets every copy carry the first
 * signing's t=.  A stored signature is handed out only while everything
 * that decided it is as it was:
 *
 *  - the message: the queue file's device, inode, size, mtime and ctime
 *    (qmail never rewrites a queue file; whoever does changes its ctime,
 *    which no one can set back), the offset it is read from, and a link
 *    to it (an unlinked spool file's inode is soon another's);
 *  - the envelope sender (the envelope domain, bounces, dkimsenders);
 *  - every file the verdict was read from, found or not: each control
 *    file (control.c notes them all), the key directories and keys
 *    (keys.c), control/dkimrights (rights.c), and the user database the
 *    rights are resolved with; and every control/dkim* file, read or
 *    not; each by device, inode, size, mode, mtime and ctime;
 *  - the time: not older than an hour, nor than an eighth of x= - t=.
 *
 * A file changed in the same clock tick as it was read would keep its
 * times (file systems keep them in ticks of up to a second, or two):
 * nothing is stored unless the queue file and every file read had not
 * changed for CACHE_SETTLE seconds before signing began.
 *
 * Bounded: CACHE_BYTES in all, least recently used out first.  Only
 * qmail-dkimd keeps one; each worker its own.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qdkim.h"

#define CACHE_BYTES (4 * 1024 * 1024)
#define CACHE_ENTRIES 1024
#define CACHE_SETTLE 2		/* seconds */
#define CACHE_AGE 3600		/* seconds */
#define DEPS_MAX 64

/* what a file's stat(2) says, or that there is none */
struct seen {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int found;
	mode_t mode;
};

struct entry {
	int used;
	unsigned long long last;	/* for LRU */
	dev_t dev;
	ino_t ino;
	off_t size, start;
	struct timespec mtime, ctime;
	char *sender;
	time_t made, ttl;
	struct seen *deps;
	size_t ndeps, bytes;
	struct verdict v;	/* kind, text, sighdr, siglen, any_cr */
};

static struct entry cache[CACHE_ENTRIES];
static size_t total;
static unsigned long long clock_use;

static int recording;
static struct seen deps[DEPS_MAX];
static size_t ndeps;
static int too_many;

/* the accounts rights.c resolves names with (getpwnam, getgrnam) */
static const char *const userdb[] = { "/etc/passwd", "/etc/group", NULL };

static void
look(const char *path, struct seen *s)
{
	struct stat st;

	memset(s, 0, sizeof *s);
	if (stat(path, &st) == -1)
		return;
	s->found = 1;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mode = st.st_mode;
	s->mtime = st.st_mtim;
	s->ctime = st.st_ctim;
}

static int
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static int
seen_same(const struct seen *a, const struct seen *b)
{
	if (a->found != b->found)
		return 0;
	return !a->found || (a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mode == b->mode &&
	    ts_eq(a->mtime, b->mtime) && ts_eq(a->ctime, b->ctime));
}

/* Called by whoever reads a file the verdict depends on, before reading. */
void
sigcache_note(const char *path)
{
	size_t i;

	if (!recording)
		return;
	for (i = 0; i < ndeps; i++)
		if (strcmp(deps[i].path, path) == 0)
			return;
	if (ndeps == DEPS_MAX) {
		too_many = 1;
		return;
	}
	look(path, &deps[ndeps]);
	deps[ndeps].path = strdup(path);
	if (deps[ndeps].path == NULL) {
		too_many = 1;
		return;
	}
	ndeps++;
}

static void
deps_clear(void)
{
	size_t i;

	for (i = 0; i < ndeps; i++)
		free(deps[i].path);
	ndeps = 0;
	too_many = 0;
}

/*
 * Every control/dkim* file, read or not: one a reader does not note
 * (or a setting added later) still takes the kept verdicts with it when
 * it changes.
 */
static void
note_dkim_files(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof path, "%s/control", control_home());
	dir = opendir(path);
	if (dir == NULL) {
		too_many = 1;	/* nothing to go by: keep nothing */
		return;
	}
	while ((d = readdir(dir)) != NULL)
		if (strncmp(d->d_name, "dkim", 4) == 0 &&
		    (size_t)snprintf(path, sizeof path, "%s/control/%s",
		    control_home(), d->d_name) < sizeof path)
			sigcache_note(path);
	closedir(dir);
}

void
sigcache_begin(void)
{
	size_t i;

	deps_clear();
	recording = 1;
	for (i = 0; userdb[i] != NULL; i++)
		sigcache_note(userdb[i]);
	note_dkim_files();
}

static void
drop(struct entry *e)
{
	size_t i;

	for (i = 0; i < e->ndeps; i++)
		free(e->deps[i].path);
	free(e->deps);
	free(e->sender);
	free(e->v.sighdr);
	total -= e->bytes;
	memset(e, 0, sizeof *e);
}

static int
same_file(const struct entry *e, const struct stat *st, off_t start)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	    e->size == st->st_size && e->start == start &&
	    ts_eq(e->mtime, st->st_mtim) && ts_eq(e->ctime, st->st_ctim);
}

/*
 * 1 and the stored verdict in v (sighdr a copy of its own) when this
 * delivery may have it; 0 when it must be signed.
 */
int
sigcache_find(const struct stat *st, off_t start, const char *sender,
    struct verdict *v)
{
	struct seen now;
	struct entry *e;
	time_t t = time(NULL);
	size_t i, j;

	if (st->st_nlink == 0)
		return 0;
	for (i = 0; i < CACHE_ENTRIES; i++) {
		e = &cache[i];
		if (!e->used || !same_file(e, st, start) ||
		    strcmp(e->sender, sender) != 0)
			continue;
		if (t < e->made || t - e->made > e->ttl) {
			drop(e);
			return 0;
		}
		for (j = 0; j < e->ndeps; j++) {
			look(e->deps[j].path, &now);
			if (!seen_same(&e->deps[j], &now)) {
				drop(e);
				return 0;
			}
		}
		*v = e->v;
		v->sighdr = malloc(e->v.siglen);
		if (v->sighdr == NULL) {
			memset(v, 0, sizeof *v);
			return 0;
		}
		memcpy(v->sighdr, e->v.sighdr, e->v.siglen);
		e->last = ++clock_use;
		return 1;
	}
	return 0;
}

/* The number after tag (as "; t=") in the first signature, or -1. */
static long long
tag_number(const char *sig, size_t len, const char *tag)
{
	char buf[32], *end;
	const char *p;
	long long n;
	size_t k;

	p = memmem(sig, len, tag, strlen(tag));
	if (p == NULL)
		return -1;
	p += strlen(tag);
	k = len - (size_t)(p - sig);
	k = k < sizeof buf - 1 ? k : sizeof buf - 1;
	memcpy(buf, p, k);
	buf[k] = '\0';
	errno = 0;
	n = strtoll(buf, &end, 10);
	return end == buf || errno != 0 || n < 0 ? -1 : n;
}

/* x= - t= of the first signature, 0 for none, -1 odd (RFC 6376 3.5). */
static time_t
lifetime(const char *sig, size_t len)
{
	long long t, x;

	if (memmem(sig, len, "; x=", 4) == NULL)
		return 0;
	t = tag_number(sig, len, "; t=");
	x = tag_number(sig, len, "; x=");
	return t == -1 || x <= t ? -1 : (time_t)(x - t);
}

/* the least recently used entry, or NULL when none is */
static struct entry *
lru(void)
{
	struct entry *old = NULL;
	size_t i;

	for (i = 0; i < CACHE_ENTRIES; i++)
		if (cache[i].used && (old == NULL || cache[i].last < old->last))
			old = &cache[i];
	return old;
}

/* an empty entry, the least recently used one if need be */
static struct entry *
slot(void)
{
	struct entry *e;
	size_t i;

	for (i = 0; i < CACHE_ENTRIES; i++)
		if (!cache[i].used)
			return &cache[i];
	e = lru();
	drop(e);
	return e;
}

static int
settled(struct timespec ctime, const struct timespec *began)
{
	return ctime.tv_sec < began->tv_sec - CACHE_SETTLE;
}

/*
 * Keeps a signed verdict made from st (fstat before the message was read)
 * with the files noted since sigcache_begin; began is when that was.
 */
void
sigcache_store(const struct stat *st, off_t start, const char *sender,
    const struct verdict *v, const struct timespec *began)
{
	struct entry *e;
	size_t i, bytes;
	time_t ttl;

	recording = 0;
	for (i = 0; i < CACHE_ENTRIES; i++)	/* this one's is out of date */
		if (cache[i].used && same_file(&cache[i], st, start) &&
		    strcmp(cache[i].sender, sender) == 0)
			drop(&cache[i]);
	if (v->kind != VERDICT_SIGNED || too_many || st->st_nlink == 0 ||
	    !settled(st->st_ctim, began))
		goto out;
	for (i = 0; i < ndeps; i++)
		if (deps[i].found && !settled(deps[i].ctime, began))
			goto out;
	ttl = lifetime(v->sighdr, v->siglen);
	if (ttl == -1 || (ttl > 0 && ttl / 8 < 1))
		goto out;
	ttl = ttl > 0 && ttl / 8 < CACHE_AGE ? ttl / 8 : CACHE_AGE;
	bytes = sizeof *e + v->siglen + strlen(sender) + 1 +
	    ndeps * sizeof *deps;
	for (i = 0; i < ndeps; i++)
		bytes += strlen(deps[i].path) + 1;
	if (bytes > CACHE_BYTES / 8)
		goto out;
	while (total + bytes > CACHE_BYTES && (e = lru()) != NULL)
		drop(e);
	e = slot();
	e->v = *v;
	e->v.sighdr = malloc(v->siglen);
	e->sender = strdup(sender);
	e->deps = malloc(ndeps * sizeof *deps);
	if (e->v.sighdr == NULL || e->sender == NULL || e->deps == NULL) {
		free(e->v.sighdr);
		free(e->sender);
		free(e->deps);
		memset(e, 0, sizeof *e);
		goto out;
	}
	memcpy(e->v.sighdr, v->sighdr, v->siglen);
	memcpy(e->deps, deps, ndeps * sizeof *deps);
	e->ndeps = ndeps;
	ndeps = 0;		/* the paths are the entry's now */
	e->used = 1;
	e->last = ++clock_use;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->start = start;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
	e->made = began->tv_sec;
	e->ttl = ttl;
	e->bytes = bytes;
	total += bytes;
out:
	deps_clear();
}
