#!/usr/bin/python3
"""Stand-in for qmail-local's forward: what it hands qmail-queue for a
.qmail line "&address" (or a "|forward address" program, whose DTLINE is
the same line).

fake-local.py RECIPIENT SENDER OUT ENVOUT  <queue-file

What it copies from notqmail's qmail-local.c:
  - main(): dtline is "Delivered-To: " and the envelope recipient
    (envrecip: the local part with its extension, "@", the host), every
    LF in it made "_", then one LF (lines 507-510);
  - mailforward(): seek_begin(0) on the message (fd 0, the stored queue
    file), then qmail_put(dtline) and the message, read to its end,
    byte for byte (lines 270-291); the stored queue file begins with the
    Received line its own qmail-queue wrote, so that line follows the
    Delivered-To line;
  - the envelope: qmail_from(ueo), ueo the original sender unchanged (no
    -owner file here, lines 592-612); qmail_to() each forward address.
It writes the message qmail-queue would be given to OUT and the envelope
sender to ENVOUT; the test then queues OUT as the forwarding user with
tests/fake-queue.py, which writes qmail-queue's own line on top, as
qmail-local's qmail_open() (running as that user) would have it.
Not copied: the loop check (a Delivered-To line equal to dtline), the
.qmail parsing, the exit codes and the report.
"""
import os
import sys


def main():
    recipient, sender, out, envout = sys.argv[1:5]
    dtline = ("Delivered-To: " + recipient).replace("\n", "_") + "\n"
    os.lseek(0, 0, os.SEEK_SET)
    message = b""
    while True:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        message += chunk
    with open(out, "wb") as f:
        f.write(dtline.encode() + message)
    with open(envout, "w") as f:
        f.write(sender)


if __name__ == "__main__":
    main()
