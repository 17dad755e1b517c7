#!/bin/sh
# Forwards: a .qmail "&address" line (qmail-local's mailforward) queues
# the stored message again as the forwarding user, with a Delivered-To
# line on top of the stored queue line.  A forward is signed only for
# what every link of that chain may sign: a stranger's mail to alice's
# forwarding address, local or by SMTP, never gets alice's signature;
# alice's own does; forged chain lines only take rights away; a trusted
# forwarder passes on the rights below it.  Every case through qmail-dkim
# and through qmail-dkimc + qmail-dkimd, which must decide alike.
if [ -z "${QDKIM_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	QDKIM_PRIVATE_NS=1 exec unshare --mount --propagation private sh "$0"
fi
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
. "${0%/*}/rights.sh"
need_daemon
rights_users || skip_all "cannot make the test users in the private namespace"
plan 150

R=$T/qmail/control/dkimrights
M=$T/m
mkdir -p "$M"

# forward AS RECIPIENT TO: the queue file $Q forwarded by AS's .qmail
# ("&TO" in the .qmail of RECIPIENT): qmail-local's bytes (the stand-in
# tests/fake-local.py), queued again as AS; $Q is then the new file.
forward() {
	"$PY" "$TOP/tests/fake-local.py" "$2" "$(cat "$Q.sender")" \
		"$Q.fwd" "$Q.fwdsender" <"$Q"
	inject "$1" "$(cat "$Q.fwdsender")" "$Q.fwd"
}


# both DESC DOMAIN: $Q delivered by qmail-dkim and by the daemon; signed
# as DOMAIN (verified by dkimpy, Mail::DKIM and go-msgauth), or with
# DOMAIN empty not signed and handed on byte for byte; 5 tests a mode,
# and the same signature's d= and verdict from both.
both() {
	for _mode in qmail-dkim daemon; do
		if [ "$_mode" = daemon ]; then csend; else send; fi
		_got=$(signed_for)
		is "$_got" "$2" "$1 ($_mode): ${2:-not signed}"
		if [ -n "$2" ]; then
			ok "  dkimpy verifies it" verify_dkimpy "$T/out/wire"
			ok "  Mail::DKIM verifies it" verify_maildkim "$T/out/wire"
			ok "  go-msgauth verifies it" verify_msgauth "$T/out/wire"
		else
			ok "  handed on byte for byte" cmp "$Q" "$T/out/stdin"
			ok "  no DKIM-Signature added" sh -c "! head -n 1 '$T/out/stdin' | grep -q '^DKIM-Signature:'"
			pass "  (nothing to verify)"
		fi
		not_ok "  not by the fallback" grep -q fallback "$T/out/report"
	done
}

# logged PATTERN: qmail-dkim's log line of the last delivery by send
send_logged() { send && grep -q "$1" "$L"; }

SMTPD1="Received: from mx.stranger.example (HELO mx) (192.0.2.25)"
SMTPD2="  by host.example with SMTP; 7 Dec 2026 09:59:00 -0000"

shared_host
daemon_only
cat >"$R" <<EOF
$ALICE: alice.example
$BOB: bob.example
$CAROL: forwarder carol.example
root: *
EOF
chmod 644 "$R"
ok "qmail-dkimd starts" start_daemon -n 1

# --- a stranger's mail through alice's forward ---------------------------------
mkmsg "$M/forged" ceo@alice.example
inject "$BOB" ceo@alice.example "$M/forged"
forward "$ALICE" alice-info@alice.example me@gmail.example
ok "the forward's queue file: alice's line, Delivered-To, bob's line" sh -c \
	"sed -n '1p;2p;3p' '$Q' | tr '\n' '|' | grep -qE '^Received: \(qmail [0-9]+ invoked by uid 64101\); [^|]*\|Delivered-To: alice-info@alice.example\|Received: \(qmail [0-9]+ invoked by uid 64102\); '"
both "bob's From: alice.example, forwarded by alice" ""
ok "  the log names the chain" send_logged "not signed: control/dkimrights does not let uid 64101 < uid 64102 sign as alice.example"

mkmsg "$M/net" ceo@alice.example "$SMTPD1" "$SMTPD2"
inject qmaild ceo@alice.example "$M/net"
forward "$ALICE" alice-info@alice.example me@gmail.example
both "a stranger's SMTP mail From: alice.example, forwarded by alice" ""
ok "  the log names the network" send_logged "does not let uid 64101 < network sign as alice.example"

# --- alice's own mail through her own forward ---------------------------------
mkmsg "$M/own" alice@alice.example
inject "$ALICE" alice@alice.example "$M/own"
forward "$ALICE" alice-info@alice.example me@gmail.example
both "alice's own mail through her forward" alice.example
ok "  the log names both links" send_logged "signed: d=alice.example s=default a=rsa-sha256 for uid 64101 < uid 64101\$"

# --- forged chain lines gain nothing ------------------------------------------
# bob writes a lookalike forward of alice's mail on top of his own text
mkmsg "$M/lookalike" ceo@alice.example "Delivered-To: alice-info@alice.example" \
	"Received: (qmail 4711 invoked by uid 64101); 7 Dec 2026 09:58:00 -0000"
inject "$BOB" ceo@alice.example "$M/lookalike"
both "bob's lookalike alice link under his own line" ""
forward "$ALICE" alice-info@alice.example me@gmail.example
both "the same through alice's forward" ""
mkmsg "$M/lookalike-b" bob@bob.example "Delivered-To: x@bob.example" \
	"Received: (qmail 4711 invoked by uid 0); 7 Dec 2026 09:58:00 -0000"
inject "$BOB" bob@bob.example "$M/lookalike-b"
both "bob's own domain under a lookalike root link: root's * adds nothing" bob.example
mkmsg "$M/lookalike-n" bob@bob.example "Delivered-To: x@bob.example" \
	"Received: (qmail 4711 invoked from network); 7 Dec 2026 09:58:00 -0000"
inject "$BOB" bob@bob.example "$M/lookalike-n"
both "bob's own mail under a lookalike network link: it narrows" ""

# --- a trusted forwarder passes the rights below it ------------------------------
inject "$ALICE" alice@alice.example "$M/own"
forward "$CAROL" list@carol.example me@gmail.example
both "carol, a trusted forwarder, forwarding alice's own mail" alice.example
inject "$BOB" ceo@alice.example "$M/forged"
forward "$CAROL" list@carol.example me@gmail.example
both "carol forwarding bob's From: alice.example" ""
inject qmaild ceo@carol.example "$M/net"
forward "$CAROL" list@carol.example me@gmail.example
both "carol forwarding a stranger's SMTP mail" ""

# --- control/dkimforwards host: every forward signed as this host ----------------
echo host >"$T/qmail/control/dkimforwards"
inject qmaild ceo@alice.example "$M/net"
forward "$ALICE" alice-info@alice.example me@gmail.example
both "dkimforwards host: a stranger's mail forwarded, signed as the host" host.example
ok "  the log says so" send_logged "signed: d=host.example s=default a=rsa-sha256 for uid 64101 < network (forwarded: as this host)\$"
inject "$ALICE" alice@alice.example "$M/own"
both "dkimforwards host: alice's own mail, no forward, as before" alice.example
echo hosts >"$T/qmail/control/dkimforwards"
forward "$ALICE" alice-info@alice.example me@gmail.example
send
ok "dkimforwards with a wrong value defers a forward" report_is_z
ok "  naming the file and the value" grep -q "control/dkimforwards: 'hosts' is not one of origin or host" "$T/out/report"
rm "$T/qmail/control/dkimforwards"

# --- without control/dkimrights: only network-origin forwards lose ------------
rm "$R"
inject "$BOB" ceo@alice.example "$M/forged"
forward "$ALICE" alice-info@alice.example me@gmail.example
both "no rights file: a local user's mail forwarded, signed as before" alice.example
inject qmaild ceo@alice.example "$M/net"
forward "$ALICE" alice-info@alice.example me@gmail.example
both "no rights file: a stranger's SMTP mail forwarded, not signed" ""
ok "  the log says why" send_logged "not signed: uid 64101 < network may not sign as alice.example: it came from the network"

stop_daemon
is "$DKIMD_STATUS" 0 "qmail-dkimd stops on SIGTERM"
