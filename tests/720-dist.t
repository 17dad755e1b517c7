#!/bin/sh
# make dist's programs, linked fully static (make static), run where
# nothing else is: a private mount namespace and a root directory that
# holds only the program, a key and a static stand-in for the real
# qmail-remote or qmail-queue (tests/chroot-standin.c).  No library, no
# loader, no /etc, /dev or /proc.  What they hand on is verified outside
# the root, by dkimpy, over the bytes qmail-remote puts on the wire.
# tests/722-old-kernel.t runs them as on Linux 2.6.32.
. "${0%/*}/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to chroot into an empty directory"
unshare --mount --root=/ true 2>/dev/null ||
	skip_all "unshare --mount --root does not work here"
for c in readelf cc; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed"
done
plan 45

MSG=$TOP/tests/msg/simple.eml
# DIST_BIN=DIR tries the programs in DIR instead (the dynamic ones fail).
S=${DIST_BIN:-$TOP/build/static}
R=$T/root
STANDIN=$T/standin

# The static programs, as make dist builds them, and the stand-in.
# tests/722-old-kernel.t builds them too, maybe at the same time.
mkdir -p "$TOP/build"
if flock "$TOP/build/.static.lock" make -s -C "$TOP" static >"$T/make.log" 2>&1; then
	pass "make static builds the five programs"
else
	fail "make static builds the five programs"
	diag "$(tail -n 20 "$T/make.log")"
	exit 1
fi
cc -static -O2 -o "$STANDIN" "$TOP/tests/chroot-standin.c" ||
	{ echo "Bail out! cannot link the static stand-in"; exit 1; }

# --- nothing to load ------------------------------------------------------
for p in qmail-dkim qmail-dkimc qmail-dkimd qmail-dkim-queue qmail-dkim-tool; do
	readelf -l -d "$S/$p" >"$T/elf" 2>&1
	ok "$p: no program interpreter, no shared library needed" \
		sh -c "! grep -q -e INTERP -e NEEDED '$T/elf'"
done
# The oldest kernel the C library was built for (what file(1) shows as
# "for GNU/Linux X.Y.Z"); INSTALL tells customers the same.
abi=$(readelf -n "$S/qmail-dkim" | sed -n 's/.*OS: Linux, ABI: \([0-9.]*\).*/\1/p')
isnt "$abi" "" "qmail-dkim carries the C library's minimum kernel ($abi)"
ok "INSTALL names that kernel, Linux $abi" grep -q "Linux $abi" "$TOP/INSTALL"

# root FILE...: a new empty root with /out for the stand-in to write in,
# and FILE... (PATH-IN-ROOT=HOST-FILE) copied in, mode kept.
root() {
	rm -rf "$R"
	mkdir -p "$R/out"
	for _f; do
		mkdir -p "$R/$(dirname "${_f%%=*}")"
		cp -p "${_f#*=}" "$R/${_f%%=*}"
	done
}

# inroot [VAR=VALUE...] PROGRAM ARG...: PROGRAM run chrooted in $R with
# only VAR=VALUE in its environment; fd 1 in $T/fd1, fd 2 in $T/fd2, the
# exit status in $rc.  Use `<` as for any command.
inroot() {
	rc=0
	env -i "$@" >"$T/fd1" 2>"$T/fd2" || rc=$?
}
# inqueue [VAR=VALUE...] PROGRAM ARG...: as qmail-inject runs qmail-queue:
# the message $MSG on a pipe on fd 0, the envelope $T/envelope on fd 1.
inqueue() {
	# shellcheck disable=SC2002 # a pipe, not the file, on fd 0
	cat "$MSG" | env -i "$@" 1<"$T/envelope" 2>"$T/fd2"
	rc=$?
}
chroot_cmd="unshare --mount --root=$R --wd=/"

# signed_ok WHAT FILE: FILE (a queue file) has one signature, which
# verifies on the wire of netqmail and of notqmail.
signed_ok() {
	is "$(grep -c '^DKIM-Signature:' "$2")" 1 "$1: one signature"
	for _m in netqmail notqmail; do
		rm -rf "$T/r"
		"$PY" "$TOP/tests/fake-remote.py" --out "$T/r" --mode "$_m" example.net \
			sender@example.com rcpt@example.net <"$2" >/dev/null
		ok "$1: dkimpy verifies it ($_m wire), outside the root" \
			verify_dkimpy "$T/r/wire"
	done
}

# reported_ok WHAT: qmail-remote's own report with the DKIM note, exit 0,
# nothing on fd 2.
reported_ok() {
	is "$rc $(report_text "$T/fd1")" '0 r\0Kok DKIM signed d=example.com s=default\n\0' \
		"$1: the real qmail-remote's report, the DKIM note, exit 0"
	ok "$1: nothing on fd 2 (no loader, no library to complain)" test ! -s "$T/fd2"
}

setup_home
make_key example.com default
KEY=$T/qmail/control/domainkeys/example.com/default
chmod 600 "$KEY"
QH=var/qmail

# --- qmail-dkim as qmail-remote ---------------------------------------------
root "$QH/bin/qmail-dkim=$S/qmail-dkim" "$QH/bin/qmail-remote.orig=$STANDIN" \
	"$QH/control/domainkeys/example.com/default=$KEY"
find "$R" -type f | sed "s,^$R,," | sort >"$T/files"
is "$(tr '\n' ' ' <"$T/files")" \
	"/var/qmail/bin/qmail-dkim /var/qmail/bin/qmail-remote.orig /var/qmail/control/domainkeys/example.com/default " \
	"qmail-dkim's root holds the program, the stand-in and the key, nothing else"
