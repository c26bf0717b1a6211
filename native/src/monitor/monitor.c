/*
 * monitor.c: the per-container supervisor. Started detached by berthd (its own session, stdio
 * on /dev/null, every other inherited descriptor closed), it creates the container's cgroup and
 * init (container.c), then, single-threaded around one epoll loop, holds:
 *   - the init's pidfd: exit decoding (SIGHUP = reboot, restarted; SIGINT = halt/poweroff);
 *   - the console pty master: output to console.log (rotated) and a ring buffer for attach;
 *   - the sd_notify socket: systemd's READY=1 is recorded (readyMs), STATUS= is kept; an init
 *     that never writes to it (busybox, sysvinit) runs all the same;
 *   - the control socket <berth_dir>/containers/<name>/monitor.sock, root peers only
 *     (SO_PEERCRED), one JSON object per line: state, wait, stop, kill, pidfd, attach,
 *     device-add and device-remove (devices.c).
 * Stop is the init's halt signal: SIGRTMIN+3 when PID 1 runs systemd (read from /proc/<pid>/exe),
 * SIGPWR otherwise, or --halt-signal. A pid-namespace init drops signals it has no handler for,
 * so the signal is sent again each second until init shows it catches or blocks it (SigCgt or
 * SigBlk in /proc/<pid>/status) and, to systemd, until it says STOPPING=1; at the deadline the
 * whole cgroup is killed.
 * The container's limits (--limit controller:file=value) are written into its cgroup before
 * its init is cloned; a reboot from inside carries the values those files have then over to
 * the new cgroup, so they hold whether berthd runs or not.
 * The monitor runs in a cgroup of its own (berth/monitor/<name>-<hex>), apart from berthd's and
 * the container's. On the container's end it removes the cgroups (its own too) and runtime
 * files, answers, exits.
 * Read: epoll(7), pidfd_open(2), waitid(2), pty(7), unix(7) (SO_PEERCRED, SO_PASSCRED),
 * signalfd(2), timerfd_create(2), flock(2), sd_notify(3), systemd(1) "Signals", proc(5) (status),
 * busybox init and inittab(5) (SIGPWR).
 */
#include "container.h"
#include "devices.h"
#include "limits.h"
#include "monitor.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum state { ST_RUNNING, ST_STOPPING, ST_STOPPED };
static const char *const state_names[] = { "Running", "Stopping", "Stopped" };

enum { TAG_PIDFD = 1, TAG_CONSOLE, TAG_NOTIFY, TAG_LISTEN, TAG_TIMER, TAG_SIGNAL, TAG_CLIENT = 1000 };

#define MAX_CLIENTS 32
#define RING_SIZE (64 * 1024)
#define LOG_ROTATE_BYTES (1024 * 1024)

struct client {
	int fd;
	size_t len;
	bool wait_ready, wait_stop, attached;
	char buf[4096];
};

static struct {
	struct spec spec;
	struct cgroups cg;
	struct cgroups mon; /* the monitor's own */
	struct limits limits; /* as the spec gave them */
	struct limits carried; /* what the next cgroup gets: the spec's, then the last cgroup's */
	struct init_process init;
	int epfd, master, slave, listen_fd, timer_fd, signal_fd, log_fd, runtime_fd;
	enum state state;
	uint64_t started_mono, started_wall, ready_ms;
	bool ready_seen, stopping_seen, stop_requested, cgroup2_only, halt_sent;
	int halt_override; /* --halt-signal; 0: the init's own (init_halt_signal) */
	int halt_signal;   /* what this stop sends */
	uint64_t stop_deadline, last_stop_signal;
	unsigned reboots;
	off_t log_size;
	char status[256];
	char last_exit[64];
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client clients[MAX_CLIENTS];
	char ring[RING_SIZE];
	size_t ring_pos;
	bool ring_wrapped;
} m;

/* ---- small helpers -------------------------------------------------------------------- */

