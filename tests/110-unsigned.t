#!/bin/sh
# Messages that go on unsigned: byte for byte what came in, through the
# real qmail-remote, with its report alone.  Never a signature that fails.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 39

setup_home notqmail
make_key example.com
M=$TOP/tests/msg/simple.eml

# unchanged DESC FILE [deliver args]: delivered unsigned and unchanged.
unchanged() {
	_d=$1 _f=$2
	shift 2
	deliver "$_f" "$@"
	ok "$_d: handed on byte for byte" cmp "$_f" "$T/out/stdin"
	is "$(report_letters)" "$(expect_letters "$_f")" "$_d: the real qmail-remote's report alone"
	is "$(cat "$T/out/status")" 0 "$_d: exit 0"
}
# What fake-remote reports: D for a last line without LF, else r and K.
expect_letters() {
	if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
		echo rD
	else echo rK; fi
}
# msg FORMAT [ARG...]: the test message, from a printf format.
# shellcheck disable=SC2059
msg() { printf "$@" >"$T/m.eml"; }

sed 's/^From: .*/From: alice@nokey.test/' "$M" >"$T/nokey.eml"
unchanged "no key for the From: or envelope domain" "$T/nokey.eml" example.net a@nokey.test r@example.net

msg 'To: b@example.net\nSubject: x\n\nbody\n'
unchanged "no From:" "$T/m.eml"

msg 'From: a@example.com\nFrom: b@example.com\nSubject: x\n\nbody\n'
unchanged "two From:" "$T/m.eml"

msg 'From: a@example.com\nSubject: a\000b\n\nbody\n'
unchanged "a NUL byte in the header" "$T/m.eml"

msg 'From: a@example.com\nthis line has no colon\n\nbody\n'
unchanged "a header line without a colon" "$T/m.eml"

msg 'From : a@example.com\nSubject: x\n\nbody\n'
unchanged "white space before the colon" "$T/m.eml"

msg '\nFrom: a@example.com\n\nbody\n'
unchanged "an empty first line" "$T/m.eml"

msg 'From: a@example.com\nSubject: x\n\nbody without a final line end'
unchanged "no final LF (qmail-remote refuses it itself)" "$T/m.eml"

: >"$T/m.eml"
unchanged "an empty message" "$T/m.eml"

# Domains built to escape control/domainkeys: never looked up, never signed.
mkdir -p "$T/qmail/control/domainkeys/x"
cp "$T/qmail/control/domainkeys/example.com/default" "$T/qmail/control/domainkeys/x/default"
cp "$T/qmail/control/domainkeys/example.com/default" "$T/qmail/control/default"
for from in 'a@../example.com' 'a@x/../example.com' 'a@..' 'a@.' 'a@x' 'a@../../control'; do
	msg 'From: %s\nSubject: x\n\nbody\n' "$from"
	deliver "$T/m.eml" example.net '' r@example.net
	ok "From: $from is not signed" cmp "$T/m.eml" "$T/out/stdin"
done

# A header larger than qmail-dkim takes goes on unsigned.
{
	echo 'From: a@example.com'
	perl -e 'print "X-Filler: ", "y" x 70, "\n" for 1 .. 16000'
	printf '\nbody\n'
} >"$T/big.eml"
unchanged "a header block over 1 MB" "$T/big.eml"

# A bounce (empty envelope sender) from a domain without a key.
unchanged "a bounce without a key" "$T/nokey.eml" example.net '' r@example.net

