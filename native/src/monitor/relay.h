/*
 * relay.h: the streaming side of `berth-monitor exec --control-fd N`: once the command runs,
 * the helper relays its own stdio to the command (pipes or the pty master), obeys one-line
 * JSON requests on the control descriptor ({"signal":N}, {"resize":[rows,cols]}) and returns
 * the command's wait status when it exits.
 * Read: the banner of relay.c.
 */
#ifndef BERTH_RELAY_H
#define BERTH_RELAY_H

#include <stdbool.h>
#include <sys/types.h>

struct relay {
	pid_t child;      /* the command, as seen from the helper's (host) pid namespace */
	int pidfd;        /* the command's pidfd: readable once it exited */
	int control;      /* the control descriptor from Node, or -1 */
	int master;       /* the pty master (input and output both), or -1 */
	int stdin_w;      /* without a pty: the write end of the command's stdin pipe */
	int stdout_r;     /* without a pty: the read ends of its stdout and stderr pipes */
	int stderr_r;
};

/* Relays until the command exits; returns its wait status (as waitpid(2) stores it). */
int relay_run(struct relay *r);

/* Parses one control line; exposed for the exec helper's own checks. Returns false if unknown. */
bool relay_control_line(struct relay *r, const char *line);

#endif
