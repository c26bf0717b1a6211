/*
 * relay.c: the exec helper's streaming loop (`berth-monitor exec --control-fd N`). One poll(2)
 * loop over:
 *   - the helper's stdin (from Node) -> the command's stdin pipe or the pty master, through a
 *     pending buffer, so a full pipe or terminal never blocks the loop (nor the control line);
 *     the end of the helper's stdin closes the command's stdin pipe, which is its EOF (on a
 *     terminal there is no such thing: a caller wanting EOF writes the VEOF character, ^D);
 *   - the command's stdout and stderr pipes (or the pty master) -> the helper's stdout and
 *     stderr, written as soon as anything is read;
 *   - the control descriptor, one JSON object per line: {"signal":N} goes to the command (to
 *     its process group when it has a terminal, where it is the session leader);
 *     {"resize":[rows,cols]} is TIOCSWINSZ on the master, which the kernel turns into SIGWINCH
 *     for the terminal's foreground process group; anything else is ignored;
 *   - the command's pidfd. Once it exited, what it left in the pipes or the terminal is drained
 *     (bounded: a background process may still hold them and write on) and its status returned.
 * Nothing here runs in the container's file system view: the helper only holds descriptors.
 * Read: poll(2), pipe(7), pty(7), ioctl_tty(2) (TIOCSWINSZ), pidfd_open(2), kill(2).
 */
#include "relay.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CHUNK 65536
#define DRAIN_LIMIT (4 * 1024 * 1024)
#define CONTROL_MAX 4096

static char io_buf[CHUNK];

struct stream {
	int src;  /* the command's side, -1 once finished */
	int dst;  /* 1 or 2 */
	bool dead; /* Node stopped reading: output is discarded */
};

