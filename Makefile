# qmail-dkim -- see README.md.  Paths fixed at build time come from here.
PREFIX    = /usr/local
BINDIR    = $(PREFIX)/bin
MANDIR    = $(PREFIX)/share/man
# the files qmail-dkim-check sources, one per concern (scripts/check/)
CHECKDIR  = $(PREFIX)/share/qmail-dkim/check
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
# qmail-dkimc links nothing but libc, and links it in: without the dynamic
# loader a delivery through qmail-dkimd is 0.6 ms faster (bench/PROFILE.md).
# make FRONT_STATIC=0 links it like the others.
FRONT_STATIC = 1
ifeq ($(FRONT_STATIC),1)
FRONT_LDFLAGS = -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
else
FRONT_LDFLAGS = $(ALL_LDFLAGS)
endif
# keycache.c takes libopendkim's key decoding: each key once a process
WRAP      = -Wl,--wrap=PEM_read_bio_PrivateKey
# libopendkim (and what it pulls in) is linked in: a program built from
# source holds no package dependency, and without its shared library the
# loader writes to fd 2 (qmail's report pipe) and exits 127, a bounce.
LIBS      = $(WRAP) -Wl,-Bstatic -lopendkim -ldb-5.3 -lbsd -lmd -Wl,-Bdynamic \
            -lcrypto -lresolv -lpthread

# make STATIC=1: a fully static binary, about 3 ms a delivery faster (no
# dynamic loader: bench/PROFILE.md); OpenSSL's security fixes then reach
# it only when it is rebuilt.
STATIC_LDFLAGS = -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
STATIC_LIBS = $(WRAP) -lopendkim -lcrypto -ldb-5.3 -lbsd -lmd -lresolv -lpthread
ifeq ($(STATIC),1)
ALL_LDFLAGS = $(STATIC_LDFLAGS)
LIBS      = $(STATIC_LIBS)
endif

