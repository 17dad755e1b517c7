/*
 * execonly.c -- the smallest possible front: exec argv[1] with the rest.
 *
 *	execonly PROG ARG...
 *
 * Linked -static-pie like qmail-dkimc, started by bench/launch.c in its
 * place, it measures what one more exec of a static program costs in
 * this VM (bench/dkimd-profile.sh), against which qmail-dkimc's own work
 * and its round trip to qmail-dkimd can be read.
 */
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 111;
	execv(argv[1], argv + 1);
	return 111;
}
