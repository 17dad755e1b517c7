# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: ok, warn, fail and fix: the lines every check prints, and their counts.

nok=0
nwarn=0
nfail=0
ok() {
	nok=$((nok + 1))
	printf 'OK    %s\n' "$*"
}
warn() {
	nwarn=$((nwarn + 1))
	printf 'WARN  %s\n' "$*"
}
fail() {
	nfail=$((nfail + 1))
	printf 'FAIL  %s\n' "$*"
}
# bad: FAIL for a live key, WARN for a staged one (no mail uses it yet).
staging=
bad() {
	if [ -n "$staging" ]; then
		warn "$@"
	else
		fail "$@"
	fi
}
fix() {
	printf '      fix: %s\n' "$1"
	shift
	for line; do
		printf '           %s\n' "$line"
	done
}
