#!/bin/sh
# qmail-dkimd signs, qmail-dkimc hands on: every delivery through the pair
# keeps qmail-remote's contract as qmail-dkim does (signed and verifying,
# handed on byte for byte, or one Z record), and whenever the daemon gives
# no usable answer qmail-dkimc runs bin/qmail-dkim, which signs all the same.
# bin/qmail-dkim is a wrapper that notes it ran before it becomes the real
# qmail-dkim: that note tells the daemon's signatures from the fallback's.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"
plan 114

CR=$(printf '\r')
# the syslog shim catches the daemon's lines when it is linked dynamically
SHIM_OK=
[ -f "$TOP/tests/syslog-shim.so" ] && ! ldd "$QDKIMD" 2>&1 | grep -qE 'statically linked|not a dynamic' &&
	SHIM_OK=1

# new_rsa_key SELECTOR: a new 2048-bit key for example.com, put in place as
# an administrator would (a new name, then rename), and its TXT record.
new_rsa_key() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$T/qmail/$K/.new" 2>/dev/null &&
		mv "$T/qmail/$K/.new" "$T/qmail/$K/$1" &&
		echo "v=DKIM1; k=rsa; p=$(openssl pkey -in "$T/qmail/$K/$1" -pubout -outform DER | base64 -w0)" \
			>"$T/dns/$1._domainkey.example.com"
}

# --- the daemon signs ---------------------------------------------------------

home netqmail
is "$(timeout 10 env -i "$QDKIMD" run/dkimd.sock 2>/dev/null; echo $?)" 111 \
	"qmail-dkimd with a relative socket path: exit 111"
ok "qmail-dkimd starts, its workers run" start_daemon -n 1

cdeliver "$M"
by_daemon "RSA" "$M" signed
is "$(cat "$T/out/fds")" "" "RSA: no descriptor handed to the real qmail-remote"
is "$(tr '\0' ' ' <"$T/out/argv")" "example.net sender@example.com rcpt@example.net " "RSA: argv handed on"
is "$(cat "$T/out/fd0")" "type=fifo" "RSA: the real one reads the signed message from a pipe"

cdeliver "$TOP/tests/msg/mime.eml" example.net sender@example.com a@example.net b@example.net
by_daemon "multipart, two recipients" "$TOP/tests/msg/mime.eml" signed
is "$(report_text)" 'r\0r\0Kok (fake-remote)\n\0' "two recipients: a record for each, nothing of ours"

# CRs: signed over the CR-free form, which must be what is handed on.
sed "s/\$/$CR/" "$M" >"$T/crlf.eml"
cdeliver "$T/crlf.eml"
by_daemon "CRLF line ends, netqmail" "$T/crlf.eml" signed
ok "CRLF: no CR handed to qmail-remote" sh -c "! grep -q '$CR' '$T/out/stdin'"

# Ed25519, and RSA with Ed25519: control files are read afresh each time.
make_key example.com ed1 ed25519
echo ed1 >"$T/qmail/$K/selector"
cdeliver "$M"
by_daemon "Ed25519" "$M" signed
ok "Ed25519: go-msgauth verifies" verify_msgauth "$T/out/wire"
printf 'default\ned1\n' >"$T/qmail/$K/selector"
cdeliver "$M"
by_daemon "RSA and Ed25519" "$M" signed
is "$(grep -c '^DKIM-Signature:' "$T/out/stdin")" 2 "RSA and Ed25519: two signatures"
ok "RSA and Ed25519: go-msgauth verifies both" verify_msgauth "$T/out/wire"
rm "$T/qmail/$K/selector"

# Odd requests (tests/fake-dkimc.py): no answer to a malformed one, L for
# a pipe, S for a message; the one worker lives on and keeps no fd.
w=$(dkimd_workers)
nfd=$(find "/proc/${w% }/fd" -mindepth 1 | wc -l)
is "$("$PY" "$TOP/tests/fake-dkimc.py" "$DKIMD_SOCK" "$M" 2>&1)" "----------LS" \
	"malformed requests get no answer, a pipe L, a message S"
