# shellcheck shell=sh
# Sourced after lib.sh by the fault tests (tests/3NN-*.t) and the hostile
# message tests (tests/4NN-*.t): one delivery, one verdict on the whole of
# qmail-remote's contract.
#
# Every delivery must end in exactly one of:
#   signed    the real qmail-remote ran, with the message behind one or more
#             DKIM-Signature fields that dkimpy and Mail::DKIM verify on the
#             wire, the message itself unchanged (CRs made LFs, see
#             qmail-dkim(8), Line endings)
#   unsigned  the real qmail-remote ran with the message byte for byte
#   deferred  one "Z...\n\0" record on fd 1, exit 0, the real one not run
# and in every case: exit 0, nothing on the report pipe but the real
# qmail-remote's report or that one Z record, nothing left in TMPDIR, no
# process left running.

# QDKIM_WRAPPED is set by `make check-asan` and `make check-valgrind`: the
# binary runs under a sanitizer or valgrind, which need more address space
# and descriptors than a resource-limit test leaves.
QDKIM_WRAPPED=${QDKIM_WRAPPED:-}

# --- one delivery -------------------------------------------------------------

# fdeliver [RSPAWN-OPTION...] MSGFILE [HOST SENDER RECIP...]: deliver, with
# TMPDIR an empty directory of its own, and what the delivery left behind
# recorded in $T/out/leftover.  When the stand-in writes to $T/uout (a
# delivery as another user, see user_home), its records are moved to $T/out.
fdeliver() {
	rm -rf "$T/tmp" "$T/uout"
	mkdir -m 1777 "$T/tmp" "$T/uout"
	deliver --env="TMPDIR=$T/tmp" --leftover="$T/out/leftover" "$@"
	for _f in "$T/uout"/*; do
		[ -e "$_f" ] && mv "$_f" "$T/out/"
	done
	return 0
}

# user_home [netqmail|notqmail]: setup_home, readable by an unprivileged
# user, with the stand-in writing its records where that user can.
user_home() {
	setup_home "${1:-notqmail}"
	chmod 711 "$T"
	set_remote "${1:-notqmail}" --out "$T/uout"
}

# can_setuid [USER|UID:GID]: whether qmail-dkim can be run as that user
# (default nobody): we are root, and the user can reach the program, the
# stand-ins and python through the directories above them.
can_setuid() {
	_u=${1:-nobody}
	[ "$(id -u)" -eq 0 ] || return 1
	case $_u in
	*:*) set -- --reuid="${_u%:*}" --regid="${_u#*:}" ;;
	*)
		id "$_u" >/dev/null 2>&1 || return 1
		set -- --reuid="$_u" --regid="$(id -g "$_u")"
		;;
	esac
	# shellcheck disable=SC2016 # the inner sh expands them
	setpriv "$@" --clear-groups -- sh -c 'test -x "$1" && test -r "$2" && test -r "$3"' \
		sh "$QDKIM" "$TOP/tests/fake-remote.py" "$TOP/tests/fault-remote.py" 2>/dev/null
}

# --- the verdict --------------------------------------------------------------

# The message as a signed delivery hands it on: unchanged, or with every
# CRLF and bare CR made an LF when it has CRs.
_handed_on_form() {
	perl -0777 -pe 's/\r\n?/\n/g' "$1"
}

# _fake_report_ok: the report is exactly what fake-remote.py writes, with
# nothing of qmail-dkim's before, after or in between but the DKIM note
# (control/dkimreport) in the text of the K or D record.
_fake_report_ok() {
	perl -0777 -ne '$n = qr/(?: DKIM (?:signed d=|not signed: )[^\0\n]*)?/;
		exit !(/\A(?:r\0)+(?:Kok \((?:fake-remote|fault-remote|sink)\)$n\n|DSMTP cannot transfer messages with partial final lines\. \(#5\.6\.2\)$n\n)\0\z/ ||
		/\A(?:h[^\0]*\(fake-remote\)\n\0)+DGiving up on [^\0]*?\.$n\n\0\z/)' "$T/out/report"
}

# _note_is signed|unsigned: the report's DKIM note, if it has one, says so.
_note_is() {
	case $(perl -0777 -ne 'print $1 if / DKIM (signed|not signed)[^\0]*\0\z/' "$T/out/report") in
	'') ;;
	signed) [ "$1" = signed ] ;;
	*) [ "$1" = unsigned ] ;;
	esac
}

# what_happened MSGFILE: prints signed, unsigned, deferred, refused (the
# real one ran and refused every recipient without reading), delivered
# (fault-remote.py read more than the message: signed, not checked), or
# "broken: WHY".
what_happened() {
	_m=$1
	[ -f "$T/out/leftover" ] || {
		echo "broken: no leftover record (rspawn.py failed?), status $(cat "$T/out/status" 2>/dev/null)"
		return
	}
	if [ -s "$T/out/leftover" ]; then
		echo "broken: $(tr '\n' ';' <"$T/out/leftover")"
		return
	fi
	_st=$(cat "$T/out/status")
	if [ ! -e "$T/out/argv" ]; then
		if report_is_z; then echo deferred; else
			echo "broken: status $_st, report '$(report_text)', the real qmail-remote did not run"
		fi
		return
	fi
	if [ "$_st" != 0 ] || ! _fake_report_ok; then
		echo "broken: status $_st, report '$(report_text)'"
		return
	fi
	if [ -e "$T/out/stdin.sha256" ]; then
		# fault-remote.py keeps only the size and digest of what it read
		if [ "$(sha256sum <"$_m" | cut -d' ' -f1)" = "$(cat "$T/out/stdin.sha256")" ]; then
			if _note_is unsigned; then echo unsigned; else
				echo "broken: unsigned, the report says signed: '$(report_text)'"
			fi
		elif [ "$(cat "$T/out/stdin.size")" -gt "$(wc -c <"$_m")" ]; then
			echo delivered
		else
			echo "broken: the real qmail-remote read $(cat "$T/out/stdin.size") bytes, neither the message nor more"
		fi
		return
	fi
	if [ ! -e "$T/out/stdin" ]; then
		case $(report_letters) in
		*D) echo refused ;;
		*) echo "broken: the real qmail-remote reported '$(report_text)' without reading" ;;
		esac
		return
	fi
	if [ "$(head -c 15 "$T/out/stdin")" != "DKIM-Signature:" ]; then
		if ! _note_is unsigned; then
			echo "broken: unsigned, the report says signed: '$(report_text)'"
		elif cmp -s "$_m" "$T/out/stdin"; then echo unsigned; else
			echo "broken: handed on unsigned, but changed: $(cmp "$_m" "$T/out/stdin" 2>&1 | head -n 1)"
		fi
		return
	fi
	perl -0777 -pe 's/\A(?:DKIM-Signature:.*?\n(?![ \t]))+//s' "$T/out/stdin" >"$T/out/rest"
	_handed_on_form "$_m" >"$T/out/expected"
	if ! _note_is signed; then
		echo "broken: signed, the report says not: '$(report_text)'"
	elif ! cmp -s "$T/out/expected" "$T/out/rest"; then
		echo "broken: signed, but the message changed: $(cmp "$T/out/expected" "$T/out/rest" 2>&1 | head -n 1)"
	elif [ -n "${VERIFY_LATER:-}" ]; then
		# the caller verifies many at once (verify_later_done)
		cp "$T/out/wire" "$VERIFY_LATER"
		echo signed
	elif ! verify_dkimpy "$T/out/wire" >"$T/out/dkimpy" 2>&1; then
		echo "broken: signed, dkimpy fails it: $(tr '\n' ';' <"$T/out/dkimpy")"
	elif ! verify_maildkim --allow-none "$T/out/wire" >"$T/out/maildkim" 2>&1; then
		echo "broken: signed, Mail::DKIM fails it: $(tr '\n' ';' <"$T/out/maildkim")"
	else
		echo signed
	fi
}

# VERIFY_LATER=FILE what_happened ...: a signed delivery is judged on
# everything but its signatures, and its wire bytes are kept in FILE;
# verify_many then checks all such files with one dkimpy and one Mail::DKIM
# process, which is much faster than two processes a message.
# verify_many WIREFILE...: prints "WIREFILE pass" or "WIREFILE fail: WHY"
# for each, dkimpy's verdict first, then Mail::DKIM's for those that pass.
verify_many() {
	[ -e "$1" ] || return 0 # an unmatched glob: nothing signed
	"$PY" "$TOP/tests/verify-batch.py" "$T/dns" "$@" >"$T/verify.dkimpy"
	# shellcheck disable=SC2046 # file names made by the caller, no blanks
	set -- $(sed -n 's/ pass$//p' "$T/verify.dkimpy")
	: >"$T/verify.maildkim"
	[ $# -eq 0 ] || perl "$TOP/tests/verify-batch.pl" "$T/dns" "$@" >"$T/verify.maildkim"
	sed -n 's/ fail: / fail: dkimpy: /p' "$T/verify.dkimpy"
	sed 's/ fail: / fail: Mail::DKIM: /' "$T/verify.maildkim"
}

# outcome DESC MSGFILE [EXPECTED...]: one test.  It passes when the last
# delivery kept the contract (see above) and, when EXPECTED words are given
# (signed unsigned deferred refused delivered), ended as one of them.
outcome() {
	_desc=$1 _msg=$2
	shift 2
	_got=$(what_happened "$_msg")
	case $_got in
	broken:*)
		fail "$_desc"
		diag "$_got"
		return
		;;
	esac
	if [ $# -eq 0 ] || [ -z "$1" ]; then
		pass "$_desc ($_got)"
		return
	fi
	for _e; do
		if [ "$_e" = "$_got" ]; then
			pass "$_desc ($_got)"
			return
		fi
	done
	fail "$_desc"
	diag "ended $_got, expected $*" "report: $(report_text)"
}

# outcome_killed DESC MSGFILE: the last delivery was killed by a signal,
# or ended before it came (then judged as outcome would).  Killed,
# qmail-send defers the message ("crashed"): the report may hold the real
# one's recipient records, or all of its report when it had read the whole
# signed message, and nothing of ours; nothing may be left behind.
outcome_killed() {
	_desc=$1
	_st=$(cat "$T/out/status")
	case $_st in
	signal*) ;;
	*)
		outcome "$_desc, finished before the signal" "$2"
		return
		;;
	esac
	if [ ! -f "$T/out/leftover" ] || [ -s "$T/out/leftover" ]; then
		fail "$_desc ($_st)"
		diag "left behind: $(tr '\n' ';' <"$T/out/leftover" 2>/dev/null)"
	elif perl -0777 -ne 'exit !/\A(?:r\0)*\z/' "$T/out/report"; then
		pass "$_desc ($_st, nothing left behind)"
	elif perl -0777 -ne 'exit !/\A(?:r\0)+Kok \(fault-remote\)(?: DKIM signed d=[^\0\n]*)?\n\0\z/' "$T/out/report" &&
		[ "$(cat "$T/out/stdin.size" 2>/dev/null || echo 0)" -gt "$(wc -c <"$2")" ]; then
		# The real one read the signed message to its end and reported
		# it before the signal came (likelier when a sanitizer slows
		# the rest): its work, not ours; qmail-rspawn makes a crash a
		# deferral all the same.
		pass "$_desc ($_st after the real one's report, nothing left behind)"
	else
		fail "$_desc ($_st)"
		diag "report: $(report_text)"
	fi
}

# deferred_for DESC PATTERN: the last delivery was deferred and its Z record
# names PATTERN (the cause, or the file).
deferred_for() {
	if grep -q -- "$2" "$T/out/report" 2>/dev/null; then pass "$1: the Z record says why"; else
		fail "$1: the Z record says why"
		diag "wanted '$2' in: $(report_text)"
	fi
}

# set_fault_remote [FAULT-REMOTE-OPTION...]: the real qmail-remote becomes
# fault-remote.py, recording into $T/out.
set_fault_remote() {
	_args=$(_pyq "$T/out")
	for _a; do _args="$_args, $(_pyq "$_a")"; done
	cat >"$T/qmail/bin/qmail-remote.orig" <<-EOF2
		#!$PY
		import runpy, sys
		sys.argv[1:1] = ["--out", $_args]
		runpy.run_path($(_pyq "$TOP/tests/fault-remote.py"), run_name="__main__")
	EOF2
	chmod 755 "$T/qmail/bin/qmail-remote.orig"
}

# big_message FILE MB: a signable message of about MB megabytes, text lines.
big_message() {
	{
		sed '/^$/q' "$TOP/tests/msg/simple.eml"
		perl -e '$l = join "", map { chr(65 + ($_ * 7) % 26) } 1 .. 76;
			print "$l\n" x (('"$2"' * 1024 * 1024) / 77)'
	} >"$1"
}

# make_key DOMAIN [SELECTOR [rsa|ed25519 [BITS]]]: lib.sh's, except that
# each kind of key is made once per test file and copied after (making an
# RSA key costs more than a delivery).  The key file is 0600, as
# openssl genpkey leaves it.
KEYCACHE=$T/keycache
make_key() {
	_kc=$KEYCACHE/${3:-rsa}-${4:-2048}
	if [ ! -f "$_kc.txt" ]; then
		mkdir -p "$KEYCACHE"
		case ${3:-rsa} in
		rsa)
			openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${4:-2048}" \
				-out "$_kc.pem" 2>/dev/null || return 1
			_p=$(openssl pkey -in "$_kc.pem" -pubout -outform DER | base64 -w0)
			;;
		ed25519)
			openssl genpkey -algorithm ED25519 -out "$_kc.pem" || return 1
			_p=$(openssl pkey -in "$_kc.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
			;;
		*) echo "make_key: unknown key type $3" >&2 && return 1 ;;
		esac
		echo "v=DKIM1; k=${3:-rsa}; p=$_p" >"$_kc.txt"
	fi
	mkdir -p "$T/qmail/control/domainkeys/$1" "$T/dns"
	cp "$_kc.pem" "$T/qmail/control/domainkeys/$1/${2:-default}"
	cp "$_kc.txt" "$T/dns/${2:-default}._domainkey.$1"
}
