#!/bin/sh
# bench/bench.sh -- make bench: qmail-dkim beside the alternatives and the
# machine's limits, in one run.
#
# For generated messages (bench/gen.py) of each size, every candidate is
# started the way qmail-rspawn starts qmail-remote (bench/launch.c: fd 0 the
# message file, fd 1 a pipe, fd 2 = fd 1) and measured: wall time, CPU time
# of every process it made (the detached writer included), peak RSS.  The
# candidates run round-robin, in a rotating order, for RUNS rounds; the
# table shows medians.  The real qmail-remote is a stand-in that reads the
# message and reports success (bench/remote.c).  Before anything is timed,
# the signed output of every signer is checked with dkimpy (it must verify,
# and be the message unchanged behind the signature fields), so the bench
# cannot measure a pass-through.
#
# qmail-dkimc+qmail-dkimd is the resident signer: one qmail-dkimd (-n 2)
# per key set, started once before the checks and stopped (SIGTERM) when
# the bench ends, however it ends.  Each delivery starts qmail-dkimc, which
# hands the queue file to the daemon and execs the stand-in with the
# signed message; over 1 MiB it execs qmail-dkim instead (bin/qmail-dkim
# in its home), so at 10 MB and 100 MB it is qmail-dkim plus one small
# exec.  Its CPU column adds the daemon's: launch -p reads the CPU clock
# of the daemon and of each worker before the delivery and after it.  The
# daemon path is checked with no bin/qmail-dkim in place, so a fallback
# cannot pass for it, and every timed delivery of 1 MiB or less must have
# used daemon CPU.  The daemon's own resident memory is reported apart.
#
# Knobs (environment):
#   BENCH_OUT=DIR        where the table, the raw numbers and the plot go
#                        (default bench/out)
#   BENCH_QUICK=1        2 KB and 100 KB only, 3 runs, concurrency on 100 KB
#   BENCH_SIZES="2K 1G"  sizes (bytes, or with K, M or G)
#   BENCH_RUNS_SMALL=21  rounds for sizes up to 1 MB (cheap, and the
#                        noisiest: two processes and a daemon on 2 cores)
#   BENCH_RUNS=7         rounds for sizes above 1 MB and below 100 MB
#   BENCH_RUNS_BIG=5     rounds for 100 MB and more
#   BENCH_CONC=50        concurrent deliveries; BENCH_CONC_SIZE=10M,
#                        BENCH_CONC_RUNS=3; BENCH_CONC=0 skips them
#   BENCH_SLOW_MAX=100M  largest size dkimpy and Mail::DKIM are run on
#   QDKIM=PATH           the qmail-dkim binary (default the built one)
#   QDKIMD=PATH, QDKIMC=PATH  qmail-dkimd and qmail-dkimc (the built ones)
#   BENCH_LIBS="-l..."   how qmail-dkim is linked (make bench passes $(LIBS)),
#                        for the start-up row
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3 # the system python has dkimpy; the one on PATH may not
QDKIM=${QDKIM:-$top/qmail-dkim/qmail-dkim}
QDKIMD=${QDKIMD:-$top/qmail-dkim/qmail-dkimd}
QDKIMC=${QDKIMC:-$top/qmail-dkim/qmail-dkimc}
out=${BENCH_OUT:-$top/bench/out}
if [ -n "${BENCH_QUICK:-}" ]; then
	sizes=${BENCH_SIZES:-2K 100K}
	runs=${BENCH_RUNS:-3}
	runs_small=${BENCH_RUNS_SMALL:-$runs}
	conc_size=${BENCH_CONC_SIZE:-100K}
else
	sizes=${BENCH_SIZES:-2K 100K 10M 100M}
	runs=${BENCH_RUNS:-7}
	runs_small=${BENCH_RUNS_SMALL:-21}
	conc_size=${BENCH_CONC_SIZE:-10M}
