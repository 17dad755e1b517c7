#!/bin/sh
# 200-admin-lint.t: the admin scripts are POSIX sh, shellcheck-clean and
# `set -eu`; every man page is mandoc-clean; bad usage is refused.
set -u
. "${0%/*}/lib.sh"
. "${0%/*}/admin.sh"

scripts="qmail-dkim-keygen qmail-dkim-install qmail-dkim-check qmail-dkim-spf qmail-dkim-logsum"
# every page in man/, and those of the programs (the scripts' are below)
pages=$(cd "$TOP/man" && ls -- *.8)
others=$(for m in $pages; do
	case " $scripts " in *" ${m%.8} "*) ;; *) echo "$m" ;; esac
done)
plan $((67 + $(echo "$pages" | wc -l) + 2 * $(echo "$others" | wc -l)))

for s in $scripts; do
	if [ -f "$S/$s" ] && [ -x "$S/$s" ]; then pass "$s exists and is executable"; else fail "$s exists and is executable"; fi
	is "$(sed -n 1p "$S/$s")" '#!/bin/sh' "$s starts with #!/bin/sh"
	if grep -q '^set -eu$' "$S/$s"; then pass "$s runs under set -eu"; else fail "$s runs under set -eu"; fi
	run sh -n "$S/$s"
	is "$rc" 0 "$s parses as sh"
	if command -v dash >/dev/null 2>&1; then
		run dash -n "$S/$s"
		is "$rc" 0 "$s parses as dash"
	else
		skip 1 "dash not installed"
	fi
done

if command -v shellcheck >/dev/null 2>&1; then
	out=$(cd "$TOP" && shellcheck -x scripts/qmail-dkim-* scripts/check/*.sh 2>&1)
	is "$out" "" "shellcheck -x scripts/qmail-dkim-* scripts/check/*.sh prints nothing"
else
	skip 1 "shellcheck not installed"
fi

for s in $scripts; do
	m=$TOP/man/$s.8
	if [ ! -f "$m" ]; then
		fail "man page $s.8 exists"
		continue
	fi
	pass "man page $s.8 exists"
	if command -v mandoc >/dev/null 2>&1; then
		# STYLE notes about pages not installed here (qmail's) are no fault of the page.
		out=$(mandoc -Tlint "$m" 2>&1 | grep -v -e 'referenced manual not found' -e 'outdated mandoc.db' -e 'lacks .* entry, run makewhatis')
		is "$out" "" "mandoc -Tlint $s.8 is clean"
		run mandoc -Tascii "$m"
		if [ "$rc" -eq 0 ] && [ -s "$T/out" ]; then pass "$s.8 renders"; else fail "$s.8 renders"; fi
		# Every option the script takes (but -h) is in its page.
		opts=$(sed -n 's/^while getopts \([A-Za-z:]*\) opt.*/\1/p' "$S/$s" | tr -d ':h' | fold -w1)
		missing=
		for o in $opts; do
			grep -q -E "^\.(Op|It) Fl [A-Za-z]*$o" "$m" || missing="$missing -$o"
		done
		is "$missing" "" "$s.8 documents every option of $s"
	else
		skip 3 "mandoc not installed"
	fi
done

if command -v mandoc >/dev/null 2>&1; then
	for m in $pages; do
		out=$(mandoc -Tlint -Wwarning "$TOP/man/$m" 2>&1)
		is "$out" "" "mandoc -Tlint -Wwarning $m is clean"
	done
	for m in $others; do
		out=$(mandoc -Tlint "$TOP/man/$m" 2>&1 | grep -v -e 'referenced manual not found' -e 'outdated mandoc.db' -e 'lacks .* entry, run makewhatis')
		is "$out" "" "mandoc -Tlint $m is clean"
		run mandoc -Tascii "$TOP/man/$m"
		if [ "$rc" -eq 0 ] && [ -s "$T/out" ]; then pass "$m renders"; else fail "$m renders"; fi
	done
else
	skip $(($(echo "$pages" | wc -l) + 2 * $(echo "$others" | wc -l))) "mandoc not installed"
fi
# The project's pages name each other: each such name has its page.
missing=$(cd "$TOP/man" && sed -n 's/^\.Xr \(qmail-dkim[a-z-]*\) \([0-9]\).*/\1.\2/p' -- *.8 |
	sort -u | while read -r x; do [ -f "$x" ] || echo "$x"; done)
is "$missing" "" "every qmail-dkim page named in .Xr is in man/"
# qmail-dkimd.8 documents every option of qmail-dkimd.
opts=$(sed -n 's/.*getopt(argc, argv, "\([A-Za-z:]*\)").*/\1/p' "$TOP/qmail-dkim/qmail-dkimd.c" | tr -d ':' | fold -w1)
missing=
for o in $opts; do
	grep -q -E "^\.(Op|It) Fl $o" "$TOP/man/qmail-dkimd.8" || missing="$missing -$o"
done
if [ -n "$opts" ]; then is "$missing" "" "qmail-dkimd.8 documents every option of qmail-dkimd"; else fail "qmail-dkimd.c has a getopt string"; fi

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

