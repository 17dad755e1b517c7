#!/usr/bin/python3
"""differential.py: many messages through qmail-dkim and through qmail-dkimc
with a running qmail-dkimd, in one process (a python a delivery is too slow).

differential.py gen  [OPTIONS]   tests/430: each generated message (msggen.py)
    is delivered once through qmail-dkim and once through qmail-dkimc, each
    time under the next policy (the control files switched between
    deliveries), and each delivery is judged on its own:
      signed    the real qmail-remote ran, its report alone on the pipe, the
                message behind one DKIM-Signature a selector, byte for byte
                the original (its CR-free form when it holds CRs,
                qmail-dkim(8), Line endings), and every signature verified
                by dkimpy and by go-msgauth on the wire bytes of netqmail
                and of notqmail
      unsigned  the real one ran with the message byte for byte
      deferred  one Z record, exit 0, the real one not run
    and the two programs must reach the same verdict.  The verdict must
    also be the documented one (tests/expect.py, from the message bytes):
    signed when a correct signature is possible, else unsigned.  The share
    of each class is printed ("# must be ...").
differential.py same [OPTIONS]   tests/431: qmail-dkimd must equal qmail-dkim.
    Under a clock frozen by libfaketime, the corpus and generated messages go
    through one qmail-dkimd worker, each several times and the policies
    switching between requests; each result must be byte for byte what
    qmail-dkim gave for the same message and policy.

The home (--home) holds the keys and the selector file; the driver installs
bin/qmail-remote.orig (tests/remote-stub) and bin/qmail-dkim, writes the
policy control files and runs its own qmail-dkimd.  Each delivery is
started as qmail-rspawn starts qmail-remote (tests/rspawn.py): fd 0 the
message opened O_RDONLY|O_NONBLOCK, fd 1 a pipe, fd 2 the same pipe,
umask 077, SIGPIPE ignored, SIGCHLD blocked, environment PATH and
QMAILDKIM_HOME, working directory queue/mess.

A failure prints the message, escaped, and keeps it under --scratch
(failed/); with --corpus-out it also becomes a new corpus file, described
in the form of tests/corpus/MANIFEST.  Exit 0 when everything passed.
"""
import argparse
import hashlib
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expect  # noqa: E402
import msggen  # noqa: E402

# dnspython's import is slow and never used: the keys come from files
sys.modules["dns"] = sys.modules["DNS"] = None
import dkim  # noqa: E402

# Policies: None removes the file.  "all" sets every control file.
POLICIES = {
    "default": {},
    "simple": {"dkimcanon": "simple/simple\n",
               "dkimsignheaders": "From:To:Cc:Subject:Date:Message-ID:X-Odd\n",
               "dkimoversignheaders": "From Subject X-Odd\n",
               "dkimexpire": "604800\n"},
    "mixed": {"dkimcanon": "relaxed/simple\n",
              "dkimsignheaders": "from\nto\nsubject\ncontent-type\nreply-to\n",
              "dkimoversignheaders": "",
              "dkimexpire": "86400\n"},
    "lone": {"dkimcanon": "simple\n",
             "dkimsignheaders": "FROM:TO:CC:SUBJECT:LIST-ID:MIME-VERSION\n",
             "dkimoversignheaders": "to:cc:list-id\n",
             "dkimexpire": "3600\n"},
    "bodyrelaxed": {"dkimcanon": "simple/relaxed\n",
                    "dkimsignheaders": "From Date Keywords Comments\n",
                    "dkimoversignheaders": "From\n",
                    "dkimexpire": "31536000\n"},
}
POLICIES["rights"] = {"dkimrights": "1000: example.com\n1001: forwarder\n"
                                    "1002: xn--bcher-kva.test\nroot: *\n"}
POLICY_FILES = ("dkimcanon", "dkimsignheaders", "dkimoversignheaders", "dkimexpire",
                "dkimrights")