static void watch(int fd, uint64_t tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	epoll_ctl(m.epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void unwatch(int fd)
{
	epoll_ctl(m.epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void drop_client(struct client *c)
{
	unwatch(c->fd);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void send_line(struct client *c, const char *line, int fd)
{
	char buf[8192];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n <= 0 || (size_t)n >= sizeof(buf) || send_with_fd(c->fd, buf, (size_t)n, fd) < 0)
		drop_client(c);
}

/* Whether the container's PID 1 runs systemd: the program it executes, not what the rootfs says. */
static bool init_is_systemd(void)
{
	char link[64], exe[PATH_MAX];
	if (m.init.pid <= 0)
		return false;
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)m.init.pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	const char *base = strrchr(exe, '/');
	return strcmp(base ? base + 1 : exe, "systemd") == 0;
}

static int init_halt_signal(void)
{
	if (m.halt_override > 0)
		return m.halt_override;
	return init_is_systemd() ? SIGRTMIN + 3 : SIGPWR;
}

static void state_json(char *out, size_t len)
{
	char status[600], cgroup[400], monitor_cgroup[400], name[160], last_exit[160], ready[32];
	json_quote(status, sizeof(status), m.status);
	json_quote(cgroup, sizeof(cgroup), m.cg.rel);
	json_quote(monitor_cgroup, sizeof(monitor_cgroup), m.mon.rel);
	json_quote(name, sizeof(name), m.spec.name);
	json_quote(last_exit, sizeof(last_exit), m.last_exit);
	if (m.ready_seen)
		snprintf(ready, sizeof(ready), "%llu", (unsigned long long)m.ready_ms);
	else
		snprintf(ready, sizeof(ready), "null");
	snprintf(out, len,
		 "{\"ok\":true,\"name\":%s,\"state\":\"%s\",\"pid\":%d,\"monitorPid\":%d,\"cgroup\":%s,"
		 "\"cgroupLayout\":\"%s\",\"readyMs\":%s,\"startedAt\":%llu,\"status\":%s,\"reboots\":%u,"
		 "\"lastExit\":%s,\"idBase\":%u,\"idCount\":%u,\"idmapMode\":\"%s\",\"monitorCgroup\":%s,\"lxcfs\":%s,"
		 "\"init\":\"%s\",\"haltSignal\":%d}",
		 name, state_names[m.state], (int)m.init.pid, (int)getpid(), cgroup, m.cg.pure_v2 ? "unified" : "hybrid",
		 ready, (unsigned long long)m.started_wall, status, m.reboots, last_exit, (unsigned)m.spec.id_base,
		 m.spec.id_count, idmap_mode_names[m.init.idmap], monitor_cgroup, m.spec.lxcfs[0] != '\0' ? "true" : "false",
		 init_is_systemd() ? "systemd" : "other", m.state == ST_STOPPED ? 0 : init_halt_signal());
}

static void write_state_file(void)
{
	char json[2048];
	state_json(json, sizeof(json));
	strcat(json, "\n");
	int fd = openat(m.runtime_fd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	bool ok = write_all(fd, json, strlen(json)) == 0;
	close(fd);
	if (ok)
		renameat(m.runtime_fd, "state.json.tmp", m.runtime_fd, "state.json");
}

static void arm_timer(uint64_t interval_ms)
{
	struct itimerspec its = { 0 };
	its.it_interval.tv_sec = (time_t)(interval_ms / 1000);
	its.it_interval.tv_nsec = (long)(interval_ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	timerfd_settime(m.timer_fd, 0, &its, NULL);
}

/* ---- console -------------------------------------------------------------------------- */

static int open_console(void)
{
	m.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m.master < 0)
		return fail("open", errno, "/dev/ptmx");
	char name[64];
	if (grantpt(m.master) < 0 || unlockpt(m.master) < 0 || ptsname_r(m.master, name, sizeof(name)) != 0)
		return fail("ioctl", errno, "TIOCSPTLCK/TIOCGPTN on the console master");
	m.slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m.slave < 0)
		return fail("open", errno, "%s", name);
	/* The container's root (and its tty group, gid 5) must be able to reopen /dev/console. */
	if (m.spec.id_count > 0 && fchown(m.slave, m.spec.id_base, m.spec.id_base + 5) < 0)
		return fail("fchown", errno, "console %s", name);
	if (fchmod(m.slave, 0620) < 0)
		return fail("fchmod", errno, "console %s", name);
	fcntl(m.master, F_SETFL, O_NONBLOCK);
	return 0;
}

static void open_log(void)
{
	m.log_fd = openat(m.runtime_fd, "console.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct stat st;
	m.log_size = m.log_fd >= 0 && fstat(m.log_fd, &st) == 0 ? st.st_size : 0;
}

static void console_output(const char *buf, size_t n)
{
	if (m.log_fd >= 0) {
		if (m.log_size + (off_t)n > LOG_ROTATE_BYTES) {
			close(m.log_fd);
			renameat(m.runtime_fd, "console.log", m.runtime_fd, "console.log.1");
			open_log();
		}
		if (m.log_fd >= 0 && write_all(m.log_fd, buf, n) == 0)
			m.log_size += (off_t)n;
	}
	for (size_t i = 0; i < n; i++) {
		m.ring[m.ring_pos++] = buf[i];
		if (m.ring_pos == RING_SIZE) {
			m.ring_pos = 0;
			m.ring_wrapped = true;
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (m.clients[i].fd >= 0 && m.clients[i].attached &&
		    send(m.clients[i].fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
			drop_client(&m.clients[i]);
}

static void on_console(void)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(m.master, buf, sizeof(buf));
		if (n > 0) {
			console_output(buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return; /* EAGAIN; EIO cannot happen while we hold the slave open */
	}
}

/* ---- the container's lifecycle -------------------------------------------------------- */

static int start_container(void)
{
	if (cgroups_create(&m.cg, m.spec.name) < 0)
		return -1;
	if (limits_apply(&m.cg, &m.carried, &m.limits) < 0 || container_spawn(&m.spec, &m.cg, m.slave, &m.init) < 0) {
		cgroups_remove(&m.cg);
		m.cg.rel[0] = '\0';
		return -1;
	}
	m.state = ST_RUNNING;
	m.ready_seen = m.stopping_seen = false;
	m.status[0] = '\0';
	m.started_mono = now_ms();
	m.started_wall = wall_ms();
	watch(m.init.pidfd, TAG_PIDFD, EPOLLIN);
	watch(m.init.notify_fd, TAG_NOTIFY, EPOLLIN);
	return 0;
}

static void signal_init(int sig)
{
	sys_pidfd_send_signal(m.init.pidfd, sig);
}

/* Whether init catches or blocks `sig` (proc(5) SigCgt, SigBlk): otherwise the kernel drops it. */
static bool init_takes(int sig)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)m.init.pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	unsigned long long mask = 0, bits;
	while (fgets(line, sizeof(line), f))
		if ((sscanf(line, "SigCgt: %llx", &bits) == 1 || sscanf(line, "SigBlk: %llx", &bits) == 1))
			mask |= bits;
	fclose(f);
	return (mask >> (sig - 1)) & 1;
}

/*
 * Sends the halt signal, then again each second while init shows no handler for it (it may not
 * have installed one yet; an init waiting in sigtimedwait(2), as busybox does, shows none either,
 * and drops the repeats once its halt has reset its handlers) and, to systemd, until STOPPING=1.
 */
static void send_halt_signal(void)
{
	uint64_t now = now_ms();
	if (m.halt_sent) {
		bool systemd_silent = m.halt_signal == SIGRTMIN + 3 && !m.stopping_seen;
		if (now - m.last_stop_signal < 1000 || (!systemd_silent && init_takes(m.halt_signal)))
			return;
	}
	signal_init(m.halt_signal);
	m.halt_sent = true;
	m.last_stop_signal = now;
}

static void kill_container(void)
{
	signal_init(SIGKILL);
	cgroups_kill(&m.cg);
}

static void begin_stop(double timeout_s, bool force)
{
	if (m.state == ST_STOPPED)
		return;
	if (force) {
		m.stop_requested = true;
		m.state = ST_STOPPING;
		kill_container();
		return;
	}
	if (m.stop_requested)
		return;
	m.stop_requested = true;
	m.state = ST_STOPPING;
	m.stop_deadline = now_ms() + (uint64_t)(timeout_s * 1000);
	/* systemd: halt.target (SIGTERM would only make it re-execute); sysvinit, busybox: SIGPWR. */
	m.halt_signal = init_halt_signal();
	m.halt_sent = false;
	send_halt_signal();
	arm_timer(250);
}

static void on_timer(void)
{
	uint64_t ticks;
	if (read(m.timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!m.stop_requested || m.state == ST_STOPPED)
		return;
	uint64_t now = now_ms();
	if (now >= m.stop_deadline) {
		kill_container();
		arm_timer(0);
	} else {
		send_halt_signal();
	}
}

static void cleanup_runtime(void)
{
	if (m.cg.rel[0]) {
		cgroups_kill(&m.cg);
		cgroups_remove(&m.cg);
	}
	cgroups_leave(&m.mon);
	if (m.socket_path[0])
		unlink(m.socket_path);
	unlinkat(m.runtime_fd, "state.json", 0);
	unlinkat(m.runtime_fd, "state.json.tmp", 0);
}

static __attribute__((noreturn)) void finish(void)
{
	m.state = ST_STOPPED;
	cleanup_runtime();
	char json[2048], error[512];
	state_json(json, sizeof(json));
	snprintf(error, sizeof(error),
		 "{\"ok\":false,\"syscall\":\"waitid\",\"errno\":%d,\"code\":\"ECHILD\",\"message\":\"the container stopped (%s)\"}",
		 ECHILD, m.last_exit);
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &m.clients[i];
		if (c->fd < 0)
			continue;
		if (c->wait_stop)
			send_line(c, json, -1);
		else if (c->wait_ready)
			send_line(c, error, -1);
		if (c->fd >= 0)
			drop_client(c);
	}
	exit(0);
}

static void on_init_exit(void)
{
	siginfo_t si = { 0 };
	if (waitid(P_PIDFD, (id_t)m.init.pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	bool reboot = false;
	if (si.si_code == CLD_EXITED)
		snprintf(m.last_exit, sizeof(m.last_exit), "exited:%d", si.si_status);
	else if (si.si_status == SIGHUP)
		reboot = true, snprintf(m.last_exit, sizeof(m.last_exit), "reboot");
	else if (si.si_status == SIGINT)
		snprintf(m.last_exit, sizeof(m.last_exit), "poweroff");
	else
		snprintf(m.last_exit, sizeof(m.last_exit), "killed:%d", si.si_status);
	unwatch(m.init.pidfd);
	unwatch(m.init.notify_fd);
	close(m.init.pidfd);
	close(m.init.notify_fd);
	m.init.pidfd = m.init.notify_fd = -1;
	cgroups_kill(&m.cg);
	bool restart = reboot && !m.stop_requested;
	if (restart) /* as berthd may have changed them since the start */
		limits_read(&m.cg, &m.limits, &m.carried);
	cgroups_remove(&m.cg);
	if (restart) {
		/* Reboot from inside: a fresh cgroup and init, same monitor, console and socket. */
		memset(&last_failure, 0, sizeof(last_failure));
		memset(&last_limit_failure, 0, sizeof(last_limit_failure));
		if (start_container() == 0) {
			m.reboots++;
			write_state_file();
			return;
		}
		snprintf(m.last_exit, sizeof(m.last_exit), "reboot failed: %.16s%s%.30s", last_failure.syscall,
			 last_limit_failure.file[0] ? " " : "", last_limit_failure.file);
	}
	finish();
}

static void on_notify(void)
{
	for (;;) {
		char buf[4096];
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
			struct cmsghdr align;
		} control;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		ssize_t n = recvmsg(m.init.notify_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0)
			return;
		struct ucred cred = { .pid = 0 };
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(cred)))
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			else if (c->cmsg_type == SCM_RIGHTS) /* FDSTORE and the like: not ours to keep */
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int fd;
					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					close(fd);
				}
		}
		if (cred.pid != m.init.pid)
			continue; /* only the container's PID 1 speaks for it */
		buf[n] = '\0';
		char *save = NULL;
		for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strcmp(line, "READY=1") == 0 && !m.ready_seen) {
				m.ready_seen = true;
				m.ready_ms = now_ms() - m.started_mono;
				write_state_file();
				char json[2048];
				state_json(json, sizeof(json));
				for (int i = 0; i < MAX_CLIENTS; i++)
					if (m.clients[i].fd >= 0 && m.clients[i].wait_ready) {
						m.clients[i].wait_ready = false;
						send_line(&m.clients[i], json, -1);
					}
			} else if (strcmp(line, "STOPPING=1") == 0) {
				m.stopping_seen = true;
				if (m.state != ST_STOPPED)
					m.state = ST_STOPPING;
			} else if (strncmp(line, "STATUS=", 7) == 0) {
				snprintf(m.status, sizeof(m.status), "%s", line + 7);
			}
		}
	}
}

/* ---- the control socket --------------------------------------------------------------- */

static int open_control_socket(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/monitor.sock", m.spec.runtime_dir);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return fail("bind", ENAMETOOLONG, "%s/monitor.sock", m.spec.runtime_dir);
	m.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m.listen_fd < 0)
		return fail("socket", errno, "control socket");
	unlink(addr.sun_path); /* we hold the container's lock: any socket there is stale */
	mode_t old = umask(0177);
	int rc = bind(m.listen_fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0)
		return fail("bind", errno, "%s", addr.sun_path);
	snprintf(m.socket_path, sizeof(m.socket_path), "%s", addr.sun_path);
	if (listen(m.listen_fd, 16) < 0)
		return fail("listen", errno, "%s", addr.sun_path);
	return 0;
}

