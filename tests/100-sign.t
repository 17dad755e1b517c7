#!/bin/sh
# Signing end to end: qmail-dkim started as qmail-rspawn starts it, the
# stand-in qmail-remote records what it would send, and the signature is
# checked on those wire bytes by dkimpy and Mail::DKIM.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 44

# signed_ok DESC: the last delivery was signed, and verifies everywhere.
signed_ok() {
	is "$(report_text)" "r\\0Kok (fake-remote) DKIM signed d=$(tag d) s=$(tag s)\\n\\0" \
		"$1: the real qmail-remote's report, the DKIM note in K"
	is "$(head -c 15 "$T/out/stdin")" "DKIM-Signature:" "$1: signature on top"
	ok "$1: dkimpy verifies the wire bytes" verify_dkimpy "$T/out/wire"
	ok "$1: Mail::DKIM verifies the wire bytes" verify_maildkim "$T/out/wire"
}
# tag NAME: a tag of the signature on the last delivery.
tag() {
	perl -0777 -ne 'm/\ADKIM-Signature:(.*?)\n(?!\s)/s or exit 1;
		($s = $1) =~ s/\s+//g; $s =~ /(?:^|;)\Q'"$1"'\E=([^;]*)/ and print $1' "$T/out/stdin"
}

for mode in netqmail notqmail; do
	setup_home "$mode"
	make_key example.com
	deliver "$TOP/tests/msg/simple.eml"
	signed_ok "simple, $mode"
done
is "$(tag d)" example.com "d= is the From: domain"
is "$(tag s)" default "s= is default without a selector file"
is "$(tag a)" rsa-sha256 "a=rsa-sha256"
is "$(tag c)" relaxed/relaxed "c=relaxed/relaxed"
isnt "$(tag t)" "" "t= is set"
is "$(tag h)" "From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:From:To:Cc:Subject:Date:Reply-To" \
	"h= lists what is present, then the oversigned fields"
perl -0777 -pe 's/\ADKIM-Signature:.*?\n(?![ \t])//s' "$T/out/stdin" >"$T/unsigned"
ok "after the field, the message is byte for byte the queue file" cmp "$T/unsigned" "$TOP/tests/msg/simple.eml"
ok "no CR handed to qmail-remote" sh -c "! grep -q \"\$(printf '\\r')\" '$T/out/stdin'"
is "$(tr '\0' ' ' <"$T/out/argv")" "example.net sender@example.com rcpt@example.net " "argv handed on"

deliver "$TOP/tests/msg/mime.eml"
signed_ok "multipart with an attachment"
deliver "$TOP/tests/msg/fold.eml"
signed_ok "folded fields, quoted display name"

deliver "$TOP/tests/msg/simple.eml" example.net sender@example.com a@example.net b@example.net
is "$(tr '\0' ' ' <"$T/out/argv")" "example.net sender@example.com a@example.net b@example.net " \
	"several recipients handed on"
is "$(report_text)" 'r\0r\0Kok (fake-remote) DKIM signed d=example.com s=default\n\0' \
	"a record for each recipient, the note in K only"

deliver --stdin-pipe "$TOP/tests/msg/simple.eml"
signed_ok "message on a pipe"

# The selector file names the key.
setup_home notqmail
make_key example.com s202611
echo s202611 >"$T/qmail/control/domainkeys/example.com/selector"
deliver "$TOP/tests/msg/simple.eml"
signed_ok "selector file"
is "$(tag s)" s202611 "s= from the selector file"

# A PKCS#1 key, as opendkim-genkey and older tools write it.
setup_home notqmail
make_key_pkcs1 example.com
deliver "$TOP/tests/msg/simple.eml"
signed_ok "PKCS#1 key"

# From: a subdomain without a key: its parent's key signs.
setup_home notqmail
make_key example.com
sed 's/^From: .*/From: Alice <alice@Mail.Sub.Example.COM>/' "$TOP/tests/msg/simple.eml" >"$T/sub.eml"
deliver "$T/sub.eml"
is "$(tag d)" example.com "a parent domain's key signs a subdomain"
ok "and it verifies" verify_dkimpy "$T/out/wire"

# From: a domain with no key at all: the envelope sender's domain signs.
setup_home notqmail
make_key example.org
sed 's/^From: .*/From: news@elsewhere.test/' "$TOP/tests/msg/simple.eml" >"$T/other.eml"
deliver "$T/other.eml" example.net bounce@lists.example.org rcpt@example.net
is "$(tag d)" example.org "the envelope sender's domain signs when From:'s has no key"
ok "and it verifies" verify_maildkim "$T/out/wire"
