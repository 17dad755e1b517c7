#!/bin/sh
# qmail-dkimd signs as qmail-dkim does.  Under a clock frozen by
# libfaketime (the same t= and x= for both), the hostile corpus and a
# sample of generated messages go through ONE long-lived qmail-dkimd
# worker, each message several times in a shuffled order, with the policy
# control files set and unset between requests; every answer must be
# byte for byte what qmail-dkim hands on for the same message and policy:
# the same verdict, h=, bh= and b= (RSA PKCS#1 v1.5 and Ed25519
# signatures are deterministic).  A state that survives from one request
# to the next shows up as a difference.  tests/differential.py does the
# work in one process.
#
# SAME_N generated messages (default 200), SAME_SEED their seed.
. "${0%/*}/lib.sh"
QDKIM_WRAPPED=${QDKIM_WRAPPED:-}
for p in "$QDKIM" "$QDKIMC" "$QDKIMD"; do
	[ -x "$p" ] || skip_all "$p is not built"
done
[ -x "$TOP/tests/remote-stub" ] || skip_all "tests/remote-stub is not built (make units)"
FT=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
[ -f "$FT" ] || skip_all "libfaketime is not installed (tests/packages: faketime)"
[ -z "$QDKIM_WRAPPED" ] || skip_all "libfaketime does not mix with $QDKIM_WRAPPED (an ASan binary hangs under it)"
plan 2

setup_home netqmail
for d in example.com xn--bcher-kva.test; do
	make_key "$d" rsa rsa
	make_key "$d" ed ed25519
	printf 'rsa\ned\n' >"$T/qmail/control/domainkeys/$d/selector"
done

# shellcheck disable=SC2016 # the inner sh expands them
ok "libfaketime freezes qmail-dkim's clock" sh -c \
	'[ "$(FAKETIME="2026-01-01 00:00:00" LD_PRELOAD="$1" date +%s)" = 1767225600 ]' sh "$FT"

if "$PY" "$TOP/tests/differential.py" same --home "$T/qmail" --dns "$T/dns" \
	--scratch "$T/same" --qdkim "$QDKIM" --qdkimc "$QDKIMC" --qdkimd "$QDKIMD" \
	--stub "$TOP/tests/remote-stub" --msgauth "$TOP/tests/verify-msgauth" \
	--corpus "$TOP/tests/corpus" --seed "${SAME_SEED:-2}" --count "${SAME_N:-200}" \
	--rounds 4 --faketime "2026-01-01 00:00:00" --libfaketime "$FT" \
	>"$T/same.out" 2>&1; then
	pass "one qmail-dkimd worker answers as qmail-dkim: $(sed -n 's/^# \(.*requests\).*/\1/p' "$T/same.out")"
	diag "$(grep '^# ' "$T/same.out")"
else
	fail "one qmail-dkimd worker answers as qmail-dkim"
	diag "$(cat "$T/same.out")"
fi
