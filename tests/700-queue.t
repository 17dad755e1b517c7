#!/bin/sh
# qmail-dkim-queue: a user signs their own mail at queue time, through
# QMAILQUEUE.  tests/fake-inject.py runs it as qmail-inject runs
# $QMAILQUEUE (notqmail qmail.c), tests/fake-queue.py is the real
# qmail-queue it execs (notqmail qmail-queue.c: its Received line, then
# the message); each says which real behaviour it copies.  The queue file
# it stores is then sent as each qmail-remote sends it (tests/fake-remote.py,
# netqmail and notqmail) and checked by dkimpy, Mail::DKIM and go-msgauth.
. "${0%/*}/lib.sh"
QDKIMQ=${QDKIMQ:-$TOP/qmail-dkim/qmail-dkim-queue}
[ -x "$QDKIMQ" ] || skip_all "qmail-dkim-queue is not built"
plan 138

MSG=$TOP/tests/msg/simple.eml
KEYS=$T/home/.qmail-dkim

# setup [FAKE-QUEUE-OPTION...]: a qmail home whose bin/qmail-queue is the
# stand-in, recording in $T/q; a user home $T/home without keys.
setup() {
	setup_home notqmail
	rm -rf "${T:?}/home" "$T/q" "$T/tmp"
	mkdir -p "$T/home" "$T/tmp"
	_args=''
	for _a; do _args="$_args, $(_pyq "$_a")"; done
	cat >"$T/qmail/bin/qmail-queue" <<-EOF
		#!$PY
		import runpy, sys
		sys.argv[1:1] = ["--out", $(_pyq "$T/q")$_args]
		runpy.run_path($(_pyq "$TOP/tests/fake-queue.py"), run_name="__main__")
	EOF
	chmod 755 "$T/qmail/bin/qmail-queue"
}

# user_key DOMAIN SELECTOR [rsa|ed25519]: a key in the user's key
# directory, mode 0600 as documented, listed in its selector file; its
# record in $T/dns.
user_key() {
	make_key "$1" "$2" "${3:-rsa}" || return 1
	mkdir -p "$KEYS/$1"
	chmod 700 "$KEYS" "$KEYS/$1"
	mv "$T/qmail/control/domainkeys/$1/$2" "$KEYS/$1/$2"
	chmod 600 "$KEYS/$1/$2"
	echo "$2" >>"$KEYS/$1/selector"
	rmdir "$T/qmail/control/domainkeys/$1" 2>/dev/null
	return 0
}

# inject [VAR=VALUE...] MSGFILE [SENDER RECIP...]: qmail-inject's part,
# with QMAILQUEUE naming qmail-dkim-queue; $T/inj/status is its exit code.
inject() {
	_env=''
	while :; do
		case $1 in *=*) _env="$_env $1" && shift ;; *) break ;; esac
	done
	_msg=$1
	shift
	[ $# -gt 0 ] || set -- sender@example.com rcpt@example.net
	rm -rf "$T/inj" "$T/q"
	# shellcheck disable=SC2086 # VAR=VALUE words, no blanks
	env -i PATH=/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" \
		QMAILDKIM_HOME="$T/qmail" QMAILQUEUE="$QDKIMQ" $_env \
		"$PY" "$TOP/tests/fake-inject.py" --out "$T/inj" --home "$T/qmail" \
		"$@" <"$_msg"
}

status() { cat "$T/inj/status"; }
# body_of: the queue file without qmail-queue's Received line.
body_of() { tail -n +2 "$T/q/mess"; }
sigs() { grep -c '^DKIM-Signature:' "$T/q/mess"; }
quiet() { [ ! -s "$T/inj/stderr" ]; }

# wire MODE: the queue file as that qmail-remote puts it on the wire.
wire() {
	rm -rf "$T/r"
	"$PY" "$TOP/tests/fake-remote.py" --out "$T/r" --mode "$1" example.net \
		sender@example.com rcpt@example.net <"$T/q/mess" >/dev/null
}