# Four programs: qmail-dkim (the stand-in that signs), qmail-dkimd (the
# same signing, resident), qmail-dkimc (the stand-in that asks it) and
# qmail-dkim-queue (a user's own signing, in qmail-queue's place); and
# qmail-dkim-tool, the openssl and dig commands the scripts need, for a
# host without them.
SRCS  = $(wildcard qmail-dkim/*.c)
MAINS = qmail-dkim/qmail-dkim.c qmail-dkim/qmail-dkimc.c qmail-dkim/qmail-dkimd.c \
        qmail-dkim/qmail-dkim-queue.c qmail-dkim/qmail-dkim-tool.c
TOOL_SRCS = qmail-dkim/tool-key.c qmail-dkim/tool-dns.c
OBJS  = $(SRCS:.c=.o)
MODS  = $(patsubst %.c,%.o,$(filter-out $(MAINS) $(TOOL_SRCS),$(SRCS)))
PROGS = qmail-dkim/qmail-dkim qmail-dkim/qmail-dkimd qmail-dkim/qmail-dkimc \
        qmail-dkim/qmail-dkim-queue qmail-dkim/qmail-dkim-tool
# what qmail-dkim-tool needs: OpenSSL and the resolver
TOOL  = $(patsubst %.c,%.o,$(TOOL_SRCS)) qmail-dkim/why.o
TOOL_LIBS = -lcrypto -lresolv -lpthread
# what qmail-dkimc needs: no libopendkim, no OpenSSL
FRONT = $(patsubst %,qmail-dkim/%.o,why io report log control normalize \
          message spool handoff relay wire sigcache)
UNIT  = $(patsubst %.c,%,$(wildcard tests/unit/t-*.c))

all: $(PROGS)

qmail-dkim/qmail-dkim qmail-dkim/qmail-dkimd qmail-dkim/qmail-dkim-queue: %: %.o $(MODS)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $@.o $(MODS) $(LIBS)

# libc alone: its start-up is most of what a delivery through qmail-dkimd
# costs (bench/PROFILE.md)
qmail-dkim/qmail-dkimc: qmail-dkim/qmail-dkimc.o $(FRONT)
	$(CC) $(ALL_CFLAGS) $(FRONT_LDFLAGS) -o $@ $@.o $(FRONT)

qmail-dkim/qmail-dkim-tool: qmail-dkim/qmail-dkim-tool.o $(TOOL)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $@.o $(TOOL) $(TOOL_LIBS)

qmail-dkim/%.o: qmail-dkim/%.c qmail-dkim/qdkim.h
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link the modules straight in: modules return, never exit.
tests/unit/t-%: tests/unit/t-%.c tests/unit/tap.h $(MODS)
	$(CC) $(ALL_CFLAGS) -Iqmail-dkim $(ALL_LDFLAGS) -o $@ $< $(MODS) $(LIBS)

# A stand-in real qmail-remote that measures qmail-dkim's peak memory.
tests/sink: tests/sink.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# A quick stand-in real qmail-remote for tests/differential.py.
tests/remote-stub: tests/remote-stub.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# go-msgauth verifies Ed25519 (Debian's Mail::DKIM cannot); Debian ships
# its source, built offline in GOPATH mode.
tests/verify-msgauth: tests/verify-msgauth.go
	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	  GOCACHE=$(CURDIR)/tests/.gocache go build -o $@ tests/verify-msgauth.go

# Catches qmail-dkim's syslog lines for tests/170-log.t.
tests/syslog-shim.so: tests/syslog-shim.c
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $<

# Runs a program as on Linux 2.6.32 (tests/722-old-kernel.t).
tests/old-kernel: tests/old-kernel.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

units: $(UNIT) tests/sink tests/remote-stub tests/verify-msgauth tests/syslog-shim.so \
       tests/old-kernel

# the Debian packages of tests/packages-demo (building, make demo) and
# tests/packages (the tests, lint, bench)
deps:
	@sh tests/deps.sh
deps-demo:
	@sh tests/deps.sh -d

# Every prove run goes through tests/private.sh: as root, in a mount
# namespace whose /etc (qmail's accounts) and /dev/log are its own, and
# the host's accounts and mount table are checked afterwards.  --timer:
# each file's time as it ends.  The quick suite runs PROVE_JOBS files at
# once (each test has its own scratch directory, ports and sockets); the
# sanitizer and valgrind passes one at a time.
PROVE_JOBS = 2
PROVE      = sh tests/private.sh prove --timer

# The suite once: the quick loop while working.
check-quick: deps
	$(MAKE) all units
	$(PROVE) -j$(PROVE_JOBS) tests/ $(UNIT)

# The README's test command: the suite once, then the fuzz harnesses under
# ASan+UBSan over their seeds and past crashes (the fastest sanitizer pass).
check: check-quick
	$(MAKE) fuzz-regress

# What CI runs: make check, then the suite again under ASan+UBSan and the
# end-to-end tests under valgrind.
check-full: check
	$(MAKE) check-asan check-valgrind

# the compiler's lines hidden (its warnings and errors are not)
demo: deps-demo
	@echo "make demo: building qmail-dkim (make all)"
	@$(MAKE) -s --no-print-directory all
	@sh demo/demo.sh

# make install strips the programs (STRIP= keeps their symbols; STRIP=
# names another strip program, as a cross one); make uninstall removes
# exactly these files, and no directory but CHECKDIR and the one above it,
# which hold nothing else.
STRIP         = strip
INSTALL_STRIP = $(if $(STRIP),-s --strip-program=$(STRIP))
INST_PROGS    = $(notdir $(PROGS))
INST_SCRIPTS  = $(notdir $(wildcard scripts/qmail-dkim-*))
INST_CHECK    = $(notdir $(wildcard scripts/check/*.sh))
INST_MANS     = $(notdir $(wildcard man/*.8)) qmail-dkimc.8

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install $(INSTALL_STRIP) -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 0755 $(addprefix scripts/,$(INST_SCRIPTS)) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(CHECKDIR)
	install -m 0644 $(addprefix scripts/check/,$(INST_CHECK)) $(DESTDIR)$(CHECKDIR)/
	sed "s|^checklib=.*|checklib='$(CHECKDIR)'|" scripts/qmail-dkim-check >$(DESTDIR)$(BINDIR)/qmail-dkim-check
	install -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	ln -sf qmail-dkimd.8 $(DESTDIR)$(MANDIR)/man8/qmail-dkimc.8	# one page, both

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INST_PROGS) $(INST_SCRIPTS))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(INST_MANS))
	rm -f $(addprefix $(DESTDIR)$(CHECKDIR)/,$(INST_CHECK))
	rmdir $(DESTDIR)$(CHECKDIR) $(DESTDIR)$(dir $(CHECKDIR)) 2>/dev/null || :

clean:
	rm -f $(PROGS) qmail-dkim/*.o $(UNIT) tests/sink tests/remote-stub tests/verify-msgauth tests/syslog-shim.so \
	  tests/old-kernel
	rm -rf tests/.gocache $(BUILD) qmail-dkim-*-x86_64-linux.tar.gz

.PHONY: all units deps deps-demo check check-quick check-full demo install uninstall clean

# make bench: qmail-dkim beside dkimpy, Mail::DKIM and the machine's limits,
# one table and a plot in bench/out/ (bench/bench.sh); then the newsletter
# case, one queue file to many recipients (bench/newsletter.sh, also alone
# as make bench-newsletter).  Not part of check.
bench: deps
	$(MAKE) all units
	BENCH_LIBS='$(LIBS)' sh bench/bench.sh
	$(MAKE) bench-newsletter

bench-newsletter: all
	mkdir -p bench/out
	sh bench/newsletter.sh | tee bench/out/newsletter.txt

# make bench-domains: qmail-dkim-check -a on 300 domains beside checking
# them one at a time, and with 1, 4 and 8 workers (bench/domains.sh).
bench-domains:
	sh bench/domains.sh

.PHONY: bench bench-newsletter bench-domains

# make soak: tests/430 with SOAK_N generated messages and a new seed, which
# it prints (SOAK_SEED=S repeats a run); each message that fails becomes a
# file in tests/corpus with its line in tests/corpus/MANIFEST.  Not part
# of check.
SOAK_N = 20000
soak: deps
	$(MAKE) all units
	@seed=$${SOAK_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "make soak: $(SOAK_N) messages, seed $$seed"; \
	GEN_N=$(SOAK_N) GEN_SEED=$$seed GEN_CORPUS_OUT=$(CURDIR)/tests/corpus GEN_REFERENCE=1 \
	  $(PROVE) -v tests/430-generated.t

.PHONY: soak

# --- never lose a message: sanitizers, valgrind, fuzzing, lint --------------
# Everything is built under build/, apart from the normal objects.
#
#   make check-asan      qmail-dkim and the unit tests built with ASan+UBSan,
#                        the whole prove suite run against that binary
#   make check-valgrind  the end-to-end tests with qmail-dkim under valgrind
#   make fuzz            the libFuzzer harnesses, FUZZ_SECONDS each, at once
#   make fuzz-regress    the harnesses over the seeds and past crashes only
#   make lint            cppcheck and clang-tidy on qmail-dkim/*.c, shellcheck
#                        on the scripts; non-zero on any finding
BUILD        = build
SAN          = -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
SAN_CFLAGS   = $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) -O1 -g $(SAN)

ASAN_DIR     = $(BUILD)/asan
ASAN_LOG     = $(CURDIR)/$(ASAN_DIR)/log
ASAN_MODS    = $(patsubst qmail-dkim/%.o,$(ASAN_DIR)/%.o,$(MODS))
ASAN_FRONT   = $(patsubst qmail-dkim/%.o,$(ASAN_DIR)/%.o,$(FRONT))
ASAN_UNIT    = $(patsubst tests/unit/%.c,$(ASAN_DIR)/%,$(wildcard tests/unit/t-*.c))
# static runtimes: the syslog shim test LD_PRELOADs before them otherwise
ASAN_LDFLAGS = $(ALL_LDFLAGS) $(SAN) -static-libasan -static-libubsan

$(ASAN_DIR)/%.o: qmail-dkim/%.c qmail-dkim/qdkim.h
	@mkdir -p $(ASAN_DIR)
	$(CC) $(SAN_CFLAGS) -c -o $@ $<

$(ASAN_DIR)/sanitizer-options.o: fuzz/sanitizer-options.c
	@mkdir -p $(ASAN_DIR)
	$(CC) $(SAN_CFLAGS) -DSAN_LOG='"$(ASAN_LOG)/san"' -c -o $@ $<

$(ASAN_DIR)/qmail-dkim $(ASAN_DIR)/qmail-dkimd $(ASAN_DIR)/qmail-dkim-queue: %: %.o $(ASAN_MODS) $(ASAN_DIR)/sanitizer-options.o
	$(CC) $(SAN_CFLAGS) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

$(ASAN_DIR)/qmail-dkimc: $(ASAN_DIR)/qmail-dkimc.o $(ASAN_FRONT) $(ASAN_DIR)/sanitizer-options.o
	$(CC) $(SAN_CFLAGS) $(ASAN_LDFLAGS) -o $@ $^

$(ASAN_DIR)/t-%: tests/unit/t-%.c tests/unit/tap.h $(ASAN_MODS) $(ASAN_DIR)/sanitizer-options.o
	$(CC) $(SAN_CFLAGS) -Iqmail-dkim $(ASAN_LDFLAGS) -o $@ $< \
	  $(ASAN_MODS) $(ASAN_DIR)/sanitizer-options.o $(LIBS)

# QDKIM_WRAPPED makes the descriptor and address-space limit cases skip:
# they would measure the sanitizer, not qmail-dkim.
check-asan: deps
	$(MAKE) all units $(ASAN_DIR)/qmail-dkim $(ASAN_DIR)/qmail-dkimd \
	  $(ASAN_DIR)/qmail-dkimc $(ASAN_DIR)/qmail-dkim-queue $(ASAN_UNIT)
	rm -rf $(ASAN_LOG) && mkdir -m 1777 $(ASAN_LOG)
	QDKIM=$(CURDIR)/$(ASAN_DIR)/qmail-dkim QDKIM_WRAPPED=asan \
	  QDKIMD=$(CURDIR)/$(ASAN_DIR)/qmail-dkimd \
	  QDKIMC=$(CURDIR)/$(ASAN_DIR)/qmail-dkimc \
	  QDKIMQ=$(CURDIR)/$(ASAN_DIR)/qmail-dkim-queue \
	  $(PROVE) tests/ $(ASAN_UNIT); rc=$$?; \
	for f in $(ASAN_LOG)/*; do \
	  [ -f "$$f" ] || continue; echo "== $$f"; cat "$$f"; rc=1; done; \
	exit $$rc

# valgrind runs qmail-dkim through a wrapper (perl: sh would clear the
# signal mask); its reports go to files, never to fd 2, the report pipe.
# --error-exitcode catches what is found before a Z record's _exit; what is
# found before the exec of the real qmail-remote is only in the files, so
# the files are read afterwards.  The suppressions are libopendkim's own
# documented leak (fuzz/valgrind.supp).
VG_DIR  = $(BUILD)/valgrind
VG_OPTS = --error-exitcode=99 --num-callers=40 --leak-check=full --show-leak-kinds=definite \
          --errors-for-leak-kinds=definite --track-fds=no --vgdb=no \
          --suppressions=$(CURDIR)/fuzz/valgrind.supp
# 140-large measures qmail-dkim's peak RSS, which under valgrind is valgrind's;
# 190-header-bytes is the same code path as 430 (which runs here, smaller)
# for hundreds of deliveries, too slow under valgrind and run under ASan
VG_TESTS = $(filter-out tests/140-large.t tests/190-header-bytes.t $(VG_DAEMON_TESTS),$(wildcard tests/1*.t tests/3*.t tests/4*.t))
# the hostile corpus once more, with qmail-dkimd itself under valgrind: every
# message through one worker, whose errors and leaks (at its end) are read
VG_DAEMON_TESTS = tests/420-corpus-daemon.t

check-valgrind: deps
	$(MAKE) all units
	rm -rf $(VG_DIR) && mkdir -p $(VG_DIR) && mkdir -m 1777 $(VG_DIR)/log
	printf '%s\n' '#!/usr/bin/perl' \
	  'exec "/usr/bin/valgrind", "-q", "--log-file=$(CURDIR)/$(VG_DIR)/log/vg.%p.txt",' \
	  '  "--xml=yes", "--xml-file=$(CURDIR)/$(VG_DIR)/log/vg.%p.xml",' \
	  '  qw($(VG_OPTS)), "$(CURDIR)/qmail-dkim/qmail-dkim", @ARGV or exit 111;' \
	  >$(VG_DIR)/qmail-dkim
	sed 's,qmail-dkim/qmail-dkim",qmail-dkim/qmail-dkimd",' $(VG_DIR)/qmail-dkim \
	  >$(VG_DIR)/qmail-dkimd
	chmod 755 $(VG_DIR)/qmail-dkim $(VG_DIR)/qmail-dkimd
	QDKIM=$(CURDIR)/$(VG_DIR)/qmail-dkim QDKIM_WRAPPED=valgrind \
	  $(PROVE) $(VG_TESTS) && \
	QDKIM=$(CURDIR)/$(VG_DIR)/qmail-dkim QDKIM_WRAPPED=valgrind \
	  QDKIMD=$(CURDIR)/$(VG_DIR)/qmail-dkimd $(PROVE) $(VG_DAEMON_TESTS); rc=$$?; \
	n=$$(ls $(VG_DIR)/log/*.xml 2>/dev/null | wc -l); \
	bad=$$(grep -l '<error>' $(VG_DIR)/log/*.xml 2>/dev/null); \
	echo "check-valgrind: $$n runs under valgrind"; \
	[ "$$n" -gt 0 ] || rc=1; \
	for f in $$bad; do echo "== $${f%.xml}.txt"; cat "$${f%.xml}.txt"; rc=1; done; \
	exit $$rc

# libFuzzer harnesses (clang, from Debian), linked with module objects of
# their own: modules return, never exit.
FUZZ_SECONDS = 60
FUZZ_CC      = clang
FUZZ_DIR     = $(BUILD)/fuzz
FUZZ_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -DQMAILHOME='"$(QMAILHOME)"' \
               $(shell pkg-config --cflags opendkim 2>/dev/null) \
               -g -O1 $(SAN) -fsanitize=fuzzer-no-link -Iqmail-dkim
FUZZ_MODS    = $(patsubst qmail-dkim/%.o,$(FUZZ_DIR)/%.o,$(MODS))
# The libopendkim leak of an Ed25519 handle (libopendkim-facts.md) is
# suppressed; fuzz-sign runs without per-input leak checks, which that
# leak would trigger on every input (a full scan each: 30 inputs a second
# instead of 500); -rss_limit_mb still stops a leak that grows.
FUZZ_ENV     = LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(FUZZ_DIR)/%.o: qmail-dkim/%.c qmail-dkim/qdkim.h
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz-header: fuzz/fuzz-header.c $(FUZZ_MODS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_MODS) $(LIBS)

$(FUZZ_DIR)/fuzz-sign: fuzz/fuzz-sign.c fuzz/testkeys.h $(FUZZ_MODS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Wl,--wrap=dkim_init \
	  -Wl,--wrap=dkim_close -o $@ $< $(FUZZ_MODS) $(LIBS)

$(FUZZ_DIR)/fuzz-chain: fuzz/fuzz-chain.c $(FUZZ_MODS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_MODS) $(LIBS)

FUZZERS = $(FUZZ_DIR)/fuzz-header $(FUZZ_DIR)/fuzz-sign $(FUZZ_DIR)/fuzz-chain

# Each harness grows its own corpus under build/fuzz from fuzz/seeds; a
# crash leaves build/fuzz/crash-* (make it a file in fuzz/regress and a
# test in tests/4NN).
fuzz: deps
	$(MAKE) $(FUZZERS)
	mkdir -p $(FUZZ_DIR)/corpus-header $(FUZZ_DIR)/corpus-sign \
	  $(FUZZ_DIR)/corpus-chain
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-header -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=65536 -timeout=10 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/crash-header- \
	  $(FUZZ_DIR)/corpus-header fuzz/seeds >$(FUZZ_DIR)/header.log 2>&1 & \
	hp=$$!; \
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-chain -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=8192 -timeout=10 -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_DIR)/crash-chain- \
	  $(FUZZ_DIR)/corpus-chain fuzz/seeds-chain >$(FUZZ_DIR)/chain.log 2>&1 & \
	cp=$$!; \
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-sign -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=262144 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  -detect_leaks=0 \
	  -artifact_prefix=$(FUZZ_DIR)/crash-sign- \
	  $(FUZZ_DIR)/corpus-sign fuzz/seeds >$(FUZZ_DIR)/sign.log 2>&1; \
	s=$$?; wait $$hp; h=$$?; wait $$cp; c=$$?; \
	for f in header chain sign; do echo "== $$f"; \
	  grep -E '^(stat::|#[0-9]+ *DONE|==[0-9]+==|SUMMARY|invariant|verify)' \
	    $(FUZZ_DIR)/$$f.log | tail -n 20; done; \
	[ $$h -eq 0 ] && [ $$c -eq 0 ] && [ $$s -eq 0 ]

# Replays the seeds and every past crash: seconds, no fuzzing (files, not
# directories: given a directory, libFuzzer adds what it finds to it).
fuzz-regress: deps
	$(MAKE) $(FUZZERS)
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-header fuzz/seeds/* fuzz/regress/*
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-sign -detect_leaks=0 fuzz/seeds/* fuzz/regress/*
	$(FUZZ_ENV) $(FUZZ_DIR)/fuzz-chain fuzz/seeds-chain/*

# cppcheck and clang-tidy on the program, shellcheck on every script;
# justified suppressions are in .cppcheck-suppressions and .clang-tidy.
LINT_SH = $(wildcard scripts/qmail-dkim-* scripts/check/*.sh tests/*.t tests/*.sh demo/*.sh)
lint: deps
	@rc=0; \
	echo "== cppcheck"; \
	cppcheck --quiet --error-exitcode=1 --std=c11 --platform=unix64 \
	  --enable=warning,style,performance,portability --inline-suppr \
	  --suppressions-list=.cppcheck-suppressions -D_GNU_SOURCE \
	  -DQMAILHOME='"/var/qmail"' -Iqmail-dkim qmail-dkim/*.c || rc=1; \
	echo "== clang-tidy"; \
	clang-tidy --quiet qmail-dkim/*.c -- -std=gnu11 -D_GNU_SOURCE \
	  -DQMAILHOME='"$(QMAILHOME)"' $(shell pkg-config --cflags opendkim 2>/dev/null) \
	  -Iqmail-dkim $(WARN) 2>/dev/null || rc=1; \
	echo "== shellcheck"; \
	shellcheck -x $(LINT_SH) || rc=1; \
	exit $$rc

.PHONY: check-asan check-valgrind fuzz fuzz-regress lint

# --- make dist: one tarball for a host without the libraries -----------------
# The five programs linked fully static (STATIC=1's flags), from objects of
# their own in build/static, then stripped and packed with the scripts and
# man pages: no libopendkim, OpenSSL or compiler needed on the host, and no
# dynamic loader to write on fd 2.  Not part of check: tests/720-dist.t
# builds and tries the static programs (make static) itself.
STATIC_DIR   = $(BUILD)/static
STATIC_MODS  = $(patsubst qmail-dkim/%.o,$(STATIC_DIR)/%.o,$(MODS))
STATIC_FRONT = $(patsubst qmail-dkim/%.o,$(STATIC_DIR)/%.o,$(FRONT))
STATIC_TOOL  = $(patsubst qmail-dkim/%.o,$(STATIC_DIR)/%.o,$(TOOL))
STATIC_PROGS = $(patsubst qmail-dkim/%,$(STATIC_DIR)/%,$(PROGS))
VERSION      = $(shell cat VERSION 2>/dev/null || git describe --always --dirty 2>/dev/null || echo unknown)
DIST         = qmail-dkim-$(VERSION)-x86_64-linux
# the tarball; tests/724-bare-root.t makes one of its own elsewhere
DISTOUT      = $(DIST).tar.gz
STRIP        = strip

$(STATIC_DIR)/%.o: qmail-dkim/%.c qmail-dkim/qdkim.h
	@mkdir -p $(STATIC_DIR)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(STATIC_DIR)/qmail-dkim $(STATIC_DIR)/qmail-dkimd $(STATIC_DIR)/qmail-dkim-queue: %: %.o $(STATIC_MODS)
	$(CC) $(ALL_CFLAGS) $(STATIC_LDFLAGS) -o $@ $@.o $(STATIC_MODS) $(STATIC_LIBS)

$(STATIC_DIR)/qmail-dkimc: $(STATIC_DIR)/qmail-dkimc.o $(STATIC_FRONT)
	$(CC) $(ALL_CFLAGS) $(STATIC_LDFLAGS) -o $@ $^

$(STATIC_DIR)/qmail-dkim-tool: $(STATIC_DIR)/qmail-dkim-tool.o $(STATIC_TOOL)
	$(CC) $(ALL_CFLAGS) $(STATIC_LDFLAGS) -o $@ $^ $(TOOL_LIBS)

static: $(STATIC_PROGS)

dist: static
	rm -rf $(BUILD)/$(DIST) $(DISTOUT)
	mkdir -p $(BUILD)/$(DIST)/bin $(BUILD)/$(DIST)/share/man/man8
	for p in $(STATIC_PROGS); do \
	  $(STRIP) -o $(BUILD)/$(DIST)/bin/$${p##*/} $$p || exit 1; done
	install -m 0755 scripts/qmail-dkim-* $(BUILD)/$(DIST)/bin/
	mkdir -p $(BUILD)/$(DIST)/share/qmail-dkim/check
	install -m 0644 scripts/check/*.sh $(BUILD)/$(DIST)/share/qmail-dkim/check/
	sed 's|^checklib=.*|checklib=$$here/../share/qmail-dkim/check|' \
	  scripts/qmail-dkim-check >$(BUILD)/$(DIST)/bin/qmail-dkim-check
	install -m 0644 man/*.8 $(BUILD)/$(DIST)/share/man/man8/
	ln -s qmail-dkimd.8 $(BUILD)/$(DIST)/share/man/man8/qmail-dkimc.8
	install -m 0644 README.md INSTALL $(BUILD)/$(DIST)/
	echo $(VERSION) >$(BUILD)/$(DIST)/VERSION
	tar -C $(BUILD) --owner=0 --group=0 --numeric-owner --sort=name \
	  -czf $(DISTOUT) $(DIST)
	@echo "make dist: $(DISTOUT)"

.PHONY: static dist
