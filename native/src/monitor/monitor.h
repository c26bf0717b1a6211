/*
 * monitor.h: the two entry points of the berth-monitor executable.
 * Read: the banners of monitor.c (the per-container supervisor) and exec.c (the exec helper).
 */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

int monitor_main(int argc, char **argv);
int exec_main(int argc, char **argv);

/* Shared process hygiene: keeps fds 0-2 and `keep` (or none if -1), closes every other one. */
void close_inherited(int keep);

#endif
