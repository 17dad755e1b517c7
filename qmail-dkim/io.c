/* io.c -- reads and writes that survive EINTR and short counts. */
#include <errno.h>
#include <unistd.h>

#include "qdkim.h"

int
io_write(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

ssize_t
io_pread(int fd, char *buf, size_t len, off_t off)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, off);
	while (n == -1 && errno == EINTR);
	return n;
}
