#!/bin/sh
# 294-check-all.t: qmail-dkim-check -a on a host with 300 generated
# domains, each with its own case (a live key whose record matches, a
# staged key only, no record, another key's record, an old key, no
# rights line, a staged key beside a live one, a broken key, a selector
# file naming no key; as root a key, a selector file and control/dkimrights
# that qmailr cannot read), against dnsmasq on loopback: the line of each
# domain says its case, the exit status is the Nagios one, -q prints only
# what is wrong, and -A adds the domains qmail receives for that have no
# key. The time the run takes is shown (make bench measures; no test is
# timed).
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 38

qmail_accounts
qmail_home
N=300
# Three keys for all the domains: generating 300 would take longer than
# the check.
admin_keygen good.test s1 || bail "qmail-dkim-keygen failed"
admin_keygen -t ed25519 good.test e1 || bail "qmail-dkim-keygen failed"
rsa=$(cat "$K/good.test/s1.txt")
ed=$(cat "$K/good.test/e1.txt")
other=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null |
	openssl pkey -pubout -outform DER | openssl base64 -A)
# put DOMAIN SELECTOR KEYNAME: the key KEYNAME (s1 or e1) as SELECTOR
put() {
	mkdir -p "$K/$1"
	cp -p "$K/good.test/$3" "$K/$1/$2"
	[ -z "$root" ] || chgrp "$KG" "$K/$1"
	chmod 0750 "$K/$1"
}
: >"$T/expect"
: >"$T/dns.conf"
echo "local=/test/" >>"$T/dns.conf"
: >"$Q/control/dkimrights"
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	d=$(printf 'd%03d.test' "$i")
	uid=$((2000 + i % 7))
	grant=1
	case $((i % 10)) in
	0) # live, record published: OK
		put "$d" s1 s1
		echo "s1" >"$K/$d/selector"
		echo "txt-record=s1._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "OK $d s1=live/match" >>"$T/expect"
		;;
	1) # staged only, published: WARN, activate it
		put "$d" s2 s1
		echo "txt-record=s2._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "WARN $d s2=staged/match" >>"$T/expect"
		;;
	2) # live, no record: FAIL
		put "$d" s1 s1
		echo "s1" >"$K/$d/selector"
		echo "FAIL $d s1=live/missing" >>"$T/expect"
		;;
	3) # live, another key's record: FAIL
		put "$d" s1 s1
		echo "s1" >"$K/$d/selector"
		echo "txt-record=s1._domainkey.$d,\"v=DKIM1; k=rsa; p=$other\"" >>"$T/dns.conf"
		echo "FAIL $d s1=live/differs" >>"$T/expect"
		;;
	4) # live, old: WARN, roll it over
		put "$d" s1 s1
		echo "s1" >"$K/$d/selector"
		touch -t 202001010000 "$K/$d/s1"
		echo "txt-record=s1._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "WARN $d s1=live/match" >>"$T/expect"
		;;
	5) # live Ed25519, published, no rights line: WARN
		put "$d" e1 e1
		echo "e1" >"$K/$d/selector"
		echo "txt-record=e1._domainkey.$d,$ed" >>"$T/dns.conf"
		echo "WARN $d e1=live/match" >>"$T/expect"
		grant=
		;;
	6) # the key named default, no selector file: OK
		put "$d" default s1
		echo "txt-record=default._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "OK $d default=live/match" >>"$T/expect"
		;;
	7) # live and a staged key not yet published: WARN
		put "$d" e1 e1
		put "$d" s2 s1
		echo "e1" >"$K/$d/selector"
		echo "txt-record=e1._domainkey.$d,$ed" >>"$T/dns.conf"
		echo "WARN $d e1=live/match s2=staged/missing" >>"$T/expect"
		;;
	8) # a live key openssl cannot read: FAIL
		mkdir -p "$K/$d"
		printf -- '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n' >"$K/$d/s1"
		[ -z "$root" ] || { chgrp "$KG" "$K/$d" && chown "$KU:$KG" "$K/$d/s1"; }
		chmod 0400 "$K/$d/s1"
		chmod 0750 "$K/$d"
		echo "s1" >"$K/$d/selector"
		echo "FAIL $d s1=live/badkey" >>"$T/expect"
		;;
	9) # the selector file names a key that is not there: FAIL
		put "$d" s1 s1
		printf 's9\n' >"$K/$d/selector"
		echo "txt-record=s1._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "FAIL $d s9=live/nokey s1=staged/match" >>"$T/expect"
		;;
	esac
	[ -z "$grant" ] || echo "$uid: $d" >>"$Q/control/dkimrights"
