# shellcheck shell=sh
# Sourced by tests/NNN-name.t: TAP helpers and a fake qmail to deliver through.
# Tests run under `prove tests/`; each gets its own scratch directory $T.
# KEEP=1 keeps $T for a look afterwards.

[ -f "${TOP:-}/tests/lib.sh" ] || TOP=$(cd "$(dirname "$0")/.." && pwd)
QDKIM=${QDKIM:-$TOP/qmail-dkim/qmail-dkim}
QDKIMC=${QDKIMC:-$TOP/qmail-dkim/qmail-dkimc}
QDKIMD=${QDKIMD:-$TOP/qmail-dkim/qmail-dkimd}
PY=/usr/bin/python3 # the system python has dkimpy; the one on PATH may not
# As root a test runs in a mount namespace of its own, where the accounts
# it makes and the lines it logs cannot reach this host (tests/private.sh).
if [ -z "${QDKIM_PRIVATE+set}" ] && [ "$(id -u)" -eq 0 ]; then
	exec "$TOP/tests/private.sh" /bin/sh "$0" "$@"
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-test.XXXXXX") || exit 1

_planned='' _n=0 _failed=0 _bg=''
_finish() {
	_rc=$?
	_stop_bg
	if [ -n "${KEEP:-}" ]; then diag "kept $T"; else rm -rf "$T"; fi
	if [ -n "$_planned" ] && [ "$_n" -ne "$_planned" ]; then
		diag "planned $_planned tests but ran $_n"
		[ "$_rc" -ne 0 ] || _rc=255
	fi
	[ "$_rc" -ne 0 ] || _rc=$((_failed > 254 ? 254 : _failed))
	exit "$_rc"
}
# kill_at_exit PID...: background processes (a qmail-dkimd, a fake
# server) that must not outlive the test; TERM first, then KILL.
kill_at_exit() { _bg="$_bg $*"; }
_stop_bg() {
	[ -n "$_bg" ] || return 0
	# shellcheck disable=SC2086 # pids, no blanks
	kill -TERM $_bg 2>/dev/null
	_i=0
	while [ "$_i" -lt 30 ]; do
		_live=''
		for _p in $_bg; do
			gone "$_p" || _live="$_live $_p"
		done
		[ -n "$_live" ] || break
		sleep 0.1
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2086
	[ -z "$_live" ] || kill -KILL $_live 2>/dev/null
	_bg=''
}
trap _finish EXIT
trap 'exit 130' HUP INT TERM

# busybox_bin DIR CMD...: DIR holds busybox's applets (sh, awk, sed,
# sort, find, stat...: the tools of an old or small host) and this host's
# CMDs (what busybox lacks: dig, openssl); PATH=DIR runs a script with
# them alone. Status 1 when busybox is not installed.
busybox_bin() {
	_bb=$(command -v busybox) || return 1
	mkdir -p "$1"
	"$_bb" --install -s "$1" || return 1
	_dir=$1
	shift
	for _c; do
		ln -sf "$(command -v "$_c")" "$_dir/$_c" || return 1
	done
}

# --- TAP -------------------------------------------------------------------

plan() { _planned=$1; echo "1..$1"; }
skip_all() { _planned=0; echo "1..0 # SKIP $*"; exit 0; }
# diag LINE...: comment lines on stderr, where prove shows them.
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }
# todo REASON: the next test is expected to fail until the bug is fixed
# (TAP "# TODO"): prove shows it, and does not count it as a failure.
_todo=
todo() { _todo=$1; }
pass() {
	_n=$((_n + 1))
	echo "ok $_n - $*${_todo:+ # TODO $_todo}"
	_todo=
}
fail() {
	_n=$((_n + 1))
	if [ -n "$_todo" ]; then
		echo "not ok $_n - $* # TODO $_todo"
		_todo=
	else
		_failed=$((_failed + 1))
		echo "not ok $_n - $*"
	fi
}

# ok DESC CMD...: passes if CMD exits 0; its output is shown only on failure.
ok() {
	_desc=$1
	shift
	if "$@" >"$T/.ok-out" 2>&1; then pass "$_desc"; else
		fail "$_desc"
		diag "command: $*" "$(cat "$T/.ok-out")"
	fi
}
# not_ok DESC CMD...: passes if CMD fails (exits non-zero).
not_ok() {
	_desc=$1
	shift
	if "$@" >"$T/.ok-out" 2>&1; then
		fail "$_desc"
		diag "command succeeded: $*" "$(cat "$T/.ok-out")"
	else pass "$_desc"; fi
}
is() {
	if [ "$1" = "$2" ]; then pass "$3"; else
		fail "$3"
		diag "     got: '$1'" "expected: '$2'"
	fi
}
isnt() {
	if [ "$1" != "$2" ]; then pass "$3"; else
		fail "$3"
		diag "got '$1', expected anything else"
	fi
}
# skip COUNT REASON: report COUNT tests as skipped.
skip() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		_i=$((_i + 1)) _n=$((_n + 1))
		echo "ok $_n # skip $2"
	done
}

