#!/bin/sh
# control/dkimrights: on a shared host each local user signs only as the
# domains granted to it.  Who queued a message is read from the queue
# file's first line, which qmail-queue writes and no sender can forge;
# From: and the envelope sender (sendmail -f) are the sender's to write.
if [ -z "${QDKIM_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	QDKIM_PRIVATE_NS=1 exec unshare --mount --propagation private sh "$0"
fi
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
. "${0%/*}/rights.sh"
rights_users || skip_all "cannot make the test users in the private namespace"
plan 78

R=$T/qmail/control/dkimrights
M=$T/m
mkdir -p "$M"

# signed_ok DESC DOMAIN WHO: signed as DOMAIN, verified, logged for WHO.
signed_ok() {
	is "$(signed_for)" "$2" "$1: signed d=$2"
	ok "$1: dkimpy verifies it" verify_dkimpy "$T/out/wire"
	ok "$1: Mail::DKIM verifies it" verify_maildkim "$T/out/wire"
	ok "$1: the log line names $3" grep -q "signed: d=$2 s=default a=rsa-sha256 for $3\$" "$L"
}
# unsigned_ok DESC: handed on byte for byte, no signature.
unsigned_ok() {
	is "$(signed_for)" "" "$1: not signed"
	ok "$1: handed on byte for byte" cmp "$Q" "$T/out/stdin"
}

shared_host
cat >"$R" <<EOF
# WHO: DOMAIN...     who may sign as which d= domains
$ALICE: alice.example
64102: bob.example
@qdkt-web: web.example
$CAROL: carol.example
alias: alice.example
root: *
EOF
chmod 644 "$R"

# --- each user its own domain, and not the other's ---------------------------
mkmsg "$M/a" alice@alice.example
inject "$ALICE" alice@alice.example "$M/a"
ok "the stand-in qmail-queue wrote the first line, for uid 64101" sh -c \
	"head -n 1 '$Q' | grep -qE '^Received: \(qmail [0-9]+ invoked by uid 64101\); [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000\$'"
send
signed_ok "alice as alice.example" alice.example "uid 64101"

mkmsg "$M/b" bob@bob.example
inject "$BOB" bob@bob.example "$M/b"
send
signed_ok "bob (granted by uid) as bob.example" bob.example "uid 64102"

mkmsg "$M/ab" ceo@bob.example
inject "$ALICE" ceo@bob.example "$M/ab"
send
unsigned_ok "alice with From: and -f of bob.example"
ok "  the log says who was refused what" grep -q \
	"not signed: control/dkimrights does not let uid 64101 sign as bob.example" "$L"

mkmsg "$M/ba" ceo@alice.example
inject "$BOB" ceo@alice.example "$M/ba"
send
unsigned_ok "bob with From: and -f of alice.example"

mkmsg "$M/ab2" ceo@bob.example
inject "$ALICE" alice@alice.example "$M/ab2"
send
is "$(signed_for)" alice.example "alice, From: bob.example, -f her own: signed as alice.example only"

# A lookalike qmail-queue line of her own, on top of her message, is the
# queue file's second line: it changes nothing.
mkmsg "$M/forged" ceo@bob.example "Received: (qmail 1 invoked by uid 0); 29 Nov 2026 12:00:00 -0000"
inject "$ALICE" ceo@bob.example "$M/forged"
is "$(sed -n 2p "$Q")" "Received: (qmail 1 invoked by uid 0); 29 Nov 2026 12:00:00 -0000" \
	"the forged root line is in the queue file, second"
send
unsigned_ok "a forged 'invoked by uid 0' line below the real one"
mkmsg "$M/forged2" ceo@bob.example "Received: (qmail 1 invoked for bounce); 29 Nov 2026 12:00:00 -0000"
inject "$ALICE" '' "$M/forged2"
send
unsigned_ok "a forged 'invoked for bounce' line and an empty sender"

# --- groups, alias, root --------------------------------------------------------
mkmsg "$M/c" carol@web.example
inject "$CAROL" carol@web.example "$M/c"
send
signed_ok "carol, member of @qdkt-web, as web.example" web.example "uid 64103"
mkmsg "$M/d" dave@web.example
inject "$DAVE" dave@web.example "$M/d"
send
signed_ok "dave, @qdkt-web his primary group, as web.example" web.example "uid 64104"
mkmsg "$M/aw" alice@web.example
inject "$ALICE" alice@web.example "$M/aw"
send
unsigned_ok "alice, not in @qdkt-web, as web.example"

mkmsg "$M/alias" postmaster@alice.example
inject alias postmaster@alice.example "$M/alias"
ok "alias's mail is 'invoked by alias'" grep -q '^Received: (qmail [0-9]* invoked by alias); ' "$Q"
send
is "$(signed_for)" alice.example "alias signs by the alias user's line"
ok "  logged for alias" grep -q "signed: d=alice.example .* for alias\$" "$L"

mkmsg "$M/root" ceo@bob.example
inject root ceo@bob.example "$M/root"
send
is "$(signed_for)" bob.example "root: * signs as anything"

# --- bounces: the host's own domain only ------------------------------------------
mkmsg "$M/bounce" MAILER-DAEMON@host.example
inject qmails '' "$M/bounce"
ok "qmails' mail is 'invoked for bounce'" grep -q '^Received: (qmail [0-9]* invoked for bounce); ' "$Q"
send
signed_ok "a bounce (empty sender) as the host's own domain" host.example bounce
inject qmails '#@[]' "$M/bounce"
send
is "$(signed_for)" host.example "a double bounce (#@[]) as the host's own domain"
mkmsg "$M/bounce-bob" MAILER-DAEMON@bob.example
inject qmails '' "$M/bounce-bob"
send
is "$(signed_for)" host.example "a bounce From: bob.example: still the host's own domain, never bob.example"
inject qmails bob@bob.example "$M/bounce-bob"
send
unsigned_ok "qmails' mail with a sender that no bounce has"
mkmsg "$M/ab-bounce" MAILER-DAEMON@host.example
inject "$ALICE" '' "$M/ab-bounce"
send
unsigned_ok "alice with an empty sender: not the host's domain"

# --- .qmail forwarding: queued again as the forwarding user --------------------
# A message from the network, From: gmail.com, forwarded by carol's .qmail:
# qmail-local queues it again running as carol, envelope sender unchanged.
mkmsg "$M/fwd" friend@gmail.com "Delivered-To: carol@carol.example" \
	"Received: (qmail 4711 invoked from network); 29 Nov 2026 11:59:00 -0000"
inject "$CAROL" friend@gmail.com "$M/fwd"
send
unsigned_ok "carol forwarding a gmail.com message: no key, not signed"
inject "$CAROL" bounce@bob.example "$M/fwd"
send
unsigned_ok "the same with an envelope sender in bob.example: not signed as bob.example"
inject "$CAROL" carol-fwd@carol.example "$M/fwd"
send
unsigned_ok "the same with carol's own envelope domain: not signed, it came from the network"

# --- the network: the envelope sender's domain or a parent --------------------------
# qmail-smtpd writes its own line first (notqmail received.c); a client
# from another host keeps the envelope rule
SMTPD1="Received: from mx.bob.example (HELO mx) (192.0.2.25)"
SMTPD2="  by host.example with SMTP; 29 Nov 2026 11:59:00 -0000"
mkmsg "$M/net" bob@bob.example "$SMTPD1" "$SMTPD2"
inject qmaild bob@bob.example "$M/net"
ok "qmaild's mail is 'invoked from network'" grep -q '^Received: (qmail [0-9]* invoked from network); ' "$Q"
send
signed_ok "network, From: and envelope bob.example" bob.example network
mkmsg "$M/net2" ceo@alice.example "$SMTPD1" "$SMTPD2"
inject qmaild news@lists.bob.example "$M/net2"
send
is "$(signed_for)" bob.example "network, From: alice.example, envelope lists.bob.example: the parent bob.example"
inject qmaild someone@gmail.com "$M/net2"
send
unsigned_ok "network, From: alice.example, envelope gmail.com"
mkmsg "$M/net-bounce" MAILER-DAEMON@bob.example "$SMTPD1" "$SMTPD2"
inject qmaild '' "$M/net-bounce"
send
is "$(signed_for)" host.example "network, empty sender, From: bob.example: the host's own domain, as for bounces"
printf 'alice.example: lists.alice.example\nbob.example: alice.example\n' >"$T/qmail/control/dkimsenders"
inject qmaild bob@bob.example "$M/net"
send
unsigned_ok "network: control/dkimsenders applies as well"
rm "$T/qmail/control/dkimsenders"

# --- unknown: no qmail-queue line on top -------------------------------------------
cp "$M/a" "$T/queue/plain" && Q=$T/queue/plain && echo alice@alice.example >"$Q.sender"
send
unsigned_ok "no qmail-queue line: no rights"

# --- errors in the file defer, naming the file and the line --------------------------
cp "$R" "$T/rights.good"
printf '# rights\n%s: alice.example\nbob.example\n' "$ALICE" >"$R"
inject "$ALICE" alice@alice.example "$M/a"
send
ok "a line without a colon defers" report_is_z
ok "  the Z record names the file and the line" grep -q 'control/dkimrights line 3: no colon' "$T/out/report"
ok "  and so does the log" grep -q 'deferred: .*control/dkimrights line 3: no colon' "$L"
printf '%s:\n' "$ALICE" >"$R"
send
ok "a line with no domain defers, naming it" grep -q "control/dkimrights line 1: no domain after $ALICE:" "$T/out/report"
printf '%s: alice.example\nnobody-here-qdkt: bob.example\n@qdkt-nogroup: bob.example\n' "$ALICE" >"$R"
send
is "$(signed_for)" alice.example "lines for a user and a group that do not exist grant no one; the rest holds"
printf '%s: alice.example bob..example\n' "$ALICE" >"$R"
send
ok "a bad domain defers, naming it" grep -q 'control/dkimrights line 1: bob..example is not a domain' "$T/out/report"
cp "$T/rights.good" "$R"
chmod 666 "$R"
send
ok "a world-writable control/dkimrights defers" grep -q 'dkimrights is world-writable' "$T/out/report"
chmod 644 "$R"
send
is "$(signed_for)" alice.example "fixed: alice signs again"

# --- no control/dkimrights: today's behaviour, and the log names the uid ---------------
rm "$R"
inject "$ALICE" ceo@bob.example "$M/ab"
send
signed_ok "no rights file: alice's forged bob.example is signed, as before" bob.example "uid 64101"
mkmsg "$M/net3" ceo@alice.example
inject qmaild someone@gmail.com "$M/net3"
send
is "$(signed_for)" alice.example "no rights file: network mail signed as its From: domain, as before"
ok "  logged for network" grep -q "signed: d=alice.example .* for network\$" "$L"
