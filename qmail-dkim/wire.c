/*
 * wire.c -- qmail-dkimc asks qmail-dkimd to sign one message.
 *
 * A SOCK_SEQPACKET socket in the file system keeps each request and each
 * reply one record, so neither side parses a stream.  The request is
 * "QDKIM1\0", the envelope sender and a NUL, with the message's open
 * queue file passed along (SCM_RIGHTS, unix(7)): the daemon reads the
 * very file with pread, nothing is copied, and the file's offset, which
 * the real qmail-remote reads from, never moves.  The reply is the
 * verdict: its kind, whether the message has CRs, the text and a NUL,
 * and for a signed message the DKIM-Signature fields.
 *
 * Each side believes only a peer of its own user or root (SO_PEERCRED):
 * the socket answers "sign this as example.com" to whoever reaches it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "qdkim.h"

static const char magic[] = "QDKIM1";

/* 1 when the peer runs as our user or as root */
int
wire_peer_ok(int s)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		why_sys("cannot tell who is at the other end of the socket");
		return 0;
	}
	if (cr.uid != 0 && cr.uid != getuid()) {
		why_set("the other end of the socket runs as uid %u, "
		    "not as uid %u", (unsigned)cr.uid, (unsigned)getuid());
		return 0;
	}
	return 1;
}

int
wire_timeout(int s, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == -1) {
		why_sys("cannot set a time limit on the socket");
		return -1;
	}
	return 0;
}

/* A socket for path, its address in a: -1 with why. */
static int
endpoint(struct sockaddr_un *a, const char *path)
{
	int s;

	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path) {
		why_set("the socket path %s is too long", path);
		return -1;
	}
	strcpy(a->sun_path, path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s == -1)
		why_sys("cannot make a socket");
	return s;
}

/* A connected socket, its time limits set; -1 with why. */
int
wire_connect(const char *path, int seconds)
{
	struct sockaddr_un a;
	int s;

	s = endpoint(&a, path);
	if (s == -1)
		return -1;
	/* SO_SNDTIMEO bounds connect(2) too, when the backlog is full */
	if (wire_timeout(s, seconds) == -1)
		goto fail;
	if (connect(s, (struct sockaddr *)&a, sizeof a) == -1) {
		why_sys("cannot reach qmail-dkimd at %s", path);
		goto fail;
	}
	if (!wire_peer_ok(s))
		goto fail;
	return s;
fail:
	close(s);
	return -1;
}

/*
 * The listening socket of qmail-dkimd, for its user alone, made under
 * path.new and renamed over path: a client finds the old socket or the
 * new one, never no socket.  The caller holds the lock (qmail-dkimd.c),
 * so path.new is no other instance's.  *made identifies it for
 * wire_unlisten.
 */
int
wire_listen(const char *path, struct stat *made)
{
	struct sockaddr_un a;
	char tmp[sizeof a.sun_path];
	mode_t old;
	int s, r;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", path) >= sizeof tmp) {
		why_set("the socket path %s is too long", path);
		return -1;
	}
	s = endpoint(&a, tmp);
	if (s == -1)
		return -1;
	if (unlink(tmp) == -1 && errno != ENOENT) {
		why_sys("cannot remove the old socket %s", tmp);
		goto fail;
	}
	old = umask(077);
	r = bind(s, (struct sockaddr *)&a, sizeof a);
	umask(old);
	if (r == -1) {
		why_sys("cannot make the socket %s", tmp);
		goto fail;
	}
	if (listen(s, 128) == -1) {
		why_sys("cannot listen on %s", tmp);
		goto gone;
	}
	if (lstat(tmp, made) == -1) {
		why_sys("cannot look at the socket %s", tmp);
		goto gone;
	}
	if (rename(tmp, path) == -1) {
		why_sys("cannot rename %s to %s", tmp, path);
		goto gone;
	}
	return s;
gone:
	unlink(tmp);
fail:
	close(s);
	return -1;
}

