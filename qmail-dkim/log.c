/*
 * log.c -- one line in the mail log for each delivery.
 *
 * Never LOG_PERROR or LOG_CONS: fd 2 is qmail-rspawn's report pipe.
 * The lines name domains, selectors and files, never key material.
 * glibc opens the log socket close-on-exec: the real qmail-remote does
 * not inherit it.
 */
#include <stdarg.h>
#include <syslog.h>
#include <time.h>

#include "qdkim.h"

static int ready;

/*
 * Connects to the log and reads the time zone now, not at the first
 * line: qmail-dkimd does it at start-up, so that no message waits for it
 * and its workers inherit both.
 */
void
log_ready(void)
{
	if (ready)
		return;
	openlog("qmail-dkim", LOG_PID | LOG_NDELAY, LOG_MAIL);
	tzset();
	ready = 1;
}

static void
vlog(int priority, const char *fmt, va_list ap)
{
	if (!ready) {
		openlog("qmail-dkim", LOG_PID, LOG_MAIL);
		ready = 1;
	}
	vsyslog(priority, fmt, ap);
}

void
log_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Something the admin should fix, which does not stop the delivery. */
void
log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}
