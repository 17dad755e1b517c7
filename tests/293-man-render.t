#!/bin/sh
# 293-man-render.t: every man page, rendered by mandoc -T utf8, shows the
# examples a user would paste as they are written: each line of a
# literal display (.Bd -literal) comes out as its source says once
# mandoc's escapes are undone, with no backslash left for mandoc to eat
# (printf 's202611\ne202611\n' rendered as s20261102026110), and the
# empty envelope sender <> is printed where the pages name it.
set -u
. "${0%/*}/lib.sh"
command -v mandoc >/dev/null 2>&1 || skip_all "mandoc not installed"
pages=$(cd "$TOP/man" && for f in *.8; do echo "$f"; done)
n=0
for _ in $pages; do n=$((n + 1)); done
plan $((n * 2 + 5))

# render PAGE: the page as a terminal shows it, without overstrikes.
render() { mandoc -T utf8 "$TOP/man/$1" | perl -pe 's/.\x08//g'; }

for page in $pages; do
	render "$page" >"$T/$page.txt"
	# The literal lines, their escapes undone; a backslash that is no
	# escape mandoc keeps is reported as it stands.
	perl -ne '
		if (/^\.Bd\s+-literal/) { $in = 1; next }
		if (/^\.Ed/) { $in = 0; next }
		next unless $in;
		next if /^\.|^\x27/;
		chomp;
		my $l = $_;
		(my $rest = $l) =~ s/\\(e|&|-|\(aq|\(dq)//g;
		if ($rest =~ /\\/) { print "BAD\t$l\n"; next }
		$l =~ s/\\e/\\/g; $l =~ s/\\&//g; $l =~ s/\\-/-/g;
		$l =~ s/\\\(aq/\x27/g; $l =~ s/\\\(dq/"/g;
		$l =~ s/\t/        /g;
		print "LINE\t$l\n" if $l =~ /\S/;
	' "$TOP/man/$page" >"$T/$page.want"
	if grep -q '^BAD' "$T/$page.want"; then
		fail "$page: no literal line has a backslash mandoc would eat"
		grep '^BAD' "$T/$page.want" | cut -f2- | sed 's/^/#   /' >&2
	else
		pass "$page: no literal line has a backslash mandoc would eat"
	fi
	missing=$(cut -f2- "$T/$page.want" | while IFS= read -r l; do
		l=$(printf '%s\n' "$l" | sed 's/^ *//')
		grep -q -F -- "$l" "$T/$page.txt" || printf '%s\n' "$l"
	done)
	if [ -z "$missing" ]; then
		pass "$page: every literal line renders as written"
	else
		fail "$page: every literal line renders as written"
		printf '%s\n' "$missing" | sed 's/^/#   not rendered: /' >&2
	fi
done

if grep -q -F "printf 's202611\\ne202611\\n'" "$T/qmail-dkim.8.txt"; then
	pass "qmail-dkim(8): the printf of the selector file renders with its \\n"
else
	fail "qmail-dkim(8): the printf of the selector file renders with its \\n"
fi
if grep -q -F "printf 'From: alice@example.com\\nTo: bob@example.net\\nSubject: test\\n\\nhi\\n' |" "$T/qmail-dkim-queue.8.txt"; then
	pass "qmail-dkim-queue(8): its printf renders as written"
else
	fail "qmail-dkim-queue(8): its printf renders as written"
fi
if grep "printf '" "$T"/*.8.txt | awk -F"'" 'NF % 2 == 0 { bad = 1 } END { exit bad }'; then
	pass "every rendered printf closes its quote"
else
	fail "every rendered printf closes its quote"
fi
if tr -s ' \n' '  ' <"$T/qmail-dkim.8.txt" | grep -q -F "(envelope sender <>, empty, or #@[])"; then
	pass "qmail-dkim(8) FILES: the empty envelope sender is shown as <>"
else
	fail "qmail-dkim(8) FILES: the empty envelope sender is shown as <>"
fi
if grep -n -E '^\.(Li|Ql|Dq|Sq) ""' "$TOP"/man/*.8 >&2; then
	fail "no page quotes an empty string, which renders as nothing"
else
	pass "no page quotes an empty string, which renders as nothing"
fi
