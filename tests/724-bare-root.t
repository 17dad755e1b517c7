#!/bin/sh
# make dist's tarball on a bare shared account: a root holding nothing but
# Debian's static busybox (its applets as links), the device nodes, an
# /etc/passwd, a stand-in for the host's qmail-inject, and the tarball.
# No openssl, no dig, no python, no GNU tools.  As an unprivileged user
# there, following INSTALL: unpack, make an RSA and an Ed25519 key, print
# the record, check both against a local DNS server (the key records,
# SPF, DMARC), start signing with them, and sign a message with
# qmail-dkim-queue; its two signatures are verified outside the root.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to chroot"
# BUSYBOX=FILE: another static busybox
BB=${BUSYBOX:-/bin/busybox}
if [ ! -x "$BB" ] || readelf -l "$BB" 2>/dev/null | grep -q INTERP; then
	skip_all "/bin/busybox is not static (Debian's busybox-static, which replaces busybox)"
fi
need "$(command -v dnsmasq || echo /usr/sbin/dnsmasq)" chroot
CHROOT=$(command -v chroot)
plan 30

U=4242
R=$T/root
H=$R/home/u
TARBALL=$T/dist.tar.gz

# the tarball, as make dist makes it (one make of the static programs at
# once: tests/720 and 722 build them too)
mkdir -p "$TOP/build"
if ! flock "$TOP/build/.static.lock" make -s -C "$TOP" dist DISTOUT="$TARBALL" \
	>"$T/make.log" 2>&1; then
	diag "$(tail -n 20 "$T/make.log")"
	echo "Bail out! make dist failed"
	exit 1
fi

