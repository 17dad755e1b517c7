#!/bin/sh
# 240-check-dns.t: qmail-dkim-check's DKIM record, SPF and DMARC checks,
# against a real DNS server (dnsmasq) on loopback serving records written
# here. No signature test (-T): see 250 and 260.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 66
# hasline FILE LINE DESC: passes if FILE has LINE, exactly.
hasline() {
	if grep -q -x -F -- "$2" "$1"; then pass "$3"; else
		fail "$3"
		diag "no line is: $2"
		sed 's/^/  /' "$1" >&2
	fi
}

qmail_accounts

# One RSA key, the same for every domain; another for a record that does
# not match.
qmail_home
admin_keygen good.test s1 || bail "qmail-dkim-keygen failed"
value=$(cat "$K/good.test/s1.txt")
p=${value#*p=}
for d in long.test wrong.test none.test flags.test revoked.test multi.test kind.test outside.example; do
	cp -pR "$K/good.test" "$K/$d"
done
# Many domains: who may sign as which (qmail-dkim-check FAILs without it).
printf '%s: *\n' "$(id -un)" >"$Q/control/dkimrights"
other=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null |
	openssl pkey -pubout -outform DER | openssl base64 -A)

p1=$(printf '%s' "$p" | cut -c1-100)
p2=$(printf '%s' "$p" | cut -c101-300)
p3=$(printf '%s' "$p" | cut -c301-)
{
	echo "local=/test/"
	# good.test: the DKIM value in four strings cut at odd places.
	echo "txt-record=s1._domainkey.good.test,\"v=DKIM1; k=rsa; \",\"p=$p1\",\"$p2\",\"$p3\""
	echo "txt-record=good.test,\"v=spf1 ip4:192.0.2.0/24 -all\""
	echo "txt-record=_dmarc.good.test,\"v=DMARC1; p=reject\""
	# long.test: one long string, which dnsmasq cuts at 255 itself.
	echo "txt-record=s1._domainkey.long.test,$value"
	echo "txt-record=long.test,\"v=spf1 mx a:relay.long.test include:_spf.other.test ~all\""
	echo "mx-host=long.test,mx.long.test,10"
	echo "host-record=mx.long.test,192.0.2.25"
	echo "host-record=relay.long.test,198.51.100.9"
	echo "txt-record=_spf.other.test,\"v=spf1 ip6:2001:db8::/64 -all\""
	# wrong.test: another key; two SPF records; DMARC without p=.
	echo "txt-record=s1._domainkey.wrong.test,\"v=DKIM1; k=rsa; p=$other\""
	echo "txt-record=wrong.test,\"v=spf1 -all\""
	echo "txt-record=wrong.test,\"v=spf1 +all\""
	echo "txt-record=_dmarc.wrong.test,\"v=DMARC1; rua=mailto:d@wrong.test\""
	# none.test: no DKIM record, no SPF; its DMARC record covers sub.none.test.
	echo "txt-record=_dmarc.none.test,\"v=DMARC1; p=quarantine; sp=none; adkim=s\""
	# flags.test: t=y; an SPF record that needs a macro; p=none.
	echo "txt-record=s1._domainkey.flags.test,\"v=DKIM1; k=rsa; t=y; p=$p\""
	echo "txt-record=flags.test,\"v=spf1 exists:%{i}.spf.flags.test -all\""
	echo "host-record=192.0.2.7.spf.flags.test,127.0.0.2"
	echo "txt-record=_dmarc.flags.test,\"v=DMARC1; p=none\""
	# revoked.test: empty p=; eleven includes; two DMARC records.
	echo "txt-record=s1._domainkey.revoked.test,\"v=DKIM1; k=rsa; p=\""
	inc=
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		inc="$inc include:i$i.revoked.test"
		echo "txt-record=i$i.revoked.test,\"v=spf1 ?all\""
	done
	echo "txt-record=revoked.test,\"v=spf1$inc -all\""
	echo "txt-record=_dmarc.revoked.test,\"v=DMARC1; p=none\""
	echo "txt-record=_dmarc.revoked.test,\"v=DMARC1; p=reject\""
	# multi.test: two DKIM records; SPF by redirect; an unknown policy.
	echo "txt-record=s1._domainkey.multi.test,$value"
	echo "txt-record=s1._domainkey.multi.test,\"v=DKIM1; k=rsa; p=$other\""
	echo "txt-record=multi.test,\"v=spf1 redirect=_spf.other.test\""
	echo "txt-record=_dmarc.multi.test,\"v=DMARC1; p=bogus\""
	# kind.test: tags that contradict the key; SPF by a.
	echo "txt-record=s1._domainkey.kind.test,\"v=DKIM1; k=ed25519; h=sha1; p=$p\""
	echo "txt-record=kind.test,\"v=spf1 a -all\""
	echo "host-record=kind.test,192.0.2.7"
} >"$T/dns.conf"
start_dns
# Each check takes a while to start its many programs: run them all at
# once in the background (spawn NAME CMD...), then look at each (see NAME).
chk_bg() {
	name=$1
	shift
	spawn "$name" "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -T "$@"
}
mkdir -p "$T/q2/control" "$T/q3/control"
echo ":relay.example.net" >"$T/q2/control/smtproutes"
echo 192.0.2.9 >"$T/q3/control/outgoingip"
mkdir -p "$T/q4/control"
echo 10.1.2.3 >"$T/q4/control/outgoingip"
chk_bg r1 -i 192.0.2.7 good.test
chk_bg r2 -w -i 192.0.2.7 good.test
spawn r3 "$S/qmail-dkim-check" -d "$Q" -s 127.0.0.1 -p "$port" -u "$KU" -g "$KG" -T -i 192.0.2.7 GOOD.test.
chk_bg r4 -i 192.0.2.25 -i 198.51.100.9 -i 2001:db8::25 -i 203.0.113.5 long.test
chk_bg r5 -w -i 192.0.2.25 long.test
chk_bg r6 -i 192.0.2.7 wrong.test
chk_bg r7 -i 192.0.2.7 sub.none.test
chk_bg r8 -i 192.0.2.7 flags.test
chk_bg r9 -i 192.0.2.7 revoked.test
chk_bg r10 -i 2001:db8::1 multi.test
chk_bg r11 -i 192.0.2.7 -i 192.0.2.8 kind.test
chk_bg r12 -i 192.0.2.7 outside.example
spawn r13 "$S/qmail-dkim-check" -d "$Q" -s 127.0.0.1:1 -u "$KU" -g "$KG" -T -i 192.0.2.7 good.test
spawn r14 "$S/qmail-dkim-check" -d "$T/q2" -s "127.0.0.1:$port" -T good.test
spawn r15 "$S/qmail-dkim-check" -d "$T/q3" -s "127.0.0.1:$port" -T good.test
spawn r16 "$S/qmail-dkim-check" -d "$Q" -i 300.1.2.3 good.test
spawn r17 "$S/qmail-dkim-check" -d "$Q" com
spawn r18 "$S/qmail-dkim-check" -d "$T/nowhere" good.test
spawn r19 "$S/qmail-dkim-check" -d "$T/q4" -s "127.0.0.1:$port" -T good.test
wait

