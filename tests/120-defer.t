#!/bin/sh
# Failures that defer: exactly one "Z...\n\0" record naming the cause and
# the file, exit 0, nothing else on the report pipe, and the real
# qmail-remote not run (so nothing half-signed goes out).
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 47

M=$TOP/tests/msg/simple.eml
K=control/domainkeys/example.com

# deferred DESC PATTERN: one Z record that matches PATTERN; no delivery.
deferred() {
	ok "$1: one Z record, exit 0" report_is_z
	ok "$1: the reason names it" grep -q -- "$2" "$T/out/report"
	ok "$1: ends with an RFC 3463 code" grep -q '(#4\.[0-9]\.[0-9])' "$T/out/report"
	ok "$1: the real qmail-remote did not run" test ! -e "$T/out/argv"
}

setup_home notqmail
mkdir -p "$T/qmail/$K"
echo "this is not a key" >"$T/qmail/$K/default"
deliver "$M"
deferred "a key that is not PEM" "$K/default"

setup_home notqmail
make_key example.com
openssl pkey -in "$T/qmail/$K/default" -aes256 -passout pass:secret -out "$T/enc" 2>/dev/null
mv "$T/enc" "$T/qmail/$K/default"
deliver "$M"
deferred "an encrypted key" "encrypted"

setup_home notqmail
make_key example.com default rsa 512
deliver "$M"
deferred "a 512-bit RSA key" "512 bits"

setup_home notqmail
make_key example.com
head -c 300 "$T/qmail/$K/default" >"$T/trunc" && mv "$T/trunc" "$T/qmail/$K/default"
deliver "$M"
deferred "a truncated key" "$K/default"

setup_home notqmail
mkdir -p "$T/qmail/$K/default"
deliver "$M"
deferred "a directory in place of the key" "not a regular file"

setup_home notqmail
make_key example.com
ln -s "$T/nowhere" "$T/qmail/$K/s1"
echo s1 >"$T/qmail/$K/selector"
deliver "$M"
deferred "a dangling symlink as the key" "$K/s1"

setup_home notqmail
make_key example.com
echo '../../etc/x' >"$T/qmail/$K/selector"
deliver "$M"
deferred "a selector file naming a path" "$K/selector"

setup_home notqmail
make_key example.com
rm "$T/qmail/bin/qmail-remote.orig"
deliver "$M"
deferred "no real qmail-remote" "qmail-remote.orig"

setup_home notqmail
make_key example.com
cp "$QDKIM" "$T/qmail/bin/qmail-remote.orig"
deliver "$M"
ok "qmail-dkim installed as the real one: one Z record" report_is_z
ok "  it says so" grep -q "qmail-dkim itself" "$T/out/report"

# notqmail's QMAILREMOTE: the real one is bin/qmail-remote.
setup_home notqmail
make_key example.com
deliver --env=QMAILREMOTE=/somewhere/qmail-dkim "$M"
deferred "QMAILREMOTE set and no bin/qmail-remote" "bin/qmail-remote:"
mv "$T/qmail/bin/qmail-remote.orig" "$T/qmail/bin/qmail-remote"
deliver --env=QMAILREMOTE=/somewhere/qmail-dkim "$M"
ok "QMAILREMOTE set: bin/qmail-remote runs and the message verifies" verify_dkimpy "$T/out/wire"

setup_home notqmail
make_key example.com
chmod o+w "$T/qmail/$K/default"
deliver "$M"
deferred "a world-writable key" "world-writable"
chmod o-w "$T/qmail/$K/default"
chmod 1777 "$T/qmail/$K"
deliver "$M"
deferred "a world-writable key directory" "world-writable"