fi
runs_big=${BENCH_RUNS_BIG:-5}
conc=${BENCH_CONC:-50}
conc_runs=${BENCH_CONC_RUNS:-3}
slow_max=${BENCH_SLOW_MAX:-100M}
cands="baseline qdkim-rsa qdkim-ed25519 qdkim-both dkimd-rsa dkimd-ed25519 dkimd-both"
cands="$cands dkimpy maildkim sha256 body start"
rcpt="gmail.example alice@example.com bob@gmail.example"

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 1
}
bytes() { # bytes SIZE: 2K -> 2048
	case $1 in
	*[Kk]) echo $((${1%?} * 1024)) ;;
	*[Mm]) echo $((${1%?} * 1048576)) ;;
	*[Gg]) echo $((${1%?} * 1073741824)) ;;
	*) echo "$1" ;;
	esac
}

for b in "$QDKIM" "$QDKIMD" "$QDKIMC"; do
	[ -x "$b" ] || die "no $b: run make first"
done
for t in cc openssl perl gnuplot; do
	command -v "$t" >/dev/null || die "$t is missing (sh tests/deps.sh installs it)"
done
W=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-bench.XXXXXX")
dpids= # the qmail-dkimd parents we started
stop_daemons() {
	for _p in $dpids; do
		kill -TERM "$_p" 2>/dev/null || true
	done
	for _p in $dpids; do
		wait "$_p" 2>/dev/null || true
	done
	dpids=
}
trap 'stop_daemons; rm -rf "$W"' EXIT
trap 'exit 130' HUP INT TERM
mkdir -p "$out" "$W/bin" "$W/keys" "$W/dns" "$W/msg"

# --- the helpers, the keys, three qmail homes ---------------------------------

say "building the launcher, the stand-in qmail-remote, bodyhash, phases in $W"
# phases.c -x is the start-up row: link it as the Makefile links qmail-dkim
libs=${BENCH_LIBS:--lopendkim -lcrypto}
# without the --wrap of the key decoding: keycache.c is not linked in here
libs=$(echo "$libs" | sed 's/-Wl,--wrap=[^ ]*//g')
# shellcheck disable=SC2046,SC2086 # pkg-config prints words; $libs is words
if ! { cc -O2 -Wall -Wextra -o "$W/bin/launch" "$top/bench/launch.c" &&
	cc -O2 -Wall -Wextra -o "$W/bin/remote" "$top/bench/remote.c" &&
	cc -O2 -Wall -Wextra $(pkg-config --cflags opendkim) \
		-o "$W/bin/bodyhash" "$top/bench/bodyhash.c" -lopendkim &&
	cc -O2 -Wall -Wextra -fPIE -pie -Wl,-z,relro,-z,now \
		-o "$W/bin/phases" "$top/bench/phases.c" $libs; }; then
	die "cannot build the helpers"
fi
L=$W/bin/launch

# Keys as tests/lib.sh's make_key makes them, TXT records in $W/dns.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$W/keys/rsa2048" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$W/keys/ed25519"
p=$(openssl pkey -in "$W/keys/rsa2048" -pubout -outform DER | base64 -w0)
echo "v=DKIM1; k=rsa; p=$p" >"$W/dns/rsa2048._domainkey.example.com"
p=$(openssl pkey -in "$W/keys/ed25519" -pubout -outform DER | tail -c 32 | base64 -w0)
echo "v=DKIM1; k=ed25519; p=$p" >"$W/dns/ed25519._domainkey.example.com"

home() { # home NAME SELECTOR...: a qmail home that signs with those keys
	_h=$W/$1
	shift
	mkdir -p "$_h/bin" "$_h/queue/mess" "$_h/control/domainkeys/example.com"
	cp "$W/bin/remote" "$_h/bin/qmail-remote.orig"
	for _s; do
		cp "$W/keys/$_s" "$_h/control/domainkeys/example.com/$_s"
		echo "$_s" >>"$_h/control/domainkeys/example.com/selector"
	done
}
home qdkim-rsa rsa2048
home qdkim-ed25519 ed25519
home qdkim-both rsa2048 ed25519
home dkimd-rsa rsa2048
home dkimd-ed25519 ed25519
home dkimd-both rsa2048 ed25519

