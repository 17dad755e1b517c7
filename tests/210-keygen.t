#!/bin/sh
# 210-keygen.t: qmail-dkim-keygen makes keys qmail-dkim can use, with the
# right owner and mode, prints a DNS record that matches them, and refuses
# what it must refuse.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
command -v openssl >/dev/null 2>&1 || skip_all "openssl not installed"
plan 86

# qmail's accounts: made when root and missing (CI), else ourselves.
qmail_accounts
if [ -n "$root" ]; then set --; else set -- -u "$KU" -g "$KG"; fi
qmail_home
keygen() { run "$S/qmail-dkim-keygen" -d "$Q" "$@"; }

# --- a default RSA key --------------------------------------------------------
keygen "$@" -N Example.COM. s202611
is "$rc" 0 "keygen -N example.com s202611 succeeds"
is "$(cat "$T/err")" "" "and prints nothing on stderr"
key=$K/example.com/s202611
if [ -f "$key" ]; then pass "the key is in control/domainkeys/example.com/s202611 (domain in lower case)"; else fail "the key is in control/domainkeys/example.com/s202611 (domain in lower case)"; fi
is "$(sed -n 1p "$key")" "-----BEGIN PRIVATE KEY-----" "the key is PKCS#8 PEM with nothing before the armour"
bits=$(openssl pkey -in "$key" -pubout 2>/dev/null | openssl pkey -pubin -noout -text | sed -n 's/.*(\([0-9]*\) bit).*/\1/p')
is "$bits" 2048 "RSA 2048 bits by default"
is "$(mode "$key")" "-r-------- $KU:$KG" "the key is $KU:$KG mode 0400"
if [ -n "$root" ]; then
	is "$(mode "$K")" "drwxr-x--- root:qmail" "control/domainkeys is root:qmail 0750"
	is "$(mode "$K/example.com")" "drwxr-x--- root:qmail" "control/domainkeys/example.com is root:qmail 0750"
	if setpriv --reuid=qmailr --regid=qmail --clear-groups cat "$key" >/dev/null 2>&1; then
		pass "qmailr can read the key"
	else
		fail "qmailr can read the key"
	fi
	if setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$key" >/dev/null 2>&1; then
		fail "nobody cannot read the key"
	else
		pass "nobody cannot read the key"
	fi
else
	skip 2 "ownership of directories: not root"
	skip 1 "qmailr reads the key: not root"
	skip 1 "nobody cannot read the key: not root"
fi
is "$(mode "$key.pub" | cut -c1-10)" "-rw-r--r--" "the public key is mode 0644"
is "$(sed -n 1p "$key.pub")" "-----BEGIN PUBLIC KEY-----" "the .pub file is a PEM public key"
p=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | openssl base64 -A)
is "$(cat "$key.txt")" "v=DKIM1; k=rsa; p=$p" "the .txt file holds the TXT value of this key"
is "$(cat "$K/example.com/selector")" s202611 "-N lists the first key of a domain in the selector file"
has "$T/out" "^s202611\._domainkey\.example\.com\. IN TXT \"" "prints a zone-file line"
zone=$(sed -n 's/^s202611\._domainkey\.example\.com\. IN TXT //p' "$T/out")
longest=$(printf '%s\n' "$zone" | tr ' ' '\n' | tr -d '"' | awk '{ if (length($0) > m) m = length($0) } END { print m }')
nstr=$(printf '%s\n' "$zone" | tr -cd '"' | wc -c)
if [ "$longest" -le 255 ] && [ "$nstr" -ge 4 ]; then pass "the zone line splits the value into strings of at most 255 characters"; else
	fail "the zone line splits the value into strings of at most 255 characters" && diag "$zone"
fi
joined=$(printf '%s\n' "$zone" | sed 's/" "//g; s/^"//; s/"$//')
is "$joined" "v=DKIM1; k=rsa; p=$p" "the zone line's strings join to the key's value"
is "$(sed -n 's/^  value: //p' "$T/out")" "v=DKIM1; k=rsa; p=$p" "the web-panel value is the whole value on one line"
has "$T/out" "^  name:  s202611\._domainkey " "the web-panel name is given"
# The private key never shows.
body=$(sed -n 2p "$key")
if grep -q -F -e "$body" -e PRIVATE "$T/out" "$T/err"; then fail "no private key material in the output"; else pass "no private key material in the output"; fi

