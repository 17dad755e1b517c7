#!/usr/bin/python3
"""Stand-in for notqmail's qmail-smtpd: SMTP on fd 0 and fd 1, started by
tcpserver (ucspi-tcp) as qmail-smtpd is, to queue a message through
qmail-queue (a stand-in: tests/fake-queue.py) as the user tcpserver runs
it as (-u qmaild: "invoked from network").

fake-smtpd.py [--home DIR]

What it copies from notqmail's qmail-smtpd.c, received.c, rcpthosts.c,
commands.c, control.c and qmail.c (the same in qmail 1.03 and netqmail
1.06):
  - qmail-smtpd.c main(): chdir to the qmail home (--home, default
    /var/qmail; a failure: "421 unable to read controls (#4.3.0)"), read
    the controls (setup()), greet "220 GREETING ESMTP", then one command
    a line (commands.c: up to LF, one CR before it dropped, the verb up to
    the first space, case-insensitive, the argument after the spaces);
  - setup(): control/smtpgreeting, else control/me (control_rldef); the
    remote IP, the local name and the remote host from TCPREMOTEIP,
    TCPLOCALHOST else TCPLOCALIP, TCPREMOTEHOST, each "unknown" when
    unset; TCPREMOTEINFO and RELAYCLIENT as they are; control/rcpthosts
    and control/badmailfrom (control_readfile: blank lines and lines
    starting with # skipped, trailing blanks stripped);
  - dohelo(): the HELO name goes into the Received line only when it is
    not the remote host's name (case_diffs);
  - addrparse(): the address between < and >, else after the colon up
    to a space; a source route stripped; backslash escapes and quotes
    removed; longer than 899 bytes: "555 syntax error (#5.5.4)";
  - smtp_mail(), smtp_rcpt(): badmailfrom ("553 sorry, your envelope
    sender is in my badmailfrom list (#5.7.1)" on RCPT); with RELAYCLIENT
    set every recipient is taken and RELAYCLIENT appended to it, else a
    recipient whose domain (or a parent given as .DOMAIN) is not in
    control/rcpthosts is refused: "553 sorry, that domain isn't in my
    list of allowed rcpthosts (#5.7.1)"; no control/rcpthosts: every
    recipient is taken (rcpthosts.c: flagrh != 1);
  - smtp_data(): qmail_open() (qmail.c) runs $QMAILQUEUE, else
    bin/qmail-queue, in the qmail home with the message on fd 0, the
    envelope on fd 1 and a pipe for its D/Z text on fd 6; "354 go ahead";
    received() (received.c) writes
        Received: from HOST (HELO NAME) (INFO@IP)
          by LOCAL with SMTP; DATE
    with every byte outside received.c's issafe() set ([A-Za-z0-9] and
    . @ % + / = : - [ ]) written as "?" (safeput), " (HELO NAME)" only
    as dohelo() decided, "INFO@" only when TCPREMOTEINFO is set, DATE as
    date822fmt() writes it ("7 Dec 2026 08:01:02 -0000" and the LF);
    blast() then copies the data: CRLF to LF, a leading dot removed, the
    end at CRLF.CRLF, a bare LF "451 See
    https://cr.yp.to/docs/smtplf.html." and the end of the connection,
    100 or more Received or Delivered-To header lines: the message fails;
    then the envelope (F sender NUL, T recipient NUL..., NUL), and
    qmail_close()'s answer for qmail-queue's exit code: "250 ok WHEN qp
    PID" (WHEN the time in seconds, PID qmail-queue's), else the 554 or
    451 text qmail.c gives that code;
  - RSET, HELP, NOOP, VRFY, QUIT and "502 unimplemented (#5.5.1)" for
    anything else; end of input: exit 1.
Not copied: control/databytes and DATABYTES, control/localiphost (and so
ipme), control/morercpthosts.cdb, control/timeoutsmtpd (no timeouts).

The lines followed, in notqmail's tree as of commit a7012e4:
qmail-smtpd.c 41-56 (the answers), 84-88 dohelo, 96-131 setup, 136-194
addrparse, 196-213 bmfcheck and addrallowed, 221-261 HELO EHLO RSET MAIL
RCPT, 288-347 blast, 350-361 acceptmessage, 363-390 smtp_data, 392-416
the command table and main; received.c 9-36 issafe and safeput, 43-74
received; rcpthosts.c 17-62; commands.c 10-42; control.c control_init,
control_rldef, control_readline, control_readfile; qmail.c 23-64
qmail_open, 81-89 qmail_from, 108-159 qmail_close; date822fmt.c 10-30.
"""
import argparse
import os
import sys
import time

