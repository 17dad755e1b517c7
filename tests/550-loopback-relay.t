#!/bin/sh
# The loopback relay: this host's own users sending through its SMTP
# service on 127.0.0.1.  With control/dkimrights, such mail is signed only
# for the local user qmail-smtpd's Received line names ("(alice@127.0.0.1)",
# the ident answer tcpserver got); without a name, for no one.
# qmail-dkim-check FAILs where 127.0.0.1 can relay and the name is missing.
# qmail-dkim and qmail-dkimd decide alike; from another address the
# envelope rule holds, whatever its ident answer says.
# The real tcpserver, tcprules and oidentd (Debian's ucspi-tcp, oidentd),
# tests/fake-smtpd.py as qmail-smtpd, run as qmaild, queueing through
# tests/fake-queue.py; all in a network namespace of the test's own, whose
# port 25 and 113 are not this host's.
if [ -z "${QDKIM_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --net --propagation private true 2>/dev/null; then
	QDKIM_PRIVATE_NS=1 exec unshare --mount --net --propagation private sh "$0"
fi
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
. "${0%/*}/rights.sh"
for _c in tcpserver tcprules oidentd ip perl; do
	command -v "$_c" >/dev/null ||
		skip_all "no $_c (tests/deps.sh installs ucspi-tcp, oidentd, iproute2)"
done
[ -x "$TOP/tests/verify-msgauth" ] || skip_all "tests/verify-msgauth is not built (make units)"
ip link set lo up 2>/dev/null || skip_all "cannot bring up lo in the test's network namespace"
# Not this host's network: nothing may listen on 25 or 113 yet.
! ss -ltnH 2>/dev/null | grep -qE ':(25|113) ' ||
	skip_all "port 25 or 113 is in use: this is not a network namespace of the test's own"
rights_users || skip_all "cannot make the test users in the private namespace"
plan 52

# Who sends: uids, and the name the ident answer gives.
QMAILD_UID=$(id -u qmaild) QMAILD_GID=$(id -g qmaild)
shared_host
R=$T/qmail/control/dkimrights
printf '%s: alice.example\n%s: bob.example\nroot: *\n' "$ALICE" "$BOB" >"$R"
chmod 644 "$R"
printf 'host.example\nalice.example\nbob.example\n' >"$T/qmail/control/rcpthosts"
M=$T/m
mkdir -p "$M" "$T/smtpq"
# qmaild reaches the qmail home, its controls and the queue's stand-in; the
# queue files land in $T/smtpq/PID.
chmod 755 "$T"
chown qmaild "$T/smtpq"
cat >"$T/qmail/bin/qmail-queue" <<EOF
#!/bin/sh
exec $PY $TOP/tests/fake-queue.py --named-users --out $T/smtpq/\$\$
EOF
chmod 755 "$T/qmail/bin/qmail-queue"

# --- the servers ------------------------------------------------------------------

# rules RULE...: the tcprules cdb $T/tcp.smtp.cdb, from RULE lines.
rules() {
	printf '%s\n' "$@" >"$T/tcp.smtp"
	tcprules "$T/tcp.smtp.cdb" "$T/tcp.smtp.tmp" <"$T/tcp.smtp"
}
# listening PORT [ADDRESS]: something listens on PORT (of ADDRESS).
listening() { ss -ltnH "sport = :$1${2:+ and src $2}" 2>/dev/null | grep -q .; }
# await_listen PORT [ADDRESS]: until something listens there (5 s at most).
await_listen() {
	_i=0
	while ! listening "$1" "${2:-}"; do
		[ "$_i" -lt 50 ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
# smtpd [-R] [PORT]: tcpserver serving qmail-smtpd's stand-in on 127.0.0.1
# PORT (25), as a qmail run file starts it: as qmaild, the rules from
# $T/tcp.smtp.cdb; -R: no ident lookups.  Replaces the one running.
SMTPD=
smtpd() {
	stop_smtpd
	_r=
	[ "${1:-}" != -R ] || { _r=-R && shift; }
	# shellcheck disable=SC2086 # -R or nothing
	tcpserver -v $_r -H -l host.example -u "$QMAILD_UID" -g "$QMAILD_GID" \
		-x "$T/tcp.smtp.cdb" 127.0.0.1 "${1:-25}" \
		"$PY" "$TOP/tests/fake-smtpd.py" --home "$T/qmail" 2>>"$T/tcpserver.log" &
	SMTPD=$!
	kill_at_exit "$SMTPD"
	await_listen "${1:-25}" 127.0.0.1 || diag "tcpserver did not start: $(cat "$T/tcpserver.log")"
}
stop_smtpd() {
	[ -n "$SMTPD" ] || return 0
	kill "$SMTPD" 2>/dev/null
	wait "$SMTPD" 2>/dev/null
	SMTPD=
}
# identd: oidentd as INSTALL's run file starts it: in the foreground (-i),
# on 127.0.0.1, as nobody, with Debian's /etc/oidentd.conf (no user may
# spoof).
IDENTD=
identd() {
	oidentd -i -S -a 127.0.0.1 -u nobody -g nogroup 2>>"$T/oidentd.log" &
	IDENTD=$!
	kill_at_exit "$IDENTD"
	await_listen 113 || diag "oidentd did not start: $(cat "$T/oidentd.log")"
}
stop_identd() {
	kill "$IDENTD" 2>/dev/null
	wait "$IDENTD" 2>/dev/null
	IDENTD=
}

# --- qmail-dkim-check's relay check ------------------------------------------------

# relay_check [OPTION...]: qmail-dkim-check's relay lines in $T/check.
relay_check() {
	crc=0
	"$TOP/scripts/qmail-dkim-check" -d "$T/qmail" -s 127.0.0.1:1 -T "$@" alice.example \
		>"$T/check.all" 2>&1 || crc=$?
	grep -A3 '^[A-Z]* *relay: ' "$T/check.all" | grep -E '^([A-Z]+ +relay: |      fix: |           )' >"$T/check" || :
}
has() { grep -qE "$1" "$T/check" || { cat "$T/check" && return 1; }; }

relay_check
ok "nothing on 127.0.0.1 port 25: nothing to probe, said so, no FAIL" \
	has '^OK    relay: nothing listens on 127\.0\.0\.1 port 25 .*: nothing to probe$'

rules '127.:allow' ':allow'
smtpd
relay_check
ok "127. without RELAYCLIENT: loopback cannot relay, OK" \
	has "^OK    relay: 127\.0\.0\.1 cannot relay through port 25 \(RCPT TO:<postmaster@example\.net>: 553 sorry, that domain isn't in my list of allowed rcpthosts"
ok "  the probe never reached DATA" sh -c "! ls '$T/smtpq/'* >/dev/null 2>&1"

# (a) the setup most guides give: RELAYCLIENT for 127., tcpserver -R
rules '127.:allow,RELAYCLIENT=""' ':allow'
smtpd -R
relay_check
ok "RELAYCLIENT for 127. and tcpserver -R: FAIL" \
	has '^FAIL  relay: 127\.0\.0\.1 can relay through port 25 \(RCPT TO:<postmaster@example\.net> from 127\.0\.0\.1: 250 ok\)'
ok "  naming the tcpserver, its command line and its rules" \
	has "^FAIL  relay: .*, served by tcpserver pid $SMTPD: tcpserver -v -R -H .* -x $T/tcp\.smtp\.cdb 127\.0\.0\.1 25 "
ok "  saying why: no ident lookups (no identd either)" \
	has '^FAIL  relay: .*cannot be attributed to a local user: no identd answers on 127\.0\.0\.1 port 113'
ok "  the first way out: tcpserver without -R and an identd (oidentd)" \
	has '^      fix: let tcpserver ask who connects, .*tcpserver without -R .*oidentd'
ok "  the second: SMTP AUTH, with the rules file named" \
	has "^           or take RELAYCLIENT away from 127\. in the tcprules file \(compiled into $T/tcp\.smtp\.cdb\), .*SMTP AUTH"
is "$crc" 1 "  exit status 1"
identd
relay_check
ok "-R with oidentd running: still FAIL, tcpserver does not ask it" \
	has '^FAIL  relay: .*cannot be attributed to a local user: tcpserver runs with -R, so it does not ask the identd'
stop_identd

# (b) tcpserver's ident lookups: without -R and with oidentd, attributable.
# A tcpserver -R on port 25 of another network namespace, older than ours
# (so found first in /proc), is not taken for it.
# Nor is one on another address of this namespace.
unshare --net tcpserver -R -H 0 25 true 2>/dev/null &
DECOY=$!
kill_at_exit "$DECOY"
ip addr add 192.0.2.25/32 dev lo
tcpserver -R -H 192.0.2.25 25 true 2>/dev/null &
DECOY2=$!
kill_at_exit "$DECOY2"
sleep 0.2
smtpd
relay_check
ok "without -R but no identd: FAIL" \
	has '^FAIL  relay: .*cannot be attributed to a local user: no identd answers on 127\.0\.0\.1 port 113'
identd
relay_check
ok "without -R and oidentd running: OK" \
	has "^OK    relay: 127\.0\.0\.1 can relay through port 25 .*, and its mail names the local user: tcpserver pid $SMTPD asks the identd on 127\.0\.0\.1 port 113, which named root for this check"
not_ok "  and no relay line FAILs (the other tcpservers -R are not ours)" has '^FAIL  relay'
kill "$DECOY" "$DECOY2" 2>/dev/null
# A user whom oidentd.conf lets spoof could answer with another's name.
cp /etc/oidentd.conf "$T/oidentd.conf" 2>/dev/null || : >"$T/oidentd.conf"
printf 'user %s {\n\tdefault {\n\t\tallow spoof\n\t}\n}\n' "$BOB" >>"$T/oidentd.conf"
if mount --bind "$T/oidentd.conf" /etc/oidentd.conf 2>/dev/null; then
	relay_check
	ok "/etc/oidentd.conf allowing spoof: FAIL" \
		has '^FAIL  relay: /etc/oidentd\.conf allows spoof: '
	umount /etc/oidentd.conf
else
	skip 1 "cannot put a test /etc/oidentd.conf in place"
fi
# Another super-server (here tcpserver under another name): the identd
# answers, but whether the server asks it is not known.
stop_smtpd
ln -s "$(command -v tcpserver)" "$T/smtpserver"
"$T/smtpserver" -H -l host.example -u "$QMAILD_UID" -g "$QMAILD_GID" -x "$T/tcp.smtp.cdb" \
	127.0.0.1 25 "$PY" "$TOP/tests/fake-smtpd.py" --home "$T/qmail" 2>>"$T/tcpserver.log" &
SMTPD=$!
kill_at_exit "$SMTPD"
await_listen 25 || diag "smtpserver did not start"
relay_check
ok "no tcpserver found for port 25: WARN, cannot tell" \
	has '^WARN  relay: 127\.0\.0\.1 can relay through port 25 .*no tcpserver for port 25 was found in /proc'
smtpd 2525
relay_check -S 2525
ok "-S 2525: the same on another port" \
	has "^OK    relay: 127\.0\.0\.1 can relay through port 2525 .*tcpserver pid $SMTPD asks the identd"
relay_check -S 2526
ok "-S 2526, where nothing listens: nothing to probe" has '^OK    relay: nothing listens on 127\.0\.0\.1 port 2526'
(
	QMAILDKIM_SMTP_PORT=0
	export QMAILDKIM_SMTP_PORT
	relay_check
)
is "$(cat "$T/check")" "" "QMAILDKIM_SMTP_PORT=0: no probe, no relay line"
mv "$R" "$R.off"
relay_check -S 2525
is "$(cat "$T/check")" "" "no control/dkimrights: no relay line"
mv "$R.off" "$R"

# --- (c) end to end: relayed mail, the queue file, qmail-dkim ------------------------

# $T/smtp-client.py ADDRESS PORT HELO SENDER RCPT: the message on stdin,
# its lines ended in CRLF, through SMTP from ADDRESS to ADDRESS PORT.
cat >"$T/smtp-client.py" <<'EOF'
import smtplib, sys
addr, port, helo, sender, rcpt = sys.argv[1:]
s = smtplib.SMTP(addr, int(port), source_address=(addr, 0))
s.helo(helo)
s.sendmail(sender, [rcpt], sys.stdin.buffer.read().replace(b"\n", b"\r\n"))
s.quit()
EOF
chmod 644 "$T/smtp-client.py"

# smtp_send AS SENDER MSGFILE [PORT]: AS (a user name, as his own uid)
# relays MSGFILE to r@example.net with MAIL FROM:<SENDER> through
# 127.0.0.1 PORT (25); the queue file is then $Q, its envelope sender
# $Q.sender, as inject leaves them.
_sn=0
smtp_send() {
	rm -rf "$T/smtpq/"*
	(cd / && setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups -- \
		"$PY" "$T/smtp-client.py" 127.0.0.1 "${4:-25}" localhost "$2" r@example.net <"$3") \
		2>"$T/smtp.err" || { diag "$(cat "$T/smtp.err")" && return 1; }
	_sn=$((_sn + 1))
	Q=$T/queue/smtp$_sn
	mkdir -p "$T/queue"
	set -- "$T/smtpq/"*
	if [ $# -ne 1 ] || [ ! -f "$1/mess" ]; then
		diag "queued: $*"
		return 1
	fi
	cp "$1/mess" "$Q" && tr '\0' '\n' <"$1/envelope" | sed -n '1s/^F//p' >"$Q.sender"
}
# signed_ok DESC DOMAIN: signed as DOMAIN, and three verifiers agree.
signed_ok() {
	is "$(signed_for)" "$2" "$1: signed d=$2"
	ok "$1: dkimpy verifies it" verify_dkimpy "$T/out/wire"
	ok "$1: Mail::DKIM verifies it" verify_maildkim "$T/out/wire"
	ok "$1: go-msgauth verifies it" verify_msgauth "$T/out/wire"
}
unsigned_ok() {
	is "$(signed_for)" "" "$1: not signed"
	ok "$1: handed on byte for byte" cmp "$Q" "$T/out/stdin"
}
smtpd
mkmsg "$M/bob" ceo@alice.example
ok "bob relays From: and MAIL FROM alice.example" smtp_send "$BOB" alice@alice.example "$M/bob"
is "$(sed -n 1p "$Q" | sed 's/[0-9]\{1,\}/N/g')" \
	"Received: (qmail N invoked from network); N Dec N N:N:N -N" \
	"  queued by qmaild: 'invoked from network' on top"
is "$(sed -n 2,3p "$Q" | sed 's/; .*//')" \
	"Received: from unknown (HELO localhost) ($BOB@127.0.0.1)
  by host.example with SMTP" \
	"  qmail-smtpd's Received line names bob, from oidentd's answer"
is "$(cat "$Q.sender")" alice@alice.example "  the envelope sender is alice's"
QB=$Q
send
is "$(signed_for)" "" "bob's relayed mail claiming alice.example: not signed as alice.example"
ok "  the log names him: network, this host, ident $BOB" \
	grep -q "not signed: control/dkimrights does not let network (this host, ident $BOB) sign as alice\.example" "$L"

mkmsg "$M/alice" alice@alice.example
ok "alice relays her own mail" smtp_send "$ALICE" alice@alice.example "$M/alice"
is "$(sed -n 2p "$Q" | sed 's/ (HELO.*(/ (/')" "Received: from unknown ($ALICE@127.0.0.1)" \
	"  the Received line names alice"
QA=$Q
send
signed_ok "alice's relayed mail" alice.example
ok "  the log names her" grep -q "signed: d=alice\.example .* for network (this host, ident $ALICE)\$" "$L"

mkmsg "$M/bob2" bob@bob.example
ok "bob relays his own mail" smtp_send "$BOB" bob@bob.example "$M/bob2"
send
signed_ok "bob's relayed mail as bob.example" bob.example

mkmsg "$M/bob3" ceo@alice.example
ok "bob relays From: alice.example with MAIL FROM his own" smtp_send "$BOB" bob@bob.example "$M/bob3"
send
is "$(signed_for)" bob.example "  signed as bob.example only, never alice.example"

# The same two through qmail-dkimc and qmail-dkimd; bin/qmail-dkim, which
# qmail-dkimc runs when the daemon gives no answer, defers instead.
if [ -x "$QDKIMC" ] && [ -x "$QDKIMD" ]; then
	cat >"$T/qmail/bin/qmail-dkim" <<-'EOF'
		#!/usr/bin/perl
		syswrite STDOUT, "Zthe fallback ran\n\0";
		exit 0;
	EOF
	chmod 755 "$T/qmail/bin/qmail-dkim"
	start_daemon -n 1 || :
	_q=$QDKIM QDKIM=$QDKIMC
	Q=$QB
	send
	is "$(report_letters)" rK "qmail-dkimd: bob's relayed mail claiming alice.example delivered"
	is "$(signed_for)" "" "  not signed, as by qmail-dkim"
	Q=$QA
	send
	is "$(signed_for)" alice.example "qmail-dkimd: alice's relayed mail signed as alice.example, as by qmail-dkim"
	ok "  dkimpy verifies it" verify_dkimpy "$T/out/wire"
	QDKIM=$_q
	stop_daemon
	rm "$T/qmail/control/dkimsocket"
else
	skip 4 "qmail-dkimc and qmail-dkimd are not built"
fi

# Without ident: tcpserver -R, no name in the Received line.
smtpd -R
ok "with -R, bob relays as alice" smtp_send "$BOB" alice@alice.example "$M/bob"
is "$(sed -n 2p "$Q" | sed 's/ (HELO.*(/ (/')" "Received: from unknown (127.0.0.1)" \
	"  the Received line names no one"
send
is "$(signed_for)" "" "bob's relayed mail without ident: not signed as alice.example"
ok "  the log says: no ident" \
	grep -q "not signed: control/dkimrights does not let network (this host, no ident) sign as alice\.example" "$L"
ok "with -R, alice relays her own" smtp_send "$ALICE" alice@alice.example "$M/alice"
send
is "$(signed_for)" "" "alice's relayed mail without ident: not signed either"

# From another address: the envelope rule as before, whatever the ident
# answer says (it is the remote side's claim; here bob's, as alice).
# The other host's identd: oidentd on 192.0.2.25.
oidentd -i -S -a 192.0.2.25 -u nobody -g nogroup 2>>"$T/oidentd.log" &
kill_at_exit $!
await_listen 113 192.0.2.25 || diag "oidentd did not start on 192.0.2.25"
stop_smtpd
tcpserver -v -H -l host.example -u "$QMAILD_UID" -g "$QMAILD_GID" -x "$T/tcp.smtp.cdb" \
	192.0.2.25 25 "$PY" "$TOP/tests/fake-smtpd.py" --home "$T/qmail" 2>>"$T/tcpserver.log" &
SMTPD=$!
kill_at_exit "$SMTPD"
await_listen 25 || diag "tcpserver did not start on 192.0.2.25"
mkmsg "$M/ext" news@alice.example
rm -rf "$T/smtpq/"*
ok "bob sends from 192.0.2.25 to alice, MAIL FROM alice.example" sh -c "cd / &&
	setpriv --reuid='$BOB' --regid='$(id -g "$BOB")' --init-groups -- '$PY' '$T/smtp-client.py' \
	192.0.2.25 25 mx.example.org news@alice.example alice@alice.example <'$M/ext'"
cp "$T/smtpq/"*/mess "$T/queue/ext" && Q=$T/queue/ext && echo news@alice.example >"$Q.sender"
is "$(sed -n 2p "$Q" | sed 's/; .*//')" "Received: from unknown (HELO mx.example.org) ($BOB@192.0.2.25)" \
	"  its Received line names bob, from 192.0.2.25"
send
is "$(signed_for)" alice.example "  not loopback: the envelope rule, not bob's rights, decides"
