# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: what receivers check SPF for, evaluated by qmail-dkim-spf.

mech_for() {
	case $1 in
	*:*) echo "ip6:$1" ;;
	*) echo "ip4:$1" ;;
	esac
}

# spf_identity: what receivers check SPF for (RFC 7208 2.4): the envelope
# sender's domain (-f, by default the signing domain), or for a bounce
# the HELO name, which qmail-remote takes from control/helohost, else
# control/me. Sets $sdom, $ssender and $helo; says whether $sdom aligns
# with the From: domain for DMARC (relaxed, RFC 7489 3.1.2).
spf_identity() {
	helo=
	[ ! -r "$ctl/helohost" ] || IFS=' 	' read -r helo <"$ctl/helohost" || :
	[ -n "$helo" ] || [ ! -r "$ctl/me" ] || IFS=' 	' read -r helo <"$ctl/me" || :
	case $helo in
	*[A-Z]*) helo=$(printf '%s\n' "$helo" | tr '[:upper:]' '[:lower:]') ;;
	esac
	helo=${helo%.}
	if [ -n "$sender_domain" ]; then
		sdom=${sender_domain%.} ssender=$sender what="the envelope sender's domain $sdom"
		[ -n "$sender_given" ] || what="$what (the signing domain: give the envelope sender with -f)"
		[ -n "$helo" ] || helo=$sdom
	elif [ -n "$helo" ]; then
		sdom=$helo ssender=postmaster@$helo what="the HELO name $helo (a bounce, -f '<>'; control/helohost or control/me)"
	else
		warn "spf: a bounce (-f '<>') is checked against the HELO name, and neither control/helohost nor control/me gives it"
		fix "write this host's name to $ctl/me"
		return 1
	fi
	org_domain "$sdom"
	sorg=$org
	org_domain "$domain"
	how="relaxed alignment, RFC 7489 3.1.2"
	[ -r "$psl" ] || how="$how; organizational domains taken as the last two labels, no public suffix list"
	if [ -n "$sorg" ] && [ "$sorg" = "$org" ]; then
		ok "spf: receivers check $what; it aligns with the From: domain $domain for DMARC ($how)"
	else
		warn "spf: receivers check $what; it does not align with the From: domain $domain for DMARC ($how): an SPF pass does not make DMARC pass, only DKIM does"
		fix "send with an envelope sender at $domain or a subdomain of it, or count on DKIM alone"
	fi
}

check_spf() {
	spf_identity || return 0
	private=
	if [ -z "$addrs" ]; then
		if route=$(grep '^:' "$ctl/smtproutes" 2>/dev/null | sed -n 1p) && [ -n "$route" ]; then
			warn "spf: mail leaves through the relay ${route#:} (control/smtproutes): SPF must allow the relay's address, which cannot be told from here"
			fix "give the relay's outgoing address with -i ADDRESS"
			return 0
		fi
		if [ -r "$ctl/outgoingip" ]; then
			# the outgoingip patch's control file: the address qmail-remote binds
			IFS=' 	' read -r addrs <"$ctl/outgoingip" || :
			ip_in "$addrs" "$addrs" || addrs=
		else
			addrs=$({
				ip -4 route get 192.0.2.1 2>/dev/null
				ip -6 route get 2001:db8::1 2>/dev/null
			} | sed -n 's/.* src \([0-9A-Fa-f.:]*\).*/\1/p')
		fi
		for a in $addrs; do
			if is_private "$a"; then
				warn "spf: this host's address $a is private (behind NAT?): cannot tell which address receivers see"
				fix "give the public outgoing address with -i ADDRESS"
				addrs=$(printf '%s\n' "$addrs" | grep -v -x -F "$a" || :)
				private=1
			fi
		done
	fi
	dns "$sdom" TXT
	case $dns_status in
	NOERROR | NXDOMAIN) ;;
	*)
		warn "spf: lookup of $sdom TXT failed ($dns_status)"
		return 0
		;;
	esac
	spf=$(txt_join '^v=spf1( |$)' <"$ans")
	if [ -z "$spf" ]; then
		warn "spf: $sdom has no SPF record; Gmail wants SPF or DKIM from everyone and both from bulk senders"
		mechs=
		for a in $addrs; do
			mechs="$mechs $(mech_for "$a")"
		done
		fix "publish: $sdom. IN TXT \"v=spf1${mechs:- a mx} ~all\" (listing every address this host sends from)"
		return 0
	fi
	count_lines "$spf"
	if [ "$nlines" -gt 1 ]; then
		fail "spf: $sdom has more than one SPF record: receivers treat that as an error (RFC 7208 4.5)"
		fix "merge them into one v=spf1 record"
		return 0
	fi
	ok "spf: $sdom has an SPF record: $spf"
	if [ -z "$addrs" ]; then
		[ -z "$private" ] || return 0
		warn "spf: this host's outgoing address is unknown: cannot tell whether the record allows it"
		fix "give it with -i ADDRESS"
		return 0
	fi
	for a in $addrs; do
		# qmail-dkim-spf: RESULT:REASON, then the evaluator
		r=$("$spfprog" ${dns_server:+-s "$dns_server"} ${dns_port:+-p "$dns_port"} \
			-h "$helo" "$a" "$sdom" "$ssender" 2>"$work/spf.err") && [ -n "$r" ] ||
			r="unknown:$spfprog failed: $(sed -n 1p "$work/spf.err")"
		why=${r#*:}
		why=${why%%"
"*}
		case $r in
		pass*) ok "spf: $a is allowed by the SPF record of $sdom ($why)" ;;
		fail*)
			fail "spf: $a is not allowed by the SPF record of $sdom ($why): receivers may reject the mail"
			fix "add $(mech_for "$a") to the record before its all"
			;;
		softfail*)
			warn "spf: $a is not listed in the SPF record of $sdom ($why): softfail, likely spam-foldered without DKIM"
			fix "add $(mech_for "$a") to the record"
			;;
		neutral*)
			warn "spf: the SPF record of $sdom says nothing about $a ($why)"
			fix "add $(mech_for "$a") to the record"
			;;
		none*)
			warn "spf: $sdom has no SPF record that receivers find ($why)"
			fix "publish one v=spf1 record at $sdom"
			;;
		permerror*)
			case $why in
			*[Vv]oid* | *found\ nothing*)
				fail "spf: evaluating $sdom meets more than two names without an address or record; receivers report an error (RFC 7208 4.6.4): $why"
				fix "remove the mechanisms that name hosts or domains that do not exist"
				;;
			*[Ll]ookups* | *DNS-querying*)
				fail "spf: evaluating $sdom takes more than 10 DNS lookups; receivers stop at 10 and report an error (RFC 7208 4.6.4): $why"
				fix "flatten include: chains, replace a and mx with ip4:/ip6:"
				;;
			*MX*)
				fail "spf: the SPF record of $sdom is broken: $why"
				fix "name a host with at most 10 MX records, or use ip4:/ip6:"
				;;
			*)
				fail "spf: the SPF record of $sdom is broken, receivers treat it as an error and DMARC as no SPF pass: $why"
				fix "correct the term named (RFC 7208 12 gives the syntax), in this record or the one it includes"
				;;
			esac
			;;
		temperror*) warn "spf: DNS failed while evaluating $sdom: $why" ;;
		*) warn "spf: cannot tell whether $a is allowed: $why" ;;
		esac
	done
}