# --- everything right ----------------------------------------------------------------
see r1
is "$rc" 0 "good.test: exit 0"
has "$T/out" "^OK    dns: s1\._domainkey\.good\.test matches the key \(4 string\(s\) joined, ${#value} characters\)" "good.test: 4 strings joined into the key's record"
has "$T/out" "^OK    spf: 192\.0\.2\.7 is allowed by the SPF record of good\.test \(\+ip4:192\.0\.2\.0/24\)" "good.test: SPF allows the address by ip4"
has "$T/out" "^OK    dmarc: _dmarc\.good\.test: policy reject" "good.test: DMARC policy reject"
lacks "$T/out" "^(WARN|FAIL)" "good.test: no WARN, no FAIL"
has "$T/out" "^qmail-dkim-check: [0-9]+ OK, 0 WARN, 0 FAIL$" "good.test: the summary counts"
see r2
is "$rc" 0 "good.test: exit 0 with -w too"
see r3
is "$rc" 0 "-s SERVER -p PORT works as -s SERVER:PORT; the domain is taken in lower case"

# --- a long single string; mx, a:, include:, ~all; no DMARC -------------------------
see r4
is "$rc" 0 "long.test: exit 0 (WARN only)"
has "$T/out" "^OK    dns: s1\._domainkey\.long\.test matches the key \(2 string\(s\) joined" "long.test: dnsmasq's split of a long string is joined"
has "$T/out" "^OK    spf: 192\.0\.2\.25 is allowed .*\(\+mx\)" "long.test: SPF mx"
has "$T/out" "^OK    spf: 198\.51\.100\.9 is allowed .*\(\+a:relay\.long\.test\)" "long.test: SPF a:host"
has "$T/out" "^OK    spf: 2001:db8::25 is allowed .*\(\+include:_spf\.other\.test\)" "long.test: SPF include: with ip6"
has "$T/out" "^WARN  spf: 203\.0\.113\.5 is not listed .*softfail" "long.test: ~all is a softfail WARN"
has "$T/out" "^      fix: add ip4:203\.0\.113\.5 to the record" "long.test: with the fix"
has "$T/out" "^WARN  dmarc: no DMARC record at _dmarc\.long\.test" "long.test: no DMARC is a WARN"
has "$T/out" "fix: publish: _dmarc\.long\.test\. IN TXT \"v=DMARC1; p=none; " "long.test: with a record to publish"
see r5
is "$rc" 1 "long.test: exit 1 with -w"