is "$(dkimd_workers) $(find "/proc/${w% }/fd" -mindepth 1 | wc -l)" "$w $nfd" "the worker lives on and keeps no passed fd"
is "$(stat -c %A "$DKIMD_SOCK" | cut -c5-)" ------ "the socket is for qmail-dkimd's user alone"

# --- handed on unchanged, or deferred -----------------------------------------

sed 's/^From: .*/From: a@nokey.test/' "$M" >"$T/nokey.eml"
cdeliver "$T/nokey.eml" example.net a@nokey.test rcpt@example.net
by_daemon "no key" "$T/nokey.eml" unsigned
printf 'From: a@example.com\nFrom: b@example.com\nSubject: x\n\nx\n' >"$T/two.eml"
cdeliver "$T/two.eml"
by_daemon "two From: fields" "$T/two.eml" unsigned

make_key example.com default rsa 512
cdeliver "$M"
by_daemon "a 512-bit key" "$M" deferred
ok "a 512-bit key: one Z record, exit 0" report_is_z
deferred_for "a 512-bit key" "$K/default has 512 bits"
ok "a 512-bit key: with an RFC 3463 code" grep -q '(#4\.[0-9]\.[0-9])' "$T/out/report"

make_key example.com
openssl pkey -in "$T/qmail/$K/default" -aes256 -passout pass:secret -out "$T/enc" 2>/dev/null
mv "$T/enc" "$T/qmail/$K/default"
cdeliver "$M"
by_daemon "an encrypted key" "$M" deferred
deferred_for "an encrypted key" "$K/default is encrypted"

# The daemon makes each delivery's log line, after it answered.
ok "the log: signed, with d=, s= and a=" grep -q 'signed: d=example.com s=default a=rsa-sha256' "$DKIMD_LOG"
ok "the log: not signed, and why" grep -q 'not signed: no key for the From: or envelope domain' "$DKIMD_LOG"
ok "the log: deferred, and why" grep -q "deferred: the key .*/default has 512 bits" "$DKIMD_LOG"

# The same worker (-n 1) after those: nothing of them is left in it.
make_key example.com
cdeliver "$(msg 1)"
by_daemon "a good key again, the same worker" "$T/m/1.eml" signed

# --- key rollover while it runs -------------------------------------------------

w=$(dkimd_workers)
new_rsa_key default
cdeliver "$(msg 2)"
by_daemon "a new key under the same selector" "$T/m/2.eml" signed
is "$(dkimd_workers)" "$w" "the new key: the same worker, whose cache held the old key"
new_rsa_key default
cdeliver "$(msg 3)"
by_daemon "and another one" "$T/m/3.eml" signed

# --- stopping it ---------------------------------------------------------------

w=$(dkimd_workers)
isnt "$w" "" "a worker runs before SIGTERM"
stop_daemon
is "$DKIMD_STATUS" 0 "SIGTERM: qmail-dkimd exits 0"
ok "SIGTERM: the socket is removed" test ! -e "$DKIMD_SOCK"
gone_all() { for p in $w; do gone "$p" || return 1; done; }
ok "SIGTERM: its workers are gone" gone_all
is "$(pgrep -f "$DKIMD_SOCK")" "" "SIGTERM: no process left that names the socket"

# One SIGTERM while it starts its 64 workers: it stops all the same.
env -i QMAILDKIM_HOME="$T/qmail" "$QDKIMD" -n 64 "$T/run/early.sock" \
	</dev/null >/dev/null 2>"$T/dkimd.err" &
DKIMD=$!
kill_at_exit "$DKIMD"
i=0
while [ ! -S "$T/run/early.sock" ] && [ "$i" -lt 100000 ]; do i=$((i + 1)); done
sleep 0.005
kill -TERM "$DKIMD"
await_daemon
is "$DKIMD_STATUS" 0 "SIGTERM as it starts its workers: it exits 0"
ok "SIGTERM as it starts its workers: the socket is removed" test ! -e "$T/run/early.sock"
is "$(pgrep -f "$T/run/early.sock")" "" "SIGTERM as it starts its workers: no worker left"

# --- fallbacks: signed by qmail-dkim all the same ----------------------------

