/*
 * seccomp.c: loads Berth's seccomp filters, and builds an allow-list filter from a table.
 * Read: seccomp(2), filter.h, syscall(2) (x32: __X32_SYSCALL_BIT).
 */
#include "seccomp.h"

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

int seccomp_load(const struct sock_filter *filter, size_t len)
{
	if (len == 0 || len > BPF_MAXINSNS) {
		errno = EINVAL;
		return -1;
	}
	struct sock_fprog prog = { .len = (unsigned short)len, .filter = (struct sock_filter *)filter };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -1 : 0;
}

/* An argument's low 32 bits sit first in struct seccomp_data's u64 on the architectures above. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "argument checks load the low word at the u64's address");

#define ALLOW_MAX 128
/* Per rule: 2 instructions, or 5 with an argument check; around them the prologue and the default. */
#define FILTER_MAX (3 + 1 + 5 * ALLOW_MAX + 1)

int seccomp_allow_only(const struct seccomp_allowed *allowed, size_t count)
{
#ifdef BERTH_SECCOMP_ARCH
	const uint32_t kill = SECCOMP_RET_KILL_PROCESS;
	const uint32_t allow = SECCOMP_RET_ALLOW;
	struct sock_filter filter[FILTER_MAX];
	size_t n = 0;

	if (count > ALLOW_MAX) {
		errno = EINVAL;
		return -1;
	}
	const struct sock_filter prologue[] = { SECCOMP_CHECK_ARCH(kill), SECCOMP_LOAD_NR };
	for (size_t i = 0; i < sizeof(prologue) / sizeof(*prologue); i++)
		filter[n++] = prologue[i];
	/* x32 numbers carry __X32_SYSCALL_BIT and so never equal an entry: they reach the default. */
	for (size_t i = 0; i < count; i++) {
		const struct seccomp_allowed *a = &allowed[i];
		if (a->arg < 0) {
			const struct sock_filter rule[] = { SECCOMP_ON((uint32_t)a->nr, allow) };
			filter[n++] = rule[0];
			filter[n++] = rule[1];
			continue;
		}
		if (a->arg > 5) {
			errno = EINVAL;
			return -1;
		}
		const struct sock_filter rule[] = {
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->nr, 0, 4),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]) + 8 * (uint32_t)a->arg),
			BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, a->forbidden_bits, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, kill),
			BPF_STMT(BPF_RET | BPF_K, allow),
		};
		for (size_t j = 0; j < sizeof(rule) / sizeof(*rule); j++)
			filter[n++] = rule[j];
	}
	filter[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, kill);
	return seccomp_load(filter, n);
#else
	(void)allowed;
	(void)count;
	errno = ENOSYS;
	return -1;
#endif
}