# verified DESC [--ed25519]: the queue file, sent by netqmail and by
# notqmail, verifies with every verifier that knows its algorithms.
verified() {
	for _m in netqmail notqmail; do
		wire "$_m"
		ok "$1, $_m wire: dkimpy" verify_dkimpy "$T/r/wire"
		if [ "${2:-}" = --ed25519 ]; then
			ok "$1, $_m wire: Mail::DKIM (RSA; Ed25519 skipped)" \
				verify_maildkim "$T/r/wire"
		else
			ok "$1, $_m wire: Mail::DKIM" verify_maildkim "$T/r/wire"
		fi
		ok "$1, $_m wire: go-msgauth" verify_msgauth "$T/r/wire"
	done
}

# tag NAME [N]: a tag of the Nth signature (default 1) in the queue file.
tag() {
	perl -0777 -ne '@s = m/^DKIM-Signature:(.*?)\n(?![ \t])/msg;
		($s = $s['"${2:-1}"' - 1]) =~ s/\s+//g;
		$s =~ /(?:^|;)\Q'"$1"'\E=([^;]*)/ and print $1' "$T/q/mess"
}

# --- without qmail-dkim-queue: what the stand-ins do alone ----------------
setup
inject QMAILQUEUE=bin/qmail-queue "$MSG"
is "$(status)" 0 "stand-ins alone: queued"
is "$(head -n 1 "$T/q/mess" | sed 's/[0-9][0-9]*/N/g; s/ [A-Z][a-z][a-z] / Mon /')" \
	"Received: (qmail N invoked by uid N); N Mon N N:N:N -N" \
	"stand-ins alone: qmail-queue's own Received line first"
body_of >"$T/plain"
ok "stand-ins alone: then the message, byte for byte" cmp "$T/plain" "$MSG"
sed 's/\[[0-9]*\]//' "$T/q/fds" >"$T/fds.plain"

# --- signed ---------------------------------------------------------------
setup
user_key example.com s1
inject "$MSG"
is "$(status)" 0 "signed: queued"
ok "signed: nothing on stderr" quiet
is "$(sed -n 2p "$T/q/mess" | cut -c1-15)" "DKIM-Signature:" \
	"signed: the signature right below qmail-queue's Received line"
is "$(sigs)" 1 "signed: one signature"
is "$(tag d) $(tag s) $(tag a) $(tag c)" "example.com s1 rsa-sha256 relaxed/relaxed" \
	"signed: d= s= a= c= as qmail-dkim makes them"
is "$(tag h)" "From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:From:To:Cc:Subject:Date:Reply-To" \
	"signed: qmail-dkim's field list, oversigned"
body_of | perl -0777 -pe 's/\ADKIM-Signature:.*?\n(?![ \t])//s' >"$T/rest"
ok "signed: after the field, the message byte for byte" cmp "$T/rest" "$MSG"
is "$(od -An -c "$T/q/envelope" | tr -d ' \n')" \
	'Fsender@example.com\0Trcpt@example.net\0\0' "signed: the envelope reaches qmail-queue untouched"
is "$(cat "$T/q/fd0")" "type=reg offset=0" "signed: qmail-queue reads a file from offset 0"
is "$(cat "$T/q/pid")" "$(cat "$T/inj/child")" \
	"signed: qmail-queue is the process qmail-inject started (exec'd, nothing beside it)"
is "$(sed 's/\[[0-9]*\]//' "$T/q/fds")" "$(cat "$T/fds.plain")" \
	"signed: qmail-queue has the descriptors it would have had (fd 6 too), no more"
ok "signed: QMAILDKIM_QUEUED set for qmail-queue" grep -qz '^QMAILDKIM_QUEUED=1$' "$T/q/env"
is "$(tr '\0' '\n' <"$T/q/env" | grep -c '^QMAILDKIM_HOME=')" 1 \
	"signed: QMAILDKIM_HOME handed on as it came"