# --- a fake qmail ----------------------------------------------------------

# A python string literal for the generated wrapper.
_pyq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/[\\\\']/\\\\&/g")"; }

# set_remote MODE [FAKE-REMOTE-OPTION...]: (re)write the stand-in real
# qmail-remote, bin/qmail-remote.orig, for qmail flavour MODE.  It is python,
# not sh: dash would clear the signal mask and add PWD to the environment.
set_remote() {
	_args=$(_pyq "$1")
	shift
	for _a; do _args="$_args, $(_pyq "$_a")"; done
	cat >"$T/qmail/bin/qmail-remote.orig" <<-EOF
		#!$PY
		import runpy, sys
		sys.argv[1:1] = ["--out", $(_pyq "$T/out"), "--mode", $_args]
		runpy.run_path($(_pyq "$TOP/tests/fake-remote.py"), run_name="__main__")
	EOF
	chmod 755 "$T/qmail/bin/qmail-remote.orig"
}

# setup_home [netqmail|notqmail [FAKE-REMOTE-OPTION...]]: a qmail home in
# $T/qmail (default flavour netqmail, as Debian's qmail package), made anew
# with no keys each time.
setup_home() {
	rm -rf "$T/qmail" "$T/dns" "$T/out"
	mkdir -p "$T/qmail/bin" "$T/qmail/control/domainkeys" \
		"$T/qmail/queue/mess" "$T/dns" "$T/out"
	_mode=${1:-netqmail}
	[ $# -eq 0 ] || shift
	set_remote "$_mode" "$@"
	QMAILDKIM_HOME=$T/qmail
	export QMAILDKIM_HOME
}

# make_key DOMAIN [SELECTOR [rsa|ed25519 [BITS]]]: a PKCS#8 PEM private key in
# control/domainkeys/DOMAIN/SELECTOR and its TXT record in $T/dns.
make_key() {
	_key=$T/qmail/control/domainkeys/$1/${2:-default}
	_txt=$T/dns/${2:-default}._domainkey.$1
	mkdir -p "${_key%/*}" "$T/dns"
	case ${3:-rsa} in
	rsa)
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${4:-2048}" \
			-out "$_key" 2>/dev/null || return 1
		_p=$(openssl pkey -in "$_key" -pubout -outform DER | base64 -w0)
		;;
	ed25519)
		openssl genpkey -algorithm ED25519 -out "$_key" || return 1
		# RFC 8463 3: the bare 32-byte key, i.e. the tail of the SPKI DER.
		_p=$(openssl pkey -in "$_key" -pubout -outform DER | tail -c 32 | base64 -w0)
		;;
	*) echo "make_key: unknown key type $3" >&2 && return 1 ;;
	esac
	echo "v=DKIM1; k=${3:-rsa}; p=$_p" >"$_txt"
}

# make_key_pkcs1 DOMAIN [SELECTOR [BITS]]: the same RSA key in PKCS#1 form
# ("BEGIN RSA PRIVATE KEY"), as older tools and opendkim-genkey write it.
make_key_pkcs1() {
	make_key "$1" "${2:-default}" rsa "${3:-2048}" || return 1
	_key=$T/qmail/control/domainkeys/$1/${2:-default}
	openssl rsa -in "$_key" -traditional -out "$_key.tmp" 2>/dev/null &&
		mv "$_key.tmp" "$_key"
}

# deliver [--stdin-pipe] [--env=K=V]... [--cwd=DIR] [--timeout=S] MSGFILE
#         [HOST SENDER RECIP...]
# Run $QDKIM as qmail-rspawn would and leave in $T/out: report, status, and
# what the stand-in recorded (argv stdin wire fd0 cwd env fds sigblk).
# Options are rspawn.py's, each one word.
deliver() {
	rm -rf "$T/out" && mkdir -p "$T/out"
	_opts=0
	for _a; do
		case $_a in --*) _opts=$((_opts + 1)) ;; *) break ;; esac
	done
	[ $# -gt $((_opts + 1)) ] ||
		set -- "$@" example.net sender@example.com rcpt@example.net
	# Rotate the arguments once, slipping $QDKIM in after MSGFILE.
	_i=0 _argc=$#
	while [ "$_i" -lt "$_argc" ]; do
		_a=$1
		shift
		set -- "$@" "$_a"
		_i=$((_i + 1))
		[ "$_i" -ne $((_opts + 1)) ] || set -- "$@" "$QDKIM"
	done
	"$PY" "$TOP/tests/rspawn.py" --report "$T/out/report" \
		--status "$T/out/status" --env="QMAILDKIM_HOME=$T/qmail" \
		--env="PATH=$T/qmail/bin:/usr/local/bin:/usr/bin:/bin" "$@" ||
		echo "rspawn.py failed" >"$T/out/status"
	return 0
}

