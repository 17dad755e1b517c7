#!/bin/sh
# 721-user-keys.t: qmail-dkim-keygen and qmail-dkim-check for a user
# without root (qmail-dkim-queue's keys): run as an unprivileged uid
# (65534) whose home is a scratch directory it owns.  keygen makes the
# key 0600 in directories 0700, follows no link and writes in no
# directory another user can change; check finds the key, its record,
# SPF for -i and DMARC, and verifies a signature qmail-dkim-queue makes.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to become an unprivileged uid (setpriv)"
need setpriv
need_dns "$PY"
"$PY" -c 'import dkim' 2>/dev/null || skip_all "no dkimpy for $PY (python3-dkim)"
QDKIMQ=${QDKIMQ:-$TOP/qmail-dkim/qmail-dkim-queue}
[ -x "$QDKIMQ" ] || skip_all "qmail-dkim-queue is not built"
plan 64

U=65534
H=$T/home
KD=$H/.qmail-dkim
mkdir "$H"
chown "$U:$U" "$H"
chmod 0711 "$T"

# as_user CMD...: CMD as uid 65534 (no groups), in its home, with a bare
# environment; run's $T/out, $T/err and $rc.
as_user() {
	# shellcheck disable=SC2016 # expanded by the user's shell
	run setpriv --reuid="$U" --regid="$U" --clear-groups -- \
		env -i PATH=/usr/bin:/bin HOME="$H" sh -c 'cd "$HOME" && exec "$@"' sh "$@"
}
keygen() { as_user "$S/qmail-dkim-keygen" "$@"; }
# ls_mode PATH: mode and numeric owner, as ls -ln shows them.
# shellcheck disable=SC2012 # reading the mode is what ls -l is for
ls_mode() { ls -lnd "$1" | awk '{ print $1, $3 }'; }

# --- keygen: the default key directory ----------------------------------------
keygen -N user.test s1
is "$rc" 0 "keygen -N as uid $U, no other option: exit 0"
ok "keygen: the key in ~/.qmail-dkim/DOMAIN/SELECTOR" test -f "$KD/user.test/s1"
is "$(ls_mode "$KD/user.test/s1")" "-rw------- $U" "keygen: the key is the user's, mode 0600"
is "$(ls_mode "$KD")" "drwx------ $U" "keygen: ~/.qmail-dkim is the user's, mode 0700"
is "$(ls_mode "$KD/user.test")" "drwx------ $U" "keygen: the domain's directory too"
is "$(cat "$KD/user.test/selector")" s1 "keygen: the selector file names the first key"
has "$T/out" "qmail-dkim-queue signs mail from user\\.test with selector\\(s\\) s1" \
	"keygen: says qmail-dkim-queue signs with it"