/* Removes path if it is still the socket wire_listen made. */
void
wire_unlisten(const char *path, const struct stat *made)
{
	struct stat st;

	if (lstat(path, &st) == 0 && st.st_dev == made->st_dev &&
	    st.st_ino == made->st_ino)
		unlink(path);
}

/* The request: magic, sender, and fd passed along. */
int
wire_ask(int s, int fd, const char *sender)
{
	char buf[sizeof magic + 1024];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	size_t n = strlen(sender);

	if (n >= sizeof buf - sizeof magic) {
		why_set("the envelope sender is too long for qmail-dkimd");
		return -1;
	}
	memcpy(buf, magic, sizeof magic);
	memcpy(buf + sizeof magic, sender, n + 1);
	iov.iov_base = buf;
	iov.iov_len = sizeof magic + n + 1;
	memset(&c, 0, sizeof c);
	mh.msg_control = c.space;
	mh.msg_controllen = sizeof c.space;
	c.h.cmsg_level = SOL_SOCKET;
	c.h.cmsg_type = SCM_RIGHTS;
	c.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&c.h), &fd, sizeof fd);
	if (sendmsg(s, &mh, MSG_NOSIGNAL) == -1) {
		why_sys("cannot send the message to qmail-dkimd");
		return -1;
	}
	return 0;
}

/*
 * qmail-dkimd's side: the sender into buf, the message's fd into *fd.
 * -1 on anything but one well-formed request with exactly one fd.
 */
int
wire_request(int s, int *fd, char *buf, size_t size)
{
	char in[sizeof magic + 1024];
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int) * 4)];
	} c;
	struct iovec iov = { .iov_base = in, .iov_len = sizeof in };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.space, .msg_controllen = sizeof c.space };
	struct cmsghdr *h;
	ssize_t n;
	int got = -1, extra = 0, k;

	n = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	if (n == -1) {
		why_sys("cannot read a request");
		return -1;
	}
	for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h)) {
		size_t i, nfd;

		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&k, CMSG_DATA(h) + i * sizeof(int), sizeof k);
			if (got == -1)
				got = k;
			else {
				close(k);	/* never keep what we did not ask for */
				extra = 1;
			}
		}
	}
	if (got == -1 || extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof magic + 1 || memcmp(in, magic, sizeof magic) != 0 ||
	    in[n - 1] != '\0' || strlen(in + sizeof magic) + 1 > size ||
	    strlen(in + sizeof magic) != (size_t)n - sizeof magic - 1) {
		if (got != -1)
			close(got);
		why_set("a malformed request");
		return -1;
	}
	strcpy(buf, in + sizeof magic);
	*fd = got;
	return 0;
}

int
wire_reply(int s, const struct verdict *v)
{
	size_t tlen = strlen(v->text) + 1;
	size_t total = 2 + tlen + (v->kind == VERDICT_SIGNED ? v->siglen : 0);
	char *buf;
	ssize_t n;

	if (total > WIRE_MAX) {
		why_set("the reply is larger than %d bytes", WIRE_MAX);
		return -1;
	}
	buf = malloc(total);
	if (buf == NULL) {
		why_set("out of memory for the reply");
		return -1;
	}
	buf[0] = (char)v->kind;
	buf[1] = v->any_cr ? '1' : '0';
	memcpy(buf + 2, v->text, tlen);
	if (v->kind == VERDICT_SIGNED)
		memcpy(buf + 2 + tlen, v->sighdr, v->siglen);
	n = send(s, buf, total, MSG_NOSIGNAL);
	free(buf);
	if (n != (ssize_t)total) {
		why_sys("cannot send the reply");
		return -1;
	}
	return 0;
}

/*
 * What qmail-dkimc puts in front of the message: one or more complete
 * "DKIM-Signature: " fields (RFC 6376 3.5), each line LF-terminated,
 * every line after a field's first one a continuation (RFC 5322 2.2.3:
 * SP or HTAB first, and not white space alone), and only printable
 * ASCII and HTAB in them: no CR, no NUL, no empty line, no other field.
 * Anything else could add fields or end the header early, turning the
 * message's own header into body.
 */