MAXHOPS = 100
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


class Controls:
    pass


def out(s):
    """substdio_puts to fd 1; every answer here is flushed at once."""
    data = s.encode("latin-1")
    while data:
        data = data[os.write(1, data):]


def die(code_text):
    out(code_text)
    os._exit(1)


def control_readline(fn):
    """control.c control_readline: the first line, trailing blanks
    stripped; None when absent."""
    try:
        with open(fn, "rb") as f:
            line = f.readline()
    except FileNotFoundError:
        return None
    except OSError:
        die("421 unable to read controls (#4.3.0)\r\n")
    return line.rstrip(b"\n \t")


def control_readfile(fn):
    """control.c control_readfile: the lines that are not blank and do
    not start with #; None when absent."""
    try:
        with open(fn, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        die("421 unable to read controls (#4.3.0)\r\n")
    lines = []
    for line in data.split(b"\n"):
        line = line.rstrip(b"\n \t")
        if line and not line.startswith(b"#"):
            lines.append(line)
    return lines


def setup(c):
    me = control_readline("control/me")
    greeting = control_readline("control/smtpgreeting")
    if greeting is None:
        greeting = me
    if greeting is None:
        die("421 unable to read controls (#4.3.0)\r\n")
    c.greeting = greeting.decode("latin-1")
    rh = control_readfile("control/rcpthosts")
    # constmap compares without case
    c.rcpthosts = None if rh is None else {h.lower() for h in rh}
    bmf = control_readfile("control/badmailfrom")
    c.bmf = None if bmf is None else {b.lower() for b in bmf}
    env = os.environb
    c.remoteip = env.get(b"TCPREMOTEIP", b"unknown")
    if b"TCPLOCALHOST" in env:
        c.local = env[b"TCPLOCALHOST"]
    elif b"TCPLOCALIP" in env:
        c.local = env[b"TCPLOCALIP"]
    else:
        c.local = b"unknown"
    c.remotehost = env.get(b"TCPREMOTEHOST", b"unknown")
    c.remoteinfo = env.get(b"TCPREMOTEINFO")
    c.relayclient = env.get(b"RELAYCLIENT")
    dohelo(c, c.remotehost)


def dohelo(c, arg):
    c.fakehelo = arg if arg.lower() != c.remotehost.lower() else None


def addrparse(arg):
    """qmail-smtpd.c addrparse(): the address, or None (too long)."""
    terminator = b">"
    i = arg.find(b"<")
    if i >= 0:
        arg = arg[i + 1:]
    else:  # partner should go read rfc 821
        terminator = b" "
        i = arg.find(b":")
        arg = arg[i + 1:] if i >= 0 else b""
        arg = arg.lstrip(b" ")
    if arg[:1] == b"@":  # strip source route
        i = arg.find(b":")
        arg = arg[i + 1:] if i >= 0 else b""
    addr = bytearray()
    esc = quoted = False
    for ch in arg:
        ch = bytes([ch])
        if esc:
            addr += ch
            esc = False
        elif not quoted and ch == terminator:
            break
        elif ch == b"\\":
            esc = True
        elif ch == b'"':
            quoted = not quoted
        else:
            addr += ch
    # the C string ends at the first NUL
    addr = bytes(addr).split(b"\0")[0]
    if len(addr) + 1 > 900:
        return None
    return addr


def bmfcheck(c, addr):
    if c.bmf is None:
        return False
    a = addr.lower()
    if a in c.bmf:
        return True
    j = a.rfind(b"@")
    return j >= 0 and a[j:] in c.bmf


def addrallowed(c, addr):
    """rcpthosts.c rcpthosts()."""
    if c.rcpthosts is None:
        return True
    j = addr.rfind(b"@")
    if j < 0:
        return True  # presumably envnoathost is acceptable
    host = addr[j + 1:].lower()
    for k in range(len(host)):
        if (k == 0 or host[k:k + 1] == b".") and host[k:] in c.rcpthosts:
            return True
    return False


SAFE = set(b".@%+/=:-[]abcdefghijklmnopqrstuvwxyz"
           b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def safeput(s):
    """received.c safeput(): the C string, unsafe bytes as ?."""
    s = s.split(b"\0")[0]
    return bytes(ch if ch in SAFE else ord("?") for ch in s)


def date822fmt(t):
    g = time.gmtime(t)
    return ("%d %s %d %02d:%02d:%02d -0000\n" % (
        g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year,
        g.tm_hour, g.tm_min, g.tm_sec)).encode()


def received(c):
    """received.c received(qqt, "SMTP", local, remoteip, remotehost,
    remoteinfo, fakehelo)."""
    r = b"Received: from " + safeput(c.remotehost)
    if c.fakehelo is not None:
        r += b" (HELO " + safeput(c.fakehelo) + b")"
    r += b" ("
    if c.remoteinfo is not None:
        r += safeput(c.remoteinfo) + b"@"
    r += safeput(c.remoteip)
    r += b")\n  by " + safeput(c.local) + b" with SMTP; "
    return r + date822fmt(time.time())


class Input:
    """substdio on fd 0; end of input or an error: exit 1 (die_read)."""

    def __init__(self):
        self.buf = b""
        self.pos = 0

    def get(self):
        if self.pos >= len(self.buf):
            try:
                self.buf = os.read(0, 1024)
            except OSError:
                self.buf = b""
            self.pos = 0
            if not self.buf:
                os._exit(1)
        ch = self.buf[self.pos:self.pos + 1]
        self.pos += 1
        return ch


class Queue:
    """qmail.c: qmail_open, qmail_put, qmail_from, qmail_to, qmail_close."""

    def __init__(self):
        qq = os.environ.get("QMAILQUEUE", "bin/qmail-queue")
        pim = os.pipe()
        pie = os.pipe()
        pierr = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.dup2(pim[0], 0)
                os.dup2(pie[0], 1)
                os.dup2(pierr[1], 6)
                for fd in pim + pie + pierr:
                    if fd not in (0, 1, 6):
                        os.close(fd)
                os.execv(qq, [qq])
            except OSError:
                pass
            os._exit(120)
        os.close(pim[0])
        os.close(pie[0])
        os.close(pierr[1])
        self.fdm, self.fde, self.fderr = pim[1], pie[1], pierr[0]
        self.fd = self.fdm
        self.buf = bytearray()
        self.flagerr = False

    def fail(self):
        self.flagerr = True

    def flush(self):
        try:
            data = bytes(self.buf)
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:
            self.flagerr = True
        self.buf = bytearray()

    def put(self, data):
        if not self.flagerr:
            self.buf += data
            if len(self.buf) >= 1024:
                self.flush()

    def from_(self, sender):
        self.flush()
        os.close(self.fdm)
        self.fd = self.fde
        self.put(b"F" + sender + b"\0")

    def close(self):
        self.put(b"\0")
        if not self.flagerr:
            self.flush()
        os.close(self.fde)
        err = b""
        while len(err) < 255:
            chunk = os.read(self.fderr, 255 - len(err))
            if not chunk:
                break
            err += chunk
        os.close(self.fderr)
        _, wstat = os.waitpid(self.pid, 0)
        if os.WIFSIGNALED(wstat):
            return b"Zqq crashed (#4.3.0)"
        code = os.WEXITSTATUS(wstat)
        if code == 0 and not self.flagerr:
            return b""
        return {
            115: b"Denvelope address too long for qq (#5.1.3)",
            11: b"Denvelope address too long for qq (#5.1.3)",
            31: b"Dmail server permanently rejected message (#5.3.0)",
            51: b"Zqq out of memory (#4.3.0)",
            52: b"Zqq timeout (#4.3.0)",
            53: b"Zqq write error or disk full (#4.3.0)",
            0: b"Zqq read error (#4.3.0)",
            54: b"Zqq read error (#4.3.0)",
            55: b"Zqq unable to read configuration (#4.3.0)",
            56: b"Zqq trouble making network connection (#4.3.0)",
            61: b"Zqq trouble in home directory (#4.3.0)",
            62: b"Zqq trouble creating files in queue (#4.3.0)",
            63: b"Zqq trouble creating files in queue (#4.3.0)",
            64: b"Zqq trouble creating files in queue (#4.3.0)",
            65: b"Zqq trouble creating files in queue (#4.3.0)",
            66: b"Zqq trouble creating files in queue (#4.3.0)",
            71: b"Zmail server temporarily rejected message (#4.3.0)",
            72: b"Zconnection to mail server timed out (#4.4.1)",
            73: b"Zconnection to mail server rejected (#4.4.1)",
            74: b"Zcommunication with mail server failed (#4.4.2)",
            91: b"Zqq internal bug (#4.3.0)",
            81: b"Zqq internal bug (#4.3.0)",
            120: b"Zunable to exec qq (#4.3.0)",
        }.get(code) or (
            err if code == 82 and len(err) > 2 else
            b"Dqq permanent problem (#5.3.0)" if 11 <= code <= 40 else
            b"Zqq temporary problem (#4.3.0)")


def blast(inp, qq):
    """qmail-smtpd.c blast(): the data up to CRLF.CRLF; the hop count."""
    hops = 0
    state = 1
    inheader = True
    pos = 0
    maybex = maybey = maybez = True
    while True:
        ch = inp.get()
        if inheader:
            if pos < 9:
                if ch not in (b"delivered"[pos:pos + 1], b"DELIVERED"[pos:pos + 1]):
                    maybez = False
                if maybez and pos == 8:
                    hops += 1
                if pos < 8 and ch not in (b"received"[pos:pos + 1], b"RECEIVED"[pos:pos + 1]):
                    maybex = False
                if maybex and pos == 7:
                    hops += 1
                if pos < 2 and ch != b"\r\n"[pos:pos + 1]:
                    maybey = False
                if maybey and pos == 1:
                    inheader = False
                pos += 1
            if ch == b"\n":
                pos = 0
                maybex = maybey = maybez = True
        if state == 0:
            if ch == b"\n":
                die("451 See https://cr.yp.to/docs/smtplf.html.\r\n")
            if ch == b"\r":
                state = 4
                continue
        elif state == 1:  # \r\n
            if ch == b"\n":
                die("451 See https://cr.yp.to/docs/smtplf.html.\r\n")
            if ch == b".":
                state = 2
                continue
            if ch == b"\r":
                state = 4
                continue
            state = 0
        elif state == 2:  # \r\n + .
            if ch == b"\n":
                die("451 See https://cr.yp.to/docs/smtplf.html.\r\n")
            if ch == b"\r":
                state = 3
                continue
            state = 0
        elif state == 3:  # \r\n + .\r
            if ch == b"\n":
                return hops
            qq.put(b".")
            qq.put(b"\r")
            if ch == b"\r":
                state = 4
                continue
            state = 0
        elif state == 4:  # + \r
            if ch == b"\n":
                state = 1
            elif ch != b"\r":
                qq.put(b"\r")
                state = 0
        qq.put(ch)


class Session:
    def __init__(self, c):
        self.c = c
        self.seenmail = False
        self.flagbarf = False
        self.mailfrom = b""
        self.rcptto = b""
        self.inp = Input()

    def greet(self, code):
        out(code + self.c.greeting)

    def helo(self, arg):
        self.greet("250 ")
        out("\r\n")
        self.seenmail = False
        dohelo(self.c, arg)

    def ehlo(self, arg):
        self.greet("250-")
        out("\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        self.seenmail = False
        dohelo(self.c, arg)

    def rset(self, arg):
        self.seenmail = False
        out("250 flushed\r\n")

    def mail(self, arg):
        addr = addrparse(arg)
        if addr is None:
            out("555 syntax error (#5.5.4)\r\n")
            return
        self.flagbarf = bmfcheck(self.c, addr)
        self.seenmail = True
        self.rcptto = b""
        self.mailfrom = addr
        out("250 ok\r\n")

    def rcpt(self, arg):
        if not self.seenmail:
            out("503 MAIL first (#5.5.1)\r\n")
            return
        addr = addrparse(arg)
        if addr is None:
            out("555 syntax error (#5.5.4)\r\n")
            return
        if self.flagbarf:
            out("553 sorry, your envelope sender is in my badmailfrom list (#5.7.1)\r\n")
            return
        if self.c.relayclient is not None:
            addr += self.c.relayclient
        elif not addrallowed(self.c, addr):
            out("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)\r\n")
            return
        self.rcptto += b"T" + addr + b"\0"
        out("250 ok\r\n")

    def data(self, arg):
        if not self.seenmail:
            out("503 MAIL first (#5.5.1)\r\n")
            return
        if not self.rcptto:
            out("503 RCPT first (#5.5.1)\r\n")
            return
        self.seenmail = False
        try:
            qq = Queue()
        except OSError:
            out("451 qqt failure (#4.3.0)\r\n")
            return
        out("354 go ahead\r\n")
        qq.put(received(self.c))
        hops = blast(self.inp, qq) >= MAXHOPS
        if hops:
            qq.fail()
        qq.from_(self.mailfrom)
        qq.put(self.rcptto)
        qqx = qq.close()
        if not qqx:
            out("250 ok %d qp %d\r\n" % (int(time.time()), qq.pid))
            return
        if hops:
            out("554 too many hops, this message is looping (#5.4.6)\r\n")
            return
        out("554 " if qqx[:1] == b"D" else "451 ")
        out(qqx[1:].decode("latin-1") + "\r\n")

    def quit(self, arg):
        self.greet("221 ")
        out("\r\n")
        os._exit(0)

    def run(self):
        cmds = {
            b"rcpt": self.rcpt, b"mail": self.mail, b"data": self.data,
            b"quit": self.quit, b"helo": self.helo, b"ehlo": self.ehlo,
            b"rset": self.rset,
            b"help": lambda a: out("214 notqmail home page: https://notqmail.org\r\n"),
            b"noop": lambda a: out("250 ok\r\n"),
            b"vrfy": lambda a: out("252 send some mail, i'll try my best\r\n"),
        }
        while True:
            line = bytearray()
            while True:
                ch = self.inp.get()
                if ch == b"\n":
                    break
                line += ch
            if line.endswith(b"\r"):
                del line[-1]
            line = bytes(line).split(b"\0")[0]
            verb, _, arg = line.partition(b" ")
            arg = arg.lstrip(b" ")
            fun = cmds.get(verb.lower())
            if fun is None:
                out("502 unimplemented (#5.5.1)\r\n")
            else:
                fun(arg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", default="/var/qmail")
    a = ap.parse_args()
    try:
        os.chdir(a.home)
    except OSError:
        die("421 unable to read controls (#4.3.0)\r\n")
    c = Controls()
    setup(c)
    s = Session(c)
    s.greet("220 ")
    out(" ESMTP\r\n")
    s.run()


if __name__ == "__main__":
    sys.exit(main())