value=$(cat "$KD/user.test/s1.txt")
has "$T/out" "^s1\\._domainkey\\.user\\.test\\. IN TXT \"" "keygen: the zone file line"
zone=$(sed -n 's/^s1\._domainkey\.user\.test\. IN TXT //p' "$T/out")
is "$(printf '%s\n' "$zone" | perl -ne 'print join("", /"([^"]*)"/g)')" "$value" \
	"keygen: its strings joined are the record"
# shellcheck disable=SC2016 # perl's $ARGV
ok "keygen: each string at most 255 bytes" perl -e 'exit grep { length > 255 } $ARGV[0] =~ /"([^"]*)"/g' "$zone"
has "$T/out" "^  value: v=DKIM1; k=rsa; p=" "keygen: the web panel's value"
has "$T/out" "^  name:  s1\\._domainkey " "keygen: the web panel's name"
has "$T/out" "qmail-dkim-check -k $KD user\\.test" "keygen: how to check it"
ok "keygen: the key is the public half's private key" sh -c \
	"openssl pkey -in '$KD/user.test/s1' -pubout | cmp -s - '$KD/user.test/s1.pub'"
lacks "$T/out" "PRIVATE" "keygen: the private key is not printed"
keygen -p user.test s1
is "$rc" 0 "keygen -p: exit 0"
ok "keygen -p: the same record" grep -qxF "  value: $value" "$T/out"
keygen user.test s1
is "$rc" 1 "keygen again: an existing key is not replaced"
keygen -t ed25519 user.test e1
is "$rc" 0 "keygen -t ed25519: exit 0"
has "$T/out" "^  value: v=DKIM1; k=ed25519; p=" "keygen -t ed25519: its record"

# --- keygen -k DIR -----------------------------------------------------------------
mkdir -m 0700 "$H/keys"
chown "$U:$U" "$H/keys"
keygen -N -k "$H/keys" other.test
is "$rc" 0 "keygen -k DIR: exit 0"
is "$(ls_mode "$H/keys/other.test/default")" "-rw------- $U" "keygen -k DIR: the key in DIR/DOMAIN/, mode 0600"
keygen -k "$H/keys" -u nobody other.test
is "$rc" 2 "keygen -k with -u: a usage error, -u is for qmail's keys"
QMAILDKIM_KEYS=$H/keys2 run setpriv --reuid="$U" --regid="$U" --clear-groups -- \
	env PATH=/usr/bin:/bin HOME="$H" QMAILDKIM_KEYS="$H/keys2" "$S/qmail-dkim-keygen" -N env.test
ok "keygen: \$QMAILDKIM_KEYS is the default directory, as for qmail-dkim-queue" \
	test -f "$H/keys2/env.test/default"

# --- keygen follows no link, writes in no directory others can change ----------------
mkdir "$H/elsewhere"
chown "$U:$U" "$H/elsewhere"
ln -s "$H/elsewhere" "$KD/link.test"
keygen link.test
is "$rc" 1 "a link for the domain's directory: refused"
has "$T/err" "symbolic link" "a link for the domain's directory: says so"
is "$(ls -A "$H/elsewhere")" "" "a link for the domain's directory: nothing written where it leads"
echo "mine" >"$H/victim"
chown "$U:$U" "$H/victim"
rm "$KD/user.test/s1"
ln -s "$H/victim" "$KD/user.test/s1"
keygen -f user.test s1
is "$rc" 1 "a link for the key file, -f: refused"
is "$(cat "$H/victim")" mine "a link for the key file: the file it leads to is untouched"
rm "$KD/user.test/s1"
ln -s "$H/elsewhere" "$H/keylink"
keygen -k "$H/keylink" linked.test
is "$rc" 1 "a link for the key directory itself: refused"
is "$(ls -A "$H/elsewhere")" "" "a link for the key directory: nothing written where it leads"
mkdir -m 0777 "$T/open"
keygen -k "$T/open/keys" open.test
is "$rc" 1 "a key directory in a directory every user can write: refused"
has "$T/err" "writable by every user" "... says why"
ok "... and makes nothing there" test ! -e "$T/open/keys"
chmod 0777 "$KD"
keygen user.test s2
is "$rc" 1 "a key directory every user can write: refused"
chmod 0700 "$KD"
# root, given a user's directory, does not write in it: the user could
# put a link where root writes
run "$S/qmail-dkim-keygen" -k "$KD" root.test
is "$rc" 1 "root with -k in a directory of uid $U: refused"
has "$T/err" "belongs to uid $U" "... because that user can change it"

# --- check -k: key, DNS, SPF, DMARC and qmail-dkim-queue's signature ------------------
keygen user.test s1 >/dev/null
value=$(cat "$KD/user.test/s1.txt")
other=$(cat "$H/keys/other.test/default.txt")
{
	echo "local=/test/"
	echo "txt-record=s1._domainkey.user.test,$value"
	# e1, staged: its record is published, so it is ready to sign with
	echo "txt-record=e1._domainkey.user.test,$(cat "$KD/user.test/e1.txt")"
	echo "txt-record=user.test,\"v=spf1 ip4:192.0.2.7 -all\""
	echo "txt-record=_dmarc.user.test,\"v=DMARC1; p=reject\""
	echo "txt-record=s1._domainkey.wrong.test,$other"
} >"$T/dns.conf"
start_dns 7211
cp -pR "$KD/user.test" "$KD/wrong.test"
chown -R "$U:$U" "$KD/wrong.test"
# a qmail home with a qmail-inject that knows QMAILQUEUE, as netqmail's
mkdir -p "$T/qmail/bin" "$T/qmail/control"
printf 'binary ... QMAILQUEUE ...\n' >"$T/qmail/bin/qmail-inject"
chmod 0755 "$T/qmail" "$T/qmail/bin"
check() { as_user "$S/qmail-dkim-check" -s "127.0.0.1:$port" -b "$QDKIMQ" "$@"; }

check -i 192.0.2.7 user.test
is "$rc" 0 "check as uid $U, no -k: exit 0"
has "$T/out" "^qmail-dkim-check: user\\.test \\(your keys in $KD," "check: the user's key directory by default"
has "$T/out" "^OK    key: $KD/user\\.test/s1 \\(selector s1, RSA 2048 bits\\)" "check: the key"
has "$T/out" "^OK    key: $KD/user\\.test/s1 is yours alone \\(-rw-------\\)" "check: the key is the user's alone"
has "$T/out" "^OK    dns: s1\\._domainkey\\.user\\.test matches the key" "check: the DNS record matches"
has "$T/out" "^OK    spf: 192\\.0\\.2\\.7 is allowed" "check: SPF for -i"
has "$T/out" "^OK    dmarc: _dmarc\\.user\\.test: policy reject" "check: DMARC"
has "$T/out" "^OK    signature: qmail-dkim-queue's test signature verifies with the DNS record \\(d=user\\.test s=s1 " \
	"check: qmail-dkim-queue's test signature verifies"
lacks "$T/out" "qmailr|daemon:|rights:|^WARN|^FAIL" "check: no qmailr, daemon or rights step, nothing to warn of"
check -k "$KD" -i 192.0.2.7 -w user.test
is "$rc" 0 "check -k DIR -w: exit 0"

check -k "$KD" -i 198.51.100.9 user.test
is "$rc" 1 "check, an address SPF does not allow: exit 1"
has "$T/out" "^FAIL  spf: 198\\.51\\.100\\.9 is not allowed" "... FAIL spf"

check -i 192.0.2.7 wrong.test
is "$rc" 1 "check, DNS holds another key: exit 1"
has "$T/out" "^FAIL  dns: the key published at s1\\._domainkey\\.wrong\\.test is not the public half" "... FAIL dns"
has "$T/out" "^FAIL  signature: qmail-dkim-queue's test signature does not verify with the DNS record" \
	"... and the test signature fails with it"

chmod 0644 "$KD/user.test/s1"
check -i 192.0.2.7 user.test
is "$rc" 1 "check, a key every user can read: exit 1"
has "$T/out" "^FAIL  key: $KD/user\\.test/s1 is readable by every user" "... FAIL key"
has "$T/out" "fix: chmod 0600 $KD/user\\.test/s1" "... and the fix"
chmod 0600 "$KD/user.test/s1"
chmod 0755 "$KD"
check -i 192.0.2.7 user.test
has "$T/out" "^WARN  key: $KD/ is open to every user" "check, a key directory every user can enter: WARN"
chmod 0700 "$KD"

check -b "$T/none" -i 192.0.2.7 user.test
has "$T/out" "^WARN  signature: no qmail-dkim-queue binary at $T/none" "check, no qmail-dkim-queue: WARN, no test signature"

check -k "$KD" -d "$T/qmail" -i 192.0.2.7 user.test
has "$T/out" "^OK    queue: $T/qmail/bin/qmail-inject honours QMAILQUEUE" "check: a qmail-inject that honours QMAILQUEUE"
printf 'binary\n' >"$T/qmail/bin/qmail-inject"
check -k "$KD" -d "$T/qmail" -i 192.0.2.7 user.test
is "$rc" 1 "check, a qmail-inject without QMAILQUEUE: exit 1"
has "$T/out" "^FAIL  queue: $T/qmail/bin/qmail-inject does not know QMAILQUEUE" "... FAIL queue"

check -k "$KD" -f a@user.test user.test
is "$rc" 2 "check -k with -f: refused, -f is for qmail's keys"
check -k "$T/nowhere" user.test
is "$rc" 2 "check -k, no such directory: exit 2"
has "$T/err" "no key directory $T/nowhere" "... says so"

# As root, qmail's keys are still the default.
run "$S/qmail-dkim-check" -d "$T/qmail" -s "127.0.0.1:$port" -T user.test
has "$T/out" "qmail home $T/qmail" "check as root: qmail's keys, as before"
