#!/bin/sh
# Ed25519 and several signatures, the policy control files, bounces, and
# a key rollover.  Ed25519 is checked by dkimpy and go-msgauth (Debian's
# Mail::DKIM cannot verify it); RSA by all three.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -x "$TOP/tests/verify-msgauth" ] || skip_all "tests/verify-msgauth is not built (make units)"
plan 66

M=$TOP/tests/msg/fold.eml
D=$T/qmail/control/domainkeys/example.com
C=$T/qmail/control

# sigs: the DKIM-Signature fields of the last delivery, unfolded, one a line.
sigs() {
	perl -0777 -ne 'while (/^DKIM-Signature:(.*?)\n(?![ \t])/msg) {
		($s = $1) =~ s/\s+//g; print "$s\n" }' "$T/out/stdin"
}
# tag NAME [N]: a tag of the Nth signature (default the first).
tag() { sigs | sed -n "${2:-1}p" | tr ';' '\n' | sed -n "s/^$1=//p"; }
all_verify() {
	ok "$1: dkimpy verifies" verify_dkimpy "$T/out/wire"
	ok "$1: go-msgauth verifies" verify_msgauth "$T/out/wire"
	ok "$1: Mail::DKIM verifies what it can" verify_maildkim "$T/out/wire"
}
deferred() {
	ok "$1: one Z record" report_is_z
	ok "$1: it names the file" grep -q -- "$2" "$T/out/report"
}

# RSA and Ed25519 side by side, the message read once for both.
setup_home notqmail
make_key example.com rsa1
make_key example.com ed1 ed25519
printf 'rsa1\ned1   # Ed25519, RFC 8463\n' >"$D/selector"
deliver "$M"
is "$(sigs | wc -l)" 2 "two selectors: two signatures"
is "$(tag a 1) $(tag s 1) $(tag a 2) $(tag s 2)" "rsa-sha256 rsa1 ed25519-sha256 ed1" \
	"the key decides the algorithm"
all_verify "RSA + Ed25519"
ok "Mail::DKIM passes the RSA one" sh -c "perl '$TOP/tests/verify-maildkim.pl' '$T/dns' '$T/out/wire' | grep -q '^pass.*s=rsa1'"

setup_home netqmail
make_key example.com default ed25519
deliver "$M"
is "$(tag a)" ed25519-sha256 "an Ed25519 key alone"
ok "Ed25519 alone: dkimpy verifies" verify_dkimpy "$T/out/wire"
ok "Ed25519 alone: go-msgauth verifies" verify_msgauth "$T/out/wire"

# Every canonicalization, both key types, on folded and padded fields.
for canon in simple/simple simple/relaxed relaxed/simple simple; do
	setup_home notqmail
	make_key example.com rsa1
	make_key example.com ed1 ed25519
	printf 'rsa1\ned1\n' >"$D/selector"
	echo "$canon" >"$C/dkimcanon"
	deliver "$M"
	want=$canon
	[ "$canon" = simple ] && want=simple/simple
	is "$(tag c 1) $(tag c 2)" "$want $want" "dkimcanon $canon: c=$want"
	all_verify "dkimcanon $canon"
done

# x=, i=, and the field lists.
setup_home notqmail
make_key example.com
echo 3600 >"$C/dkimexpire"
echo 'news@Lists.Example.com' >"$D/identity"
printf 'From\nSubject:Date\n' >"$C/dkimsignheaders"
: >"$C/dkimoversignheaders"
deliver "$M"
is "$(($(tag x) - $(tag t)))" 3600 "dkimexpire: x= is t= plus its seconds"
is "$(tag i)" news@lists.example.com "identity: i="
is "$(tag h)" From:Subject:Date "dkimsignheaders, and no oversigning"
all_verify "x=, i= and custom lists"
printf 'From:To\n' >"$C/dkimsignheaders"
echo Subject >"$C/dkimoversignheaders"
deliver "$M"
is "$(tag h)" From:To:Subject:Subject "an oversigned field is signed too"
all_verify "oversigning a field not in dkimsignheaders"
# another signer's DKIM-Signature is never shown to libopendkim, so a
# list that names it must not put it in h=: that would break the signature
printf 'From:To:DKIM-Signature\n' >"$C/dkimsignheaders"
echo dkim-signature >"$C/dkimoversignheaders"
{ printf 'DKIM-Signature: v=1; a=rsa-sha256; d=other.test; s=x; bh=; h=From; b=\n'; cat "$M"; } >"$T/signed-before.eml"
deliver "$T/signed-before.eml"
is "$(tag h)" From:To "dkimsignheaders naming DKIM-Signature: not in h="

