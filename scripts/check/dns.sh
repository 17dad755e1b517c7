# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: domain names, and DNS answers through dig.

valid_domain() {
	case $1 in
	'' | .* | *. | *..* | *[!a-z0-9.-]*) return 1 ;;
	*.*) ;;
	*) return 1 ;;
	esac
	case ${1##*.} in
	*[!0-9]*) ;;
	*) return 1 ;;
	esac
	case .$1. in
	*.-* | *-.*) return 1 ;;
	esac
}

# ---- DNS -------------------------------------------------------------------
# Starting a program is slow on some machines: helpers that run often are
# shell built-ins only, and every DNS answer is kept for the run (SPF asks
# the same names again for each address).

# dns NAME TYPE: sets $dns_status to the RCODE (or UNREACHABLE) and $ans to
# a file with the answer's records of TYPE, one a line, as dig prints them.
dns() {
	case $1 in
	*[!A-Za-z0-9._-]* | '') dns_status=FORMERR ans=$work/dns/.empty ;;
	*)
		ans="$work/dns/$1 $2"
		[ -f "$ans.status" ] || dns_fetch "$1" "$2"
		read -r dns_status <"$ans.status"
		;;
	esac
}

# dns_fetch NAME TYPE [NAME TYPE]...: ask all in one dig (each start of a
# program costs), and keep each answer in $work/dns.
dns_fetch() {
	dig +noall +comments +question +answer +time=2 +tries=2 \
		${dns_server:+"@$dns_server"} ${dns_port:+-p "$dns_port"} \
		"$@" 2>&1 | awk -v dir="$work/dns" '
		/->>HEADER<<-/ { st = $0; sub(/.*status: /, "", st); sub(/[^A-Z].*/, "", st); next }
		/^;; QUESTION SECTION:/ { q = 1; next }
		q && /^;/ {
			q = 0
			if (f != "") close(f)
			name = substr($1, 2); sub(/\.$/, "", name)
			f = dir "/" name " " toupper($NF); t = toupper($NF)
			print st > (f ".status"); close(f ".status")
			printf "" > f
			next
		}
		/^;/ || NF < 5 || f == "" { next }
		toupper($4) == t {
			sub(/^[^ \t]+[ \t]+[0-9]+[ \t]+[A-Za-z]+[ \t]+[A-Za-z0-9]+[ \t]+/, "")
			print > f
		}' || :
	while [ $# -ge 2 ]; do
		if [ ! -f "$work/dns/$1 $2.status" ]; then
			echo UNREACHABLE >"$work/dns/$1 $2.status"
			: >"$work/dns/$1 $2"
		fi
		shift 2
	done
}

# A TXT record is one or more strings of at most 255 bytes; its value is
# their concatenation (RFC 7208 3.3, RFC 6376 3.6.2.2). dig prints them
# quoted, with \" \\ and \DDD escapes.
# txt_join [ERE] <FILE: the values, one a line; with ERE, only the values
# that match it once in lower case. $strings: the strings of the last one.
txt_join() {
	awk -v re="${1:-}" '{
		s = $0; n = length(s); out = ""; inq = 0; i = 1; k = 0
		while (i <= n) {
			c = substr(s, i, 1)
			if (!inq) { if (c == "\"") { inq = 1; k++ }; i++; continue }
			if (c == "\\") {
				nx = substr(s, i + 1, 1)
				if (nx ~ /[0-9]/) {
					out = out sprintf("%c", substr(s, i + 1, 3) + 0); i += 4
				} else { out = out nx; i += 2 }
				continue
			}
			if (c == "\"") { inq = 0; i++; continue }
			out = out c; i++
		}
		if (re == "" || tolower(out) ~ re) print out
	}'
}

# txt_strings <FILE: how many strings the first record has.
txt_strings() {
	awk 'NR == 1 { n = 0; s = $0
		while (s != "") {
			c = substr(s, 1, 1)
			if (c == "\\") { s = substr(s, 3); continue }
			if (c == "\"") n++
			s = substr(s, 2)
		}
		print int(n / 2) }'
}

# count_lines TEXT: sets $nlines to the number of non-empty lines.
count_lines() {
	old_ifs=$IFS
	IFS='
'
	set -f
	# shellcheck disable=SC2086 # splitting into lines is the point
	set -- $1
	set +f
	IFS=$old_ifs
	nlines=$#
}

# count_answers: sets $n to the number of records in $ans, the last
# dns lookup's answer.
count_answers() {
	n=0
	while read -r _; do
		n=$((n + 1))
	done <"$ans"
}

# noblank TEXT: sets $nb to TEXT without blanks (RFC 6376 3.2 allows
# folding white space inside values).
noblank() {
	old_ifs=$IFS
	IFS=' 	
'
	set -f
	# shellcheck disable=SC2086 # splitting on blanks is the point
	set -- $1
	set +f
	IFS=
	nb="$*"
	IFS=$old_ifs
}

# tag_get RECORD NAME: sets $tag to the value of NAME in a tag=value list
# (RFC 6376 3.2, RFC 7489 6.4), blanks around it removed; status 1 when
# NAME is not there.
tag_get() {
	rest=$1
	while [ -n "$rest" ]; do
		item=${rest%%;*}
		case $rest in
		*\;*) rest=${rest#*;} ;;
		*) rest= ;;
		esac
		case $item in
		*=*) ;;
		*) continue ;;
		esac
		k=${item%%=*}
		k=${k#"${k%%[! 	]*}"}
		k=${k%"${k##*[! 	]}"}
		[ "$k" = "$2" ] || continue
		tag=${item#*=}
		tag=${tag#"${tag%%[! 	]*}"}
		tag=${tag%"${tag##*[! 	]}"}
		return 0
	done
	tag=
	return 1
}
