#!/bin/sh
# Faults in the keys and control files.  Each delivery must keep the whole
# contract (tests/faults.sh): signed and verifying, unsigned and unchanged,
# or one Z record; never a stray byte on the report pipe, a temporary file
# or a process left behind.  tests/120-defer.t has the first cases (not
# PEM, encrypted, 512 bits, truncated, a directory, a dangling symlink);
# these are the rest, several as the unprivileged user qmail-remote is.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 76

M=$TOP/tests/msg/simple.eml
D=control/domainkeys/example.com
K=$T/qmail/$D
C=$T/qmail/control

# case_of DESC EXPECTED [PATTERN]: deliver $M and judge; with PATTERN, the
# Z record must name it too.
case_of() {
	fdeliver "$M"
	outcome "$1" "$M" "$2"
	[ $# -lt 3 ] || deferred_for "$1" "$3"
}

# --- key files that cannot be used: deferred, naming the file ---------------

setup_home notqmail
make_key example.com
: >"$K/default"
case_of "an empty key file" deferred "$D/default"

setup_home notqmail
make_key example.com
openssl pkey -in "$K/default" -pubout -out "$T/pub" && mv "$T/pub" "$K/default"
case_of "a public key in place of the private one" deferred "$D/default"

setup_home notqmail
make_key example.com
head -n 1 "$K/default" >"$T/k" && mv "$T/k" "$K/default"
case_of "only the BEGIN line" deferred "$D/default"

setup_home notqmail
mkdir -p "$K"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/default" 2>/dev/null
case_of "an EC P-256 key" deferred "neither RSA nor Ed25519"

setup_home notqmail
mkdir -p "$K"
openssl genpkey -algorithm X25519 -out "$K/default" 2>/dev/null
case_of "an X25519 key (not a signing key)" deferred "neither RSA nor Ed25519"

setup_home notqmail
make_key example.com
openssl pkey -in "$K/default" -traditional -aes128 -passout pass:x -out "$T/k" 2>/dev/null
mv "$T/k" "$K/default"
case_of "an encrypted PKCS#1 key (Proc-Type)" deferred "encrypted"

setup_home notqmail
make_key example.com
openssl pkey -in "$K/default" -aes128 -passout pass:x -out "$T/k" 2>/dev/null
openssl req -x509 -new -key "$T/qmail/$D/default" -subj /CN=x -days 1 -out "$T/cert" 2>/dev/null
cat "$T/cert" "$T/k" >"$K/default"
case_of "a certificate, then an encrypted key" deferred "$D/default"

setup_home notqmail
make_key example.com
{ perl -e 'print "#" x 70, "\n" for 1 .. 1000'; cat "$K/default"; } >"$T/k"
mv "$T/k" "$K/default"
case_of "a key file over 64 KiB" deferred "too large"

setup_home notqmail
mkdir -p "$K"
mkfifo "$K/default"
fdeliver --timeout=20 "$M"
outcome "a FIFO as the key: no hang" "$M" deferred
deferred_for "a FIFO as the key" "not a regular file"

setup_home notqmail
mkdir -p "$K"
ln -s /dev/zero "$K/default"
case_of "a symlink to /dev/zero as the key" deferred "not a regular file"

setup_home notqmail
mkdir -p "$K"
ln -s loop2 "$K/default" && ln -s default "$K/loop2"
case_of "a symlink loop as the key" deferred "$D/default"

setup_home notqmail
mkdir -p "$T/qmail/control/domainkeys"
echo "not a directory" >"$K"
case_of "a file in place of the domain's key directory" deferred "not a directory"

# A usable key beside odd things: signed.
setup_home notqmail
make_key example.com default rsa 1024
case_of "an RSA key of exactly 1024 bits" signed

setup_home notqmail
make_key example.com
{ printf '\357\273\277# made by hand\n\n'; cat "$K/default"; } >"$T/k" && mv "$T/k" "$K/default"
case_of "a BOM and a comment before the key" signed

setup_home notqmail
make_key example.com
mv "$K/default" "$T/realkey" && ln -s "$T/realkey" "$K/default"
case_of "a symlink to a good key" signed

# World-writable: anyone could replace the key (120-defer.t has the key
# and the domain's directory alone).  control/domainkeys itself open to
# all lets anyone rename a domain's directory and put their own in its
# place: the domain's mail then goes out with signatures that fail.
setup_home notqmail
make_key example.com
chmod 666 "$K/default"
chmod 777 "$K"
case_of "a world-writable key in a world-writable directory" deferred "world-writable"

setup_home notqmail
make_key example.com
chmod 777 "$T/qmail/control/domainkeys"
fdeliver "$M"
outcome "a world-writable control/domainkeys" "$M" deferred

# A domain key directory that is a dangling symlink (an unmounted share):
# the key exists as a name and cannot be used, as a dangling key symlink
# (120-defer.t) defers.  Passing it on unsigned silently stops signing.
setup_home notqmail
ln -s "$T/nowhere" "$K"
fdeliver "$M"
outcome "a dangling symlink as the domain's key directory" "$M" deferred

# --- control files that are wrong: deferred, naming the file -----------------

setup_home notqmail
make_key example.com
printf 's%d\n' 1 2 3 4 5 6 7 8 9 >"$K/selector"
case_of "nine selectors" deferred "$D/selector"

setup_home notqmail
make_key example.com
head -c 300 /dev/urandom | tr -d '\n\0' >"$K/selector"
case_of "a selector file of binary junk" deferred "$D/selector"

setup_home notqmail
make_key example.com
perl -e 'print "default   # " . "x" x 100 . "\n" for 1 .. 20' >"$K/selector"
case_of "a selector file over 1 KB" deferred "$D/selector"

setup_home notqmail
make_key example.com
mkdir "$K/selector"
case_of "a directory as the selector file" deferred "$D/selector"

setup_home notqmail
make_key example.com
printf 'default\r\n' >"$K/selector"
case_of "a selector line ending in CRLF" signed

for f in dkimcanon dkimexpire dkimsignheaders dkimoversignheaders; do
	setup_home notqmail
	make_key example.com
	mkdir "$C/$f"
	case_of "a directory as control/$f" deferred "control/$f"
done

setup_home notqmail
make_key example.com
: >"$C/dkimcanon"
case_of "an empty control/dkimcanon" deferred "control/dkimcanon"

setup_home notqmail
make_key example.com
echo 99999999999999999999999 >"$C/dkimexpire"
case_of "an overflowing control/dkimexpire" deferred "control/dkimexpire"

setup_home notqmail
make_key example.com
perl -e 'print "X-Field-$_\n" for 1 .. 100' >"$C/dkimsignheaders"
case_of "a hundred fields in control/dkimsignheaders" deferred "dkimsignheaders"

setup_home notqmail
make_key example.com
echo 'me@../../etc' >"$K/identity"
case_of "an identity that is a path" deferred "$D/identity"

# A bounce is signed for control/me's domain; a path there is no domain.
setup_home notqmail
make_key example.com
sed 's/^From: .*/From: MAILER-DAEMON@nokey.test/' "$M" >"$T/bounce.eml"
mkdir -p "$T/qmail/etc" && cp "$K/default" "$T/qmail/etc/default"
echo '../../etc' >"$C/me"
fdeliver "$T/bounce.eml" example.net '' rcpt@example.net
outcome "a bounce with control/me a path" "$T/bounce.eml" unsigned

# --- as the unprivileged user qmail-remote runs as --------------------------

if ! can_setuid; then
	skip 16 "not root: cannot run qmail-dkim as nobody"
	exit 0
fi

# as_nobody DESC EXPECTED [PATTERN]: deliver $M as nobody and judge.
as_nobody() {
	fdeliver --user=nobody "$M"
	outcome "as nobody, $1" "$M" "$2"
	[ $# -lt 3 ] || deferred_for "as nobody, $1" "$3"
}

user_home
make_key example.com
chmod 644 "$K/default"
as_nobody "a key it can read" signed

chmod 600 "$K/default"
as_nobody "a key it cannot read" deferred "$D/default"

chmod 644 "$K/default" && chmod 700 "$K"
as_nobody "a key directory it cannot enter" deferred "$D"

chmod 755 "$K" && chmod 700 "$T/qmail/control/domainkeys"
as_nobody "control/domainkeys it cannot enter" deferred "domainkeys"

chmod 755 "$T/qmail/control/domainkeys"
echo default >"$K/selector" && chmod 600 "$K/selector"
as_nobody "a selector file it cannot read" deferred "$D/selector"
rm "$K/selector"

for f in dkimcanon dkimsignheaders dkimsenders; do
	echo From >"$C/$f" && chmod 600 "$C/$f"
	as_nobody "control/$f it cannot read" deferred "control/$f"
	rm "$C/$f"
done

echo me@example.com >"$K/identity" && chmod 600 "$K/identity"
as_nobody "an identity file it cannot read" deferred "$D/identity"
rm "$K/identity"

chmod 700 "$T/qmail/bin/qmail-remote.orig"
as_nobody "a real qmail-remote it cannot run" deferred "qmail-remote.orig"
