#!/bin/sh
# The hostile and odd messages of tests/corpus, each delivered as
# qmail-rspawn would: signed and verifying (dkimpy and Mail::DKIM on the
# wire bytes) or handed on byte for byte, never a failing signature, never
# a key from outside control/domainkeys.  tests/corpus/MANIFEST says what
# each one should give.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"

C=$TOP/tests/corpus
# FILE EXPECTED SENDER, one a line; files with CRs twice, once per flavour.
grep -v -e '^#' -e '^[[:space:]]*$' "$C/MANIFEST" | while read -r f want sender; do
	if grep -q "$(printf '\r')" "$C/$f"; then
		echo "$f $want ${sender:--} netqmail"
		echo "$f $want ${sender:--} notqmail"
	else
		echo "$f $want ${sender:--} netqmail"
	fi
done >"$T/cases"
plan $(($(wc -l <"$T/cases") + 1))

H=$T/qmail
# home FLAVOUR: a qmail home with keys for example.com and
# xn--bcher-kva.test, and the same key planted wherever a domain that
# escaped control/domainkeys, or was not made lower case, would look.
home() {
	setup_home "$1"
	make_key example.com
	make_key xn--bcher-kva.test
	chmod 644 "$H/control/domainkeys/example.com/default"
	for d in "$H/etc" "$H/control" "$H/control/domainkeys" \
		"$H/control/domainkeys/x" "$H/control/domainkeys/x/y" \
		"$H/control/domainkeys/etc" "$H/control/domainkeys/UPPER.TEST" \
		"$H/control/domainkeys/bücher.test" "$H/control/domainkeys/-x.test" \
		"$H/control/domainkeys/x..test" "$H/control/domainkeys/%2e%2e" \
		"$H/control/domainkeys/x\\y.test" \
		"$H/control/domainkeys/$(printf 'l%.0s' $(seq 64)).test" \
		"$H/control/domainkeys/$(printf 'd%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 63))"; do
		mkdir -p "$d" && cp "$H/control/domainkeys/example.com/default" "$d/default"
	done
}
# d_tag: d= of the first signature of the last delivery.
d_tag() {
	perl -0777 -ne 'm/\ADKIM-Signature:(.*?)\n(?![ \t])/s or exit 1;
		($s = $1) =~ s/\s+//g; $s =~ /(?:^|;)d=([^;]*)/ and print $1' "$T/out/stdin"
}

home netqmail
ok "the planted keys are where an escape would look" test -f "$H/etc/default" -a -f "$H/control/default"

# Deliver them all, judging everything but the signatures, in two workers
# with a qmail home each (two cores); then verify every signed one at
# once; then the verdicts, in order.
# worker K: the cases whose number is K modulo 2, in $T/wK.
worker() {
	T=$T/w$1
	H=$T/qmail
	mkdir -p "$T/wires"
	home netqmail
	if [ -n "${CORPUS_VIA_DAEMON:-}" ]; then
		# tests/420: qmail-dkimc asks a qmail-dkimd of this home;
		# bin/qmail-dkim signs what it falls back on (pipes, > 1 MiB)
		cp "$QDKIM" "$H/bin/qmail-dkim"
		start_daemon -n 1 || exit 1
		QDKIM=$QDKIMC
	fi
	flavour=netqmail n=0
	while read -r f want sender mode <&3; do
		n=$((n + 1))
		[ $((n % 2)) -eq "$1" ] || continue
		if [ "$mode" != "$flavour" ]; then
			set_remote "$mode"
			flavour=$mode
		fi
		[ "$sender" != - ] || sender=x@nokey.test
		fdeliver "$C/$f" example.net "$sender" rcpt@example.net
		got=$(VERIFY_LATER=$T/wires/$n what_happened "$C/$f")
		case $got in signed) got="signed:$(d_tag)" ;; esac
		printf '%s\t%s\t%s\t%s\n' "$n" "$f from <$sender>, $mode" "$want" "$got"
	done 3<"$T/../cases" >"$T/verdicts"
	[ -z "${CORPUS_VIA_DAEMON:-}" ] || stop_daemon
}
(worker 0) &
(worker 1)
wait
sort -n "$T/w0/verdicts" "$T/w1/verdicts" >"$T/verdicts"

verify_many "$T"/w[01]/wires/* >"$T/verified"

while IFS=$(printf '\t') read -r n desc want got <&3; do
	bad=$(grep "^$T/w[01]/wires/$n fail: " "$T/verified" | sed 's/^[^ ]* fail: //')
	if [ -n "$bad" ]; then
		fail "$desc"
		diag "signed, but the signature fails: $bad"
	elif [ "$got" = "$want" ]; then
		pass "$desc: $got"
	else
		fail "$desc"
		diag "got $got, expected $want"
	fi
done 3<"$T/verdicts"
