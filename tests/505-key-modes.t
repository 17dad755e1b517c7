#!/bin/sh
# A key or key directory that someone other than root can write, or a key
# every local user can read, is worth a warning in the mail log; the
# message is signed all the same (world-writable ones still defer).
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -f "$TOP/tests/syslog-shim.so" ] || skip_all "tests/syslog-shim.so is not built (make units)"
! ldd "$QDKIM" 2>&1 | grep -qE 'statically linked|not a dynamic' ||
	skip_all "qmail-dkim is linked statically: LD_PRELOAD cannot catch its syslog"
[ "$(id -u)" -eq 0 ] || skip_all "not root: the key files must be root's to start with"
plan 17

L=$T/syslog
run() {
	rm -f "$L"
	deliver --env="LD_PRELOAD=$TOP/tests/syslog-shim.so" --env="SYSLOG_SHIM=$L" \
		"$TOP/tests/msg/simple.eml"
}
mail_warning=$((2 << 3 | 4)) # LOG_MAIL | LOG_WARNING
K=$T/qmail/control/domainkeys/example.com
signed() { perl -0777 -ne 'exit !/\ADKIM-Signature:.*?\bd=example\.com;/s' "$T/out/stdin"; }

setup_home notqmail
make_key example.com
chmod 0600 "$K/default"
chmod 0750 "$K"
run
ok "root's key, mode 0600: signed" signed
is "$(grep -c "^$mail_warning " "$L")" 0 "  no warning"

chmod 0644 "$K/default"
run
ok "a world-readable key: signed all the same" signed
ok "  verifies" verify_dkimpy "$T/out/wire"
is "$(grep "^$mail_warning " "$L")" "$mail_warning qmail-dkim: warning: the key $K/default is readable by every local user" \
	"  a warning names the key"
chmod 0600 "$K/default"

chown 64101 "$K/default"
run
ok "a key writable by uid 64101: signed" signed
ok "  a warning names the key and the uid" grep -q "^$mail_warning qmail-dkim: warning: the key $K/default is writable by uid 64101, not only by root\$" "$L"
chmod 0400 "$K/default"
run
is "$(grep -c "^$mail_warning " "$L")" 0 "uid 64101's key, mode 0400 (as qmail-dkim-keygen makes it): no warning"
chown 0:0 "$K/default"
chmod 0620 "$K/default"
run
is "$(grep -c "^$mail_warning " "$L")" 0 "group-writable by root's group: no warning"
chgrp 64110 "$K/default"
run
ok "group-writable by group 64110: signed" signed
ok "  a warning names the group" grep -q "^$mail_warning qmail-dkim: warning: the key $K/default is writable by group 64110, not only by root\$" "$L"
chgrp 0 "$K/default"
chmod 0600 "$K/default"

chown 64101 "$K"
run
ok "a key directory writable by uid 64101: signed" signed
ok "  a warning names the directory" grep -q "^$mail_warning qmail-dkim: warning: the key directory $K is writable by uid 64101, not only by root\$" "$L"
is "$(grep -c "signed: d=example.com" "$L")" 1 "  and the delivery's line is there as ever"
chown 0 "$K"

chmod 0757 "$K"
run
ok "a world-writable key directory still defers" report_is_z
ok "  naming it" grep -q "example.com is world-writable" "$T/out/report"
chmod 0750 "$K"
run
is "$(grep -c "^$mail_warning " "$L")" 0 "back to root's: no warning"
