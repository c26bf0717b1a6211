/*
 * sandbox.c: capabilities and the seccomp allow list of berth-unpack (see sandbox.h). The lists
 * follow what create.c, remove.c, records.c and report.c call, through glibc 2.36 (fstat is
 * newfstatat, mkdir/rmdir/unlink are their own syscalls on x86_64); a syscall added there must be
 * added here, or the helper dies with SIGSYS in the tests.
 * Read: capabilities(7), capget(2), prctl(2), seccomp(2), mmap(2) (PROT_EXEC).
 */
#include "sandbox.h"

#include "report.h"
#include "../common/seccomp.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_BIT(cap) (UINT64_C(1) << (cap))

static uint64_t capabilities_for(enum sandbox_job job, bool privileged)
{
	if (job == SANDBOX_REMOVE)
		return CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_DAC_READ_SEARCH) | CAP_BIT(CAP_FOWNER);
	/* chown to the container's ids; write into its directories whatever their mode; link by fd
	 * (linkat AT_EMPTY_PATH); keep setgid bits for groups we are not in; set file capabilities. */
	uint64_t keep = CAP_BIT(CAP_CHOWN) | CAP_BIT(CAP_DAC_OVERRIDE) | CAP_BIT(CAP_DAC_READ_SEARCH) |
			CAP_BIT(CAP_FOWNER) | CAP_BIT(CAP_FSETID) | CAP_BIT(CAP_SETFCAP);
	if (privileged)
		keep |= CAP_BIT(CAP_MKNOD);
	return keep;
}

static void drop_capabilities(uint64_t keep)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &header, data) < 0)
		fail_syscall("capget", errno, NULL);
	uint64_t effective = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	uint64_t permitted = (uint64_t)data[0].permitted | ((uint64_t)data[1].permitted << 32);

	/* The bounding set needs CAP_SETPCAP, which root has and an unprivileged caller has nothing to drop with. */
	if (effective & CAP_BIT(CAP_SETPCAP)) {
		for (int cap = 0; cap < 64; cap++) {
			if (keep & CAP_BIT(cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break; /* past the kernel's last capability */
				fail_syscall("prctl", errno, "PR_CAPBSET_DROP");
			}
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail_syscall("prctl", errno, "PR_CAP_AMBIENT_CLEAR_ALL");
	uint64_t kept = keep & permitted;
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(kept >> (32 * i));
		data[i].permitted = (uint32_t)(kept >> (32 * i));
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &header, data) < 0)
		fail_syscall("capset", errno, NULL);
}

#define ALLOW(call) { .nr = (call), .arg = -1, .forbidden_bits = 0 }
/* Memory for malloc and stdio, never executable: no shellcode page even if a bug gave a write. */
#define ALLOW_NO_EXEC(call, prot_arg) { .nr = (call), .arg = (prot_arg), .forbidden_bits = PROT_EXEC }
#define ALLOW_BASE                                                                               \
	ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_close), ALLOW(SYS_openat), ALLOW(SYS_newfstatat), \
		ALLOW(SYS_fstat), ALLOW(SYS_fcntl), ALLOW(SYS_lseek), ALLOW(SYS_brk), ALLOW(SYS_munmap), \
		ALLOW_NO_EXEC(SYS_mmap, 2), ALLOW_NO_EXEC(SYS_mprotect, 2), ALLOW(SYS_getrandom),       \
		ALLOW(SYS_rt_sigreturn), ALLOW(SYS_restart_syscall), ALLOW(SYS_exit), ALLOW(SYS_exit_group)

static const struct seccomp_allowed extract_syscalls[] = {
	ALLOW_BASE,
#ifdef SYS_mkdir
	ALLOW(SYS_mkdir),
#endif
	ALLOW(SYS_openat2),
	ALLOW(SYS_mkdirat),
	ALLOW(SYS_symlinkat),
	ALLOW(SYS_linkat),
	ALLOW(SYS_mknodat),
	ALLOW(SYS_fchown),
	ALLOW(SYS_fchownat),
	ALLOW(SYS_fchmod),
	ALLOW(SYS_utimensat),
	ALLOW(SYS_fsetxattr),
};

static const struct seccomp_allowed remove_syscalls[] = {
	ALLOW_BASE,
#ifdef SYS_rmdir
	ALLOW(SYS_rmdir),
	ALLOW(SYS_unlink),
#endif
	ALLOW(SYS_unlinkat),
	ALLOW(SYS_getdents64),
};

void sandbox_enter(enum sandbox_job job, bool privileged)
{
	drop_capabilities(capabilities_for(job, privileged));
	const struct seccomp_allowed *list = job == SANDBOX_EXTRACT ? extract_syscalls : remove_syscalls;
	size_t count = job == SANDBOX_EXTRACT ? sizeof(extract_syscalls) / sizeof(*extract_syscalls)
					      : sizeof(remove_syscalls) / sizeof(*remove_syscalls);
	if (seccomp_allow_only(list, count) < 0)
		fail_syscall("seccomp", errno, NULL);
}
