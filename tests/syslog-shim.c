/*
 * syslog-shim.c -- LD_PRELOAD'ed by tests/170-log.t: the lines qmail-dkim
 * sends to syslog go to the file named by $SYSLOG_SHIM instead, with the
 * priority and the ident, so the test can read them without a syslogd.
 * _FORTIFY_SOURCE turns vsyslog into __vsyslog_chk: both are caught.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

static const char *ident = "";
static int facility_set;

void openlog(const char *id, int option, int facility);
void closelog(void);
void vsyslog(int pri, const char *fmt, va_list ap);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

void
openlog(const char *id, int option, int facility)
{
	(void)option;
	ident = id != NULL ? id : "";
	facility_set = facility;
}

void
closelog(void)
{
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	const char *path = getenv("SYSLOG_SHIM");
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL)
		return;
	/* the facility of openlog() applies when pri names none */
	fprintf(f, "%d %s: ", (pri & LOG_FACMASK) ? pri : pri | facility_set,
	    ident);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fclose(f);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	vsyslog(pri, fmt, ap);
}
