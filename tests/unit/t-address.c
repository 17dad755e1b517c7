/* t-address.c -- the author's domain out of a From: field value */
#include "qdkim.h"
#include "tap.h"

static void
from(const char *value, const char *want)
{
	char out[256], desc[600];
	int r;

	char *nl;

	r = address_domain(value, strlen(value), out, sizeof out);
	snprintf(desc, sizeof desc, "From:%s -> %s", value,
	    want ? want : "none");
	while ((nl = strchr(desc, '\n')) != NULL)
		*nl = ' ';	/* one TAP line each */
	is_str(r ? out : NULL, want, desc);
}

int
main(void)
{
	from(" alice@example.com", "example.com");
	from(" Alice <alice@Example.COM>", "example.com");
	from(" \"Alice Q. Public\" <alice@example.com>", "example.com");
	from(" \"evil@attacker.test <x@y.test>\" <alice@example.com>",
	    "example.com");
	from(" alice@example.com (Alice <a@b.test>)", "example.com");
	from(" (comment (nested) x@evil.test) alice@example.com",
	    "example.com");
	from(" \"a@b\"@example.com", "example.com");
	from(" Alice\n <alice@example.com>", "example.com");
	from(" Friends: alice@example.com, bob@other.test;", "example.com");
	from(" undisclosed-recipients:;", NULL);
	from(" alice@example.com, bob@other.test", "example.com");
	from(" <@relay.test,@r2.test:alice@example.com>", "example.com");
	from(" Alice <alice@sub.example.com.>", "sub.example.com");
	from(" alice", NULL);
	from(" alice@", NULL);
	from(" <>", NULL);
	from("", NULL);
	from(" a@../../etc", NULL);
	from(" a@x/y", NULL);
	from(" a@.", NULL);
	from(" a@..", NULL);
	from(" a@[192.0.2.1]", NULL);
	from(" a@com", NULL);
	from(" =?UTF-8?B?w6lsw6h2ZQ==?= <eleve@example.com>", "example.com");
	from(" a@b\xc3\xbc" "cher.example", NULL);
	from(" \"unterminated <a@x.test>", NULL);
	return done();
}
