/*
 * exec.c: `berth-monitor exec`: runs one command inside a running container. It re-executes
 * itself from a sealed memfd (so nothing in the container can reach the host binary through
 * /proc/<pid>/exe, the runc CVE-2019-5736 class), is not dumpable, asks the container's monitor
 * for the init's pidfd, joins the init's cgroups from the host side, then all of the init's
 * namespaces at once with setns(pidfd), and forks (the pid namespace only applies to children).
 * The child becomes the requested uid/gid, checks its cwd resolves inside, applies the seccomp
 * deny list and execs; the parent forwards signals and exits with the child's status
 * (128+signal when killed). Setup failures go to the report descriptor as JSON. With --pty the
 * command gets a terminal from the container's devpts and the helper relays it to its stdio.
 * With --control-fd N (the streaming exec of Runtime.execStream) the command never holds the
 * helper's stdio: it gets fresh pipes (owned by the ids it runs as, so /dev/stdout opens) or
 * the terminal, relay.c copies both ways as data arrives and obeys {"signal":N} and
 * {"resize":[rows,cols]} lines on descriptor N, and the helper ends by writing the command's
 * status to the report descriptor: {"ok":true,"exitCode":N[,"signal":S]}.
 * Read: setns(2) (pidfd form), memfd_create(2), fcntl(2) (F_ADD_SEALS), execveat(2), pty(7),
 * ioctl_tty(2) (TIOCGPTPEER, TIOCSCTTY), user_namespaces(7) (uid_map),
 * cgroups(7), credentials(7).
 */
#include "cgroup.h"
#include "container.h"
#include "monitor.h"
#include "relay.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALED_ENV "BERTH_MONITOR_SEALED"
#define MAX_ENV 128

static pid_t child_pid;

/* Like close_inherited(), but keeps two descriptors (each -1 or above 2), both FD_CLOEXEC. */
static void close_inherited_but(int a, int b)
{
	if (a < 0 || b < 0 || a == b) {
		close_inherited(a < 0 ? b : a);
		return;
	}
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);
	if (lo > 3)
		syscall(SYS_close_range, 3U, lo - 1, 0U);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0U);
	syscall(SYS_close_range, hi + 1, ~0U, 0U);
	fcntl((int)lo, F_SETFD, FD_CLOEXEC);
	fcntl((int)hi, F_SETFD, FD_CLOEXEC);
	for (int fd = 0; fd < 3; fd++) /* 0-2 must exist, or the next descriptor would pose as stdio */
		if (fcntl(fd, F_GETFD) < 0) {
			int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* lands on fd: the lowest free */
			if (null >= 0)
				fcntl(null, F_SETFD, 0);
		}
}

/* The host id that `id` of the user namespace of `pid` maps to (`map`: "uid_map" or "gid_map"). */
static int host_id(pid_t pid, const char *map, unsigned id, unsigned *out)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, map);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return fail("open", errno, "%s", path);
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long inside, outside, count;
		if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && id >= inside && id - inside < count) {
			*out = (unsigned)(outside + (id - inside));
			return 0;
		}
	}
	return fail("open", EOVERFLOW, "id %u is not mapped in %s", id, path);
}

static void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* Re-executes from an anonymous, sealed copy of our own binary. Returns only on failure. */
static int reexec_sealed(char **argv)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return fail("open", errno, "/proc/self/exe");
	int mfd = memfd_create("berth-monitor", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (mfd < 0 && errno == EINVAL)
		mfd = memfd_create("berth-monitor", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		close(exe);
		return fail("memfd_create", errno, "sealed copy");
	}
	struct stat st;
	if (fstat(exe, &st) < 0) {
		close(exe);
		close(mfd);
		return fail("fstat", errno, "/proc/self/exe");
	}
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, exe, &off, (size_t)(st.st_size - off));
		if (n <= 0) {
			close(exe);
			close(mfd);
			return fail("sendfile", n < 0 ? errno : EIO, "sealed copy");
		}
	}
	close(exe);
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		close(mfd);
		return fail("fcntl", errno, "F_ADD_SEALS");
	}
	setenv(SEALED_ENV, "1", 1);
	extern char **environ;
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	int err = errno;
	close(mfd);
	return fail("execveat", err, "sealed copy");
}

