#!/bin/sh
# 260-check-qmail-dkim.t: the admin's whole path with the real qmail-dkim:
# qmail-dkim-keygen, the record published in DNS (dnsmasq on loopback),
# qmail-dkim-install on a fake qmail, and qmail-dkim-check's test
# signature made by qmail-dkim itself, RSA and Ed25519.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ -x "$QDKIM" ] || skip_all "$QDKIM not built (run make)"
need_dns "$PY"
"$PY" -c 'import dkim, nacl' 2>/dev/null ||
	skip_all "no dkimpy with Ed25519 for $PY (python3-dkim, python3-nacl)"
plan 16

qmail_accounts

# A fake qmail home; the build tree may be closed to qmailr, so the binary
# is copied in, as qmail-dkim-install does anyway.
qmail_home
real_remote 'exit 111'
cp "$QDKIM" "$T/qmail-dkim"
chmod 0755 "$T/qmail-dkim"

admin_keygen real.test s202611
admin_keygen -t ed25519 ed.test e202611
admin_keygen -t ed25519 root.test
admin_keygen -t ed25519 both.test e1
admin_keygen -b 1024 both.test r1
# Many domains: who may sign as which (qmail-dkim-check FAILs without it).
printf '%s: *\n' "$(id -un)" >"$Q/control/dkimrights"
printf 'e1\nr1\n' >"$K/both.test/selector"
[ -z "$root" ] || chown 0:0 "$K/root.test/default"
{
	echo "local=/test/"
	for d in real.test/s202611 ed.test/e202611 both.test/e1 both.test/r1; do
		echo "txt-record=${d#*/}._domainkey.${d%/*},$(cat "$K/$d.txt")"
	done
	for d in real.test ed.test both.test; do
		echo "txt-record=$d,\"v=spf1 ip4:192.0.2.7 -all\""
		echo "txt-record=_dmarc.$d,\"v=DMARC1; p=reject\""
	done
} >"$T/dns.conf"
start_dns 1237

inst() { run "$S/qmail-dkim-install" -d "$Q" -b "$T/qmail-dkim" "$@"; }
chk() {
	run "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -i 192.0.2.7 "$@"
}

inst
is "$rc" 0 "qmail-dkim-install swaps the real qmail-dkim in"
if cmp -s "$Q/bin/qmail-remote" "$T/qmail-dkim"; then pass "qmail-remote is qmail-dkim"; else fail "qmail-remote is qmail-dkim"; fi

# No -b: the check uses QMAILHOME/bin/qmail-dkim, which install put there.
chk real.test
is "$rc" 0 "RSA: the check passes"
has "$T/out" "^OK    signature: qmail-dkim's test signature verifies with the DNS record \(d=real\.test s=s202611 a=rsa-sha256 " "RSA: qmail-dkim's signature verifies with the published record"
lacks "$T/out" "^(WARN|FAIL)" "RSA: no WARN, no FAIL"

chk ed.test
is "$rc" 0 "Ed25519: the check passes"
has "$T/out" "^OK    signature: qmail-dkim's test signature verifies with the DNS record \(d=ed\.test s=e202611 a=ed25519-sha256 " "Ed25519: qmail-dkim's signature verifies with the published record"

chk both.test
is "$rc" 0 "two selectors: the check passes"
has "$T/out" "^OK    signature: .* verifies with the DNS record \(d=both\.test s=e1 a=ed25519-sha256 " "the Ed25519 signature verifies"
has "$T/out" "^OK    signature: .* verifies with the DNS record \(d=both\.test s=r1 a=rsa-sha256 " "and the RSA one beside it"

chk mail.real.test
has "$T/out" "^OK    signature: .*\(d=real\.test s=s202611 " "a subdomain: qmail-dkim signs with the parent's key, as the check predicted"

if [ -n "$root" ]; then
	chk root.test
	is "$rc" 1 "a key qmailr cannot read: the check fails"
	has "$T/out" "^FAIL  key: qmailr .* cannot read .*/root\.test/default" "the key check says so"
	has "$T/out" "^FAIL  signature: qmail-dkim refused the test message: " "and qmail-dkim, run as qmailr, defers the message"
else
	skip 3 "not root: cannot run qmail-dkim as qmailr"
fi

inst -u
is "$rc" 0 "qmail-dkim-install -u puts qmail-remote back"
is "$(sed -n 2p "$Q/bin/qmail-remote")" "# stands in for qmail's qmail-remote.c (\"Remote host said: \")" "the real qmail-remote is back"

