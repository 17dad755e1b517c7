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
 * The store is one piece of shared memory that qmail-dkimd makes before
 * it starts its workers (sigcache_init), CACHE_BYTES in slots of SLOT
 * bytes, the least recently used reused first, behind a robust
 * process-shared mutex: a worker killed while it holds it leaves the
 * store emptied, not half written.  So that concurrent deliveries of one
 * file are signed once, not once by each worker, the worker that signs
 * a settled queue file holds flock(2) on it meanwhile (sigcache_claim),
 * and the others wait for it, then find its signatures.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "qdkim.h"

#define CACHE_BYTES (4 * 1024 * 1024)
#define SLOT 8192
#define SLOTS (CACHE_BYTES / SLOT)
#define CACHE_SETTLE 2		/* seconds */
#define CACHE_AGE 3600		/* seconds */
#define CLAIM_WAIT_MS 10000	/* then sign without the claim */
#define DEPS_MAX 64
#define SENDER_MAX 1024

/* what a file's stat(2) says, or that there is none */
struct seen {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	size_t path;		/* offset of its path in the slot's data */
	int found;
	mode_t mode;
};

struct slot {
	unsigned long long last;	/* for LRU; 0: empty */
	dev_t dev;
	ino_t ino;
	off_t size, start;
	struct timespec mtime, ctime;
	time_t made, ttl;
	size_t siglen, sigoff, ndeps;
	int kind, any_cr;
	char text[512];
	char sender[SENDER_MAX];
	/* ndeps struct seen, their paths, then the fields */
	_Alignas(16) char data[SLOT - 2048 - 256];
};

struct store {
	pthread_mutex_t lock;
	unsigned long long clock;
	struct slot slot[SLOTS];
};

static struct store *store;

/* the files noted for the message being signed, in this worker */
struct dep {
	char *path;
	struct seen s;
};
static int recording;
static struct dep deps[DEPS_MAX];
static size_t ndeps;
static int too_many;

/* the accounts rights.c resolves names with (getpwnam, getgrnam) */
static const char *const userdb[] = { "/etc/passwd", "/etc/group", NULL };

