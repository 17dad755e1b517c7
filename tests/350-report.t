#!/bin/sh
# The DKIM outcome in qmail-send's log: with control/dkimreport 1 (the
# default) the real qmail-remote runs as qmail-dkim's child and its report
# reaches qmail-rspawn byte for byte, with " DKIM signed d=... s=..." or
# " DKIM not signed: why" in the text of the first K, Z or D record, before
# its last newline.  The exit status and a killing signal are the real
# one's; nothing goes to fd 2; the writer of a large message still ends.
# With 0, the real qmail-remote is exec'd in qmail-dkim's place, as before.
. "${0%/*}/lib.sh"
# valgrind's own descriptors, process name and exit status would show
# through the relay; relay.c runs under ASan (make check-asan) and t-relay
[ "${QDKIM_WRAPPED:-}" != valgrind ] || skip_all "valgrind shows through the relay"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 46

M=$TOP/tests/msg/simple.eml
SIGNED=' DKIM signed d=example.com s=s1,e1'
NOKEY=' DKIM not signed: no key for the From: or envelope domain'

setup_home netqmail
make_key example.com s1
make_key example.com e1 ed25519
printf 's1\ne1\n' >"$T/qmail/control/domainkeys/example.com/selector"
sed 's/^From: .*/From: a@nokey.test/' "$M" >"$T/nokey.eml"

# --- what fake-remote.py reports, relayed ---------------------------------------

deliver "$M"
is "$(cat "$T/out/status") $(report_text)" "0 r\\0Kok (fake-remote)$SIGNED\\n\\0" \
	"signed: K with the note, exit 0"
ok "signed: dkimpy verifies what went out" verify_dkimpy "$T/out/wire"
is "$(cat "$T/out/fds")" "" "the report pipe is not handed to the real one"

deliver "$M" example.net sender@example.com a@example.net b@example.net c@example.net
is "$(report_text)" "r\\0r\\0r\\0Kok (fake-remote)$SIGNED\\n\\0" \
	"three recipients: r for each untouched, the note in K only"

set_remote netqmail --refuse
deliver "$M" example.net sender@example.com a@example.net b@example.net
h='hexample.net does not like recipient.\nRemote host said: 550 no such user (fake-remote)\n\0'
is "$(cat "$T/out/status") $(report_text)" "0 $h${h}DGiving up on example.net.$SIGNED\\n\\0" \
	"--refuse: h for each untouched, the note in D"

set_remote notqmail
printf 'From: a@example.com\nSubject: x\n\nno line end' >"$T/partial.eml"
deliver "$T/partial.eml"
is "$(report_text)" \
	'r\0DSMTP cannot transfer messages with partial final lines. (#5.6.2) DKIM not signed: the last line has no line end\n\0' \
	"D for a partial last line: the status code kept, the reason after it"

deliver "$T/nokey.eml" example.net a@nokey.test r@example.net
is "$(report_text)" "r\\0Kok (fake-remote)$NOKEY\\n\\0" "no key: the reason"
ok "no key: handed on byte for byte" cmp "$T/nokey.eml" "$T/out/stdin"

# What the log will show: qmail-rspawn's report() and qmail-send's logsafe().
"$PY" - "$T/out/report" >"$T/logline" <<'EOF'
import sys
s = open(sys.argv[1], "rb").read()
recs = s.split(b"\0")
text = recs[0][1:]
for r in recs[1:]:
    if r[:1] in (b"K", b"Z", b"D"):
        text += r[1:]
        break
print("".join("/" if c == 10 else chr(c) if 33 <= c <= 126 and c != 37 else "_"
              for c in text))
EOF
is "$(cat "$T/logline")" "ok_(fake-remote)_DKIM_not_signed:_no_key_for_the_From:_or_envelope_domain/" \
	"as qmail-send logs it"

# --- a large message through the writer and its socket ---------------------------

perl -e 'print "From: a\@example.com\nSubject: big\n\n"; print "x" x 76, "\n" for 1 .. 40000' >"$T/big.eml"
deliver --leftover="$T/out/leftover" "$T/big.eml"
is "$(report_text)" "r\\0Kok (fake-remote)$SIGNED\\n\\0" "3 MB signed: the note"
is "$(cat "$T/out/fd0")" "type=sock" "3 MB: through the socket pair"
ok "3 MB: dkimpy verifies" verify_dkimpy "$T/out/wire"
is "$(cat "$T/out/leftover")" "" "3 MB: nothing left running"
set_remote notqmail --refuse
deliver --leftover="$T/out/leftover" "$T/big.eml"
is "$(report_letters)" hD "3 MB refused unread: h, D"
is "$(cat "$T/out/leftover")" "" "refused unread: the writer ended (EPIPE), nothing left running"
set_remote notqmail

# --- any report, any end: a scripted real qmail-remote ---------------------------

