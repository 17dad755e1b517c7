#!/bin/sh
# 230-check-key.t: qmail-dkim-check finds the key qmail-dkim would pick,
# and judges its format, size, mode and whether qmailr can read it.
# DNS (dnsmasq on loopback) serves nothing here but NXDOMAIN.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
need_dns
plan 45
supp=''
# drop_supp: undo the supplementary group given to qmailr below.
drop_supp() {
	[ -n "$supp" ] || return 0
	gpasswd -d qmailr qdkimtest >/dev/null 2>&1
	groupdel qdkimtest 2>/dev/null
}
at_exit drop_supp

qmail_accounts
qmail_home
echo "local=/test/" >"$T/dns.conf"
start_dns 7919
# Each check takes a while to start its many programs: run them all at
# once in the background (chk NAME DOMAIN), then look at each (see NAME).
chk() {
	name=$1 dom=$2
	shift 2
	spawn "$name" "$S/qmail-dkim-check" -d "$Q" -s "127.0.0.1:$port" -u "$KU" -g "$KG" -T -i 192.0.2.7 "$@" "$dom"
}
# put KEYFILE DOMAIN [SELECTOR]: install a key made by hand the way keygen would
put() {
	mkdir -p "$K/$2"
	cp "$1" "$K/$2/${3:-default}"
	chmod 0400 "$K/$2/${3:-default}"
	chown "$KU:$KG" "$K/$2/${3:-default}"
}

# --- the keys, each for its own domain ------------------------------------------------
admin_keygen -t ed25519 example.test e1
mkdir -p "$K/a.b.example.test" # a directory without a key: qmail-dkim goes on to the parent
for d in sel2 badsel blank empty two; do
	cp -pR "$K/example.test" "$K/$d.test"
done
printf 'e1\ns2\n' >"$K/sel2.test/selector"
printf 'e1\nbad selector\n' >"$K/badsel.test/selector"
printf '# the signing key\n\n  e1  # trailing comment\n' >"$K/blank.test/selector"
printf '# nothing\n\n' >"$K/empty.test/selector"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$T/k1024" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:512 -out "$T/k512" 2>/dev/null
openssl pkey -in "$T/k1024" -traditional -out "$T/k1024.pkcs1" 2>/dev/null
openssl pkey -in "$T/k1024" -aes128 -passout pass:secret -out "$T/k.enc" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/k.ec" 2>/dev/null
{
	printf '\n# a comment\n'
	cat "$T/k1024"
} >"$T/k.junk"
echo "not a key" >"$T/k.garbage"
put "$T/k1024" rsa1024.test
put "$T/k512" rsa512.test
put "$T/k1024.pkcs1" pkcs1.test
put "$T/k.junk" junk.test
put "$T/k.enc" enc.test
put "$T/k.garbage" garbage.test
put "$T/k.ec" ec.test
mkdir -p "$K/dir.test/default"
cp -p "$K/rsa1024.test/default" "$K/two.test/r1"
printf 'e1\nr1\n' >"$K/two.test/selector"
# control/dkimsenders, in a home of its own since it covers every domain
Q2=$T/q2
mkdir -p "$Q2/control/domainkeys"
cp -pR "$K/example.test" "$Q2/control/domainkeys/ds.test"
printf '# signing domain: sender domains\nds.test: Other.test lists.ds.test\n' >"$Q2/control/dkimsenders"
put "$T/k1024" open.test
chmod 0444 "$K/open.test/default"
if [ -n "$root" ]; then
	put "$T/k1024" rootonly.test
	chown 0:0 "$K/rootonly.test/default"
	put "$T/k1024" closed.test
	chmod 0700 "$K/closed.test"
	cp -pR "$K/example.test" "$K/unreadsel.test"
	chmod 0600 "$K/unreadsel.test/selector"
	# qmailr's supplementary groups do not count: qmail 1.03 drops them.
	getent group qdkimtest >/dev/null 2>&1 || groupadd -r qdkimtest
	supp=1
	usermod -a -G qdkimtest qmailr
	put "$T/k1024" supp.test
	chown 0:qdkimtest "$K/supp.test/default"
	chmod 0440 "$K/supp.test/default"
fi

for d in example a.b.example nokey sel2 badsel blank empty two rsa1024 rsa512 pkcs1 junk enc garbage ec dir open; do
	chk "$d" "$d.test"
done
chk ds ds.test -d "$Q2"
chk ds-other ds.test -d "$Q2" -f someone@other.test
chk ds-lists ds.test -d "$Q2" -f someone@LISTS.ds.test
if [ -n "$root" ]; then
	for d in rootonly closed supp unreadsel; do
		chk "$d" "$d.test"
	done
fi
wait

# --- found, and where --------------------------------------------------------------
see example
has "$T/out" "^OK    key: $K/example\.test/e1 \(selector e1, Ed25519\)" "an Ed25519 key is found through the selector file"
has "$T/out" "^OK    key: .* is not readable by others \(-r--------" "its mode is fine"
if [ -n "$root" ]; then
	has "$T/out" "^OK    key: qmailr \(gid qmail, no other groups\) can read and parse it" "qmailr can read it (tried as qmailr)"
else
	has "$T/out" "^OK    key: $KU \(gid $KG, no other groups\) can read and parse it" "we can read it"
fi

see a.b.example
has "$T/out" "^WARN  key: $K/a\.b\.example\.test has no key file default and no selector file; qmail-dkim looks further" "a domain directory without its key is a WARN"
has "$T/out" "^OK    key: no key for a\.b\.example\.test itself; qmail-dkim uses that of its parent example\.test" "the parent's key is found, skipping b.example.test"
has "$T/out" "^OK    key: $K/example\.test/e1 " "and it is example.test's key"