done
# As root: a live key and a selector file qmailr cannot read (qmail-dkim
# defers all mail from those domains)
nfail=120
if [ -n "$root" ]; then
	put x1.test s1 s1
	chown 0:0 "$K/x1.test/s1"
	echo "s1" >"$K/x1.test/selector"
	put x2.test s1 s1
	echo "s1" >"$K/x2.test/selector"
	chmod 0600 "$K/x2.test/selector"
	for d in x1.test x2.test; do
		echo "txt-record=s1._domainkey.$d,$rsa" >>"$T/dns.conf"
		echo "FAIL $d s1=live/match" >>"$T/expect"
		echo "root: $d" >>"$Q/control/dkimrights"
	done
	nfail=122
	N=302
fi
# a staged key only and no rights line; a file named default that is no key
put x3.test s2 s1
echo "txt-record=s2._domainkey.x3.test,$rsa" >>"$T/dns.conf"
echo "WARN x3.test s2=staged/match" >>"$T/expect"
mkdir "$K/x4.test"
echo "not a key" >"$K/x4.test/default"
chmod 0400 "$K/x4.test/default"
chmod 0750 "$K/x4.test"
[ -z "$root" ] || chgrp "$KG" "$K/x4.test"
echo "FAIL x4.test default=live/nokey" >>"$T/expect"
echo "root: x4.test" >>"$Q/control/dkimrights"
# a live RSA key of 1024 bits, its record published: WARN
mkdir "$K/x5.test"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$K/x5.test/s1" 2>/dev/null
chmod 0400 "$K/x5.test/s1"
chmod 0750 "$K/x5.test"
[ -z "$root" ] || { chgrp "$KG" "$K/x5.test" && chown "$KU:$KG" "$K/x5.test/s1"; }
echo s1 >"$K/x5.test/selector"
echo "txt-record=s1._domainkey.x5.test,\"v=DKIM1; k=rsa; p=$(openssl pkey -in "$K/x5.test/s1" -pubout -outform DER | openssl base64 -A)\"" >>"$T/dns.conf"
echo "WARN x5.test s1=live/match" >>"$T/expect"
echo "root: x5.test" >>"$Q/control/dkimrights"
nfail=$((nfail + 1))
N=$((N + 3))
rm -rf "$K/good.test"
# a directory qmail-dkim never looks in
mkdir "$K/Upper.Test"
chmod 0750 "$K/Upper.Test"
[ -z "$root" ] || chgrp "$KG" "$K/Upper.Test"
# the domains qmail receives for: one without a key, one signed by its
# parent's, a wildcard and an address that name no domain
printf 'd010.test\nnokey.test\nsub.d020.test\n.wild.test\n' >"$Q/control/rcpthosts"
printf 'nokey.test:alice\nbob@single.test:bob\n' >"$Q/control/virtualdomains"
start_dns

chk() { run "$S/qmail-dkim-check" -a -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" "$@"; }

# --- every case, on each domain's line; -A: the domains without a key -----------
printf 'WARN nokey.test -\nOK sub.d020.test parent=d020.test\n' >>"$T/expect"
t0=$(date +%s)
chk -A
t1=$(date +%s)
diag "qmail-dkim-check -a -A: $((N + 2)) domains in $((t1 - t0)) s (wall clock, $(nproc 2>/dev/null || echo ?) CPUs; make bench-domains measures)"
is "$rc" 2 "exit 2: a FAIL (Nagios CRITICAL)"
# the domains' lines (not the host's, "WARN  key: ..."), without their
# ages and what follows the keys
awk '/^(OK|WARN|FAIL) / && $2 !~ /:$/ {
	out = $1
	for (i = 2; i <= NF && $i !~ /^rights=/; i++) { sub(/\/[0-9?]+d$/, "", $i); out = out " " $i }
	print out
}' "$T/out" >"$T/got"
sort "$T/expect" >"$T/expect.sorted"
sort "$T/got" >"$T/got.sorted"
if cmp -s "$T/expect.sorted" "$T/got.sorted"; then pass "each of the $((N + 2)) domains has its line, with its case"; else
	fail "each of the $((N + 2)) domains has its line, with its case"
	diff "$T/expect.sorted" "$T/got.sorted" | sed 's/^/  /' | head -30 >&2
