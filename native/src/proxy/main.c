/*
 * main.c: berth-proxy's setup. Started detached by berthd:
 *   berth-proxy --pid <init pid> --listen <addr> --connect <addr> --pid-file <path>
 *               [--log <path>] [--uid N] [--gid N] [--mode OCTAL] [--udp-idle SECONDS] [--report-fd N]
 * It closes every descriptor it inherited, takes its own session, forbids new privileges and
 * core dumps, pins the container's init with a pidfd, opens that init's network namespace (and
 * its root directory for unix connects), binds the listeners in the host's namespace, writes its
 * pid file, then reports "ok" or "error <syscall> <errno> <detail>" on the report descriptor and
 * runs the relay (relay.c) until SIGTERM or until the init exits. On the way out it removes its
 * pid file and its listening unix socket, each only if it is still the one it made.
 * Read: close_range(2), setsid(2), prctl(2) (PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE),
 * pidfd_open(2), proc(5) (/proc/pid/ns, /proc/pid/root), bind(2), unix(7), signalfd(2).
 */
#include "proxy.h"
#include "../common/process.h"
#include "../monitor/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LOG_CAP (1024 * 1024)

static struct {
	pid_t init_pid;
	const char *listen, *connect, *pid_file, *log;
	long uid, gid; /* -1: unchanged */
	long mode;     /* -1: 0644 */
	long udp_idle; /* 0: the default */
	int report_fd;
} args = { .uid = -1, .gid = -1, .mode = -1, .report_fd = -1 };

/* What this process created and removes on exit, if still its own. */
static struct {
	bool socket_made;
	dev_t socket_dev;
	ino_t socket_ino;
	bool pid_file_made;
} made;

static int log_fd = -1;
static size_t logged;

void log_line(const char *fmt, ...)
{
	char line[512];
	if (log_fd < 0 || logged >= LOG_CAP)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write_all(log_fd, line, (size_t)n) == 0)
		logged += (size_t)n;
}

static int parse_long(const char *text, int base, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(text, &end, base);
	if (errno || end == text || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i += 2) {
		const char *key = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		long n;
		if (!value)
			return fail("parse", EINVAL, "%s needs a value", key);
		if (strcmp(key, "--pid") == 0 && parse_long(value, 10, INT_MAX, &n) == 0 && n > 0)
			args.init_pid = (pid_t)n;
		else if (strcmp(key, "--listen") == 0)
			args.listen = value;
		else if (strcmp(key, "--connect") == 0)
			args.connect = value;
		else if (strcmp(key, "--pid-file") == 0 && value[0] == '/')
			args.pid_file = value;
		else if (strcmp(key, "--log") == 0 && value[0] == '/')
			args.log = value;
		else if (strcmp(key, "--uid") == 0 && parse_long(value, 10, UINT32_MAX - 1, &n) == 0)
			args.uid = n;
		else if (strcmp(key, "--gid") == 0 && parse_long(value, 10, UINT32_MAX - 1, &n) == 0)
			args.gid = n;
		else if (strcmp(key, "--mode") == 0 && parse_long(value, 8, 07777, &n) == 0)
			args.mode = n;
		else if (strcmp(key, "--udp-idle") == 0 && parse_long(value, 10, 86400, &n) == 0 && n > 0)
			args.udp_idle = n;
		else if (strcmp(key, "--report-fd") == 0)
			continue; /* read before anything else, in main */
		else
			return fail("parse", EINVAL, "bad argument %s %s", key, value);
	}
	if (!args.init_pid || !args.listen || !args.connect || !args.pid_file)
		return fail("parse", EINVAL, "--pid, --listen, --connect and --pid-file are required");
	return 0;
}

static void report(const char *line)
{
	if (args.report_fd < 0)
		return;
	write_all(args.report_fd, line, strlen(line));
	close(args.report_fd);
	args.report_fd = -1;
}

/* Opens the init's namespace and root through /proc, then checks the pidfd still names a live
 * process: had the init died and its pid been reused in between, the check fails. */
static int open_container(struct proxy *p)
{
	char path[64];
	p->pidfd = sys_pidfd_open(args.init_pid, 0);
	if (p->pidfd < 0)
		return fail("pidfd_open", errno, "pid %d", (int)args.init_pid);
	p->host_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (p->host_net < 0)
		return fail("open", errno, "/proc/self/ns/net");
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)args.init_pid);
	p->container_net = open(path, O_RDONLY | O_CLOEXEC);
	if (p->container_net < 0)
		return fail("open", errno, "%s", path);
	if (p->connect.unix_socket && !p->connect.abstract) {
		snprintf(path, sizeof(path), "/proc/%d/root", (int)args.init_pid);
		p->container_root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p->container_root < 0)
			return fail("open", errno, "%s", path);
	}
	if (sys_pidfd_send_signal(p->pidfd, 0) < 0)
		return fail("pidfd_send_signal", errno, "the container's init (pid %d) is gone", (int)args.init_pid);
	return 0;
}

