#!/usr/bin/python3
"""private-log.py SOCKET CMD...: run CMD with SOCKET mounted on /dev/log.

For tests/private.sh when it is not root: a user namespace of our own,
in which our uid and gid are the only ones, and in it a mount namespace
whose /dev/log is SOCKET.  CMD runs as ourselves, without privileges;
what it sends to syslog(3) goes to SOCKET, not to the host's log.
Exits 125 with a sentence on stderr if the namespaces cannot be had.
"""
import ctypes
import os
import sys

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_BIND, MS_REC, MS_PRIVATE = 1 << 12, 1 << 14, 1 << 18
LIBC = ctypes.CDLL(None, use_errno=True)


def call(name, *args):
    if getattr(LIBC, name)(*args) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (name, os.strerror(e)))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    sock, cmd = sys.argv[1], sys.argv[2:]
    uid, gid = os.getuid(), os.getgid()
    try:
        call("unshare", CLONE_NEWUSER | CLONE_NEWNS)
        write("/proc/self/setgroups", "deny")
        write("/proc/self/uid_map", "%d %d 1\n" % (uid, uid))
        write("/proc/self/gid_map", "%d %d 1\n" % (gid, gid))
        call("mount", None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None)
        call("mount", os.fsencode(sock), b"/dev/log", None, ctypes.c_ulong(MS_BIND), None)
    except OSError as e:
        print("no user namespace with a /dev/log of its own: %s" % e, file=sys.stderr)
        return 125
    # our capabilities in the namespace end with the exec: uid is not 0
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