fi
is "$(cut -d' ' -f2 "$T/got" | sort -c 2>&1 && echo sorted)" sorted "the domains in order"
is "$(grep -c '^OK    d[0-9]*\.test s1=live/match/0d rights=200[0-6]$' "$T/out")" 30 "a live key whose record matches: OK, age 0 days, and who may sign"
is "$(grep -c '^OK    d[0-9]*\.test default=live/match/0d rights=' "$T/out")" 30 "the key named default signs without a selector file"
has "$T/out" '^WARN  d001\.test s2=staged/match/0d rights=2001  not signing yet: the staged key s2 is published$' "staged only: not signing yet"
has "$T/out" "^      fix: sign with it: qmail-dkim-keygen -d $Q -A s2 d001\\.test$" "with the command that activates it"
has "$T/out" '^FAIL  d002\.test s1=live/missing/0d rights=2002  no TXT record at s1\._domainkey\.d002\.test: receivers cannot verify' "no record: FAIL"
has "$T/out" "^      fix: publish the record \\(qmail-dkim-keygen -d $Q -p -z zone d002\\.test s1 prints it\\)" "with the command that prints it"
has "$T/out" '^FAIL  d003\.test s1=live/differs/0d .*the record at s1\._domainkey\.d003\.test is not this key.s' "another key's record: FAIL"
age=$(((t1 - $(date -d 2020-01-01T00:00 +%s 2>/dev/null || echo "$t1")) / 86400))
has "$T/out" "^WARN  d004\\.test s1=live/match/${age}d .*the key s1 is $age days old, more than 365: roll it over" "an old key: WARN with its age"
has "$T/out" "^      fix: qmail-dkim-keygen -d $Q d004\\.test s[0-9]{6}; publish the record it prints; once DNS serves it: qmail-dkim-keygen -d $Q -A s[0-9]{6} d004\\.test; a week later: qmail-dkim-keygen -d $Q -R s1 d004\\.test$" "naming the rollover commands"
has "$T/out" '^WARN  d005\.test e1=live/match/0d rights=none  no line of control/dkimrights grants d005\.test' "no rights line: WARN"
has "$T/out" '^WARN  d007\.test e1=live/match/0d s2=staged/missing/0d rights=2000  no TXT record at s2\._domainkey\.d007\.test yet' "a staged key not yet published beside a live one: WARN"
has "$T/out" "^FAIL  d008\\.test s1=live/badkey/0d .*openssl cannot read the key $K/d008\\.test/s1: qmail-dkim defers all mail from d008\\.test" "a broken key: FAIL, it defers the mail"
has "$T/out" "^FAIL  d009\\.test s9=live/nokey s1=staged/match/0d .*$K/d009\\.test/selector lists s9, which is no key file" "a selector with no key: FAIL"
if [ -n "$root" ]; then
	has "$T/out" "^FAIL  x1\\.test s1=live/match/0d rights=root  $KU \\(gid $KG, no other groups\\) cannot read the key $K/x1\\.test/s1: qmail-dkim defers all mail from x1\\.test" "a key qmailr cannot read: FAIL"
	has "$T/out" "^FAIL  x2\\.test s1=live/match/0d rights=root  $KU \\(gid $KG, no other groups\\) cannot read $K/x2\\.test/selector: qmail-dkim defers all mail from x2\\.test" "a selector file qmailr cannot read: FAIL"
else
	skip 2 "not root: nothing is tried as qmailr"
