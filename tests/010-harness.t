#!/bin/sh
# The test harness itself: if these fail, no other test result means much.
. "$(dirname "$0")/lib.sh"
plan 83
setup_home netqmail
MSG=$TOP/tests/msg/simple.eml

# --- lib.sh's TAP helpers ----------------------------------------------------

cat >"$T/inner.t" <<EOF
TOP='$TOP'
. "\$TOP/tests/lib.sh"
plan 4
ok 'true passes' true
ok 'false fails' false
is a b 'a is not b'
not_ok 'not_ok wants a failure' false
EOF
sh "$T/inner.t" >"$T/inner.out" 2>"$T/inner.err"
is "$? $(tr '\n' '|' <"$T/inner.out")" \
	"2 1..4|ok 1 - true passes|not ok 2 - false fails|not ok 3 - a is not b|ok 4 - not_ok wants a failure|" \
	"ok/is/not_ok print TAP; the exit status counts the failures"
ok "a failing is() shows got and expected" grep -q "expected: 'b'" "$T/inner.err"
printf "TOP='%s'\n. \"\$TOP/tests/lib.sh\"\nplan 2\nok one true\n" "$TOP" >"$T/short.t"
not_ok "running fewer tests than planned fails" sh "$T/short.t"

# --- fake-remote.py: the wire form of each qmail flavour -----------------------

# wire_is MODE INPUT EXPECTED DESC [OPTION...]: INPUT and EXPECTED are printf formats.
wire_is() {
	_mode=$1 _in=$2 _exp=$3 _desc=$4
	shift 4
	rm -rf "$T/fr" && mkdir "$T/fr"
	# shellcheck disable=SC2059 # the formats are the point
	printf "$_in" >"$T/fr.in"
	"$PY" "$TOP/tests/fake-remote.py" --out "$T/fr" --mode "$_mode" "$@" \
		example.net s@example.com r@example.net <"$T/fr.in" >"$T/fr.report"
	# shellcheck disable=SC2059
	is "$(od -An -c "$T/fr/wire")" "$(printf "$_exp" | od -An -c)" "$_mode: $_desc"
}
wire_is netqmail 'a\nb\n' 'a\r\nb\r\n' 'LF becomes CRLF'
wire_is netqmail 'a\r\nb\n' 'a\r\r\nb\r\n' 'stored CRLF becomes CR CR LF'
wire_is netqmail 'a\rb\n' 'a\rb\r\n' 'bare CR passes through'
wire_is notqmail 'a\nb\n' 'a\r\nb\r\n' 'LF becomes CRLF'
wire_is notqmail 'a\r\nb\n' 'a\r\nb\r\n' 'stored CRLF stays CRLF'
wire_is notqmail 'a\rb\n' 'a\r\nb\r\n' 'bare CR becomes CRLF'
wire_is notqmail 'a\r\r\nb\n' 'a\r\n\r\nb\r\n' 'CR CR LF becomes two line ends'
wire_is notqmail 'a\r\nb\n' 'a\r\nb\r\n' 'CRLF split across chunks' --chunk 2
wire_is notqmail 'a\rb\n' 'a\r\nb\r\n' 'bare CR at a chunk end' --chunk 2
wire_is notqmail 'x\r\ny\rz\r\r\n\n.\r\n' 'x\r\ny\r\nz\r\n\r\n\r\n.\r\n' \
	'mixed line ends, one byte a chunk' --chunk 1
wire_is netqmail 'x\r\ny\rz\r\r\n\n.\r\n' 'x\r\r\ny\rz\r\r\r\n\r\n.\r\r\n' \
	'mixed line ends, one byte a chunk' --chunk 1
ok "stdin is recorded byte for byte" cmp "$T/fr.in" "$T/fr/stdin"
is "$(report_text "$T/fr.report")" 'r\0Kok (fake-remote)\n\0' "report: r, then K"
is "$(tr '\0' '|' <"$T/fr/argv")" 'example.net|s@example.com|r@example.net|' "argv is recorded"

"$PY" "$TOP/tests/fake-remote.py" --out "$T/fr" --mode notqmail h s r1 r2 \
	</dev/null >"$T/fr.report"
