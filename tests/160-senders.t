#!/bin/sh
# control/dkimsenders: which envelope senders may have mail signed with
# which domain's key.  Any local user can write any From:, so on a shared
# host this is how an admin keeps one customer from signing as another.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 12

M=$TOP/tests/msg/simple.eml	# From: alice@example.com
C=$T/qmail/control
setup_home notqmail
make_key example.com
make_key example.org

signed_for() {
	perl -0777 -ne 'm/\ADKIM-Signature:.*?\bd=([^;\s]+)/s and print $1' "$T/out/stdin"
}

deliver "$M" example.net alice@example.com r@example.net
is "$(signed_for)" example.com "no control/dkimsenders: every key signs"

printf '# signing domain: senders\nexample.com: example.com Lists.Example.com\nexample.org: *\n' >"$C/dkimsenders"
deliver "$M" example.net alice@example.com r@example.net
is "$(signed_for)" example.com "a listed sender domain may sign for it"
deliver "$M" example.net bounces@lists.example.com r@example.net
is "$(signed_for)" example.com "a second listed sender domain (names compared in lower case)"
ok "  and it verifies" verify_dkimpy "$T/out/wire"
deliver "$M" example.net mallory@example.org r@example.net
is "$(signed_for)" example.org "an unlisted sender falls back to its own domain's key, which allows *"
deliver "$M" example.net mallory@elsewhere.test r@example.net
is "$(signed_for)" "" "an unlisted sender without a key of its own: not signed"
ok "  and handed on byte for byte" cmp "$M" "$T/out/stdin"
deliver "$M" example.net '' r@example.net
is "$(signed_for)" "" "a bounce is not listed for example.com: not signed"

printf 'example.com: <> example.com\n' >"$C/dkimsenders"
deliver "$M" example.net '' r@example.net
is "$(signed_for)" example.com "<> lets bounces sign"
deliver "$M" example.net mallory@example.org r@example.net
is "$(signed_for)" "" "a domain without a line signs nothing once the file exists"

chmod 000 "$C/dkimsenders"
if [ "$(id -u)" -eq 0 ]; then
	skip 2 "root reads any file"
else
	deliver "$M" example.net alice@example.com r@example.net
	ok "an unreadable control/dkimsenders defers" report_is_z
	ok "  naming it" grep -q dkimsenders "$T/out/report"
fi
