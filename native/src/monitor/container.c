/*
 * container.c: the two halves of creating a container's init.
 *
 * The monitor (host root, host namespaces) clones the child into new user, mount, pid, uts,
 * ipc and net namespaces, writes its id maps, puts it into its cgroups, delegates them, and
 * hands it an idmapped clone of the rootfs (or, where the filesystem cannot be idmapped, a
 * clone of the rootfs whose ownership was shifted on disk: shift.c). The child unshares its
 * cgroup and time namespaces once it sits in its cgroups, mounts the API filesystems by
 * descriptor (targets resolved with openat2(RESOLVE_IN_ROOT), never by string prefix),
 * attaches the devices' binds the monitor prepared (devices.c), pivots into the rootfs,
 * detaches the old root, binds the sd_notify socket, takes the console and execs systemd. The two talk over a SOCK_SEQPACKET pair; errors travel back as data
 * (syscall + errno).
 *
 * Read: clone(2), user_namespaces(7), cgroup_namespaces(7), time_namespaces(7), open_tree(2),
 * move_mount(2), fsopen(2), fsconfig(2), fsmount(2), mount_setattr(2), pivot_root(2),
 * openat2(2), pty(7), seccomp(2), systemd's docs/CONTAINER_INTERFACE.md.
 */
#include "container.h"
#include "devices.h"
#include "util.h"
#include "../common/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum sync_kind { SYNC_MAPPED = 1, SYNC_TREE, SYNC_NOTIFY, SYNC_ERROR };

struct sync_msg {
	int kind;
	struct failure failure;
};

static const char *const init_paths[] = { "/usr/lib/systemd/systemd", "/lib/systemd/systemd", "/sbin/init" };

bool valid_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 63 || name[0] == '-' || name[len - 1] == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

/* ---- the child ------------------------------------------------------------------------ */

static __attribute__((noreturn)) void child_abort(int sync)
{
	struct sync_msg msg = { .kind = SYNC_ERROR, .failure = last_failure };
	send_with_fd(sync, &msg, sizeof(msg), -1);
	_exit(1);
}

static int sync_expect(int sync, int kind, int *fd)
{
	struct sync_msg msg;
	ssize_t n = recv_with_fd(sync, &msg, sizeof(msg), fd);
	if (n != (ssize_t)sizeof(msg) || msg.kind != kind)
		return fail("recvmsg", n < 0 ? errno : EPROTO, "sync with the monitor (step %d)", kind);
	return 0;
}

/* Attaches a detached mount (fsmount/open_tree) onto an O_PATH target. */
static int attach(int mnt, int target, const char *what)
{
	if (sys_move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return fail("move_mount", errno, "%s", what);
	return 0;
}

/* Creates a new filesystem instance with key[=value] options and mounts it at root/target. */
static int mount_fs(int root, const char *target, const char *fstype, const char *const *options, unsigned attrs)
{
	int rc = -1, fs = -1, mnt = -1, dst = -1;
	fs = sys_fsopen(fstype, FSOPEN_CLOEXEC);
	if (fs < 0) {
		fail("fsopen", errno, "%s", fstype);
		goto out;
	}
	for (const char *const *o = options; o && *o; o++) {
		char key[64];
		const char *eq = strchr(*o, '=');
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - *o) : (int)strlen(*o), *o);
		if ((eq ? sys_fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0)
			: sys_fsconfig(fs, FSCONFIG_SET_FLAG, key, NULL, 0)) < 0) {
			fail("fsconfig", errno, "%s option %s", fstype, *o);
			goto out;
		}
	}
	if (sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		fail("fsconfig", errno, "create %s for /%s", fstype, target);
		goto out;
	}
	mnt = sys_fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0) {
		fail("fsmount", errno, "%s for /%s", fstype, target);
		goto out;
	}
	dst = open_in_root(root, target, O_PATH | O_DIRECTORY, 0);
	if (dst < 0) {
		fail("openat2", errno, "/%s", target);
		goto out;
	}
	rc = attach(mnt, dst, target);
out:
	if (dst >= 0)
		close(dst);
	if (mnt >= 0)
		close(mnt);
	if (fs >= 0)
		close(fs);
	return rc;
}

