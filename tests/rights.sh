# shellcheck shell=sh
# Sourced by the control/dkimrights tests after lib.sh: a shared host with
# real local users, each queueing mail through a stand-in qmail-queue
# (tests/fake-queue.py --named-users) that writes the queue file's first
# line as qmail-queue does.  The users exist only in private copies of
# /etc/passwd and /etc/group bound over the real ones in a private mount
# namespace: the test starts itself again under unshare(1) before it
# sources lib.sh:
#
#	if [ -z "${QDKIM_PRIVATE_NS:-}" ] && [ "$(id -u)" = 0 ] &&
#		unshare --mount --propagation private true 2>/dev/null; then
#		QDKIM_PRIVATE_NS=1 exec unshare --mount --propagation private sh "$0"
#	fi

[ "$(id -u)" -eq 0 ] ||
	skip_all "not root: the test users need a private mount namespace, which only root can make"
[ -n "${QDKIM_PRIVATE_NS:-}" ] ||
	skip_all "unshare --mount is unavailable: no private mount namespace for the test users"
command -v setpriv >/dev/null || skip_all "no setpriv (util-linux) to run as the test users"
[ -f "$TOP/tests/syslog-shim.so" ] || skip_all "tests/syslog-shim.so is not built (make units)"

# The test users: uids 64101-64104, group qdkt-web (64110) with carol as a
# member and dave's primary group; alias, qmaild and qmails as qmail has
# them (qmail-queue names their mail "by alias", "from network", "for
# bounce") unless the host has them already.
ALICE=qdkt-alice BOB=qdkt-bob CAROL=qdkt-carol DAVE=qdkt-dave
rights_users() {
	for _u in 64101 64102 64103 64104 64121 64122 64123; do
		! getent passwd "$_u" >/dev/null ||
			skip_all "uid $_u is in use on this host; the test users need it"
	done
	! getent group 64110 >/dev/null || skip_all "gid 64110 is in use on this host"
	cp /etc/passwd "$T/passwd" && cp /etc/group "$T/group" || return 1
	cat >>"$T/passwd" <<-EOF
		$ALICE:x:64101:64101::/nonexistent:/usr/sbin/nologin
		$BOB:x:64102:64102::/nonexistent:/usr/sbin/nologin
		$CAROL:x:64103:64103::/nonexistent:/usr/sbin/nologin
		$DAVE:x:64104:64110::/nonexistent:/usr/sbin/nologin
	EOF
	cat >>"$T/group" <<-EOF
		$ALICE:x:64101:
		$BOB:x:64102:
		$CAROL:x:64103:
		qdkt-web:x:64110:$CAROL
		qdkt-nofiles:x:64111:
	EOF
	_i=1
	for _u in alias qmaild qmails; do
		getent passwd "$_u" >/dev/null ||
			echo "$_u:x:6412$_i:64111::/nonexistent:/usr/sbin/nologin" >>"$T/passwd"
		_i=$((_i + 1))
	done
	mount --bind "$T/passwd" /etc/passwd && mount --bind "$T/group" /etc/group
}

# inject AS SENDER MSGFILE: MSGFILE queued by user AS (a name, or root)
# with envelope sender SENDER, as sendmail -f SENDER would; the queue file
# is $Q, its first line written by the stand-in qmail-queue.
_qn=0
inject() {
	_qn=$((_qn + 1))
	Q=$T/queue/$_qn
	mkdir -p "$T/queue"
	printf 'F%s\0Tr@example.net\0\0' "$2" >"$Q.env"
	(cd / && setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups -- \
		"$PY" -c "$(cat "$TOP/tests/fake-queue.py")" --named-users \
		--mess-fd 3 --sender-fd 4 <"$3" 1<"$Q.env" 3>"$Q" 4>"$Q.sender")
}

# mkmsg FILE FROM [LINE...]: a small message From: FROM, the LINEs on top.
mkmsg() {
	_f=$1 _from=$2
	shift 2
	{
		for _l; do printf '%s\n' "$_l"; done
		printf 'From: %s\nTo: r@example.net\nSubject: rights\n' "$_from"
		printf 'Date: Sun, 29 Nov 2026 12:00:00 +0000\nMessage-ID: <%s@test>\n' "${_f##*/}"
		printf '\nHello,\nthis is a test.\n'
	} >"$_f"
}

# send: deliver the queue file $Q with its envelope sender through $QDKIM,
# the syslog lines caught in $L.
L=$T/syslog
send() {
	rm -f "$L"
	deliver --env="LD_PRELOAD=$TOP/tests/syslog-shim.so" --env="SYSLOG_SHIM=$L" \
		"$Q" example.net "$(cat "$Q.sender")" r@example.net
}

# signed_for: d= of the signature on the last delivery, empty if none.
signed_for() {
	perl -0777 -ne 'm/\ADKIM-Signature:.*?\bd=([^;\s]+)/s and print $1' "$T/out/stdin"
}
# logged: the delivery's log line without its priority.
logged() { sed 's/^[0-9]* //' "$L" 2>/dev/null; }

# shared_host: a qmail home with keys for four customers' domains and the
# host's own (control/me host.example).
shared_host() {
	setup_home notqmail
	for _d in alice.example bob.example web.example carol.example host.example; do
		make_key "$_d" || return 1
	done
	echo host.example >"$T/qmail/control/me"
}

# need_daemon: skips the test unless qmail-dkimc and qmail-dkimd are built
# and their syslog lines can be caught.
need_daemon() {
	# shellcheck disable=SC2153 # QDKIMC and QDKIMD come from lib.sh
	if [ ! -x "$QDKIMC" ] || [ ! -x "$QDKIMD" ]; then
		skip_all "qmail-dkimc and qmail-dkimd are not built"
	fi
	command -v pgrep >/dev/null || skip_all "no pgrep (procps)"
	! ldd "$QDKIMD" 2>&1 | grep -qE 'statically linked|not a dynamic' ||
		skip_all "qmail-dkimd is linked statically: LD_PRELOAD cannot catch its syslog"
}

# daemon_only: bin/qmail-dkim, which qmail-dkimc runs when the daemon
# gives no answer, defers instead, so that every signature and every
# refusal that csend sees is the daemon's.
daemon_only() {
	cat >"$T/qmail/bin/qmail-dkim" <<-'EOF'
		#!/usr/bin/perl
		syswrite STDOUT, "Zthe fallback ran\n\0";
		exit 0;
	EOF
	chmod 755 "$T/qmail/bin/qmail-dkim"
}

# csend: the queue file $Q through qmail-dkimc, as send does.
csend() {
	_q=$QDKIM
	QDKIM=$QDKIMC
	deliver "$Q" example.net "$(cat "$Q.sender")" r@example.net
	QDKIM=$_q
}