ok "signed: and its value unchanged" grep -qz "^QMAILDKIM_HOME=$T/qmail\$" "$T/q/env"
is "$(ls -A "$T/tmp")" "" "signed: nothing left in TMPDIR"
verified "signed"

# Both algorithms, as the selector file lists them.
setup
user_key example.com r1
user_key example.com e1 ed25519
printf 'r1\ne1\n' >"$KEYS/example.com/selector"
inject "$MSG"
is "$(status) $(sigs)" "0 2" "RSA + Ed25519: queued with two signatures"
is "$(tag a 1) $(tag a 2)" "rsa-sha256 ed25519-sha256" "RSA + Ed25519: one of each"
verified "RSA + Ed25519" --ed25519

# The parent domain's key signs a subdomain, as in qmail-dkim.
setup
user_key example.com s1
sed 's/^From: .*/From: Alice <alice@www.example.com>/' "$MSG" >"$T/sub.eml"
inject "$T/sub.eml"
is "$(status) $(tag d)" "0 example.com" "subdomain: the parent's key signs"

# QMAILDKIM_KEYS names another key directory.
setup
user_key example.com s1
mv "$KEYS" "$T/elsewhere"
inject QMAILDKIM_KEYS="$T/elsewhere" "$MSG"
is "$(status) $(sigs)" "0 1" "QMAILDKIM_KEYS: its keys sign"
inject QMAILDKIM_KEYS=relative/path "$MSG"
is "$(status) $(sigs)" "0 0" "QMAILDKIM_KEYS not absolute: queued unsigned"

# The host's control files are the host's policy for its keys: not read.
setup
user_key example.com s1
echo simple/simple >"$T/qmail/control/dkimcanon"
echo 'example.org: *' >"$T/qmail/control/dkimsenders"
inject "$MSG"
is "$(status) $(sigs)" "0 1" "the host's control/dkimsenders does not stop the user's key"
is "$(tag c)" relaxed/relaxed "the host's control/dkimcanon is not read"

# Policy files in the key directory's control/.
setup
user_key example.com s1
mkdir "$KEYS/control"
echo simple/simple >"$KEYS/control/dkimcanon"
inject "$MSG"
is "$(tag c)" simple/simple "KEYDIR/control/dkimcanon sets c="
verified "simple/simple"
echo nonsense >"$KEYS/control/dkimcanon"
inject "$MSG"
body_of >"$T/got"
is "$(status)" 0 "a wrong policy file: queued"
ok "a wrong policy file: unsigned, byte for byte" cmp "$T/got" "$MSG"

# --- a forward through qmail-dkim-queue: the chain below it narrows -------
# what a .qmail program such as forward(1) queues: DTLINE, then the
# stored message with its own queue line (and qmail-smtpd's) on top
setup
user_key example.com s1
{
	printf 'Delivered-To: me-fwd@example.com\n'
	printf 'Received: (qmail 4711 invoked by uid 1000); 7 Dec 2026 09:00:00 -0000\n'
	cat "$MSG"
} >"$T/fwd.eml"
inject "$T/fwd.eml"
is "$(status) $(sigs)" "0 1" "a forward of a local user's mail: queued, signed"
{
	printf 'Delivered-To: me-fwd@example.com\n'
	printf 'Received: (qmail 4711 invoked from network); 7 Dec 2026 09:00:00 -0000\n'
	printf 'Received: from mx.stranger.example (192.0.2.1)\n  by host.example with SMTP; 7 Dec 2026 09:00:00 -0000\n'
	cat "$MSG"
} >"$T/fwd.eml"
inject "$T/fwd.eml"
is "$(status) $(sigs)" "0 0" "a forward of mail from the network: queued, not signed"
body_of >"$T/fwd.out"
ok "  handed on byte for byte" cmp "$T/fwd.out" "$T/fwd.eml"

