#!/bin/sh
# Field names in other cases than the usual ones.  RFC 6376 3.5 h=:
# names "MUST be compared against actual header field names in a
# case-insensitive manner"; go-msgauth counts the instances it has picked
# per spelling, so "h=FROM:...:From" makes it hash the From: field twice.
# The signer spells each name in h= one way: as the message does.  And a
# message with no empty line after the header, which go-msgauth cannot
# read, goes on unsigned.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -x "$TOP/tests/verify-msgauth" ] || skip_all "tests/verify-msgauth is not built (make units)"
plan 17

sigs() {
	perl -0777 -ne 'while (/^DKIM-Signature:(.*?)\n(?![ \t])/msg) {
		($s = $1) =~ s/\s+//g; print "$s\n" }' "$T/out/stdin"
}
tag() { sigs | sed -n "${2:-1}p" | tr ';' '\n' | sed -n "s/^$1=//p"; }
all_verify() {
	is "$(sigs | wc -l)" 2 "$1: signed, RSA and Ed25519"
	ok "$1: dkimpy verifies both" verify_dkimpy "$T/out/wire"
	ok "$1: go-msgauth verifies both" verify_msgauth "$T/out/wire"
	ok "$1: Mail::DKIM verifies RSA" verify_maildkim "$T/out/wire"
}

setup_home notqmail
make_key example.com rsa1
make_key example.com ed1 ed25519
printf 'rsa1\ned1\n' >"$T/qmail/control/domainkeys/example.com/selector"

printf 'FROM: alice@example.com\nto: bob@example.net\nSUBJECT: shouting\nDate: Sun, 29 Nov 2026 12:00:00 +0000\n\nbody\n' >"$T/m"
deliver "$T/m"
all_verify "FROM:, to:, SUBJECT:"
is "$(tag h 1)" "FROM:to:SUBJECT:Date:FROM:to:Cc:SUBJECT:Date:Reply-To" \
	"h= spells the oversigned names as the message does"
is "$(tag h 2)" "$(tag h 1)" "the same h= for Ed25519"

# One name in two spellings: go-msgauth cannot pick them; left out.
printf 'From: alice@example.com\nTo: bob@example.net\nTO: carol@example.net\nSubject: two\n\nbody\n' >"$T/m"
deliver "$T/m"
all_verify "To: and TO:"
is "$(tag h 1)" "From:Subject:From:Cc:Subject:Date:Reply-To" "To left out of h=, oversigned too"

# simple header canonicalization: the same.
echo simple/simple >"$T/qmail/control/dkimcanon"
printf 'FROM: alice@example.com\nto: bob@example.net\nSUBJECT: shouting\n\nbody\n' >"$T/m"
deliver "$T/m"
all_verify "FROM:, to:, SUBJECT:, simple/simple"
rm "$T/qmail/control/dkimcanon"

# A header and no body, not even the empty line (RFC 5322 2.1 allows it).
printf 'From: alice@example.com\nSubject: header only\n' >"$T/m"
deliver "$T/m"
is "$(report_text)" 'r\0Kok (fake-remote)\n\0' "header only: delivered"
ok "header only: handed on unsigned and unchanged" cmp "$T/out/stdin" "$T/m"
