#!/bin/sh
# Every control byte, DEL and some 8-bit bytes inside signed header
# fields, under relaxed and simple header canonicalization: each message
# is either signed so that dkimpy, Mail::DKIM and go-msgauth all verify
# it on the wire of both qmail flavours, or handed on unsigned and byte
# for byte unchanged, and the choice is the expected one for its class.
#
# libopendkim's relaxed header canonicalization takes every isspace()
# byte for white space; RFC 6376 3.4.2 and the verifiers only SP and
# HTAB.  go-msgauth also trims Unicode white space off both ends of a
# value.  Such a field is left out of h=, or, when it is From:, the
# header is canonicalized simple (c=simple/relaxed), which signs it.
. "${0%/*}/lib.sh"
[ -x "$QDKIM" ] || skip_all "qmail-dkim is not built"
[ -x "$TOP/tests/verify-msgauth" ] || skip_all "tests/verify-msgauth is not built (make units)"
plan 16

# The bytes, as hex: 0x01-0x1f, DEL, lone 8-bit bytes, and UTF-8
# sequences (NBSP, NEL, U+2028, ideographic space, zero-width space).
BYTES="01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17
18 19 1a 1b 1c 1d 1e 1f 7f 80 85 a0 c3 ff c2a0 c285 e280a8 e38080 e2808b"
NAMES="To Cc Subject Reply-To In-Reply-To References"

# msg fields|from HEX: the bytes HEX in a display name (To), at the start
# (Cc) and end (Reply-To) of a value, inside one (Subject), at the start
# of a continuation line (In-Reply-To) and inside one (References); or
# in From's display name.
msg() {
	perl -e '
		my ($which, $hex) = @ARGV;
		my $b = pack "H*", $hex;
		if ($which eq "from") {
			print "From: Alice${b}Smith <alice\@example.com>\n",
			    "To: Bob Jones <bob\@example.net>\n",
			    "Cc: Carol <carol\@example.net>\n",
			    "Subject: hello world\n",
			    "Reply-To: Dave <dave\@example.com>\n",
			    "In-Reply-To: <a\@example.com>\n",
			    "References: <c\@example.com>\n";
		} else {
			print "From: Alice Smith <alice\@example.com>\n",
			    "To: Bob${b}Jones <bob\@example.net>\n",
			    "Cc:${b}Carol <carol\@example.net>\n",
			    "Subject: hello${b}world\n",
			    "Reply-To: Dave <dave\@example.com>${b}\n",
			    "In-Reply-To: <a\@example.com>\n\t${b}<b\@example.com>\n",
			    "References: <c\@example.com>\n\t<d\@example.com>${b}\n",
			    "\t<e\@example.com>\n";
		}
		print "Date: Sun, 29 Nov 2026 12:00:00 +0000\n",
		    "Message-ID: <bytes\@example.com>\n\nbody\n";
	' "$1" "$2"
}

# expect CANON fields|from HEX: "signed" or "signed -Name..." (signed,
# those names not in h=), or "unsigned".
expect() {
	case $3 in
	0a | 0d) echo unsigned && return ;; # a line end: the rest is no field
	esac
	[ "$1" = relaxed ] || { echo signed && return; }
	case $2:$3 in
	from:0b | from:0c) echo signed ;; # c=simple/relaxed
	fields:0b | fields:0c) echo "signed -To -Cc -Subject -Reply-To -In-Reply-To -References" ;;
	fields:c2a0 | fields:c285 | fields:e280a8 | fields:e38080)
		echo "signed -Cc -Reply-To" ;; # go-msgauth trims them at the ends
	*) echo signed ;;
	esac
}

# outcome MSGFILE: what the last delivery did with it.
outcome() {
	if ! perl -0777 -ne 'exit !/\Ar\0Kok \(fake-remote\) DKIM (?:not )?signed[^\0\n]*\n\0\z/' "$T/out/report"; then
		echo "report $(report_text)"
	elif [ "$(head -c 15 "$T/out/stdin")" != DKIM-Signature: ]; then
		if cmp -s "$T/out/stdin" "$1"; then echo unsigned; else echo "unsigned but changed"; fi
	else
		_h=$(perl -0777 -ne 'm/\ADKIM-Signature:(.*?)\n(?![ \t])/s or exit 1;
			($s = $1) =~ s/\s+//g; $s =~ /(?:^|;)h=([^;]*)/ and print $1' "$T/out/stdin")
		_miss=
		for _n in $NAMES; do
			echo ":$_h:" | grep -qi ":$_n:" || _miss="$_miss -$_n"
		done
		echo "signed$_miss"
	fi
}

setup_home netqmail
make_key example.com rsa1
make_key example.com ed1 ed25519
printf 'rsa1\ned1\n' >"$T/qmail/control/domainkeys/example.com/selector"
mkdir -p "$T/m" "$T/q"
for canon in relaxed simple; do
	echo "$canon/$canon" >"$T/qmail/control/dkimcanon"
	rm -f "$T/q"/*
	for which in fields from; do
		bad=
		for hex in $BYTES; do
			m=$T/m/$canon-$which-$hex.eml
			msg "$which" "$hex" >"$m"
			deliver "$m"
			got=$(outcome "$m")
			want=$(expect "$canon" "$which" "$hex")
			[ "$got" = "$want" ] || bad="$bad $hex($got, want $want)"
			case $got in signed*) cp "$T/out/stdin" "$T/q/$which-$hex" ;; esac
		done
		[ -z "$bad" ] || diag "$canon $which:$bad"
		is "$bad" "" "$canon/$canon, $which: signed, fields left out, or unsigned and unchanged, as expected"
	done
	# What each flavour puts on the wire for what qmail-remote was handed.
	for mode in netqmail notqmail; do
		rm -rf "$T/w" && mkdir "$T/w"
		"$PY" -c 'import runpy, sys
to_wire = runpy.run_path(sys.argv[1])["to_wire"]
for f in sys.argv[4:]:
	with open(f, "rb") as i, open(sys.argv[3] + "/" + f.rsplit("/", 1)[1], "wb") as o:
		o.write(to_wire(i.read(), sys.argv[2]))' \
			"$TOP/tests/fake-remote.py" "$mode" "$T/w" "$T/q"/*
		set -- "$T/w"/*
		out=$("$PY" "$TOP/tests/verify-batch.py" "$T/dns" "$@" | grep -v ' pass$')
		is "$out" "" "$canon/$canon, $mode: dkimpy verifies every signed wire ($# of them)"
		out=$(perl "$TOP/tests/verify-batch.pl" "$T/dns" "$@" | grep -v ' pass$')
		is "$out" "" "$canon/$canon, $mode: Mail::DKIM verifies every signed wire (RSA)"
		out=$(for w; do verify_msgauth "$w" >/dev/null || echo "$w"; done)
		is "$out" "" "$canon/$canon, $mode: go-msgauth verifies every signed wire"
	done
done
