#!/bin/sh
# tests/deps.sh [-d] [PACKAGE...]: install the Debian packages that
# tests/packages-demo and tests/packages list, plus any named here, if they
# are missing; with -d only those of tests/packages-demo (building and
# make demo).  One dpkg-query for all of them, so it costs nothing when
# everything is there.
set -eu
set -f # package names are words, never globs

dir=$(dirname "$0")
lists="$dir/packages-demo $dir/packages"
if [ "${1:-}" = -d ]; then
	lists=$dir/packages-demo
	shift
fi
# shellcheck disable=SC2086 # the list files, no blanks
listed=$(cat $lists | sed 's/#.*//')
# shellcheck disable=SC2086 # split the list into words
set -- $listed "$@"

# Names dpkg knows print "NAME STATUS"; unknown ones only complain on stderr.
installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null |
	awk '$2 == "installed" { printf "%s ", $1 }')"
missing=
for p; do
	case $installed in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: as root run: apt-get install --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
# On a fresh machine unattended-upgrades may hold apt's locks for minutes:
# install waits for dpkg's lock (DPkg::Lock::Timeout); update cannot wait
# for the lists lock, so it is tried again, for up to 10 minutes too.
export DEBIAN_FRONTEND=noninteractive
i=0
until apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || exit 1
	echo "deps.sh: apt-get update failed (apt's lock held?); trying again in 10 s" >&2
	sleep 10
done
# shellcheck disable=SC2086 # $missing is a list of words
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
	$missing >/dev/null
