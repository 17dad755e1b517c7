#!/bin/sh
# qmail-dkimc's two tuning files: control/dkimdtimeout, how long it waits
# for qmail-dkimd before qmail-dkim signs the message (default 2 s), and
# control/dkimdmaxsize, the largest message it asks qmail-dkimd to sign
# (default 1 MiB).  A file that cannot be read or holds no usable number
# gives the default: a tuning file never defers or bounces a message.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"
plan 40

# waited DESC MIN MAX: a delivery to the fake daemon that never answers
# took from MIN to MAX seconds, and bin/qmail-dkim signed it.
n=0
waited() {
	n=$((n + 1))
	_t0=$(date +%s.%N)
	cdeliver "$(msg $n)"
	_t=$(perl -e 'printf "%.2f", $ARGV[0] - $ARGV[1]' "$(date +%s.%N)" "$_t0")
	by_fallback "$1" "$T/m/$n.eml"
	_max=$3
	# the fallback qmail-dkim under valgrind takes seconds of its own
	[ "${QDKIM_WRAPPED:-}" != valgrind ] || _max=$((${3%.*} + 30))
	if perl -e 'exit !($ARGV[0] >= $ARGV[1] && $ARGV[0] < $ARGV[2])' "$_t" "$2" "$_max"; then
		pass "$1: it took ${_t}s"
	else
		fail "$1: it took ${_t}s"
		diag "expected from $2 to $_max s"
	fi
}

home netqmail
fake silent
waited "a daemon that never answers, no control/dkimdtimeout" 1.9 6
echo 1 >"$T/qmail/control/dkimdtimeout"
waited "dkimdtimeout 1" 0.9 3
echo 5 >"$T/qmail/control/dkimdtimeout"
waited "dkimdtimeout 5" 4.9 9
for bad in abc 0 -1 301 "2 s" 99999999999999999999 ""; do
	printf '%s\n' "$bad" >"$T/qmail/control/dkimdtimeout"
	waited "dkimdtimeout '$bad': the default" 1.9 6
done
rm "$T/qmail/control/dkimdtimeout"
mkdir "$T/qmail/control/dkimdtimeout"
waited "dkimdtimeout unreadable (a directory): the default" 1.9 6
rmdir "$T/qmail/control/dkimdtimeout"
kill "$_fake"

# dkimdmaxsize against the real daemon: a message of 2000 bytes
start_daemon -n 1
head -c 1000 /dev/zero | tr '\0' x | fold -w 70 >"$T/body"
cat "$M" "$T/body" "$T/body" | head -c 1999 >"$T/2000.eml"
echo >>"$T/2000.eml"
is "$(wc -c <"$T/2000.eml")" 2000 "a message of 2000 bytes"
echo 1999 >"$T/qmail/control/dkimdmaxsize"
cdeliver "$T/2000.eml"
by_fallback "dkimdmaxsize 1999: qmail-dkim signs it" "$T/2000.eml"
echo 2000 >"$T/qmail/control/dkimdmaxsize"
cdeliver "$T/2000.eml"
by_daemon "dkimdmaxsize 2000: qmail-dkimd signs it" "$T/2000.eml" signed
echo 1k >"$T/qmail/control/dkimdmaxsize"
cdeliver "$T/2000.eml"
by_daemon "dkimdmaxsize '1k': the default, qmail-dkimd signs it" "$T/2000.eml" signed
stop_daemon
