/*
 * seccomp.h: the raw BPF building blocks of Berth's seccomp filters, shared by berth-monitor
 * (a deny list for containers) and berth-unpack (an allow list for itself). No libseccomp: a
 * filter is a short static array, checked for the architecture first.
 * Read: seccomp(2), seccomp_unotify(2) (struct seccomp_data), filter.h (BPF_STMT, BPF_JUMP),
 * audit.h (AUDIT_ARCH_*).
 */
#ifndef BERTH_COMMON_SECCOMP_H
#define BERTH_COMMON_SECCOMP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

/* The AUDIT_ARCH_* of this build; undefined where Berth builds no filter (the helpers then fail). */
#if defined(__x86_64__)
#define BERTH_SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define BERTH_SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

/* Loads the architecture word, then `foreign_action` for any other architecture (i386 through
 * int 0x80 on x86_64 has other syscall numbers): 3 instructions. */
#define SECCOMP_CHECK_ARCH(foreign_action)                                                  \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),            \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BERTH_SECCOMP_ARCH, 1, 0),              \
		BPF_STMT(BPF_RET | BPF_K, (foreign_action))
/* Loads the syscall number into the accumulator. */
#define SECCOMP_LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* With the number loaded: `action` for syscall `nr`, else on to the next rule (2 instructions). */
#define SECCOMP_ON(nr, action) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, (action))

/* A syscall an allow list lets through; with `arg` >= 0, only if none of `forbidden_bits` is set
 * in the low 32 bits of that argument (e.g. no PROT_EXEC in mmap's prot). */
struct seccomp_allowed {
	int nr;
	int arg;
	uint32_t forbidden_bits;
};

/* Installs `filter` (no_new_privs must be set already). -1 with errno on failure. */
int seccomp_load(const struct sock_filter *filter, size_t len);

/* Installs an allow list: any syscall not in `allowed`, an allowed one with a forbidden argument
 * bit, or a syscall of another architecture or ABI (x32) kills the whole process with SIGSYS.
 * -1 with errno on failure (EINVAL: the list is too long; ENOSYS: no filter for this arch). */
int seccomp_allow_only(const struct seccomp_allowed *allowed, size_t count);

#endif