/* Opens name beneath dirfd without following any symlink (for /proc entries). */
static int open_beneath(int dirfd, const char *name, int flags)
{
	return sys_openat2(dirfd, name, flags | O_PATH | O_CLOEXEC, 0,
			   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Re-mounts procdir/name onto itself read-only (a directory). Missing entries are fine. */
static int proc_read_only(int procfd, const char *name)
{
	int tree = sys_open_tree(procfd, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return errno == ENOENT ? 0 : fail("open_tree", errno, "/proc/%s", name);
	int rc = -1, dst = -1;
	if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, -1) < 0) {
		fail("mount_setattr", errno, "/proc/%s read-only", name);
		goto out;
	}
	dst = open_beneath(procfd, name, O_DIRECTORY);
	if (dst < 0) {
		fail("openat2", errno, "/proc/%s", name);
		goto out;
	}
	rc = attach(tree, dst, name);
out:
	if (dst >= 0)
		close(dst);
	close(tree);
	return rc;
}

/* Binds the host device node `host` (checked to be the char device major:minor) onto `target`,
 * an O_PATH descriptor of a file we created. */
static int bind_device(const char *host, unsigned major, unsigned minor, int target)
{
	int tree = sys_open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return fail("open_tree", errno, "%s", host);
	struct stat st;
	int rc = -1;
	if (fstat(tree, &st) < 0)
		fail("fstat", errno, "%s", host);
	else if (!S_ISCHR(st.st_mode) || (major && (major(st.st_rdev) != major || minor(st.st_rdev) != minor)))
		fail("fstat", EPERM, "%s is not the device %u:%u", host, major, minor);
	else
		rc = attach(tree, target, host);
	close(tree);
	return rc;
}

static int create_file(int dirfd, const char *name, mode_t mode)
{
	int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return fail("openat", errno, "/dev/%s", name);
	close(fd);
	fd = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail("openat", errno, "/dev/%s", name);
	return fd;
}

static int setup_proc(int root)
{
	static const unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (mount_fs(root, "proc", "proc", NULL, attrs) < 0)
		return -1;
	int rc = -1, proc = -1, net = -1, dst = -1;
	proc = open_in_root(root, "proc", O_PATH | O_DIRECTORY, 0);
	struct statfs sfs;
	if (proc < 0 || fstatfs(proc, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) {
		fail("openat2", proc < 0 ? errno : EXDEV, "/proc is not the procfs just mounted");
		goto out;
	}
	/* /proc/sys read-only, /proc/sys/net writable (the container has its own netns). */
	net = sys_open_tree(proc, "sys/net", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (net < 0) {
		fail("open_tree", errno, "/proc/sys/net");
		goto out;
	}
	if (proc_read_only(proc, "sys") < 0)
		goto out;
	dst = open_beneath(proc, "sys/net", O_DIRECTORY);
	if (dst < 0) {
		fail("openat2", errno, "/proc/sys/net");
		goto out;
	}
	if (attach(net, dst, "/proc/sys/net") < 0)
		goto out;
	static const char *const read_only[] = { "acpi", "asound", "bus", "fs", "irq", "scsi" };
	for (size_t i = 0; i < sizeof(read_only) / sizeof(*read_only); i++)
		if (proc_read_only(proc, read_only[i]) < 0)
			goto out;
	static const char *const masked[] = { "kcore", "keys", "sysrq-trigger", "timer_list", "kallsyms" };
	for (size_t i = 0; i < sizeof(masked) / sizeof(*masked); i++) {
		int target = open_beneath(proc, masked[i], O_NOFOLLOW);
		if (target < 0) {
			if (errno == ENOENT)
				continue;
			fail("openat2", errno, "/proc/%s", masked[i]);
			goto out;
		}
		int bound = bind_device("/dev/null", 1, 3, target);
		close(target);
		if (bound < 0)
			goto out;
	}
	rc = 0;
out:
	if (dst >= 0)
		close(dst);
	if (net >= 0)
		close(net);
	if (proc >= 0)
		close(proc);
	return rc;
}

/*
 * Binds lxcfs' view of one file (host path lxcfs/rel) over the same file beneath `dirfd` (the
 * container's fresh procfs or sysfs, where no symlink is followed). A file this lxcfs does not
 * provide is skipped; anything else it answers with fails the start.
 */
static int bind_lxcfs_file(const char *lxcfs, int dirfd, const char *prefix, const char *name)
{
	char host[PATH_MAX];
	int n = snprintf(host, sizeof(host), "%s/%s/%s", lxcfs, prefix, name);
	if (n < 0 || (size_t)n >= sizeof(host))
		return fail("open_tree", ENAMETOOLONG, "%s/%s/%s", lxcfs, prefix, name);
	int tree = sys_open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return errno == ENOENT ? 0 : fail("open_tree", errno, "%s", host);
	int rc = -1, target = -1;
	struct stat st;
	if (fstat(tree, &st) < 0) {
		fail("fstat", errno, "%s", host);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fail("fstat", EPERM, "%s is not a regular file", host);
		goto out;
	}
	target = open_beneath(dirfd, name, O_NOFOLLOW);
	if (target < 0) {
		rc = errno == ENOENT ? 0 : fail("openat2", errno, "/%s/%s", prefix, name);
		goto out;
	}
	rc = attach(tree, target, host);
out:
	if (target >= 0)
		close(target);
	close(tree);
	return rc;
}

/*
 * lxcfs (a FUSE filesystem on the host) answers reads of its proc files with the values of the
 * reader's cgroup: bound over the container's, free, uptime and top inside show its limits. The
 * host mount is reachable here, before pivot_root; lxcfs must run with allow_other (its default).
 */
static int bind_lxcfs(int root, const char *lxcfs)
{
	static const char *const proc_files[] = { "cpuinfo", "diskstats", "loadavg", "meminfo", "stat", "swaps", "uptime" };
	int rc = -1, proc = -1, cpu = -1;
	proc = open_in_root(root, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	if (proc < 0) {
		fail("openat2", errno, "/proc");
		goto out;
	}
	for (size_t i = 0; i < sizeof(proc_files) / sizeof(*proc_files); i++)
		if (bind_lxcfs_file(lxcfs, proc, "proc", proc_files[i]) < 0)
			goto out;
	cpu = open_in_root(root, "sys/devices/system/cpu", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	if (cpu < 0) {
		fail("openat2", errno, "/sys/devices/system/cpu");
		goto out;
	}
	rc = bind_lxcfs_file(lxcfs, cpu, "sys/devices/system/cpu", "online");
out:
	if (cpu >= 0)
		close(cpu);
	if (proc >= 0)
		close(proc);
	return rc;
}

static int setup_dev(int root, int console)
{
	static const unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
	static const char *const dev_options[] = { "mode=755", "size=4m", NULL };
	if (mount_fs(root, "dev", "tmpfs", dev_options, attrs) < 0)
		return -1;
	int dev = open_in_root(root, "dev", O_PATH | O_DIRECTORY, 0);
	struct statfs sfs;
	if (dev < 0 || fstatfs(dev, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC) {
		if (dev >= 0)
			close(dev);
		return fail("openat2", dev < 0 ? errno : EXDEV, "/dev is not the tmpfs just mounted");
	}
	int rc = -1;
	static const struct {
		const char *name;
		unsigned major, minor;
		bool optional;
	} nodes[] = {
		{ "null", 1, 3, false },   { "zero", 1, 5, false }, { "full", 1, 7, false },
		{ "random", 1, 8, false }, { "urandom", 1, 9, false }, { "tty", 5, 0, false },
		{ "net/tun", 10, 200, true }, { "fuse", 10, 229, true },
	};
	if (mkdirat(dev, "net", 0755) < 0) {
		fail("mkdirat", errno, "/dev/net");
		goto out;
	}
	for (size_t i = 0; i < sizeof(nodes) / sizeof(*nodes); i++) {
		char host[64];
		snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
		if (nodes[i].optional && access(host, F_OK) < 0)
			continue;
		int target = create_file(dev, nodes[i].name, 0644);
		if (target < 0)
			goto out;
		int bound = bind_device(host, nodes[i].major, nodes[i].minor, target);
		close(target);
		if (bound < 0)
			goto out;
	}
	if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0) {
		fail("mkdirat", errno, "/dev/pts or /dev/shm");
		goto out;
	}
	static const char *const pts_options[] = { "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
	if (mount_fs(root, "dev/pts", "devpts", pts_options, attrs) < 0)
		goto out;
	static const char *const shm_options[] = { "mode=1777", NULL };
	if (mount_fs(root, "dev/shm", "tmpfs", shm_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		goto out;
	static const struct {
		const char *name, *target;
	} links[] = {
		{ "ptmx", "pts/ptmx" },		 { "fd", "/proc/self/fd" },	      { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++)
		if (symlinkat(links[i].target, dev, links[i].name) < 0) {
			fail("symlinkat", errno, "/dev/%s", links[i].name);
			goto out;
		}
	/* /dev/console is the pty slave the monitor holds the master of, bound by descriptor. */
	int target = create_file(dev, "console", 0600);
	if (target < 0)
		goto out;
	/* Our copy of the host's devpts holds the same slave: bind it by path, checked by rdev. */
	struct stat st;
	char pts[64];
	if (fstat(console, &st) < 0 || ttyname_r(console, pts, sizeof(pts)) != 0) {
		fail("fstat", errno, "console pty");
		close(target);
		goto out;
	}
	rc = bind_device(pts, major(st.st_rdev), minor(st.st_rdev), target);
	close(target);
out:
	close(dev);
	return rc;
}

/*
 * The guest API: the host directory holding berthd's devlxd socket for this instance, bound
 * read-only at /dev/lxd (the directory, not the socket: a berthd that comes back makes a new
 * socket in it, which the guest then reaches at the same path). Before pivot_root, after /dev.
 */
static int bind_devlxd(int root, const char *dir)
{
	int tree = sys_open_tree(AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return fail("open_tree", errno, "%s", dir);
	int rc = -1, dev = -1, dst = -1;
	struct stat st;
	if (fstat(tree, &st) < 0) {
		fail("fstat", errno, "%s", dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		fail("fstat", ENOTDIR, "%s", dir);
		goto out;
	}
	if (sys_mount_setattr(tree, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0, -1) < 0) {
		fail("mount_setattr", errno, "%s read-only", dir);
		goto out;
	}
	dev = open_in_root(root, "dev", O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
	if (dev < 0 || (mkdirat(dev, "lxd", 0755) < 0 && errno != EEXIST)) {
		fail(dev < 0 ? "openat2" : "mkdirat", errno, "/dev/lxd");
		goto out;
	}
	dst = open_beneath(dev, "lxd", O_DIRECTORY);
	if (dst < 0) {
		fail("openat2", errno, "/dev/lxd");
		goto out;
	}
	rc = attach(tree, dst, "/dev/lxd");
out:
	if (dst >= 0)
		close(dst);
	if (dev >= 0)
		close(dev);
	close(tree);
	return rc;
}

/* The API filesystems, by descriptor beneath the rootfs; lxcfs (a host path, or "") over /proc and /sys files. */
static int setup_rootfs(int root, int console, const char *lxcfs)
{
	static const char *const top[] = { "proc", "sys", "dev", "run", "tmp" };
	for (size_t i = 0; i < sizeof(top) / sizeof(*top); i++) {
		struct stat st;
		if (fstatat(root, top[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
			return fail("mkdirat", ENOTDIR, "/%s in the rootfs is not a directory", top[i]);
		if (mkdirat(root, top[i], 0755) < 0 && errno != EEXIST)
			return fail("mkdirat", errno, "/%s", top[i]);
	}
	if (setup_proc(root) < 0)
		return -1;
	/* sysfs read-only: systemd takes that as "no udev here" (CONTAINER_INTERFACE.md). */
	if (mount_fs(root, "sys", "sysfs", NULL, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) < 0)
		return -1;
	if (lxcfs[0] != '\0' && bind_lxcfs(root, lxcfs) < 0)
		return -1;
	/* The cgroup2 view of the container's own (delegated) subtree, through its cgroup namespace. */
	if (mount_fs(root, "sys/fs/cgroup", "cgroup2", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) < 0)
		return -1;
	if (setup_dev(root, console) < 0)
		return -1;
	static const char *const run_options[] = { "mode=755", NULL };
	static const char *const tmp_options[] = { "mode=1777", NULL };
	if (mount_fs(root, "run", "tmpfs", run_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0 ||
	    mount_fs(root, "tmp", "tmpfs", tmp_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
		return -1;
	return 0;
}

static int bind_notify_socket(void)
{
	if (mkdir("/run/host", 0755) < 0 && errno != EEXIST)
		return fail("mkdir", errno, "/run/host");
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail("socket", errno, "notify socket");
	struct sockaddr_un addr = { .sun_family = AF_UNIX, .sun_path = "/run/host/notify" };
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (rc < 0) {
		close(fd);
		return fail("bind", errno, "/run/host/notify");
	}
	return fd;
}

int install_seccomp(void)
{
#ifdef BERTH_SECCOMP_ARCH
#define DENY(nr) SECCOMP_ON((nr), SECCOMP_RET_ERRNO | EPERM)
	static const struct sock_filter filter[] = {
		SECCOMP_CHECK_ARCH(SECCOMP_RET_ALLOW),
		SECCOMP_LOAD_NR,
		DENY(SYS_kexec_load),
		DENY(SYS_kexec_file_load),
		DENY(SYS_open_by_handle_at),
		DENY(SYS_init_module),
		DENY(SYS_finit_module),
		DENY(SYS_delete_module),
		/* umount2(target, MNT_FORCE) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_umount2, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MNT_FORCE, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
#undef DENY
	if (seccomp_load(filter, sizeof(filter) / sizeof(*filter)) < 0)
		return fail("seccomp", errno, "deny list");
#endif
	return 0;
}

/* Capabilities that only ever act on the host (the kernel checks them against the initial
 * user namespace) leave the bounding set, so systemd's ConditionCapability= skips the units
 * that need them (debugfs, tracefs) instead of failing them (nspawn keeps none of them either). */
int drop_host_capabilities(void)
{
	static const int caps[] = { CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, CAP_MAC_ADMIN,
				    CAP_MAC_OVERRIDE, CAP_AUDIT_CONTROL, CAP_AUDIT_READ };
	for (size_t i = 0; i < sizeof(caps) / sizeof(*caps); i++)
		if (prctl(PR_CAPBSET_DROP, caps[i], 0, 0, 0) < 0 && errno != EINVAL)
			return fail("prctl", errno, "PR_CAPBSET_DROP %d", caps[i]);
	return 0;
}

static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static __attribute__((noreturn)) void child_main(const struct spec *spec, int sync, int console)
{
	bool userns = spec->id_count > 0;
	reset_signals();
	umask(0022);
	/* The monitor writes the id maps and places us in our cgroups meanwhile. */
	if (sync_expect(sync, SYNC_MAPPED, NULL) < 0)
		child_abort(sync);
	if (userns) {
		if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
			fail("setresuid", errno, "become the container's root"), child_abort(sync);
	}
	/* After the id change, which clears it. If the monitor dies, so does the container (the
	 * monitor is alive here: it just answered, and any death later is caught by the signal). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		fail("prctl", errno, "PR_SET_PDEATHSIG"), child_abort(sync);
	/* The cgroup namespace's root is the cgroup we are in now, so only after placement. */
	if (unshare(CLONE_NEWCGROUP | CLONE_NEWTIME) < 0)
		fail("unshare", errno, "CLONE_NEWCGROUP|CLONE_NEWTIME"), child_abort(sync);
	if (sys_mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		fail("mount", errno, "make / private"), child_abort(sync);

	int tree;
	if (sync_expect(sync, SYNC_TREE, &tree) < 0 || tree < 0)
		fail("recvmsg", EPROTO, "rootfs tree"), child_abort(sync);
	/* The monitor cloned us with the rootfs directory as cwd, which the new mount namespace
	 * translated into our copy: the tree is attached there, so no host path (whose parents
	 * the container's root may not search) is ever resolved. The tree descriptor is then the
	 * root every later path is resolved from. */
	if (sys_move_mount(tree, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		fail("move_mount", errno, "attach the rootfs"), child_abort(sync);
	int root = tree;
	/* proc and sysfs need a fully visible instance in this mount namespace: before pivot_root. */
	if (setup_rootfs(root, console, spec->lxcfs) < 0 || devices_attach(root) < 0)
		child_abort(sync);
	if (spec->devlxd[0] != '\0' && bind_devlxd(root, spec->devlxd) < 0)
		child_abort(sync);
	if (fchdir(root) < 0)
		fail("fchdir", errno, "rootfs"), child_abort(sync);
	if (sys_pivot_root(".", ".") < 0)
		fail("pivot_root", errno, "%s", spec->rootfs), child_abort(sync);
	if (sys_umount2(".", MNT_DETACH) < 0)
		fail("umount2", errno, "detach the old root"), child_abort(sync);
	if (chdir("/") < 0)
		fail("chdir", errno, "/"), child_abort(sync);
	close(root);

	int notify = bind_notify_socket();
	if (notify < 0)
		child_abort(sync);
	struct sync_msg msg = { .kind = SYNC_NOTIFY };
	if (send_with_fd(sync, &msg, sizeof(msg), notify) < 0)
		fail("sendmsg", errno, "notify socket"), child_abort(sync);
	close(notify);

	if (sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		fail("sethostname", errno, "%s", spec->hostname), child_abort(sync);
	if (setsid() < 0)
		fail("setsid", errno, "init"), child_abort(sync);
	if (ioctl(console, TIOCSCTTY, 0) < 0)
		fail("ioctl", errno, "TIOCSCTTY on the console"), child_abort(sync);
	for (int fd = 0; fd < 3; fd++)
		if (dup2(console, fd) < 0)
			fail("dup2", errno, "console to fd %d", fd), child_abort(sync);
	if (console > 2)
		close(console);
	if (drop_host_capabilities() < 0 || install_seccomp() < 0)
		child_abort(sync);

	char env_uuid[64], env_container[] = "container=berth", env_notify[] = "NOTIFY_SOCKET=/run/host/notify",
				 env_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				 env_term[] = "TERM=linux";
	snprintf(env_uuid, sizeof(env_uuid), "container_uuid=%s", spec->uuid);
	char *envp[] = { env_container, env_uuid, env_notify, env_path, env_term, NULL };
	/* Every descriptor but the sync socket is already O_CLOEXEC; make sure of it. */
	syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	int err = ENOENT;
	for (size_t i = 0; i < sizeof(init_paths) / sizeof(*init_paths); i++) {
		char *argv[] = { (char *)init_paths[i], NULL };
		execve(init_paths[i], argv, envp);
		if (errno != ENOENT)
			err = errno;
	}
	fail("execve", err, "no usable init (/usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init)");
	child_abort(sync);
}

/* ---- the monitor's half --------------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, unsigned base, unsigned count)
{
	char path[64], map[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	snprintf(map, sizeof(map), "0 %u %u\n", base, count);
	if (write_file(path, map) < 0)
		return fail("write", errno, "%s", path);
	return 0;
}

/* An init must exist before anything is created: a clear error, nothing to undo. */
static int check_rootfs(const struct spec *spec)
{
	int root = open(spec->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail("open", errno, "rootfs %s", spec->rootfs);
	int found = -1;
	for (size_t i = 0; i < sizeof(init_paths) / sizeof(*init_paths) && found < 0; i++) {
		int fd = open_in_root(root, init_paths[i], O_PATH, 0);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			found = 0;
		if (fd >= 0)
			close(fd);
	}
	close(root);
	if (found < 0)
		return fail("execve", ENOENT, "rootfs %s has no init (/usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init)", spec->rootfs);
	return 0;
}

/*
 * The rootfs as the container sees it: a detached clone, idmapped onto the container's userns.
 * A tree already shifted on disk for this map is used as it is; a filesystem that refuses the
 * idmapped mount gets its tree shifted (while the child waits), and the clone is used as it is.
 */
static int rootfs_tree(const struct spec *spec, pid_t pid, bool shifted, enum idmap_mode *mode)
{
	int tree = sys_open_tree(AT_FDCWD, spec->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return fail("open_tree", errno, "rootfs %s", spec->rootfs);
	*mode = spec->id_count == 0 ? IDMAP_NONE : shifted ? IDMAP_SHIFTED : IDMAP_IDMAPPED;
	if (*mode != IDMAP_IDMAPPED)
		return tree;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	int userns = open(path, O_RDONLY | O_CLOEXEC);
	if (userns < 0) {
		close(tree);
		return fail("open", errno, "%s", path);
	}
	int rc = sys_mount_setattr(tree, "", AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, 0, userns);
	int err = errno;
	close(userns);
	if (rc == 0)
		return tree;
	if (idmap_refused(err) && shift_apply(spec->rootfs, spec->id_base, spec->id_count) == 0) {
		*mode = IDMAP_SHIFTED;
		return tree;
	}
	close(tree);
	return fail("mount_setattr", err, "idmap the rootfs %s (the filesystem may not support idmapped mounts)", spec->rootfs);
}

static int spawn(const struct spec *spec, const struct cgroups *cg, int console, struct init_process *out)
{
	bool userns = spec->id_count > 0, shifted = false;
	if (check_rootfs(spec) < 0 || shift_prepare(spec->rootfs, spec->id_base, spec->id_count, &shifted) < 0 ||
	    devices_prepare(spec, cg) < 0)
		return -1;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fail("socketpair", errno, "sync");
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
			 (userns ? CLONE_NEWUSER : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	if (chdir(spec->rootfs) < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		return fail("chdir", err, "rootfs %s", spec->rootfs);
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	int clone_err = errno;
	if (pid > 0 && chdir("/") < 0)
		clone_err = errno; /* cannot happen: "/" is always there */
	if (pid < 0) {
		int err = clone_err;
		if (chdir("/") < 0)
			err = errno;
		close(sv[0]);
		close(sv[1]);
		return fail("clone3", err, "new namespaces");
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(spec, sv[1], console);
	}
	close(sv[1]);
	int sync = sv[0], notify = -1, tree = -1;
	siginfo_t si = { 0 };
	struct sync_msg msg = { .kind = SYNC_MAPPED };
	if (userns && (write_id_map(pid, "uid_map", spec->id_base, spec->id_count) < 0 ||
		       write_id_map(pid, "gid_map", spec->id_base, spec->id_count) < 0))
		goto failed;
	if (cgroups_attach(cg, pid) < 0)
		goto failed;
	if (userns && cgroups_delegate(cg, spec->id_base, spec->id_base) < 0)
		goto failed;
	if (send_with_fd(sync, &msg, sizeof(msg), -1) < 0) {
		fail("sendmsg", errno, "sync with the container");
		goto failed;
	}
	tree = rootfs_tree(spec, pid, shifted, &out->idmap);
	if (tree < 0 || devices_idmap(spec, pid) < 0)
		goto failed;
	msg.kind = SYNC_TREE;
	if (send_with_fd(sync, &msg, sizeof(msg), tree) < 0) {
		fail("sendmsg", errno, "rootfs tree");
		goto failed;
	}
	close(tree);
	tree = -1;
	/* Until exec closes the child's end: the notify socket, or an error. */
	for (;;) {
		int fd = -1;
		ssize_t n = recv_with_fd(sync, &msg, sizeof(msg), &fd);
		if (n == 0)
			break;
		if (n != (ssize_t)sizeof(msg)) {
			if (fd >= 0)
				close(fd);
			fail("recvmsg", n < 0 ? errno : EPROTO, "sync with the container");
			goto failed;
		}
		if (msg.kind == SYNC_ERROR) {
			if (fd >= 0)
				close(fd);
			last_failure = msg.failure;
			goto failed;
		}
		if (msg.kind == SYNC_NOTIFY && fd >= 0 && notify < 0)
			notify = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0) {
		fail("execve", ECHILD, "the container's init exited during setup");
		goto failed;
	}
	if (notify < 0) {
		fail("recvmsg", EPROTO, "no notify socket from the container");
		goto failed;
	}
	int on = 1;
	if (setsockopt(notify, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
		fail("setsockopt", errno, "SO_PASSCRED on the notify socket");
		goto failed;
	}
	close(sync);
	out->pid = pid;
	out->pidfd = pidfd;
	out->notify_fd = notify;
	return 0;

failed:
	sys_pidfd_send_signal(pidfd, SIGKILL);
	waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	close(sync);
	if (tree >= 0)
		close(tree);
	if (notify >= 0)
		close(notify);
	return -1;
}

/* The devices' clones and host nodes are only needed until the child attached them. */
int container_spawn(const struct spec *spec, const struct cgroups *cg, int console, struct init_process *out)
{
	int rc = spawn(spec, cg, console, out);
	devices_release(spec);
	return rc;
}