/* -1 when there is no store to be had: then nothing is kept. */
int
sigcache_init(void)
{
	pthread_mutexattr_t a;
	void *p;

	p = mmap(NULL, sizeof *store, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	if (pthread_mutexattr_init(&a) != 0 ||
	    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&((struct store *)p)->lock, &a) != 0) {
		munmap(p, sizeof *store);
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	store = p;
	return 0;
}

static int
lock(void)
{
	int r = pthread_mutex_lock(&store->lock);

	if (r == EOWNERDEAD) {
		/* its holder died: what it was writing cannot be trusted */
		memset(store->slot, 0, sizeof store->slot);
		r = pthread_mutex_consistent(&store->lock);
	}
	return r == 0 ? 0 : -1;
}

static void
unlock(void)
{
	pthread_mutex_unlock(&store->lock);
}

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
	look(path, &deps[ndeps].s);
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
	recording = 0;
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

static int
same_file(const struct slot *e, const struct stat *st, off_t start,
    const char *sender)
{
	return e->last != 0 && e->dev == st->st_dev && e->ino == st->st_ino &&
	    e->size == st->st_size && e->start == start &&
	    ts_eq(e->mtime, st->st_mtim) && ts_eq(e->ctime, st->st_ctim) &&
	    strcmp(e->sender, sender) == 0;
}

/* Whether everything the slot was made from is as it was; store locked. */
static int
still_true(const struct slot *e, time_t t)
{
	const struct seen *s = (const struct seen *)e->data;
	struct seen now;
	size_t j;

	if (t < e->made || t - e->made > e->ttl)
		return 0;
	for (j = 0; j < e->ndeps; j++) {
		look(e->data + s[j].path, &now);
		if (!seen_same(&s[j], &now))
			return 0;
	}
	return 1;
}

/*
 * 1 and the stored verdict in v (sighdr a copy of its own) when this
 * delivery may have it; 0 when it must be signed.
 */
int
sigcache_find(const struct stat *st, off_t start, const char *sender,
    struct verdict *v)
{
	struct slot *e;
	time_t t = time(NULL);
	size_t i;
	int r = 0;

	if (store == NULL || st->st_nlink == 0 || lock() == -1)
		return 0;
	for (i = 0; i < SLOTS; i++) {
		e = &store->slot[i];
		if (!same_file(e, st, start, sender))
			continue;
		if (!still_true(e, t)) {
			e->last = 0;
			break;
		}
		memset(v, 0, sizeof *v);
		v->sighdr = malloc(e->siglen);
		if (v->sighdr == NULL)
			break;
		memcpy(v->sighdr, e->data + e->sigoff, e->siglen);
		v->siglen = e->siglen;
		v->kind = e->kind;
		v->any_cr = e->any_cr;
		memcpy(v->text, e->text, sizeof v->text);
		e->last = ++store->clock;
		r = 1;
		break;
	}
	unlock();
	return r;
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

static int
settled(struct timespec ctime, const struct timespec *began)
{
	return ctime.tv_sec < began->tv_sec - CACHE_SETTLE;
}

/*
 * Before signing a queue file whose signatures would be kept: flock(2)
 * on it, waiting while another worker holds it (it is signing the same
 * file, and will have kept its signatures when it lets go).  1 held:
 * sigcache_release after sigcache_store; 0 not held.
 */
int
sigcache_claim(int fd, const struct stat *st, const struct timespec *began)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	if (store == NULL || st->st_nlink == 0 || !settled(st->st_ctim, began))
		return 0;
	for (i = 0; i < CLAIM_WAIT_MS; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 1;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return 0;
		nanosleep(&ms, NULL);
	}
	return 0;
}

void
sigcache_release(int fd)
{
	flock(fd, LOCK_UN);
}

/* the least recently used slot, emptied; store locked */
static struct slot *
slot_free(void)
{
	struct slot *old = &store->slot[0];
	size_t i;

	for (i = 0; i < SLOTS; i++) {
		if (store->slot[i].last == 0)
			return &store->slot[i];
		if (store->slot[i].last < old->last)
			old = &store->slot[i];
	}
	old->last = 0;
	return old;
}

/* Writes the entry into e (empty); 0 when it does not fit. */
static int
fill(struct slot *e, const struct stat *st, off_t start, const char *sender,
    const struct verdict *v, time_t made, time_t ttl)
{
	struct seen *s = (struct seen *)e->data;
	size_t i, n, off = ndeps * sizeof *s;

	if (off > sizeof e->data)
		return 0;
	for (i = 0; i < ndeps; i++) {
		n = strlen(deps[i].path) + 1;
		if (n > sizeof e->data - off)
			return 0;
		s[i] = deps[i].s;
		s[i].path = off;
		memcpy(e->data + off, deps[i].path, n);
		off += n;
	}
	if (v->siglen > sizeof e->data - off)
		return 0;
	memcpy(e->data + off, v->sighdr, v->siglen);
	e->sigoff = off;
	e->siglen = v->siglen;
	e->ndeps = ndeps;
	e->kind = v->kind;
	e->any_cr = v->any_cr;
	memcpy(e->text, v->text, sizeof e->text);
	snprintf(e->sender, sizeof e->sender, "%s", sender);
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->start = start;
	e->mtime = st->st_mtim;
	e->ctime = st->st_ctim;
	e->made = made;
	e->ttl = ttl;
	return 1;
}

/*
 * Keeps a signed verdict made from st (fstat before the message was read)
 * with the files noted since sigcache_begin; began is when that was.
 */
void
sigcache_store(const struct stat *st, off_t start, const char *sender,
    const struct verdict *v, const struct timespec *began)
{
	struct slot *e;
	time_t ttl = 0;
	size_t i;
	int keep;

	keep = store != NULL && v->kind == VERDICT_SIGNED && !too_many &&
	    st->st_nlink > 0 && settled(st->st_ctim, began) &&
	    strlen(sender) < SENDER_MAX;
	for (i = 0; keep && i < ndeps; i++)
		if (deps[i].s.found && !settled(deps[i].s.ctime, began))
			keep = 0;
	if (keep) {
		ttl = lifetime(v->sighdr, v->siglen);
		keep = ttl == 0 || ttl / 8 >= 1;
		ttl = ttl > 0 && ttl / 8 < CACHE_AGE ? ttl / 8 : CACHE_AGE;
	}
	if (store != NULL && lock() == 0) {
		for (i = 0; i < SLOTS; i++)	/* this one's is out of date */
			if (same_file(&store->slot[i], st, start, sender))
				store->slot[i].last = 0;
		if (keep) {
			e = slot_free();
			if (fill(e, st, start, sender, v, began->tv_sec, ttl))
				e->last = ++store->clock;
		}
		unlock();
	}
	deps_clear();
}
