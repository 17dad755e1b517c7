/*
 * rights.c -- which local user may have mail signed as which domain.
 *
 * Any local user writes any From: and, with sendmail -f, any envelope
 * sender, so neither says who sent the message.  What no local user can
 * forge is the first line of the queue file: qmail-queue writes it
 * before the message it is given, naming the real uid that ran it:
 *
 *	Received: (qmail PID invoked by uid N); DATE
 *	Received: (qmail PID invoked by alias); DATE	uid alias
 *	Received: (qmail PID invoked from network); DATE	qmail-smtpd
 *	Received: (qmail PID invoked for bounce); DATE	qmail-send
 *
 * Lookalike lines below it are the sender's own: only the very first
 * line counts.  A .qmail forward is queued by qmail-local running as the
 * user the .qmail file belongs to.
 *
 * control/dkimrights, when it exists, says who may sign as which d=:
 *
 *	# WHO: DOMAIN...
 *	alice: alice.example shop.alice.example
 *	1005: bob.example
 *	@webusers: example.net
 *	root: *
 *
 * WHO is a user name, a uid, or @group (its members and the users whose
 * primary group it is); a name that does not exist grants no one.  Each
 * DOMAIN is a d= exactly, or "*" any.  qmail-dkim-check and
 * qmail-dkim-keygen -a read the file alike.
 *
 * A uid may sign with the domains of its lines, of its name's and of its
 * groups'; alias as the user alias; mail from the network (qmail-smtpd: RELAYCLIENT and SMTP AUTH are the admin's gate)
 * only as the envelope sender's domain or a parent of it; qmail-send's
 * bounces only as the host's own domain (engine.c) or a parent of it;
 * a message without the line, nothing.  Without the file every injector
 * may use every key, as before the file existed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"

#define RIGHTS_MAX (4 * 1024 * 1024)

struct grant {
	uid_t uid;
	const char *domains;	/* "alice.example shop.alice.example *" */
};

/*
 * The table, names and groups resolved, is kept while the file stays
 * the same (device, inode, mtime, size): qmail-dkimd asks no name
 * service per message.  This is state meant to outlive a message.
 */
static struct {
	int present;		/* the file exists: only the table grants */
	int cached;		/* the table is that of the file below */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
	char *text;
	struct grant *g;
	size_t n, cap;
	int alias_known;
	uid_t alias;
} t;

/* the uid and primary group of every user, for @group */
struct member {
	uid_t uid;
	gid_t gid;
};

static void
forget(void)
{
	free(t.text);
	free(t.g);
	memset(&t, 0, sizeof t);
}

static int
add(uid_t uid, const char *domains)
{
	struct grant *g;

	if (t.n == t.cap) {
		t.cap = t.cap ? t.cap * 2 : 64;
		g = realloc(t.g, t.cap * sizeof *g);
		if (g == NULL) {
			why_set("out of memory reading control/dkimrights");
			return -1;
		}
		t.g = g;
	}
	t.g[t.n].uid = uid;
	t.g[t.n++].domains = domains;
	return 0;
}

/* getpwnam(3) and getgrnam(3) leave errno 0 or one of these: not found */
static int
not_found(int e)
{
	return e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM;
}

/* Every user's uid and primary group, read once for the @group lines. */
static struct member *
members(size_t *n)
{
	struct member *all = NULL, *p;
	struct passwd *pw;
	size_t cap = 0;

	*n = 0;
	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			p = realloc(all, cap * sizeof *p);
			if (p == NULL) {
				free(all);
				endpwent();
				why_set("out of memory reading the users");
				return NULL;
			}
			all = p;
		}
		all[*n].uid = pw->pw_uid;
		all[(*n)++].gid = pw->pw_gid;
	}
	endpwent();
	if (all == NULL)
		all = malloc(sizeof *all);
	if (all == NULL)
		why_set("out of memory reading the users");
	return all;
}

/* One WHO, resolved to uids, each granted domains. */
static int
resolve(const char *path, size_t line, const char *who, const char *domains,
    struct member **all, size_t *nall)
{
	struct passwd *pw;
	struct group *gr;
	unsigned long long u;
	char *end, **mem;
	size_t i;

