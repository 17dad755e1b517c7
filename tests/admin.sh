# shellcheck shell=sh
# Sourced by tests/2NN-*.t after lib.sh: fixtures for the admin scripts
# (qmail-dkim-keygen, -install, -check): qmail's accounts, a fake qmail
# home, dnsmasq on loopback, and checks on the scripts' output.

S=$TOP/scripts
# qmail-dkim-check probes no SMTP service on this host's 127.0.0.1 (its
# relay check has tests/550-loopback-relay.t, in a network of its own).
QMAILDKIM_SMTP_PORT=0
export QMAILDKIM_SMTP_PORT
# As root these tests make qmail's accounts and change their groups: only
# in a namespace whose /etc is not the host's (tests/private.sh).
[ "$(id -u)" -ne 0 ] || [ -n "${QDKIM_PRIVATE:-}" ] ||
	skip_all "root, but not in tests/private.sh's namespace (${QDKIM_PRIVATE_WHY:-}): qmail's accounts would be this host's"
# qmailr must reach the keys made inside $T.
chmod 0755 "$T"

# --- cleanup ---------------------------------------------------------------

dns_pid='' _admin_hooks=''
# at_exit FUNC: run FUNC on exit, before lib.sh's _finish removes $T.
at_exit() { _admin_hooks="$_admin_hooks $1"; }
# _admin_exit: stop dnsmasq, run the at_exit hooks, then lib.sh's _finish
# with the status the test exited with.
_admin_exit() {
	_admin_rc=$?
	[ -z "$dns_pid" ] || kill "$dns_pid" 2>/dev/null
	for _h in $_admin_hooks; do "$_h"; done
	(exit "$_admin_rc")
	_finish
}
trap _admin_exit EXIT

# bail REASON: stop the whole test, as TAP's "Bail out!".
bail() {
	echo "Bail out! $*"
	exit 1
}

# need CMD...: skip the whole test unless every CMD is installed.
need() {
	for _c; do
		command -v "$_c" >/dev/null 2>&1 ||
			skip_all "$_c not installed (tests/deps.sh installs dnsmasq-base, bind9-dnsutils)"
	done
}

# --- running the scripts and looking at what they said ---------------------

# run CMD...: run CMD with its stdout in $T/out, its stderr in $T/err and
# its exit status in $rc.
run() { rc=0 && "$@" >"$T/out" 2>"$T/err" || rc=$?; }

# spawn NAME CMD...: run CMD in the background; `see NAME` after `wait`.
spawn() {
	_name=$1
	shift
	{
		rc=0
		"$@" >"$T/$_name.out" 2>"$T/$_name.err" || rc=$?
		echo "$rc" >"$T/$_name.rc"
	} &
}
# see NAME: what `spawn NAME` left, in $T/out, $T/err and $rc, as run does.
see() {
	mv "$T/$1.out" "$T/out"
	mv "$T/$1.err" "$T/err"
	read -r rc <"$T/$1.rc"
}

# has FILE ERE DESC: passes if a line of FILE matches ERE.
has() {
	if grep -q -E -- "$2" "$1"; then pass "$3"; else
		fail "$3"
		diag "no line matches: $2"
		sed 's/^/  /' "$1" >&2
	fi
}
# lacks FILE ERE DESC: passes if no line of FILE matches ERE.
lacks() {
	if grep -q -E -- "$2" "$1"; then
		fail "$3"
		diag "a line matches: $2"
		sed 's/^/  /' "$1" >&2
	else pass "$3"; fi
}

# mode FILE: the permission bits as ls shows them, and owner:group.
# shellcheck disable=SC2012 # reading the mode is what ls -l is for
mode() { ls -ldL "$1" | awk '{ print $1, $3 ":" $4 }'; }

# --- qmail's accounts and a fake qmail home --------------------------------

# qmail_accounts: as root (in tests/private.sh's namespace, which has
# group qmail and user qmailr) set root=1; keys are owned by KU:KG,
# qmailr:qmail as root, else us.
# shellcheck disable=SC2034 # root is for the tests
qmail_accounts() {
	if [ "$(id -u)" -eq 0 ]; then
		root=1
		KU=qmailr KG=qmail
	else
		root=
		KU=$(id -un) KG=$(id -gn)
	fi
}

# qmail_home: an empty qmail home $Q with control/ and bin/; $K is where
# its keys go.
# shellcheck disable=SC2034 # K is for the tests
qmail_home() {
	Q=$T/qmail
	K=$Q/control/domainkeys
	mkdir -p "$Q/control" "$Q/bin"
}

# real_remote LINE: a stand-in for qmail's qmail-remote in $Q/bin that runs
# LINE; it carries the text qmail-remote.c prints before an SMTP reply,
# which is how qmail-dkim-install knows it.
real_remote() {
	printf '#!/bin/sh\n# stands in for qmail'\''s qmail-remote.c ("Remote host said: ")\n%s\n' \
		"$1" >"$Q/bin/qmail-remote"
	chmod 0711 "$Q/bin/qmail-remote"
}

# admin_keygen ARG...: qmail-dkim-keygen into $Q, owned by KU:KG; what it
# said is shown only if it fails, and its status returned.
admin_keygen() {
	"$S/qmail-dkim-keygen" -N -d "$Q" -u "$KU" -g "$KG" "$@" >"$T/keygen.out" 2>&1 || {
		_rc=$?
		cat "$T/keygen.out" >&2
		return "$_rc"
	}
}

# --- DNS -------------------------------------------------------------------

# start_dns [OFFSET]: serve the records the test wrote in $T/dns.conf with
# dnsmasq on 127.0.0.1 at a free high port, $port (the search starts at one
# from the pid and OFFSET, so tests run side by side rarely collide); it is
# stopped on exit.  Bails out if no port will do.
start_dns() {
	_dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
	port=$((20000 + ($$ + ${1:-0}) % 30000))
	_i=0
	while [ "$_i" -lt 20 ]; do
		rm -f "$T/dns.pid"
		if "$_dnsmasq" -C "$T/dns.conf" --port="$port" --listen-address=127.0.0.1 \
			--bind-interfaces --no-resolv --no-hosts --no-poll \
			--pid-file="$T/dns.pid" 2>"$T/dns.err"; then
			_j=0
			while [ ! -s "$T/dns.pid" ] && [ "$_j" -lt 50 ]; do
				sleep 0.1
				_j=$((_j + 1))
			done
			dns_pid=$(cat "$T/dns.pid")
			return 0
		fi
		port=$((port + 1))
		_i=$((_i + 1))
	done
	cat "$T/dns.err" >&2
	bail "cannot start dnsmasq"
}
# need_dns [CMD...]: skip the whole test unless dnsmasq, dig, openssl and
# every CMD are installed.
need_dns() { need "$(command -v dnsmasq || echo /usr/sbin/dnsmasq)" dig openssl "$@"; }
