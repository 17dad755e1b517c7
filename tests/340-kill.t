#!/bin/sh
# Whatever process of a delivery is killed, at whatever moment, by
# whatever signal, the message goes out whole or qmail-send retries it:
# never a cut message.  Messages from 300 KB to 50 MB, larger than a pipe
# (so the detached writer runs), through qmail-dkim and through
# qmail-dkimc and qmail-dkimd, to both flavours' stand-in; each delivery
# has its signer (before the real qmail-remote runs), its writer, the
# signer relaying the real one's report (control/dkimreport) or the real
# qmail-remote killed with SIGTERM, SIGKILL, SIGHUP or SIGINT at a random
# moment, by
# tests/kill-delivery.py (which says how each stand-in copies qmail:
# fake-remote.py reads fd 0 as qmail-remote.c's blast() does, K only after
# a clean end of file, Z from temp_read() on a read error; the launcher
# reads the report as qmail-rspawn does, and a crash counts as a retry).
# SEED=N repeats a run; the seed is in the diagnostics of a failure.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
if [ ! -x "$QDKIMC" ] || [ ! -x "$QDKIMD" ]; then
	skip_all "qmail-dkimc and qmail-dkimd are not built"
fi
[ "${QDKIM_WRAPPED:-}" != valgrind ] || skip_all "too slow under valgrind"
command -v pgrep >/dev/null || skip_all "no pgrep (procps)"

# NAME:MESSAGE:FLAVOUR:SIGNER:TRIALS (kill-delivery.py)
CONFIGS="k300 m300 netqmail dkim 16
k300cr m300cr notqmail dkim 16
c900 m900 notqmail dkimc 16
c900cr m900cr netqmail dkimc 16
k5m m5m notqmail dkim 16
c5m m5m netqmail dkimc 8
k50m m50m netqmail dkim 6"
plan $(($(echo "$CONFIGS" | wc -l) * 2 + 6))

setup_home
make_key example.com
# dkimpy's relaxed body canonicalization is python regexes over the whole
# body (9 s for 50 MB); simple is a byte comparison.  What is tested here
# does not depend on it.
echo relaxed/simple >"$T/qmail/control/dkimcanon"
ln -s "$QDKIM" "$T/qmail/bin/qmail-dkim" # qmail-dkimc's fallback, over 1 MiB
start_daemon -n 1 || exit 1

# msg FILE KB LEN [crlf]: text lines of LEN bytes, a line starting with a
# dot now and then.  With LEN 64 the body starts at a multiple of 64 (an
# X-Pad field makes it so), and a cut at a page boundary, which is where
# a pipe or a socket cuts a message written with sendfile(2), ends a
# line: qmail-remote then takes the cut message for a whole one (K).
# With LEN 77 a cut usually falls inside a line (D, a partial last line).
msg() {
	sed '/^$/Q' "$TOP/tests/msg/simple.eml" >"$1"
	if [ "$3" = 64 ]; then
		pad=$((64 - ($(wc -c <"$1") + 9) % 64))
		printf 'X-Pad: %s\n' "$(printf '%*s' "$pad" '' | tr ' ' p)" >>"$1"
	fi
	echo >>"$1"
	perl -e '$l = join "", map { chr(65 + ($_ * 7) % 26) } 1 .. '"$3"' - 1;
		$d = "." . substr($l, 1);
		for (1 .. '"$2"' * 1024 / '"$3"' / 50) { print "$l\n" x 49, "$d\n" }' >>"$1"
	[ "${4:-}" != crlf ] || perl -pi -e 's/\n/\r\n/' "$1"
}
msg "$T/m300" 300 64
msg "$T/m300cr" 300 64 crlf
msg "$T/m900" 900 77
msg "$T/m900cr" 900 77 crlf
msg "$T/m5m" 5120 64
msg "$T/m50m" 51200 64

set --
while read -r name m flavour signer n; do
	prog=$QDKIM
	[ "$signer" = dkim ] || prog=$QDKIMC
	set -- "$@" "$name:$T/$m:$flavour:$prog:$n"
