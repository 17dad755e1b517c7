/*
 * tool-dns.c -- DNS lookups as dig(1) prints them, for a host without
 * dig: qmail-dkim-tool dig [+OPTION]... [@SERVER] [-p PORT] NAME TYPE...
 *
 * The scripts read three things of dig's output: the status in the
 * ->>HEADER<<- line, the question line after ";; QUESTION SECTION:", and
 * the answer records, one a line: NAME TTL CLASS TYPE DATA.  Those are
 * printed here the same way, through the C library's resolver (the
 * system's /etc/resolv.conf, or SERVER), for A, AAAA, MX, TXT, PTR,
 * CNAME and NS data, and RFC 3597's \# form for any other type.  TXT
 * strings are quoted with \" \\ and \DDD escapes, as dig writes them.
 * +time=N and +tries=N are dig's; other +options are dig's display
 * options, which the scripts always give the same, and are ignored.
 * No answer from any server prints dig's "no servers could be reached"
 * line and no header, as dig does.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qdkim.h"

static const struct {
	const char *name;
	int type;
} types[] = {
	{ "A", ns_t_a }, { "NS", ns_t_ns }, { "CNAME", ns_t_cname },
	{ "SOA", ns_t_soa }, { "PTR", ns_t_ptr }, { "MX", ns_t_mx },
	{ "TXT", ns_t_txt }, { "AAAA", ns_t_aaaa }, { "SPF", ns_t_spf },
	{ "ANY", ns_t_any },
};

/* a decimal number from min to max, else -1 */
static int
number(const char *s, int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < min || n > max)
		return -1;
	return (int)n;
}

static int
type_number(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(s, types[i].name) == 0)
			return types[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0)
		return number(s + 4, 1, 65535);
	return -1;
}

static void
type_print(int t)
{
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == t) {
			fputs(types[i].name, stdout);
			return;
		}
	printf("TYPE%d", t);
}

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

/* a domain name in the message at p, with its final dot */
static int
name_print(ns_msg *m, const unsigned char *p)
{
	char name[NS_MAXDNAME];

	if (ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), p, name,
	    sizeof name) == -1)
		return -1;
	printf("%s%s", name, strcmp(name, ".") == 0 ? "" : ".");
	return 0;
}

/* TXT data: each string quoted, as dig prints it */
static int
txt_print(const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;
	int first = 1;

	while (p < end) {
		size_t n = *p++;

		if (n > (size_t)(end - p))
			return -1;
		printf("%s\"", first ? "" : " ");
		first = 0;
		for (; n > 0; n--, p++) {
			if (*p == '"' || *p == '\\')
				printf("\\%c", *p);
			else if (*p < 0x20 || *p > 0x7e)
				printf("\\%03u", *p);
			else
				putchar(*p);
		}
		putchar('"');
	}
	return 0;
}

static int
rdata_print(ns_msg *m, ns_rr *rr)
{
	const unsigned char *d = ns_rr_rdata(*rr);
	size_t len = ns_rr_rdlen(*rr), i;
	char addr[INET6_ADDRSTRLEN];

	switch (ns_rr_type(*rr)) {
	case ns_t_a:
	case ns_t_aaaa:
		if (len != (ns_rr_type(*rr) == ns_t_a ? 4u : 16u) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, addr,
		    sizeof addr) == NULL)
			return -1;
		fputs(addr, stdout);
		return 0;
	case ns_t_mx:
		if (len < 3)
			return -1;
		printf("%u ", (unsigned)d[0] << 8 | d[1]);
		return name_print(m, d + 2);
	case ns_t_ptr:
	case ns_t_cname:
	case ns_t_ns:
		return name_print(m, d);
	case ns_t_txt:
	case ns_t_spf:
		return txt_print(d, len);
	default:
		printf("\\# %zu ", len);
		for (i = 0; i < len; i++)
			printf("%02X", d[i]);
		return 0;
	}
}

