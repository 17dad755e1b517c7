#!/bin/sh
# 270-check-daemon.t: qmail-dkim-check's daemon check, on a fake qmail that
# qmail-dkim-install -c set up with the real qmail-dkimc, qmail-dkimd and
# qmail-dkim: silent without daemon mode, a WARN for each way qmail-dkimc
# ends up signing with qmail-dkim, OK with the signature of a running
# qmail-dkimd verified, FAIL without bin/qmail-dkim to fall back on.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
for _b in "$QDKIM" "$QDKIMC" "$QDKIMD"; do
	[ -x "$_b" ] || skip_all "$_b not built (run make)"
done
need_dns "$PY"
"$PY" -c 'import dkim' 2>/dev/null || skip_all "no dkimpy for $PY (python3-dkim)"
plan 30

qmail_accounts
qmail_home
real_remote 'exit 111'
# The build tree may be closed to qmailr: the binaries are copied in, as
# qmail-dkim-install does anyway, and qmail-dkimd is started from there.
mkdir "$T/build"
cp "$QDKIM" "$QDKIMC" "$QDKIMD" "$T/build/"
chmod 0755 "$T/build" "$T/build/"*
QDKIMD=$T/build/qmail-dkimd

admin_keygen d.test s1 || bail "qmail-dkim-keygen failed"
{
	echo "local=/test/"
	echo "txt-record=s1._domainkey.d.test,$(cat "$K/d.test/s1.txt")"
	echo "txt-record=d.test,\"v=spf1 ip4:192.0.2.7 -all\""
	echo "txt-record=_dmarc.d.test,\"v=DMARC1; p=reject\""
} >"$T/dns.conf"
start_dns 2711

inst() { run "$S/qmail-dkim-install" -d "$Q" -b "$T/build/qmail-dkim" "$@"; }
chk() {
	run "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -i 192.0.2.7 d.test
}
# stale_socket PATH: a socket nobody listens on, as a killed qmail-dkimd
# leaves behind; owned by whoever runs this.
stale_socket() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])' "$1"
}

# qmail-dkim alone, no control/dkimsocket: not a word about the daemon.
inst
is "$rc" 0 "qmail-dkim-install swaps qmail-dkim in"
chk
is "$rc" 0 "without daemon mode the check passes"
lacks "$T/out" "daemon:" "without daemon mode the daemon check is silent"

# qmail-dkimc, no control/dkimsocket yet.
inst -c
is "$rc" 0 "qmail-dkim-install -c swaps qmail-dkimc in"
chk
is "$rc" 0 "qmail-dkimc without control/dkimsocket: only a WARN"
has "$T/out" "^OK    daemon: .*/bin/qmail-remote is qmail-dkimc; .*/bin/qmail-dkim signs what qmail-dkimd does not$" "it recognises qmail-dkimc as qmail-remote"
has "$T/out" "^WARN  daemon: no .*/control/dkimsocket, so qmail-dkimc asks no qmail-dkimd: every message is signed by .*/bin/qmail-dkim, which is slower$" "no control/dkimsocket: WARN"

# control/dkimsocket names nothing.
mkdir -p "$T/run"
echo "$T/run/none.sock" >"$Q/control/dkimsocket"
chk
is "$rc" 0 "a socket path with nothing there: only a WARN"
has "$T/out" "^WARN  daemon: nothing at $T/run/none\\.sock, named by .*/control/dkimsocket: qmail-dkimd does not run; messages are still signed, by qmail-dkim, only slower$" "a socket path with nothing there: WARN"
has "$T/out" "^      fix: start qmail-dkimd as $KU on it \\(see qmail-dkimd\\(8\\)\\)" "and the fix says how to start qmail-dkimd"

# control/dkimsocket holds no absolute path.
echo "run/dkimd.sock" >"$Q/control/dkimsocket"
chk
has "$T/out" "^WARN  daemon: .*/control/dkimsocket does not hold an absolute path \\(run/dkimd\\.sock\\): qmail-dkimc ignores it" "a relative path in control/dkimsocket: WARN"

# A file where the socket should be.
: >"$T/run/file.sock"
echo "$T/run/file.sock" >"$Q/control/dkimsocket"
chk
has "$T/out" "^WARN  daemon: $T/run/file\\.sock, named by .*/control/dkimsocket, is not a socket" "a plain file at the socket path: WARN"