# script OUT1 [END [OUT2]]: the real qmail-remote reads fd 0 to its end,
# writes OUT1 (printf format) to fd 1 and OUT2 to fd 2, then ends: "exit N"
# or "kill SIG".  It notes its parent's name in out/parent.
script() {
	mkdir -p "$T/script"
	# shellcheck disable=SC2059 # formats
	printf "$1" >"$T/script/out1"
	# shellcheck disable=SC2059
	printf "${3:-}" >"$T/script/out2"
	echo "${2:-exit 0}" >"$T/script/end"
	cat >"$T/qmail/bin/qmail-remote.orig" <<-EOF
		#!$PY
		import os, signal, sys
		S, O = $(_pyq "$T/script"), $(_pyq "$T/out")
		with open("/proc/%d/comm" % os.getppid()) as f:
		    open(O + "/parent", "w").write(f.read())
		while os.read(0, 65536):
		    pass
		for fd, name in ((2, "out2"), (1, "out1")):
		    os.write(fd, open(S + "/" + name, "rb").read())
		how, what = open(S + "/end").read().split()
		if how == "kill":
		    sig = getattr(signal, "SIG" + what)
		    if sig != signal.SIGKILL:
		        signal.signal(sig, signal.SIG_DFL)
		    os.kill(os.getpid(), sig)
		os._exit(int(what))
	EOF
	chmod 755 "$T/qmail/bin/qmail-remote.orig"
}

script 'r\0s1.2.3.4 does not like recipient.\nRemote host said: 451 later\n\0h1.2.3.4 does not like recipient.\n\0K1.2.3.4 accepted message.\nRemote host said: 250 ok 1764370000 qp 77\n\0'
deliver "$M" example.net s@example.com a@example.net b@example.net c@example.net
is "$(report_text)" 'r\0s1.2.3.4 does not like recipient.\nRemote host said: 451 later\n\0h1.2.3.4 does not like recipient.\n\0K1.2.3.4 accepted message.\nRemote host said: 250 ok 1764370000 qp 77 DKIM signed d=example.com s=s1,e1\n\0' \
	"r, s, h and K: only K's text gets the note"
is "$(cat "$T/out/parent")" "qmail-dkim" "the real one is qmail-dkim's child"

script 'ZSorry, I wasn'"'"'t able to establish an SMTP connection. (#4.4.1)\n\0'
deliver "$M"
is "$(cat "$T/out/status") $(report_text)" \
	"0 ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)$SIGNED\\n\\0" "Z alone: the note after the status code"

script 'r\0' 'exit 111'
deliver "$M"
is "$(cat "$T/out/status") $(report_text)" '111 r\0' "exit 111: 111, its records, nothing of ours"
script 'r\0Kok\n\0' 'exit 100'
deliver "$M"
is "$(cat "$T/out/status")" 100 "exit 100: the real one's status, as it would be without us"
script '' 'exit 0'
deliver "$M"
is "$(cat "$T/out/status") $(wc -c <"$T/out/report")" '0 0' "no output, exit 0: none from us either"

for sig in KILL TERM SEGV INT; do
	script 'r\0' "kill $sig"
	deliver --leftover="$T/out/leftover" "$M"
	is "$(cat "$T/out/status") $(report_text) $(cat "$T/out/leftover")" \
		"signal $(kill -l "$sig" 2>/dev/null | grep -E '^[0-9]+$' || "$PY" -c "import signal; print(signal.SIG$sig.value)") r\\0 " \
		"killed by SIG$sig before its message record: the same signal, nothing of ours"
done
script 'r\0Kok\n\0' 'kill TERM'
deliver "$M"
is "$(cat "$T/out/status") $(report_text)" "signal 15 r\\0Kok$SIGNED\\n\\0" \
	"killed after K: the same signal (qmail-send retries, as without us)"
ls "$T/qmail/queue/mess" >"$T/mess"
is "$(cat "$T/mess")" "" "no core file of ours in the working directory"

script 'r\0Kok\n\0' 'exit 0' 'stray\n'
deliver "$M"
is "$(report_text)" "stray\\nr\\0Kok$SIGNED\\n\\0" \
	"the real one's fd 2 is the report pipe, as without us"

