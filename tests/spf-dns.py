#!/usr/bin/python3
# tests/spf-dns.py SUITE.yml PORTS: a stand-in DNS server for the RFC 7208
# test suite (the YAML one that pyspf ships).  Each scenario's zonedata
# is served on a UDP and a TCP socket of its own on 127.0.0.1; PORTS gets
# one line per scenario, "INDEX PORT", then "ready".  The zone is read as
# the suite's own driver (pyspf's testspf.py) reads it: names without
# case and without empty labels; TIMEOUT, or a record whose value is
# TIMEOUT, is a query left unanswered; a name not in the zone is NXDOMAIN,
# or unanswered when it starts with "error."; SPF records are served as
# TXT too when the name has no TXT; a CNAME is followed one step.
import select
import socket
import struct
import sys

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import yaml


def records(data):
    zone = {}
    for name, rrs in data.get('zonedata', {}).items():
        out, txt, has_txt = [], [], False
        for rr in rrs:
            if rr == 'TIMEOUT':
                out.append(('TIMEOUT', None))
                continue
            for t, v in rr.items():
                if t in ('TXT', 'SPF') and isinstance(v, str):
                    v = [v]
                if v == [] and t in ('TXT', 'SPF'):
                    continue    # no strings: not a record on the wire
                if t == 'TXT':
                    has_txt = True
                if t == 'SPF':
                    txt.append(v)
                if v != ['NONE']:
                    out.append((t, v))
        if not has_txt:
            out += [('TXT', v) for v in txt]
        zone[name.lower().strip('.')] = out
    return zone


def rdata(t, v):
    if t in ('TXT', 'SPF'):
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT,
                                       [s.encode('utf-8') for s in v])
    if t == 'MX':
        return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.MX,
                                   '%d %s.' % (v[0], v[1].rstrip('.')))
    if t in ('PTR', 'CNAME'):
        return dns.rdata.from_text(dns.rdataclass.IN,
                                   dns.rdatatype.from_text(t), v.rstrip('.') + '.')
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(t), v)


def answer(zone, qname, qtype, level=0):
    """(rcode, [(owner, type, value)]) or None for no answer."""
    key = '.'.join(l for l in qname.lower().split('.') if l)
    if key not in zone:
        if key.startswith('error.'):
            return None
        return (dns.rcode.NXDOMAIN, [])
    out, seen = [], False
    for t, v in zone[key]:
        if t == 'TIMEOUT':
            if v is None and not seen:
                return None
            if v is None:
                break
        if t == qtype:
            seen = True
            if v == 'TIMEOUT':
                return None
        elif v == 'TIMEOUT':
            continue
        if t == qtype:
            out.append((qname, t, v))
        elif t == 'CNAME' and level == 0:
            out.append((qname, t, v))
            more = answer(zone, v, qtype, 1)
            if more is None:
                return None
            out += more[1]
    return (dns.rcode.NOERROR, out)


def reply(zone, wire):
    try:
        q = dns.message.from_wire(wire)
    except Exception:
        return None
    if not q.question:
        return None
    question = q.question[0]
    qname = '.'.join(l.decode('utf-8', 'replace') for l in question.name.labels)
    qtype = dns.rdatatype.to_text(question.rdtype)
    got = answer(zone, qname, qtype)
    if got is None:
        return None
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.set_rcode(got[0])
    for owner, t, v in got[1]:
        try:
            rd = rdata(t, v)
            name = question.name
            if owner != qname:
                name = dns.name.from_text(owner.rstrip('.') + '.')
        except Exception:
            continue
        rs = r.find_rrset(r.answer, name, dns.rdataclass.IN, rd.rdtype,
                          create=True)
        rs.add(rd, 3600)
    # loopback only: no truncation, the whole answer in one datagram
    return r.to_wire(max_size=65535)


def main():
    docs = list(yaml.safe_load_all(open(sys.argv[1], encoding='utf-8')))
    socks = {}
    with open(sys.argv[2], 'w') as ports:
        for i, d in enumerate(docs):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(('127.0.0.1', 0))
            port = u.getsockname()[1]
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                t.bind(('127.0.0.1', port))
                t.listen(8)
            except OSError:
                t.close()
                t = None
            zone = records(d)
            socks[u] = ('udp', zone)
            if t:
                socks[t] = ('tcp', zone)
            ports.write('%d %d\n' % (i, port))
        ports.write('ready\n')
    while True:
        ready, _, _ = select.select(list(socks), [], [])
        for s in ready:
            kind, zone = socks[s]
            if kind == 'udp':
                wire, peer = s.recvfrom(65535)
                out = reply(zone, wire)
                if out is not None:
                    s.sendto(out, peer)
                continue
            c, _ = s.accept()
            c.settimeout(2)
            try:
                n = struct.unpack('!H', c.recv(2))[0]
                wire = b''
                while len(wire) < n:
                    part = c.recv(n - len(wire))
                    if not part:
                        break
                    wire += part
                out = reply(zone, wire)
                if out is not None:
                    c.sendall(struct.pack('!H', len(out)) + out)
            except (OSError, struct.error):
                pass
            c.close()


if __name__ == '__main__':
    main()
