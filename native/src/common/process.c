/*
 * process.c: process hygiene shared by Berth's helper executables.
 * Read: close_range(2), fcntl(2).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "process.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

void close_inherited(int keep)
{
	if (keep > 2) {
		if (keep > 3)
			syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
		syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U);
		fcntl(keep, F_SETFD, FD_CLOEXEC);
	} else {
		syscall(SYS_close_range, 3U, ~0U, 0U);
	}
	/* 0-2 must exist, or the next descriptor opened would pose as stdio. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int null = open("/dev/null", O_RDWR); /* lands on fd: the lowest free number */
			(void)null;
		}
}
