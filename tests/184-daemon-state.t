#!/bin/sh
# Nothing of one message outlives it in a qmail-dkimd worker.  One worker
# (-n 1) signs message after message while the control files change
# between them, and each signature must be the one qmail-dkim, starting
# afresh, makes for the same files: the same d=, s=, a=, c=, h=, i= and
# x= or none (tags below).  Each control file is set for two messages and
# removed for the next, so that a list, a flag or a text kept from the
# message before shows.
. "${0%/*}/lib.sh"
. "${0%/*}/faults.sh"
. "${0%/*}/daemon.sh"
plan 89

# tags: the tags that tell signatures apart, one line each, of the
# DKIM-Signature fields the real qmail-remote got ("none" for none).
tags() {
	perl -0777 -ne '
		my $n = 0;
		while (/\GDKIM-Signature:(.*?\n)(?![ \t])/gcs) {
			(my $v = $1) =~ s/\s+//g;
			my %t = map { /^([a-z]+)=(.*)$/s ? ($1, $2) : () } split /;/, $v;
			$t{h} = lc $t{h};
			print join(" ", map({ "$_=" . ($t{$_} // "-") } qw(d s a c h i)),
				"x=" . (defined $t{x} ? "yes" : "no")), "\n";
			$n++;
		}
		print "none\n" unless $n;' "$T/out/stdin" 2>/dev/null || echo "not run"
}

# same DESC MSG [EXPECTED]: qmail-dkim, then qmail-dkimd's one worker,
# sign MSG with the control files as they are now; both end as EXPECTED
# (default signed), with the same tags.
n=0
same() {
	n=$((n + 1))
	_m=$(msg "$n")
	fdeliver "$_m"
	outcome "$1: qmail-dkim" "$_m" "${2:-signed}"
	_want=$(tags)
	cdeliver "$_m"
	by_daemon "$1: qmail-dkimd" "$_m" "${2:-signed}"
	is "$(tags)" "$_want" "$1: qmail-dkimd signs as qmail-dkim does"
}

home netqmail
start_daemon -n 1
w=$(dkimd_workers)
C=$T/qmail/control

same "defaults"
echo "From:Subject:X-Extra" >"$C/dkimsignheaders"
same "dkimsignheaders From:Subject:X-Extra"
same "dkimsignheaders From:Subject:X-Extra, again"
rm "$C/dkimsignheaders"
same "dkimsignheaders removed"
echo "Date" >"$C/dkimoversignheaders"
same "dkimoversignheaders Date"
same "dkimoversignheaders Date, again"
rm "$C/dkimoversignheaders"
same "dkimoversignheaders removed"
echo "simple/simple" >"$C/dkimcanon"
same "dkimcanon simple/simple"
same "dkimcanon simple/simple, again"
rm "$C/dkimcanon"
same "dkimcanon removed"
echo 604800 >"$C/dkimexpire"
same "dkimexpire"
same "dkimexpire, again"
rm "$C/dkimexpire"
same "dkimexpire removed"
echo "someone@example.com" >"$T/qmail/$K/identity"
same "an identity"
same "an identity, again"
rm "$T/qmail/$K/identity"
same "identity removed"
make_key example.com ed1 ed25519
printf 'default\ned1\n' >"$T/qmail/$K/selector"
same "two selectors"
same "two selectors, again"
rm "$T/qmail/$K/selector"
same "selector file removed"
echo "example.com: other.example" >"$C/dkimsenders"
same "dkimsenders that does not name the sender" unsigned
same "dkimsenders that does not name the sender, again" unsigned
rm "$C/dkimsenders"
same "dkimsenders removed"

is "$(dkimd_workers)" "$w" "one worker signed all of them"
stop_daemon