# --- unsigned, byte for byte -------------------------------------------------
setup
user_key example.com s1
sed 's/^From: .*/From: news@other.test/' "$MSG" >"$T/other.eml"
inject "$T/other.eml"
body_of >"$T/got"
is "$(status)" 0 "no key for From: queued"
ok "no key for From: the message byte for byte" cmp "$T/got" "$T/other.eml"
ok "no key for From: nothing on stderr" quiet
# the envelope sender's domain is not used: it is qmail-queue's to read
inject "$T/other.eml" someone@example.com rcpt@example.net
is "$(status) $(sigs)" "0 0" "the envelope sender's domain does not sign"

setup
inject "$MSG"
body_of >"$T/got"
is "$(status)" 0 "no key directory: queued"
ok "no key directory: byte for byte" cmp "$T/got" "$MSG"
is "$(cat "$T/q/fd0")" "type=fifo" "no key directory: qmail-queue reads the injector's pipe itself"
is "$(cat "$T/q/pid")" "$(cat "$T/inj/child")" "no key directory: exec'd"
ok "no key directory: nothing on stderr" quiet

# An empty message is queued as it is.
: >"$T/empty.eml"
setup
user_key example.com s1
inject "$T/empty.eml"
is "$(status) $(wc -c <"$T/q/mess")" "0 $(head -n 1 "$T/q/mess" | wc -c)" \
	"an empty message: queued, empty"

# --- line endings --------------------------------------------------------------
# PHP's mail() often gives CRLF: the stored form must be CR-free, or
# netqmail's qmail-remote sends CR CR LF and breaks the signature.
setup
user_key example.com s1
perl -pe 's/\n/\r\n/' "$MSG" >"$T/crlf.eml"
inject "$T/crlf.eml"
is "$(status) $(sigs)" "0 1" "CRLF message: signed"
ok "CRLF message: no CR in the queue file" sh -c "! grep -q \"\$(printf '\\r')\" '$T/q/mess'"
body_of | perl -0777 -pe 's/\ADKIM-Signature:.*?\n(?![ \t])//s' >"$T/rest"
ok "CRLF message: the rest is the message with LF line ends" cmp "$T/rest" "$MSG"
verified "CRLF message"
# a bare CR in the body: made a line end, as qmail-dkim does
printf 'From: a@example.com\nTo: b@example.net\nSubject: cr\n\none\rtwo\r\nthree\n' >"$T/cr.eml"
inject "$T/cr.eml"
is "$(status) $(sigs)" "0 1" "bare CR: signed"
verified "bare CR"
# unsigned, the CRs stay: the queue file is what it would have been
sed 's/^From: .*/From: news@other.test/' "$T/crlf.eml" >"$T/crlf-other.eml"
inject "$T/crlf-other.eml"
body_of >"$T/got"
ok "CRLF message, no key: byte for byte, CRs and all" cmp "$T/got" "$T/crlf-other.eml"

# --- many recipients: one signature ---------------------------------------------
setup
user_key example.com s1
set --
i=0
while [ "$i" -lt 300 ]; do
	set -- "$@" "rcpt$i@example.net"
	i=$((i + 1))
done
inject "$MSG" sender@example.com "$@"
is "$(status) $(sigs)" "0 1" "300 recipients: queued, signed once"
is "$(tr '\0' '\n' <"$T/q/envelope" | grep -c '^T')" 300 "300 recipients: all in the envelope"
verified "300 recipients"
set --

# A message larger than a pipe, and than spool.c's buffer.
perl -e 'print "From: a\@example.com\nTo: b\@example.net\nSubject: big\n\n";
	print "line $_ " . ("x" x 70) . "\n" for 1 .. 40000' >"$T/big.eml"
