#!/bin/sh
# make dist's static programs as on Linux 2.6.32, CentOS 6's kernel:
# tests/old-kernel runs each under the UNAME26 personality (uname says
# 2.6) and a seccomp filter that answers every system call newer than
# 2.6.32 with ENOSYS, and O_TMPFILE as 2.6.32 does (the list, and where it
# comes from, is in tests/old-kernel.c).  qmail-dkim, qmail-dkimc with and
# without qmail-dkimd, and qmail-dkim-queue, each in an empty root as in
# tests/720-dist.t, sign small and 5 MB messages, from a file and through
# a pipe, with an RSA and an Ed25519 key at once.  Each case runs on this
# kernel too: the report is the same, and what is handed on carries both
# signatures, which dkimpy and go-msgauth verify outside the root.  And
# qmail-dkim-tool, the scripts' openssl and dig, makes keys and looks up
# a record.
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root to chroot into an empty directory"
unshare --mount --root=/ true 2>/dev/null ||
	skip_all "unshare --mount --root does not work here"
OLD=$TOP/tests/old-kernel
[ -x "$OLD" ] || skip_all "tests/old-kernel not built (make units)"
"$OLD" true 2>/dev/null || skip_all "no UNAME26 personality or seccomp filter here"
command -v cc >/dev/null 2>&1 || skip_all "cc not installed"
need_dns
plan 73

MSG=$TOP/tests/msg/simple.eml
S=${DIST_BIN:-$TOP/build/static}
R=$T/root
STANDIN=$T/standin
UNSHARE=$(command -v unshare)

# tests/720-dist.t builds them too, maybe at the same time: one make at once.
mkdir -p "$TOP/build"
if ! flock "$TOP/build/.static.lock" make -s -C "$TOP" static >"$T/make.log" 2>&1; then
	diag "$(tail -n 20 "$T/make.log")"
	echo "Bail out! make static failed"
	exit 1
fi
cc -static -O2 -o "$STANDIN" "$TOP/tests/chroot-standin.c" ||
	{ echo "Bail out! cannot link the static stand-in"; exit 1; }

# --- the profile: each part can fail ------------------------------------------
is "$("$OLD" uname -r | cut -c1-4)" "2.6." "old-kernel: uname says 2.6"
is "$("$OLD" "$PY" -c '
import errno, os, resource
def probe(f):
    try:
        f()
        return "works"
    except OSError as e:
        return errno.errorcode[e.errno]
print(probe(lambda: os.getrandom(1)),
      probe(lambda: resource.prlimit(0, resource.RLIMIT_CORE)),
      probe(lambda: os.open("/tmp", os.O_TMPFILE | os.O_RDWR)),
      probe(lambda: os.close(os.open("/dev/null", os.O_RDONLY))))')" \
	"ENOSYS ENOSYS EISDIR works" \
	"old-kernel: getrandom and prlimit64 ENOSYS, O_TMPFILE EISDIR, open as before"

# A 5 MB message: qmail-dkimc hands one over 1 MiB to qmail-dkim.
BIG=$T/big.eml
{
	sed '/^$/q' "$MSG"
	perl -e 'print "line $_ of a long message, to make it five megabytes\n" for 1 .. 90000'
} >"$BIG"

# Both keys in one domain: every message gets two signatures.
setup_home
make_key example.com r1 rsa
make_key example.com e1 ed25519
D=$T/qmail/control/domainkeys/example.com
printf 'r1\ne1\n' >"$D/selector"
chmod 600 "$D/r1" "$D/e1"
QH=var/qmail

# root FILE...: a new root with /out for the stand-in, /run, a /tmp, and
# the random devices that OpenSSL reads where there is no getrandom;
# FILE... (PATH-IN-ROOT=HOST-FILE) copied in.
root() {
	rm -rf "$R"
	mkdir -p "$R/out" "$R/run" "$R/dev"
	mkdir -m 1777 "$R/tmp"
	mknod -m 444 "$R/dev/random" c 1 8
	mknod -m 444 "$R/dev/urandom" c 1 9
	for _f; do
		mkdir -p "$R/$(dirname "${_f%%=*}")"
		cp -p "${_f#*=}" "$R/${_f%%=*}"
	done
}
keys_in() {
	mkdir -p "$R/$1"
	cp -p "$D/r1" "$D/e1" "$D/selector" "$R/$1/"
}

# inroot KERNEL HOW MSG PROGRAM ARG...: PROGRAM chrooted in $R, on this
# kernel (KERNEL "now") or as on 2.6.32 ("old"), the message on fd 0 as
# a file or through a pipe (HOW); fd 1 in $T/fd1, fd 2 in $T/fd2, the
# exit status in $rc.  The environment: only VAR=VALUE words in $ENV.
ENV=
inroot() {
	_k=$1 _how=$2 _m=$3
	shift 3
	set -- "$UNSHARE" --mount --root="$R" --wd=/ "$@"
	[ "$_k" = now ] || set -- "$OLD" "$@"
	rm -f "$R/out/message" "$R/out/mess"
	rc=0
	if [ "$_how" = pipe ]; then
		# shellcheck disable=SC2002,SC2086 # a pipe on fd 0; the words of $ENV
		cat "$_m" | _fds env -i $ENV "$@" || rc=$?
	else
		# shellcheck disable=SC2086
		_fds env -i $ENV "$@" <"$_m" || rc=$?
	fi
}
# fd 1 is $T/fd1, or with ENVELOPE set, that file to read, as qmail-queue's
ENVELOPE=
_fds() {
	if [ -n "$ENVELOPE" ]; then
		"$@" 1<"$ENVELOPE" 2>"$T/fd2"
	else
		"$@" >"$T/fd1" 2>"$T/fd2"
	fi
}