	if (*who >= '0' && *who <= '9') {
		errno = 0;
		u = strtoull(who, &end, 10);
		if (errno != 0 || *end != '\0' || u >= (uid_t)-1) {
			why_set("%s line %zu: %s is not a uid", path, line, who);
			return -1;
		}
		return add((uid_t)u, domains);
	}
	if (*who != '@') {
		errno = 0;
		pw = getpwnam(who);
		if (pw == NULL && not_found(errno))
			return 0;	/* no such user: grants no one */
		if (pw == NULL) {
			why_sys("%s line %zu: cannot look up the user %s",
			    path, line, who);
			return -1;
		}
		return add(pw->pw_uid, domains);
	}
	if (*all == NULL && (*all = members(nall)) == NULL)
		return -1;
	errno = 0;
	gr = getgrnam(who + 1);
	if (gr == NULL && not_found(errno))
		return 0;	/* no such group: grants no one */
	if (gr == NULL) {
		why_sys("%s line %zu: cannot look up the group %s", path, line,
		    who + 1);
		return -1;
	}
	for (i = 0; i < *nall; i++)
		if ((*all)[i].gid == gr->gr_gid &&
		    add((*all)[i].uid, domains) == -1)
			return -1;
	/* a member who is no user (a stale name) grants no one */
	for (mem = gr->gr_mem; *mem != NULL; mem++)
		if ((pw = getpwnam(*mem)) != NULL &&
		    add(pw->pw_uid, domains) == -1)
			return -1;
	return 0;
}

/*
 * The domain list after the colon, checked and rewritten in place as
 * lower-case words with one blank between them.
 */
static int
domain_list(const char *path, size_t line, const char *who, char *list)
{
	char word[256], *in = list, *out = list;
	size_t n;

	for (;;) {
		in += strspn(in, " \t");
		if (*in == '\0')
			break;
		n = strcspn(in, " \t");
		if (n >= sizeof word) {
			why_set("%s line %zu: %.40s... is not a domain name",
			    path, line, in);
			return -1;
		}
		memcpy(word, in, n);
		word[n] = '\0';
		in += n;
		if (strcmp(word, "*") != 0 && !domain_normalize(word)) {
			why_set("%s line %zu: %s is not a domain name or *",
			    path, line, word);
			return -1;
		}
		if (out != list)
			*out++ = ' ';
		n = strlen(word);
		memmove(out, word, n);
		out += n;
	}
	*out = '\0';
	if (out == list) {
		why_set("%s line %zu: no domain after %s:", path, line, who);
		return -1;
	}
	return 0;
}

/* a user name, a uid or @group, as qmail-dkim-check takes it */
static int
who_valid(const char *who, size_t len)
{
	size_t at = len > 0 && *who == '@';

	return len > at && who[at] != '-' && strspn(who + at,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == len - at;
}

static int
parse(const char *path, char *text)
{
	struct member *all = NULL;
	char *line, *next, *colon, *who, *end;
	size_t no, nall = 0;
	int r = 0;

	for (line = text, no = 1; *line != '\0' && r == 0; line = next, no++) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		who = line + strspn(line, " \t\r");
		if (*who == '\0')
			continue;
		colon = strchr(who, ':');
		if (colon == NULL) {
			why_set("%s line %zu: no colon; write WHO: DOMAIN...",
			    path, no);
			r = -1;
			break;
		}
		for (end = colon; end > who && (end[-1] == ' ' ||
		    end[-1] == '\t'); end--)
			;
		if (!who_valid(who, (size_t)(end - who))) {
			why_set("%s line %zu: %.*s is not a user name, a uid "
			    "or @group", path, no, (int)(end - who), who);
			r = -1;
			break;
		}
		*end = '\0';
		colon[strcspn(colon + 1, "\r") + 1] = '\0';
		r = domain_list(path, no, who, colon + 1);
		if (r == 0)
			r = resolve(path, no, who, colon + 1, &all, &nall);
	}
	free(all);
	return r;
}

/* -1 error, 0 no control/dkimrights, 1 the table is ready */
int
rights_load(void)
{
	char path[512];
	struct passwd *pw;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/control/dkimrights", control_home());
	sigcache_note(path);
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT) {
			forget();
			return 0;
		}
		why_sys("cannot open %s", path);
		forget();
		t.present = 1;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		why_sys("cannot look at %s", path);
		goto fail;
	}
	if (t.cached && t.dev == st.st_dev && t.ino == st.st_ino &&
	    t.size == st.st_size && t.mtime.tv_sec == st.st_mtim.tv_sec &&
	    t.mtime.tv_nsec == st.st_mtim.tv_nsec) {
		close(fd);
		return 1;
	}
	forget();
	if (!S_ISREG(st.st_mode)) {
		why_set("%s is not a regular file", path);
		goto fail;
	}
	if (st.st_mode & S_IWOTH) {
		why_set("%s is world-writable: anyone could grant themselves "
		    "any domain", path);
		goto fail;
	}
	if (st.st_size > RIGHTS_MAX) {
		why_set("%s is larger than %d bytes", path, RIGHTS_MAX);
		goto fail;
	}
	t.text = malloc((size_t)st.st_size + 1);
	if (t.text == NULL) {
		why_set("out of memory reading %s", path);
		goto fail;
	}
	while (len < (size_t)st.st_size && (n = io_pread(fd, t.text + len,
	    (size_t)st.st_size - len, (off_t)len)) != 0) {
		if (n == -1) {
			why_sys("cannot read %s", path);
			goto fail;
		}
		len += (size_t)n;
	}
	t.text[len] = '\0';
	if (memchr(t.text, '\0', len) != NULL) {
		why_set("%s holds a NUL byte", path);
		goto fail;
	}
	if (parse(path, t.text) == -1)
		goto fail;
	/* qmail-queue's "invoked by alias" is the user alias */
	if ((pw = getpwnam("alias")) != NULL) {
		t.alias_known = 1;
		t.alias = pw->pw_uid;
	}
	close(fd);
	t.present = t.cached = 1;
	t.dev = st.st_dev;
	t.ino = st.st_ino;
	t.size = st.st_size;
	t.mtime = st.st_mtim;
	return 1;