is "$(report_letters "$T/fr.report")" rrK "an empty message is 'delivered', as qmail-remote does"
wire_is notqmail 'a\nb' 'a\r\nb' 'a partial last line is sent so far'
is "$(report_text "$T/fr.report")" \
	'r\0DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n\0' \
	"a partial last line gives a D record"
ok "and stdin is still recorded" cmp "$T/fr.in" "$T/fr/stdin"

rm -rf "$T/fr"
head -c 4000000 /dev/zero | "$PY" "$TOP/tests/fake-remote.py" --out "$T/fr" \
	--mode netqmail --refuse h s r1 r2 >"$T/fr.report"
is "$(report_letters "$T/fr.report")" hhD "--refuse: h per recipient, then D"
not_ok "--refuse does not read stdin" test -e "$T/fr/stdin"

{
	read -r _line
	"$PY" "$TOP/tests/fake-remote.py" --out "$T/fr" --mode netqmail h s r
} <"$MSG" >/dev/null
is "$(cat "$T/fr/fd0")" "type=reg offset=$(($(head -n 1 "$MSG" | wc -c)))" "fd 0 and its offset are recorded"
printf 'a\n' | "$PY" "$TOP/tests/fake-remote.py" --out "$T/fr" --mode netqmail h s r >/dev/null
is "$(cat "$T/fr/fd0")" "type=fifo" "a pipe on fd 0 is recorded"

# --- rspawn.py: what qmail-rspawn gives qmail-remote -------------------------

# spawn [OPTION...] MSGFILE PROGRAM ARG...: report in $T/rep, status in $T/st.
spawn() {
	"$PY" "$TOP/tests/rspawn.py" --report "$T/rep" --status "$T/st" \
		--env="QMAILDKIM_HOME=$T/qmail" "$@"
}
spawn "$MSG" /bin/sh -c 'printf a; printf b >&2; printf c'
is "$(cat "$T/rep")" abc "fd 2 goes into the report, in order"
# shellcheck disable=SC2016 # $$ is the child's
spawn "$MSG" /bin/sh -c 'test "$(readlink /proc/$$/fd/1)" = "$(readlink /proc/$$/fd/2)" && ls /proc/$$/fd' 7</dev/null
is "$(tr '\n' ' ' <"$T/rep")" "0 1 2 " "fds 1 and 2 are one pipe, no other fd is open"

spawn "$MSG" /bin/grep -E '^Sig(Ign|Blk)' /proc/self/status
sigign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$T/rep")
sigblk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "$T/rep")
is "$((0x$sigign >> 12 & 1))" 1 "SIGPIPE (13) is ignored in the child"
is "$((0x$sigblk >> 16 & 1))" 1 "SIGCHLD (17) is blocked in the child"

spawn --env=EXTRA=1 "$MSG" /usr/bin/env
is "$(cat "$T/rep")" "PATH=$PATH
QMAILDKIM_HOME=$T/qmail
EXTRA=1" "the environment is PATH and the --env pairs only"

spawn "$MSG" /bin/sh -c 'stat -L -c %F /dev/stdin; sed -n "s/^pos:[[:space:]]*//p" /proc/self/fdinfo/0; cat'
is "$(head -n 2 "$T/rep" | tr '\n' ' ')" "regular file 0 " "fd 0 is the message file, at offset 0"
tail -n +3 "$T/rep" >"$T/rep.msg"
ok "fd 0 holds the message" cmp "$MSG" "$T/rep.msg"
spawn "$MSG" /bin/sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/0
is "$((0$(cat "$T/rep") & 04000))" 2048 "fd 0 is O_NONBLOCK"

spawn "$MSG" /bin/pwd
is "$(cat "$T/rep")" "$(cd "$T/qmail/queue/mess" && pwd -P)" "cwd is QMAILDKIM_HOME/queue/mess"
spawn "$MSG" /bin/sh -c umask
is "$(cat "$T/rep")" 0077 "umask is 077"

spawn "$MSG" /bin/sh -c 'exit 111'
is "$(cat "$T/st")" 111 "an exit status is reported"
spawn "$MSG" /bin/sh -c 'kill -9 $$'
is "$(cat "$T/st")" "signal 9" "a killing signal is reported"
spawn "$MSG" /bin/sh -c '(sleep 0.5; printf late) & printf early'
is "$(cat "$T/rep") $(cat "$T/st")" "earlylate 0" "the report lasts until the last holder of fd 1 closes it"

