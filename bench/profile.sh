#!/bin/sh
# bench/profile.sh -- where a 2 KB message's time goes: the numbers
# behind bench/PROFILE.md.  Not part of make bench; run it by hand:
#
#	sh bench/profile.sh [OUTFILE]	(default bench/out/profile.txt)
#
# 1. start-up: what starting a program costs, measured as bench.sh
#    measures (bench/launch.c: fork to reaped, CPU of the process), for a
#    tiny C program and for bench/phases.c linked as qmail-dkim is
#    (libopendkim and libcrypto shared), with those two linked in
#    statically, and all static (static-pie; only when libbsd-dev,
#    libdb5.3-dev and libmd-dev are installed), stopping at main;
# 2. steps: bench/phases.c's CPU time per step, for qmail-dkim's way and
#    for the cheaper ways PROFILE.md suggests, medians, interleaved;
# 3. instructions: the same under valgrind --tool=callgrind (exact and
#    independent of the machine's load), and qmail-dkim itself up to its
#    execve of qmail-remote.
# PROFILE_RUNS (default 41) sets the number of runs of 1 and 2.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
N=${PROFILE_RUNS:-41}
outfile=${1:-$top/bench/out/profile.txt}
QDKIM=$top/qmail-dkim/qmail-dkim
W=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-profile.XXXXXX")
trap 'rm -rf "$W"' EXIT
trap 'exit 130' HUP INT TERM
mkdir -p "$(dirname "$outfile")" "$W/h/bin" "$W/h/queue/mess" \
	"$W/h/control/domainkeys/example.com"

lib=/usr/lib/$(cc -print-multiarch)
harden="-fPIE -pie -Wl,-z,relro,-z,now" # as the Makefile links qmail-dkim
# shellcheck disable=SC2086 # $harden is words
{
	cc -O2 -o "$W/launch" "$top/bench/launch.c"
	cc -O2 -o "$W/remote" "$top/bench/remote.c"
	cc -O2 -g $harden -o "$W/phases" "$top/bench/phases.c" -lopendkim -lcrypto
	cc -O2 -g $harden -o "$W/phases-static" "$top/bench/phases.c" \
		-Wl,-Bstatic -lopendkim -lcrypto -Wl,-Bdynamic \
		"$lib/libbsd.so.0" "$lib/libdb-5.3.so" 2>&1 |
		grep -v 'statically linked applications requires' || true
}
[ -x "$W/phases-static" ] || { echo "profile: cannot link statically" >&2; exit 1; }
# Everything static (static-pie) needs libbsd-dev, libdb5.3-dev, libmd-dev.
full=phases-static
if cc -O2 -g -fPIE -static-pie -o "$W/phases-full" "$top/bench/phases.c" \
	-lopendkim -lcrypto -ldb -lbsd -lmd -lpthread >/dev/null 2>&1; then
	full=phases-full
fi
"$PY" "$top/bench/gen.py" 2K "$W/m.eml"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/rsa" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$W/ed"
cp "$W/remote" "$W/h/bin/qmail-remote.orig"
cp "$W/rsa" "$W/h/control/domainkeys/example.com/default"