# Nothing of ours on fd 2: fd 1 and fd 2 apart, signed, unsigned, deferred.
# apart PROGRAM MSGFILE [SENDER]: the exit status; fd 1 in $T/fd1, fd 2 in
# $T/fd2.
apart() {
	(cd "$T/qmail/queue/mess" && env -i PATH=/usr/bin:/bin QMAILDKIM_HOME="$T/qmail" \
		"$PY" -c 'import os, signal, sys
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$1" example.net "${3:-sender@example.com}" rcpt@example.net \
		<"$2" >"$T/fd1" 2>"$T/fd2")
	echo $?
}
script 'r\0Kok\n\0'
is "$(apart "$QDKIM" "$M") $(report_text "$T/fd1") $(wc -c <"$T/fd2")" "0 r\\0Kok$SIGNED\\n\\0 0" \
	"fd 2 apart, signed: the report on fd 1, nothing on fd 2"
is "$(apart "$QDKIM" "$T/nokey.eml" a@nokey.test) $(report_text "$T/fd1") $(wc -c <"$T/fd2")" "0 r\\0Kok$NOKEY\\n\\0 0" \
	"fd 2 apart, not signed: nothing on fd 2"
chmod 000 "$T/qmail/control/domainkeys/example.com/s1"
if [ "$(id -u)" -eq 0 ]; then
	mv "$T/qmail/control/domainkeys/example.com/s1" "$T/s1.key"
	echo x >"$T/qmail/control/domainkeys/example.com/s1"
fi
apart "$QDKIM" "$M" >"$T/rc"
is "$(cat "$T/rc") $(report_letters "$T/fd1") $(wc -c <"$T/fd2")" "0 Z 0" \
	"fd 2 apart, deferred: one Z, nothing on fd 2"
make_key example.com s1

# --- the switch ------------------------------------------------------------------

set_remote netqmail
echo 0 >"$T/qmail/control/dkimreport"
deliver "$M"
is "$(report_text)" 'r\0Kok (fake-remote)\n\0' "dkimreport 0: the report untouched"
script 'r\0Kok\n\0'
deliver "$M"
is "$(cat "$T/out/parent")" "python3" "dkimreport 0: the real one is exec'd in our place"
script 'r\0' 'kill KILL'
deliver "$M"
is "$(cat "$T/out/status") $(report_text)" 'signal 9 r\0' "dkimreport 0: killed, as before"
set_remote netqmail
echo 1 >"$T/qmail/control/dkimreport"
deliver "$M"
is "$(report_text)" "r\\0Kok (fake-remote)$SIGNED\\n\\0" "dkimreport 1: the note"
echo yes >"$T/qmail/control/dkimreport"
deliver "$M"
is "$(cat "$T/out/status") $(report_text)" "0 r\\0Kok (fake-remote)$SIGNED\\n\\0" \
	"dkimreport with a wrong value: the default, the message goes"
rm "$T/qmail/control/dkimreport"
mkdir "$T/qmail/control/dkimreport"
deliver "$M"
is "$(cat "$T/out/status") $(report_letters)" "0 rK" "dkimreport unreadable: the default, never a deferral"
rmdir "$T/qmail/control/dkimreport"

# --- the real one cannot be run --------------------------------------------------

printf '#!/nonexistent/interpreter\n' >"$T/qmail/bin/qmail-remote.orig"
deliver "$M"
is "$(cat "$T/out/status") $(report_letters)" "0 Z" "the real one cannot start: one Z, exit 0"
ok "the Z says why" grep -q "cannot run" "$T/out/report"

# --- qmail-dkimc and qmail-dkimd --------------------------------------------------

if [ -x "$QDKIMC" ] && [ -x "$QDKIMD" ]; then
	set_remote notqmail
	ln -s "$QDKIM" "$T/qmail/bin/qmail-dkim"
	start_daemon -n 1 || exit 1
	Q=$QDKIM
	QDKIM=$QDKIMC
	deliver "$M"
	is "$(cat "$T/out/status") $(report_text)" "0 r\\0Kok (fake-remote)$SIGNED\\n\\0" \
		"qmail-dkimc, signed by qmail-dkimd: the note"
	ok "qmail-dkimc: dkimpy verifies" verify_dkimpy "$T/out/wire"
	deliver "$T/nokey.eml" example.net a@nokey.test r@example.net
	is "$(report_text)" "r\\0Kok (fake-remote)$NOKEY\\n\\0" "qmail-dkimc, no key: the reason"
	set_remote notqmail --refuse
	deliver "$M" example.net sender@example.com a@example.net b@example.net
	is "$(report_letters) $(perl -0777 -ne 'print /\0(D[^\0]*)\0\z/ ? $1 : "none"' "$T/out/report")" \
		"hhD DGiving up on example.net.$SIGNED" "qmail-dkimc, refused: h, h, and D with the note"
	script 'r\0' 'kill TERM'
	deliver "$M"
	is "$(cat "$T/out/status") $(report_text)" 'signal 15 r\0' "qmail-dkimc: killed, the same signal"
	script 'r\0Kok\n\0'
	is "$(apart "$QDKIMC" "$M") $(report_text "$T/fd1") $(wc -c <"$T/fd2")" "0 r\\0Kok$SIGNED\\n\\0 0" \
		"qmail-dkimc, fd 2 apart: nothing on fd 2"
	set_remote notqmail
	echo 0 >"$T/qmail/control/dkimreport"
	deliver "$M"
	is "$(report_text)" 'r\0Kok (fake-remote)\n\0' "qmail-dkimc, dkimreport 0: untouched"
	QDKIM=$Q
	stop_daemon
else
	skip 7 "qmail-dkimc and qmail-dkimd are not built"
fi