fi
has "$T/out" '^WARN  x3\.test s2=staged/match/0d rights=none  no line of control/dkimrights grants x3\.test: no local user.s mail is signed as x3\.test; not signing yet: the staged key s2 is published$' "staged only and no rights line: both said"
has "$T/out" "^FAIL  x4\\.test default=live/nokey rights=root  $K/x4\\.test/default, which signs when there is no selector file, is no key file: qmail-dkim defers all mail from x4\\.test" "a file named default that is no key: FAIL"
has "$T/out" '^WARN  x5\.test s1=live/match/0d rights=root  the key s1 is RSA 1024 bits: RFC 8301 asks for 2048' "an RSA key of 1024 bits: WARN"
has "$T/out" '^WARN  nokey\.test - rights=-  no key: mail from nokey\.test goes out unsigned' "-A: a domain of rcpthosts and virtualdomains without a key: WARN"
has "$T/out" '^OK    sub\.d020\.test parent=d020\.test rights=-  no key of its own: qmail-dkim signs its mail with d=d020\.test' "-A: a subdomain signed by its parent's key: OK"
lacks "$T/out" "wild|single" "-A: wildcards and addresses name no domain"
has "$T/out" "^WARN  key: $K/Upper\\.Test is not a domain name in lower case: qmail-dkim never signs with what is in it" "a directory that is no domain name: a WARN of the host"
has "$T/out" "^qmail-dkim-check: $((N + 2)) domains: 61 OK, 123 WARN, $nfail FAIL; the host: 1 WARN, 0 FAIL$" "the summary counts"

# --- -q: only what is wrong; the exit status: 1 with a WARN and no FAIL -----------
rmdir "$K/Upper.Test"
grep '^FAIL' "$T/got" | cut -d' ' -f2 | while read -r d; do rm -rf "${K:?}/$d"; done
chk -q
is "$rc" 1 "exit 1: a WARN, no FAIL (Nagios WARNING)"
lacks "$T/out" "^OK " "-q: no OK line"
is "$(grep -c '^WARN ' "$T/out")" 122 "-q: every WARN"
lacks "$T/out" "nokey" "without -A, no domain without a key directory"
has "$T/out" "^qmail-dkim-check: 182 domains: 60 OK, 122 WARN, 0 FAIL" "-q: the summary, since something is wrong"

# --- control/dkimrights that qmailr cannot read -------------------------------------
grep '^WARN' "$T/got" | cut -d' ' -f2 | while read -r d; do rm -rf "${K:?}/$d"; done
if [ -n "$root" ]; then
	chmod 0600 "$Q/control/dkimrights"
	chk -q
	is "$rc" 2 "control/dkimrights that qmailr cannot read: exit 2"
	has "$T/out" "^FAIL  rights: $KU \\(gid $KG, no other groups\\) cannot read $Q/control/dkimrights: qmail-dkim defers all mail" "a FAIL of the host"
	has "$T/out" "; the host: 0 WARN, 1 FAIL$" "counted as the host's"
	chmod 0644 "$Q/control/dkimrights"
else
	skip 3 "not root: nothing is tried as qmailr"
fi

# --- 0 when all is well ---------------------------------------------------------------
chk -q
is "$rc" 0 "exit 0: all OK"
is "$(cat "$T/out")" "" "-q prints nothing when all is well (cron sends no mail)"
# an old host's tools: busybox's sh, awk, sed, find, stat; dig, openssl
# and setpriv (busybox's takes no --reuid) are this host's
if busybox_bin "$T/bb" dig openssl setpriv; then
	run env PATH="$T/bb" "$T/bb/sh" "$S/qmail-dkim-check" -a -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG"
	grep -v '^qmail-dkim-check: every domain' "$T/out" >"$T/bb.out"
	run "$S/qmail-dkim-check" -a -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG"
	grep -v '^qmail-dkim-check: every domain' "$T/out" >"$T/dash.out"
	if cmp -s "$T/dash.out" "$T/bb.out" && [ -s "$T/bb.out" ]; then pass "under busybox: the same lines"; else
		fail "under busybox: the same lines"
		diff "$T/dash.out" "$T/bb.out" | head -10 | sed 's/^/  /' >&2
	fi
else
	skip 1 "busybox not installed (tests/deps.sh installs it)"
fi
chk -j 0
is "$rc" 3 "a usage error: exit 3 (Nagios UNKNOWN)"
