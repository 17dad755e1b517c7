#!/usr/bin/python3
"""Kill one process of a delivery at a random moment, many times over.

kill-delivery.py --home DIR --dns DIR --out DIR --results FILE [--seed N]
                 CONFIG...

CONFIG is NAME:MSGFILE:FLAVOUR:PROGRAM:TRIALS, PROGRAM the signer to run
as qmail-remote (qmail-dkim, or qmail-dkimc with qmail-dkimd running),
FLAVOUR netqmail or notqmail (fake-remote.py's --mode), TRIALS how many
deliveries to kill.  Each delivery is started as qmail-rspawn starts
qmail-remote (as tests/rspawn.py does: fd 0 the queue file, non-blocking;
fd 1 and fd 2 one pipe, read until every holder has closed it; SIGPIPE
ignored, SIGCHLD blocked).  We are a child subreaper, so the detached
writer of a large message becomes our child and can be found and killed.

The real qmail-remote is tests/fake-remote.py, which copies qmail-remote.c's
blast(): it reads fd 0 until end of file ("K" only then, or "D" for a
partial last line, perm_partialline()) or a read error ("Z", temp_read(),
which exits without the final dot, so the server drops the DATA), and
records in "wire" what the server would have accepted.  With --slow it
reads 64 KiB a time with a pause before each read, as a qmail-remote held
up by a slow server does: the kill then finds more of the message in
flight.

First each CONFIG is delivered once, untouched, in each reading mode: it
must end in K with the whole message, and tells how long each phase
lasts.  Then each trial picks a target, a signal (TERM KILL HUP INT, each
target with each signal in turn) and a moment within that phase:
  signer  the pid qmail-rspawn started, while it is still qmail-dkim(c)
          and the real qmail-remote does not run yet
  writer  the detached writer, once it runs
  relay   the same pid once the real qmail-remote runs as its child and
          it relays the report (control/dkimreport 1, the default); the
          real one is then left to finish alone, its report lost, and a
          crash is what qmail-rspawn sees
  remote  the real qmail-remote (that pid, or the relay's child) once it
          has written
          its first record (python's start-up is over: fake-remote.py has
          given SIGINT back its default action, as qmail-remote, which
          catches no signal, has it; a SIGINT sooner would test python)
and sends the signal to that process alone.  Verdicts, as qmail-send
would take them:
  whole   status 0, K, and the wire is the whole message behind its
          DKIM-Signature, which dkimpy verifies (tests/verify-dkimpy.py)
  defer   status 0 with one Z record last, exit 111, or killed by a
          signal ("qmail-remote crashed"): qmail-send retries
  CUT     K or D with anything but the whole message: a lost message
  BROKEN  anything else (another status, no record, a process left)
One line per delivery goes to FILE: NAME TARGET SIGNAL LANDED VERDICT
DETAIL, LANDED the process the signal found ("signer", "writer",
"relay", "remote"), "over" when that process was gone by the chosen moment, or
"none" when the delivery ended before it.
"""
import argparse
import ctypes
import hashlib
import os
import random
import re
import select
import signal
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = "/usr/bin/python3"
SIGNALS = ("TERM", "KILL", "HUP", "INT")
TARGETS = ("signer", "writer", "relay", "remote")
SLOW = ["--slow", "0.003", "--chunk", "65536"]
SIGFIELDS = re.compile(rb"\A(?:DKIM-Signature:.*?\n(?![ \t]))+", re.S)


def set_remote(home, out, flavour, slow):
    """bin/qmail-remote.orig: fake-remote.py for this delivery."""
    args = ["--out", out, "--mode", flavour] + (SLOW if slow else [])
    path = os.path.join(home, "bin", "qmail-remote.orig")
    with open(path + ".tmp", "w") as f:
        f.write("#!%s\nimport runpy, sys\nsys.argv[1:1] = %r\n"
                "runpy.run_path(%r, run_name='__main__')\n"
                % (PY, args, os.path.join(TOP, "tests", "fake-remote.py")))
    os.chmod(path + ".tmp", 0o755)
    os.rename(path + ".tmp", path)


def child_setup():
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    os.umask(0o077)
    os.setpgid(0, 0)


def state(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read()
        return s[s.rindex(b")") + 2:s.rindex(b")") + 3].decode()
    except (OSError, ValueError):
        return "gone"


def alive(pid):
    return state(pid) not in ("gone", "Z", "X")


def is_signer(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid)).startswith("qmail-dkim")
    except OSError:
        return False


