# qmail-dkim -- see README.md.  Paths fixed at build time come from here.
PREFIX    = /usr/local
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
QMAILHOME = /var/qmail
DESTDIR   =

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN      = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
            -Wpointer-arith -Wcast-qual -Wsign-compare
HARDEN    = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DQMAILHOME='"$(QMAILHOME)"' \
            $(shell pkg-config --cflags opendkim 2>/dev/null) \
            $(WARN) $(HARDEN) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS      = -lopendkim -lcrypto

SRCS = $(wildcard qmail-dkim/*.c)
OBJS = $(SRCS:.c=.o)
MODS = $(filter-out qmail-dkim/qmail-dkim.o,$(OBJS))
UNIT = $(patsubst %.c,%,$(wildcard tests/unit/t-*.c))

all: qmail-dkim/qmail-dkim

qmail-dkim/qmail-dkim: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LIBS)

qmail-dkim/%.o: qmail-dkim/%.c qmail-dkim/qdkim.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link the modules straight in: modules return, never exit.
tests/unit/t-%: tests/unit/t-%.c tests/unit/tap.h $(MODS)
	$(CC) $(ALL_CFLAGS) -Iqmail-dkim $(ALL_LDFLAGS) -o $@ $< $(MODS) $(LIBS)

# A stand-in real qmail-remote that measures qmail-dkim's peak memory.
tests/sink: tests/sink.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# go-msgauth verifies Ed25519 (Debian's Mail::DKIM cannot); Debian ships
# its source, built offline in GOPATH mode.
tests/verify-msgauth: tests/verify-msgauth.go
	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	  GOCACHE=$(CURDIR)/tests/.gocache go build -o $@ tests/verify-msgauth.go

# Catches qmail-dkim's syslog lines for tests/170-log.t.
tests/syslog-shim.so: tests/syslog-shim.c
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $<

units: $(UNIT) tests/sink tests/verify-msgauth tests/syslog-shim.so

deps:
	@sh tests/deps.sh

check: deps
	$(MAKE) all units
	prove tests/ $(UNIT)

demo: deps
	$(MAKE) all
	sh demo/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 qmail-dkim/qmail-dkim $(DESTDIR)$(BINDIR)/qmail-dkim
	for s in scripts/qmail-dkim-*; do \
	  [ -f "$$s" ] && install -m 0755 "$$s" $(DESTDIR)$(BINDIR)/; done; true
	for m in man/*.8; do \
	  [ -f "$$m" ] && install -m 0644 "$$m" $(DESTDIR)$(MANDIR)/man8/; done; true

clean:
	rm -f qmail-dkim/qmail-dkim qmail-dkim/*.o $(UNIT) tests/sink tests/verify-msgauth tests/syslog-shim.so
	rm -rf tests/.gocache

.PHONY: all units deps check demo install clean
