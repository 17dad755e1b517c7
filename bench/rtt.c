/*
 * rtt.c -- qmail-dkimd's round trip, timed from the client side.
 *
 *	rtt SOCKET MSGFILE COUNT SENDER
 *
 * COUNT times: open MSGFILE, then what qmail-dkimc does with the daemon
 * (wire_connect, wire_ask with the file's descriptor, wire_answer), timed
 * with CLOCK_MONOTONIC from before the connect to after the answer.
 * Prints the median, the 10th and 90th percentiles in ms, and the verdict
 * of the last request.  Linked with qmail-dkim's own wire.c
 * (bench/dkimd-profile.sh), so the bytes on the socket are the real ones.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "qdkim.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct verdict v;
	double *t, t0;
	int n, i, fd, s;

	if (argc != 5 || (n = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: rtt SOCKET MSGFILE COUNT SENDER\n");
		return 111;
	}
	t = calloc((size_t)n, sizeof *t);
	if (t == NULL)
		return 111;
	for (i = 0; i < n; i++) {
		fd = open(argv[2], O_RDONLY);
		if (fd == -1) {
			perror(argv[2]);
			return 111;
		}
		t0 = now_ms();
		s = wire_connect(argv[1], 20);
		if (s == -1 || wire_ask(s, fd, argv[4]) == -1 ||
		    wire_answer(s, &v) == -1) {
			fprintf(stderr, "rtt: %s\n", why);
			return 111;
		}
		t[i] = now_ms() - t0;
		close(s);
		close(fd);
	}
	qsort(t, (size_t)n, sizeof *t, cmp);
	printf("round_trip_ms median=%.3f p10=%.3f p90=%.3f n=%d verdict=%c %s\n",
	    t[n / 2], t[n / 10], t[n * 9 / 10], n, v.kind, v.text);
	return 0;
}
