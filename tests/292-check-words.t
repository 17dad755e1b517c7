#!/bin/sh
# 292-check-words.t: what qmail-dkim-check says is true and can be used
# as printed: a record to publish comes as a zone file line of strings of
# at most 255 bytes and as a web panel's value; a record damaged by a copy
# and paste is named for its damage; the test signature's line says where
# the key it verified with came from (DNS on loopback, dnsmasq, or a dead
# port), never contradicting the dns: line; and qmail-dkim's own words
# name the real control files, not the checker's scratch copy.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ -x "$QDKIM" ] || skip_all "$QDKIM not built (run make)"
need_dns "$PY"
"$PY" -c 'import dkim' 2>/dev/null || skip_all "no dkimpy for $PY (python3-dkim)"
plan 25

qmail_accounts
qmail_home
real_remote 'exit 111'
cp "$QDKIM" "$T/qmail-dkim"
chmod 0755 "$T/qmail-dkim"
admin_keygen w.test s1 || bail "qmail-dkim-keygen failed"
value=$(cat "$K/w.test/s1.txt")
p=${value#*p=}
for d in multi quoted zonepaste wrapped cut pem nov spaces sha1 ident; do
	cp -pR "$K/w.test" "$K/$d.test"
done
echo "someone@elsewhere.test" >"$K/ident.test/identity"
chmod 0644 "$K/ident.test/identity"
printf '%s: *\n' "$(id -un)" >"$Q/control/dkimrights"
other=$(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null |
	openssl pkey -pubout -outform DER | openssl base64 -A)
v1=$(printf '%s' "$value" | cut -c1-255)
v2=$(printf '%s' "$value" | cut -c256-)
p1=$(printf '%s' "$p" | cut -c1-200)
p2=$(printf '%s' "$p" | cut -c201-)
{
	echo "local=/test/"
	echo "txt-record=s1._domainkey.w.test,$value"
	echo "txt-record=s1._domainkey.ident.test,$value"
	echo "txt-record=s1._domainkey.multi.test,$value"
	echo "txt-record=s1._domainkey.multi.test,\"v=DKIM1; k=rsa; p=$other\""
	# the value with its quotes, pasted into a web panel
	printf '%s\n' "txt-record=s1._domainkey.quoted.test,\"\\\"v=DKIM1; k=rsa; p=$p\\\"\""
	# the zone file line's strings, pasted into a web panel from inside
	# their first and last quotes
	printf '%s\n' "txt-record=s1._domainkey.zonepaste.test,\"$v1\\\" \\\"$v2\""
	printf '%s\n' "txt-record=s1._domainkey.wrapped.test,\"v=DKIM1; k=rsa; p=$p1\\n$p2\""
	echo "txt-record=s1._domainkey.cut.test,\"v=DKIM1; k=rsa; p=$p1\""
	echo "txt-record=s1._domainkey.pem.test,\"v=DKIM1; k=rsa; p=-----BEGIN PUBLIC KEY-----$p-----END PUBLIC KEY-----\""
	echo "txt-record=s1._domainkey.nov.test,\"k=rsa; p=$other\""
	echo "txt-record=s1._domainkey.spaces.test,\"v=DKIM1; k=rsa; p=$p1 x$p2\""
	echo "txt-record=s1._domainkey.sha1.test,\"v=DKIM1; k=rsa; h=sha1; p=$p\""
} >"$T/dns.conf"
start_dns 2921
check() { run "$S/qmail-dkim-check" -d "$Q" -u "$KU" -g "$KG" -b "$T/qmail-dkim" "$@"; }

# --- a record to publish: both forms, every string at most 255 bytes --------------
check -s "127.0.0.1:$port" -T multi.test
has "$T/out" "^FAIL  dns: 2 TXT records at s1\._domainkey\.multi\.test" "two records FAIL"
hasline() { if grep -q -x -F -- "$2" "$1"; then pass "$3"; else fail "$3"; sed 's/^/  /' "$1" >&2; fi; }
hasline "$T/out" "           s1._domainkey.multi.test. IN TXT \"$v1\" \"$v2\"" "the fix: the zone file line, in strings of at most 255"
hasline "$T/out" "           $value" "and the web panel's value, on a line of its own"
lacks "$T/out" "keep only: v=DKIM1" "no 410-character string to put in a zone file"
if awk -F'"' '/ IN TXT /{ for (i = 2; i <= NF; i += 2) if (length($i) > 255) bad = 1 } END { exit bad }' "$T/out"; then
	pass "no zone file string longer than 255"
else
	fail "no zone file string longer than 255"
fi

# --- paste damage, named ------------------------------------------------------------
for c in "quoted:quote marks" "zonepaste:zone file line's quotes" \
	"cut:cut short, 200 of the ${#p} characters" "pem:PEM armour" "nov:no v=DKIM1" \
	"spaces:blanks inside"; do
	d=${c%%:*}
	check -s "127.0.0.1:$port" -T "$d.test"
	has "$T/out" "^FAIL  dns: the record at s1\._domainkey\.$d\.test is not the public half of .*: .*${c#*:}" "$d.test: the damage is named (${c#*:})"
done
hasline "$T/out" "           $value" "and the fix is the value to paste"
check -s "127.0.0.1:$port" -T wrapped.test
has "$T/out" "^FAIL  dns: the record at s1\._domainkey\.wrapped\.test has a line break inside" "wrapped.test: a line break in the record FAILs"

# --- where the test signature's key came from -----------------------------------------
check -s "127.0.0.1:$port" w.test
has "$T/out" "^OK    signature: qmail-dkim's test signature verifies with the DNS record \(d=w\.test s=s1" "a published record: verified with the DNS record, OK"
check -s "127.0.0.1:$port" sha1.test
has "$T/out" "^FAIL  dns: s1\._domainkey\.sha1\.test allows h=sha1 only" "h=sha1: the record FAILs"
lacks "$T/out" "^(OK|WARN)  signature: .*verifies with the DNS record \(" "the signature line does not call that record good"
has "$T/out" "^WARN  signature: .*verifies with the DNS record as dkimpy reads it, which has the fault named above" "it says the record has a fault"
lacks "$T/out" "fix: publish the DKIM record shown above" "and does not ask for a record that is published"
# nothing answers on the discard port of loopback
check -s 127.0.0.1:9 w.test
has "$T/out" "^FAIL  dns: lookup of s1\._domainkey\.w\.test TXT failed \(UNREACHABLE\)" "DNS unreachable: the lookup FAILs"
lacks "$T/out" "nothing in DNS yet" "the signature line does not say the record is missing"
has "$T/out" "^WARN  signature: .*verifies with the local public key \(the DNS lookup failed" "it says the lookup failed"
has "$T/out" "^      fix: make the DNS of w\.test answer" "and the fix is the DNS"
cp -pR "$K/w.test" "$K/nodns.test"
check -s "127.0.0.1:$port" nodns.test
has "$T/out" "^WARN  signature: .*verifies with the local public key \(nothing in DNS yet\)" "no record: nothing in DNS yet"

# --- qmail-dkim's words name the real control files ------------------------------------
check -s "127.0.0.1:$port" ident.test
has "$T/out" "^FAIL  signature: qmail-dkim refused the test message: .*$K/ident\.test/identity" "qmail-dkim's refusal names the real identity file"
lacks "$T/out" "qmail-dkim-check\.[A-Za-z0-9]*/home" "and no scratch path"
