#!/bin/sh
# bench/dkimd-profile.sh -- where a 2 KB delivery through qmail-dkimd goes
# (bench/PROFILE.md, "qmail-dkimd: where the 2 KB delivery's time goes now").
#
#   1. 41 interleaved rounds, started as qmail-rspawn starts qmail-remote
#      (bench/launch.c): the stand-in qmail-remote alone; execonly, a
#      static program that only execs the stand-in (one more exec, nothing
#      else); qmail-dkimc + a warm qmail-dkimd (-n 2), with the daemon's
#      CPU (launch -p); qmail-dkim alone.  RSA-2048.
#   2. the daemon's round trip alone, from a client linked with wire.c
#      (bench/rtt.c): connect, pass the fd, get the signature.  401 requests.
#   3. callgrind on a one-worker qmail-dkimd (--trace-children=yes), once
#      with A requests and once with B: the difference over B - A is what
#      one warm request costs, in instructions, with the calls inside.
# Writes bench/out/dkimd-profile.txt (about 1 minute).  Needs `make all`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
out=${BENCH_OUT:-$top/bench/out}
rounds=${ROUNDS:-41}
A=${CG_A:-3}
B=${CG_B:-23}
rcpt="gmail.example alice@example.com bob@gmail.example"
Q=$top/qmail-dkim
for b in qmail-dkim qmail-dkimd qmail-dkimc why.o wire.o; do
	[ -e "$Q/$b" ] || { echo "no $Q/$b: run make all" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/qdkimd-prof.XXXXXX")
dpid=
stop() {
	[ -z "$dpid" ] || kill -TERM "$dpid" 2>/dev/null || true
	[ -z "$dpid" ] || wait "$dpid" 2>/dev/null || true
	dpid=
}
trap 'stop; rm -rf "$W"' EXIT
trap 'exit 130' HUP INT TERM
mkdir -p "$out" "$W/bin"

cc -O2 -Wall -Wextra -o "$W/bin/launch" "$top/bench/launch.c"
cc -O2 -Wall -Wextra -o "$W/bin/remote" "$top/bench/remote.c"
cc -O2 -Wall -Wextra -static-pie -fPIE -o "$W/bin/execonly" "$top/bench/execonly.c"
# shellcheck disable=SC2046 # the objects qmail-dkimc is linked from
cc -O2 -std=gnu11 -D_GNU_SOURCE -fPIE -pie -I"$Q" -o "$W/bin/rtt" "$top/bench/rtt.c" \
	$(for o in why io report log control normalize message spool handoff wire; do
		echo "$Q/$o.o"; done)
L=$W/bin/launch

h=$W/home
mkdir -p "$h/bin" "$h/queue/mess" "$h/control/domainkeys/example.com"
cp "$W/bin/remote" "$h/bin/qmail-remote.orig"
cp "$Q/qmail-dkim" "$h/bin/qmail-dkim"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$h/control/domainkeys/example.com/rsa2048" 2>/dev/null
echo rsa2048 >"$h/control/domainkeys/example.com/selector"
echo "$h/sock" >"$h/control/dkimsocket"
"$PY" "$top/bench/gen.py" 2K "$W/2K.eml"
m=$W/2K.eml

# daemon [VALGRIND...] -- ARGS: start qmail-dkimd, wait for its socket
daemon() {
	rm -f "$h/sock"
	QMAILDKIM_HOME=$h "$@" "$h/sock" </dev/null >"$W/daemon.log" 2>&1 &
	dpid=$!
	_i=0
	until [ -S "$h/sock" ]; do
		_i=$((_i + 1))
		[ "$_i" -le 600 ] || { cat "$W/daemon.log" >&2; exit 1; }
		sleep 0.05
	done
}

{
	echo "qmail-dkimd profile, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo

	# --- 1. whole deliveries, interleaved ---
	daemon "$Q/qmail-dkimd" -n 2 -r 1000000000
	sleep 0.2
	# shellcheck disable=SC2086 # $rcpt is three words
	for _ in 1 2 3 4; do # both workers warm
		"$L" -p "$dpid" -e "QMAILDKIM_HOME=$h" -d "$h/queue/mess" "$m" "$Q/qmail-dkimc" $rcpt >/dev/null
	done
	: >"$W/raw"
	r=0
	# shellcheck disable=SC2086 # $rcpt is three words
	while [ "$r" -lt "$rounds" ]; do
		r=$((r + 1))
		for c in baseline execonly dkimc+dkimd qmail-dkim; do
			case $c in
			baseline) res=$("$L" "$m" "$W/bin/remote" $rcpt) ;;
			execonly) res=$("$L" "$m" "$W/bin/execonly" "$W/bin/remote" $rcpt) ;;
			dkimc+dkimd) res=$("$L" -p "$dpid" -e "QMAILDKIM_HOME=$h" \
				-d "$h/queue/mess" "$m" "$Q/qmail-dkimc" $rcpt) ;;
			qmail-dkim) res=$("$L" -e "QMAILDKIM_HOME=$h" -d "$h/queue/mess" \
				"$m" "$Q/qmail-dkim" $rcpt) ;;
			esac
			set -- $res
			[ "$5" = 1 ] || { echo "$c: not delivered" >&2; exit 1; }
			echo "$c $1 $2 $6" >>"$W/raw"
		done
	done
	echo "1. 2 KB RSA-2048 deliveries, medians of $rounds interleaved rounds (bench/launch.c):"
	"$PY" - "$W/raw" <<'PYEOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    c, *v = line.split()
    rows.setdefault(c, []).append([float(x) for x in v])