# --- a record for another key; two SPF records; DMARC without p= --------------------
see r6
is "$rc" 1 "wrong.test: exit 1"
has "$T/out" "^FAIL  dns: the key published at s1\._domainkey\.wrong\.test is not the public half of " "wrong.test: the record does not match the key"
hasline "$T/out" "           s1._domainkey.wrong.test. IN TXT \"$(printf '%s' "$value" | cut -c1-255)\" \"$(printf '%s' "$value" | cut -c256-)\"" "wrong.test: the fix gives the right record, split"
has "$T/out" "^FAIL  spf: wrong\.test has more than one SPF record" "wrong.test: two SPF records FAIL"
has "$T/out" "^FAIL  dmarc: _dmarc\.wrong\.test has no p= tag" "wrong.test: DMARC without p= FAILs"
has "$T/out" "^qmail-dkim-check: [0-9]+ OK, 0 WARN, 3 FAIL$" "wrong.test: three FAILs counted"

# --- a subdomain signed with its parent's key; no record; inherited DMARC -----------
see r7
is "$rc" 1 "sub.none.test: exit 1"
has "$T/out" "^OK    key: no key for sub\.none\.test itself; qmail-dkim uses that of its parent none\.test" "sub.none.test: the parent's key is found"
has "$T/out" "^FAIL  dns: no TXT record at s1\._domainkey\.none\.test" "sub.none.test: a missing record FAILs, looked up at the key's domain"
has "$T/out" "^           s1\._domainkey\.none\.test\. IN TXT \"v=DKIM1; k=rsa; p=" "sub.none.test: the fix gives the record"
has "$T/out" "^WARN  spf: sub\.none\.test has no SPF record" "sub.none.test: no SPF is a WARN"
has "$T/out" "fix: publish: sub\.none\.test\. IN TXT \"v=spf1 ip4:192\.0\.2\.7 ~all\"" "sub.none.test: with a record for this address"
has "$T/out" "^OK    dmarc: _dmarc\.none\.test \(the organizational domain's record\): policy none" "sub.none.test: the parent's DMARC record applies, with sp="
has "$T/out" "^FAIL  dmarc: .*adkim=s.* d=none\.test" "sub.none.test: strict DKIM alignment with a parent's key FAILs"

# --- t=y; an SPF macro; p=none ---------------------------------------------------------
see r8
is "$rc" 0 "flags.test: exit 0"
has "$T/out" "^OK    dns: s1\._domainkey\.flags\.test matches the key" "flags.test: the record matches"
has "$T/out" "^WARN  dns: s1\._domainkey\.flags\.test has t=y" "flags.test: t=y is a WARN"
has "$T/out" "^OK    spf: 192\.0\.2\.7 is allowed .*\(\+exists:%\{i\}\.spf\.flags\.test\)" "flags.test: the macro in exists: is expanded"
has "$T/out" "^OK    dmarc: _dmarc\.flags\.test: policy none" "flags.test: DMARC policy none"