cdeliver "$(msg 4)"
by_fallback "qmail-dkimd stopped" "$T/m/4.eml"
echo "$T/run/nothing.sock" >"$T/qmail/control/dkimsocket"
cdeliver "$(msg 5)"
by_fallback "control/dkimsocket names nothing" "$T/m/5.eml"
echo "$T/run/plain" >"$T/qmail/control/dkimsocket"
: >"$T/run/plain"
cdeliver "$(msg 6)"
by_fallback "control/dkimsocket names a plain file" "$T/m/6.eml"
echo "run/dkimd.sock" >"$T/qmail/control/dkimsocket"
cdeliver "$(msg 7)"
by_fallback "control/dkimsocket a relative path" "$T/m/7.eml"
rm "$T/qmail/control/dkimsocket"
cdeliver "$(msg 8)"
by_fallback "no control/dkimsocket" "$T/m/8.eml"

: >"$T/empty.eml"
cdeliver "$T/empty.eml"
by_fallback "an empty message" "$T/empty.eml" unsigned

start_daemon -n 1
cdeliver --stdin-pipe "$(msg 9)"
by_fallback "the message on a pipe" "$T/m/9.eml"
is "$(cat "$T/out/fd0")" "type=fifo" "a pipe: qmail-dkim, not the stand-in, handed it on"

# sized_msg FILE BYTES: a signable message of exactly BYTES bytes.
sized_msg() {
	_h=$(sed '/^$/q' "$M" | tee "$1" | wc -c)
	perl -e '$n = $ARGV[0] - $ARGV[1]; $l = "x" x 75 . "\n";
		print $l x int($n / 76 - 1), "y" x ($n % 76 + 75), "\n"' "$2" "$_h" >>"$1"
}
sized_msg "$T/1m.eml" 1048576
sized_msg "$T/1m1.eml" 1048577
is "$(wc -c <"$T/1m.eml") $(wc -c <"$T/1m1.eml")" "1048576 1048577" "messages of 1 MiB and one byte more"
cdeliver "$T/1m.eml"
by_daemon "a message of 1 MiB" "$T/1m.eml" signed
cdeliver "$T/1m1.eml"
by_fallback "a message of 1 MiB and one byte" "$T/1m1.eml"
stop_daemon

n=10
for mode in close garbage local badsig nonul; do
	fake "$mode"
	cdeliver "$(msg $n)"
	by_fallback "a server that answers '$mode'" "$T/m/$n.eml"
	is "$(grep -c connection "$T/fake.log")" 1 "'$mode': qmail-dkimc asked it once"
	kill "$_fake"
	n=$((n + 1))
done

# --- no way to sign: a Z record, never a loop -----------------------------------

echo "$T/run/nothing.sock" >"$T/qmail/control/dkimsocket"
rm "$T/qmail/bin/qmail-dkim"
cdeliver "$M"
outcome "no daemon, no bin/qmail-dkim" "$M" deferred
deferred_for "no daemon, no bin/qmail-dkim" "cannot run $T/qmail/bin/qmail-dkim"

cp "$QDKIMC" "$T/qmail/bin/qmail-dkim"
cdeliver --timeout=20 "$M"
outcome "bin/qmail-dkim is qmail-dkimc" "$M" deferred
deferred_for "bin/qmail-dkim is qmail-dkimc" "bin/qmail-dkim is qmail-dkimc itself"

set_fallback
cp "$QDKIMC" "$T/qmail/bin/qmail-remote.orig"
cdeliver --timeout=20 "$M"
outcome "qmail-remote.orig is qmail-dkimc, no daemon" "$M" deferred
deferred_for "qmail-remote.orig is qmail-dkimc, no daemon" "qmail-remote is qmail-d"
start_daemon -n 1
cdeliver --timeout=20 "$M"
outcome "qmail-remote.orig is qmail-dkimc, the daemon signs" "$M" deferred
deferred_for "qmail-remote.orig is qmail-dkimc, the daemon signs" "the real qmail-remote is qmail-dkimc itself"
stop_daemon

# --- workers recycled -----------------------------------------------------------