# signed_ok WHAT FILE MSG: FILE, as handed on, is MSG below two
# signatures, RSA and Ed25519, that dkimpy and go-msgauth verify on the
# wire, outside the root.
signed_ok() {
	is "$(grep -c '^DKIM-Signature:' "$2")" 2 "$1: two signatures"
	perl -0777 -pe 's/\A(?:DKIM-Signature:.*?\n(?![ \t]))+//s' "$2" >"$T/rest"
	ok "$1: below them, the message byte for byte" cmp -s "$T/rest" "$3"
	rm -rf "$T/r"
	"$PY" "$TOP/tests/fake-remote.py" --out "$T/r" --mode netqmail example.net \
		sender@example.com rcpt@example.net <"$2" >/dev/null
	ok "$1: dkimpy and go-msgauth verify both" verify_both "$T/r/wire"
}
verify_both() { verify_dkimpy "$1" && verify_msgauth "$1"; }

# remote WHAT HOW MSG PROGRAM: PROGRAM as qmail-remote, now and as on
# 2.6.32: the same report, exit 0, nothing on fd 2, signed as it should be.
remote() {
	inroot now "$2" "$3" "/$QH/bin/$4" example.net sender@example.com rcpt@example.net
	_now="$rc $(report_text "$T/fd1")"
	inroot old "$2" "$3" "/$QH/bin/$4" example.net sender@example.com rcpt@example.net
	is "$rc $(report_text "$T/fd1")" "$_now" "$1: the report as on this kernel"
	case $_now in
	*'DKIM signed d=example.com'*) pass "$1: which says signed" ;;
	*) fail "$1: which says signed" && diag "$_now" ;;
	esac
	ok "$1: nothing on fd 2" test ! -s "$T/fd2"
	signed_ok "$1" "$R/out/message" "$3"
	is "$(ls -A "$R/tmp")" "" "$1: nothing left in /tmp"
}

# --- qmail-dkim ---------------------------------------------------------------
root "$QH/bin/qmail-dkim=$S/qmail-dkim" "$QH/bin/qmail-remote.orig=$STANDIN"
keys_in "$QH/control/domainkeys/example.com"
remote "qmail-dkim, 2.6.32" file "$MSG" qmail-dkim
remote "qmail-dkim, 2.6.32, a pipe" pipe "$MSG" qmail-dkim
remote "qmail-dkim, 2.6.32, 5 MB" file "$BIG" qmail-dkim

# --- qmail-dkimc: no daemon, then qmail-dkimd ---------------------------------
cp -p "$S/qmail-dkimc" "$R/$QH/bin/"
remote "qmail-dkimc, no qmail-dkimd, 2.6.32" file "$MSG" qmail-dkimc
cp -p "$S/qmail-dkimd" "$R/$QH/bin/"
echo /run/dkimd.sock >"$R/$QH/control/dkimsocket"
env -i "$OLD" "$UNSHARE" --mount --root="$R" --wd=/ /$QH/bin/qmail-dkimd \
	/run/dkimd.sock </dev/null >"$T/dkimd.out" 2>"$T/dkimd.err" &
DKIMD=$!
kill_at_exit "$DKIMD"
i=0
while [ ! -S "$R/run/dkimd.sock" ] && [ "$i" -lt 100 ] && ! gone "$DKIMD"; do
	sleep 0.1
	i=$((i + 1))
