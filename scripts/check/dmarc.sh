# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: the organizational domain and the DMARC record.

# org_domain NAME: sets $org to the organizational domain of NAME for
# DMARC (RFC 7489 3.2): one label more than its public suffix, by the
# public suffix list when it is installed, else the last two labels;
# empty when NAME is a public suffix itself.
org_domain() {
	if [ -r "$psl" ]; then
		org=$(awk -v d="$1" '
		/^\/\// || NF == 0 { next }
		{ r[$1] = 1 }
		END {
			n = split(d, l, ".")
			best = 1; exc = 0
			for (i = 1; i <= n; i++) {
				s = l[i]; for (j = i + 1; j <= n; j++) s = s "." l[j]
				w = (i < n) ? "*" substr(s, length(l[i]) + 1) : ""
				k = n - i + 1
				if (("!" s) in r && k - 1 > exc) exc = k - 1
				if ((s in r || (w != "" && w in r)) && k > best) best = k
			}
			if (exc) best = exc
			if (best >= n) exit
			o = l[n - best]; for (j = n - best + 1; j <= n; j++) o = o "." l[j]
			print o
		}' "$psl")
	else
		org=$(printf '%s\n' "$1" | awk -F. 'NF >= 2 { print $(NF - 1) "." $NF }')
	fi
}

check_dmarc() {
	d=$domain
	rec=
	while :; do
		case $d in *.*) ;; *) break ;; esac
		dns "_dmarc.$d" TXT
		case $dns_status in
		NOERROR | NXDOMAIN) ;;
		*)
			warn "dmarc: lookup of _dmarc.$d TXT failed ($dns_status)"
			return 0
			;;
		esac
		rec=$(txt_join '^v[ \t]*=[ \t]*dmarc1([ \t]*;|[ \t]*$)' <"$ans")
		[ -z "$rec" ] || break
		d=${d#*.}
	done
	if [ -z "$rec" ]; then
		warn "dmarc: no DMARC record at _dmarc.$domain or above it; Gmail and Yahoo require one from bulk senders"
		fix "publish: _dmarc.$domain. IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@$domain\""
		return 0
	fi
	count_lines "$rec"
	if [ "$nlines" -gt 1 ]; then
		fail "dmarc: _dmarc.$d has more than one DMARC record: receivers ignore them all (RFC 7489 6.6.3)"
		fix "keep exactly one"
		return 0
	fi
	policy=p
	[ "$d" = "$domain" ] || policy=sp
	tag_get "$rec" "$policy" || tag_get "$rec" p || :
	pval=$tag
	where=_dmarc.$d
	[ "$d" = "$domain" ] || where="_dmarc.$d (the organizational domain's record)"
	case $pval in
	none) ok "dmarc: $where: policy none: receivers only report" ;;
	quarantine | reject) ok "dmarc: $where: policy $pval: mail that passes neither aligned DKIM nor aligned SPF is ${pval%e}ed" ;;
	'')
		fail "dmarc: $where has no p= tag: receivers ignore the record"
		fix "add p=none (or quarantine or reject): v=DMARC1; p=none; ..."
		;;
	*)
		fail "dmarc: $where has an unknown policy p=$pval"
		fix "use p=none, p=quarantine or p=reject"
		;;
	esac
	tag_get "$rec" adkim || tag=r
	adkim=$tag
	if [ "$adkim" = s ] && [ -n "$kdomain" ] && [ "$kdomain" != "$domain" ]; then
		fail "dmarc: $where asks for strict DKIM alignment (adkim=s) but qmail-dkim signs $domain with d=$kdomain"
		fix "make a key for $domain itself: $kg $domain"
	fi
}
