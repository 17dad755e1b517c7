#!/bin/sh
# CRs in the queue file go out differently from qmail 1.03/netqmail and
# from notqmail.  A signed message must verify from both: qmail-dkim hands
# on every CRLF and bare CR as LF and signs that form.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
plan 28

M=$TOP/tests/msg/simple.eml
CR=$(printf '\r')

# Every line CRLF, as PHP's mail() often stores it.
sed "s/\$/$CR/" "$M" >"$T/crlf.eml"
# A bare CR in a body line, and one in a header value: the second would
# split the field into a line without a colon, so it is not signed.
sed "s/^this is a plain/this is${CR}a plain/" "$M" >"$T/barecr.eml"
sed "s/^Subject: A simple/Subject: A${CR}simple/" "$M" >"$T/hdrcr.eml"
# Mixed, with a CRLF split across qmail-dkim's 64 KiB reads.
{
	sed '/^$/q' "$M"
	perl -e 'print "x" x 65535, "\r\n", ("line\r\n", "bare\rcr\n", "lf\n") x 5000'
} >"$T/mixed.eml"

for mode in netqmail notqmail; do
	setup_home "$mode"
	make_key example.com
	for f in crlf barecr mixed; do
		deliver "$T/$f.eml"
		is "$(report_letters)" rK "$f, $mode: delivered"
		ok "$f, $mode: no CR handed to qmail-remote" sh -c "! grep -q '$CR' '$T/out/stdin'"
		ok "$f, $mode: dkimpy verifies" verify_dkimpy "$T/out/wire"
		ok "$f, $mode: Mail::DKIM verifies" verify_maildkim "$T/out/wire"
	done
done

deliver "$T/hdrcr.eml"
ok "a bare CR in a header field: handed on unsigned, byte for byte" cmp "$T/hdrcr.eml" "$T/out/stdin"

# Without a key the CRs are the real qmail-remote's business: unchanged.
setup_home netqmail
for f in crlf barecr mixed; do
	deliver "$T/$f.eml"
	ok "$f, no key: handed on byte for byte" cmp "$T/$f.eml" "$T/out/stdin"
done
