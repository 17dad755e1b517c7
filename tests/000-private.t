#!/bin/sh
# 000-private.t: the suite runs where it cannot change this host
# (tests/private.sh): accounts made, mounts and syslog lines stay in a
# mount namespace of the tests' own, nested namespaces included.
. "${0%/*}/lib.sh"

# syslog_checks: a datagram reaches one socket: what is in $QDKIM_SYSLOG
# is not in the host's log
syslog_checks() {
	if [ -z "${QDKIM_SYSLOG:-}" ]; then
		skip 2 "this host has no /dev/log: syslog(3) lines go nowhere, here or there"
		return
	fi
	logger -t qdkim000 "probe $$"
	setup_home
	make_key example.com
	deliver "$TOP/tests/msg/simple.eml"
	sleep 0.2
	ok "/dev/log here is the tests' own socket: a line sent to it is in \$QDKIM_SYSLOG" \
		grep -q "qdkim000.*probe $$" "$QDKIM_SYSLOG"
	ok "  and so is qmail-dkim's line for a delivery" \
		grep -q "qmail-dkim\[[0-9]*\]: signed: d=example.com s=default" "$QDKIM_SYSLOG"
}
# not root: a /dev/log of our own at most
if [ -z "${QDKIM_PRIVATE:-}" ]; then
	[ -n "${QDKIM_SYSLOG:-}" ] ||
		skip_all "not in tests/private.sh's namespace: ${QDKIM_PRIVATE_WHY:-not root}"
	plan 2
	syslog_checks
	exit
fi
plan 16
H=/proc/$QDKIM_HOST_PID # a process outside: the host's view
# tries N CMD...: CMD until it succeeds, N times at most (useradd and
# usermod do not wait for a lock another test holds)
tries() {
	_t=$1
	shift
	until "$@"; do
		_t=$((_t - 1))
		[ "$_t" -gt 0 ] || return 1
		sleep 0.2
	done
}
u=qdkim000-$$

isnt "$(readlink /proc/self/ns/mnt)" "$(readlink "$H/ns/mnt")" "a mount namespace of our own"
isnt "$(stat -c %d:%i /etc/passwd)" "$(stat -c %d:%i "$H/root/etc/passwd")" "/etc/passwd is not the host's file"
# nothing below may run where it would change the host
[ "$_failed" -eq 0 ] || {
	echo "Bail out! not kept from the host: nothing more is tried"
	exit 1
}
ok "root is in our copy" id root
ok "qmailr and group qmail are there" sh -c 'id qmailr && getent group qmail'

ok "useradd works here" tries 5 useradd -r -l -M "$u"
ok "  the user is here" id "$u"
not_ok "  but not in the host's /etc/passwd" grep -q "^$u:" "$H/root/etc/passwd"
ok "usermod adds qmailr to a group here" tries 5 usermod -a -G "$u" qmailr
not_ok "  which the host's /etc/group does not know" grep -q "^$u:" "$H/root/etc/group"
tries 5 gpasswd -d qmailr "$u" >/dev/null 2>&1
tries 5 userdel "$u" 2>/dev/null

mkdir "$T/m" "$T/n" "$T/r"
mount -t tmpfs qdkim000 "$T/m"
is "$(grep -c " $T/m " /proc/self/mountinfo)" 1 "a tmpfs mounted here is here"
is "$(grep -c " $T/m " "$H/mountinfo")" 0 "  and not in the host's mount table"
umount "$T/m"

ok "unshare works within: a mount and a user of its own" unshare --mount --propagation private \
	sh -c "mount -t tmpfs qdkim000 '$T/n' && grep -q ' $T/n ' /proc/self/mountinfo && useradd -r -l -M '$u-n' && userdel '$u-n'"
is "$(grep -c " $T/n " /proc/self/mountinfo)" 0 "  and its mount stays in it"

# rspawn.py --tmpfs (tests/3NN): its tmpfs is in a namespace of its own
"$PY" "$TOP/tests/rspawn.py" --cwd "$T" --report "$T/rep" --status "$T/st" --tmpfs "$T/r:8k" \
	"$TOP/tests/msg/simple.eml" /bin/sh -c "grep -c ' $T/r ' /proc/self/mountinfo /proc/$$/mountinfo $H/mountinfo"
is "$(sed 's,^.*/proc/,/proc/,' "$T/rep" | tr '\n' ' ')" \
	"/proc/self/mountinfo:1 /proc/$$/mountinfo:0 $H/mountinfo:0 " \
	"rspawn.py --tmpfs mounts where neither we nor the host see it"

syslog_checks
