#!/bin/sh
# One qmail-dkimd a socket.  A second one started on the same path refuses
# with a sentence on its fd 2 and exit 111, and the first goes on
# answering.  On SIGTERM an instance removes the path only when it is
# still its own socket; a restart, after SIGTERM or after SIGKILL, signs
# again, and the deliveries made meanwhile are signed all the same.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"
plan 20

# second [QDKIMD-OPTION...]: a second qmail-dkimd on $DKIMD_SOCK; its exit
# status in $T/second.status (124: still running after 5 s), fd 2 in
# $T/second.err.
second() {
	env -i PATH=/usr/bin:/bin QMAILDKIM_HOME="$T/qmail" timeout 5 \
		"$QDKIMD" "$@" "$DKIMD_SOCK" </dev/null >/dev/null 2>"$T/second.err"
	echo $? >"$T/second.status"
}
ino() { stat -c %i "$1" 2>/dev/null; }

home netqmail
start_daemon -n 1
sock=$(ino "$DKIMD_SOCK")
second -n 1
is "$(cat "$T/second.status")" 111 "a second qmail-dkimd on the same socket: exit 111"
ok "it says why on its fd 2" grep -q "qmail-dkimd: another qmail-dkimd runs on $DKIMD_SOCK" "$T/second.err"
is "$(ino "$DKIMD_SOCK")" "$sock" "the first one's socket is still in place"
cdeliver "$(msg 1)"
by_daemon "the first one still answers" "$T/m/1.eml" signed

# A socket put in its place meanwhile is not removed by its SIGTERM.
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind(sys.argv[1])' \
	"$T/run/other.sock"
mv "$T/run/other.sock" "$DKIMD_SOCK"
other=$(ino "$DKIMD_SOCK")
stop_daemon
is "$DKIMD_STATUS" 0 "SIGTERM: exit 0"
is "$(ino "$DKIMD_SOCK")" "$other" "SIGTERM: another socket at its path stays"
rm -f "$DKIMD_SOCK"

# Killed with SIGKILL: its workers end with it, and a new one starts
# on the stale path at once.
start_daemon -n 2
w=$(dkimd_workers)
kill -KILL "$DKIMD"
await_daemon
sleep 0.5
gone_all() { for p in $w; do gone "$p" || return 1; done; }
ok "SIGKILL: its workers end too" gone_all
ok "SIGKILL: the socket is left behind" test -S "$DKIMD_SOCK"
cdeliver "$(msg 2)"
by_fallback "SIGKILL: a delivery meanwhile" "$T/m/2.eml"
# not start_daemon: it removes the path first
env -i PATH=/usr/bin:/bin QMAILDKIM_HOME="$T/qmail" "$QDKIMD" -n 1 "$DKIMD_SOCK" \
	</dev/null >/dev/null 2>"$T/dkimd.err" &
DKIMD=$!
kill_at_exit "$DKIMD"
i=0
while [ -z "$(pgrep -P "$DKIMD")" ] && [ "$i" -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
cdeliver "$(msg 3)"
by_daemon "after SIGKILL, a new one on the stale path answers" "$T/m/3.eml" signed
stop_daemon

# Restarts while deliveries go on: each is signed, by qmail-dkimd or, when
# it is between instances, by qmail-dkim.  The deliveries run from a qmail
# home of their own with the same key.
# deliveries: from $T/bg, until $T/stop exists and ten are done
deliveries() {
	T=$T/bg
	setup_home netqmail
	cp -R "$T/../qmail/control/domainkeys" "$T/qmail/control/"
	cp "$T/../dns/"* "$T/dns/"
	set_fallback
	echo "$DKIMD_SOCK" >"$T/qmail/control/dkimsocket"
	i=100
	while [ ! -e "$T/../stop" ] || [ "$i" -lt 110 ]; do
		i=$((i + 1))
		cdeliver "$(msg $i)"
		got=$(VERIFY_LATER=$T/../wires/$i what_happened "$T/m/$i.eml")
		[ ! -e "$T/out/fellback" ] || got="$got by bin/qmail-dkim"
		echo "$i $got" >>"$T/../bg.log"
	done
}
start_daemon -n 2
mkdir -p "$T/bg/qmail" "$T/wires"
deliveries &
bg=$!
sleep 1
stop_daemon
is "$DKIMD_STATUS" 0 "restart: the first one stops"
start_daemon -n 2
sleep 1
stop_daemon
start_daemon -n 2
sleep 1
touch "$T/stop"
wait "$bg"
cp "$T/bg/dns/"* "$T/dns/"
verify_many "$T"/wires/* >"$T/verified"
is "$(grep -v ' signed' "$T/bg.log")" "" "restarts: every delivery signed"
ok "restarts: some by qmail-dkimd" grep -q ' signed$' "$T/bg.log"
is "$(grep -c ' pass$' "$T/verified")" "$(grep -c '' "$T/bg.log")" "restarts: every signature verifies"
grep -v ' pass$' "$T/verified" | while read -r l; do diag "$l"; done
cdeliver "$(msg 4)"
by_daemon "after two restarts, qmail-dkimd answers" "$T/m/4.eml" signed
stop_daemon
ok "the lock file stays, for the next one" test -f "$DKIMD_SOCK.lock"
