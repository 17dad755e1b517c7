/* t-domain.c -- which domains may become a path under control/domainkeys */
#include "qdkim.h"
#include "tap.h"

static void
norm(const char *in, const char *want)
{
	char buf[400], desc[600];

	snprintf(buf, sizeof buf, "%s", in);
	snprintf(desc, sizeof desc, "domain '%s' -> %s", in,
	    want ? want : "refused");
	if (domain_normalize(buf))
		is_str(buf, want, desc);
	else
		is_str(NULL, want, desc);
}

int
main(void)
{
	char label64[80], long_name[400];

	norm("example.com", "example.com");
	norm("Mail.EXAMPLE.Com", "mail.example.com");
	norm("example.com.", "example.com");
	norm("a-b.example.com", "a-b.example.com");
	norm("xn--bcher-kva.example", "xn--bcher-kva.example");
	norm("com", NULL);		/* never a bare top-level domain */
	norm("", NULL);
	norm(".", NULL);
	norm("..", NULL);
	norm("../../etc", NULL);
	norm("x/y", NULL);
	norm("a..b", NULL);
	norm(".example.com", NULL);
	norm("-a.example.com", NULL);
	norm("a-.example.com", NULL);
	norm("[127.0.0.1]", NULL);
	norm("ex ample.com", NULL);
	norm("b\xc3\xbc" "cher.example", NULL);	/* UTF-8: not LDH */
	memset(label64, 'a', 64);
	snprintf(label64 + 64, 16, ".example");
	norm(label64, NULL);
	label64[63] = '\0';
	snprintf(long_name, sizeof long_name, "%s.example", label64);
	norm(long_name, long_name);
	memset(long_name, 0, sizeof long_name);
	for (int i = 0; i < 5; i++)
		strcat(strcat(long_name, label64), ".");
	strcat(long_name, "com");
	norm(long_name, NULL);		/* longer than 253 */

	is_str(domain_parent("a.b.example.com"), "b.example.com", "parent");
	is_str(domain_parent("b.example.com"), "example.com", "parent 2");
	is_str(domain_parent("example.com"), NULL, "no bare TLD parent");

	ok(selector_valid("default"), "selector default");
	ok(selector_valid("s202611"), "selector s202611");
	ok(selector_valid("mail.2026"), "selector with a dot");
	ok(!selector_valid("selector"), "selector 'selector' is the list");
	ok(!selector_valid("../x"), "selector ../x");
	ok(!selector_valid("a/b"), "selector a/b");
	ok(!selector_valid("a;b"), "selector a;b");
	ok(!selector_valid(""), "empty selector");
	return done();
}