# Wrong values defer, naming the file, and sign nothing.
setup_home notqmail
make_key example.com
for bad in "dkimcanon:fancy/relaxed" "dkimexpire:soon" "dkimexpire:0" \
	"dkimsignheaders:Subject To" "dkimsignheaders:From Bäd" \
	"dkimoversignheaders:Sübject"; do
	rm -f "$C/dkimcanon" "$C/dkimexpire" "$C/dkimsignheaders" "$C/dkimoversignheaders"
	f=${bad%%:*}
	printf '%s\n' "${bad#*:}" >"$C/$f"
	deliver "$M"
	deferred "control/$f '${bad#*:}'" "control/$f"
done
rm -f "$C/dkimcanon" "$C/dkimexpire" "$C/dkimsignheaders" "$C/dkimoversignheaders"
echo '@other.test' >"$D/identity"
deliver "$M"
deferred "an identity outside d=" "example.com/identity"
rm "$D/identity"
printf 'default\nmissing\n' >"$D/selector"
deliver "$M"
deferred "a listed selector without a key" "example.com/missing"
printf '# nothing\n\n' >"$D/selector"
deliver "$M"
deferred "a selector file that lists nothing" "example.com/selector"

# Bounces: the From: domain's key, else this host's (bouncehost, else me).
setup_home notqmail
make_key example.com
S=$TOP/tests/msg/simple.eml
sed 's/^From: .*/From: MAILER-DAEMON@mx1.nokey.test/' "$S" >"$T/bounce.eml"
echo mx1.mail.example.com >"$C/me"
deliver "$T/bounce.eml" example.net '' rcpt@example.net
is "$(tag d)" example.com "a bounce: signed for control/me's domain, walking up"
ok "the bounce verifies" verify_dkimpy "$T/out/wire"
deliver "$T/bounce.eml" example.net '#@[]' rcpt@example.net
is "$(tag d)" example.com "a double bounce too"
echo bounces.nokey.test >"$C/bouncehost"
deliver "$T/bounce.eml" example.net '' rcpt@example.net
ok "control/bouncehost is used before control/me" cmp "$T/bounce.eml" "$T/out/stdin"
rm "$C/bouncehost"
sed 's/^From: .*/From: MAILER-DAEMON@example.com/' "$S" >"$T/bounce2.eml"
make_key example.org
echo example.org >"$C/me"
deliver "$T/bounce2.eml" example.net '' rcpt@example.net
is "$(tag d)" example.com "a bounce whose From: domain has a key is signed for it"

# A key rollover without a gap: new beside old, both sign, old removed.
setup_home netqmail
make_key example.com s202605
echo s202605 >"$D/selector"
deliver "$M"
is "$(tag s)" s202605 "rollover 1: the old key signs"
make_key example.com s202611
printf 's202605\ns202611\n' >"$D/selector"
deliver "$M"
is "$(tag s 1) $(tag s 2)" "s202605 s202611" "rollover 2: both sign"
all_verify "rollover 2"
echo s202611 >"$D/selector"
deliver "$M"
is "$(tag s) $(sigs | wc -l)" "s202611 1" "rollover 3: the new key alone"
ok "rollover 3 verifies" verify_dkimpy "$T/out/wire"