spawn --stdin-pipe "$MSG" /bin/sh -c 'stat -L -c %F /dev/stdin; cat'
printf 'fifo\n' | cat - "$MSG" >"$T/exp"
ok "--stdin-pipe: fd 0 is a pipe carrying the message" cmp "$T/exp" "$T/rep"
head -c 4000000 /dev/zero >"$T/big"
spawn --stdin-pipe "$T/big" /bin/true
is "$(cat "$T/st")" 0 "--stdin-pipe: a child that never reads does not hang us"
spawn --stdin-pipe "$T/big" /usr/bin/wc -c
is "$(cat "$T/rep")" 4000000 "--stdin-pipe: all of a big message arrives"

start=$(date +%s)
spawn --timeout=0.5 "$MSG" /bin/sh -c 'printf x; sleep 60'
is "$(cat "$T/st") $(cat "$T/rep")" "timeout x" "a hung child is killed after --timeout"
ok "and promptly" test $(($(date +%s) - start)) -le 5

# --- deliver and the stand-in, through a signer that signs nothing --------------

cat >"$T/passthru" <<'EOF'
#!/usr/bin/perl
# Perl, not sh: dash would clear the signal mask we want to see arrive.
exec "$ENV{QMAILDKIM_HOME}/bin/qmail-remote.orig", @ARGV or exit 111;
EOF
chmod +x "$T/passthru"
QDKIM=$T/passthru

deliver "$MSG"
is "$(cat "$T/out/status") $(report_letters)" "0 rK" "deliver: status 0, report r K"
ok "the stand-in got the message on stdin" cmp "$MSG" "$T/out/stdin"
perl -pe 's/\n/\r\n/' "$MSG" >"$T/exp"
ok "the wire has CRLF line ends" cmp "$T/exp" "$T/out/wire"
is "$(tr '\0' '|' <"$T/out/argv")" "example.net|sender@example.com|rcpt@example.net|" "default argv"
is "$(tr '\0' '|' <"$T/out/env")" "PATH=$T/qmail/bin:/usr/local/bin:/usr/bin:/bin|QMAILDKIM_HOME=$T/qmail|" \
	"the environment is PATH and QMAILDKIM_HOME"
is "$(cat "$T/out/fd0") $(cat "$T/out/fds")" "type=reg offset=0 " "fd 0 is the queue file; no stray fds"
is "$(($(sed 's/^SigBlk:[[:space:]]*/0x/' "$T/out/sigblk") >> 16 & 1))" 1 "SIGCHLD still blocked in the stand-in"
is "$(cat "$T/out/cwd")" "$(cd "$T/qmail/queue/mess" && pwd -P)" "cwd is recorded"

deliver --stdin-pipe "$MSG" example.org "" r1@example.org r2@example.org
is "$(report_letters) $(tr '\0' '|' <"$T/out/argv") $(cat "$T/out/fd0")" \
	"rrK example.org||r1@example.org|r2@example.org| type=fifo" \
	"deliver --stdin-pipe, empty sender, two recipients"

set_remote notqmail --refuse
deliver "$MSG"
is "$(report_letters)" hD "set_remote notqmail --refuse: every recipient refused"
not_ok "and the message is not read" test -e "$T/out/stdin"
set_remote netqmail

# fake_signer STATUS PRINTF-FORMAT: a qmail-dkim that only reports.
fake_signer() {
	printf '#!/bin/sh\nprintf %s\nexit %s\n' "'$2'" "$1" >"$T/fakesigner"
	chmod +x "$T/fakesigner"
	QDKIM=$T/fakesigner deliver "$MSG"
}
fake_signer 0 'Zno key for example.com. (#4.3.0)\n\0'
ok "report_is_z accepts a lone Z record" report_is_z
is "$(report_text)" 'Zno key for example.com. (#4.3.0)\n\0' "report_text shows it"
fake_signer 111 'Zfoo\n\0'
not_ok "report_is_z wants exit status 0" report_is_z
fake_signer 0 'Zfoo\n\0Zbar\n\0'
not_ok "report_is_z wants exactly one record" report_is_z
fake_signer 0 'Dfoo\n\0'
not_ok "report_is_z wants Z" report_is_z
fake_signer 0 'Zfoo\n'
not_ok "report_is_z wants the NUL" report_is_z