/* Reads once from s->src and writes it out; false when the source has finished. */
static bool pump(struct stream *s)
{
	ssize_t n = read(s->src, io_buf, sizeof(io_buf));
	if (n > 0) {
		if (!s->dead && write_all(s->dst, io_buf, (size_t)n) < 0)
			s->dead = true;
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	return false; /* EOF, or EIO: every holder of the pty slave is gone */
}

static void drain(struct stream *s, size_t *budget)
{
	while (s->src >= 0 && *budget > 0) {
		ssize_t n = read(s->src, io_buf, *budget < sizeof(io_buf) ? *budget : sizeof(io_buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		*budget -= (size_t)n;
		if (!s->dead && write_all(s->dst, io_buf, (size_t)n) < 0)
			s->dead = true;
	}
}

static bool parse_resize(const char *line, unsigned short *rows, unsigned short *cols)
{
	const char *p = strstr(line, "\"resize\"");
	if (!p)
		return false;
	p += strlen("\"resize\"");
	p += strspn(p, " \t");
	if (*p++ != ':')
		return false;
	p += strspn(p, " \t");
	if (*p++ != '[')
		return false;
	char *end;
	long r = strtol(p, &end, 10);
	if (end == p)
		return false;
	p = end + strspn(end, " \t");
	if (*p++ != ',')
		return false;
	p += strspn(p, " \t");
	long c = strtol(p, &end, 10);
	if (end == p)
		return false;
	p = end + strspn(end, " \t");
	if (*p != ']' || r < 1 || r > 10000 || c < 1 || c > 10000)
		return false;
	*rows = (unsigned short)r;
	*cols = (unsigned short)c;
	return true;
}

bool relay_control_line(struct relay *r, const char *line)
{
	double sig;
	if (json_get_number(line, "signal", &sig)) {
		if (sig < 1 || sig >= NSIG || sig != (double)(int)sig)
			return false;
		/* With a terminal the command leads its own session and process group. */
		if (r->master < 0 || kill(-r->child, (int)sig) < 0)
			kill(r->child, (int)sig);
		return true;
	}
	unsigned short rows, cols;
	if (parse_resize(line, &rows, &cols)) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		if (r->master >= 0)
			ioctl(r->master, TIOCSWINSZ, &ws);
		return true;
	}
	return false;
}

int relay_run(struct relay *r)
{
	bool input_open = true, target_dead = false;
	size_t pending = 0, pending_off = 0;
	static char in_buf[CHUNK];
	char control[CONTROL_MAX + 1];
	size_t control_len = 0;
	bool control_overflow = false;
	struct stream out[2] = { { .src = r->master >= 0 ? r->master : r->stdout_r, .dst = 1 },
				 { .src = r->master >= 0 ? -1 : r->stderr_r, .dst = 2 } };
	int status = 0;

	for (;;) {
		int target = r->master >= 0 ? (out[0].src >= 0 ? r->master : -1) : r->stdin_w;
		if (target < 0)
			target_dead = true;
		if (target_dead)
			pending = pending_off = 0;
		/* Input done and written out: the command's stdin pipe closes (its EOF). */
		if (!input_open && pending == 0 && r->stdin_w >= 0) {
			close(r->stdin_w);
			r->stdin_w = -1;
		}

		struct pollfd fds[6];
		int nfds = 0, i_pid, i_ctl = -1, i_in = -1, i_out[2] = { -1, -1 }, i_target = -1;
		fds[i_pid = nfds++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		if (r->control >= 0)
			fds[i_ctl = nfds++] = (struct pollfd){ .fd = r->control, .events = POLLIN };
		if (input_open && pending == 0)
			fds[i_in = nfds++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		for (int k = 0; k < 2; k++)
			if (out[k].src >= 0)
				fds[i_out[k] = nfds++] = (struct pollfd){ .fd = out[k].src, .events = POLLIN };
		if (pending > 0 && !target_dead) {
			if (r->master >= 0) { /* the master is also out[0]: one entry, both directions */
				i_target = i_out[0];
				fds[i_target].events |= POLLOUT;
			} else {
				fds[i_target = nfds++] = (struct pollfd){ .fd = r->stdin_w, .events = POLLOUT };
			}
		}

		int n = poll(fds, (nfds_t)nfds, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}

		for (int k = 0; k < 2; k++)
			if (i_out[k] >= 0 && (fds[i_out[k]].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(&out[k])) {
				if (r->master < 0)
					close(out[k].src);
				out[k].src = -1;
			}

		if (i_target >= 0 && (fds[i_target].revents & (POLLOUT | POLLERR | POLLHUP)) && !target_dead) {
			ssize_t w = write(target, in_buf + pending_off, pending - pending_off);
			if (w > 0) {
				pending_off += (size_t)w;
				if (pending_off == pending)
					pending = pending_off = 0;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				target_dead = true; /* the command closed its stdin: input is discarded */
			}
		}

		if (i_in >= 0 && (fds[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(0, in_buf, sizeof(in_buf));
			if (got > 0 && !target_dead) {
				pending = (size_t)got;
				pending_off = 0;
			} else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				input_open = false;
			}
		}

		if (i_ctl >= 0 && (fds[i_ctl].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(r->control, control + control_len, CONTROL_MAX - control_len);
			if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
				close(r->control); /* Node closed it: the command runs on, uncontrolled */
				r->control = -1;
			} else if (got > 0) {
				control_len += (size_t)got;
				control[control_len] = '\0';
				char *line = control, *nl;
				while ((nl = strchr(line, '\n')) != NULL) {
					*nl = '\0';
					if (!control_overflow)
						relay_control_line(r, line);
					control_overflow = false;
					line = nl + 1;
				}
				control_len -= (size_t)(line - control);
				memmove(control, line, control_len + 1);
				if (control_len == CONTROL_MAX) { /* no request is that long: skip to the next line */
					control_len = 0;
					control_overflow = true;
				}
			}
		}

		if (fds[i_pid].revents & (POLLIN | POLLHUP | POLLERR)) {
			while (waitpid(r->child, &status, 0) < 0)
				if (errno != EINTR)
					return status;
			size_t budget = DRAIN_LIMIT;
			for (int k = 0; k < 2; k++)
				drain(&out[k], &budget);
			return status;
		}
	}
	while (waitpid(r->child, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}
