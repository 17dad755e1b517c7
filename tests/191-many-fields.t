#!/bin/sh
# A header with more signed fields than libopendkim keeps the names of:
# it copies the names it signs, joined by colons, into 4,096 bytes and
# cuts the rest, while h= still names the oversigned fields, so every
# verifier fails.  The names with the most fields are left out of h=
# until the list fits; the message is signed and verifies everywhere.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -x "$TOP/tests/verify-msgauth" ] || skip_all "tests/verify-msgauth is not built (make units)"
plan 29

sigs() {
	perl -0777 -ne 'while (/^DKIM-Signature:(.*?)\n(?![ \t])/msg) {
		($s = $1) =~ s/\s+//g; print "$s\n" }' "$T/out/stdin"
}
tag() { sigs | sed -n "${2:-1}p" | tr ';' '\n' | sed -n "s/^$1=//p"; }
# count NAME: how often h= names NAME.
count() { tag h | tr ':' '\n' | grep -cix "$1"; }
all_verify() {
	is "$(head -c 15 "$T/out/stdin")" DKIM-Signature: "$1: signed"
	ok "$1: dkimpy verifies" verify_dkimpy "$T/out/wire"
	ok "$1: go-msgauth verifies" verify_msgauth "$T/out/wire"
	ok "$1: Mail::DKIM verifies" verify_maildkim "$T/out/wire"
}
# msg N [CCS]: N To: fields and CCS Cc: fields.
msg() {
	perl -e 'print "From: alice\@example.com\n";
		print "To: r$_\@example.net\n" for 1 .. $ARGV[0];
		print "Cc: c$_\@example.net\n" for 1 .. ($ARGV[1] // 0);
		print "Subject: many\nDate: Sun, 29 Nov 2026 12:00:00 +0000\n\nbody\n"' "$@"
}

setup_home notqmail
make_key example.com rsa1
make_key example.com ed1 ed25519
printf 'rsa1\ned1\n' >"$T/qmail/control/domainkeys/example.com/selector"

# "From:" + 1,359 "To:" + "Subject:Date" is 4,094 bytes: the most that fits
msg 1359 >"$T/m"
deliver "$T/m"
all_verify "1,359 To: fields"
is "$(count To)" 1360 "all 1,359 To: fields in h=, and To oversigned"

for n in 1360 1400 3000; do
	msg $n >"$T/m"
	deliver "$T/m"
	all_verify "$n To: fields"
	is "$(count To)" 0 "$n To: fields: To left out of h=, oversigned too"
	is "$(count Subject) $(count Date) $(count From)" "2 2 2" \
		"$n To: fields: the other fields still signed"
done
deliver --env="LD_PRELOAD=$TOP/tests/syslog-shim.so" --env="SYSLOG_SHIM=$T/log" "$T/m"
ok "the log line says what h= leaves out" grep -q \
	"signed: d=example.com .*; h= leaves out To (3000 fields)" "$T/log"

# As many Cc: as To: fields, Cc not oversigned: Cc goes, To stays.
echo "From To Subject Date" >"$T/qmail/control/dkimoversignheaders"
msg 700 700 >"$T/m"
deliver "$T/m"
all_verify "700 To: and 700 Cc: fields"
is "$(count To) $(count Cc)" "701 0" "of equals, the name not oversigned is left out"
