/*
 * fuzz-chain.c -- libFuzzer harness for the chain reader (chain.c) and
 * the rights it leads to (rights.c): the input is the top of a queue
 * file, text a stranger wrote below qmail's first line.
 *
 * The invariant is the one signing rights rest on: what the whole chain
 * may sign never exceeds what its first link may sign alone, since only
 * that line is qmail's for certain; with trusted forwarders, what the
 * first link that is not one may sign.  Checked for every domain of a
 * fixed set, for a control/dkimrights with forwarders and one without,
 * and with no file at all, the envelope domain and a bounce's envelope
 * chosen by the input.  Besides: the chain holds 1 to CHAIN_MAX links,
 * the ident text is a string inside its buffer, and the log's name of
 * the chain fits its buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qdkim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, \
	    __LINE__); abort(); } } while (0)

/* uids 1007 and 1008 are trusted forwarders in the first table */
static const char *const tables[3] = {
	"1005: alice.example lists.example\n1006: bob.example\n"
	"1007: forwarder carol.example\n1008: forwarder\n0: *\n"
	"root: root.example\n",
	"1005: alice.example lists.example\n1006: bob.example\n"
	"1007: carol.example\n0: *\n",
	NULL				/* no file */
};
static const char *const domains[] = {
	"alice.example", "lists.example", "bob.example", "carol.example",
	"root.example", "example", "other.example"
};
#define NDOMAINS (sizeof domains / sizeof *domains)
static char home[64], path[128];

static void
remove_home(void)
{
	unlink(path);
	snprintf(path, sizeof path, "%s/control", home);
	rmdir(path);
	rmdir(home);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(home, sizeof home, "/tmp/qdkim-fuzz-chain.XXXXXX");
	if (mkdtemp(home) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/control", home);
	if (mkdir(path, 0700) == -1 || setenv("QMAILDKIM_HOME", home, 1) == -1)
		abort();
	snprintf(path, sizeof path, "%s/control/dkimrights", home);
	atexit(remove_home);
	return 0;
}

static void
load(const char *table)
{
	FILE *f;

	unlink(path);
	if (table != NULL) {
		f = fopen(path, "w");
		if (f == NULL || fputs(table, f) == EOF || fclose(f) == EOF)
			abort();
		/* the tables differ in size: rights.c's cache (device,
		 * inode, size, mtime) cannot take one for the other */
	}
	CHECK(rights_load() == (table != NULL));
}

static int
trusted(const struct link *l, int t)
{
	return t == 0 && l->injector == INJ_UID &&
	    (l->uid == 1007 || l->uid == 1008);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const envs[] = { "lists.example",
	    "alice.example", NULL };
	const char *hdr = (const char *)data;
	struct who w, top;
	struct link given = { INJ_UID, 1006 };
	char name[128];
	size_t i, k, t;
	int knob = size > 0 ? data[0] : 0;

	if (size > 0) {
		hdr++;
		size--;
	}
	rights_given(knob & 1 ? &given : NULL);
	for (t = 0; t < 3; t++) {
		load(tables[t]);
		rights_who(hdr, size, &w);
		CHECK(w.c.n >= 1 && w.c.n <= CHAIN_MAX);
		CHECK(memchr(w.c.info, '\0', sizeof w.c.info) != NULL);
		CHECK(w.c.info[0] == '\0' || w.c.smtp == SMTP_LOOPBACK);
		w.envdom = envs[(knob >> 1) % 3];
		w.env_bounce = (knob >> 3) & 1;
		rights_name(&w, name, sizeof name);
		CHECK(strlen(name) < sizeof name);

		/* the first link that is not a trusted forwarder, alone */
		for (k = 0; k + 1 < w.c.n && trusted(&w.c.l[k], (int)t); k++)
			;
		top = w;
		top.c.n = 1;
		top.c.l[0] = w.c.l[k];
		top.c.list = top.c.overflow = 0;
		if (k > 0)
			top.c.smtp = SMTP_NONE;
		for (i = 0; i < NDOMAINS; i++) {
			w.refused[0] = top.refused[0] = '\0';
			if (rights_check(&w, domains[i]))
				CHECK(rights_check(&top, domains[i]));
		}
	}
	rights_given(NULL);
	return 0;
}