# What qmail writes on top of a queue file (notqmail qmail-queue.c,
# qmail-local.c mailforward, received.c), for the chain cases of "same":
# each replaces a generated message's first line.
Q = b"Received: (qmail 77 invoked %s); 1 Jan 2026 00:00:00 -0000\n"
DT = b"Delivered-To: fwd@example.com\n"
SMTPD = (b"Received: from localhost (HELO pc) (%s)\n"
         b"  by host.example with SMTP; 1 Jan 2026 00:00:00 -0000\n")
CHAIN_TOPS = [
    ("local forward", Q % b"by uid 1000" + DT + Q % b"by uid 1000"),
    ("another user's mail forwarded", Q % b"by uid 1000" + DT + Q % b"by uid 1002"),
    ("network mail forwarded", Q % b"by uid 1000" + DT + Q % b"from network"
     + SMTPD % b"192.0.2.1"),
    ("trusted forwarder", Q % b"by uid 1001" + DT + Q % b"by uid 1000"),
    ("qmail-inject again", Q % b"by uid 0" + Q % b"by uid 1000"),
    ("loopback, ident root", Q % b"from network" + SMTPD % b"root@127.0.0.1"),
    ("loopback, no ident", Q % b"from network" + SMTPD % b"127.0.0.1"),
    ("another host", Q % b"from network" + SMTPD % b"nobody@192.0.2.7"),
    ("list post", Q % b"by uid 1000" + b"Delivered-To: mailing list l@example.com\n"),
    ("bounce forwarded", Q % b"by uid 1000" + DT + Q % b"for bounce"),
]

# the DKIM note of control/dkimreport, in the message record
NOTE = rb"(?: DKIM (?:signed d=|not signed: )[^\0\n]*)?"
REPORT_OK = re.compile(rb"\A(?:r\0)+(?:Kok \(remote-stub\)" + NOTE + rb"\n|DSMTP cannot transfer "
                       rb"messages with partial final lines\. \(#5\.6\.2\)" + NOTE + rb"\n)\0\Z")
REPORT_Z = re.compile(rb"\AZ[^\0]*\n\0\Z")
SIG_FIELD = re.compile(rb"DKIM-Signature:[^\n]*\n(?:[ \t][^\n]*\n)*")


def escape(b, limit=3000):
    """Bytes as one readable line: printable ASCII as is, the rest \\xNN,
    line ends shown and kept."""
    out = []
    for c in b[:limit]:
        if c == 0x0A:
            out.append("\\n\n")
        elif c == 0x0D:
            out.append("\\r")
        elif c == 0x09:
            out.append("\\t")
        elif 0x20 <= c < 0x7F and c != 0x5C:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    s = "".join(out)
    if len(b) > limit:
        s += "\n... (%d bytes in all)" % len(b)
    return s


def handed_on_form(msg):
    """What a signed delivery hands on (qmail-dkim(8), Line endings)."""
    if b"\r" not in msg:
        return msg
    return msg.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def wire(data, flavour):
    """The DATA the receiver reconstructs (tests/fake-remote.py)."""
    if flavour == "notqmail":
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return data.replace(b"\n", b"\r\n")


def tags(field):
    """A DKIM-Signature field's tags, white space removed."""
    v = re.sub(rb"\s+", b"", field.split(b":", 1)[1])
    out = {}
    for t in v.split(b";"):
        k, _, val = t.partition(b"=")
        if k:
            out[k.decode("ascii", "replace")] = val
    return out


def relaxed(policy):
    """Whether the policy's header canonicalization is relaxed."""
    return POLICIES[policy].get("dkimcanon", "relaxed").split("/")[0].strip() == "relaxed"