static int
fields_ok(const char *p, size_t len)
{
	static const char name[] = "DKIM-Signature: ";
	const char *end = p + len, *eol, *q;
	int seen;

	if (len == 0)
		return 0;
	while (p < end) {
		if ((size_t)(end - p) < sizeof name - 1 ||
		    memcmp(p, name, sizeof name - 1) != 0)
			return 0;
		p += sizeof name - 1;
		seen = 0;
		for (;;) {
			eol = memchr(p, '\n', (size_t)(end - p));
			if (eol == NULL)
				return 0;
			for (q = p; q < eol; q++) {
				if (*q != '\t' && (*q < ' ' || *q > '~'))
					return 0;
				if (*q != ' ' && *q != '\t')
					seen = 1;
			}
			p = eol + 1;
			if (p == end || (*p != ' ' && *p != '\t'))
				break;
			/* a continuation: something besides white space */
			for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
				;
			if (q == end || *q == '\n')
				return 0;
		}
		if (!seen)
			return 0;
	}
	return 1;
}

/* The verdict's text, for the log and a Z record: one line, no controls. */
static int
text_ok(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (((unsigned char)p[i] < ' ' && p[i] != '\t') || p[i] == 0x7f)
			return 0;
	return 1;
}

/*
 * qmail-dkimc's side: the verdict, checked as far as it can be, the
 * fields in memory of their own.  -1 (with why) when there is no usable
 * answer: then the message is signed here.
 */
int
wire_answer(int s, struct verdict *v)
{
	static char buf[WIRE_MAX + 1];
	size_t tlen, n;
	ssize_t r;
	char *nul;

	memset(v, 0, sizeof *v);
	r = recv(s, buf, sizeof buf, MSG_TRUNC);
	if (r == -1) {
		why_sys("qmail-dkimd did not answer");
		return -1;
	}
	/* with MSG_TRUNC, r is the answer's length, which may be more
	 * than buf holds: look no further than what came */
	n = (size_t)r;
	if (n > WIRE_MAX) {
		why_set("qmail-dkimd gave an answer of %zu bytes, more than "
		    "%d", n, WIRE_MAX);
		return -1;
	}
	nul = n > 2 ? memchr(buf + 2, '\0', n - 2) : NULL;
	if (nul == NULL || (buf[1] != '0' && buf[1] != '1')) {
		why_set("qmail-dkimd gave a malformed answer");
		return -1;
	}
	tlen = (size_t)(nul - (buf + 2));
	if (tlen >= sizeof v->text || !text_ok(buf + 2, tlen)) {
		why_set("qmail-dkimd gave a malformed answer");
		return -1;
	}
	memcpy(v->text, buf + 2, tlen + 1);
	v->kind = (unsigned char)buf[0];
	v->any_cr = buf[1] == '1';
	switch (v->kind) {
	case VERDICT_SIGNED:
		v->siglen = n - 2 - tlen - 1;
		if (!fields_ok(nul + 1, v->siglen)) {
			why_set("qmail-dkimd gave a malformed signature");
			return -1;
		}
		v->sighdr = malloc(v->siglen);
		if (v->sighdr == NULL) {
			why_set("out of memory for the signature");
			return -1;
		}
		memcpy(v->sighdr, nul + 1, v->siglen);
		return 0;
	case VERDICT_UNSIGNED:
	case VERDICT_DEFER:
		if (n != 2 + tlen + 1) {
			why_set("qmail-dkimd gave a malformed answer");
			return -1;
		}
		return 0;
	default:	/* VERDICT_LOCAL and anything unknown */
		why_set("qmail-dkimd leaves this message to qmail-dkim: %s",
		    v->text);
		return -1;
	}
}