# --- a revoked key; too many lookups; two DMARC records --------------------------------
see r9
is "$rc" 1 "revoked.test: exit 1"
has "$T/out" "^FAIL  dns: s1\._domainkey\.revoked\.test has no key \(empty or missing p=\)" "revoked.test: empty p= FAILs"
has "$T/out" "^FAIL  spf: evaluating revoked\.test takes more than 10 DNS lookups" "revoked.test: more than 10 lookups FAIL"
has "$T/out" "^FAIL  dmarc: _dmarc\.revoked\.test has more than one DMARC record" "revoked.test: two DMARC records FAIL"

# --- two DKIM records; redirect=; an unknown policy ----------------------------------------
see r10
is "$rc" 1 "multi.test: exit 1"
has "$T/out" "^FAIL  dns: 2 TXT records at s1\._domainkey\.multi\.test" "multi.test: two records at the selector FAIL"
has "$T/out" "^OK    spf: 2001:db8::1 is allowed .*\(\+ip6:2001:db8::/64\)" "multi.test: SPF follows redirect="
has "$T/out" "^FAIL  dmarc: _dmarc\.multi\.test has an unknown policy p=bogus" "multi.test: an unknown policy FAILs"

# --- tags against the key; a; -all --------------------------------------------------------
see r11
is "$rc" 1 "kind.test: exit 1"
has "$T/out" "^FAIL  dns: s1\._domainkey\.kind\.test says k=ed25519 but the key is rsa" "kind.test: k= against the key FAILs"
has "$T/out" "^FAIL  dns: s1\._domainkey\.kind\.test allows h=sha1 only" "kind.test: h= without sha256 FAILs"
has "$T/out" "^OK    spf: 192\.0\.2\.7 is allowed .*\(\+a\)" "kind.test: SPF a"
has "$T/out" "^FAIL  spf: 192\.0\.2\.8 is not allowed .*\(-all\)" "kind.test: -all FAILs"
has "$T/out" "^      fix: add ip4:192\.0\.2\.8 to the record before its all" "kind.test: with the fix"

# --- DNS that does not answer -----------------------------------------------------------------
see r12
is "$rc" 1 "a refused query: exit 1"
has "$T/out" "^FAIL  dns: lookup of s1\._domainkey\.outside\.example TXT failed \(REFUSED\)" "a refused DKIM lookup FAILs with the status"
has "$T/out" "^WARN  spf: lookup of outside\.example TXT failed \(REFUSED\)" "a refused SPF lookup is a WARN"
see r13
is "$rc" 1 "no DNS server: exit 1"
has "$T/out" "^FAIL  dns: lookup of s1\._domainkey\.good\.test TXT failed \(UNREACHABLE\)" "no DNS server: the DKIM lookup FAILs"

# --- where this host's address comes from -----------------------------------------------------
see r14
has "$T/out" "^WARN  spf: mail leaves through the relay relay\.example\.net \(control/smtproutes\)" "a default smtproute: SPF cannot be judged here, WARN"
see r15
has "$T/out" "^OK    spf: 192\.0\.2\.9 is allowed" "control/outgoingip gives the address"
has "$T/out" "^FAIL  key: no key for good\.test or its parent domains" "a home without keys: no key FAILs"
has "$T/out" "^      fix: make one with: qmail-dkim-keygen good\.test" "with the command that makes one"
see r19
has "$T/out" "^WARN  spf: this host's address 10\.1\.2\.3 is private \(behind NAT\?\)" "a private address cannot be judged: WARN"
lacks "$T/out" "address is unknown" "and only once"

# --- usage -----------------------------------------------------------------------------------
see r16
is "$rc" 2 "an invalid -i address is a usage error"
has "$T/err" "invalid address '300\.1\.2\.3'" "and says so"
see r17
is "$rc" 2 "a bare top-level domain is refused"
see r18
is "$rc" 2 "a qmail home without control/ is refused"