home netqmail
start_daemon -n 1 -r 2
mkdir -p "$T/wires"
seen=
for i in 21 22 23 24 25; do
	cdeliver "$(msg $i)"
	got=$(VERIFY_LATER=$T/wires/$i what_happened "$T/m/$i.eml")
	[ ! -e "$T/out/fellback" ] || got="$got by bin/qmail-dkim"
	echo "$i $got" >>"$T/recycled"
	seen="$seen $(dkimd_workers)"
done
verify_many "$T"/wires/2? >"$T/verified"
for i in 21 22 23 24 25; do
	got=$(sed -n "s/^$i //p" "$T/recycled")
	bad=$(sed -n "s|^$T/wires/$i fail: ||p" "$T/verified")
	if [ "$got" = signed ] && [ -z "$bad" ]; then
		pass "-r 2, message $((i - 20)) of 5: signed by qmail-dkimd, verifies"
	else
		fail "-r 2, message $((i - 20)) of 5: signed by qmail-dkimd, verifies"
		diag "$got $bad"
	fi
done
# shellcheck disable=SC2086 # pids
is "$(printf '%s\n' $seen | sort -u | grep -c .)" 3 "-r 2: five messages took three workers"
stop_daemon

# --- many at once -----------------------------------------------------------------

# job N: deliver message N through qmail-dkimc, from a qmail home of its
# own ($T/cN) with no key: only qmail-dkimd can sign it.
job() {
	T=$T/c$1
	mkdir -p "$T"
	setup_home netqmail
	set_fallback
	echo "$DKIMD_SOCK" >"$T/qmail/control/dkimsocket"
	cdeliver "$2"
	got=$(VERIFY_LATER=$T/../wires/$1 what_happened "$2")
	[ ! -e "$T/out/fellback" ] || got="$got by bin/qmail-dkim"
	echo "$got" >"$T/verdict"
}
start_daemon -n 2
rm -rf "$T/wires" && mkdir -p "$T/wires"
jobs=
for i in $(seq 31 50); do
	msg "$i" >/dev/null
	job "$i" "$T/m/$i.eml" &
	jobs="$jobs $!"
done
for p in $jobs; do wait "$p"; done
bad=
for i in $(seq 31 50); do
	got=$(cat "$T/c$i/verdict" 2>/dev/null)
	[ "$got" = signed ] || bad="$bad message $i: $got;"
done
is "$bad" "" "20 at once, -n 2: every one signed by qmail-dkimd, nothing else changed"
verify_many "$T"/wires/* >"$T/verified"
is "$(grep -c ' pass$' "$T/verified")" 20 "20 at once: all 20 signatures verify"
grep -v ' pass$' "$T/verified" | while read -r l; do diag "$l"; done
w=$(dkimd_workers)
stop_daemon
is "$DKIMD_STATUS" 0 "after 20 at once, SIGTERM: exit 0"
ok "and the socket is removed" test ! -e "$DKIMD_SOCK"
ok "and its workers are gone" gone_all

# --- other users ----------------------------------------------------------------

if ! can_setuid || ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	test -x "$QDKIMC" -a -x "$QDKIMD" 2>/dev/null; then
	skip 7 "not root, or nobody cannot run qmail-dkimc and qmail-dkimd"
	exit 0
fi
user_home notqmail
make_key example.com
chmod 644 "$T/qmail/$K/default"
set_fallback "$T/uout"

start_daemon --user=nobody -n 1
cdeliver "$M"
by_fallback "qmail-dkimd runs as nobody, qmail-dkimc as root: not believed" "$M"
cdeliver --user=nobody "$M"
by_daemon "both run as nobody" "$M" signed
stop_daemon

start_daemon -n 1
chmod 666 "$DKIMD_SOCK"
cdeliver --user=nobody "$M"
by_fallback "qmail-dkimc runs as nobody, qmail-dkimd as root: refused" "$M"
if [ -n "$SHIM_OK" ]; then
	ok "qmail-dkimd says why it refused" \
		grep -q "request refused: the other end of the socket runs as uid $(id -u nobody)" "$DKIMD_LOG"
else
	skip 1 "qmail-dkimd is linked statically: no syslog shim"
fi
stop_daemon