static int monitor_request(const char *runtime_dir, const char *request, char *reply, size_t len, int *fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/monitor.sock", runtime_dir);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return fail("connect", ENAMETOOLONG, "%s/monitor.sock", runtime_dir);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return fail("socket", errno, "monitor");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno;
		close(sock);
		return fail("connect", err, "%s (is the container running?)", addr.sun_path);
	}
	if (write_all(sock, request, strlen(request)) < 0) {
		int err = errno;
		close(sock);
		return fail("write", err, "monitor request");
	}
	ssize_t got = recv_with_fd(sock, reply, len - 1, fd);
	int err = errno;
	close(sock);
	if (got <= 0)
		return fail("recvmsg", got < 0 ? err : ECONNRESET, "monitor reply");
	reply[got] = '\0';
	return 0;
}

static bool same_userns(pid_t pid)
{
	char path[64];
	struct stat self, other;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	return stat("/proc/self/ns/user", &self) == 0 && stat(path, &other) == 0 && self.st_ino == other.st_ino &&
	       self.st_dev == other.st_dev;
}

static void report_failure(int report_fd)
{
	char json[2048];
	failure_json(&last_failure, json, sizeof(json));
	if (report_fd >= 0) {
		write_all(report_fd, json, strlen(json));
		write_all(report_fd, "\n", 1);
	}
}

/*
 * With a terminal: the pty comes from the container's own devpts (/dev/ptmx inside, opened
 * as the container's root), its master goes back to the helper over `pty_sock`, and the slave
 * becomes the command's controlling terminal and stdio.
 */
static int open_container_pty(int pty_sock, unsigned short rows, unsigned short cols)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fail("open", errno, "/dev/ptmx in the container");
	int unlock = 0;
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCSWINSZ, &ws) < 0)
		return fail("ioctl", errno, "TIOCSPTLCK/TIOCSWINSZ");
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fail("ioctl", errno, "TIOCGPTPEER");
	/* The session and controlling terminal exist before the helper holds the master: a
	 * signal to the process group or a resize it relays has somewhere to go. */
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return fail("ioctl", errno, "TIOCSCTTY");
	char byte = 'p';
	if (send_with_fd(pty_sock, &byte, 1, master) < 0)
		return fail("sendmsg", errno, "pty master");
	close(master);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return fail("dup2", errno, "pty to fd %d", fd);
	close(slave);
	return 0;
}

/* Copies the helper's stdin to the pty and the pty to its stdout until the command exits. */
static int relay_pty(int master, pid_t child)
{
	bool input_open = true;
	char buf[16384];
	int status = 0;
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd fds[2] = { { .fd = master, .events = POLLIN }, { .fd = input_open ? 0 : -1, .events = POLLIN } };
		int n = poll(fds, 2, 100);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(master, buf, sizeof(buf));
			if (got > 0)
				write_all(1, buf, (size_t)got);
			else if (got < 0 && errno == EIO && waitpid(child, &status, WNOHANG) == child)
				return status; /* the slave side is gone: the command ended */
		}
		if (n > 0 && input_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t got = read(0, buf, sizeof(buf));
			if (got > 0)
				write_all(master, buf, (size_t)got);
			else
				input_open = false;
		}
		pid_t done = waitpid(child, &status, WNOHANG);
		if (done == child) {
			ssize_t got;
			while ((got = read(master, buf, sizeof(buf))) > 0) /* drain what it printed last */
				write_all(1, buf, (size_t)got);
			return status;
		}
	}
	waitpid(child, &status, 0);
	return status;
}

static __attribute__((noreturn)) void run_child(char **cmd, char **envp, const char *cwd, uid_t uid, gid_t gid,
						int report_fd, int pty_sock, unsigned short rows, unsigned short cols,
						const int *stdio)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0) {
		fail("setresgid", errno, "gid %u", (unsigned)gid);
		goto failed;
	}
	if (pty_sock >= 0 && open_container_pty(pty_sock, rows, cols) < 0)
		goto failed;
	for (int fd = 0; stdio && fd < 3; fd++)
		if (dup2(stdio[fd], fd) < 0) { /* the pipes are O_CLOEXEC; their dup2 copies are not */
			fail("dup2", errno, "pipe to fd %d", fd);
			goto failed;
		}
	/* While still root: without a user namespace a non-root uid has no CAP_SETPCAP (bounding
	 * set) nor CAP_SYS_ADMIN (a filter without no_new_privs). The deny list spares what follows. */
	if (drop_host_capabilities() < 0 || install_seccomp() < 0)
		goto failed;
	if (setresuid(uid, uid, uid) < 0) {
		fail("setresuid", errno, "uid %u", (unsigned)uid);
		goto failed;
	}
	if (chdir(cwd) < 0) {
		fail("chdir", errno, "%s", cwd);
		goto failed;
	}
	char here[4096];
	if (getcwd(here, sizeof(here)) == NULL) { /* a cwd outside the container's root */
		fail("getcwd", errno, "%s", cwd);
		goto failed;
	}
	extern char **environ;
	environ = envp;
	execvp(cmd[0], cmd);
	fail("execve", errno, "%s", cmd[0]);
