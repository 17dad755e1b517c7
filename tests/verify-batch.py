#!/usr/bin/python3
"""verify-batch.py DNSDIR WIREFILE...: verify-dkimpy.py over many files in
one process (dkimpy's import costs more than a verification).

One line per file: "WIREFILE pass" or "WIREFILE fail: WHAT verify-dkimpy.py
SAID".  Exit 0 when every file passes.
"""
import contextlib
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: verify-batch.py DNSDIR WIREFILE...")
    dnsdir, files = sys.argv[1], sys.argv[2:]
    # Its patches and functions, without running its main.
    import runpy
    mod = runpy.run_path(os.path.join(HERE, "verify-dkimpy.py"), run_name="verify_dkimpy")
    bad = 0
    for wire in files:
        out = io.StringIO()
        sys.argv = ["verify-dkimpy.py", dnsdir, wire]
        with contextlib.redirect_stdout(out):
            rc = mod["main"]()
        if rc == 0:
            print(wire, "pass")
        else:
            bad += 1
            print(wire, "fail:", out.getvalue().strip().replace("\n", "; "))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