fail:
	forget();
	t.present = 1;	/* grants nothing until it reads well */
	close(fd);
	return -1;
}

/* Reads a decimal number up to stop; 1 with the value, 0 not. */
static int
number(const char **p, const char *end, char stop, unsigned long long *v)
{
	const char *q = *p;

	*v = 0;
	while (q < end && *q >= '0' && *q <= '9' && *v < 1ULL << 40)
		*v = *v * 10 + (unsigned)(*q++ - '0');
	if (q == *p || q == end || *q != stop)
		return 0;
	*p = q;
	return 1;
}

static int
eat(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/*
 * Who queued the message, from the first line of its header (hdr, LF
 * line ends): qmail-queue's line (notqmail qmail-queue.c receivedfmt),
 * or INJ_UNKNOWN.
 */
void
rights_who(const char *hdr, size_t len, struct who *w)
{
	const char *p = hdr, *end;
	unsigned long long v;

	memset(w, 0, sizeof *w);
	w->injector = INJ_UNKNOWN;
	if (hdr == NULL)
		return;
	end = memchr(hdr, '\n', len);
	if (end == NULL)
		end = hdr + len;
	if (!eat(&p, end, "Received: (qmail ") || !number(&p, end, ' ', &v) ||
	    !eat(&p, end, " invoked "))
		return;
	if (eat(&p, end, "by alias)"))
		w->injector = INJ_ALIAS;
	else if (eat(&p, end, "from network)"))
		w->injector = INJ_NETWORK;
	else if (eat(&p, end, "for bounce)"))
		w->injector = INJ_BOUNCE;
	else if (eat(&p, end, "by uid ") && number(&p, end, ')', &v) &&
	    v < (uid_t)-1 && eat(&p, end, ")")) {
		w->injector = INJ_UID;
		w->uid = (uid_t)v;
	}
	if (!eat(&p, end, "; "))
		w->injector = INJ_UNKNOWN;
}

/* "*" any, else the domain itself: no subdomain is implied */
static int
listed(const char *list, const char *domain)
{
	size_t n, dl = strlen(domain);

	for (; *list != '\0'; list += n + (list[n] == ' ')) {
		n = strcspn(list, " ");
		if ((n == 1 && *list == '*') ||
		    (n == dl && memcmp(list, domain, n) == 0))
			return 1;
	}
	return 0;
}

static int
granted(uid_t uid, const char *domain)
{
	size_t i;

	for (i = 0; i < t.n; i++)
		if (t.g[i].uid == uid && listed(t.g[i].domains, domain))
			return 1;
	return 0;
}

/* domain is base or one of its parents */
static int
within(const char *domain, const char *base)
{
	size_t dl = strlen(domain), bl = strlen(base);

	return strcmp(domain, base) == 0 || (bl > dl &&
	    base[bl - dl - 1] == '.' && strcmp(base + bl - dl, domain) == 0);
}

/* 1: w may sign as domain (lower case); 0 not, the first one noted */
int
rights_check(struct who *w, const char *domain)
{
	int ok;

	if (!t.present)
		return 1;
	switch (w->injector) {
	case INJ_UID:
		ok = granted(w->uid, domain);
		break;
	case INJ_ALIAS:
		ok = t.alias_known && granted(t.alias, domain);
		break;
	case INJ_NETWORK:
	case INJ_BOUNCE:
		ok = w->envdom != NULL && within(domain, w->envdom);
		break;
	default:
		ok = 0;
	}
	if (!ok && w->refused[0] == '\0')
		snprintf(w->refused, sizeof w->refused, "%s", domain);
	return ok;
}

/* "uid 1005", "alias", "network", "bounce" or "unknown", for the log */
void
rights_name(const struct who *w, char *buf, size_t size)
{
	switch (w->injector) {
	case INJ_UID:
		snprintf(buf, size, "uid %lu", (unsigned long)w->uid);
		break;
	case INJ_ALIAS: snprintf(buf, size, "alias"); break;
	case INJ_NETWORK: snprintf(buf, size, "network"); break;
	case INJ_BOUNCE: snprintf(buf, size, "bounce"); break;
	default: snprintf(buf, size, "unknown"); break;
	}
}
