#!/bin/sh
# bench/newsletter.sh -- one queue file delivered to many recipients, as
# qmail-send delivers a newsletter: one qmail-remote a recipient, each with
# the same queue file on fd 0.
#
# For each size and each number of recipients, three candidates deliver
# the message that many times, side by side in one run: the stand-in real
# qmail-remote alone (the baseline), qmail-dkim, and qmail-dkimc with a
# qmail-dkimd (-n 2) that keeps the signatures it made for a queue file
# (sigcache.c).  Each delivery is started the way qmail-rspawn starts
# qmail-remote (bench/launch.c), CONC at a time (qmail's default
# control/concurrencyremote is 20); the daemon's CPU is added (launch -p).
# Each candidate and count gets a queue file of its own, made before the
# rounds and left alone for three seconds (a file changed in the two
# seconds before its signing is not kept), so the first delivery of each
# signs and the rest may not.  Candidates run in a rotating order, RUNS
# rounds, each with new queue files (new inodes); medians of the totals.
#
# The goal: for 100 recipients or more, the signer's total CPU (the
# candidate's total less the baseline's) within 1.2 times one signing
# plus the client's fixed cost for each further delivery.  "One signing"
# is the signer's CPU for one recipient; the fixed cost, at each size, is
# the signer's CPU a delivery when the daemon answers from what it kept
# (qmail-dkimc's start, the exchange, and handing the signature fields
# and the message on through a pipe), measured on a file of its own, 100
# deliveries after a first one.  Over control/dkimdmaxsize (default
# 1 MiB) qmail-dkimc hands the message to qmail-dkim, so at 10 MB a
# fourth candidate runs with control/dkimdmaxsize raised to 64 MiB.
#
#   NEWS_SIZES="2K 100K 10M"   message sizes (bench/gen.py)
#   NEWS_RCPTS="1 10 100 1000" recipients; NEWS_RCPTS_BIG for 10 MB and
#                              more, default "1 10 100": 1,000 deliveries
#                              of 10 MB through qmail-dkim alone are about
#                              a minute of CPU a round on 2 cores
#   NEWS_RUNS=3                rounds
#   NEWS_CONC=20               deliveries at once
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
QDKIM=${QDKIM:-$top/qmail-dkim/qmail-dkim}
QDKIMD=${QDKIMD:-$top/qmail-dkim/qmail-dkimd}
QDKIMC=${QDKIMC:-$top/qmail-dkim/qmail-dkimc}
sizes=${NEWS_SIZES:-2K 100K 10M}
rcpts=${NEWS_RCPTS:-1 10 100 1000}
rcpts_big=${NEWS_RCPTS_BIG:-1 10 100}
runs=${NEWS_RUNS:-3}
conc=${NEWS_CONC:-20}

W=$(mktemp -d "${TMPDIR:-/tmp}/newsletter-bench.XXXXXX")
dpid=''
trap '[ -z "$dpid" ] || kill "$dpid" 2>/dev/null; rm -rf "$W"' EXIT
trap 'exit 130' HUP INT TERM
mkdir -p "$W/bin" "$W/h/bin" "$W/h/queue/mess" "$W/h/control/domainkeys/example.com" "$W/q"
cc -O2 -o "$W/bin/launch" "$top/bench/launch.c"
cc -O2 -o "$W/bin/remote" "$top/bench/remote.c"
cp "$W/bin/remote" "$W/h/bin/qmail-remote.orig"
ln -s "$QDKIM" "$W/h/bin/qmail-dkim"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$W/h/control/domainkeys/example.com/default" 2>/dev/null
echo "$W/sock" >"$W/h/control/dkimsocket"
# the same daemon, for a qmail-dkimc that sends it messages up to 64 MiB:
# a home of its own, since the daemon keeps nothing made in the two
# seconds after a control/dkim* file of its home changed
mkdir -p "$W/big/bin" "$W/big/control"
cp "$W/bin/remote" "$W/big/bin/qmail-remote.orig"
ln -s "$QDKIM" "$W/big/bin/qmail-dkim"
echo "$W/sock" >"$W/big/control/dkimsocket"
echo 67108864 >"$W/big/control/dkimdmaxsize"
QMAILDKIM_HOME=$W/h "$QDKIMD" -n 2 -r 1000000000 "$W/sock" \
	</dev/null >"$W/daemon.log" 2>&1 &