# shellcheck disable=SC2086 # the command's words
inroot $chroot_cmd /var/qmail/bin/qmail-dkim example.net sender@example.com \
	rcpt@example.net <"$MSG"
reported_ok "qmail-dkim in an empty root"
signed_ok "qmail-dkim in an empty root" "$R/out/message"

# --- a kernel older than the C library was built for: tests/722-old-kernel.t

# --- qmail-dkimc: without a qmail-dkimd, it falls back to qmail-dkim ---------
cp -p "$S/qmail-dkimc" "$R/$QH/bin/qmail-dkimc"
# shellcheck disable=SC2086
inroot $chroot_cmd /var/qmail/bin/qmail-dkimc example.net sender@example.com \
	rcpt@example.net <"$MSG"
reported_ok "qmail-dkimc, no daemon"
signed_ok "qmail-dkimc, no daemon (qmail-dkim signed)" "$R/out/message"

# --- qmail-dkimd answers qmail-dkimc -------------------------------------------
# No qmail-dkim in this root: a signed message can come only from the daemon.
root "$QH/bin/qmail-dkimc=$S/qmail-dkimc" "$QH/bin/qmail-dkimd=$S/qmail-dkimd" \
	"$QH/bin/qmail-remote.orig=$STANDIN" \
	"$QH/control/domainkeys/example.com/default=$KEY"
mkdir "$R/run"
echo /run/dkimd.sock >"$R/$QH/control/dkimsocket"
env -i unshare --mount --root="$R" --wd=/ /var/qmail/bin/qmail-dkimd \
	/run/dkimd.sock </dev/null >"$T/dkimd.out" 2>"$T/dkimd.err" &
DKIMD=$!
kill_at_exit "$DKIMD"
i=0
while [ ! -S "$R/run/dkimd.sock" ] && [ "$i" -lt 100 ] && ! gone "$DKIMD"; do
	sleep 0.1
	i=$((i + 1))
done
ok "qmail-dkimd listens in an empty root" test -S "$R/run/dkimd.sock"
# shellcheck disable=SC2086
inroot $chroot_cmd /var/qmail/bin/qmail-dkimc example.net sender@example.com \
	rcpt@example.net <"$MSG"
reported_ok "qmail-dkimc asking qmail-dkimd"
signed_ok "qmail-dkimc asking qmail-dkimd" "$R/out/message"
kill -TERM "$DKIMD"
i=0
while ! gone "$DKIMD" && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "qmail-dkimd: ends on SIGTERM" gone "$DKIMD"
ok "qmail-dkimd: nothing on fd 2 (no loader, no library to complain)" test ! -s "$T/dkimd.err"

# --- qmail-dkim-queue, a user's own signing ------------------------------------
root "bin/qmail-dkim-queue=$S/qmail-dkim-queue" "bin/qmail-queue=$STANDIN" \
	"home/u/.qmail-dkim/example.com/default=$KEY"
chmod 700 "$R/home/u/.qmail-dkim" "$R/home/u/.qmail-dkim/example.com"
# qmail-dkim-queue keeps the message in TMPDIR (default /tmp): the one
# directory a user's signing needs besides the keys.
mkdir -m 1777 "$R/tmp"
printf 'Fsender@example.com\0Trcpt@example.net\0\0' >"$T/envelope"
QQ=QMAILDKIM_QUEUE=/bin/qmail-queue
# The message comes on a pipe, as from qmail-inject.
# queued WHAT: exit 0, nothing on fd 2, the envelope handed on untouched.
queued() {
	is "$rc" 0 "$1: exit 0"
	ok "$1: nothing on fd 2" test ! -s "$T/fd2"
	ok "$1: the envelope reaches qmail-queue untouched" cmp "$R/out/envelope" "$T/envelope"
}
# shellcheck disable=SC2086
inqueue HOME=/home/u "$QQ" $chroot_cmd /bin/qmail-dkim-queue
queued "qmail-dkim-queue in an empty root"
signed_ok "qmail-dkim-queue in an empty root" "$R/out/mess"

# QMAILDKIM_KEYS names the directory
mv "$R/home/u/.qmail-dkim" "$R/keys"
# shellcheck disable=SC2086
inqueue QMAILDKIM_KEYS=/keys "$QQ" $chroot_cmd /bin/qmail-dkim-queue
queued "qmail-dkim-queue, QMAILDKIM_KEYS"
is "$(grep -c '^DKIM-Signature:' "$R/out/mess")" 1 "qmail-dkim-queue, QMAILDKIM_KEYS: signed"

# No HOME: the static C library looks the user up in /etc/passwd, with
# no NSS module to load; with no /etc at all, the message goes unsigned.
mv "$R/keys" "$R/home/u/.qmail-dkim"
# shellcheck disable=SC2086
inqueue "$QQ" $chroot_cmd /bin/qmail-dkim-queue
queued "qmail-dkim-queue, no HOME, no /etc/passwd"
ok "qmail-dkim-queue, no HOME, no /etc/passwd: the message byte for byte" cmp "$R/out/mess" "$MSG"
mkdir "$R/etc"
echo "root:x:0:0:root:/home/u:/bin/sh" >"$R/etc/passwd"
# shellcheck disable=SC2086
inqueue "$QQ" $chroot_cmd /bin/qmail-dkim-queue
queued "qmail-dkim-queue, no HOME, the home from /etc/passwd"
is "$(grep -c '^DKIM-Signature:' "$R/out/mess")" 1 "qmail-dkim-queue, no HOME, the home from /etc/passwd: signed"