med = {c: [statistics.median(r[i] for r in rs) for i in range(3)] for c, rs in rows.items()}
b = med["baseline"][0]
print("  %-14s %9s %9s %9s %16s" % ("", "wall ms", "+ms", "CPU ms", "of which daemon"))
for c, (w, cpu, d) in med.items():
    print("  %-14s %9.2f %+9.2f %9.2f %16s" % (c, w, w - b, cpu, "%.2f" % d if d else "-"))
PYEOF
	echo

	# --- 2. the round trip alone ---
	echo "2. the daemon's round trip, from a client linked with wire.c (bench/rtt.c):"
	"$W/bin/rtt" "$h/sock" "$m" 401 alice@example.com | sed 's/^/  /'
	stop
	echo

	# --- 3. instructions per warm request ---
	echo "3. instructions per warm request (callgrind, one worker, ($B - $A) requests):"
	for n in $A $B; do
		mkdir -p "$W/cg$n"
		daemon valgrind --tool=callgrind --trace-children=yes \
			--callgrind-out-file="$W/cg$n/cg.%p" "$Q/qmail-dkimd" -n 1 -r "$n"
		"$W/bin/rtt" "$h/sock" "$m" "$n" alice@example.com >/dev/null
		sleep 1 # the worker ends after its n-th request, callgrind writes
		stop
	done
	"$PY" - "$W" "$A" "$B" <<'PYEOF'
import glob, os, re, subprocess, sys
w, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
FUNCS = ["engine_sign", "dkim_eom", "RSA_sign", "BN_mod_exp_mont_consttime",
         "BN_BLINDING_convert_ex", "BN_BLINDING_invert_ex", "dkim_privkey_load",
         "PEM_read_bio_PrivateKey", "__wrap_PEM_read_bio_PrivateKey",
         "dkim_sign", "dkim_body", "dkim_header", "dkim_eoh", "dkim_options",
         "engine_done", "wire_request", "wire_reply", "msg_open"]
def worker(n):
    # the worker is the file with the most instructions
    best = None
    for f in glob.glob(os.path.join(w, "cg%d" % n, "cg.*")):
        tot = 0
        for line in open(f, errors="replace"):
            if line.startswith(("totals:", "summary:")):
                tot = int(line.split()[1])
        if best is None or tot > best[0]:
            best = (tot, f)
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                          best[1]], capture_output=True, text=True).stdout
    incl = {}
    for line in out.splitlines():
        mm = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(\S+)", line)
        if not mm:
            continue
        name = mm.group(2).rsplit(":", 1)[-1]
        if name in FUNCS and name not in incl:
            incl[name] = int(mm.group(1).replace(",", ""))
    return best[0], incl
ta, ia = worker(a)
tb, ib = worker(b)
print("  worker total, %d requests: %.2f M; %d requests: %.2f M" % (a, ta / 1e6, b, tb / 1e6))
print("  per warm request: %.2f M instructions" % ((tb - ta) / (b - a) / 1e6))
print("  inclusive, per warm request (difference of the two runs):")
for f in FUNCS:
    if f in ib:
        print("    %-32s %7.2f M" % (f, (ib[f] - ia.get(f, 0)) / (b - a) / 1e6))
PYEOF
} >"$out/dkimd-profile.txt"
cat "$out/dkimd-profile.txt"
