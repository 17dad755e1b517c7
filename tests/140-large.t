#!/bin/sh
# A large message signs with constant memory, is never copied on the way
# (sendfile from the queue file to the pipe), and verifies.  SIZE_MB sets
# the size (default 200).
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -x "$TOP/tests/sink" ] || skip_all "tests/sink is not built (make units)"
plan 10
MB=${SIZE_MB:-200}

setup_home notqmail
make_key example.com
cp "$TOP/tests/sink" "$T/qmail/bin/qmail-remote.orig"
S=$T/qmail/bin/qmail-remote.orig

# Text and base64 lines, as mail with attachments is.
{
	sed '/^$/q' "$TOP/tests/msg/simple.eml"
	perl -e '$l = join "", map { chr(65 + ($_ * 7) % 26) } 1 .. 76;
		for (1 .. '"$MB"' * 1024 * 1024 / 77 / 100) {
			print "$l\n" x 99, "Some text, ", "a" x 64, "\n" }'
} >"$T/big.eml"

deliver "$T/big.eml"
is "$(report_text)" 'r\0Kok (sink) DKIM signed d=example.com s=default\n\0' "${MB} MB: delivered"
is "$(head -c 15 "$S.stdin")" "DKIM-Signature:" "${MB} MB: signed"
perl -0777 -pe 's/\ADKIM-Signature:.*?\n(?![ \t])//s' "$S.stdin" | cmp -s - "$T/big.eml"
is $? 0 "${MB} MB: the message after the field is the queue file"
rss=$(cat "$S.rss")
ok "${MB} MB: qmail-dkim's peak RSS ${rss} KiB is below 16 MiB" test "$rss" -lt 16384
sed 's/$/\r/' "$S.stdin" >"$T/wire" && rm -f "$S.stdin"
ok "${MB} MB: dkimpy verifies" verify_dkimpy "$T/wire"
ok "${MB} MB: Mail::DKIM verifies" verify_maildkim "$T/wire"
rm -f "$T/wire"

# The same through a pipe: spooled to an unlinked temporary file.
head -c $((20 * 1024 * 1024)) "$T/big.eml" >"$T/pipe.eml" && echo >>"$T/pipe.eml"
mkdir "$T/tmp"
deliver --stdin-pipe --env="TMPDIR=$T/tmp" "$T/pipe.eml"
is "$(report_text)" 'r\0Kok (sink) DKIM signed d=example.com s=default\n\0' "20 MB on a pipe: delivered"
sed 's/$/\r/' "$S.stdin" >"$T/wire"
ok "20 MB on a pipe: dkimpy verifies" verify_dkimpy "$T/wire"
is "$(ls -A "$T/tmp")" "" "20 MB on a pipe: no temporary file left"
ok "20 MB on a pipe: peak RSS $(cat "$S.rss") KiB below 16 MiB" test "$(cat "$S.rss")" -lt 16384