# --- running it twice: refused, nothing changed ------------------------------
sum=$(cksum <"$key")
keygen "$@" example.com s202611
is "$rc" 1 "a second keygen for the same selector exits 1"
has "$T/err" "s202611 exists; not replacing" "and says the key exists"
has "$T/err" "-f" "and names -f"
is "$(cksum <"$key")" "$sum" "the key is unchanged"
is "$(cat "$K/example.com/s202611.txt")" "v=DKIM1; k=rsa; p=$p" "the .txt is unchanged"

keygen "$@" -b 1024 -f example.com s202611
is "$rc" 0 "keygen -f replaces the key"
if [ "$(cksum <"$key")" != "$sum" ]; then pass "the key is new"; else fail "the key is new"; fi
p2=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | openssl base64 -A)
is "$(cat "$key.txt")" "v=DKIM1; k=rsa; p=$p2" "the .txt follows the new key"
is "$(mode "$key")" "-r-------- $KU:$KG" "the new key is $KU:$KG mode 0400 too"
is "$(find "$K/example.com" -name '.*' | wc -l | tr -d ' ')" 0 "no temporary file is left behind"

# -p prints the record again, from the key itself.
keygen -p example.com s202611
is "$rc" 0 "keygen -p succeeds"
is "$(sed -n 's/^  value: //p' "$T/out")" "v=DKIM1; k=rsa; p=$p2" "keygen -p prints the record of the existing key"
keygen -p example.com nosuch
is "$rc" 1 "keygen -p for a missing key exits 1"
has "$T/err" "no key .*/example.com/nosuch" "and says there is no key"

# --- Ed25519, second selector -------------------------------------------------
keygen "$@" -t ed25519 example.com e202611
is "$rc" 0 "keygen -t ed25519 succeeds"
ekey=$K/example.com/e202611
is "$(sed -n 1p "$ekey")" "-----BEGIN PRIVATE KEY-----" "the Ed25519 key is PKCS#8"
case $(openssl pkey -in "$ekey" -pubout 2>/dev/null | openssl pkey -pubin -noout -text 2>/dev/null) in
*ED25519*) pass "the key is an Ed25519 key" ;;
*) fail "the key is an Ed25519 key" ;;
esac
raw=$(openssl pkey -in "$ekey" -pubout -outform DER 2>/dev/null | tail -c 32 | openssl base64 -A)
is "$(sed -n 's/^  value: //p' "$T/out")" "v=DKIM1; k=ed25519; p=$raw" "its record is k=ed25519 with the raw 32-byte key"
is "$(printf '%s' "$raw" | openssl base64 -d -A | wc -c | tr -d ' ')" 32 "p= decodes to 32 bytes"
if grep -q -x -F "e202611._domainkey.example.com. IN TXT \"v=DKIM1; k=ed25519; p=$raw\"" "$T/out"; then
	pass "a short record is one string"
else
	fail "a short record is one string" && sed 's/^/  /' "$T/out" >&2
fi
is "$(cat "$K/example.com/selector")" s202611 "a second key does not change the selector file"
has "$T/out" "signs mail from example\.com with selector\(s\) s202611, not with e202611\.$" "and says which selector still signs"
has "$T/out" "^  qmail-dkim-keygen -d $Q -A e202611 example\.com$" "how to sign with the new key"
has "$T/out" "replaces the listed key of the same algorithm" "and what that replaces"

# A selector called default needs no selector file.
keygen "$@" -N -t ed25519 example.org
is "$rc" 0 "keygen with no selector succeeds"
if [ -f "$K/example.org/default" ] && [ ! -e "$K/example.org/selector" ]; then
	pass "the key is example.org/default, with no selector file"
else
	fail "the key is example.org/default, with no selector file"
fi