# start_daemon NAME: qmail-dkimd with the home NAME, 2 workers that never
# end on their own (-r: a new worker would have to decode the key again)
start_daemon() {
	_h=$W/$1
	echo "$_h/sock" >"$_h/control/dkimsocket"
	QMAILDKIM_HOME=$_h "$QDKIMD" -n 2 -r 1000000000 "$_h/sock" \
		</dev/null >"$_h/daemon.log" 2>&1 &
	echo $! >"$_h/pid"
	dpids="$dpids $!"
	_i=0
	until [ -S "$_h/sock" ] &&
		[ "$(wc -w <"/proc/$!/task/$!/children")" -eq 2 ]; do
		_i=$((_i + 1))
		[ "$_i" -le 100 ] || die "qmail-dkimd for $1 did not start: $(cat "$_h/daemon.log")"
		sleep 0.05
	done
}
for d in dkimd-rsa dkimd-ed25519 dkimd-both; do
	start_daemon "$d"
done

# --- running one candidate ----------------------------------------------------

# run CAND MSG [LAUNCH-OPTION...]: one delivery (or -n N at once); prints
# launch's line "wall_ms cpu_ms main_rss_kb other_rss_kb ok resident_cpu_ms".
# shellcheck disable=SC2086 # $rcpt is three words
run() {
	_c=$1 _m=$2
	shift 2
	case $_c in
	baseline) "$L" "$@" "$_m" "$W/bin/remote" $rcpt ;;
	qdkim-*)
		"$L" -e "QMAILDKIM_HOME=$W/$_c" -d "$W/$_c/queue/mess" "$@" "$_m" \
			"$QDKIM" $rcpt
		;;
	dkimd-*)
		"$L" -p "$(cat "$W/$_c/pid")" -e "QMAILDKIM_HOME=$W/$_c" \
			-d "$W/$_c/queue/mess" "$@" "$_m" "$QDKIMC" $rcpt
		;;
	dkimpy | maildkim)
		[ "$_c" = dkimpy ] && set -- "$@" "$_m" "$PY" "$top/bench/dkimpy-remote.py"
		[ "$_c" = maildkim ] && set -- "$@" "$_m" /usr/bin/perl "$top/bench/maildkim-remote.pl"
		"$L" -e "BENCH_KEY=$W/keys/rsa2048" -e BENCH_DOMAIN=example.com \
			-e BENCH_SELECTOR=rsa2048 -e "BENCH_H=$H" \
			-e "BENCH_REAL=$W/bin/remote" "$@" $rcpt
		;;
	sha256) "$L" "$@" "$_m" /usr/bin/openssl dgst -sha256 ;;
	body) "$L" -o "$W/body.out" "$@" "$_m" "$W/bin/bodyhash" "$W/keys/rsa2048" ;;
	start) "$L" -e PHASES_T0=0 "$@" "$_m" "$W/bin/phases" -x ;; # exits at main
	esac
}

# sigtags FILE: "a=... c=... h=..." for each DKIM-Signature field in FILE.
sigtags() {
	perl -0777 -ne 'while (/^DKIM-Signature:(.*?\n)(?![ \t])/msg) {
		(my $v = $1) =~ s/\s+//g;
		my %t = map { /^(\w+)=(.*)$/s ? ($1, $2) : () } split /;/, $v;
		print "a=$t{a} c=$t{c} h=$t{h}\n" }' "$1"
}

# check CAND MSG NSIG [quick]: the stand-in qmail-remote got MSG unchanged
# behind NSIG DKIM-Signature fields, and dkimpy verifies every one of them
# (not with quick: dkimpy needs 4 bytes of memory a byte of message).
check() {
	run "$1" "$2" -e "BENCH_REMOTE_OUT=$W/wire" >/dev/null
	_n=$(grep -c '^DKIM-Signature:' "$W/wire" || true)
	[ "$_n" -eq "$3" ] ||
		die "$1 on $2: $_n DKIM-Signature fields, not $3: measuring a pass-through?"
	tail -c "$(wc -c <"$2")" "$W/wire" | cmp -s - "$2" ||
		die "$1 on $2: the message behind the signature is not the message"
	if [ "${4:-}" = quick ]; then
		echo "  $1 $(basename "$2"): $3 fields, message unchanged (not verified: large)" >>"$W/checks"
		rm -f "$W/wire"
		return 0
	fi
	sed 's/$/\r/' "$W/wire" >"$W/wire.crlf"
	"$PY" "$top/tests/verify-dkimpy.py" "$W/dns" "$W/wire.crlf" >"$W/verdict" ||
		die "$1 on $2 does not verify: $(cat "$W/verdict")"
	sigtags "$W/wire" >"$W/tags"
	sed "s|^|  $1 $(basename "$2"): |" "$W/verdict" >>"$W/checks"
	sed "s|^|  $1 $(basename "$2"): |" "$W/tags" >>"$W/checks"
	rm -f "$W/wire" "$W/wire.crlf"
}