# report_text [FILE]: the report on one line, \n \0 and other bytes escaped.
report_text() {
	perl -0777 -ne 's/\\/\\\\/g; s/\n/\\n/g; s/\0/\\0/g;
		s/([^\x20-\x7e])/sprintf("\\x%02x", ord $1)/ge; print' "${1:-$T/out/report}"
}
# report_letters [FILE]: the first letter of every record, e.g. "rK".
report_letters() {
	perl -0777 -ne 'print map { substr $_, 0, 1 } split /\0/' "${1:-$T/out/report}"
}
# report_is_z: the report is one "Z...\n\0" record and the exit status is 0.
report_is_z() {
	[ "$(cat "$T/out/status")" = 0 ] && perl -0777 -ne 'exit !/\AZ[^\0]*\n\0\z/' "$T/out/report"
}

# verify_dkimpy FILE, verify_maildkim [--allow-none] FILE: check every
# DKIM-Signature of a wire (CRLF) file against the keys in $T/dns.
verify_dkimpy() { "$PY" "$TOP/tests/verify-dkimpy.py" "$T/dns" "$@"; }
verify_maildkim() { perl "$TOP/tests/verify-maildkim.pl" "$T/dns" "$@"; }

# verify_msgauth FILE: the same with go-msgauth, which knows Ed25519
# (built by `make units`).
verify_msgauth() { "$TOP/tests/verify-msgauth" "$T/dns" "$@"; }

# --- qmail-dkimd ---------------------------------------------------------------

# gone PID: the process has ended (a zombie counts as ended).
gone() {
	[ ! -d "/proc/$1" ] || [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null || echo Z)" = Z ]
}

# start_daemon [--user=USER] [QDKIMD-OPTION...]: qmail-dkimd for the qmail
# home $T/qmail, on the socket $T/run/dkimd.sock, which control/dkimsocket
# names; returns once its workers run (it listens).  Its pid is in DKIMD,
# its fd 2 in $T/dkimd.err; with tests/syslog-shim.so its syslog lines go
# to $DKIMD_LOG ($T/run/dkimd.log).  Killed at exit if still running.
start_daemon() {
	_as=''
	case ${1:-} in --user=*)
		_as=${1#--user=}
		shift
		;;
	esac
	mkdir -p "$T/run"
	DKIMD_SOCK=$T/run/dkimd.sock DKIMD_LOG=$T/run/dkimd.log
	rm -f "$DKIMD_SOCK" "$DKIMD_LOG"
	_pre=
	[ ! -f "$TOP/tests/syslog-shim.so" ] || _pre=$TOP/tests/syslog-shim.so
	if [ -n "$_as" ]; then
		chown "$_as" "$T/run"
		env -i PATH=/usr/bin:/bin QMAILDKIM_HOME="$T/qmail" LD_PRELOAD="$_pre" \
			SYSLOG_SHIM="$DKIMD_LOG" setpriv --reuid="$_as" \
			--regid="$(id -g "$_as")" --clear-groups -- "$QDKIMD" "$@" "$DKIMD_SOCK" \
			</dev/null >/dev/null 2>"$T/dkimd.err" &
	else
		env -i PATH=/usr/bin:/bin QMAILDKIM_HOME="$T/qmail" LD_PRELOAD="$_pre" \
			SYSLOG_SHIM="$DKIMD_LOG" "$QDKIMD" "$@" "$DKIMD_SOCK" \
			</dev/null >/dev/null 2>"$T/dkimd.err" &
	fi
	DKIMD=$!
	kill_at_exit "$DKIMD"
	echo "$DKIMD_SOCK" >"$T/qmail/control/dkimsocket"
	_i=0
	while [ "$_i" -lt 100 ]; do
		[ -z "$(pgrep -P "$DKIMD")" ] || return 0
		gone "$DKIMD" && break
		sleep 0.1
		_i=$((_i + 1))
	done
	diag "qmail-dkimd did not start: $(cat "$T/dkimd.err")"
	return 1
}

# dkimd_workers: the pids of the running qmail-dkimd's workers.
dkimd_workers() { pgrep -P "$DKIMD" | sort -n | tr '\n' ' '; }

# stop_daemon: SIGTERM, then await_daemon.
# await_daemon: waits for qmail-dkimd to end, its exit status then in
# DKIMD_STATUS; "timeout" when it is still there after 10 s, and then it
# and its workers are killed.
stop_daemon() {
	kill -TERM "$DKIMD" 2>/dev/null
	await_daemon
}
await_daemon() {
	_i=0
	while ! gone "$DKIMD"; do
		if [ "$_i" -ge 100 ]; then
			_w=$(pgrep -P "$DKIMD")
			# shellcheck disable=SC2086 # pids
			kill -KILL "$DKIMD" $_w
			wait "$DKIMD"
			DKIMD_STATUS=timeout
			return
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$DKIMD"
	# shellcheck disable=SC2034 # for the test that called it
	DKIMD_STATUS=$?
}