static void on_accept(void)
{
	for (;;) {
		int fd = accept4(m.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
			close(fd); /* root only: the socket is the container's master key */
			continue;
		}
		int slot = -1;
		for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
			if (m.clients[i].fd < 0)
				slot = i;
		if (slot < 0) {
			close(fd);
			continue;
		}
		m.clients[slot].fd = fd;
		watch(fd, TAG_CLIENT + (uint64_t)slot, EPOLLIN);
	}
}

static void handle_request(struct client *c, const char *line)
{
	char op[32], json[2048];
	if (!json_get_string(line, "op", op, sizeof(op))) {
		send_line(c, "{\"ok\":false,\"syscall\":\"read\",\"errno\":22,\"code\":\"EINVAL\",\"message\":\"no op\"}", -1);
		return;
	}
	if (strcmp(op, "state") == 0) {
		state_json(json, sizeof(json));
		send_line(c, json, -1);
	} else if (strcmp(op, "wait") == 0) {
		if (m.ready_seen) {
			state_json(json, sizeof(json));
			send_line(c, json, -1);
		} else {
			c->wait_ready = true;
		}
	} else if (strcmp(op, "stop") == 0) {
		double timeout = 30;
		bool force = false;
		json_get_number(line, "timeout", &timeout);
		json_get_bool(line, "force", &force);
		c->wait_stop = true;
		begin_stop(timeout < 0 ? 0 : timeout, force);
	} else if (strcmp(op, "kill") == 0) {
		double sig = SIGKILL;
		json_get_number(line, "signal", &sig);
		if (sig < 1 || sig >= NSIG || sys_pidfd_send_signal(m.init.pidfd, (int)sig) < 0) {
			memset(&last_failure, 0, sizeof(last_failure));
			fail("pidfd_send_signal", sig < 1 || sig >= NSIG ? EINVAL : errno, "signal %d", (int)sig);
			failure_json(&last_failure, json, sizeof(json));
		} else {
			snprintf(json, sizeof(json), "{\"ok\":true}");
		}
		send_line(c, json, -1);
	} else if (strcmp(op, "pidfd") == 0) {
		snprintf(json, sizeof(json), "{\"ok\":true,\"pid\":%d}", (int)m.init.pid);
		send_line(c, json, m.init.pidfd);
	} else if (strcmp(op, "device-add") == 0 || strcmp(op, "device-remove") == 0) {
		if (m.init.pidfd < 0 || devices_hotplug(&m.spec, &m.cg, m.init.pidfd, line, strcmp(op, "device-add") == 0) < 0) {
			if (m.init.pidfd < 0)
				fail("pidfd_open", ESRCH, "the container is not running");
			failure_json(&last_failure, json, sizeof(json));
		} else {
			snprintf(json, sizeof(json), "{\"ok\":true}");
		}
		send_line(c, json, -1);
	} else if (strcmp(op, "attach") == 0) {
		send_line(c, "{\"ok\":true}", -1);
		if (c->fd < 0)
			return;
		c->attached = true;
		if (m.ring_wrapped)
			send(c->fd, m.ring + m.ring_pos, RING_SIZE - m.ring_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
		send(c->fd, m.ring, m.ring_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
	} else {
		send_line(c, "{\"ok\":false,\"syscall\":\"read\",\"errno\":22,\"code\":\"EINVAL\",\"message\":\"unknown op\"}", -1);
	}
}

static void on_client(struct client *c)
{
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			drop_client(c);
		return;
	}
	if (c->attached) { /* console input (c->len is 0 once attached) */
		write_all(m.master, c->buf, (size_t)n);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	char *nl;
	while (c->fd >= 0 && !c->attached && (nl = strchr(c->buf, '\n')) != NULL) {
		*nl = '\0';
		handle_request(c, c->buf);
		if (c->fd < 0)
			return;
		size_t rest = c->len - (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, rest + 1);
		c->len = rest;
	}
	if (c->fd >= 0 && c->attached && c->len > 0) { /* typed right behind the attach request */
		write_all(m.master, c->buf, c->len);
		c->len = 0;
	}
	if (c->fd >= 0 && c->len == sizeof(c->buf) - 1)
		drop_client(c); /* a line longer than any request */
}

static void on_signal(void)
{
	struct signalfd_siginfo si;
	if (read(m.signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		begin_stop(30, false);
}

/* ---- entry ---------------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, int *report_fd)
{
	static const struct option options[] = {
		{ "berth-dir", required_argument, NULL, 'b' }, { "name", required_argument, NULL, 'n' },
		{ "rootfs", required_argument, NULL, 'r' },    { "hostname", required_argument, NULL, 'h' },
		{ "uuid", required_argument, NULL, 'u' },      { "id-base", required_argument, NULL, 'i' },
		{ "id-count", required_argument, NULL, 'c' },  { "report-fd", required_argument, NULL, 'f' },
		{ "cgroup2-only", no_argument, NULL, '2' },    { "limit", required_argument, NULL, 'l' },
		{ "lxcfs", required_argument, NULL, 'x' },     { "devlxd", required_argument, NULL, 'd' },
		{ "device", required_argument, NULL, 'D' },
		{ "halt-signal", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'b': snprintf(m.spec.berth_dir, sizeof(m.spec.berth_dir), "%s", optarg); break;
		case 'n': snprintf(m.spec.name, sizeof(m.spec.name), "%s", optarg); break;
		case 'r': snprintf(m.spec.rootfs, sizeof(m.spec.rootfs), "%s", optarg); break;
		case 'h': snprintf(m.spec.hostname, sizeof(m.spec.hostname), "%s", optarg); break;
		case 'u': snprintf(m.spec.uuid, sizeof(m.spec.uuid), "%s", optarg); break;
		case 'i': m.spec.id_base = (uid_t)strtoul(optarg, NULL, 10); break;
		case 'c': m.spec.id_count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': *report_fd = atoi(optarg); break;
		case '2': m.cgroup2_only = true; break;
		case 'x':
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(m.spec.lxcfs))
				return fail("getopt", EINVAL, "--lxcfs must be an absolute path");
			snprintf(m.spec.lxcfs, sizeof(m.spec.lxcfs), "%s", optarg);
			break;
		case 'd':
			if (optarg[0] != '/' || strlen(optarg) >= sizeof(m.spec.devlxd))
				return fail("getopt", EINVAL, "--devlxd must be an absolute path");
			snprintf(m.spec.devlxd, sizeof(m.spec.devlxd), "%s", optarg);
			break;
		case 's': {
			char *end;
			long sig = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
				return fail("getopt", EINVAL, "--halt-signal must be a signal number other than SIGKILL and SIGSTOP");
			m.halt_override = (int)sig;
			break;
		}
		case 'l':
			if (limits_add(&m.limits, optarg) < 0)
				return -1;
			break;
		case 'D':
			if (devices_add_arg(optarg) < 0)
				return -1;
			break;
		default: return fail("getopt", EINVAL, "unknown option");
		}
	}
	m.carried = m.limits;
	if (!valid_name(m.spec.name))
		return fail("getopt", EINVAL, "invalid container name");
	if (m.spec.hostname[0] == '\0')
		snprintf(m.spec.hostname, sizeof(m.spec.hostname), "%s", m.spec.name);
	if (!valid_name(m.spec.hostname))
		return fail("getopt", EINVAL, "invalid hostname");
	if (m.spec.berth_dir[0] != '/' || m.spec.rootfs[0] != '/')
		return fail("getopt", EINVAL, "--berth-dir and --rootfs must be absolute paths");
	if (m.spec.id_count > 0 && (m.spec.id_base == 0 || m.spec.id_count < 65536 ||
				    (uint64_t)m.spec.id_base + m.spec.id_count > UINT32_MAX))
		return fail("getopt", EINVAL, "an unprivileged id range is 65536 ids or more above 0");
	if (strlen(m.spec.uuid) != 32 && strlen(m.spec.uuid) != 36)
		return fail("getopt", EINVAL, "--uuid is required");
	int n = snprintf(m.spec.runtime_dir, sizeof(m.spec.runtime_dir), "%s/containers/%s", m.spec.berth_dir, m.spec.name);
	if (n < 0 || (size_t)n >= sizeof(m.spec.runtime_dir))
		return fail("getopt", ENAMETOOLONG, "--berth-dir");
	return 0;
}

/* <berth_dir>/containers/<name>/, locked for the monitor's whole life. */
static int take_runtime_dir(bool *locked)
{
	char path[PATH_MAX + 16];
	if (mkdir(m.spec.berth_dir, 0711) < 0 && errno != EEXIST)
		return fail("mkdir", errno, "%s", m.spec.berth_dir);
	snprintf(path, sizeof(path), "%s/containers", m.spec.berth_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return fail("mkdir", errno, "%s", path);
	if (mkdir(m.spec.runtime_dir, 0700) < 0 && errno != EEXIST)
		return fail("mkdir", errno, "%s", m.spec.runtime_dir);
	m.runtime_fd = open(m.spec.runtime_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (m.runtime_fd < 0)
		return fail("open", errno, "%s", m.spec.runtime_dir);
	if (flock(m.runtime_fd, LOCK_EX | LOCK_NB) < 0)
		return fail("flock", errno, "container %s is already running", m.spec.name);
	*locked = true;
	return 0;
}

/* Whether rel has the shape this monitor generates: <prefix>/<name>-<8 hex>. */
static bool generated_rel(const char *rel, const char *prefix)
{
	char expected[160];
	snprintf(expected, sizeof(expected), "%s/%s-", prefix, m.spec.name);
	size_t len = strlen(expected);
	return strlen(rel) == len + 8 && strncmp(rel, expected, len) == 0 && strspn(rel + len, "0123456789abcdef") == 8;
}

/*
 * A monitor that was SIGKILLed took its container with it (PDEATHSIG) but left its cgroups and
 * files: its state.json names them, removed here once we hold the lock. Only names of the
 * shape this monitor generates are accepted.
 */
static void remove_stale_runtime(void)
{
	char json[2048], rel[sizeof(m.cg.rel)];
	int fd = openat(m.runtime_fd, "state.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	ssize_t n = read(fd, json, sizeof(json) - 1);
	close(fd);
	unlinkat(m.runtime_fd, "state.json", 0);
	if (n <= 0)
		return;
	json[n] = '\0';
	struct cgroups stale;
	if (cgroups_detect(&stale, false) < 0)
		return;
	if (json_get_string(json, "cgroup", rel, sizeof(rel)) && generated_rel(rel, "berth")) {
		snprintf(stale.rel, sizeof(stale.rel), "%s", rel);
		cgroups_kill(&stale);
		cgroups_remove(&stale);
	}
	if (json_get_string(json, "monitorCgroup", rel, sizeof(rel)) && generated_rel(rel, CGROUP_MONITORS)) {
		snprintf(stale.rel, sizeof(stale.rel), "%s", rel);
		cgroups_remove(&stale);
	}
}

static void report(int fd, const char *json)
{
	if (fd < 0)
		return;
	write_all(fd, json, strlen(json));
	write_all(fd, "\n", 1);
	close(fd);
}

int monitor_main(int argc, char **argv)
{
	int report_fd = -1;
	bool locked = false;
	char json[4096];
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc)
			report_fd = atoi(argv[i + 1]);
	close_inherited(report_fd);
	memset(&m, 0, sizeof(m));
	m.master = m.slave = m.listen_fd = m.log_fd = m.runtime_fd = m.timer_fd = m.signal_fd = -1;
	m.init.pidfd = m.init.notify_fd = -1;
	for (int i = 0; i < MAX_CLIENTS; i++)
		m.clients[i].fd = -1;
	setsid();
	if (chdir("/") < 0)
		return 1;
	prctl(PR_SET_DUMPABLE, 0);
	prctl(PR_SET_NAME, "berth-monitor");

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (parse_args(argc, argv, &report_fd) < 0 || cgroups_detect(&m.cg, m.cgroup2_only) < 0 || take_runtime_dir(&locked) < 0 ||
	    open_console() < 0 || open_control_socket() < 0)
		goto failed;
	remove_stale_runtime();
	if (cgroups_create_monitor(&m.mon, &m.cg, m.spec.name) < 0)
		goto failed;
	m.epfd = epoll_create1(EPOLL_CLOEXEC);
	m.timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	sigdelset(&mask, SIGPIPE);
	m.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m.epfd < 0 || m.timer_fd < 0 || m.signal_fd < 0) {
		fail("epoll_create1", errno, "event loop");
		goto failed;
	}
	if (start_container() < 0)
		goto failed;
	open_log();
	write_state_file();
	watch(m.master, TAG_CONSOLE, EPOLLIN);
	watch(m.listen_fd, TAG_LISTEN, EPOLLIN);
	watch(m.timer_fd, TAG_TIMER, EPOLLIN);
	watch(m.signal_fd, TAG_SIGNAL, EPOLLIN);
	state_json(json, sizeof(json));
	report(report_fd, json);

	for (;;) {
		struct epoll_event events[16];
		int n = epoll_wait(m.epfd, events, 16, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			if (tag >= TAG_CLIENT) {
				struct client *c = &m.clients[tag - TAG_CLIENT];
				if (c->fd >= 0)
					on_client(c);
				continue;
			}
			switch (tag) {
			case TAG_PIDFD: on_init_exit(); break;
			case TAG_CONSOLE: on_console(); break;
			case TAG_NOTIFY: on_notify(); break;
			case TAG_LISTEN: on_accept(); break;
			case TAG_TIMER: on_timer(); break;
			case TAG_SIGNAL: on_signal(); break;
			}
		}
	}
	kill_container();
	cleanup_runtime();
	return 1;

failed:
	failure_json(&last_failure, json, sizeof(json));
	limits_failure_json(json, sizeof(json));
	cleanup_runtime();
	if (locked) {
		/* Nothing of this attempt stays behind: the runtime dir goes if it is empty. */
		rmdir(m.spec.runtime_dir);
	}
	report(report_fd, json);
	return 1;
}