done
ok "qmail-dkimd, 2.6.32: listens" test -S "$R/run/dkimd.sock"
# qmail-dkim gone: a signature can come only from the daemon
mv "$R/$QH/bin/qmail-dkim" "$T/qmail-dkim.aside"
remote "qmail-dkimc asking qmail-dkimd, 2.6.32" file "$MSG" qmail-dkimc
mv "$T/qmail-dkim.aside" "$R/$QH/bin/qmail-dkim"
remote "qmail-dkimc, 5 MB (qmail-dkim signs), 2.6.32" file "$BIG" qmail-dkimc
kill -TERM "$DKIMD"
i=0
while ! gone "$DKIMD" && [ "$i" -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "qmail-dkimd, 2.6.32: ends on SIGTERM" gone "$DKIMD"
ok "qmail-dkimd, 2.6.32: nothing on fd 2" test ! -s "$T/dkimd.err"

# --- the real qmail-remote dies of a signal --------------------------------------
# qmail-dkim ends by the same signal, leaving the core file to be the real
# one's: qmail-dkim's memory holds the key.  Before 2.6.36 the C library's
# getrlimit fails (no prlimit64), so that must not be how it keeps its own.
crash() {
	rm -rf "$R/out" && mkdir "$R/out"
	find "$R" -name 'core*' -exec rm -f {} +
	set -- "$UNSHARE" --mount --root="$R" --wd=/ "/$QH/bin/qmail-dkim" \
		example.net crash@example.com rcpt@example.net
	[ "$_k" = now ] || set -- "$OLD" "$@"
	rc=0
	sh -c 'ulimit -c unlimited && exec env -i "$@"' - "$@" \
		<"$MSG" >"$T/fd1" 2>"$T/fd2" || rc=$?
}
_k=now crash
if [ -f "$R/out/core" ]; then
	_k=old crash
	is "$rc $(report_text "$T/fd1")" '139 r\0' \
		"the real qmail-remote killed, 2.6.32: qmail-dkim ends by its signal"
	ok "the real qmail-remote killed, 2.6.32: its core file is there" test -f "$R/out/core"
	is "$(find "$R" -name 'core*' ! -path "$R/out/*")" "" \
		"the real qmail-remote killed, 2.6.32: no core file of qmail-dkim's"
else
	skip 3 "no core file reaches the working directory here (core_pattern, ulimit -c)"
fi

# --- without the random devices: deferred, as OpenSSL has no seed ---------------
rm "$R/dev/random" "$R/dev/urandom"
inroot old file "$MSG" "/$QH/bin/qmail-dkim" example.net sender@example.com rcpt@example.net
is "$rc $(report_letters "$T/fd1")" "0 Z" "qmail-dkim, 2.6.32, no /dev/urandom: deferred (Z), not signed wrongly"
ok "qmail-dkim, 2.6.32, no /dev/urandom: nothing handed on" test ! -e "$R/out/message"

# --- qmail-dkim-queue -----------------------------------------------------------
root "bin/qmail-dkim-queue=$S/qmail-dkim-queue" "bin/qmail-queue=$STANDIN"
keys_in home/u/.qmail-dkim/example.com
chmod 700 "$R/home/u/.qmail-dkim" "$R/home/u/.qmail-dkim/example.com"
printf 'Fsender@example.com\0Trcpt@example.net\0\0' >"$T/envelope"
ENV="HOME=/home/u QMAILDKIM_QUEUE=/bin/qmail-queue" ENVELOPE=$T/envelope
# queue WHAT MSG: through a pipe with the envelope on fd 1, as
# qmail-inject runs qmail-queue; now and as on 2.6.32.
queue() {
	inroot now pipe "$2" /bin/qmail-dkim-queue
	_now=$rc
	inroot old pipe "$2" /bin/qmail-dkim-queue
	is "$rc" "$_now" "$1: exit $_now as on this kernel"
	ok "$1: nothing on fd 2" test ! -s "$T/fd2"
	ok "$1: the envelope reaches qmail-queue untouched" cmp -s "$R/out/envelope" "$T/envelope"
	signed_ok "$1" "$R/out/mess" "$2"
	is "$(ls -A "$R/tmp")" "" "$1: nothing left in /tmp"
}
queue "qmail-dkim-queue, 2.6.32" "$MSG"
queue "qmail-dkim-queue, 2.6.32, 5 MB" "$BIG"
ENV=

# --- qmail-dkim-tool: keys and lookups for the scripts ---------------------------
for a in RSA ED25519; do
	rc=0
	"$OLD" "$S/qmail-dkim-tool" openssl genpkey -algorithm "$a" -out "$T/key.$a" || rc=$?
	"$OLD" "$S/qmail-dkim-tool" openssl pkey -in "$T/key.$a" -passin pass: -pubout \
		>"$T/pub.$a" || rc=$?
	is "$rc" 0 "qmail-dkim-tool, 2.6.32: makes an $a key and prints its public half"
	ok "qmail-dkim-tool, 2.6.32: openssl here reads the $a key, with the same public half" \
		sh -c "openssl pkey -in '$T/key.$a' -pubout | cmp -s - '$T/pub.$a'"
done
{
	echo "local=/example.com/"
	echo "txt-record=r1._domainkey.example.com,$(cat "$T/dns/r1._domainkey.example.com")"
} >"$T/dns.conf"
start_dns 7221
dig_as() {
	"$@" dig +noall +comments +answer +time=2 +tries=2 @127.0.0.1 -p "$port" \
		r1._domainkey.example.com TXT | sed -n 's/.*status: \([A-Z]*\).*/\1/p; s/.*IN[[:space:]]*TXT[[:space:]]*//p'
}
dig_as "$S/qmail-dkim-tool" >"$T/dig.now"
dig_as "$OLD" "$S/qmail-dkim-tool" >"$T/dig.old"
is "$(sed -n 1p "$T/dig.old")" NOERROR "qmail-dkim-tool dig, 2.6.32: an answer"
ok "qmail-dkim-tool dig, 2.6.32: the record, as on this kernel" cmp -s "$T/dig.old" "$T/dig.now"
is "$(grep -c . "$T/dig.now")" 2 "qmail-dkim-tool dig: the status and one record (the oracle)"