{
echo "qmail-dkim start-up profile, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
	"$(uname -sr), $(openssl version | cut -d' ' -f1-2)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "1. Starting a program (launch: fork to reaped; medians of $N, interleaved), ms"
# lrun LABEL LAUNCH-ARG...: one launch, as "LABEL wall=US cpu=US rss_kb=KB"
lrun() {
	_l=$1
	shift
	"$W/launch" "$@" | {
		read -r _w _c _r _
		echo "$_l wall=$_w cpu=$_c rss_kb=$_r"
	}
}
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	lrun tiny-C-program /dev/null "$W/remote" h s r
	lrun linked-like-qmail-dkim -e PHASES_T0=0 /dev/null "$W/phases" -x
	lrun libs-linked-statically -e PHASES_T0=0 /dev/null "$W/phases-static" -x
	[ "$full" = phases-static ] ||
		lrun all-static-pie -e PHASES_T0=0 /dev/null "$W/phases-full" -x
	lrun qmail-dkim-RSA-2KB-whole -e "QMAILDKIM_HOME=$W/h" "$W/m.eml" "$QDKIM" h s r
done | sed 's/=\([0-9]*\)\.\([0-9][0-9][0-9]\)/=\1\2/g' | "$PY" "$top/bench/median.py" |
	sed 's/wall=\([0-9]*\)/wall=\1us/; s/cpu=\([0-9]*\)/cpu=\1us/'
echo
echo "2. Steps of one signature, CPU microseconds (bench/phases.c; medians of $N)"
echo "   variants: -c how qmail-dkim checks the key, -n no OpenSSL config or"
echo "   add-all, -r HASH-DRBG; static = both libraries linked in"
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	for v in "rsa:phases:-c:pem" "rsa:phases:-n:-c:pem" "rsa:phases:-n:-c:asn1" \
		"rsa:phases:-n:-c:asn1:-r" "rsa:phases-static:-n:-c:asn1:-r" \
		"rsa:$full:-n:-c:asn1:-r" \
		"ed:phases:-c:pem" "ed:phases:-n:-c:asn1" "ed:phases-static:-n:-c:asn1"; do
		key=${v%%:*}
		rest=${v#*:}
		bin=${rest%%:*}
		args=$(echo "${rest#*:}" | tr ':' ' ')
		# shellcheck disable=SC2086 # $args is words
		printf '%s %s\n' "$key/$bin/$(echo "$args" | tr -d ' ')" \
			"$("$W/$bin" $args "$W/$key" "$W/m.eml" 2>/dev/null)"
	done
done | "$PY" "$top/bench/median.py"
echo
if command -v valgrind >/dev/null; then
	echo "3. Instructions executed (valgrind --tool=callgrind), millions, inclusive"
	cg() { # cg LABEL CMD...: one line of callgrind counts
		_l=$1
		shift
		PHASES_T0=0 valgrind --tool=callgrind --dump-before=execv \
			--callgrind-out-file="$W/cg" "$@" >/dev/null 2>&1 || true
		for _f in "$W"/cg*; do :; done # the last: the dump before execv
		callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$_f" 2>/dev/null | awk -v l="$_l" '
		function put(k) { if (!(k in v)) { x = $1; gsub(",", "", x); v[k] = x } }
		/PROGRAM TOTALS/ { put("total") }
		/:_dl_start / { put("ld.so") }
		/:check_pem|:check_asn1|:keys_pick / { put("check") }
		/:dkim_init / { put("init") }
		/:dkim_options / { put("opts") }
		/:dkim_privkey_load / { put("load") }
		/:dkim_eom / { put("eom") }
		/:RSA_sign / { put("rsa_sign") }
		/:RSA_setup_blinding / { put("blinding") }
		/:EVP_RAND_instantiate / { put("drbg") }
		/:OPENSSL_init_crypto / { put("ossl_init") }
		/:OSSL_DECODER_CTX_new_for_pkey / { put("decoder_ctx") }
		END { printf "%s", l
			n = split("total ld.so check init opts load eom rsa_sign blinding drbg ossl_init decoder_ctx", k, " ")
			for (i = 1; i <= n; i++) printf " %s=%.2f", k[i], v[k[i]] / 1e6
			print "" }'
		rm -f "$W"/cg*
	}
	QMAILDKIM_HOME=$W/h
	export QMAILDKIM_HOME
	cg qmail-dkim-RSA-up-to-execv "$QDKIM" h s r <"$W/m.eml"
	cg rsa/phases/-cpem "$W/phases" -c pem "$W/rsa" "$W/m.eml"
	cg rsa/phases/-n-cpem "$W/phases" -n -c pem "$W/rsa" "$W/m.eml"
	cg rsa/phases/-n-casn1 "$W/phases" -n -c asn1 "$W/rsa" "$W/m.eml"
	cg rsa/phases/-n-casn1-kder "$W/phases" -n -c asn1 -k der "$W/rsa" "$W/m.eml"
	cg rsa/phases/-n-casn1-r "$W/phases" -n -c asn1 -r "$W/rsa" "$W/m.eml"
	cg rsa/phases-static/-n-casn1-r "$W/phases-static" -n -c asn1 -r "$W/rsa" "$W/m.eml"
	cg "rsa/$full/-n-casn1-r" "$W/$full" -n -c asn1 -r "$W/rsa" "$W/m.eml"
	cg ed/phases/-cpem "$W/phases" -c pem "$W/ed" "$W/m.eml"
	cg ed/phases/-n-casn1 "$W/phases" -n -c asn1 "$W/ed" "$W/m.eml"
fi
} >"$outfile"
cat "$outfile"