/* A unix path that is a socket nobody accepts on is a leftover of a killed proxy: it may go. */
static bool stale_socket(const char *path, const struct sockaddr_storage *sa, socklen_t len)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool stale = connect(fd, (const struct sockaddr *)sa, len) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int bind_unix(struct proxy *p, int fd, const struct sockaddr_storage *sa, socklen_t len)
{
	const char *path = p->listen.path;
	/* The socket appears with the umask's mode: nobody else may connect before chmod. */
	mode_t old = umask(0177);
	int rc = bind(fd, (const struct sockaddr *)sa, len);
	if (rc < 0 && errno == EADDRINUSE && !p->listen.abstract && stale_socket(path, sa, len) && unlink(path) == 0)
		rc = bind(fd, (const struct sockaddr *)sa, len);
	int err = errno;
	umask(old);
	if (rc < 0)
		return fail("bind", err, "%s%s", p->listen.abstract ? "@" : "", path);
	if (p->listen.abstract)
		return 0;
	struct stat st;
	if (lstat(path, &st) < 0)
		return fail("lstat", errno, "%s", path);
	made.socket_made = true;
	made.socket_dev = st.st_dev;
	made.socket_ino = st.st_ino;
	if ((args.uid >= 0 || args.gid >= 0) && lchown(path, (uid_t)args.uid, (gid_t)args.gid) < 0)
		return fail("lchown", errno, "%s", path);
	if (chmod(path, args.mode >= 0 ? (mode_t)args.mode : 0644) < 0)
		return fail("chmod", errno, "%s", path);
	return 0;
}

static int open_listeners(struct proxy *p)
{
	size_t count = p->listen.unix_socket ? 1 : p->listen.nports;
	p->listeners = calloc(count, sizeof(int));
	if (!p->listeners)
		return fail("calloc", ENOMEM, "listeners");
	for (size_t i = 0; i < count; i++) {
		struct sockaddr_storage sa;
		socklen_t len = socket_address(&p->listen, i, &sa);
		if (len == 0)
			return fail("bind", ENAMETOOLONG, "%s", args.listen);
		int fd = socket(p->listen.family, (p->listen.datagram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return fail("socket", errno, "%s", args.listen);
		p->listeners[p->nlisteners++] = fd;
		if (p->listen.unix_socket) {
			if (bind_unix(p, fd, &sa, len) < 0)
				return -1;
		} else {
			int one = 1;
			/* TCP only: on UDP it would let a second socket share the port instead of failing. */
			if (!p->listen.datagram)
				setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (const struct sockaddr *)&sa, len) < 0)
				return count == 1 ? fail("bind", errno, "%s", args.listen)
						  : fail("bind", errno, "port %u of %s", (unsigned)p->listen.ports[i], args.listen);
		}
		if (!p->listen.datagram && listen(fd, 128) < 0)
			return fail("listen", errno, "%s", args.listen);
	}
	return 0;
}

static int write_pid_file(void)
{
	char tmp[PATH_MAX], line[32];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", args.pid_file) >= (int)sizeof(tmp))
		return fail("open", ENAMETOOLONG, "%s", args.pid_file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail("open", errno, "%s", tmp);
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	int rc = write_all(fd, line, strlen(line));
	int err = errno;
	close(fd);
	if (rc < 0 || rename(tmp, args.pid_file) < 0) {
		err = rc < 0 ? err : errno;
		unlink(tmp);
		return fail(rc < 0 ? "write" : "rename", err, "%s", args.pid_file);
	}
	made.pid_file_made = true;
	return 0;
}

/* Removes the socket and pid file, each only if it is still ours (a newer proxy may own the path). */
static void cleanup(const struct proxy *p)
{
	struct stat st;
	if (made.socket_made && lstat(p->listen.path, &st) == 0 && st.st_dev == made.socket_dev && st.st_ino == made.socket_ino)
		unlink(p->listen.path);
	if (made.pid_file_made) {
		char text[32], mine[32];
		int fd = open(args.pid_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
		if (fd >= 0)
			close(fd);
		snprintf(mine, sizeof(mine), "%d\n", (int)getpid());
		if (n > 0 && (text[n] = '\0', strcmp(text, mine) == 0))
			unlink(args.pid_file);
	}
}

/* A few thousand listeners (a port range) and a thousand relays need more than the default 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct proxy p = { .pidfd = -1, .host_net = -1, .container_net = -1, .container_root = -1, .signal_fd = -1 };
	char line[1024];
	long n;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--report-fd") == 0 && parse_long(argv[i + 1], 10, INT_MAX, &n) == 0)
			args.report_fd = (int)n;
	close_inherited(args.report_fd);
	setsid(); /* fails harmlessly if berthd already made us a session leader */
	if (chdir("/") < 0)
		return 1;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_NAME, "berth-proxy", 0, 0, 0);
	raise_fd_limit();

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);

	if (parse_args(argc, argv) < 0 || parse_address("listen", args.listen, &p.listen) < 0 ||
	    parse_address("connect", args.connect, &p.connect) < 0)
		goto failed;
	if (!p.listen.unix_socket && !p.connect.unix_socket && p.connect.nports != 1 && p.connect.nports != p.listen.nports) {
		fail("parse", EINVAL, "connect must name one port or as many as listen");
		goto failed;
	}
	if (p.listen.datagram != p.connect.datagram) {
		fail("parse", EPROTONOSUPPORT, "udp is relayed to udp only");
		goto failed;
	}
	p.udp_idle = (unsigned)args.udp_idle;
	if (args.log) {
		log_fd = open(args.log, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (log_fd < 0) {
			fail("open", errno, "%s", args.log);
			goto failed;
		}
	}
	p.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p.signal_fd < 0) {
		fail("signalfd", errno, "SIGTERM");
		goto failed;
	}
	if (open_container(&p) < 0 || open_listeners(&p) < 0 || write_pid_file() < 0)
		goto failed;
	log_line("relaying %s to %s in the network namespace of pid %d", args.listen, args.connect, (int)args.init_pid);
	report("ok\n");
	int status = relay_run(&p);
	cleanup(&p);
	return status;

failed:
	snprintf(line, sizeof(line), "error %s %d %s\n", last_failure.syscall, last_failure.err, last_failure.detail);
	for (char *c = line; c[1]; c++)
		if (*c == '\n')
			*c = ' ';
	log_line("%s", line);
	cleanup(&p);
	report(line);
	return 1;
}
