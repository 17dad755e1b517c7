/*
 * sanitizer-options.c -- linked into the `make check-asan` build of
 * qmail-dkim and its unit tests only.
 *
 * qmail-dkim's fd 2 is qmail's report pipe and the tests start it with
 * an environment of PATH alone (as qmail-rspawn does), so ASAN_OPTIONS
 * cannot reach it: the options are built in.  Reports go to files under
 * SAN_LOG (set by the Makefile), never to fd 2; `make check-asan` fails
 * when any file appears there.  A failed check exits 1, which every test
 * sees as a broken contract.
 */
#ifndef SAN_LOG
#define SAN_LOG "/tmp/qmail-dkim-asan"
#endif

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "log_path=" SAN_LOG ":abort_on_error=0:exitcode=1"
	    ":detect_leaks=1:allocator_may_return_null=1"
	    ":quarantine_size_mb=16:malloc_context_size=20";
}

const char *
__ubsan_default_options(void)
{
	return "log_path=" SAN_LOG ":print_stacktrace=1:halt_on_error=1";
}
