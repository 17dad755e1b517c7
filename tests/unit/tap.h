/* tap.h -- the few TAP helpers the unit tests need. */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_fail;

static void
ok(int cond, const char *desc)
{
	tap_n++;
	if (!cond)
		tap_fail++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, desc);
}

static void
is_str(const char *got, const char *want, const char *desc)
{
	int same = (got == NULL && want == NULL) ||
	    (got != NULL && want != NULL && strcmp(got, want) == 0);

	ok(same, desc);
	if (!same)
		printf("#   got '%s'\n#  want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
}

static int
done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
#endif
