#!/bin/sh
# 200-admin-lint.t: the admin scripts are POSIX sh, shellcheck-clean and
# `set -eu`; their man pages are mandoc-clean; bad usage is refused.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
S=$top/scripts
T=$(mktemp -d "${TMPDIR:-/tmp}/qdkim-200.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM

n=0 bad=0
ok() { n=$((n + 1)) && echo "ok $n - $*"; }
nok() { n=$((n + 1)) bad=$((bad + 1)) && echo "not ok $n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /' >&2; }
skip() { n=$((n + 1)) && echo "ok $n # SKIP $*"; }
run() { rc=0 && "$@" >"$T/out" 2>"$T/err" || rc=$?; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3" && diag "got:  $1" "want: $2"; fi; }
has() {
	if grep -q -E -- "$2" "$1"; then ok "$3"; else
		nok "$3" && diag "no line matches: $2" && sed 's/^/  /' "$1" >&2
	fi
}

scripts="qmail-dkim-keygen qmail-dkim-install qmail-dkim-check"

for s in $scripts; do
	if [ -f "$S/$s" ] && [ -x "$S/$s" ]; then ok "$s exists and is executable"; else nok "$s exists and is executable"; fi
	is "$(sed -n 1p "$S/$s")" '#!/bin/sh' "$s starts with #!/bin/sh"
	if grep -q '^set -eu$' "$S/$s"; then ok "$s runs under set -eu"; else nok "$s runs under set -eu"; fi
	run sh -n "$S/$s"
	is "$rc" 0 "$s parses as sh"
	if command -v dash >/dev/null 2>&1; then
		run dash -n "$S/$s"
		is "$rc" 0 "$s parses as dash"
	else
		skip "dash not installed"
	fi
done

if command -v shellcheck >/dev/null 2>&1; then
	out=$(cd "$top" && shellcheck scripts/* 2>&1)
	is "$out" "" "shellcheck scripts/* prints nothing"
else
	skip "shellcheck not installed"
fi

for s in $scripts; do
	m=$top/man/$s.8
	if [ ! -f "$m" ]; then
		nok "man page $s.8 exists"
		continue
	fi
	ok "man page $s.8 exists"
	if command -v mandoc >/dev/null 2>&1; then
		# STYLE notes about pages not installed here (qmail's) are no fault of the page.
		out=$(mandoc -Tlint "$m" 2>&1 | grep -v -e 'referenced manual not found' -e 'outdated mandoc.db' -e 'lacks .* entry, run makewhatis')
		is "$out" "" "mandoc -Tlint $s.8 is clean"
		run mandoc -Tascii "$m"
		if [ "$rc" -eq 0 ] && [ -s "$T/out" ]; then ok "$s.8 renders"; else nok "$s.8 renders"; fi
		# Every option the script takes (but -h) is in its page.
		opts=$(sed -n 's/^while getopts \([A-Za-z:]*\) opt.*/\1/p' "$S/$s" | tr -d ':h' | fold -w1)
		missing=
		for o in $opts; do
			grep -q -E "^\.(Op|It) Fl [A-Za-z]*$o" "$m" || missing="$missing -$o"
		done
		is "$missing" "" "$s.8 documents every option of $s"
	else
		skip "mandoc not installed"
	fi
done

# Usage errors: status 2 and a usage line on stderr, nothing on stdout.
for s in $scripts; do
	run "$S/$s" -Z
	is "$rc" 2 "$s -Z exits 2"
	has "$T/err" "^usage: $s " "$s -Z prints its usage on stderr"
	is "$(cat "$T/out")" "" "$s -Z prints nothing on stdout"
done
run "$S/qmail-dkim-keygen"
is "$rc" 2 "qmail-dkim-keygen without a domain exits 2"
run "$S/qmail-dkim-keygen" a.example b c
is "$rc" 2 "qmail-dkim-keygen with three arguments exits 2"
run "$S/qmail-dkim-check"
is "$rc" 2 "qmail-dkim-check without a domain exits 2"
run "$S/qmail-dkim-install" extra
is "$rc" 2 "qmail-dkim-install with an argument exits 2"

echo "1..$n"
[ "$bad" -eq 0 ]
