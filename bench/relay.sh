#!/bin/sh
# bench/relay.sh -- what control/dkimreport 1 costs a delivery: the real
# qmail-remote run as a child and its report relayed, beside exec'ing it.
#
# Each candidate is started the way qmail-rspawn starts qmail-remote
# (bench/launch.c), the real qmail-remote the benchmark's stand-in
# (bench/remote.c), an RSA-2048 key; off and on differ only in
# control/dkimreport.  Candidates run round-robin, off and on side by
# side, RUNS rounds (default 31); the medians of wall and CPU time and
# their ratio on/off are printed.  Then the memory the relaying process
# holds while the real one works: /proc/PID/smaps_rollup of the parent,
# read by a stand-in qmail-remote.
#   RELAY_RUNS=N   rounds
#   RELAY_SIZES="2K 10M"  message sizes (bench/gen.py)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
QDKIM=${QDKIM:-$top/qmail-dkim/qmail-dkim}
QDKIMD=${QDKIMD:-$top/qmail-dkim/qmail-dkimd}
QDKIMC=${QDKIMC:-$top/qmail-dkim/qmail-dkimc}
runs=${RELAY_RUNS:-31}
sizes=${RELAY_SIZES:-2K 10M}
rcpt="example.net sender@example.com rcpt@example.net"

W=$(mktemp -d "${TMPDIR:-/tmp}/relay-bench.XXXXXX")
dpid=''
trap '[ -z "$dpid" ] || kill "$dpid" 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$W/bin" "$W/h/bin" "$W/h/queue/mess" "$W/h/control/domainkeys/example.com"
cc -O2 -o "$W/bin/launch" "$top/bench/launch.c"
cc -O2 -o "$W/bin/remote" "$top/bench/remote.c"
cp "$W/bin/remote" "$W/h/bin/qmail-remote.orig"
ln -s "$QDKIM" "$W/h/bin/qmail-dkim"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$W/h/control/domainkeys/example.com/default" 2>/dev/null
echo "$W/sock" >"$W/h/control/dkimsocket"
QMAILDKIM_HOME=$W/h "$QDKIMD" -n 2 -r 1000000000 "$W/sock" \
	</dev/null >/dev/null 2>&1 &
dpid=$!
i=0
until [ -S "$W/sock" ]; do
	i=$((i + 1))
	[ "$i" -le 100 ] || { echo "relay.sh: qmail-dkimd did not start" >&2 && exit 1; }
	sleep 0.05
done
sleep 0.5

# one PROG MSG SWITCH: "wall cpu" of one delivery
one() {
	echo "$3" >"$W/h/control/dkimreport"
	# shellcheck disable=SC2086 # three words
	"$W/bin/launch" -e "QMAILDKIM_HOME=$W/h" -d "$W/h/queue/mess" \
		-o "$W/report" "$2" "$1" $rcpt | awk '{ print $1, $2 }'
	grep -q K "$W/report" || { echo "relay.sh: no K record" >&2 && exit 1; }
}

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# size prog        wall off  wall on  ratio   cpu off   cpu on  ratio  (ms, medians of $runs)"
for size in $sizes; do
	"$PY" "$top/bench/gen.py" "$size" "$W/m"
	for prog in qmail-dkim qmail-dkimc; do
		p=$QDKIM
		[ "$prog" = qmail-dkim ] || p=$QDKIMC
		one "$p" "$W/m" 0 >/dev/null # warm the caches
		: >"$W/off"
		: >"$W/on"
		r=0
		while [ "$r" -lt "$runs" ]; do
			# alternate which goes first
			if [ $((r % 2)) -eq 0 ]; then
				one "$p" "$W/m" 0 >>"$W/off"
				one "$p" "$W/m" 1 >>"$W/on"
			else
				one "$p" "$W/m" 1 >>"$W/on"
				one "$p" "$W/m" 0 >>"$W/off"
			fi
			r=$((r + 1))
		done
		"$PY" - "$size" "$prog" "$W/off" "$W/on" <<-'EOF'
			import statistics, sys
			def med(path, col):
			    return statistics.median(float(l.split()[col]) for l in open(path))
			size, prog, off, on = sys.argv[1:]
			w0, w1, c0, c1 = med(off, 0), med(on, 0), med(off, 1), med(on, 1)
			print("%-6s %-11s %8.2f %8.2f %6.3f %8.2f %8.2f %6.3f"
			      % (size, prog, w0, w1, w1 / w0, c0, c1, c1 / c0))
		EOF
	done
done

# The relaying parent's memory while the real qmail-remote runs.
cat >"$W/h/bin/qmail-remote.orig" <<EOF
#!/bin/sh
grep -E '^(Rss|Pss|Private_Clean|Private_Dirty):' /proc/\$PPID/smaps_rollup |
	tr -s ' ' | tr '\n' ' ' >"$W/mem"
cat >/dev/null
printf 'r\\0Kok\\n\\0'
EOF
chmod 755 "$W/h/bin/qmail-remote.orig"
"$PY" "$top/bench/gen.py" 2K "$W/m"
for prog in qmail-dkim qmail-dkimc; do
	p=$QDKIM
	[ "$prog" = qmail-dkim ] || p=$QDKIMC
	one "$p" "$W/m" 1 >/dev/null
	echo "# relaying $prog, 2K: $(cat "$W/mem")"
done
