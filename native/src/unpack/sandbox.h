/*
 * sandbox.h: what berth-unpack gives up before it reads a single byte of a stranger's archive.
 * It keeps only the capabilities its job needs and installs a seccomp allow list of the syscalls
 * that job makes; anything else (a socket, an exec, a mount, a ptrace) kills it with SIGSYS.
 * Read: capabilities(7), capget(2), prctl(2) (PR_CAPBSET_DROP, PR_CAP_AMBIENT), seccomp(2).
 */
#ifndef BERTH_UNPACK_SANDBOX_H
#define BERTH_UNPACK_SANDBOX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>

enum sandbox_job {
	/* Create entries, set owners, modes, times and file capabilities (+ device nodes if privileged). */
	SANDBOX_EXTRACT,
	/* Walk a tree and unlink it, whoever owns it. */
	SANDBOX_REMOVE,
};

/* Enters the sandbox for `job`, after no_new_privs is set; exits (fail_syscall) if it cannot. */
void sandbox_enter(enum sandbox_job job, bool privileged);

#endif
