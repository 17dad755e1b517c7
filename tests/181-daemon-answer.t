#!/bin/sh
# qmail-dkimc believes of qmail-dkimd's answer only what it can check: one
# or more complete DKIM-Signature fields, or a verdict of one printable
# line.  Whatever else a daemon answers (fields that add others, an empty
# line that would turn the message's header into body, CRs, NULs, an
# answer larger than its buffer) makes it run bin/qmail-dkim, which signs
# the message all the same; nothing of the answer reaches the message.
# The answers come from a fake daemon, tests/fake-dkimd.py.  Run it with
# QDKIMC set to an ASan build too: an answer larger than the buffer was
# once read past its end.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"

BAD="addfield emptyline emptyfirst cr crinside nulinside nolf nocont wspcont
wspend lowercase noblank emptyvalue eightbit ctrl secondbad onlyname empty
textlf unsignedtail badcr zero short huge"
plan $(($(echo "$BAD" | wc -w) * 3 + 4))

home netqmail
n=1
for mode in $BAD; do
	fake "$mode"
	cdeliver "$(msg $n)"
	by_fallback "an answer '$mode'" "$T/m/$n.eml"
	is "$(grep -c connection "$T/fake.log")" 1 "'$mode': qmail-dkimc asked once"
	kill "$_fake"
	n=$((n + 1))
done

# Well-formed fields are handed on as they came, in front of the message
# (they do not verify: the fake signs nothing).
fake good
cdeliver "$(msg $n)"
printf 'DKIM-Signature: v=1; a=rsa-sha256; d=example.com;\n\ts=one; b=AAAA\nDKIM-Signature: v=1; d=example.com; s=two; b=BBBB\n' |
	cat - "$T/m/$n.eml" >"$T/expected"
ok "two well-formed fields, one folded: handed on before the message" cmp "$T/expected" "$T/out/stdin"
ok "two well-formed fields: bin/qmail-dkim did not run" test ! -e "$T/out/fellback"
is "$(cat "$T/out/status")" 0 "two well-formed fields: exit 0"
ok "two well-formed fields: the real qmail-remote's report alone" _fake_report_ok
kill "$_fake"
