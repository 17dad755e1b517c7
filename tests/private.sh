#!/bin/sh
# tests/private.sh CMD...: run CMD (prove) where the tests cannot change
# this host.  As root, CMD runs in a mount namespace of its own
# (unshare --mount --propagation private) in which
#   /etc      is the host's under an overlay (or a copy), with qmail's
#             group qmail and user qmailr added: the accounts tests make
#             or change stay in it
#   /dev/log  is a socket of its own (tests/log-sink.py): what the
#             programs send to syslog(3) goes to the file $QDKIM_SYSLOG,
#             not to the host's mail log
# and mounts made in it stay in it.  Afterwards the host's /etc/passwd,
# group, shadow, gshadow and mount table must be as they were, or it
# fails.  The tests see QDKIM_PRIVATE=1, and in QDKIM_HOST_PID a process
# outside (/proc/PID/root and /proc/PID/mountinfo are the host's view).
# Not root, or no mount namespace to be had: CMD runs with QDKIM_PRIVATE
# empty and the reason in QDKIM_PRIVATE_WHY, and the tests that would
# change the host skip; not root, CMD gets a /dev/log of its own all the
# same if a user namespace can be had (tests/private-log.py).  Inside the
# namespace already, CMD just runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# start_sink DIR: tests/log-sink.py on DIR/log.sock, writing DIR/syslog;
# its pid in sink
start_sink() {
	/usr/bin/python3 "$here/log-sink.py" "$1/log.sock" "$1/syslog" >"$1/sink.out" &
	sink=$!
	_i=0
	until grep -q ready "$1/sink.out" 2>/dev/null; do
		[ "$_i" -lt 100 ] || { echo "private.sh: tests/log-sink.py did not start" >&2 && exit 1; }
		sleep 0.05
		_i=$((_i + 1))
	done
}
has_log() { [ -e /dev/log ] || [ -L /dev/log ]; }

# inside SCRATCH CMD...: the namespace's side
inside() {
	S=$1
	shift
	# /etc: an overlay whose changes land in $S/etc-changes, else a copy
	mkdir "$S/etc-changes" "$S/etc-work"
	if ! mount -t overlay qdkim-etc -o "lowerdir=/etc,upperdir=$S/etc-changes,workdir=$S/etc-work" \
		/etc 2>/dev/null; then
		mkdir "$S/etc"
		cp -a /etc/. "$S/etc/"
		mount --bind "$S/etc" /etc
	fi
	getent group qmail >/dev/null 2>&1 || groupadd -r qmail
	# -l: no lastlog or faillog entry, which live in the host's /var/log
	id qmailr >/dev/null 2>&1 ||
		useradd -r -l -M -g qmail -d /var/qmail -s /usr/sbin/nologin qmailr
	QDKIM_SYSLOG='' sink=''
	if has_log; then
		start_sink "$S"
		mount --bind "$S/log.sock" /dev/log
		QDKIM_SYSLOG=$S/syslog
	fi
	# else nothing listens on /dev/log, in here or out there
	export QDKIM_PRIVATE=1 QDKIM_SYSLOG
	rc=0
	"$@" || rc=$?
	[ -z "$sink" ] || kill "$sink"
	exit "$rc"
}
if [ "${1:-}" = --inside ]; then
	shift
	inside "$@"
fi

[ -z "${QDKIM_PRIVATE+set}" ] || exec "$@"

# as_is REASON CMD...: CMD without a mount namespace
as_is() {
	QDKIM_PRIVATE='' QDKIM_PRIVATE_WHY=$1
	export QDKIM_PRIVATE QDKIM_PRIVATE_WHY
	shift
	echo "private.sh: $QDKIM_PRIVATE_WHY: the tests that would change this host skip" >&2
	has_log || exec "$@"
	why=''
	if [ "$(id -u)" -ne 0 ]; then
		# a user namespace whose /dev/log is ours, if we can have one
		S=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-private.XXXXXX")
		trap 'rm -rf "$S"' EXIT
		trap 'exit 130' HUP INT TERM
		start_sink "$S"
		if /usr/bin/python3 "$here/private-log.py" "$S/log.sock" true 2>"$S/why"; then
			QDKIM_SYSLOG=$S/syslog
			export QDKIM_SYSLOG
			rc=0
			/usr/bin/python3 "$here/private-log.py" "$S/log.sock" "$@" || rc=$?
			kill "$sink"
			exit "$rc"
		fi
		kill "$sink"
		why="; $(cat "$S/why")"
		rm -rf "$S"
	fi
	echo "private.sh: and their syslog lines go to this host's /dev/log$why" >&2
	exec "$@"
}
[ "$(id -u)" -eq 0 ] || as_is "not root, so no mount namespace" "$@"
S=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-private.XXXXXX")
trap 'rm -rf "$S"' EXIT
trap 'exit 130' HUP INT TERM
if ! unshare --mount --propagation private true 2>"$S/why"; then
	why=$(cat "$S/why")
	rm -rf "$S"
	as_is "no mount namespace ($why)" "$@"
fi

# what must be the same afterwards
mkdir "$S/before" "$S/after"
snap() {
	for f in passwd group; do
		[ ! -f "/etc/$f" ] || cp "/etc/$f" "$1/$f"
	done
	for f in shadow gshadow; do # their sums: no copy of the hashes
		[ ! -f "/etc/$f" ] || cksum <"/etc/$f" >"$1/$f"
	done
	cat /proc/self/mountinfo >"$1/mountinfo"
}
snap "$S/before"
QDKIM_HOST_PID=$$
export QDKIM_HOST_PID
rc=0
unshare --mount --propagation private /bin/sh "$0" --inside "$S" "$@" || rc=$?
snap "$S/after"
for f in passwd group shadow gshadow mountinfo; do
	if [ -e "$S/before/$f" ] || [ -e "$S/after/$f" ]; then
		! cmp -s "$S/before/$f" "$S/after/$f" 2>/dev/null || continue
	else
		continue
	fi
	echo "private.sh: the host's $f changed during the run" >&2
	case $f in *shadow) ;; *) diff "$S/before/$f" "$S/after/$f" >&2 ;; esac
	[ "$rc" -ne 0 ] || rc=1
done
exit "$rc"
