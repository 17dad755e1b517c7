/*
 * rights.c -- which local user may have mail signed as which domain.
 *
 * Any local user writes any From: and, with sendmail -f, any envelope
 * sender, so neither says who sent the message.  What no local user can
 * forge is the first line of the queue file, which qmail-queue writes
 * before the message it is given, naming the real uid that ran it; a
 * forward's chain of such lines (chain.c) says who passed it on and
 * where it came from.
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
 * DOMAIN is a d= exactly, or "*" any; the word "forwarder" makes WHO a
 * trusted forwarder (below).  qmail-dkim-check and qmail-dkim-keygen -a
 * read the file alike.
 *
 * A uid may sign with the domains of its lines, of its name's and of its
 * groups'; alias as the user alias; mail from the network (qmail-smtpd)
 * from another host only as the envelope sender's domain or a parent of
 * it (RELAYCLIENT and SMTP AUTH are the admin's gate), from this host
 * (127.0.0.0/8, ::1) as the user its ident or AUTH name says, else
 * nothing, since any local user can connect there; qmail-send's bounces
 * only as the host's own domain (engine.c) or a parent of it; a message
 * without the line, nothing.  Without the file every injector may use
 * every key, as before the file existed.
 *
 * A forward may sign as a domain only when every link of its chain may:
 * the intersection, so that lines a sender wrote can only narrow it.  A
 * link from the network below the first was received, not relayed: it
 * may sign nothing, with or without the file, or every stranger could
 * have a forward sign the From: of their choice.  A trusted forwarder's
 * link (alias, a virtual-domain user) passes on the rights of the link
 * below it.  An ezmlm post signs only as its envelope sender's (the
 * list's) domain or a parent of it, also when its uid may sign more.
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
 * the same (device, inode, mtime, ctime, size): qmail-dkimd asks no name
 * service per message.  This is state meant to outlive a message.
 */
