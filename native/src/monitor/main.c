/*
 * main.c: berth-monitor's entry: `berth-monitor start …` supervises one container,
 * `berth-monitor exec …` runs a command inside a running one. Both start by closing every
 * descriptor they inherited; Node spawns them with only stdio (and a report pipe).
 * Read: close_range(2), setsid(2).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "monitor.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return monitor_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "exec") == 0)
		return exec_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: berth-monitor start|exec [options]\n");
	return 2;
}