dpid=$!
i=0
until [ -S "$W/sock" ] && [ "$(wc -w <"/proc/$dpid/task/$dpid/children")" -eq 2 ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || { echo "newsletter.sh: qmail-dkimd did not start" >&2 && exit 1; }
	sleep 0.05
done

# deliver CAND MSG N [SENDER]: N deliveries, CONC at a time; prints the
# summed "wall_ms cpu_ms daemon_cpu_ms ok"
deliver() {
	_c=$1 _m=$2 _left=$3 _s=${4:-sender@example.com}
	: >"$W/lines"
	while [ "$_left" -gt 0 ]; do
		_n=$conc
		[ "$_left" -ge "$_n" ] || _n=$_left
		case $_c in
		baseline)
			"$W/bin/launch" -n "$_n" -d "$W/h/queue/mess" "$_m" "$W/bin/remote" \
				example.net "$_s" rcpt@example.net
			;;
		qmail-dkim)
			"$W/bin/launch" -n "$_n" -e "QMAILDKIM_HOME=$W/h" -d "$W/h/queue/mess" \
				"$_m" "$QDKIM" example.net "$_s" rcpt@example.net
			;;
		dkimc)
			"$W/bin/launch" -n "$_n" -p "$dpid" -e "QMAILDKIM_HOME=$W/h" \
				-d "$W/h/queue/mess" "$_m" "$QDKIMC" example.net "$_s" rcpt@example.net
			;;
		dkimc-big)
			"$W/bin/launch" -n "$_n" -p "$dpid" -e "QMAILDKIM_HOME=$W/big" \
				-d "$W/h/queue/mess" "$_m" "$QDKIMC" example.net "$_s" rcpt@example.net
			;;
		esac >>"$W/lines"
		_left=$((_left - _n))
	done
	awk '{ w += $1; c += $2; d += $6; ok += $5 } END { printf "%.3f %.3f %.3f %d\n", w, c, d, ok }' "$W/lines"
}

echo "# newsletter: one queue file, one delivery a recipient; $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# RSA-2048, $conc deliveries at once, medians of $runs rounds; times in ms, totals over all the recipients"

printf '%-6s %5s  %-22s %10s %10s %10s %9s %8s %8s\n' size rcpts candidate "wall" "CPU" "signer CPU" "daemon" "x base" "x goal"

for size in $sizes; do
	"$PY" "$top/bench/gen.py" "$size" "$W/m.eml"
	cands="baseline qmail-dkim dkimc"
	list=$rcpts
	case $size in *[Mm] | *[Gg])
		cands="$cands dkimc-big"
		list=$rcpts_big
		;;
	esac
	# a queue file of its own for each round, count and candidate, and
	# one for the fixed cost
	fixc=dkimc
	case $cands in *dkimc-big*) fixc=dkimc-big ;; esac
	cp "$W/m.eml" "$W/q/fixed"
	r=0
	while [ "$r" -lt "$runs" ]; do
		for n in $list; do
			for c in $cands; do
				cp "$W/m.eml" "$W/q/$r-$n-$c"
			done
		done
		r=$((r + 1))
	done
	sleep 3
	deliver "$fixc" "$W/q/fixed" 1 >/dev/null
	base=$(deliver baseline "$W/q/fixed" 100 | cut -d' ' -f2)
	client=$(deliver "$fixc" "$W/q/fixed" 100 | cut -d' ' -f2)
	fixed=$(echo "$base $client" | awk '{ printf "%.3f", ($2 - $1) / 100 }')
	for n in $list; do
		r=0
		while [ "$r" -lt "$runs" ]; do
			# rotate the order each round
			# shellcheck disable=SC2086 # the candidates' names are words
			set -- $cands
			k=0
			while [ "$k" -lt "$r" ]; do
				_f=$1
				shift
				set -- "$@" "$_f"
				k=$((k + 1))
			done
			for c; do
				echo "$c $(deliver "$c" "$W/q/$r-$n-$c" "$n")" >>"$W/res-$size-$n"
				rm -f "$W/q/$r-$n-$c"
			done
			r=$((r + 1))
		done
	done
	"$PY" - "$size" "$list" "$fixed" "$W" "$cands" <<-'EOF'
		import statistics, sys
		size, counts, fixed, w, cands = sys.argv[1], sys.argv[2].split(), float(sys.argv[3]), sys.argv[4], sys.argv[5].split()
		label = {"baseline": "baseline (no signing)", "qmail-dkim": "qmail-dkim",
		         "dkimc": "qmail-dkimc+qmail-dkimd", "dkimc-big": "  dkimdmaxsize 64 MiB"}
		med = {}
		for n in counts:
		    rows = {}
		    for line in open("%s/res-%s-%s" % (w, size, n)):
		        c, wall, cpu, d, ok = line.split()
		        if int(ok) != int(n):
		            sys.exit("newsletter.sh: %s, %s recipients: %s of the deliveries ended in K" % (c, n, ok))
		        rows.setdefault(c, []).append((float(wall), float(cpu), float(d)))
		    for c in cands:
		        med[(c, n)] = tuple(statistics.median(x[i] for x in rows[c]) for i in range(3))
		for n in counts:
		    base = med[("baseline", n)]
		    for c in cands:
		        wall, cpu, d = med[(c, n)]
		        signer = cpu - base[1]
		        once = med[(c, counts[0])][1] - med[("baseline", counts[0])][1]
		        goal = once + (int(n) - 1) * fixed
		        xg = "-" if c == "baseline" else "%.2f" % (signer / goal)
		        print("%-6s %5s  %-22s %10.1f %10.1f %10s %9s %8.2f %8s" % (
		            size if c == cands[0] else "", n if c == cands[0] else "", label[c], wall, cpu,
		            "-" if c == "baseline" else "%.1f" % signer,
		            "%.1f" % d if c.startswith("dkimc") else "-", cpu / base[1], xg))
		    print()
		print("# %s: the fixed cost, a delivery answered from the kept signatures: %.2f ms CPU\n" % (size, fixed))
	EOF
done
echo "# x base: CPU over the baseline's; x goal: the signer's CPU over one signing (the"
echo "# signer's CPU for the first count) plus the fixed cost for each further recipient"
