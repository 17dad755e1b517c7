#!/bin/sh
# 651-check-spf.t: qmail-dkim-check's SPF lines, for the envelope sender
# (-f, a bounce's HELO name) and its DMARC alignment with the From:
# domain, and records broken the way hand-typed ones are, with both of
# qmail-dkim-spf's evaluators (python3-spf, and sh with QMAILDKIM_SPF=sh),
# against dnsmasq on loopback.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 26

qmail_accounts
qmail_home
echo mx.a.test >"$Q/control/me"
{
	echo "local=/test/"
	echo "txt-record=a.test,\"v=spf1 ip4:192.0.2.0/24 -all\""
	echo "txt-record=bounce.other.test,\"v=spf1 ip4:198.51.100.0/24 -all\""
	echo "txt-record=news.a.test,\"v=spf1 ip4:192.0.2.7 -all\""
	echo "txt-record=mx.a.test,\"v=spf1 a -all\""
	echo "host-record=mx.a.test,192.0.2.7"
	# receivers treat these as broken (permerror), not as a match
	echo "txt-record=junk.test,\"v=spf1 ip4:192.0.2.0/24 -all foo\""
	echo "txt-record=short.test,\"v=spf1 ip4:192.0.2 -all\""
	echo "txt-record=wide.test,\"v=spf1 ip4:192.0.2.0/33 ~all\""
	echo "txt-record=redir.test,\"v=spf1 redirect:a.test\""
	echo "txt-record=redir2.test,\"v=spf1 redirect=a.test redirect=a.test\""
	echo "txt-record=void.test,\"v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:192.0.2.7 -all\""
	echo "txt-record=mxmany.test,\"v=spf1 mx ip4:192.0.2.7 -all\""
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		echo "mx-host=mxmany.test,m$i.mxmany.test,$i"
	done
	echo "txt-record=deep.test,\"v=spf1 include:d1.deep.test -all\""
	echo "txt-record=d1.deep.test,\"v=spf1 include:d2.deep.test -all\""
	echo "txt-record=d2.deep.test,\"v=spf1 include:d3.deep.test -all\""
	echo "txt-record=d3.deep.test,\"v=spf1 include:d4.deep.test -all\""
	echo "txt-record=d4.deep.test,\"v=spf1 ip4:192.0.2.7 -all\""
} >"$T/dns.conf"
start_dns

for ev in py sh; do
	spf=
	[ "$ev" = py ] || spf="sh"
	chk() {
		name=$1
		shift
		QMAILDKIM_SPF=$spf spawn "$ev-$name" "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -T -i 192.0.2.7 "$@"
	}
	chk other -f x@bounce.other.test a.test
	chk news -f x@news.a.test a.test
	chk bounce -f '<>' a.test
	for d in junk short wide redir redir2 void mxmany deep; do
		chk "$d" "$d.test"
	done
done
wait

for ev in py sh; do
	see "$ev-other"
	has "$T/out" "^WARN  spf: receivers check the envelope sender's domain bounce\.other\.test; it does not align with the From: domain a\.test for DMARC" "$ev: -f at another domain is checked, and does not align"
	has "$T/out" "^FAIL  spf: 192\.0\.2\.7 is not allowed by the SPF record of bounce\.other\.test" "$ev: its record, not the signing domain's, is evaluated"
	see "$ev-news"
	has "$T/out" "^OK    spf: receivers check the envelope sender's domain news\.a\.test; it aligns with the From: domain a\.test .*relaxed" "$ev: a subdomain aligns (relaxed)"
	see "$ev-bounce"
	has "$T/out" "^OK    spf: receivers check the HELO name mx\.a\.test \(a bounce" "$ev: a bounce is checked for control/me's HELO name"
	has "$T/out" "^OK    spf: 192\.0\.2\.7 is allowed by the SPF record of mx\.a\.test \(\+a\)" "$ev: and its record allows the address"
	for d in junk short wide redir redir2; do
		see "$ev-$d"
		has "$T/out" "^FAIL  spf: the SPF record of $d\.test is broken" "$ev: $d.test's record is broken, a FAIL"
	done
	see "$ev-void"
	has "$T/out" "^FAIL  spf: evaluating void\.test meets more than two names without an address" "$ev: three void lookups FAIL"
	see "$ev-mxmany"
	has "$T/out" "^FAIL  spf: .*mxmany\.test.* (11 MX|More than 10 MX)" "$ev: eleven MX hosts FAIL"
	see "$ev-deep"
	has "$T/out" "^OK    spf: 192\.0\.2\.7 is allowed by the SPF record of deep\.test \(\+include:d1\.deep\.test\)" "$ev: includes four deep are followed"
done
