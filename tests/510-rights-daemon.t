#!/bin/sh
# control/dkimrights through qmail-dkimc and qmail-dkimd: the daemon reads
# who queued the message from the queue file it is passed, as qmail-dkim
# does; the request carries the envelope sender and the file, nothing about
# who sent it.  Its table of rights lasts while the file stays the same.
if [ -z "${QDKIM_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare --mount --propagation private true 2>/dev/null; then
	QDKIM_PRIVATE_NS=1 exec unshare --mount --propagation private sh "$0"
fi
. "${0%/*}/lib.sh"
. "${0%/*}/rights.sh"
need_daemon
rights_users || skip_all "cannot make the test users in the private namespace"
plan 24

R=$T/qmail/control/dkimrights
M=$T/m
mkdir -p "$M"

# dlog PATTERN: the daemon logged a line matching PATTERN (it logs after
# it answered, so give it a moment).
dlog() {
	_i=0
	while [ "$_i" -lt 50 ]; do
		grep -q "$1" "$DKIMD_LOG" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

shared_host
daemon_only
printf '%s: alice.example\n%s: bob.example\n' "$ALICE" "$BOB" >"$R"
chmod 644 "$R"
ok "qmail-dkimd starts" start_daemon -n 1

mkmsg "$M/a" alice@alice.example
inject "$ALICE" alice@alice.example "$M/a"
csend
is "$(signed_for)" alice.example "alice as alice.example, signed by the daemon"
ok "  dkimpy verifies it" verify_dkimpy "$T/out/wire"
ok "  Mail::DKIM verifies it" verify_maildkim "$T/out/wire"
ok "  the daemon's log line names uid 64101" dlog "signed: d=alice.example s=default a=rsa-sha256 for uid 64101\$"

mkmsg "$M/ab" ceo@bob.example "Received: (qmail 1 invoked by uid 0); 29 Nov 2026 12:00:00 -0000"
inject "$ALICE" ceo@bob.example "$M/ab"
csend
is "$(signed_for)" "" "alice with From:, -f and a forged line of bob.example: not signed"
ok "  handed on byte for byte" cmp "$Q" "$T/out/stdin"
not_ok "  not by the fallback" grep -q fallback "$T/out/report"
# the forged line is read as a further link (a forward's), which narrows
ok "  the daemon logged the refusal" dlog "not signed: control/dkimrights does not let uid 64101 < uid 0 sign as bob.example"
mkmsg "$M/ab2" ceo@bob.example

mkmsg "$M/b" bob@bob.example
inject "$BOB" bob@bob.example "$M/b"
csend
is "$(signed_for)" bob.example "bob as bob.example, the same worker next"
ok "  dkimpy verifies it" verify_dkimpy "$T/out/wire"

# The same worker reads a changed file: new rights, no restart.
w=$(dkimd_workers)
printf '%s: alice.example bob.example\n%s: bob.example\n' "$ALICE" "$BOB" >"$R"
inject "$ALICE" ceo@bob.example "$M/ab2"
csend
is "$(signed_for)" bob.example "bob.example granted to alice: the daemon sees the change"
printf '%s: alice.example\n%s: bob.example\n' "$ALICE" "$BOB" >"$R"
csend
is "$(signed_for)" "" "and taken back again"
is "$(dkimd_workers)" "$w" "  by the same worker"

# Names and groups are looked up when the file is read, not per message:
# a change to the groups counts once the file changes (touch).
printf '%s: alice.example\n@qdkt-web: web.example\n' "$ALICE" >"$R"
mkmsg "$M/aw" alice@web.example
inject "$ALICE" alice@web.example "$M/aw"
csend
is "$(signed_for)" "" "alice, not in @qdkt-web, as web.example: not signed"
sed "s/^qdkt-web:x:64110:.*/&,$ALICE/" "$T/group" >"$T/group.new"
cat "$T/group.new" >"$T/group"	# in place: /etc/group is bound to this inode
ok "  alice joins qdkt-web" sh -c "id -Gn $ALICE | grep -qw qdkt-web"
csend
is "$(signed_for)" "" "  the daemon's table is that of the unchanged file: still not signed"
touch -d '+2 seconds' "$R"
csend
is "$(signed_for)" web.example "  control/dkimrights touched: signed as web.example"

printf '%s: alice.example\nbob.example\n' "$ALICE" >"$R"
csend
ok "a broken file: the daemon defers" report_is_z
ok "  naming the file and the line" grep -q 'control/dkimrights line 2: no colon' "$T/out/report"
not_ok "  not the fallback" grep -q fallback "$T/out/report"

rm "$R"
inject "$ALICE" ceo@bob.example "$M/ab2"
csend
got=$(signed_for)
is "$got" bob.example "no rights file: signed as before"
[ "$got" = bob.example ] || diag "report: $(report_text)" "daemon log:" "$(cat "$DKIMD_LOG")"
ok "  logged for uid 64101" dlog "signed: d=bob.example s=default a=rsa-sha256 for uid 64101\$"
stop_daemon
is "$DKIMD_STATUS" 0 "qmail-dkimd stops on SIGTERM"