def children(me=None):
    me, found = me or os.getpid(), set()
    try:
        tids = os.listdir("/proc/%d/task" % me)
    except OSError:
        return found
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/children" % (me, tid)) as f:
                found.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return found


def real_remote(pid):
    """The real qmail-remote once it runs: pid itself when it was exec'd
    in the signer's place, or the relay's child (control/dkimreport)."""
    if not is_signer(pid):
        return pid if alive(pid) else None
    for c in children(pid):
        if alive(c) and not is_signer(c):
            return c
    return None


def name_of(pid):
    """comm and the argv as ps(1) shows them, "COMM/ARGV..."."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            comm = f.read().strip()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return "%s/%s" % (comm, args) if args else None  # empty: exiting


def describe(pid):
    """What a process left running is, and where it waits; then killed."""
    what = []
    for name in ("comm", "wchan"):
        try:
            with open("/proc/%d/%s" % (pid, name)) as f:
                what.append(f.read().strip())
        except OSError:
            pass
    os.kill(pid, signal.SIGKILL)
    while True:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            break
    return "%d %s" % (pid, " in ".join(what))


def reap_all(grace):
    """Waits for every child (the writer) to end: those left after grace
    seconds are described and killed."""
    deadline = time.monotonic() + grace
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return {}
        left = [p for p in children() if alive(p)]
        if left and time.monotonic() > deadline:
            return {p: describe(p) for p in left}
        time.sleep(0.005)


class Delivery:
    def __init__(self, a, cfg, slow, target=None, sig=None, delay=None):
        self.a, self.cfg, self.slow = a, cfg, slow
        self.target, self.sig, self.delay = target, sig, delay
        self.landed = "none"
        self.writer_name = "-"
        self.phase = {}  # when each phase began: start exec writer end
        self.remote = None  # the real qmail-remote's pid, once it runs

    def run(self):
        a, cfg = self.a, self.cfg
        out = os.path.join(a.out, "d")
        subprocess.run(["rm", "-rf", out], check=True)
        os.makedirs(out)
        set_remote(a.home, out, cfg["flavour"], self.slow)
        env = {"PATH": "%s/bin:/usr/bin:/bin" % a.home, "QMAILDKIM_HOME": a.home}
        stdin = os.open(cfg["msg"], os.O_RDONLY | os.O_NONBLOCK)
        rep_r, rep_w = os.pipe()
        t0 = time.monotonic()
        child = subprocess.Popen(
            [cfg["program"], "example.net", "sender@example.com", "rcpt@example.net"],
            stdin=stdin, stdout=rep_w, stderr=subprocess.STDOUT,
            cwd=os.path.join(a.home, "queue", "mess"), env=env, close_fds=True,
            restore_signals=False, preexec_fn=child_setup)
        os.close(stdin)
        os.close(rep_w)
        self.phase["start"] = t0
        report, writer, eof = bytearray(), None, False
        deadline = t0 + 120
        while not eof and time.monotonic() < deadline:
            if select.select([rep_r], [], [], 0.001)[0]:
                buf = os.read(rep_r, 1 << 16)
                report += buf
                eof = not buf
                self.phase.setdefault("ready", time.monotonic())
            now = time.monotonic()
            if "exec" not in self.phase:
                self.remote = real_remote(child.pid)
                if self.remote is not None:
                    self.phase["exec"] = now
            if writer is None:
                w = [p for p in children() if p not in (child.pid, self.remote)]
                if w:
                    writer = w[0]
                    self.phase["writer"] = now
            elif "writer_end" not in self.phase:
                if alive(writer):
                    self.writer_name = name_of(writer) or self.writer_name
                else:
                    self.phase["writer_end"] = now
            if self.target is not None and self.landed == "none":
                self.try_kill(now, child.pid, writer)
        os.close(rep_r)
        if not eof:
            os.killpg(child.pid, signal.SIGKILL)
        rc = child.wait()
        self.phase["end"] = time.monotonic()
        left = reap_all(3.0)
        if writer is not None and "writer_end" not in self.phase:
            self.phase["writer_end"] = self.phase["end"]
        return self.judge(out, bytes(report), rc, eof, left)

    def try_kill(self, now, pid, writer):
        key = {"signer": "start", "writer": "writer", "relay": "exec",
               "remote": "ready"}[self.target]
        if key not in self.phase or now - self.phase[key] < self.delay:
            return
        sig = getattr(signal, "SIG" + self.sig)
        if self.target == "writer":
            victim = writer
        elif self.target == "remote":
            victim = self.remote
        elif self.target == "relay":
            victim = pid if self.remote != pid else None
        else:
            victim = pid if real_remote(pid) is None else None
        if victim is None or not alive(victim):
            self.landed = "over"
            return
        try:
            os.kill(victim, sig)
        except ProcessLookupError:
            # it ended, and its parent reaped it, since alive() looked
            self.landed = "over"
            return
        self.landed = self.target

    def judge(self, out, report, rc, eof, left):
        if not eof:
            return "BROKEN", "no end of the report within 120 s"
        if left:
            return "BROKEN", "left running: %s" % ", ".join(left.values())
        if rc < 0:
            return "defer", "killed by signal %d" % -rc
        if rc == 111:
            return "defer", "exit 111"
        if rc != 0:
            return "BROKEN", "exit %d" % rc
        recs = report.split(b"\0")
        if recs[-1] != b"" or len(recs) < 2:
            return "BROKEN", "report %r" % report[:200]
        last = recs[-2][:1]
        if last == b"Z":
            return "defer", recs[-2].decode(errors="replace").strip()
        if last not in (b"K", b"D"):
            return "BROKEN", "report %r" % report[:200]
        with open(os.path.join(out, "stdin"), "rb") as f:
            got = f.read()
        m = SIGFIELDS.match(got)
        if last == b"D" or m is None or got[m.end():] != self.cfg["expected"]:
            return "CUT", "%s after %d bytes of %d" % (
                recs[-2][:1].decode(), len(got) - (m.end() if m else 0),
                len(self.cfg["expected"]))
        h = hashlib.sha256(got).hexdigest()
        if h not in self.a.verified:
            r = subprocess.run([PY, os.path.join(TOP, "tests", "verify-dkimpy.py"),
                                self.a.dns, os.path.join(out, "wire")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return "CUT", "dkimpy: " + r.stdout.strip().replace("\n", "; ")
            self.a.verified.add(h)
        with open(os.path.join(out, "fd0")) as f:
            fd0 = f.read().split()[0]
        with open(os.path.join(out, "fds")) as f:
            fds = f.read().strip().replace("\n", "; ") or "none"
        return "whole", "K, %d bytes, dkimpy passes, fd 0 %s, other fds %s, writer %s" % (
            len(got), fd0, fds, self.writer_name)


def handed_on(path):
    """The message as a signed delivery hands it on: CRs made LFs."""
    with open(path, "rb") as f:
        data = f.read()
    return re.sub(rb"\r\n?", b"\n", data) if b"\r" in data else data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--dns", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("configs", nargs="+")
    a = ap.parse_args()
    a.verified = set()
    rnd = random.Random(a.seed)
    ctypes.CDLL(None).prctl(36, ctypes.c_ulong(1), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

    res = open(a.results, "w")
    res.write("# seed %d\n" % a.seed)
    plans = []
    for spec in a.configs:
        name, msg, flavour, program, trials = spec.split(":")
        cfg = {"name": name, "msg": msg, "flavour": flavour, "program": program,
               "expected": handed_on(msg)}
        # Small messages also read slowly; 50 MB slowly would take too long.
        modes = (False, True) if os.path.getsize(msg) <= 8 << 20 else (False,)
        spans = {}
        for slow in modes:
            d = Delivery(a, cfg, slow)
            verdict, detail = d.run()
            res.write("%s untouched%s - - %s %s\n" % (name, "-slow" if slow else "",
                                                      verdict, detail))
            p = d.phase
            spans[slow] = {
                "signer": p.get("exec", p["end"]) - p["start"],
                "writer": p.get("writer_end", p["end"]) - p.get("writer", p["end"]),
                "relay": p["end"] - p.get("exec", p["end"]),
                "remote": p["end"] - p.get("ready", p["end"]),
            }
        combos = [(t, s) for t in TARGETS for s in SIGNALS]
        rnd.shuffle(combos)
        for i in range(int(trials)):
            target, sig = combos[i % len(combos)]
            slow = rnd.choice(modes)
            delay = rnd.uniform(0, 1.1 * spans[slow][target])
            plans.append((cfg, slow, target, sig, delay))
    rnd.shuffle(plans)
    for cfg, slow, target, sig, delay in plans:
        d = Delivery(a, cfg, slow, target, sig, delay)
        verdict, detail = d.run()
        res.write("%s %s SIG%s %s %s at %.3fs%s: %s\n" % (
            cfg["name"], target, sig, d.landed, verdict, delay,
            " (slow)" if slow else "", detail))
        res.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
