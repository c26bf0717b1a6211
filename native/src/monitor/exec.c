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
 * Read: setns(2) (pidfd form), memfd_create(2), fcntl(2) (F_ADD_SEALS), execveat(2), pty(7),
 * ioctl_tty(2) (TIOCGPTPEER, TIOCSCTTY),
 * cgroups(7), credentials(7).
 */
#include "cgroup.h"
#include "container.h"
#include "monitor.h"
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
	char byte = 'p';
	if (send_with_fd(pty_sock, &byte, 1, master) < 0)
		return fail("sendmsg", errno, "pty master");
	close(master);
	if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return fail("ioctl", errno, "TIOCSCTTY");
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
						int report_fd, int pty_sock, unsigned short rows, unsigned short cols)
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
	if (drop_host_capabilities() < 0 || install_seccomp() < 0)
		goto failed;
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
		{ NULL, 0, NULL, 0 },
	};
	int report_fd = -1;
	bool pty = false;
	unsigned rows = 24, cols = 80;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--report-fd") == 0 && i + 1 < argc)
			report_fd = atoi(argv[i + 1]);
	close_inherited(report_fd);
	prctl(PR_SET_DUMPABLE, 0);
	if (getenv(SEALED_ENV) == NULL) {
		if (report_fd >= 0)
			fcntl(report_fd, F_SETFD, 0); /* it must survive the re-exec, and only that one */
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
	int pty_pair[2] = { -1, -1 };
	if (pty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pty_pair) < 0) {
		fail("socketpair", errno, "pty");
		report_failure(report_fd);
		return 125;
	}
	child_pid = fork();
	if (child_pid < 0) {
		fail("fork", errno, "into the container");
		report_failure(report_fd);
		return 125;
	}
	if (child_pid == 0) {
		if (pty)
			close(pty_pair[0]);
		run_child(cmd, envp, cwd, uid, gid, report_fd, pty ? pty_pair[1] : -1, (unsigned short)rows,
			  (unsigned short)cols);
	}
	int status;
	if (pty) {
		close(pty_pair[1]);
		int master = -1;
		char byte;
		if (recv_with_fd(pty_pair[0], &byte, 1, &master) <= 0 || master < 0) {
			waitpid(child_pid, &status, 0); /* the child reported why */
			return 125;
		}
		close(pty_pair[0]);
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
