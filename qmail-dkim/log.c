/*
 * log.c -- one line in the mail log for each delivery.
 *
 * Never LOG_PERROR or LOG_CONS: fd 2 is qmail-rspawn's report pipe.
 * The lines name domains, selectors and files, never key material.
 */
#include <stdarg.h>
#include <syslog.h>

#include "qdkim.h"

void
log_line(const char *fmt, ...)
{
	va_list ap;

	openlog("qmail-dkim", LOG_PID, LOG_MAIL);
	va_start(ap, fmt);
	vsyslog(LOG_INFO, fmt, ap);
	va_end(ap);
	closelog();
}