# --- the root ---------------------------------------------------------------
mkdir -p "$R/bin" "$R/etc" "$R/dev" "$H" "$R/var/qmail/bin"
mkdir -m 1777 "$R/tmp"
cp "$BB" "$R/bin/busybox"
for a in $("$BB" --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
for d in "null c 1 3" "zero c 1 5" "random c 1 8" "urandom c 1 9"; do
	# shellcheck disable=SC2086 # name, type, major, minor
	mknod -m 666 "$R/dev/"$d
done
echo "u:x:$U:$U:u:/home/u:/bin/sh" >"$R/etc/passwd"
echo "u:x:$U:" >"$R/etc/group"
# the host's qmail-inject, as netqmail's: it knows QMAILQUEUE
printf 'binary ... QMAILQUEUE ...\n' >"$R/var/qmail/bin/qmail-inject"
cp "$TARBALL" "$H/qmail-dkim.tar.gz"
chown -R "$U:$U" "$H"
chmod 0755 "$H"
is "$(find "$R" -type f | sed "s,^$R,," | sort | tr '\n' ' ')" \
	"/bin/busybox /etc/group /etc/passwd /home/u/qmail-dkim.tar.gz /var/qmail/bin/qmail-inject " \
	"the root holds busybox, the accounts, qmail-inject and the tarball"
ok "no openssl, dig, python3, perl or bash in it" sh -c \
	"cd '$R/bin' && ! ls openssl dig python3 perl bash 2>/dev/null"

# as_user SCRIPT: SCRIPT run by busybox sh as uid $U in the root, in the
# home, PATH as INSTALL has it; run's $T/out, $T/err and $rc.
as_user() {
	run env -i HOME=/home/u PATH=/home/u/bin:/bin LOGNAME=u \
		"$CHROOT" --userspec="$U:$U" "$R" /bin/sh -c "cd && $1"
}

# --- unpack and install, as INSTALL says ---------------------------------------
# shellcheck disable=SC2016 # expanded by the user's shell
as_user 'tar xzf qmail-dkim.tar.gz && d=$(ls -d qmail-dkim-*-x86_64-linux) &&
	mkdir -p ~/bin ~/share && cp "$d"/bin/* ~/bin/ && cp -R "$d"/share/* ~/share/'
is "$rc" 0 "busybox tar unpacks it, cp installs it in ~/bin and ~/share"
[ "$rc" -eq 0 ] || diag "$(cat "$T/err")"

# --- keys ---------------------------------------------------------------------
as_user 'qmail-dkim-keygen example.com r1'
is "$rc" 0 "keygen: an RSA key, no openssl on the host"
[ "$rc" -eq 0 ] || diag "$(cat "$T/err")"
has "$T/out" "wrote /home/u/\\.qmail-dkim/example\\.com/r1 \\(RSA 2048 bits, yours, mode 0600\\)" \
	"keygen: RSA 2048 bits, the user's, mode 0600"
has "$T/out" '^r1\._domainkey\.example\.com\. IN TXT "v=DKIM1; k=rsa; p=' "keygen: the zone file line"
as_user 'qmail-dkim-keygen -t ed25519 example.com e1'
is "$rc" 0 "keygen: an Ed25519 key, no openssl on the host"
has "$T/out" "^  value: v=DKIM1; k=ed25519; p=" "keygen: its record"
as_user 'qmail-dkim-keygen -p example.com r1'
is "$rc" 0 "keygen -p: the record again"
has "$T/out" "^  name:  r1\\._domainkey " "keygen -p: the web panel's lines"
KD=$H/.qmail-dkim/example.com
for s in r1 e1; do
	# RFC 8463: an Ed25519 p= is the last 32 bytes of the DER
	case $s in r1) t=rsa n=1000 ;; e1) t=ed25519 n=32 ;; esac
	v=$(openssl pkey -in "$KD/$s" -pubout -outform DER | tail -c "$n" | base64 -w0)
	is "$(cat "$KD/$s.txt")" "v=DKIM1; k=$t; p=$v" \
		"keygen: $s's record is the key's, as the host's openssl makes it"
	ok "keygen: $s.pub is the key's public half" sh -c \
		"openssl pkey -in '$KD/$s' -pubout | cmp -s - '$KD/$s.pub'"
done

# --- publish, and check against the DNS -----------------------------------------
{
	echo "local=/example.com/"
	echo "txt-record=r1._domainkey.example.com,$(cat "$KD/r1.txt")"
	echo "txt-record=e1._domainkey.example.com,$(cat "$KD/e1.txt")"
	echo "txt-record=example.com,\"v=spf1 ip4:192.0.2.7 -all\""
	echo "txt-record=_dmarc.example.com,\"v=DMARC1; p=reject\""
} >"$T/dns.conf"
start_dns 7241
as_user "qmail-dkim-keygen -s 127.0.0.1:$port -A r1 example.com"
is "$rc" 0 "keygen -A: the DNS serves r1's record, looked up without dig"
[ "$rc" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"
as_user "qmail-dkim-keygen -s 127.0.0.1:$port -A e1 example.com"
is "$rc" 0 "keygen -A: and e1's"
is "$(tr '\n' ' ' <"$KD/selector")" "r1 e1 " "keygen -A: both in the selector file"
as_user "qmail-dkim-check -s 127.0.0.1:$port -i 192.0.2.7 example.com"
has "$T/out" "^OK    key: /home/u/\\.qmail-dkim/example\\.com/r1 \\(selector r1, RSA 2048 bits\\)" \
	"check: the RSA key"
has "$T/out" "^OK    key: /home/u/\\.qmail-dkim/example\\.com/e1 \\(selector e1, Ed25519\\)" \
	"check: the Ed25519 key"
has "$T/out" "^OK    dns: r1\\._domainkey\\.example\\.com matches the key" "check: r1's record, without dig"
has "$T/out" "^OK    dns: e1\\._domainkey\\.example\\.com matches the key" "check: e1's record"
has "$T/out" "^OK    spf: 192\\.0\\.2\\.7 is allowed" "check: SPF"
has "$T/out" "^OK    dmarc: _dmarc\\.example\\.com: policy reject" "check: DMARC"
lacks "$T/out" "^FAIL" "check: no FAIL"
lacks "$T/out" "not found|unknown option|invalid option|applet not found|unrecognized|illegal" \
	"check: no tool missing, no option busybox lacks"
lacks "$T/err" "." "check: nothing on stderr"
is "$rc" 0 "check: exit 0"
[ "$rc" -eq 0 ] || diag "$(cat "$T/out" "$T/err")"

# --- sign, as INSTALL's dry run: cat in qmail-queue's place ---------------------
as_user "printf 'From: u@example.com\\nTo: you@example.net\\nSubject: test\\n\\nhi\\n' |
	QMAILDKIM_QUEUE=/bin/cat qmail-dkim-queue"
is "$rc $(grep -c '^DKIM-Signature:' "$T/out")" "0 2" "qmail-dkim-queue: signed with both keys"
for s in r1 e1; do
	cp "$KD/$s.txt" "$T/dns/$s._domainkey.example.com" 2>/dev/null ||
		{ mkdir -p "$T/dns" && cp "$KD/$s.txt" "$T/dns/$s._domainkey.example.com"; }
done
rm -rf "$T/r"
"$PY" "$TOP/tests/fake-remote.py" --out "$T/r" --mode netqmail example.net \
	u@example.com you@example.net <"$T/out" >/dev/null
ok "qmail-dkim-queue: dkimpy verifies both signatures, outside the root" verify_dkimpy "$T/r/wire"
ok "qmail-dkim-queue: go-msgauth too" verify_msgauth "$T/r/wire"
