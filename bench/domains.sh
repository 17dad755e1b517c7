#!/bin/sh
# bench/domains.sh -- what qmail-dkim-check -a costs on a host with many
# domains, beside checking them one at a time (qmail-dkim-check -T DOMAIN
# for each, what an admin ran before -a), and with 1, 4 and 8 workers.
#
# A qmail home with N domains (DOMAINS_N, default 300), each with a live
# key (RSA-2048 and Ed25519 in turn, two key files copied) whose record
# dnsmasq serves on loopback, and a control/dkimrights that grants each.
# Candidates run round-robin, DOMAINS_RUNS rounds (default 5); the
# one-at-a-time loop runs on DOMAINS_SAMPLE domains (default 20) and is
# scaled to N. Printed: the median wall time of a run, per domain, the
# CPU time of all its processes (the children's user+sys, from times),
# and each candidate's ratio to -a with its default 4 workers.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
n=${DOMAINS_N:-300}
runs=${DOMAINS_RUNS:-5}
sample=${DOMAINS_SAMPLE:-20}
check=$top/scripts/qmail-dkim-check
command -v dnsmasq >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
for c in dnsmasq dig openssl; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench/domains.sh: $c not installed" >&2 && exit 1; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/domains-bench.XXXXXX")
dns_pid=''
trap '[ -z "$dns_pid" ] || kill "$dns_pid" 2>/dev/null; rm -rf "$W"' EXIT
K=$W/q/control/domainkeys
mkdir -p "$K"
chmod 0755 "$W"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/rsa" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$W/ed" 2>/dev/null
# value KEY TYPE: its DNS value (RFC 6376 3.6.1; RFC 8463: the raw key,
# the last 32 bytes of the DER)
value() {
	if [ "$2" = rsa ]; then
		p=$(openssl pkey -in "$1" -pubout -outform DER | openssl base64 -A)
	else
		p=$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | openssl base64 -A)
	fi
	printf 'v=DKIM1; k=%s; p=%s' "$2" "$p"
}
rsa=$(value "$W/rsa" rsa)
ed=$(value "$W/ed" ed25519)
echo "local=/test/" >"$W/dns.conf"
: >"$W/q/control/dkimrights"
i=0
while [ "$i" -lt "$n" ]; do
	i=$((i + 1))
	d=$(printf 'b%04d.test' "$i")
	mkdir "$K/$d"
	chmod 0750 "$K/$d"
	if [ $((i % 2)) -eq 0 ]; then
		cp "$W/rsa" "$K/$d/s1"
		echo "txt-record=s1._domainkey.$d,$rsa" >>"$W/dns.conf"
	else
		cp "$W/ed" "$K/$d/s1"
		echo "txt-record=s1._domainkey.$d,$ed" >>"$W/dns.conf"
	fi
	chmod 0400 "$K/$d/s1"
	echo s1 >"$K/$d/selector"
	echo "$(id -u): $d" >>"$W/q/control/dkimrights"
done
port=$((20000 + $$ % 30000))
until dnsmasq -C "$W/dns.conf" --port="$port" --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --no-poll --pid-file="$W/dns.pid" 2>/dev/null; do
	port=$((port + 1))
done
sleep 0.2
dns_pid=$(cat "$W/dns.pid")
u=$(id -un)
g=$(id -gn)

# run NAME CMD...: one timed run, its wall and CPU ms appended to $W/NAME
run() {
	name=$1
	shift
	t0=$(date +%s%N)
	"$@" >"$W/out" 2>&1 || :
	t1=$(date +%s%N)
	# the CPU of the children so far, from the shell's times
	# (times in the shell itself: in $( ) it would be a subshell's)
	times >"$W/times"
	cpu=$(sed -n 2p "$W/times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { v = $i; m = v; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", v); sub(/s$/, "", v); s += m * 60 + v } printf "%d", s * 1000 }')
	echo "$(((t1 - t0) / 1000000)) $((cpu - ${last_cpu:-0}))" >>"$W/$name"
	last_cpu=$cpu
}
one_at_a_time() {
	j=0
	while [ "$j" -lt "$sample" ]; do
		j=$((j + 1))
		"$check" -T -d "$W/q" -s "127.0.0.1:$port" -u "$u" -g "$g" "$(printf 'b%04d.test' "$j")" || :
	done
}
run warm "$check" -a -q -d "$W/q" -s "127.0.0.1:$port" -u "$u" -g "$g"
grep -q . "$W/out" && { echo "bench/domains.sh: -a found something wrong:" >&2 && cat "$W/out" >&2 && exit 1; }
r=0
while [ "$r" -lt "$runs" ]; do
	r=$((r + 1))
	run j4 "$check" -a -q -d "$W/q" -s "127.0.0.1:$port" -u "$u" -g "$g"
	run j1 "$check" -a -q -j 1 -d "$W/q" -s "127.0.0.1:$port" -u "$u" -g "$g"
	run j8 "$check" -a -q -j 8 -d "$W/q" -s "127.0.0.1:$port" -u "$u" -g "$g"
	run single one_at_a_time
done

# median FILE COLUMN [SCALE]
median() { awk -v c="$2" -v f="${3:-1}" '{ print $c * f }' "$1" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
base=$(median "$W/j4" 1)
printf 'qmail-dkim-check -a, %d domains, %s CPUs, load average %s; medians of %d rounds\n' \
	"$n" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$runs"
printf '%-44s %10s %10s %10s %8s\n' candidate "wall ms" "ms/domain" "CPU ms" "x -a"
for c in j4 j1 j8 single; do
	case $c in
	j4) what="-a (4 workers, the default)" scale=1 ;;
	j1) what="-a -j 1" scale=1 ;;
	j8) what="-a -j 8" scale=1 ;;
	single) what="one at a time ($sample domains, scaled to $n)" scale=$((n * 1000 / sample)) ;;
	esac
	w=$(median "$W/$c" 1 "$scale")
	cpu=$(median "$W/$c" 2 "$scale")
	[ "$c" != single ] || { w=$((w / 1000)) && cpu=$((cpu / 1000)); }
	printf '%-44s %10d %10.1f %10d %8.2f\n' "$what" "$w" "$(echo "$w $n" | awk '{ print $1 / $2 }')" "$cpu" \
		"$(echo "$w $base" | awk '{ print $1 / $2 }')"
done
