/*
 * qmail-dkim -- sign outgoing mail with DKIM, in qmail-remote's place.
 *
 * qmail has no filter hook at delivery time; the one program that sees
 * every outgoing message is qmail-remote, which qmail-rspawn starts once
 * per remote delivery.  qmail-dkim is installed under that name.  It
 * reads the message on fd 0, picks the key of the From: domain (or of a
 * parent domain, or of the envelope sender's), adds a DKIM-Signature
 * field (RFC 6376, made by libopendkim), and execs the real qmail-remote
 * with the signed message on fd 0 and the same argv.
 *
 * qmail-remote's contract binds every line: fd 2 is the report pipe,
 * any exit status other than 0 and 111 bounces the message.  So there are
 * exactly two ways out: become the real qmail-remote, with the message
 * signed or byte for byte unchanged, or write one Z record (qmail-send
 * keeps the message and retries) and exit 0.  A message that cannot be
 * signed so that it verifies goes on unsigned: no signature is better
 * than one that fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qdkim.h"

static void __attribute__((noreturn))
temp(const char *text)
{
	char buf[sizeof why + 64];

	log_line("deferred: %s", text);
	snprintf(buf, sizeof buf, "qmail-dkim: %s. (#4.3.0)", text);
	_exit(report_temp(buf) == -1 ? 111 : 0);
}

static void __attribute__((noreturn))
temp_why(void)
{
	temp(why);
}

static void __attribute__((noreturn))
pass(const char *real, char **argv, struct msg *m, const char *reason)
{
	log_line("not signed: %s", reason);
	if (m != NULL && msg_rewind(m) == -1)
		temp_why();
	handoff_plain(real, argv, relay_note(VERDICT_UNSIGNED, reason));
	temp_why();
}

int
main(int argc, char **argv)
{
	const char *real;
	struct msg m;
	struct verdict v;
	int r;

	handoff_guard();
	if (handoff_looped())
		temp("the real qmail-remote is qmail-dkim itself; "
		    "see qmail-dkim-install(8)");
	real = handoff_real();
	if (access(real, X_OK) == -1) {
		why_sys("cannot run %s", real);
		temp_why();
	}
	if (argc < 4)	/* let the real one say what is wrong */
		pass(real, argv, NULL, "usage");

	r = msg_open(&m, 0);
	if (r == -1)
		temp_why();
	if (r == 0)
		pass(real, argv, &m, "empty message");
	switch (engine_sign(&m, argv[2], &v)) {
	case VERDICT_SIGNED:
		log_line("signed: %s", v.text);
		handoff_signed(real, argv, &m, v.sighdr, v.siglen,
		    relay_note(VERDICT_SIGNED, v.text));
		temp_why();
	case VERDICT_UNSIGNED:
		pass(real, argv, &m, v.text);
	default:
		temp(v.text);
	}
}