le() { [ "$(bytes "$1")" -le "$(bytes "$2")" ]; } # le SIZE SIZE

# --- the messages, the floors, the checks ---------------------------------------

for s in 2K $sizes $conc_size; do
	[ -f "$W/msg/$s.eml" ] || "$PY" "$top/bench/gen.py" "$s" "$W/msg/$s.eml"
done
say "messages: $(cd "$W/msg" && wc -c ./*.eml | sed '$d' | awk '{printf "%s %s B, ", $2, $1}')"

say "openssl speed: one RSA-2048 and one Ed25519 signature (4 s)"
speed() { # speed ALG FIELD-PREFIX: signatures per second
	openssl speed -mr -seconds 1 "$1" 2>/dev/null | awk -F: -v f="$2" '$1 == f { print $(NF - 1) }'
}
rsa_per_s=$(speed rsa2048 +F2)
ed_per_s=$(speed ed25519 +F6)
if [ -z "$rsa_per_s" ] || [ -z "$ed_per_s" ]; then
	die "cannot read openssl speed's output"
fi

: >"$W/checks"
say "checking that every signer's output verifies (2K)"
check qdkim-rsa "$W/msg/2K.eml" 1
H=$(sed -n '1s/.* h=//p' "$W/tags")
[ -n "$H" ] || die "no h= in qmail-dkim's signature"
check qdkim-ed25519 "$W/msg/2K.eml" 1
check qdkim-both "$W/msg/2K.eml" 2
check dkimpy "$W/msg/2K.eml" 1
check maildkim "$W/msg/2K.eml" 1
# No bin/qmail-dkim in the daemons' homes yet: what signs here is qmail-dkimd
say "checking qmail-dkimc+qmail-dkimd, with no qmail-dkim to fall back to"
check dkimd-rsa "$W/msg/2K.eml" 1
check dkimd-ed25519 "$W/msg/2K.eml" 1
check dkimd-both "$W/msg/2K.eml" 2
for s in $sizes; do
	if [ "$s" != 2K ] && le "$s" 1M; then
		check dkimd-both "$W/msg/$s.eml" 2
	fi
done
echo "  (dkimd-*: checked with no bin/qmail-dkim in their homes: qmail-dkimd signed)" >>"$W/checks"
for d in dkimd-rsa dkimd-ed25519 dkimd-both; do
	cp "$QDKIM" "$W/$d/bin/qmail-dkim"
done
for s in $sizes; do
	if [ "$s" != 2K ] && le "$s" 10M; then
		say "checking qmail-dkim's two signatures on $s"
		check qdkim-both "$W/msg/$s.eml" 2
	elif [ "$s" != 2K ]; then
		say "checking that qmail-dkim signs $s and passes it on whole"
		check qdkim-both "$W/msg/$s.eml" 2 quick
	fi
	if ! le "$s" 1M; then
		say "checking that qmail-dkimc hands $s to qmail-dkim, which signs it"
		check dkimd-both "$W/msg/$s.eml" 2 quick
	fi
done
# every worker has decoded its keys before the timing, as in service
for d in dkimd-rsa dkimd-ed25519 dkimd-both; do
	for _ in 1 2 3 4; do
		run "$d" "$W/msg/2K.eml" >/dev/null
	done
done

# --- the rounds ---------------------------------------------------------------

