#!/usr/bin/python3
"""Start a program the way qmail-rspawn starts qmail-remote.

rspawn.py [--stdin-pipe] [--cwd DIR] [--env K=V]... [--timeout SECS]
          [--report FILE] [--status FILE] [FAULT OPTION...] MSGFILE PROGRAM ARG...

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

Fault options, for tests that break one thing at a time (none of them is
what qmail does; without them nothing above changes):
  --user NAME|UID:GID  run the child as NAME's uid and gid, or as UID and
                     GID, with no other groups
  --rlimit RES=N     set RLIMIT_RES (NOFILE, NPROC, FSIZE, AS...) to N, soft
                     and hard, in the child; repeatable
  --stdin-closed     fd 0 closed in the child
  --stdin-wronly     MSGFILE opened write-only on fd 0 (a read fails)
  --stdin-cut N      with --stdin-pipe: feed N bytes, then close the pipe,
                     as a writer killed mid-message would
  --sigchld-ignore   SIGCHLD ignored as well as blocked (some launchers)
  --kill-after S[:SIG]  send SIG (default KILL) to the child alone, not its
                     group, after S seconds
  --tmpfs DIR:SIZE   run in a private mount namespace with a tmpfs of SIZE
                     on DIR (root only), gone when we exit
  --leftover FILE    what the delivery left behind, one line each, nothing
                     when clean: processes still running 3 s after the
                     report ended and the child was reaped (we are their
                     subreaper; they are killed afterwards), and entries in
                     the child's $TMPDIR
"""
import argparse
import ctypes
import os
import pwd
import resource
import select
import signal
import subprocess
import sys
import threading
import time


def feed(fd, path, cut=None):
    """Copy the message into the stdin pipe; the child may never read it.
    With cut, stop after that many bytes."""
    try:
        with open(path, "rb") as f:
            left = os.fstat(f.fileno()).st_size if cut is None else cut
            # sendfile: no copies through python, and no GIL held while blocked.
            while left > 0:
                n = os.sendfile(fd, f.fileno(), None, min(left, 1 << 20))
                if n == 0:
                    break
                left -= n
    except BrokenPipeError:
        pass  # every reader is gone; qmail-remote may exit without reading
    finally:
        os.close(fd)


def child_setup(a):
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    os.umask(0o077)
    # Own process group, only so that a timeout can kill every descendant.
    os.setpgid(0, 0)
    if a.sigchld_ignore:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    if a.stdin_closed:
        os.close(0)
    for res, n in a.rlimit:
        resource.setrlimit(res, (n, n))
    # rspawn's python ignores SIGXFSZ, as python does; qmail-rspawn does not
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    if a.user:
        uid, _, gid = a.user.partition(":")
        if uid.isdigit() and gid.isdigit():
            uid, gid = int(uid), int(gid)
        else:
            pw = pwd.getpwnam(a.user)
            uid, gid = pw.pw_uid, pw.pw_gid
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


LIBC = ctypes.CDLL(None, use_errno=True)


def libc_call(name, *args):
    if getattr(LIBC, name)(*args) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (name, os.strerror(e)))


def private_tmpfs(spec):
    """A tmpfs on DIR in a mount namespace of our own (and our child's)."""
    path, _, size = spec.rpartition(":")
    libc_call("unshare", 0x00020000)  # CLONE_NEWNS
    libc_call("mount", None, b"/", None, ctypes.c_ulong(1 << 14 | 1 << 18), None)  # MS_REC|MS_PRIVATE
    libc_call("mount", b"tmpfs", os.fsencode(path), b"tmpfs", ctypes.c_ulong(0),
              b"size=" + size.encode() + b",mode=1777")


def descendants():
    """Our children (orphans are ours too, as subreaper), but not zombies."""
    me, found = os.getpid(), []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            fields = stat[stat.rindex(b")") + 2:].split()
            ppid = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue  # gone while we looked
        if ppid == me and fields[0] != b"Z":
            found.append("pid %s state %s: %s" % (pid, fields[0].decode(), cmd))
    return found


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def leftovers(tmpdir, grace=3.0):
    """What is still there once the delivery is over."""
    deadline = time.monotonic() + grace
    while True:
        reap()
        procs = descendants()
        if not procs or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    for p in procs:
        try:
            os.kill(int(p.split()[1]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    if procs:
        time.sleep(0.05)
        reap()
    lines = ["left running: " + p for p in procs]
    if tmpdir:
        try:
            lines += ["left in TMPDIR: " + n for n in sorted(os.listdir(tmpdir))]
        except FileNotFoundError:
            pass
        except OSError as e:
            lines.append("TMPDIR %s: %s" % (tmpdir, e.strerror))
    return "".join(l + "\n" for l in lines)


def killer(pid, after, sig):
    time.sleep(after)
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def rlimit_arg(text):
    name, sep, n = text.partition("=")
    res = getattr(resource, "RLIMIT_" + name.upper(), None)
    if not sep or res is None:
        raise argparse.ArgumentTypeError("want RES=N, as NOFILE=4: %r" % text)
    return res, int(n)


def kill_arg(text):
    secs, _, sig = text.partition(":")
    return float(secs), getattr(signal, "SIG" + (sig or "KILL").upper())


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
    ap.add_argument("--user")
    ap.add_argument("--rlimit", type=rlimit_arg, action="append", default=[])
    ap.add_argument("--stdin-closed", action="store_true")
    ap.add_argument("--stdin-wronly", action="store_true")
    ap.add_argument("--stdin-cut", type=int)
    ap.add_argument("--sigchld-ignore", action="store_true")
    ap.add_argument("--kill-after", type=kill_arg)
    ap.add_argument("--tmpfs")
    ap.add_argument("--leftover")
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

    if a.tmpfs:
        private_tmpfs(a.tmpfs)
    if a.leftover:
        libc_call("prctl", 36, ctypes.c_ulong(1), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

    if a.stdin_pipe:
        stdin, feeder = os.pipe()
    elif a.stdin_wronly:
        stdin, feeder = os.open(a.msgfile, os.O_WRONLY | os.O_NONBLOCK), None
    else:
        stdin, feeder = os.open(a.msgfile, os.O_RDONLY | os.O_NONBLOCK), None
    rep_r, rep_w = os.pipe()

    # No thread runs yet: preexec_fn is only safe in a single-threaded parent.
    try:
        child = subprocess.Popen([a.program] + a.args, stdin=stdin, stdout=rep_w,
                                 stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                 close_fds=True, restore_signals=False,
                                 preexec_fn=lambda: child_setup(a))
    except (OSError, subprocess.SubprocessError) as e:
        # qmail-rspawn's child would _exit(111) or (100) here; say which error.
        write_results(a, b"", "exec failed: %s" % e)
        if a.leftover:
            with open(a.leftover, "w") as f:
                f.write("exec failed: %s\n" % e)
        return 0
    os.close(stdin)
    os.close(rep_w)
    if feeder is not None:
        threading.Thread(target=feed, args=(feeder, a.msgfile, a.stdin_cut),
                         daemon=True).start()
    if a.kill_after:
        threading.Thread(target=killer, args=(child.pid,) + a.kill_after,
                         daemon=True).start()

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
    if a.leftover:
        with open(a.leftover, "w") as f:
            f.write(leftovers(env.get("TMPDIR")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