failed:
	report_failure(report_fd);
	_exit(last_failure.err == ENOENT ? 127 : 126);
}

int exec_main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "berth-dir", required_argument, NULL, 'b' }, { "name", required_argument, NULL, 'n' },
		{ "cwd", required_argument, NULL, 'C' },       { "env", required_argument, NULL, 'e' },
		{ "uid", required_argument, NULL, 'u' },       { "gid", required_argument, NULL, 'g' },
		{ "report-fd", required_argument, NULL, 'f' }, { "pty", required_argument, NULL, 't' },
		{ "control-fd", required_argument, NULL, 'c' }, { NULL, 0, NULL, 0 },
	};
	int report_fd = -1, control_fd = -1;
	bool pty = false;
	unsigned rows = 24, cols = 80;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc)
			report_fd = atoi(argv[i + 1]);
		if (strcmp(argv[i], "--control-fd") == 0 && i + 1 < argc)
			control_fd = atoi(argv[i + 1]);
	}
	if (control_fd <= 2 || control_fd == report_fd)
		control_fd = -1;
	close_inherited_but(report_fd, control_fd);
	prctl(PR_SET_DUMPABLE, 0);
	if (getenv(SEALED_ENV) == NULL) {
		/* They must survive the re-exec, and only they. */
		if (report_fd >= 0)
			fcntl(report_fd, F_SETFD, 0);
		if (control_fd >= 0)
			fcntl(control_fd, F_SETFD, 0);
		reexec_sealed(argv - 1);
		report_failure(report_fd);
		return 125;
	}

	char berth_dir[PATH_MAX] = "", name[64] = "", cwd[PATH_MAX] = "/";
	char *envp[MAX_ENV + 4];
	int envc = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	envp[envc++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envp[envc++] = "HOME=/root";
	int opt;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		switch (opt) {
		case 'b': snprintf(berth_dir, sizeof(berth_dir), "%s", optarg); break;
		case 'n': snprintf(name, sizeof(name), "%s", optarg); break;
		case 'C': snprintf(cwd, sizeof(cwd), "%s", optarg); break;
		case 'e':
			if (envc >= MAX_ENV || !strchr(optarg, '=')) {
				fail("getopt", EINVAL, "--env takes KEY=VALUE, at most %d times", MAX_ENV - 2);
				report_failure(report_fd);
				return 125;
			}
			envp[envc++] = optarg;
			break;
		case 'u': uid = (uid_t)strtoul(optarg, NULL, 10); break;
		case 'g': gid = (gid_t)strtoul(optarg, NULL, 10); break;
		case 'f': break;
		case 'c': break;
		case 't':
			if (sscanf(optarg, "%ux%u", &rows, &cols) != 2 || rows == 0 || cols == 0 || rows > 10000 || cols > 10000) {
				fail("getopt", EINVAL, "--pty ROWSxCOLS");
				report_failure(report_fd);
				return 125;
			}
			pty = true;
			break;
		default:
			fail("getopt", EINVAL, "unknown option");
			report_failure(report_fd);
			return 125;
		}
	}
	envp[envc] = NULL;
	char **cmd = argv + optind;
	if (!valid_name(name) || berth_dir[0] != '/' || !cmd[0]) {
		fail("getopt", EINVAL, "usage: exec --berth-dir DIR --name NAME [--cwd DIR] [--env K=V] -- CMD...");
		report_failure(report_fd);
		return 125;
	}

	char runtime_dir[PATH_MAX], reply[512];
	snprintf(runtime_dir, sizeof(runtime_dir), "%s/containers/%s", berth_dir, name);
	int pidfd = -1;
	double pid = 0;
	struct cgroups cg;
	if (monitor_request(runtime_dir, "{\"op\":\"pidfd\"}\n", reply, sizeof(reply), &pidfd) < 0 ||
	    (pidfd < 0 && fail("recvmsg", EPROTO, "no pidfd from the monitor: %s", reply) < 0) ||
	    !json_get_number(reply, "pid", &pid) ||
	    cgroups_detect(&cg, false) < 0 || cgroups_join_process(&cg, (pid_t)pid) < 0) {
		report_failure(report_fd);
		return 125;
	}
	/* The pid read for the cgroups must still be the process the pidfd holds. */
	if (sys_pidfd_send_signal(pidfd, 0) < 0) {
		fail("pidfd_send_signal", errno, "the container's init is gone");
		report_failure(report_fd);
		return 125;
	}
	/*
	 * Streaming without a terminal: the command's stdio are pipes of the helper's own, made
	 * while it still is host root, and given to the ids the command runs as (their host
	 * counterparts), so /dev/stdin and /dev/stderr open inside an unprivileged container.
	 */
	bool stream = control_fd >= 0;
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	if (stream && !pty) {
		unsigned host_uid, host_gid;
		if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
			fail("pipe2", errno, "the command's stdio");
			report_failure(report_fd);
			return 125;
		}
		if (host_id((pid_t)pid, "uid_map", uid, &host_uid) < 0 || host_id((pid_t)pid, "gid_map", gid, &host_gid) < 0) {
			report_failure(report_fd);
			return 125;
		}
		int ends[3] = { in_pipe[0], out_pipe[1], err_pipe[1] };
		for (int i = 0; i < 3; i++)
			if (fchown(ends[i], host_uid, host_gid) < 0) {
				fail("fchown", errno, "the command's stdio pipe %d", i);
				report_failure(report_fd);
				return 125;
			}
	}
	int nstypes = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;
	if (!same_userns((pid_t)pid))
		nstypes |= CLONE_NEWUSER;
	if (setns(pidfd, nstypes) < 0) {
		fail("setns", errno, "the namespaces of pid %d", (int)pid);
		report_failure(report_fd);
		return 125;
	}
	close(pidfd);

	struct sigaction sa = { .sa_handler = forward_signal };
	sigemptyset(&sa.sa_mask);
	int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaction(forwarded[i], &sa, NULL);
	if (stream)
		signal(SIGPIPE, SIG_IGN); /* Node gone: writes fail with EPIPE and output is dropped */
	int pty_pair[2] = { -1, -1 };
	if (pty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pty_pair) < 0) {
		fail("socketpair", errno, "pty");
		report_failure(report_fd);
		return 125;
	}
	/* No forwarded signal may run our handler in the child before it resets them. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child_pid = fork();
	if (child_pid < 0) {
		fail("fork", errno, "into the container");
		report_failure(report_fd);
		return 125;
	}
	if (child_pid == 0) {
		if (pty)
			close(pty_pair[0]);
		int stdio[3] = { in_pipe[0], out_pipe[1], err_pipe[1] };
		run_child(cmd, envp, cwd, uid, gid, report_fd, pty ? pty_pair[1] : -1, (unsigned short)rows,
			  (unsigned short)cols, stream && !pty ? stdio : NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	int status;
	int master = -1;
	if (pty) {
		close(pty_pair[1]);
		char byte;
		if (recv_with_fd(pty_pair[0], &byte, 1, &master) <= 0 || master < 0) {
			waitpid(child_pid, &status, 0); /* the child reported why */
			return 125;
		}
		close(pty_pair[0]);
	}
	if (stream) {
		struct relay r = { .child = child_pid, .control = control_fd, .master = master,
				   .stdin_w = in_pipe[1], .stdout_r = out_pipe[0], .stderr_r = err_pipe[0] };
		if (!pty) {
			close(in_pipe[0]);
			close(out_pipe[1]);
			close(err_pipe[1]);
		}
		int fds[] = { master, in_pipe[1], out_pipe[0], err_pipe[0] };
		for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
			if (fds[i] >= 0)
				fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		r.pidfd = sys_pidfd_open(child_pid, 0); /* always O_CLOEXEC */
		if (r.pidfd < 0) {
			fail("pidfd_open", errno, "the command");
			report_failure(report_fd);
			kill(child_pid, SIGKILL);
			waitpid(child_pid, &status, 0);
			return 125;
		}
		status = relay_run(&r);
		char line[96];
		if (WIFSIGNALED(status))
			snprintf(line, sizeof(line), "{\"ok\":true,\"exitCode\":%d,\"signal\":%d}\n", 128 + WTERMSIG(status),
				 WTERMSIG(status));
		else
			snprintf(line, sizeof(line), "{\"ok\":true,\"exitCode\":%d}\n", WEXITSTATUS(status));
		if (report_fd >= 0)
			write_all(report_fd, line, strlen(line));
	} else if (pty) {
		status = relay_pty(master, child_pid);
		close(master);
	} else {
		while (waitpid(child_pid, &status, 0) < 0)
			if (errno != EINTR)
				return 125;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
