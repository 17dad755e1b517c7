/*
 * message.c -- the message, read once from the start, as a stream of
 * LF-normalized bytes (normalize.c): first the header block, then the
 * body in pieces.
 *
 * fd 0 is the queue file, shared with qmail-rspawn and read by the real
 * qmail-remote after us: it is read with pread, so its offset never
 * moves, and it is never copied.  A pipe is spooled first (spool.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"

int
msg_open(struct msg *m, int fd)
{
	struct stat st;
	off_t here;

	memset(m, 0, sizeof *m);
	if (fstat(fd, &st) == -1) {
		why_sys("cannot look at the message on fd %d", fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		why_set("the message on fd %d is a directory", fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		fd = spool_pipe(fd);
		if (fd == -1)
			return -1;
		if (fstat(fd, &st) == -1) {
			why_sys("cannot look at the spooled message");
			return -1;
		}
		here = 0;
	} else {
		/* qmail-remote reads from the current offset */
		here = lseek(fd, 0, SEEK_CUR);
		if (here == -1 || here > st.st_size)
			here = 0;
	}
	m->fd = fd;
	m->start = m->pos = here;
	m->size = st.st_size - here;
	return m->size > 0;
}

static ssize_t
raw_read(struct msg *m, char *buf, size_t size)
{
	ssize_t n;

	n = io_pread(m->fd, buf, size, m->pos);
	if (n == -1) {
		why_sys("cannot read the message");
		return -1;
	}
	if (n > 0) {
		m->pos += n;
		m->last = buf[n - 1];
	}
	return n;
}

/*
 * Reads up to the empty line that ends the header block (RFC 5322 2.1).
 * A message with no empty line is all header.
 */
int
msg_header(struct msg *m)
{
	size_t len = 0, cap = 0, from, hdrlen, bodyoff;
	char *p, *sep;
	ssize_t n;

	for (;;) {
		if (cap - len < CHUNK) {
			cap = len + CHUNK;
			p = realloc(m->hdr, cap);
			if (p == NULL) {
				why_set("out of memory reading the header");
				return -1;
			}
			m->hdr = p;
		}
		n = raw_read(m, m->hdr + len, CHUNK);
		if (n == -1)
			return -1;
		if (n == 0) {
			hdrlen = bodyoff = len;	/* all header */
			m->no_body = 1;
			break;
		}
		from = len > 0 ? len - 1 : 0;
		len += norm_lf(&m->norm, m->hdr + len, (size_t)n);
		if (len > 0 && m->hdr[0] == '\n') {
			hdrlen = 0;	/* no header at all */
			bodyoff = 1;
			break;
		}
		sep = len > from ? memmem(m->hdr + from, len - from, "\n\n", 2) :
		    NULL;
		if (sep != NULL) {
			hdrlen = (size_t)(sep - m->hdr) + 1;
			bodyoff = hdrlen + 1;
			break;
		}
		if (len > HDR_MAX)
			return 0;
	}
	if (hdrlen > HDR_MAX)
		return 0;
	m->hdrlen = hdrlen;
	m->rest = m->hdr + bodyoff;
	m->restlen = len - bodyoff;
	m->nul_in_header = memchr(m->hdr, '\0', hdrlen) != NULL;
	return 1;
}

/* The next piece of the body, normalized; 0 at the end. */
ssize_t
msg_read(struct msg *m, char *buf, size_t size)
{
	ssize_t n;
	size_t k;

	if (m->restlen > 0) {
		k = m->restlen < size ? m->restlen : size;
		memcpy(buf, m->rest, k);
		m->rest += k;
		m->restlen -= k;
		return (ssize_t)k;
	}
	do {
		n = raw_read(m, buf, size);
		if (n <= 0)
			return n;
		n = (ssize_t)norm_lf(&m->norm, buf, (size_t)n);
	} while (n == 0);
	return n;
}

/* Puts the message, from its start, on fd 0 for the real qmail-remote. */
int
msg_rewind(struct msg *m)
{
	if (m->fd != 0) {
		if (dup2(m->fd, 0) == -1) {
			why_sys("cannot put the message on fd 0");
			return -1;
		}
	}
	if (lseek(0, m->start, SEEK_SET) == -1) {
		why_sys("cannot rewind the message");
		return -1;
	}
	return 0;
}

/* The header buffer; the message itself stays open on its fd. */
void
msg_close(struct msg *m)
{
	free(m->hdr);
	m->hdr = NULL;
	m->rest = NULL;
}
