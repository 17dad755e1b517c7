#!/bin/sh
# Generated messages (tests/msggen.py: every control byte, 8-bit bytes,
# line-end mixes, folding, field-name case, separators, duplicate and
# missing fields, long lines, many fields, odd structure) through
# qmail-dkim and through qmail-dkimc with a running qmail-dkimd, under the
# default policy and with every policy control file set, with an RSA and
# an Ed25519 key.  Each delivery ends signed (every signature verified by
# dkimpy and go-msgauth on the wire bytes of netqmail and notqmail, the
# message unchanged behind it), unsigned (byte for byte), or deferred
# (one Z record); both programs reach the same verdict with the same tags.
# And the verdict is the one qmail-dkim(8) documents: tests/expect.py works
# out from the message bytes alone whether a correct signature is
# possible; such a message must come out signed, any other unsigned and
# unchanged, and each signature's h= covers and leaves out what the manual
# says.  tests/differential.py does the work in one process.
#
# GEN_N messages (default 1000, two deliveries each), GEN_SEED the seed
# (default 1: the same messages each run).  make soak runs more, with a
# new seed.
. "${0%/*}/lib.sh"
QDKIM_WRAPPED=${QDKIM_WRAPPED:-}
for p in "$QDKIM" "$QDKIMC" "$QDKIMD"; do
	[ -x "$p" ] || skip_all "$p is not built"
done
for p in remote-stub verify-msgauth; do
	[ -x "$TOP/tests/$p" ] || skip_all "tests/$p is not built (make units)"
done
plan 1

setup_home netqmail
make_key example.com rsa rsa
make_key example.com ed ed25519
printf 'rsa\ned\n' >"$T/qmail/control/domainkeys/example.com/selector"

# under a sanitizer or valgrind each delivery costs many times more
case $QDKIM_WRAPPED in
valgrind) GEN_N=${GEN_N:-20} ;;
?*) GEN_N=${GEN_N:-200} ;;
esac
GEN_N=${GEN_N:-1000}
set -- --seed "${GEN_SEED:-1}" --count "$GEN_N"
[ -z "${GEN_CORPUS_OUT:-}" ] || set -- "$@" --corpus-out "$GEN_CORPUS_OUT"
# GEN_REFERENCE=1 (make soak): also count the messages left unsigned that
# dkimpy signs so that dkimpy and Mail::DKIM verify, by class.  Each class
# printed must be one qmail-dkim(8) gives a reason for; 3,300 messages
# (seed 20261207) left: no key, a last line without LF, several From:,
# a NUL in the header, no empty line after the header, a header over 1 MB
[ -z "${GEN_REFERENCE:-}" ] ||
	set -- "$@" --reference "$T/qmail/control/domainkeys/example.com/rsa"
if "$PY" "$TOP/tests/differential.py" gen --home "$T/qmail" --dns "$T/dns" \
	--scratch "$T/gen" --qdkim "$QDKIM" --qdkimc "$QDKIMC" --qdkimd "$QDKIMD" \
	--stub "$TOP/tests/remote-stub" --msgauth "$TOP/tests/verify-msgauth" \
	"$@" >"$T/gen.out" 2>&1; then
	pass "$GEN_N generated messages (seed ${GEN_SEED:-1}): $(sed -n 's/^# \([0-9]* messages.*\) in .*/\1/p' "$T/gen.out")"
	diag "$(grep '^# ' "$T/gen.out")"
else
	fail "generated messages (seed ${GEN_SEED:-1})"
	diag "$(cat "$T/gen.out")"
	if [ -z "${KEEP:-}" ] && [ -d "$T/gen/failed" ]; then
		mkdir -p "$TOP/tests/tmp"
		rm -rf "$TOP/tests/tmp/430-failed"
		cp -r "$T/gen/failed" "$TOP/tests/tmp/430-failed"
		diag "the failing messages are kept in tests/tmp/430-failed"
	fi
fi