# --- keys and the two verifiers -------------------------------------------

deliver "$MSG"
cp "$T/out/wire" "$T/wire"
# sign DOMAIN SELECTOR [C] <WIRE >SIGNED: dkimpy as a reference signer.
sign() { "$PY" "$TOP/tests/sign-dkimpy.py" "$T/qmail/control/domainkeys/$1/$2" "$@"; }

make_key example.com
key=$T/qmail/control/domainkeys/example.com/default
ok "make_key: a PKCS#8 RSA key" grep -q -- '-----BEGIN PRIVATE KEY-----' "$key"
ok "make_key: its TXT record" grep -q '^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]*$' "$T/dns/default._domainkey.example.com"
sign example.com default <"$T/wire" >"$T/signed"
ok "dkimpy verifies a good signature" verify_dkimpy "$T/signed"
ok "Mail::DKIM verifies a good signature" verify_maildkim "$T/signed"
perl -pe 's/^Alice\r$/Alicf\r/' "$T/signed" >"$T/flipped"
not_ok "one byte changed in the body" cmp "$T/signed" "$T/flipped"
not_ok "dkimpy fails a changed body" verify_dkimpy "$T/flipped"
not_ok "Mail::DKIM fails a changed body" verify_maildkim "$T/flipped"
mv "$T/dns/default._domainkey.example.com" "$T/txt"
not_ok "dkimpy fails without the DNS record" verify_dkimpy "$T/signed"
not_ok "Mail::DKIM fails without the DNS record" verify_maildkim "$T/signed"
mv "$T/txt" "$T/dns/default._domainkey.example.com"
not_ok "dkimpy fails an unsigned message" verify_dkimpy "$T/wire"
not_ok "Mail::DKIM fails an unsigned message" verify_maildkim "$T/wire"
cp "$key" "$T/qmail/control/domainkeys/example.com/gone" # no TXT record
sign example.com gone <"$T/signed" >"$T/signed-gone"
not_ok "dkimpy fails one bad signature beside a good one" verify_dkimpy "$T/signed-gone"
not_ok "Mail::DKIM fails one bad signature beside a good one" verify_maildkim "$T/signed-gone"

# Over 1 MiB, so that verify-dkimpy.py canonicalizes the body in pieces.
i=0
while [ $i -lt 12 ]; do i=$((i + 1)) && echo "line $i  with	tabs and trailing space  "; done >"$T/body"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do cat "$T/body" "$T/body" >"$T/body2" && mv "$T/body2" "$T/body"; done
sed '/^$/q' "$TOP/tests/msg/fold.eml" | cat - "$T/body" >"$T/w.eml"
deliver "$T/w.eml"
sign example.com default relaxed/relaxed <"$T/out/wire" >"$T/signed-big"
ok "dkimpy verifies relaxed/relaxed over several MB" verify_dkimpy "$T/signed-big"
ok "Mail::DKIM verifies relaxed/relaxed over several MB" verify_maildkim "$T/signed-big"

make_key example.com ed ed25519
is "$(sed 's/.*p=//' "$T/dns/ed._domainkey.example.com" | base64 -d | wc -c)" 32 \
	"make_key ed25519: the TXT record holds the bare 32-byte key"
sign example.com ed <"$T/wire" >"$T/signed-ed"
ok "dkimpy verifies Ed25519" verify_dkimpy "$T/signed-ed"
not_ok "Mail::DKIM skips Ed25519, so no passing signature" verify_maildkim "$T/signed-ed"
ok "... unless --allow-none" verify_maildkim --allow-none "$T/signed-ed"
sign example.com ed <"$T/signed" >"$T/signed-2"
ok "dkimpy verifies RSA + Ed25519" verify_dkimpy "$T/signed-2"
ok "Mail::DKIM passes RSA, skips Ed25519" verify_maildkim "$T/signed-2"

make_key_pkcs1 example.org old 1024
ok "make_key_pkcs1: a PKCS#1 key" grep -q -- '-----BEGIN RSA PRIVATE KEY-----' \
	"$T/qmail/control/domainkeys/example.org/old"
sign example.org old <"$T/wire" >"$T/signed-1"
both() { verify_dkimpy "$1" && verify_maildkim "$1"; }
ok "both verify a 1024-bit PKCS#1 key's signature" both "$T/signed-1"