# An old directory closed to qmailr: the key is made, with a warning.
if [ -n "$root" ]; then
	mkdir -p "$T/q3/control/domainkeys"
	chmod 0700 "$T/q3/control/domainkeys"
	run "$S/qmail-dkim-keygen" -d "$T/q3" -N -t ed25519 closed.example
	is "$rc" 0 "keygen under a directory closed to qmailr succeeds"
	has "$T/err" "warning: qmailr \(group qmail\) cannot read .*/closed\.example/default" "and warns that qmailr cannot read the key"
else
	skip 2 "closed directory: not root"
fi
lacks "$T/out" "warning" "no warning on stdout"

# --- refusals -------------------------------------------------------------------
for d in com -bad.example bad-.example a..example 192.0.2.1 a_b.example "a b.example" a/b.example ../etc "" .example; do
	keygen "$@" -- "$d"
	is "$rc:$(grep -c 'invalid domain' "$T/err")" 1:1 "domain '$d' is refused"
done
for s in selector s1.pub s1.txt ../x "a b" -x .x "x;y" ""; do
	keygen "$@" -N -t ed25519 -- example.net "$s"
	if [ -z "$s" ]; then
		# An empty selector is no selector: default.
		is "$rc" 0 "an empty selector means default"
		continue
	fi
	is "$rc:$(grep -c 'invalid selector' "$T/err")" 1:1 "selector '$s' is refused"
done
keygen "$@" -b 512 small.example
is "$rc" 1 "512-bit RSA is refused"
has "$T/err" "refuses keys under 1024 bits" "with the reason"
keygen "$@" -b 8192 big.example
is "$rc" 1 "8192-bit RSA is refused"
keygen "$@" -b lots big.example
is "$rc" 1 "a non-numeric size is refused"
keygen "$@" -t ed25519 -b 256 ed.example
is "$rc" 1 "-b with ed25519 is refused"
keygen "$@" -t dsa dsa.example
is "$rc" 1 "an unknown key type is refused"
has "$T/err" "unknown key type 'dsa'" "with the reason"
if [ ! -e "$K/small.example" ] && [ ! -e "$K/big.example" ] && [ ! -e "$K/ed.example" ] && [ ! -e "$K/dsa.example" ]; then
	pass "refused keys leave nothing behind"
else
	fail "refused keys leave nothing behind"
fi
run "$S/qmail-dkim-keygen" -d "$Q" -u no-such-user-qd -g "$KG" x.example
is "$rc" 1 "an unknown owner is refused"
has "$T/err" "no user 'no-such-user-qd'" "with the reason"
run "$S/qmail-dkim-keygen" -d "$Q" -u "$KU" -g no-such-group-qd x.example
is "$rc" 1 "an unknown group is refused"
run "$S/qmail-dkim-keygen" -d "$T/nowhere" "$@" x.example
is "$rc" 1 "a qmail home without control/ is refused"
has "$T/err" "no qmail control directory .*/nowhere/control" "with the directory named"

# --- 1024 bits works, with a warning in the docs; DESTDIR; QMAILDKIM_HOME ---------
keygen "$@" -N -b 1024 old.example
is "$rc" 0 "1024-bit RSA is allowed"
mkdir -p "$T/stage/var/qmail/control"
rc=0
DESTDIR=$T/stage "$S/qmail-dkim-keygen" -d /var/qmail "$@" -N -t ed25519 staged.example >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "keygen under DESTDIR succeeds"
if [ -f "$T/stage/var/qmail/control/domainkeys/staged.example/default" ] && [ ! -e /var/qmail/control/domainkeys/staged.example ]; then
	pass "DESTDIR is put in front of the qmail home"
else
	fail "DESTDIR is put in front of the qmail home"
fi
mkdir -p "$T/q2/control"
rc=0
QMAILDKIM_HOME=$T/q2 "$S/qmail-dkim-keygen" "$@" -N -t ed25519 env.example >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -eq 0 ] && [ -f "$T/q2/control/domainkeys/env.example/default" ]; then
	pass "QMAILDKIM_HOME is the default qmail home"
else
	fail "QMAILDKIM_HOME is the default qmail home"
fi