class Driver:
    def __init__(self, a):
        self.a = a
        self.home = os.path.abspath(a.home)
        self.scratch = os.path.abspath(a.scratch)
        self.msgdir = os.path.join(self.scratch, "msg")
        self.wiredir = os.path.join(self.scratch, "wires")
        self.faildir = os.path.join(self.scratch, "failed")
        for d in (self.msgdir, self.wiredir, self.faildir):
            os.makedirs(d, exist_ok=True)
        self.stub_out = os.path.join(self.scratch, "stub.out")
        self.bin = os.path.join(self.home, "bin")
        shutil.copy(a.stub, os.path.join(self.bin, "qmail-remote.orig"))
        shutil.copy(a.qdkim, os.path.join(self.bin, "qmail-dkim"))
        self.env = {"PATH": self.bin + ":/usr/bin:/bin", "QMAILDKIM_HOME": self.home,
                    "STUB_OUT": self.stub_out}
        self.preload = {}
        if a.faketime:
            self.preload = {"LD_PRELOAD": a.libfaketime, "FAKETIME": a.faketime,
                            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                            "FAKETIME_NO_CACHE": "1"}
        self.daemon = None
        self.failures = 0
        self.fail_files = []
        self.policy = None
        self.counts = {}

    # --- control files and the daemon --------------------------------------

    def set_policy(self, name):
        if name == self.policy:
            return
        self.policy = name
        files = POLICIES[name]
        for f in POLICY_FILES:
            path = os.path.join(self.home, "control", f)
            if f in files:
                with open(path, "w") as fh:
                    fh.write(files[f])
            elif os.path.exists(path):
                os.unlink(path)

    def start_daemon(self):
        run = os.path.join(self.scratch, "run")
        os.makedirs(run, exist_ok=True)
        sock = os.path.join(run, "dkimd.sock")
        env = {"PATH": "/usr/bin:/bin", "QMAILDKIM_HOME": self.home}
        env.update(self.preload)
        self.daemon_err = open(os.path.join(self.scratch, "dkimd.err"), "wb")
        self.daemon = subprocess.Popen([self.a.qdkimd, "-n", "1", sock], env=env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=self.daemon_err)
        with open(os.path.join(self.home, "control", "dkimsocket"), "w") as f:
            f.write(sock + "\n")
        for _ in range(200):
            if self.daemon.poll() is not None:
                sys.exit("qmail-dkimd ended at start, status %d" % self.daemon.returncode)
            if os.path.exists(sock) and self.workers():
                self.first_workers = self.workers()
                return
            time.sleep(0.05)
        sys.exit("qmail-dkimd did not start")

    def workers(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.daemon.pid, self.daemon.pid)) as f:
                return sorted(f.read().split())
        except OSError:
            return []

    def stop_daemon(self):
        if self.daemon is None:
            return
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(10)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()

    # --- one delivery, as qmail-rspawn makes it ------------------------------

    def deliver(self, program, msgfile, sender, extra_env=None):
        """(status, report, handed-on bytes or None, fell back)"""
        for p in (self.stub_out, self.stub_out + ".fellback"):
            if os.path.exists(p):
                os.unlink(p)
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        fd0 = os.open(msgfile, os.O_RDONLY | os.O_NONBLOCK)
        r, w = os.pipe()
        argv = ["qmail-remote", "example.net", sender, "rcpt@example.net"]
        pid = os.posix_spawn(program, argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, fd0, 0), (os.POSIX_SPAWN_DUP2, w, 1),
            (os.POSIX_SPAWN_DUP2, w, 2)], setsigmask={signal.SIGCHLD})
        os.close(fd0)
        os.close(w)
        report = bytearray()
        deadline = time.monotonic() + self.a.timeout
        eof = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                break
            buf = os.read(r, 65536)
            if not buf:
                eof = True
                break
            report += buf
        os.close(r)
        if not eof:
            os.kill(pid, signal.SIGKILL)
        _, st = os.waitpid(pid, 0)
        if not eof:
            status = "timeout"
        elif os.WIFSIGNALED(st):
            status = "signal %d" % os.WTERMSIG(st)
        else:
            status = str(os.WEXITSTATUS(st))
        out = None
        if os.path.exists(self.stub_out):
            with open(self.stub_out, "rb") as f:
                out = f.read()
        return status, bytes(report), out, os.path.exists(self.stub_out + ".fellback")

    # --- verdicts ------------------------------------------------------------

    def judge(self, msg, status, report, out):
        """("signed", [fields], handed-on) / ("unsigned",) / ("deferred",) /
        ("broken", why)"""
        if out is None:
            if status == "0" and REPORT_Z.match(report):
                return ("deferred", report)
            return ("broken", "the real qmail-remote did not run; status %s, report %r"
                    % (status, report))
        if status != "0" or not REPORT_OK.match(report):
            return ("broken", "status %s, report %r" % (status, report))
        if out == msg:
            return ("unsigned",)
        rest = handed_on_form(msg)
        fields = []
        pos = 0
        while len(out) - pos > len(rest):
            m = SIG_FIELD.match(out, pos)
            if not m:
                break
            fields.append(m.group(0))
            pos = m.end()
        if not fields:
            return ("broken", "handed on unsigned, but changed")
        if out[pos:] != rest:
            return ("broken", "signed, but the message after the signatures is not "
                    "the original%s" % (" (CR-free form)" if rest != msg else ""))
        if len(fields) != self.a.selectors:
            return ("broken", "%d signatures, %d selectors" % (len(fields), self.a.selectors))
        algs = sorted(tags(f).get("a", b"?").decode("ascii", "replace") for f in fields)
        if algs != sorted(self.a.algorithms):
            return ("broken", "signatures with a=%s" % ",".join(algs))
        return ("signed", fields, out)

    def dnsfunc(self, name, timeout=5):
        name = name.decode("ascii", "replace").rstrip(".")
        if "/" in name or name.startswith("."):
            return None
        try:
            with open(os.path.join(self.a.dns, name), "rb") as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def dkimpy(self, data, k):
        """None when the first k signatures verify, else why not."""
        try:
            d = dkim.DKIM(data)
            for i in range(k):
                if not d.verify(idx=i, dnsfunc=self.dnsfunc):
                    return "dkimpy: signature %d does not verify" % (i + 1)
        except Exception as e:  # dkimpy raises many kinds on odd input
            return "dkimpy: %s: %s" % (type(e).__name__, e)
        return None

    def fail(self, label, msg, sender, why, extra=""):
        self.failures += 1
        h = hashlib.sha256(msg).hexdigest()[:12]
        path = os.path.join(self.faildir, "%s.eml" % h)
        with open(path, "wb") as f:
            f.write(msg)
        self.fail_files.append((h, path, sender, label, why))
        if self.failures <= self.a.show:
            print("FAIL %s (sender <%s>): %s\n  kept as %s%s\n  the message, escaped:\n%s\n"
                  % (label, sender, why, path, extra,
                     "    " + escape(msg).replace("\n", "\n    ")))
        elif self.failures == self.a.show + 1:
            print("(more failures: only counted from here on)")

    def count(self, what):
        self.counts[what] = self.counts.get(what, 0) + 1

    # --- gen -------------------------------------------------------------------

    def run_gen(self):
        self.start_daemon()
        # the oracle (tests/expect.py) judges the message, not who sent
        # it: control/dkimrights is "same"'s, for the chain cases
        policies = [p for p in POLICIES if p != "rights"]
        pending = []   # wire files for go-msgauth: (k, path, label, msg, sender)
        classes = {}   # what tests/expect.py says of each message
        t0 = time.monotonic()
        n = 0
        for m in msggen.messages(self.a.seed, self.a.count):
            n += 1
            msgfile = os.path.join(self.msgdir, "m.eml")
            with open(msgfile, "wb") as f:
                f.write(m.data)
            sender = m.sender.decode("latin-1")
            pol = policies[n % len(policies)]
            self.set_policy(pol)
            verdicts = {}
            want = expect.signable(m.data, m.sender, relaxed(pol), self.a.keyed)
            classes[want] = classes.get(want, 0) + 1
            if want is not None and self.a.reference:
                self.reference(n, m.data, want)
            for prog, name in ((self.a.qdkim, "qmail-dkim"), (self.a.qdkimc, "qmail-dkimc")):
                label = "%s via %s, policy %s [%s]" % (m.name, name, pol, m.shape)
                status, report, out, fell = self.deliver(prog, msgfile, sender)
                if fell:
                    self.count("qmail-dkimc fell back to qmail-dkim")
                v = self.judge(m.data, status, report, out)
                verdicts[name] = v
                self.count("%s: %s" % (name, v[0]))
                if v[0] == "broken":
                    self.fail(label, m.data, sender, v[1])
                    continue
                if want is None and v[0] != "signed":
                    self.fail(label, m.data, sender, "the documented rules say signable; "
                              "it went on %s" % v[0])
                elif want is not None and v[0] != "unsigned":
                    self.fail(label, m.data, sender, "the documented rules say unsigned (%s); "
                              "it went on %s" % (want, v[0]))
                if v[0] != "signed":
                    continue
                for f in v[1]:
                    c = tags(f).get("c", b"simple/simple").decode("ascii", "replace")
                    hc = expect.header_canon(m.data, relaxed(pol))
                    why = (c.split("/")[0] != hc and "c=%s, where qmail-dkim(8) says "
                           "the header is canonicalized %s" % (c, hc)) or \
                        expect.h_wrong(m.data, tags(f).get("h", b""), hc == "relaxed")
                    if hc == "simple" and relaxed(pol) and f is v[1][0]:
                        self.count("%s: c=simple for the header" % name)
                    if why:
                        self.fail(label, m.data, sender, why + " (qmail-dkim(8))",
                                  "\n  signature: " + escape(f, 2000))
                k = len(v[1])
                seen = set()
                for flavour in ("netqmail", "notqmail"):
                    wd = wire(v[2], flavour)
                    if wd in seen:
                        continue
                    seen.add(wd)
                    why = self.dkimpy(wd, k)
                    if why:
                        self.fail(label, m.data, sender, "%s (%s wire)" % (why, flavour),
                                  "\n  signatures: " + escape(b"".join(v[1]), 2000))
                        continue
                    wp = os.path.join(self.wiredir, "%d-%s-%s" % (n, name, flavour))
                    with open(wp, "wb") as f:
                        f.write(wd)
                        if not wd.startswith(b"\r\n") and b"\r\n\r\n" not in wd:
                            # a header alone: go-msgauth reads up to the
                            # blank line and fails without one; the empty
                            # body it then sees is the one signed (RFC 6376
                            # 3.4.3, 3.4.4)
                            f.write(b"\r\n")
                    pending.append((k, wp, label + ", " + flavour, m.data, sender))
            self.same_verdict("%s, policy %s [%s]" % (m.name, pol, m.shape), m.data, sender,
                              verdicts["qmail-dkim"], verdicts["qmail-dkimc"])
            if len(pending) >= 500:
                self.msgauth(pending)
                pending = []
        self.msgauth(pending)
        self.stop_daemon()
        refs = self.reference_verified()
        took = time.monotonic() - t0
        print("# %d messages (seed %s), %d deliveries in %.1f s" % (n, self.a.seed, 2 * n, took))
        for k in sorted(self.counts):
            print("# %s: %d" % (k, self.counts[k]))
        for k in sorted(classes, key=lambda k: (k is not None, -classes[k])):
            print("# must be %s: %d (%.0f %%)" % ("signed" if k is None else "unsigned, " + k,
                                                 classes[k], 100.0 * classes[k] / max(n, 1)))
        for k in sorted(refs, key=refs.get, reverse=True):
            print("# unsigned, yet dkimpy signs it so that dkimpy and Mail::DKIM verify "
                  "(%s): %d" % (k, refs[k]))
        return self.finish()

    def same_verdict(self, label, msg, sender, vd, vc):
        """qmail-dkim and qmail-dkimc (the daemon) under the same policy: the
        same verdict and, signed, the same tags but for the time (t=, x=)
        and what depends on it (b=)."""
        if "broken" in (vd[0], vc[0]):
            return
        if vd[0] != vc[0]:
            self.fail(label, msg, sender, "qmail-dkim: %s, qmail-dkimc: %s" % (vd[0], vc[0]))
            return
        if vd[0] != "signed":
            return
        for a, b in zip(vd[1], vc[1]):
            ta, tb = tags(a), tags(b)
            diff = ["%s= %s / %s" % (t, ta.get(t, b"-").decode("ascii", "replace")[:300],
                                     tb.get(t, b"-").decode("ascii", "replace")[:300])
                    for t in sorted(set(ta) | set(tb)) if t not in ("t", "x", "b")
                    and ta.get(t) != tb.get(t)]
            if diff:
                self.fail(label, msg, sender, "qmail-dkim and qmail-dkimc signed "
                          "differently: " + "; ".join(diff))
                return

    def msgauth(self, pending):
        if not pending:
            return
        p = subprocess.run([self.a.msgauth, "-batch", self.a.dns], input="".join(
            "%d %s\n" % (k, wp) for k, wp, *_ in pending).encode(), stdout=subprocess.PIPE)
        res = {}
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            wp, _, verdict = line.partition(" ")
            res[wp] = verdict
        for k, wp, label, msg, sender in pending:
            v = res.get(wp, "no answer")
            if v != "pass":
                self.fail(label, msg, sender, "go-msgauth: " + v)
            else:
                os.unlink(wp)

    # --- what an independent signer can do with the unsigned ones -------------

    def reference(self, n, data, want):
        """--reference KEYFILE: dkimpy signs a message qmail-dkim leaves
        unsigned, relaxed/relaxed or else simple/simple, as the receiver
        gets it (notqmail's wire form); where dkimpy verifies it, the file
        waits for Mail::DKIM (reference_verified)."""
        if not hasattr(self, "ref_pem"):
            with open(self.a.reference, "rb") as f:
                self.ref_pem = f.read()
            self.ref_pending = []
        wd = wire(data, "notqmail")
        for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple")):
            try:
                sig = dkim.sign(wd, b"rsa", b"example.com", self.ref_pem, canonicalize=canon)
                if not dkim.verify(sig + wd, dnsfunc=self.dnsfunc):
                    continue
            except Exception:  # dkimpy raises many kinds on odd input
                continue
            wp = os.path.join(self.wiredir, "ref-%d" % n)
            with open(wp, "wb") as f:
                f.write(sig + wd)
            self.ref_pending.append((wp, want))
            return

    def reference_verified(self):
        """{class: how many dkimpy signed so that dkimpy and Mail::DKIM
        verify}"""
        out = {}
        pending = getattr(self, "ref_pending", [])
        if not pending:
            return out
        p = subprocess.run(["perl", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "verify-batch.pl"), self.a.dns] +
                           [wp for wp, _ in pending], stdout=subprocess.PIPE)
        passed = set(line.split(" ", 1)[0] for line in
                     p.stdout.decode("utf-8", "replace").splitlines()
                     if line.endswith(" pass"))
        for wp, want in pending:
            if wp in passed:
                out[want] = out.get(want, 0) + 1
            os.unlink(wp)
        return out

    # --- same ------------------------------------------------------------------

    def run_same(self):
        self.start_daemon()
        cases = []
        if self.a.corpus:
            with open(os.path.join(self.a.corpus, "MANIFEST")) as f:
                for line in f:
                    w = line.split()
                    if not w or w[0].startswith("#"):
                        continue
                    with open(os.path.join(self.a.corpus, w[0]), "rb") as fh:
                        data = fh.read()
                    cases.append(("corpus/" + w[0], data, w[2] if len(w) > 2 else "x@nokey.test"))
        for m in msggen.messages(self.a.seed, self.a.count):
            cases.append((m.name + " [" + m.shape + "]", m.data, m.sender.decode("latin-1")))
        # the chain cases: a forward's or a relay's lines on top instead
        # of the first line, decided with and without control/dkimrights
        gen = [c for c in cases if not c[0].startswith("corpus/")]
        for k, (label, data, sender) in enumerate(gen[:4 * len(CHAIN_TOPS)]):
            what, top = CHAIN_TOPS[k % len(CHAIN_TOPS)]
            if data.startswith(b"Received: (qmail "):
                data = data[data.index(b"\n") + 1:]
            cases.append(("chain/%s, %s" % (what, label), top + data, sender))
        rounds = ["simple", "default", "mixed", "default", "lone", "bodyrelaxed"][:self.a.rounds]
        rng = random.Random(self.a.seed)
        ref = {}
        t0 = time.monotonic()
        n = 0
        # each round: every message once, in an order of its own, under the
        # round's policy; within a round the policy also changes every few
        # messages, so that both set and unset meet the same worker
        for rnd, base in enumerate(rounds):
            order = list(range(len(cases)))
            rng.shuffle(order)
            for j, i in enumerate(order):
                pol = base if j % 3 else ("default" if base != "default" else "simple")
                label, data, sender = cases[i]
                if label.startswith("chain/") and j % 2:
                    pol = "rights"
                msgfile = os.path.join(self.msgdir, "%d.eml" % i)
                if not os.path.exists(msgfile):
                    with open(msgfile, "wb") as f:
                        f.write(data)
                self.set_policy(pol)
                if (i, pol) not in ref:
                    ref[(i, pol)] = self.deliver(self.a.qdkim, msgfile, sender, self.preload)
                want = ref[(i, pol)]
                got = self.deliver(self.a.qdkimc, msgfile, sender)
                n += 1
                where = "%s, policy %s, round %d" % (label, pol, rnd + 1)
                if got[3]:
                    # qmail-dkimc leaves empty and large messages to qmail-dkim
                    if 0 < len(data) <= 1 << 20:
                        self.fail(where, data, sender, "qmail-dkimc fell back to qmail-dkim")
                    self.count("qmail-dkimc fell back to qmail-dkim")
                    continue
                verdict = self.compare(where, data, sender, want, got)
                if label.startswith("chain/"):
                    self.count("chain cases %s under %s" % (
                        verdict, "control/dkimrights" if pol == "rights" else "no rights file"))
        if self.workers() != self.first_workers:
            self.failures += 1
            print("FAIL the qmail-dkimd worker changed: %s, then %s (a worker died, "
                  "or the daemon ended)" % (self.first_workers, self.workers()))
        self.stop_daemon()
        took = time.monotonic() - t0
        print("# %d cases, %d daemon requests, %d qmail-dkim runs, in %.1f s"
              % (len(cases), n, len(ref), took))
        for k in sorted(self.counts):
            print("# %s: %d" % (k, self.counts[k]))
        return self.finish()

    def compare(self, where, data, sender, want, got):
        ws, wr, wo, _ = want
        gs, gr, go, _ = got
        vw = self.judge(data, ws, wr, wo)
        vg = self.judge(data, gs, gr, go)
        self.count("verdict %s" % vg[0])
        self._compare(where, data, sender, want, got, vw, vg)
        return vg[0]

    def _compare(self, where, data, sender, want, got, vw, vg):
        ws, wr, wo, _ = want
        gs, gr, go, _ = got
        if vw[0] != vg[0]:
            self.fail(where, data, sender, "qmail-dkim: %s, qmail-dkimd: %s"
                      % (vw[0] if vw[0] != "broken" else vw[1],
                         vg[0] if vg[0] != "broken" else vg[1]))
            return
        if vw[0] == "deferred":
            if ws != gs:
                self.fail(where, data, sender, "deferred, status %s against %s" % (ws, gs))
            return
        if vw[0] == "broken":
            self.fail(where, data, sender, "both broken: %s" % vw[1])
            return
        if vw[0] == "unsigned":
            return
        names, diffs = [], []
        order = ["a", "s", "c", "h", "bh", "t", "x", "b"]
        for a, b in zip(vw[1], vg[1]):
            ta, tb = tags(a), tags(b)
            for t in sorted(set(ta) | set(tb), key=lambda t: (order + [t]).index(t)):
                if ta.get(t) != tb.get(t):
                    if t not in names:
                        names.append(t)
                    diffs.append("%s %s= %s / %s" % (
                        ta.get("a", b"?").decode("ascii", "replace"), t,
                        ta.get(t, b"-").decode("ascii", "replace")[:200],
                        tb.get(t, b"-").decode("ascii", "replace")[:200]))
        if diffs or wo != go:
            self.fail(where, data, sender, "qmail-dkim / qmail-dkimd differ in %s: %s" % (
                " ".join(n + "=" for n in names) or "the bytes handed on", "; ".join(diffs)))

    # --- the end ---------------------------------------------------------------

    def finish(self):
        if self.a.corpus_out and self.fail_files:
            self.to_corpus()
        if self.failures:
            for h, _, sender, label, why in self.fail_files[:200]:
                print("# failed: %s.eml <%s> %s: %s" % (h, sender, label,
                                                       re.sub(r"\s+", " ", why)[:120]))
            kinds = {}
            for *_, why in self.fail_files:
                k = re.sub(r"\d+", "N", why)
                k = k.split(": ")[0] if k.startswith("qmail-dkim / ") else k[:110]
                kinds[k] = kinds.get(k, 0) + 1
            for k in sorted(kinds, key=kinds.get, reverse=True):
                print("# %5d x %s" % (kinds[k], k))
            print("# %d failures; the messages are in %s" % (self.failures, self.faildir))
            return 1
        return 0

    def to_corpus(self):
        """Each failing message a new corpus file, with its MANIFEST line:
        EXPECTED is, as the MANIFEST says, what qmail-dkim does with it
        today (delivered once more, default policy), whether right or not;
        the comment above says what failed."""
        manifest = os.path.join(self.a.corpus_out, "MANIFEST")
        with open(manifest) as f:
            have = f.read()
        self.set_policy("default")
        lines, done = [], set()
        for h, path, sender, label, why in self.fail_files:
            name = "soak-%s.eml" % h
            dest = os.path.join(self.a.corpus_out, name)
            if h in done or os.path.exists(dest) or name in have:
                continue
            done.add(h)
            if not re.fullmatch(r"[^\s@]+@[^\s@]+", sender) or sender == "#@[]":
                sender = ""   # the corpus default, x@nokey.test
            with open(path, "rb") as f:
                msg = f.read()
            v = self.judge(msg, *self.deliver(self.a.qdkim, path, sender or "x@nokey.test")[:3])
            if v[0] == "signed":
                want = "signed:" + tags(v[1][0]).get("d", b"?").decode("ascii", "replace")
            else:
                want = v[0] if v[0] in ("unsigned", "deferred") else "unsigned"
            shutil.copy(path, dest)
            os.chmod(dest, 0o644)
            line = "# %s: %s\n%-28s %-19s %s" % (
                label.split(" [")[0], re.sub(r"\s+", " ", why)[:150], name, want, sender)
            lines.append(line.rstrip() + "\n")
            print("# new corpus file tests/corpus/%s (%s)" % (name, want))
        if lines:
            with open(manifest, "a") as f:
                if "\n# from make soak" not in have:
                    f.write("\n# from make soak (tests/differential.py): each failed there, "
                            "as its comment says\n")
                f.writelines(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("gen", "same"))
    ap.add_argument("--home", required=True)
    ap.add_argument("--dns", required=True)
    ap.add_argument("--scratch", required=True)
    ap.add_argument("--qdkim", required=True)
    ap.add_argument("--qdkimc", required=True)
    ap.add_argument("--qdkimd", required=True)
    ap.add_argument("--stub", required=True)
    ap.add_argument("--msgauth", required=True)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--corpus")
    ap.add_argument("--corpus-out")
    ap.add_argument("--keyed", default="example.com",
                    help="the domains with keys, separated by commas")
    ap.add_argument("--reference", metavar="KEYFILE",
                    help="count the unsigned messages dkimpy can sign (RSA key "
                    "for s=rsa, d=example.com) so that dkimpy and Mail::DKIM verify")
    ap.add_argument("--selectors", type=int, default=2)
    ap.add_argument("--algorithms", default="ed25519-sha256,rsa-sha256")
    ap.add_argument("--faketime")
    ap.add_argument("--libfaketime",
                    default="/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--show", type=int, default=10)
    a = ap.parse_args()
    a.algorithms = a.algorithms.split(",")
    a.keyed = set(d.encode() for d in a.keyed.split(","))
    os.umask(0o077)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    d = Driver(a)
    os.chdir(os.path.join(d.home, "queue", "mess"))
    try:
        return d.run_gen() if a.mode == "gen" else d.run_same()
    finally:
        d.stop_daemon()


if __name__ == "__main__":
    sys.exit(main())