load0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
: >"$W/raw"
for s in $sizes; do
	n=$runs
	le "$s" 1M && n=$runs_small
	le 100M "$s" && n=$runs_big
	list=$cands
	le "$s" "$slow_max" || list=$(echo "$cands" | sed 's/ dkimpy maildkim//')
	r=0
	while [ "$r" -lt "$n" ]; do
		r=$((r + 1))
		say "$s: round $r of $n"
		for c in $list; do
			res=$(run "$c" "$W/msg/$s.eml")
			# shellcheck disable=SC2086 # six numbers
			set -- $res
			case $c in
			sha256 | body | start) extra=0 ;;
			*) [ "$5" = 1 ] || die "$c on $s: no K record; exit status or report wrong"
				extra=0 ;;
			esac
			[ "$c" = body ] && extra=$(sed -n 's/^body_ms=\([0-9.]*\).*/\1/p' "$W/body.out")
			case $c in
			dkimd-*) # the daemon's CPU (in $2 already)
				extra=$6
				if le "$s" 1M && [ "$(echo "$6" | tr -d 0.)" = "" ]; then
					die "$c on $s: qmail-dkimd used no CPU: it fell back to qmail-dkim"
				fi
				;;
			esac
			echo "$s $(bytes "$s") $c $r $1 $2 $3 $4 $5 $extra" >>"$W/raw"
		done
		list="${list#* } ${list%% *}" # no candidate always runs first
	done
done

load1=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
if [ "$conc" -gt 0 ]; then
	r=0
	while [ "$r" -lt "$conc_runs" ]; do
		r=$((r + 1))
		for c in baseline qdkim-rsa dkimd-rsa; do
			say "$conc deliveries of $conc_size at once: $c, round $r of $conc_runs"
			res=$(run "$c" "$W/msg/$conc_size.eml" -n "$conc")
			# shellcheck disable=SC2086 # six numbers
			set -- $res
			[ "$5" = "$conc" ] || die "$c x$conc: only $5 of $conc delivered"
			echo "conc$conc $(bytes "$conc_size") $c $r $1 $2 $3 $4 $5 $6" >>"$W/raw"
		done
	done
fi

# --- the daemons' memory, then stop them ----------------------------------------

# NAME PID parent|worker VmHWM_kB VmRSS_kB Pss_kB: resident once for all
# deliveries (Pss: the pages a worker shares with the parent count once)
: >"$W/resident"
for d in dkimd-rsa dkimd-ed25519 dkimd-both; do
	p=$(cat "$W/$d/pid")
	for q in $p $(cat "/proc/$p/task/$p/children"); do
		k=worker
		[ "$q" = "$p" ] && k=parent
		echo "$d $q $k $(awk '/^VmHWM:/ { h = $2 } /^VmRSS:/ { r = $2 }
			END { print h, r }' "/proc/$q/status")" \
			"$(awk '/^Pss:/ { print $2 }' "/proc/$q/smaps_rollup")" >>"$W/resident"
	done
done
stop_daemons

# --- the table and the plot -----------------------------------------------------

cp "$W/raw" "$out/raw.txt"
cp "$W/resident" "$out/resident.txt"
{
	echo "qmail-dkim benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
		"$(uname -sr), $(openssl version | cut -d' ' -f1-2)," \
		"libopendkim $(dpkg-query -W -f='${Version}' libopendkim11 2>/dev/null || echo '?')"
	echo "Load average (1, 5, 15 min) before the rounds: $load0; after them" \
		"(before the concurrent deliveries): $load1."
	"$PY" "$top/bench/report.py" "$W/raw" "$rsa_per_s" "$ed_per_s" "$out/plot.dat" \
		"$runs" "$runs_big" "$W/resident"
	echo
	echo "Checked before timing (dkimpy verifies; message unchanged behind the fields):"
	cat "$W/checks"
} >"$out/table.txt"
ncol=$(($(echo "$cands" | wc -w) + 1))
gnuplot -e "dat='$out/plot.dat'; png='$out/bench.png'; ncol=$ncol" "$top/bench/plot.gp" ||
	say "gnuplot failed; the table is still in $out/table.txt"
cat "$out/table.txt"
say "saved $out/table.txt, $out/raw.txt, $out/resident.txt, $out/bench.png"
