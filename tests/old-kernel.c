/*
 * old-kernel PROGRAM ARG...: PROGRAM run as on Linux 2.6.32 (CentOS 6's
 * kernel), for tests/722-old-kernel.t.  Two things tell a program which
 * kernel it has: uname(2), which the UNAME26 personality makes answer
 * "2.6.x", and the system calls, which a seccomp filter makes answer as
 * 2.6.32 did.  Both are inherited across fork and execve, so everything
 * PROGRAM starts sees the same kernel.
 *
 * System calls.  x86_64 numbers are handed out in order and never reused:
 * Linux 2.6.32's arch/x86/include/asm/unistd_64.h ends at 298
 * (perf_event_open, 2.6.31), and every number above it came later.  So
 * every x86_64 call above 298 answers ENOSYS, as a kernel without it
 * does.  From the kernel's syscall_64.tbl (the first release of each, from
 * its git history):
 *   299 recvmmsg 2.6.33; 300-301 fanotify_init, fanotify_mark and 302
 *   prlimit64 2.6.36; 303-304 name_to_handle_at, open_by_handle_at, 305
 *   clock_adjtime, 306 syncfs 2.6.39; 307 sendmmsg, 308 setns 3.0; 309
 *   getcpu 3.1; 310-311 process_vm_readv/writev 3.2; 312 kcmp 3.5; 313
 *   finit_module 3.8; 314-315 sched_setattr/getattr 3.14; 316 renameat2
 *   3.15; 317 seccomp, 318 getrandom, 319 memfd_create, 320
 *   kexec_file_load 3.17; 321 bpf 3.18; 322 execveat 3.19; 323
 *   userfaultfd, 324 membarrier 4.3; 325 mlock2 4.4; 326 copy_file_range
 *   4.5; 327-328 preadv2/pwritev2 4.6; 329-331 pkey_* 4.9; 332 statx
 *   4.11; 333 io_pgetevents, 334 rseq 4.18; (335-423 unused on x86_64,
 *   kept for the other architectures' numbers); 424 pidfd_send_signal,
 *   425-427 io_uring_* 5.1; 428-433 the mount API 5.2; 434 pidfd_open,
 *   435 clone3 5.3; 437 openat2, 438 pidfd_getfd 5.6; 439 faccessat2
 *   5.8; 436 close_range 5.9; 440 process_madvise 5.10; 441 epoll_pwait2
 *   5.11; 442 mount_setattr 5.12; 444-446 landlock_* 5.13; 443
 *   quotactl_fd, 447 memfd_secret 5.14; 448 process_mrelease 5.15; 449
 *   futex_waitv 5.16; 450 set_mempolicy_home_node 5.17; and all later.
 * The x32 calls (number | 0x40000000) are above 298 too.
 *
 * Flags.  A kernel ignores open flags it does not know: O_TMPFILE (3.11)
 * is O_DIRECTORY plus a new bit, so on 2.6.32 open(DIR, O_TMPFILE|O_RDWR)
 * opens DIR for writing and fails with EISDIR (open(2), "O_TMPFILE").
 * The filter answers that, for open and openat.
 *
 * Not modelled: other new flags and behaviours of old calls; the tests
 * name what they rely on.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LAST_2_6_32	298		/* perf_event_open */
#define NEW_TMPFILE_BIT	(O_TMPFILE & ~O_DIRECTORY)

#define LOAD(field) \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define ANSWER(e)	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define ALLOW		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static struct sock_filter filter[] = {
	LOAD(arch),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	ANSWER(ENOSYS),				/* not x86_64: none of it */
	LOAD(nr),
	BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, LAST_2_6_32, 0, 1),
	ANSWER(ENOSYS),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 0, 4),
	LOAD(args[1]),				/* open(path, flags, mode) */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NEW_TMPFILE_BIT, 0, 1),
	ANSWER(EISDIR),
	ALLOW,
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
	LOAD(args[2]),				/* openat(dir, path, flags, mode) */
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NEW_TMPFILE_BIT, 0, 1),
	ANSWER(EISDIR),
	ALLOW,
};

int
main(int argc, char **argv)
{
	struct sock_fprog prog = {
		.len = sizeof filter / sizeof filter[0],
		.filter = filter,
	};

	if (argc < 2) {
		fputs("usage: old-kernel PROGRAM ARG...\n", stderr);
		return 100;
	}
	if (personality(PER_LINUX | UNAME26) == -1) {
		perror("old-kernel: personality UNAME26");
		return 100;
	}
	/* a filter without root needs no_new_privs (seccomp(2)) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		perror("old-kernel: seccomp filter");
		return 100;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 100;
}