done <<EOF
$CONFIGS
EOF
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
R=$T/results
kill_round() { # SEED RESULTS CONFIG...
	_seed=$1 _res=$2
	shift 2
	"$PY" "$TOP/tests/kill-delivery.py" --home "$T/qmail" --dns "$T/dns" \
		--out "$T/kd" --results "$_res" --seed "$_seed" "$@" || diag "kill-delivery.py failed"
}
# short: the processes the kills have not yet found 8 times with all four
# signals (each moment is drawn from the untouched delivery's phases, and a
# slow machine or a sanitizer moves them)
short() {
	for target in signer writer relay remote; do
		landed=$(awk -v t="$target" '$2 == t && $4 == t' "$R" | wc -l)
		sigs=$(awk -v t="$target" '$2 == t && $4 == t { print $3 }' "$R" | sort -u | wc -l)
		[ "$landed" -ge 8 ] && [ "$sigs" -eq 4 ] || echo "$target"
	done
}
rounds=1
kill_round "$SEED" "$R" "$@"
while [ -n "$(short)" ] && [ "$rounds" -lt 4 ]; do
	rounds=$((rounds + 1))
	kill_round "$((SEED + rounds))" "$R.more" "$@"
	grep -v ' untouched' "$R.more" >>"$R" || :
done

while read -r name m flavour signer n; do
	bad=$(awk -v n="$name" '$1 == n && $2 ~ /^untouched/ && $5 != "whole"' "$R")
	runs=$(awk -v n="$name" '$1 == n && $2 ~ /^untouched/' "$R" | wc -l)
	if [ "$runs" -gt 0 ] && [ -z "$bad" ]; then
		pass "$name: $m to $flavour through qmail-$signer, untouched: whole and verified"
	else
		fail "$name: $m to $flavour through qmail-$signer, untouched: whole and verified"
		diag "seed $SEED" "${bad:-no untouched delivery}"
	fi
	bad=$(awk -v n="$name" '$1 == n && $2 !~ /^untouched/ && $5 != "whole" && $5 != "defer"' "$R")
	runs=$(awk -v n="$name" '$1 == n && $2 !~ /^untouched/' "$R" | wc -l)
	whole=$(awk -v n="$name" '$1 == n && $2 !~ /^untouched/ && $5 == "whole"' "$R" | wc -l)
	if [ "$runs" -eq $((n * rounds)) ] && [ -z "$bad" ]; then
		pass "$name: $n deliveries killed, $whole went out whole, the others deferred"
	else
		fail "$name: $n deliveries killed: whole or deferred, never cut"
		diag "seed $SEED, $runs deliveries" "$bad"
	fi
done <<EOF
$CONFIGS
EOF

# What the untouched deliveries showed of the writer and of fd 0.
bad=$(awk '$2 ~ /^untouched/ && !/ fd 0 type=sock, other fds none,/' "$R")
if [ -z "$bad" ]; then pass "large signed messages reach the real one on a socket, no other fd"; else
	fail "large signed messages reach the real one on a socket, no other fd"
	diag "$bad"
fi
bad=$(awk '$2 ~ /^untouched/ && !/ writer qmail-dkim-feed\/qmail-dkim-feed$/' "$R")
if [ -z "$bad" ]; then pass "the writer is qmail-dkim-feed in ps, not qmail-remote"; else
	fail "the writer is qmail-dkim-feed in ps, not qmail-remote"
	diag "$bad"
fi

# The kills must have found each process often enough to mean something
# (in at most four rounds of the trials above).
missing=$(short | tr '\n' ' ')
for target in signer writer relay remote; do
	landed=$(awk -v t="$target" '$2 == t && $4 == t' "$R" | wc -l)
	sigs=$(awk -v t="$target" '$2 == t && $4 == t { print $3 }' "$R" | sort -u | tr '\n' ' ')
	case " $missing " in
	*" $target "*)
		fail "the $target was killed often enough with each signal"
		diag "seed $SEED, $rounds rounds: $landed times, with $sigs"
		;;
	*) pass "the $target was killed $landed times (${sigs% })" ;;
	esac
done
[ -z "${KEEP:-}" ] || diag "$(cat "$R")"
