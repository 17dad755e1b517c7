#!/usr/bin/perl
# verify-batch.pl DNSDIR WIREFILE...: verify-maildkim.pl --allow-none over
# many files in one process (Mail::DKIM's start-up costs more than a
# verification).  One line per file: "WIREFILE pass" or "WIREFILE fail:
# WHAT verify-maildkim.pl SAID".  Exit 0 when every file passes.
use strict;
use warnings;
use File::Basename qw(dirname);

# verify-maildkim.pl ends with exit(): make that a die we can catch.
BEGIN { *CORE::GLOBAL::exit = sub { die "EXIT " . ($_[0] // 0) . "\n" } }

@ARGV >= 2 or die "usage: verify-batch.pl DNSDIR WIREFILE...\n";
my ($dnsdir, @files) = @ARGV;
my $script = dirname(__FILE__) . '/verify-maildkim.pl';
my $bad = 0;
for my $wire (@files) {
	my $out = '';
	open(my $fh, '>', \$out) or die;
	my $old = select $fh;
	local @ARGV = ('--allow-none', $dnsdir, $wire);
	my $rc = do {
		local $@;
		my $r = do $script;
		$@ =~ /^EXIT (\d+)/ ? $1 : $@ ? "error: $@" : 0;
	};
	select $old;
	close $fh;
	if ("$rc" eq '0') {
		print "$wire pass\n";
	} else {
		$bad++;
		(my $said = "$out$rc") =~ s/\n/; /g;
		print "$wire fail: $said\n";
	}
}
CORE::exit($bad ? 1 : 0);