inject "$T/big.eml"
is "$(status) $(sigs)" "0 1" "3 MB message: signed"
body_of | perl -0777 -pe 's/\ADKIM-Signature:.*?\n(?![ \t])//s' >"$T/rest"
ok "3 MB message: whole" cmp "$T/rest" "$T/big.eml"
wire notqmail
ok "3 MB message: dkimpy" verify_dkimpy "$T/r/wire"

# --- keys that cannot be used: queued unsigned, never lost ---------------------------
setup
user_key example.com s1
printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' \
	>"$KEYS/example.com/s1"
inject "$MSG"
body_of >"$T/got"
is "$(status)" 0 "a bad key: queued"
ok "a bad key: unsigned, byte for byte" cmp "$T/got" "$MSG"
ok "a bad key: nothing on stderr" quiet

setup
user_key example.com s1
chmod 666 "$KEYS/example.com/s1"
inject "$MSG"
body_of >"$T/got"
is "$(status)" 0 "a world-writable key: queued"
ok "a world-writable key: unsigned" cmp "$T/got" "$MSG"

setup
mkdir -p "$KEYS/example.com"
echo missing >"$KEYS/example.com/selector"
inject "$MSG"
body_of >"$T/got"
ok "a listed key that does not exist: queued unsigned" cmp "$T/got" "$MSG"

setup
user_key example.com s1
chmod 777 "$KEYS"
inject "$MSG"
body_of >"$T/got"
ok "a world-writable key directory: queued unsigned" cmp "$T/got" "$MSG"

# As an unprivileged user (nobody), whose key cannot be read: mode 000.
setup
user_key example.com s1
chmod 711 "$T"
mkdir -p "$T/q"
chown -R nobody "$T/home" "$T/tmp" "$T/q"
inject_nobody() {
	rm -rf "$T/inj" "$T/q/mess"
	mkdir -p "$T/inj"
	chown nobody "$T/inj"
	env -i PATH=/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" \
		QMAILDKIM_HOME="$T/qmail" QMAILQUEUE="$QDKIMQ" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$PY" "$TOP/tests/fake-inject.py" --out "$T/inj" --home "$T/qmail" \
		sender@example.com rcpt@example.net <"$MSG"
}
if [ "$(id -u)" = 0 ]; then
	inject_nobody
	is "$(status) $(sigs)" "0 1" "as nobody: signed with nobody's own key"
	is "$(head -n 1 "$T/q/mess" | sed 's/.*by uid \([0-9]*\).*/\1/')" \
		"$(id -u nobody)" "as nobody: qmail-queue ran as nobody"
	verified "as nobody"
	chmod 000 "$KEYS/example.com/s1"
	inject_nobody
	body_of >"$T/got"
	is "$(status)" 0 "an unreadable key: queued"
	ok "an unreadable key: unsigned, byte for byte" cmp "$T/got" "$MSG"
	ok "an unreadable key: nothing on stderr" quiet
else
	skip 10 "needs root to become nobody"
fi
chmod 700 "$T"

# --- the real qmail-queue fails: its exit code comes back ----------------------------
for code in 53 31 71; do
	setup --exit "$code"
	user_key example.com s1
	inject "$MSG"
	is "$(status)" "$code" "qmail-queue exits $code (signed): qmail-inject gets $code"
done
setup --exit 53
inject "$MSG"
is "$(status)" 53 "qmail-queue exits 53 (no key directory): qmail-inject gets 53"
ok "qmail-queue failing: nothing on stderr" quiet

# --- failures of our own ---------------------------------------------------------------
setup
user_key example.com s1
inject QMAILDKIM_QUEUE="$T/qmail/bin/nonexistent" "$MSG"
is "$(status)" 81 "no real qmail-queue to run: 81 (qq internal bug), temporary"
ok "no real qmail-queue: nothing on stderr" quiet

