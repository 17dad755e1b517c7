#!/bin/sh
# 260-check-qmail-dkim.t: the admin's whole path with the real qmail-dkim:
# qmail-dkim-keygen, the record published in DNS (dnsmasq on loopback),
# qmail-dkim-install on a fake qmail, and qmail-dkim-check's test
# signature made by qmail-dkim itself, RSA and Ed25519.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
S=$top/scripts
BIN=${QDKIM:-$top/qmail-dkim/qmail-dkim}
T=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-260.XXXXXX") || exit 1
chmod 0755 "$T"
dns_pid=
cleanup() {
	[ -z "$dns_pid" ] || kill "$dns_pid" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

n=0 bad=0
ok() { n=$((n + 1)) && echo "ok $n - $*"; }
nok() { n=$((n + 1)) bad=$((bad + 1)) && echo "not ok $n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }
skip() { n=$((n + 1)) && echo "ok $n # SKIP $*"; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3" && diag "got:  $1" "want: $2" && sed 's/^/  /' "$T/out" >&2; fi; }
has() {
	if grep -q -E -- "$2" "$1"; then ok "$3"; else
		nok "$3" && diag "no line matches: $2" && sed 's/^/  /' "$1" >&2
	fi
}
lacks() {
	if grep -q -E -- "$2" "$1"; then
		nok "$3" && diag "a line matches: $2" && sed 's/^/  /' "$1" >&2
	else ok "$3"; fi
}

if [ ! -x "$BIN" ]; then
	echo "1..0 # SKIP $BIN not built (run make)"
	exit 0
fi
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
for need in "$DNSMASQ" dig openssl /usr/bin/python3; do
	command -v "$need" >/dev/null 2>&1 || {
		echo "1..0 # SKIP $need not installed (tests/deps.sh installs dnsmasq-base, bind9-dnsutils)"
		exit 0
	}
done
/usr/bin/python3 -c 'import dkim, nacl' 2>/dev/null || {
	echo "1..0 # SKIP no dkimpy with Ed25519 for /usr/bin/python3 (python3-dkim, python3-nacl)"
	exit 0
}

start_dns() {
	port=$((20000 + ($$ + 1237) % 30000))
	i=0
	while [ "$i" -lt 20 ]; do
		rm -f "$T/dns.pid"
		if "$DNSMASQ" -C "$T/dns.conf" --port="$port" --listen-address=127.0.0.1 \
			--bind-interfaces --no-resolv --no-hosts --no-poll \
			--pid-file="$T/dns.pid" 2>"$T/dns.err"; then
			j=0
			while [ ! -s "$T/dns.pid" ] && [ "$j" -lt 50 ]; do
				sleep 0.1
				j=$((j + 1))
			done
			dns_pid=$(cat "$T/dns.pid")
			return 0
		fi
		port=$((port + 1))
		i=$((i + 1))
	done
	cat "$T/dns.err" >&2
	return 1
}

if [ "$(id -u)" -eq 0 ]; then
	root=1
	getent group qmail >/dev/null 2>&1 || groupadd -r qmail
	id qmailr >/dev/null 2>&1 || useradd -r -g qmail -d /var/qmail -M -s /usr/sbin/nologin qmailr
	KU=qmailr KG=qmail
else
	root=
	KU=$(id -un) KG=$(id -gn)
fi

# A fake qmail home; the build tree may be closed to qmailr, so the binary
# is copied in, as qmail-dkim-install does anyway.
Q=$T/qmail
K=$Q/control/domainkeys
mkdir -p "$Q/control" "$Q/bin"
cat >"$Q/bin/qmail-remote" <<'EOF'
#!/bin/sh
# stands in for qmail's qmail-remote.c ("Remote host said: ")
exit 111
EOF
chmod 0711 "$Q/bin/qmail-remote"
cp "$BIN" "$T/qmail-dkim"
chmod 0755 "$T/qmail-dkim"

keygen() { "$S/qmail-dkim-keygen" -d "$Q" -u "$KU" -g "$KG" "$@" >"$T/keygen.out" 2>&1 || cat "$T/keygen.out" >&2; }
keygen real.test s202611
keygen -t ed25519 ed.test e202611
keygen -t ed25519 root.test
keygen -t ed25519 both.test e1
keygen -b 1024 both.test r1
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
start_dns || { echo "Bail out! cannot start dnsmasq" && exit 1; }

run() { rc=0 && "$@" >"$T/out" 2>"$T/err" || rc=$?; }
inst() { run "$S/qmail-dkim-install" -d "$Q" -b "$T/qmail-dkim" "$@"; }
chk() {
	run "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -i 192.0.2.7 "$@"
}

inst
is "$rc" 0 "qmail-dkim-install swaps the real qmail-dkim in"
if cmp -s "$Q/bin/qmail-remote" "$T/qmail-dkim"; then ok "qmail-remote is qmail-dkim"; else nok "qmail-remote is qmail-dkim"; fi

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
	for _ in 1 2 3; do skip "not root: cannot run qmail-dkim as qmailr"; done
fi

inst -u
is "$rc" 0 "qmail-dkim-install -u puts qmail-remote back"
is "$(sed -n 2p "$Q/bin/qmail-remote")" "# stands in for qmail's qmail-remote.c (\"Remote host said: \")" "the real qmail-remote is back"

echo "1..$n"
[ "$bad" -eq 0 ]
