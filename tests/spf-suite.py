#!/usr/bin/python3
# tests/spf-suite.py SUITE.yml PORTS JOBS PROGRAM [OPTION...]: run every
# case of the RFC 7208 test suite through PROGRAM (qmail-dkim-spf) with
# the resolver of tests/spf-dns.py for the case's scenario, and print one
# line a case:
#   right|wrong|skipped SCENARIO/CASE expected=R[,R] got=R: REASON
# A case is right when the result is one the suite accepts; skipped when
# PROGRAM answers unknown (what its evaluator does not evaluate).  The
# suite's explanation strings are not compared: PROGRAM gives none.
import concurrent.futures
import subprocess
import sys

import yaml


def split(mailfrom, helo):
    """check_host()'s <domain> and <sender> (RFC 7208 4.1, 4.3)."""
    if not mailfrom:
        return helo, 'postmaster@' + helo
    if '@' not in mailfrom:
        return mailfrom, 'postmaster@' + mailfrom
    local, dom = mailfrom.rsplit('@', 1)
    if not local:
        mailfrom = 'postmaster' + mailfrom
    return dom, mailfrom


def run(prog, port, case):
    dom, sender = split(case.get('mailfrom', ''), case['helo'])
    cmd = prog + ['-s', '127.0.0.1:%d' % port, '-h', case['helo'],
                  case['host'], dom, sender]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=120,
                             check=False).stdout.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired:
        return 'timeout: the program did not finish'
    line = (out.splitlines() or ['nothing: no output'])[0]
    return ''.join(c if c.isprintable() else '?' for c in line)


def main():
    suite, ports, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prog = sys.argv[4:]
    docs = list(yaml.safe_load_all(open(suite, encoding='utf-8')))
    port = {}
    for line in open(ports):
        f = line.split()
        if len(f) == 2:
            port[int(f[0])] = int(f[1])
    cases = []
    for i, d in enumerate(docs):
        for name, case in sorted(d['tests'].items()):
            cases.append((i, name, case))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        got = list(pool.map(lambda c: run(prog, port[c[0]], c[2]), cases))
    for (i, name, case), line in zip(cases, got):
        want = case['result']
        if isinstance(want, str):
            want = [want]
        res = line.split(':', 1)[0]
        verdict = 'right' if res in want else 'wrong'
        if res == 'unknown':
            verdict = 'skipped'
        print('%s %d/%s expected=%s got=%s' % (verdict, i, name,
                                               ','.join(want), line))


if __name__ == '__main__':
    main()
