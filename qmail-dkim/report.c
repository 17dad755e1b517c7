/*
 * report.c -- the one record a stand-in may write before it hands over.
 *
 * qmail-rspawn reads qmail-remote's report from fd 1 (fd 2 is the same
 * pipe).  Before any recipient was tried, a single message record is a
 * complete report: "Z" asks qmail-send to keep the message and retry.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "qdkim.h"

int
report_temp(const char *text)
{
	char rec[sizeof why + 64];
	size_t n = 0, len = strlen(text);

	if (len > sizeof rec - 3)
		len = sizeof rec - 3;
	rec[n++] = 'Z';
	memcpy(rec + n, text, len);
	n += len;
	rec[n++] = '\n';
	rec[n++] = '\0';
	return io_write(1, rec, n);
}
