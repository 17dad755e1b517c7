#!/bin/sh
# 291-check-staged.t: qmail-dkim-check checks every key in the domain's
# directory, listed in the selector file or not, says which are live and
# which staged, and whether DNS (dnsmasq on loopback) serves a staged
# key's record; its fix for a listed key that does not exist never makes
# a new, unpublished key sign.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 33

qmail_accounts
qmail_home
kg() { "$S/qmail-dkim-keygen" -d "$Q" -u "$KU" -g "$KG" "$@" >"$T/keygen.out" 2>&1 || bail "keygen $*: $(cat "$T/keygen.out")"; }
# live.test: s1 signs, s2 staged without a record (INSTALL's rollover
# check, before the record is published).
kg -N live.test s1
kg live.test s2
# ready.test: s1 signs, s2 staged with its record published.
kg -N ready.test s1
kg ready.test s2
# first.test: its only key staged, its record published.
kg first.test s1
# typo.test: the selector file names s1x, a typo; s1 is there.
kg typo.test s1
echo s1x >"$K/typo.test/selector"
# link.test: the listed key is a dangling link; s2 is staged.
kg link.test s2
ln -s "$T/nowhere" "$K/link.test/s1"
echo s1 >"$K/link.test/selector"
# gone.test: the selector file names s9; there is no key.
mkdir -p "$K/gone.test"
echo s9 >"$K/gone.test/selector"
printf '%s: *\n' "$(id -un)" >"$Q/control/dkimrights"
{
	echo "local=/test/"
	for k in live.test/s1 ready.test/s1 ready.test/s2 first.test/s1 typo.test/s1; do
		echo "txt-record=${k#*/}._domainkey.${k%/*},$(cat "$K/$k.txt")"
	done
} >"$T/dns.conf"
start_dns 2911
check() { run "$S/qmail-dkim-check" -d "$Q" -u "$KU" -g "$KG" -s "127.0.0.1:$port" -T "$@"; }

check live.test
is "$rc" 0 "a staged key without a record: exit 0 (no mail uses it)"
has "$T/out" "^OK    key: $K/live\.test/s1 \(selector s1, RSA 2048 bits\): live" "the listed key is live"
has "$T/out" "^OK    key: $K/live\.test/s2 \(selector s2, RSA 2048 bits\): staged" "the unlisted key is checked, and staged"
has "$T/out" "^WARN  dns: no TXT record at s2\._domainkey\.live\.test yet" "its missing record is a WARN"
has "$T/out" "^           s2\._domainkey\.live\.test\. IN TXT \"v=DKIM1; k=rsa; p=" "with the zone file line to publish"
has "$T/out" "^           v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]*$" "and the web panel's value"
lacks "$T/out" "^OK    dns: s2\." "no OK for the staged key's DNS"
check -w live.test
is "$rc" 1 "-w: the unpublished staged key fails the strict check"

check ready.test
is "$rc" 0 "a staged key with its record: exit 0"
has "$T/out" "^OK    dns: s2\._domainkey\.ready\.test matches the staged key .*: sign with it by qmail-dkim-keygen -A s2 ready\.test$" "its record is confirmed, with the command that activates it"
has "$T/out" "^OK    dns: s1\._domainkey\.ready\.test matches the key" "the live key's record too"
lacks "$T/out" "^(WARN|FAIL)  (key|dns):" "nothing else to say of the keys"

check first.test
is "$rc" 0 "a domain whose only key is staged: exit 0"
has "$T/out" "^WARN  key: $K/first\.test has staged key\(s\), not signing: s1" "says no key of the domain signs yet"
has "$T/out" "^      fix: once DNS serves its record \(checked below\), sign with it: qmail-dkim-keygen -A s1 first\.test$" "with the command that activates it"
has "$T/out" "^OK    key: $K/first\.test/s1 .*: staged" "the staged key is checked"
has "$T/out" "^OK    dns: s1\._domainkey\.first\.test matches the staged key" "and its record"
lacks "$T/out" "^FAIL" "no FAIL"

check typo.test
is "$rc" 1 "a typo in the selector file: exit 1 (qmail-dkim defers the mail)"
has "$T/out" "^FAIL  key: $K/typo\.test/s1x, listed in $K/typo\.test/selector, does not exist: qmail-dkim defers all mail from typo\.test" "the missing key FAILs"
has "$T/out" "^      fix: correct the name in $K/typo\.test/selector \(its keys: s1\), or sign with a staged key" "the fix: the right name, or a staged key"
has "$T/out" "^           qmail-dkim-keygen -A s1 typo\.test$" "with the command that activates it"
lacks "$T/out" "make it with|keygen typo\.test s1x" "and no new key under the typo's name"

check gone.test
is "$rc" 1 "a selector file that names a key, and no key: exit 1"
has "$T/out" "^      fix: remove $K/gone\.test/selector" "the fix stops the deferral first"
lacks "$T/out" "keygen gone\.test s9" "and makes no key that would sign at once"

check link.test
has "$T/out" "^FAIL  key: $K/link\.test/s1 is not a regular file" "a dangling link for the listed key FAILs"
has "$T/out" "^      fix: put the key file itself there .*: qmail-dkim-keygen -A s2 link\.test$" "the fix: the key itself, or the staged key"
lacks "$T/out" "keygen -f link\.test s1" "not a new key under its name"

# The key found is a parent's: the subdomain's staged keys are its own.
mkdir -p "$K/sub.ready.test"
cp -p "$K/first.test/s1" "$K/sub.ready.test/n1"
check sub.ready.test
has "$T/out" "^WARN  key: $K/sub\.ready\.test has staged key\(s\), not signing: n1; qmail-dkim does not sign with d=sub\.ready\.test yet and looks further" "a subdomain's staged key: named, and the parent's key used"
has "$T/out" "^OK    key: no key for sub\.ready\.test itself; qmail-dkim uses that of its parent ready\.test" "the parent's key signs"
has "$T/out" "^OK    key: $K/ready\.test/s2 .*: staged" "the parent's staged key is checked"

# A file in the directory that is no private key is not a key.
echo "notes" >"$K/ready.test/README"
check ready.test
lacks "$T/out" "README \(selector|dns: README" "a file that is no PEM private key is not taken for a key"
