#!/bin/sh
# One syslog line per delivery (facility mail): signed with d= s= a=, or
# not signed and why, or deferred and why; never key material.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -f "$TOP/tests/syslog-shim.so" ] || skip_all "tests/syslog-shim.so is not built (make units)"
! ldd "$QDKIM" 2>&1 | grep -qE 'statically linked|not a dynamic' ||
	skip_all "qmail-dkim is linked statically: LD_PRELOAD cannot catch its syslog"
plan 9

L=$T/syslog
# The key-mode warnings (tests/505) are left out: a suite run by a user
# other than root has keys that user can write.
run() {
	rm -f "$L"
	deliver --env="LD_PRELOAD=$TOP/tests/syslog-shim.so" --env="SYSLOG_SHIM=$L" "$@"
	[ ! -f "$L" ] || sed -i "/^$mail_warning qmail-dkim: warning: /d" "$L"
}
mail_info=$((2 << 3 | 6)) # LOG_MAIL | LOG_INFO
mail_warning=$((2 << 3 | 4)) # LOG_MAIL | LOG_WARNING

setup_home notqmail
make_key example.com rsa1
make_key example.com ed1 ed25519
printf 'rsa1\ned1\n' >"$T/qmail/control/domainkeys/example.com/selector"
run "$TOP/tests/msg/simple.eml"
is "$(grep -c '' "$L")" 1 "one line for a signed delivery"
is "$(cat "$L")" "$mail_info qmail-dkim: signed: d=example.com s=rsa1 a=rsa-sha256 s=ed1 a=ed25519-sha256 for uid 1000" \
	"it names d=, s= and a= of each signature, and the uid that queued the message"

sed 's/^From: .*/From: a@nokey.test/' "$TOP/tests/msg/simple.eml" >"$T/nokey.eml"
run "$T/nokey.eml" example.net a@nokey.test r@example.net
is "$(cat "$L")" "$mail_info qmail-dkim: not signed: no key for the From: or envelope domain" \
	"not signed: no key"
printf 'From: a@example.com\nFrom: b@example.com\n\nx\n' >"$T/two.eml"
run "$T/two.eml"
is "$(cat "$L")" "$mail_info qmail-dkim: not signed: several From: fields" "not signed: the reason"

echo garbage >"$T/qmail/control/domainkeys/example.com/ed1"
run "$TOP/tests/msg/simple.eml"
is "$(grep -c '' "$L")" 1 "one line for a deferral"
ok "deferred: it names the key file" grep -q "deferred: the key .*example.com/ed1 holds no PEM" "$L"
ok "the same sentence goes to qmail-send in the Z record" grep -q "example.com/ed1 holds no PEM" "$T/out/report"

# No key material: not the PEM, not a line of its base64.
make_key example.com ed1 ed25519
run "$TOP/tests/msg/simple.eml"
k=$(sed -n 2p "$T/qmail/control/domainkeys/example.com/rsa1" | cut -c1-20)
not_ok "no line of the private key in the log" grep -qF -e "$k" -e PRIVATE "$L"
not_ok "nor on the report pipe" grep -qF -e "$k" -e PRIVATE "$T/out/report"