static struct {
	int present;		/* the file exists: only the table grants */
	int cached;		/* the table is that of the file below */
	dev_t dev;
	ino_t ino;
	struct timespec mtime, ctime;	/* ctime: a rewrite in one tick */
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
		if (strcmp(word, "*") != 0 && strcmp(word, "forwarder") != 0 &&
		    !domain_normalize(word)) {
			why_set("%s line %zu: %s is not a domain name, * or "
			    "forwarder", path, line, word);
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
	    t.mtime.tv_nsec == st.st_mtim.tv_nsec &&
	    t.ctime.tv_sec == st.st_ctim.tv_sec &&
	    t.ctime.tv_nsec == st.st_ctim.tv_nsec) {
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
	t.ctime = st.st_ctim;
	return 1;
fail:
	forget();
	t.present = 1;	/* grants nothing until it reads well */
	close(fd);
	return -1;
}

static struct link given;	/* qmail-dkim-queue's caller */
static int given_set;

int
rights_present(void)
{
	return t.present;
}

/* Who queued the message, from the lines on top of hdr (chain.c). */
void
rights_who(const char *hdr, size_t len, struct who *w)
{
	memset(w, 0, sizeof *w);
	chain_read(hdr, len, given_set ? &given : NULL, &w->c);
}

/* qmail-dkim-queue: the message has no queue line yet; l injects it */
void
rights_given(const struct link *l)
{
	given_set = l != NULL;
	if (l != NULL)
		given = *l;
}

/* word is in list; "*" stands for any domain, not for "forwarder" */
static int
listed(const char *list, const char *word)
{
	size_t n, wl = strlen(word);
	int domain = strcmp(word, "forwarder") != 0;

	for (; *list != '\0'; list += n + (list[n] == ' ')) {
		n = strcspn(list, " ");
		if ((domain && n == 1 && *list == '*') ||
		    (n == wl && memcmp(list, word, n) == 0))
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
	size_t dl = strlen(domain), bl;

	if (base == NULL)
		return 0;
	bl = strlen(base);
	return strcmp(domain, base) == 0 || (bl > dl &&
	    base[bl - dl - 1] == '.' && strcmp(base + bl - dl, domain) == 0);
}

/* what the ident or SMTP AUTH name of a loopback client may sign */
static int
named(const char *info, const char *domain)
{
	const char *at = strrchr(info, '@');
	struct passwd *pw;

	if (at != NULL)		/* an AUTH login as an address */
		return strcmp(at + 1, domain) == 0;
	if (*info == '\0' || (pw = getpwnam(info)) == NULL)
		return 0;
	return granted(pw->pw_uid, domain);
}

/* mail from qmail-smtpd, the first link */
static int
network(const struct who *w, const char *domain)
{
	switch (w->c.smtp) {
	case SMTP_LOOPBACK:
		return named(w->c.info, domain);
	case SMTP_REMOTE:
		return within(domain, w->envdom);
	default:	/* no qmail-smtpd line: nobody to attribute it to */
		return 0;
	}
}

/* may link i of w's chain sign as domain? */
static int
link_may(const struct who *w, size_t i, const char *domain)
{
	const struct link *l = &w->c.l[i];

	if (l->injector == INJ_NETWORK && i > 0)
		return 0;	/* received, then forwarded */
	if (!t.present)
		return 1;
	switch (l->injector) {
	case INJ_UID:
		return granted(l->uid, domain);
	case INJ_ALIAS:
		return t.alias_known && granted(t.alias, domain);
	case INJ_NETWORK:
		return network(w, domain);
	case INJ_BOUNCE:
		return w->env_bounce && within(domain, w->envdom);
	default:
		return 0;
	}
}

/* a trusted forwarder's link: the rights of the link below it */
static int
forwarder(const struct link *l)
{
	if (l->injector == INJ_UID)
		return granted(l->uid, "forwarder");
	return l->injector == INJ_ALIAS && t.alias_known &&
	    granted(t.alias, "forwarder");
}

/* 1: w may sign as domain (lower case); 0 not, the first one noted */
int
rights_check(struct who *w, const char *domain)
{
	size_t i;
	int ok = !w->c.overflow;

	for (i = 0; ok && i < w->c.n; i++)
		if (i + 1 == w->c.n || !forwarder(&w->c.l[i]))
			ok = link_may(w, i, domain);
	/* an ezmlm post: the list's own domain */
	if (ok && w->c.list)
		ok = within(domain, w->envdom);
	if (!ok && w->refused[0] == '\0')
		snprintf(w->refused, sizeof w->refused, "%s", domain);
	return ok;
}

static size_t
link_name(const struct link *l, char *buf, size_t size)
{
	switch (l->injector) {
	case INJ_UID:
		return (size_t)snprintf(buf, size, "uid %lu",
		    (unsigned long)l->uid);
	case INJ_ALIAS: return (size_t)snprintf(buf, size, "alias");
	case INJ_NETWORK: return (size_t)snprintf(buf, size, "network");
	case INJ_BOUNCE: return (size_t)snprintf(buf, size, "bounce");
	default: return (size_t)snprintf(buf, size, "unknown");
	}
}

/*
 * For the log: "uid 1005", "alias", "network", "bounce" or "unknown";
 * a loopback client as "network (this host, ident NAME)"; a forward's
 * chain as "uid 1005 < uid 1006 < network", the origin last.
 */
void
rights_name(const struct who *w, char *buf, size_t size)
{
	size_t i, n;

	n = link_name(&w->c.l[0], buf, size);
	if (n < size && w->c.n == 1 && w->c.smtp == SMTP_LOOPBACK)
		n += (size_t)(w->c.info[0] != '\0' ?
		    snprintf(buf + n, size - n, " (this host, ident %s)",
		    w->c.info) : snprintf(buf + n, size - n,
		    " (this host, no ident)"));
	for (i = 1; i < w->c.n && n + 3 < size; i++) {
		memcpy(buf + n, " < ", 4);
		n += 3;
		n += link_name(&w->c.l[i], buf + n, size - n);
	}
	if (n < size && w->c.overflow)
		snprintf(buf + n, size - n, " < ...");
	if (n < size && w->c.list)
		snprintf(buf + n, size - n, " (a list post)");
}
