#!/usr/bin/python3
"""Start a program the way qmail-rspawn starts qmail-remote.

rspawn.py [--stdin-pipe] [--cwd DIR] [--env K=V]... [--timeout SECS]
          [--report FILE] [--status FILE] MSGFILE PROGRAM ARG...

The child gets (see shared/qmail-remote-contract.md):
  fd 0  MSGFILE opened O_RDONLY|O_NONBLOCK at offset 0, or with --stdin-pipe
        a pipe that a thread fills with MSGFILE's bytes
  fd 1  a pipe back to us; fd 2 the same open pipe (dup), nothing else open
  cwd   $QMAILDKIM_HOME/queue/mess (from the --env pairs), or --cwd
  env   PATH (ours) plus the --env pairs, nothing else; umask 077
  SIGPIPE ignored, SIGCHLD blocked: both survive exec.
Like qmail-rspawn we read the report until EOF, which comes only once every
process holding fd 1 or 2 has closed it, then reap the child.  The report
bytes go to --report (default stdout), the status ("0", "111", "signal 9",
or "timeout" after --timeout seconds, when the child's process group is
killed and the report holds what came so far) to --status (default stderr).
"""
import argparse
import os
import select
import signal
import subprocess
import sys
import threading
import time


def feed(fd, path):
    """Copy the message into the stdin pipe; the child may never read it."""
    try:
        with open(path, "rb") as f:
            # sendfile: no copies through python, and no GIL held while blocked.
            while os.sendfile(fd, f.fileno(), None, 1 << 20):
                pass
    except BrokenPipeError:
        pass  # every reader is gone; qmail-remote may exit without reading
    finally:
        os.close(fd)


def child_setup():
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    os.umask(0o077)
    # Own process group, only so that a timeout can kill every descendant.
    os.setpgid(0, 0)


def read_report(fd, deadline):
    """What was written to the report pipe, and whether EOF came in time."""
    data = bytearray()  # a buggy child may write a lot
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return bytes(data), False
        buf = os.read(fd, 1 << 16)
        if not buf:
            return bytes(data), True
        data += buf


def describe(returncode):
    return "signal %d" % -returncode if returncode < 0 else "%d" % returncode


def write_results(a, report, status):
    if a.report:
        with open(a.report, "wb") as f:
            f.write(report)
    else:
        sys.stdout.buffer.write(report)
    if a.status:
        with open(a.status, "w") as f:
            f.write(status + "\n")
    else:
        print(status, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stdin-pipe", action="store_true")
    ap.add_argument("--cwd")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--report")
    ap.add_argument("--status")
    ap.add_argument("msgfile")
    ap.add_argument("program")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()

    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for kv in a.env:
        k, sep, v = kv.partition("=")
        if not sep:
            ap.error("--env wants K=V, got %r" % kv)
        env[k] = v
    cwd = a.cwd or os.path.join(env.get("QMAILDKIM_HOME", "/var/qmail"), "queue/mess")

    if a.stdin_pipe:
        stdin, feeder = os.pipe()
    else:
        stdin, feeder = os.open(a.msgfile, os.O_RDONLY | os.O_NONBLOCK), None
    rep_r, rep_w = os.pipe()

    # No thread runs yet: preexec_fn is only safe in a single-threaded parent.
    try:
        child = subprocess.Popen([a.program] + a.args, stdin=stdin, stdout=rep_w,
                                 stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                 close_fds=True, restore_signals=False,
                                 preexec_fn=child_setup)
    except OSError as e:
        # qmail-rspawn's child would _exit(111) or (100) here; say which error.
        write_results(a, b"", "exec failed: %s" % e)
        return 0
    os.close(stdin)
    os.close(rep_w)
    if feeder is not None:
        threading.Thread(target=feed, args=(feeder, a.msgfile), daemon=True).start()

    deadline = time.monotonic() + a.timeout
    report, eof = read_report(rep_r, deadline)
    try:
        status = describe(child.wait(max(deadline - time.monotonic(), 0.01)))
    except subprocess.TimeoutExpired:
        eof = False
    if not eof:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # the group is empty already
        child.wait()
        status = "timeout"

    write_results(a, report, status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