inject QMAILDKIM_QUEUE="$QDKIMQ" "$MSG"
is "$(status)" 81 "loop guard: QMAILDKIM_QUEUE names qmail-dkim-queue: 81"
ok "loop guard: nothing queued" test ! -e "$T/q/mess"
ok "loop guard: nothing on stderr" quiet
ln -s "$QDKIMQ" "$T/qmail/bin/qq-link"
inject QMAILDKIM_QUEUE="$T/qmail/bin/qq-link" "$MSG"
is "$(status)" 81 "loop guard: a symbolic link to it: 81"
# a "real" qmail-queue that runs qmail-dkim-queue again
printf '#!/bin/sh\nexec %s\n' "$QDKIMQ" >"$T/qmail/bin/again"
chmod 755 "$T/qmail/bin/again"
inject QMAILDKIM_QUEUE="$T/qmail/bin/again" "$MSG"
is "$(status)" 81 "loop guard: run again below itself: 81"
ok "loop guard, again: nothing on stderr" quiet

# No temporary file can be made: nothing was read, so the message goes
# on unsigned, on the injector's own pipe.
inject TMPDIR="$T/none" "$MSG"
body_of >"$T/got"
is "$(status)" 0 "no temporary file: queued"
ok "no temporary file: unsigned, byte for byte" cmp "$T/got" "$MSG"
is "$(cat "$T/q/fd0")" "type=fifo" "no temporary file: qmail-queue reads the pipe"

# The spool cannot hold the message (a file-size limit) once part of it
# was read: 53, as qmail-queue says for a full disk; nothing queued.
rm -rf "$T/inj" "$T/q"
env -i PATH=/usr/bin:/bin HOME="$T/home" TMPDIR="$T/tmp" \
	QMAILDKIM_HOME="$T/qmail" QMAILQUEUE="$QDKIMQ" \
	"$PY" "$TOP/tests/fake-inject.py" --out "$T/inj" --home "$T/qmail" \
	--fsize 100000 sender@example.com rcpt@example.net <"$T/big.eml"
is "$(status)" 53 "the spool reaches a file-size limit: 53 (write error), temporary"
ok "file-size limit: nothing queued" test ! -e "$T/q/mess"
ok "file-size limit: nothing on stderr" quiet

# --- a user's signature and qmail-dkim's, same domain -------------------------------
# qmail-dkim, as qmail-remote, signs the stored message again with the
# host's key for the same domain: both signatures verify.
for mode in netqmail notqmail; do
	setup
	set_remote "$mode"
	user_key example.com u1
	make_key example.com s1
	echo s1 >"$T/qmail/control/domainkeys/example.com/selector"
	inject "$T/crlf.eml"
	is "$(status) $(sigs)" "0 1" "user + host, $mode: the user's signature in the queue"
	deliver "$T/q/mess"
	is "$(grep -c '^DKIM-Signature:' "$T/out/stdin")" 2 "user + host, $mode: two signatures on the wire"
	is "$(perl -0777 -ne 'print join " ", map { s/\s+//gr } m/^DKIM-Signature:.*?\bs=\s*([^;]*)/msg' "$T/out/stdin")" \
		"s1 u1" "user + host, $mode: the host's (s1) on top of the user's (u1)"
	ok "user + host, $mode: dkimpy verifies both" verify_dkimpy "$T/out/wire"
	ok "user + host, $mode: Mail::DKIM verifies both" verify_maildkim "$T/out/wire"
	ok "user + host, $mode: go-msgauth verifies both" verify_msgauth "$T/out/wire"
done

# --- INSTALL's dry run: the signed message on stdout, nothing queued ------------------
setup
user_key example.com s1
env -i PATH=/usr/bin:/bin HOME="$T/home" QMAILDKIM_QUEUE=/bin/cat \
	"$QDKIMQ" <"$MSG" >"$T/dry" 2>"$T/dry.err"
is "$(head -c 15 "$T/dry")" "DKIM-Signature:" "dry run with QMAILDKIM_QUEUE=/bin/cat: signed on stdout"
ok "dry run: nothing on stderr" test ! -s "$T/dry.err"
