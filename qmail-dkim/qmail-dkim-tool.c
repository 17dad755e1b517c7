/*
 * qmail-dkim-tool -- what the scripts need of openssl(1) and dig(1), for
 * a host that has neither: a shared account with a busybox and nothing
 * else, or CentOS 6 and 7, whose OpenSSL 1.0 cannot make an Ed25519 key.
 * OpenSSL and the C library's resolver are already linked into the
 * programs of make dist; this puts them at the scripts' disposal.
 *
 *	qmail-dkim-tool openssl genpkey|pkey|base64 OPTION...
 *	qmail-dkim-tool dig [+OPTION]... [@SERVER] [-p PORT] NAME TYPE...
 *
 * Each prints what that command prints for the options the scripts give
 * (tool-key.c, tool-dns.c), and the scripts run it only where the command
 * itself is missing.  A failure is one line on stderr and exit 1: the
 * scripts' stderr, never qmail-send's report pipe, since qmail never
 * runs this program (only qmail-dkim, qmail-dkimc and qmail-dkim-queue
 * stand in for qmail's own, and they keep off stderr).
 */
#include <stdio.h>
#include <string.h>

#include "qdkim.h"

static int
fail(const char *what)
{
	fprintf(stderr, "qmail-dkim-tool: %s: %s\n", what,
	    why[0] != '\0' ? why : "failed");
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "openssl") == 0) {
		if (strcmp(argv[2], "genpkey") == 0)
			return tool_genpkey(argc - 3, argv + 3) == 0 ? 0 : fail("genpkey");
		if (strcmp(argv[2], "pkey") == 0)
			return tool_pkey(argc - 3, argv + 3) == 0 ? 0 : fail("pkey");
		if (strcmp(argv[2], "base64") == 0)
			return tool_base64(argc - 3, argv + 3) == 0 ? 0 : fail("base64");
	}
	if (argc >= 2 && strcmp(argv[1], "dig") == 0)
		return tool_dig(argc - 2, argv + 2) == 0 ? 0 : fail("dig");
	fputs("usage: qmail-dkim-tool openssl genpkey|pkey|base64 OPTION...\n"
	    "       qmail-dkim-tool dig [+OPTION]... [@SERVER] [-p PORT] NAME TYPE...\n",
	    stderr);
	return 2;
}
