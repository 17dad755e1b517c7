/* t-relay.c -- the report relayed: the note in the message record only */
#include <stdlib.h>

#include "qdkim.h"
#include "tap.h"

#define NOTE " DKIM signed d=example.com s=s1"

/* Feeds in pieces of every size; each must give want, byte for byte. */
static void
relay(const char *in, size_t len, const char *want, size_t wantlen,
    const char *desc)
{
	char out[4096], buf[1024];
	size_t piece, i, k, n;
	struct relay r;
	int same = 1;

	for (piece = 1; piece <= len + 1; piece++) {
		relay_start(&r, NOTE);
		n = 0;
		for (i = 0; i < len; i += k) {
			k = len - i < piece ? len - i : piece;
			n += relay_filter(&r, in + i, k, out + n);
		}
		n += relay_filter(&r, buf, 0, out + n);
		if (n != wantlen || memcmp(out, want, n) != 0) {
			same = 0;
			printf("# piece %zu: got %zu bytes '", piece, n);
			fwrite(out, 1, n, stdout);
			printf("'\n");
		}
	}
	ok(same, desc);
}

#define R(in, want, desc) relay(in, sizeof in - 1, want, sizeof want - 1, desc)

int
main(void)
{
	const char *n;

	R("r\0Kok\n\0", "r\0Kok" NOTE "\n\0", "r, then K: the note before K's newline");
	R("r\0r\0r\0K1.2.3.4 accepted message.\nRemote host said: 250 ok\n\0",
	    "r\0r\0r\0K1.2.3.4 accepted message.\nRemote host said: 250 ok" NOTE "\n\0",
	    "several recipients; a newline inside K's text stays");
	R("h1.2.3.4 does not like recipient.\nRemote host said: 550 no\n\0"
	    "s1.2.3.4 does not like recipient.\nRemote host said: 450 later\n\0"
	    "DGiving up on 1.2.3.4.\n\0",
	    "h1.2.3.4 does not like recipient.\nRemote host said: 550 no\n\0"
	    "s1.2.3.4 does not like recipient.\nRemote host said: 450 later\n\0"
	    "DGiving up on 1.2.3.4." NOTE "\n\0",
	    "h and s records untouched, the note in D");
	R("ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\0",
	    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)" NOTE "\n\0",
	    "a Z before any recipient: the status code kept");
	R("Kok\n\n\0", "Kok\n" NOTE "\n\0", "only the last newline");
	R("Kno newline\0", "Kno newline" NOTE "\0", "a text without a newline: the note at its end");
	R("K\0", "K" NOTE "\0", "an empty text");
	R("r\0Kok\n\0Zstray\n\0", "r\0Kok" NOTE "\n\0Zstray\n\0",
	    "the first message record only");
	R("r\0Kok\n", "r\0Kok\n", "no NUL at the end: relayed as it came");
	R("r\0Kok", "r\0Kok", "cut in the text: relayed as it came");
	R("r\0r\0", "r\0r\0", "no message record: nothing added");
	R("", "", "no report: nothing");
	R("\0Kok\n\0", "\0Kok" NOTE "\n\0", "an empty record first");

	setenv("QMAILDKIM_HOME", "/nonexistent", 1);
	n = relay_note(VERDICT_SIGNED, "d=example.com s=s1 a=rsa-sha256 "
	    "s=e1 a=ed25519-sha256 for uid 0; h= leaves out Subject (x)");
	is_str(n, " DKIM signed d=example.com s=s1,e1", "the signed note: d= and the selectors");
	n = relay_note(VERDICT_UNSIGNED, "no key for\tthe From:\n domain");
	is_str(n, " DKIM not signed: no key for?the From:? domain",
	    "the unsigned note: the reason, control bytes made ?");
	return done();
}