see nokey
is "$rc" 1 "no key: exit 1"
has "$T/out" "^FAIL  key: no key for nokey\.test or its parent domains" "no key FAILs"
has "$T/out" "^      fix: make one with: qmail-dkim-keygen nokey\.test" "with the command"
lacks "$T/out" "^(OK|WARN|FAIL)  dns:" "no DKIM DNS check without a key"

see two
has "$T/out" "^OK    key: .*/two\.test/selector lists 2 selectors: qmail-dkim adds a signature for each \(e1 r1\)" "two selectors: two signatures"
has "$T/out" "^OK    key: $K/two\.test/e1 \(selector e1, Ed25519\)" "the first key is checked"
has "$T/out" "^WARN  key: $K/two\.test/r1 is RSA 1024 bits" "and the second"
see sel2
is "$rc" 1 "a listed selector without its key: exit 1"
has "$T/out" "^FAIL  key: .*/sel2\.test/s2, listed in .*/sel2\.test/selector, does not exist: qmail-dkim defers all mail from sel2\.test" "a listed selector without its key FAILs"
see badsel
is "$rc" 1 "an invalid selector: exit 1"
has "$T/out" "^FAIL  key: .*/badsel\.test/selector lists 'bad selector', which is not a valid selector: qmail-dkim defers all mail from badsel\.test" "an invalid selector FAILs"
see blank
has "$T/out" "^OK    key: $K/blank\.test/e1 " "comments, blank lines and blanks in the selector file are skipped, as qmail-dkim does"
see empty
has "$T/out" "^FAIL  key: .*/empty\.test/selector lists no selector: qmail-dkim defers all mail from empty\.test" "a selector file without a selector FAILs"

see ds
is "$rc" 1 "dkimsenders without this sender: exit 1"
has "$T/out" "^OK    key: control/dkimsenders does not let senders at ds\.test use the key of ds\.test: qmail-dkim looks further" "control/dkimsenders is honoured"
has "$T/out" "^FAIL  key: no key for ds\.test" "and the domain has no key for this sender"
see ds-other
has "$T/out" "^OK    key: $Q2/control/domainkeys/ds\.test/e1 " "-f: a sender domain on the dkimsenders line may use the key"
see ds-lists
has "$T/out" "^OK    key: $Q2/control/domainkeys/ds\.test/e1 " "sender domains are compared without regard to case"

# --- sizes and formats ---------------------------------------------------------------
see rsa1024
has "$T/out" "^WARN  key: .*/rsa1024\.test/default is RSA 1024 bits" "1024 bits is a WARN"
has "$T/out" "^      fix: make a 2048-bit key under a new selector: qmail-dkim-keygen rsa1024\.test s[0-9]{6}$" "with the fix"
see rsa512
is "$rc" 1 "512 bits: exit 1"
has "$T/out" "^FAIL  key: .*/rsa512\.test/default is RSA 512 bits: qmail-dkim refuses keys under 1024 bits" "512 bits FAILs"
see pkcs1
has "$T/out" "^WARN  key: .*/pkcs1\.test/default is RSA 1024 bits" "a PKCS#1 RSA key is read"
see junk
has "$T/out" "^WARN  key: .*/junk\.test/default is RSA 1024 bits" "text before the armour is skipped, as qmail-dkim does"
see enc
is "$rc" 1 "an encrypted key: exit 1"
has "$T/out" "^FAIL  key: .*/enc\.test/default is encrypted with a pass phrase" "an encrypted key FAILs"
see garbage
has "$T/out" "^FAIL  key: .*/garbage\.test/default holds no PEM private key" "a file without PEM FAILs"
see ec
has "$T/out" "^FAIL  key: .*/ec\.test/default is neither RSA nor Ed25519" "an EC key FAILs"
see dir
has "$T/out" "^FAIL  key: .*/dir\.test/default is not a regular file" "a directory in place of the key FAILs"

# --- modes and owners ----------------------------------------------------------------------
see open
is "$rc" 1 "a world-readable key: exit 1"
has "$T/out" "^FAIL  key: .*/open\.test/default is readable or writable by every local user \(-r--r--r--\)" "a world-readable key FAILs"
has "$T/out" "^      fix: chown $KU:$KG .*/open\.test/default; chmod 0400 " "with the fix"

if [ -n "$root" ]; then
	see rootonly
	is "$rc" 1 "a key only root can read: exit 1"
	has "$T/out" "^FAIL  key: qmailr \(gid qmail, no other groups\) cannot read .*/rootonly\.test/default: qmail-dkim defers all mail" "a key qmailr cannot read FAILs"
	has "$T/out" "^      fix: chown qmailr:qmail .*/rootonly\.test/default; chmod 0400" "with the fix"
	see closed
	has "$T/out" "^FAIL  key: qmailr .* cannot reach .*/closed\.test/default, $K/closed\.test is closed to it" "a directory qmailr cannot enter is named"
	has "$T/out" "^      fix: chgrp qmail $K/closed\.test; chmod g\+x $K/closed\.test" "with the fix"
	see supp
	has "$T/out" "^FAIL  key: qmailr \(gid qmail, no other groups\) cannot read .*/supp\.test/default" "a key readable only through a supplementary group FAILs"
	see unreadsel
	has "$T/out" "^FAIL  key: qmailr cannot read .*/unreadsel\.test/selector: qmail-dkim defers all mail" "a selector file qmailr cannot read FAILs"
else
	skip 7 "not root: cannot try reading as qmailr"
fi