# A socket nobody listens on, as a killed qmail-dkimd leaves.
rm -f "$T/run/stale.sock"
stale_socket "$T/run/stale.sock"
[ -z "$root" ] || chown "$KU" "$T/run" "$T/run/stale.sock"
echo "$T/run/stale.sock" >"$Q/control/dkimsocket"
chk
is "$rc" 0 "a socket nobody listens on: only a WARN"
has "$T/out" "^WARN  daemon: nothing answers at $T/run/stale\\.sock \\(a socket left by a qmail-dkimd that no longer runs\\?\\): messages are still signed, by qmail-dkim, only slower$" "a socket nobody listens on: WARN, found by running qmail-dkimc"

# A socket of another user.
if [ -n "$root" ]; then
	chown 0 "$T/run/stale.sock"
	chk
	has "$T/out" "^WARN  daemon: $T/run/stale\\.sock belongs to uid 0, not to $KU \\(uid $(id -u "$KU")\\): qmail-dkimd answers only its own user" "a socket of root, not of qmailr: WARN"
else
	skip 1 "not root: cannot make a socket of another user"
fi
rm -f "$T/run/stale.sock" "$T/run/file.sock"

# qmail-dkimd runs, as qmailr when root: its signature verifies.
if [ -n "$root" ]; then
	start_daemon --user="$KU" -n 1 || bail "qmail-dkimd did not start"
else
	start_daemon -n 1 || bail "qmail-dkimd did not start"
fi
is "$(cat "$Q/control/dkimsocket")" "$DKIMD_SOCK" "start_daemon names its socket in control/dkimsocket"
chk
is "$rc" 0 "qmail-dkimd running: the check passes"
has "$T/out" "^OK    daemon: qmail-dkimd at $DKIMD_SOCK answers qmail-dkimc run as $KU$" "qmail-dkimd answers qmail-dkimc"
has "$T/out" "^OK    daemon: qmail-dkimd's test signature verifies with the DNS record \\(d=d\\.test s=s1 a=rsa-sha256 " "qmail-dkimd's signature verifies with the published record"
lacks "$T/out" "^(WARN|FAIL)" "qmail-dkimd running: no WARN, no FAIL"

# The record in DNS is not the key qmail-dkimd signs with: the daemon's
# signature must fail to verify too.
mv "$K/d.test/s1" "$T/s1.saved"
admin_keygen -f d.test s1 || bail "qmail-dkim-keygen failed"
chk
is "$rc" 1 "a key that DNS does not match: the check fails"
has "$T/out" "^FAIL  daemon: qmail-dkimd's test signature does not verify with the DNS record" "qmail-dkimd's signature with the wrong key: FAIL"
mv -f "$T/s1.saved" "$K/d.test/s1"

# No bin/qmail-dkim to fall back on, while qmail-dkimc is qmail-remote.
mv "$Q/bin/qmail-dkim" "$T/qmail-dkim.saved"
chk
is "$rc" 1 "qmail-dkimc without bin/qmail-dkim: the check fails"
has "$T/out" "^FAIL  daemon: .*/bin/qmail-remote is qmail-dkimc, but .*/bin/qmail-dkim is missing or not executable: every message qmail-dkimd does not answer is deferred$" "qmail-dkimc without bin/qmail-dkim: FAIL"
has "$T/out" "^OK    daemon: qmail-dkimd's test signature verifies" "the running qmail-dkimd still signs"

# bin/qmail-dkim is a copy of qmail-dkimc: it would run itself.
cp "$Q/bin/qmail-dkimc" "$Q/bin/qmail-dkim"
chk
has "$T/out" "^FAIL  daemon: .*/bin/qmail-dkim is qmail-dkimc, not qmail-dkim" "bin/qmail-dkim that is qmail-dkimc: FAIL"
mv -f "$T/qmail-dkim.saved" "$Q/bin/qmail-dkim"

# qmail-dkimd stopped: it removes its socket.
stop_daemon
chk
has "$T/out" "^WARN  daemon: nothing at $DKIMD_SOCK, named by" "qmail-dkimd stopped: WARN"

# control/dkimsocket left behind without qmail-dkimc.
inst
is "$rc" 0 "qmail-dkim-install swaps qmail-dkim back in"
chk
has "$T/out" "^WARN  daemon: .*/control/dkimsocket exists, but qmail-remote is not qmail-dkimc: nothing reads it$" "control/dkimsocket without qmail-dkimc: WARN"
rm -f "$Q/control/dkimsocket"
chk
lacks "$T/out" "daemon:" "and silent again once it is removed"
