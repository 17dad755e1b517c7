#!/usr/bin/perl
# maildkim-remote.pl HOST SENDER RECIPIENT...: a qmail-remote wrapper that
# signs with Mail::DKIM, as an admin would wire in a Perl signer.
#
# rsa-sha256, c=relaxed/relaxed, the h= list in BENCH_H (taken from a
# qmail-dkim signature of the same message, oversigned names included).
# Mail::DKIM wants CRLF lines: the message (fd 0, a file) is streamed in
# 64 KiB pieces with LF made CRLF.  Then, like qmail-dkim, it execs the
# real qmail-remote (BENCH_REAL) with the signed message on fd 0: a pipe
# that a forked writer fills from the file.  BENCH_KEY, BENCH_DOMAIN and
# BENCH_SELECTOR name the key.
use strict;
use warnings;
use POSIX ();
use Mail::DKIM::Signer;
use Mail::DKIM::Signature;

my ($key, $domain, $selector, $h, $real) =
  @ENV{qw(BENCH_KEY BENCH_DOMAIN BENCH_SELECTOR BENCH_H BENCH_REAL)};

my $dkim = Mail::DKIM::Signer->new(
    KeyFile => $key,
    Policy  => sub {
        $_[0]->add_signature(
            Mail::DKIM::Signature->new(
                Algorithm => 'rsa-sha256',
                Method    => 'relaxed/relaxed',
                Domain    => $domain,
                Selector  => $selector,
                Headers   => $h,
                Timestamp => time,
            )
        );
        return;
    },
);
binmode STDIN;
my $buf;
while (sysread(STDIN, $buf, 65536)) {
    $buf =~ s/\n/\r\n/g;
    $dkim->PRINT($buf);
}
$dkim->CLOSE;
my $sig = $dkim->signature->as_string;
$sig =~ s/\r\n/\n/g;

pipe(my $r, my $w) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    close $r;
    sysseek(STDIN, 0, 0) or POSIX::_exit(1);
    syswrite($w, "$sig\n") or POSIX::_exit(1);
    while (my $n = sysread(STDIN, $buf, 65536)) {
        my $off = 0;
        while ($off < $n) {
            my $k = syswrite($w, $buf, $n - $off, $off) // POSIX::_exit(1);
            $off += $k;
        }
    }
    POSIX::_exit(0);
}
close $w;
open(STDIN, '<&', $r) or die "dup: $!";
close $r;
exec {$real} $real, @ARGV or die "exec $real: $!";
