# shellcheck shell=sh disable=SC2034,SC2154 # variables shared with qmail-dkim-check
# qmail-dkim-check, sourced: IPv4 and IPv6 addresses.

# ---- addresses ---------------------------------------------------------------

# ip_in ADDRESS CIDR: is ADDRESS inside CIDR? IPv4 and IPv6, no bit
# operators (mawk has none): compare 16-bit groups, the last one divided.
ip_in() {
	awk -v a="$1" -v c="$2" '
	function hex(s,   i, v) {
		v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function v4(s, g, k,   p, i) {
		if (s !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) return -1
		split(s, p, ".")
		for (i = 1; i <= 4; i++) if (p[i] > 255) return -1
		g[k] = p[1] * 256 + p[2]; g[k + 1] = p[3] * 256 + p[4]
		return k + 1
	}
	function v6(s, g,   half, l, r, nl, nr, i, n, j, t) {
		if (s !~ /^[0-9A-Fa-f:.]+$/ || s !~ /:/) return -1
		n = split(s, half, "::")
		if (n > 2) return -1
		nl = (half[1] == "") ? 0 : split(half[1], l, ":")
		nr = (n == 2 && half[2] != "") ? split(half[2], r, ":") : 0
		j = 0
		for (i = 1; i <= nl; i++) {
			if (l[i] ~ /\./ && n == 1 && i == nl) { if (v4(l[i], g, j + 1) < 0) return -1; j += 2; continue }
			if (l[i] !~ /^[0-9A-Fa-f]+$/ || length(l[i]) > 4) return -1
			g[++j] = hex(l[i])
		}
		t = 0
		for (i = 1; i <= nr; i++) t += (r[i] ~ /\./) ? 2 : 1
		if (n == 2) while (j < 8 - t) g[++j] = 0
		for (i = 1; i <= nr; i++) {
			if (r[i] ~ /\./) { if (i != nr || v4(r[i], g, j + 1) < 0) return -1; j += 2; continue }
			if (r[i] !~ /^[0-9A-Fa-f]+$/ || length(r[i]) > 4) return -1
			g[++j] = hex(r[i])
		}
		return (j == 8) ? 8 : -1
	}
	function parse(s, g) { return (s ~ /:/) ? v6(s, g) : v4(s, g, 1) }
	BEGIN {
		net = c; len = -1
		if (c ~ /\//) { net = substr(c, 1, index(c, "/") - 1); len = substr(c, index(c, "/") + 1) + 0 }
		na = parse(a, A); nn = parse(net, N)
		if (na < 0 || na != nn) exit 1
		if (len < 0) len = na * 16
		if (len > na * 16) exit 1
		for (i = 1; i <= na && len > 0; i++) {
			if (len >= 16) { if (A[i] != N[i]) exit 1; len -= 16; continue }
			d = 2 ^ (16 - len)
			if (int(A[i] / d) != int(N[i] / d)) exit 1
			len = 0
		}
		exit 0
	}'
}

is_private() {
	ip_in "$1" 10.0.0.0/8 || ip_in "$1" 172.16.0.0/12 ||
		ip_in "$1" 192.168.0.0/16 || ip_in "$1" 100.64.0.0/10 ||
		ip_in "$1" 127.0.0.0/8 || ip_in "$1" 169.254.0.0/16 ||
		ip_in "$1" fc00::/7 || ip_in "$1" fe80::/10 || ip_in "$1" ::1/128
}
