#!/usr/bin/perl
# verify-maildkim.pl [--allow-none] DNSDIR WIREFILE: check every
# DKIM-Signature of WIREFILE (CRLF, as received) with Mail::DKIM, the TXT
# records taken from the files DNSDIR/NAME through a mock resolver.
# One line per signature; exit 0 only if there is at least one passing
# signature and none fails.  Debian 12's Mail::DKIM cannot check Ed25519:
# such signatures print "skip" and count neither way; --allow-none accepts
# a message whose signatures were all skipped.
use strict;
use warnings;
use Getopt::Long;
use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver::Mock;

my $allow_none = 0;
GetOptions('allow-none' => \$allow_none) && @ARGV == 2
  or die "usage: verify-maildkim.pl [--allow-none] DNSDIR WIREFILE\n";
my ($dnsdir, $wirefile) = @ARGV;

# A zone file from DNSDIR: a TXT string holds at most 255 characters.
my $zone = '';
opendir(my $dh, $dnsdir) or die "$dnsdir: $!\n";
for my $name (sort grep { !/^\./ && -f "$dnsdir/$_" } readdir $dh) {
	open(my $fh, '<', "$dnsdir/$name") or die "$dnsdir/$name: $!\n";
	my $txt = do { local $/; <$fh> };
	$txt =~ s/\s+\z//;
	$txt =~ s/(["\\])/\\$1/g;
	my @strings = map { qq("$_") } unpack('(a255)*', $txt);
	@strings = (q("")) unless @strings;
	$zone .= "$name. 60 IN TXT @strings\n";
}
closedir $dh;
my $resolver = Net::DNS::Resolver::Mock->new;
$resolver->zonefile_parse($zone);
Mail::DKIM::DNS::resolver($resolver);

my $dkim = Mail::DKIM::Verifier->new;
open(my $in, '<:raw', $wirefile) or die "$wirefile: $!\n";
while (read($in, my $buf, 65536)) {
	$dkim->PRINT($buf);
}
close $in;
$dkim->CLOSE;

my ($pass, $fail) = (0, 0);
for my $sig ($dkim->signatures) {
	my $alg = $sig->algorithm // '?';
	my $tags = sprintf 'd=%s s=%s a=%s', $sig->domain // '?', $sig->selector // '?', $alg;
	if ($sig->result eq 'pass') {
		$pass++;
		print "pass $tags\n";
	} elsif ($alg eq 'ed25519-sha256') {
		print "skip $tags (ed25519 unsupported: ", $sig->result_detail, ")\n";
	} else {
		$fail++;
		print "fail $tags (", $sig->result_detail, ")\n";
	}
}
print "fail: no DKIM-Signature\n" unless $dkim->signatures;
exit(($fail == 0 && ($pass > 0 || ($allow_none && $dkim->signatures))) ? 0 : 1);
