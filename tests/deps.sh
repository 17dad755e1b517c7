#!/bin/sh
# tests/deps.sh [PACKAGE...]: install the Debian packages that tests/packages
# lists, plus any named here, if they are missing.  One dpkg-query for all of
# them, so it costs nothing when everything is there.
set -eu
set -f # package names are words, never globs

listed=$(sed 's/#.*//' "$(dirname "$0")/packages")
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
apt-get update -qq >/dev/null
# shellcheck disable=SC2086 # $missing is a list of words
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	$missing >/dev/null
