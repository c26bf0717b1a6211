/*
 * process.h: process hygiene shared by Berth's helper executables (berth-monitor, berth-proxy),
 * which Node starts with only stdio and perhaps a report pipe meant for them.
 * Read: close_range(2), fcntl(2) (F_SETFD, FD_CLOEXEC).
 */
#ifndef BERTH_COMMON_PROCESS_H
#define BERTH_COMMON_PROCESS_H

/* Keeps fds 0-2 and `keep` (none if -1; made FD_CLOEXEC), closes every other inherited one, and
 * puts /dev/null on any of 0-2 that is missing, so that the next descriptor opened cannot pose
 * as stdio. */
void close_inherited(int keep);

#endif