/* One query: its header line, question and answers, as dig prints them. */
static void
query(res_state rs, const char *name, int type)
{
	unsigned char q[NS_PACKETSZ], a[65536];
	ns_msg m;
	ns_rr rr;
	int qlen, alen, i, rcode;

	qlen = res_nmkquery(rs, ns_o_query, name, ns_c_in, type, NULL, 0,
	    NULL, q, sizeof q);
	alen = qlen == -1 ? -1 : res_nsend(rs, q, qlen, a, sizeof a);
	if (alen == -1 || ns_initparse(a, alen, &m) == -1) {
		printf(";; communications error: connection timed out; "
		    "no servers could be reached\n\n");
		return;
	}
	rcode = ns_msg_getflag(m, ns_f_rcode);
	printf(";; ->>HEADER<<- opcode: QUERY, status: ");
	if (rcode < (int)(sizeof rcodes / sizeof rcodes[0]))
		printf("%s", rcodes[rcode]);
	else
		printf("RCODE%d", rcode);
	printf(", id: %u\n", ns_msg_id(m));
	printf(";; QUERY: %d, ANSWER: %d\n\n", ns_msg_count(m, ns_s_qd),
	    ns_msg_count(m, ns_s_an));
	printf(";; QUESTION SECTION:\n;%s%s\t\tIN\t", name,
	    name[0] != '\0' && name[strlen(name) - 1] == '.' ? "" : ".");
	type_print(type);
	printf("\n\n");
	if (ns_msg_count(m, ns_s_an) > 0)
		printf(";; ANSWER SECTION:\n");
	for (i = 0; i < ns_msg_count(m, ns_s_an); i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) == -1)
			break;
		printf("%s%s\t%lu\tIN\t", ns_rr_name(rr),
		    strcmp(ns_rr_name(rr), ".") == 0 ? "" : ".",
		    (unsigned long)ns_rr_ttl(rr));
		type_print(ns_rr_type(rr));
		putchar('\t');
		if (rdata_print(&m, &rr) == -1)
			printf("; bad data");
		putchar('\n');
	}
	putchar('\n');
}

int
tool_dig(int argc, char **argv)
{
	struct __res_state rs;
	struct sockaddr_in sin;
	const char *server = NULL;
	int port = 53, i, t, n = 0;

	memset(&rs, 0, sizeof rs);
	if (res_ninit(&rs) == -1) {
		why_set("cannot set up the resolver");
		return -1;
	}
	rs.retrans = 2;
	rs.retry = 2;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "+time=", 6) == 0)
			rs.retrans = number(argv[i] + 6, 1, 300);
		else if (strncmp(argv[i], "+tries=", 7) == 0)
			rs.retry = number(argv[i] + 7, 1, 10);
		else if (argv[i][0] == '+')
			continue;
		else if (argv[i][0] == '@')
			server = argv[i] + 1;
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			port = number(argv[++i], 1, 65535);
		else
			argv[n++] = argv[i];	/* NAME TYPE pairs */
	}
	if (rs.retrans == -1 || rs.retry == -1 || port == -1) {
		why_set("+time, +tries or -p is not a number in range");
		res_nclose(&rs);
		return -1;
	}
	if (server != NULL) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, server, &sin.sin_addr) != 1) {
			why_set("@%s: give the server as an IPv4 address", server);
			res_nclose(&rs);
			return -1;
		}
		rs.nsaddr_list[0] = sin;
		rs.nscount = 1;
		/* the resolver's IPv6 server list is consulted first */
		rs._u._ext.nscount = 0;
		for (i = 0; i < MAXNS; i++)
			rs._u._ext.nsaddrs[i] = NULL;
	}
	if (n == 0 || n % 2 != 0) {
		why_set("give NAME TYPE pairs");
		res_nclose(&rs);
		return -1;
	}
	for (i = 0; i < n; i += 2) {
		if ((t = type_number(argv[i + 1])) == -1) {
			why_set("unknown record type %s", argv[i + 1]);
			res_nclose(&rs);
			return -1;
		}
		query(&rs, argv[i], t);
	}
	res_nclose(&rs);
	return fflush(stdout) == EOF ? -1 : 0;
}
