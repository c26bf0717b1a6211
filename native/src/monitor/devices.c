/*
 * devices.c: the container's disk, unix-char and unix-block devices, LXD's way.
 *
 * A disk with a host `source` (a directory, a file, a socket, a device node) is a detached clone
 * of that source, made by the monitor as host root (open_tree(OPEN_TREE_CLONE)), given its mount
 * attributes (readonly, raw.mount.options, propagation, an idmap for shift=true) and attached by
 * the container's side at `path`. A unix-char/unix-block device is a node the monitor makes with
 * mknod under <runtime_dir>/devices (owned by the mapped uid/gid), allowed in the device cgroup
 * and bound the same way; the host node is removed once the bind holds it.
 * The target is created if missing, as a directory for a directory and as an empty file for
 * anything else, every component resolved with openat2(RESOLVE_IN_ROOT): a symlink the guest
 * planted resolves inside its root, never onto the host.
 * At start the clones are made before the clone of init, which inherits them, and attached
 * before pivot_root; while the container runs, a forked child enters its user and mount
 * namespaces (setns on init's pidfd) to attach or detach one. The list is kept for a reboot.
 * Read: open_tree(2), move_mount(2), mount_setattr(2), openat2(2), setns(2), mknod(2),
 * umount2(2), mount_namespaces(7), LXD's doc/reference/devices_disk.md and devices_unix_char.md.
 */
#include "devices.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef UMOUNT_NOFOLLOW
#define UMOUNT_NOFOLLOW 0x00000008
#endif
#ifndef MS_PRIVATE
#define MS_PRIVATE (1 << 18)
#endif
#ifndef MS_UNBINDABLE
#define MS_UNBINDABLE (1 << 17)
#endif

#define MAX_DEVICES 64

enum device_kind { KIND_DISK, KIND_CHAR, KIND_BLOCK };

struct device {
	char name[64];
	enum device_kind kind;
	char source[PATH_MAX]; /* host path; "" for a unix device given by major/minor */
	char path[PATH_MAX];   /* inside the container, absolute */
	bool required, recursive, shift;
	uint64_t attr_set, attr_clr;
	uint64_t propagation; /* MS_PRIVATE, MS_UNBINDABLE or 0 */
	bool have_numbers;
	unsigned major, minor;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	/* while being set up */
	int tree;
	bool is_dir;
	bool node_made; /* <runtime_dir>/devices/<name> exists */
	bool allowed;   /* a rule in the device cgroup */
};

static struct device devices[MAX_DEVICES];
static int device_count;

/* ---- the description ------------------------------------------------------------------ */

static int mount_option(struct device *d, const char *option)
{
	static const struct {
		const char *name;
		uint64_t set, clr;
	} options[] = {
		{ "ro", MOUNT_ATTR_RDONLY, 0 },
		{ "rw", 0, 0 },
		{ "nosuid", MOUNT_ATTR_NOSUID, 0 },
		{ "nodev", MOUNT_ATTR_NODEV, 0 },
		{ "noexec", MOUNT_ATTR_NOEXEC, 0 },
		{ "nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 },
		{ "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
		{ "relatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
		{ "noatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
		{ "strictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	};
	for (size_t i = 0; i < sizeof(options) / sizeof(*options); i++)
		if (strcmp(option, options[i].name) == 0) {
			d->attr_set |= options[i].set;
			d->attr_clr |= options[i].clr;
			return 0;
		}
	return fail("getopt", EINVAL, "device %s: raw.mount.options: %s is not a bind mount option", d->name, option);
}

/* 1: read into out, 0: absent, -1: not an integer in 0..max. */
static int get_uint(const char *json, const char *key, unsigned max, unsigned *out)
{
	double v;
	if (!json_get_number(json, key, &v))
		return 0;
	if (v < 0 || v > max || v != (double)(unsigned)v)
		return fail("getopt", EINVAL, "%s out of range", key);
	*out = (unsigned)v;
	return 1;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

static bool valid_device_name(const char *name)
{
	if (!name[0] || name[0] == '.')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(name);
}

/* {"name","kind","source","path","readonly","required","recursive","shift","options",
 *  "propagation","major","minor","uid","gid","mode"}: what runtime.ts sends. */
static int parse_device(const char *json, struct device *d)
{
	char kind[16] = "", options[512] = "", propagation[16] = "";
	bool readonly = false;
	memset(d, 0, sizeof(*d));
	d->tree = -1;
	d->required = true;
	d->mode = 0660;
	if (!json_get_string(json, "name", d->name, sizeof(d->name)) || !valid_device_name(d->name))
		return fail("getopt", EINVAL, "device without a valid name");
	json_get_string(json, "kind", kind, sizeof(kind));
	if (strcmp(kind, "disk") == 0)
		d->kind = KIND_DISK;
	else if (strcmp(kind, "unix-char") == 0)
		d->kind = KIND_CHAR;
	else if (strcmp(kind, "unix-block") == 0)
		d->kind = KIND_BLOCK;
	else
		return fail("getopt", EINVAL, "device %s: unknown kind", d->name);
	json_get_string(json, "source", d->source, sizeof(d->source));
	json_get_string(json, "path", d->path, sizeof(d->path));
	json_get_bool(json, "readonly", &readonly);
	json_get_bool(json, "required", &d->required);
	json_get_bool(json, "recursive", &d->recursive);
	json_get_bool(json, "shift", &d->shift);
	if (d->path[0] == '\0' && d->kind != KIND_DISK)
		snprintf(d->path, sizeof(d->path), "%s", d->source);
	if (d->path[0] != '/' || has_dotdot(d->path))
		return fail("getopt", EINVAL, "device %s: path must be absolute, without ..", d->name);
	if (d->source[0] != '\0' && (d->source[0] != '/' || has_dotdot(d->source)))
		return fail("getopt", EINVAL, "device %s: source must be an absolute host path", d->name);
	if (d->kind == KIND_DISK && d->source[0] == '\0')
		return fail("getopt", EINVAL, "device %s: a disk needs a source", d->name);
	if (readonly)
		d->attr_set |= MOUNT_ATTR_RDONLY;
	if (json_get_string(json, "options", options, sizeof(options))) {
		char *save = NULL;
		for (char *o = strtok_r(options, ",", &save); o; o = strtok_r(NULL, ",", &save))
			if (mount_option(d, o) < 0)
				return -1;
	}
	if (json_get_string(json, "propagation", propagation, sizeof(propagation)) && propagation[0]) {
		if (strcmp(propagation, "private") == 0 || strcmp(propagation, "rprivate") == 0)
			d->propagation = MS_PRIVATE;
		else if (strcmp(propagation, "unbindable") == 0 || strcmp(propagation, "runbindable") == 0)
			d->propagation = MS_UNBINDABLE;
		else
			return fail("getopt", EINVAL, "device %s: propagation %s is not supported", d->name, propagation);
	}
	unsigned uid = 0, gid = 0, mode = 0660;
	int has_major = get_uint(json, "major", 4095, &d->major), has_minor = get_uint(json, "minor", 1048575, &d->minor);
	if (has_major < 0 || has_minor < 0 || get_uint(json, "uid", 0xfffffffe, &uid) < 0 || get_uint(json, "gid", 0xfffffffe, &gid) < 0 ||
	    get_uint(json, "mode", 07777, &mode) < 0)
		return -1;
	d->have_numbers = has_major > 0 && has_minor > 0;
	d->uid = uid;
	d->gid = gid;
	d->mode = mode;
	if (d->kind != KIND_DISK && !d->have_numbers && d->source[0] == '\0')
		return fail("getopt", EINVAL, "device %s: needs a source or major and minor", d->name);
	return 0;
}

int devices_add_arg(const char *json)
{
	if (device_count == MAX_DEVICES)
		return fail("getopt", E2BIG, "more than %d devices", MAX_DEVICES);
	struct device d;
	if (parse_device(json, &d) < 0)
		return -1;
	for (int i = 0; i < device_count; i++)
		if (strcmp(devices[i].name, d.name) == 0)
			return fail("getopt", EEXIST, "device %s is given twice", d.name);
	devices[device_count++] = d;
	return 0;
}

/* ---- the monitor's half: sources, nodes, the cgroup ------------------------------------- */

#define NODE_PATH_MAX (sizeof(((struct spec *)0)->runtime_dir) + 80)

static void node_path(const struct spec *spec, const struct device *d, char *out, size_t len)
{
	int n = snprintf(out, len, "%s/devices/%.63s", spec->runtime_dir, d->name);
	if (n < 0 || (size_t)n >= len)
		out[0] = '\0'; /* cannot happen: len is NODE_PATH_MAX */
}

static int make_node(const struct spec *spec, struct device *d, char *node, size_t len)
{
	char dir[NODE_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/devices", spec->runtime_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail("mkdir", errno, "%s", dir);
	node_path(spec, d, node, len);
	unlink(node); /* a leftover of a monitor that was killed */
	mode_t type = d->kind == KIND_CHAR ? S_IFCHR : S_IFBLK;
	if (mknod(node, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
		return fail("mknod", errno, "device %s: %s (%u:%u)", d->name, node, d->major, d->minor);
	d->node_made = true;
	uid_t uid = d->uid, gid = d->gid;
	if (spec->id_count > 0) {
		uid = uid < spec->id_count ? spec->id_base + uid : (uid_t)-1;
		gid = gid < spec->id_count ? spec->id_base + gid : (gid_t)-1;
	}
	if (chown(node, uid, gid) < 0 || chmod(node, d->mode & 07777) < 0)
		return fail("chown", errno, "device %s: %s", d->name, node);
	return 0;
}

/* Whether another device of the list is the same node (its cgroup rule must stay). */
static bool node_shared(const struct device *d)
{
	for (int i = 0; i < device_count; i++) {
		const struct device *o = &devices[i];
		if (o != d && o->allowed && o->kind == d->kind && o->major == d->major && o->minor == d->minor)
			return true;
	}
	return false;
}

/* Undoes what prepare_one did for one device (closes its clone, removes its node; with deny,
 * its cgroup rule unless another device is the same node). */
static void release_one(const struct spec *spec, const struct cgroups *cg, struct device *d, bool deny)
{
	if (d->tree >= 0)
		close(d->tree);
	d->tree = -1;
	if (d->node_made) {
		char node[NODE_PATH_MAX];
		node_path(spec, d, node, sizeof(node));
		unlink(node);
		d->node_made = false;
	}
	if (deny && d->allowed && !node_shared(d))
		cgroups_allow_device(cg, d->kind == KIND_CHAR ? 'c' : 'b', d->major, d->minor, false);
	if (deny)
		d->allowed = false;
}

/* Returns 1 when an optional device's source is missing (skipped), 0 when ready, -1 on failure. */
static int prepare_one(const struct spec *spec, const struct cgroups *cg, struct device *d)
{
	char node[NODE_PATH_MAX];
	const char *what = d->source;
	d->tree = -1;
	if (d->kind != KIND_DISK) {
		if (d->source[0]) {
			struct stat st;
			if (stat(d->source, &st) < 0) {
				if (errno == ENOENT && !d->required)
					return 1;
				return fail("stat", errno, "device %s: source %s", d->name, d->source);
			}
			if ((d->kind == KIND_CHAR && !S_ISCHR(st.st_mode)) || (d->kind == KIND_BLOCK && !S_ISBLK(st.st_mode)))
				return fail("stat", ENODEV, "device %s: %s is not a %s device", d->name, d->source,
					    d->kind == KIND_CHAR ? "character" : "block");
			if (!d->have_numbers) {
				d->major = major(st.st_rdev);
				d->minor = minor(st.st_rdev);
				d->have_numbers = true;
			}
		}
		if (make_node(spec, d, node, sizeof(node)) < 0)
			return -1;
		if (cgroups_allow_device(cg, d->kind == KIND_CHAR ? 'c' : 'b', d->major, d->minor, true) < 0)
			return -1;
		d->allowed = true;
		what = node;
	}
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (d->recursive ? AT_RECURSIVE : 0);
	d->tree = sys_open_tree(AT_FDCWD, what, flags);
	if (d->tree < 0) {
		if (errno == ENOENT && !d->required)
			return 1;
		return fail("open_tree", errno, "device %s: source %s", d->name, what);
	}
	struct stat st;
	if (fstat(d->tree, &st) < 0)
		return fail("fstat", errno, "device %s: %s", d->name, what);
	/* LXD mounts the filesystem of a block device given as a disk's source: not a bind. */
	if (d->kind == KIND_DISK && S_ISBLK(st.st_mode))
		return fail("open_tree", EOPNOTSUPP, "device %s: %s is a block device: mounting its filesystem is not supported (a unix-block device binds the node)",
			    d->name, what);
	d->is_dir = S_ISDIR(st.st_mode);
	struct mount_attr attr = { .attr_set = d->attr_set, .attr_clr = d->attr_clr, .propagation = d->propagation };
	if ((attr.attr_set || attr.propagation) &&
	    syscall(SYS_mount_setattr, d->tree, "", AT_EMPTY_PATH | (d->recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
		return fail("mount_setattr", errno, "device %s: mount options of %s", d->name, what);
	return 0;
}

/* The container's user namespace as an idmap for a shift=true disk. */
static int idmap_one(struct device *d, int userns)
{
	if (sys_mount_setattr(d->tree, "", AT_EMPTY_PATH | (d->recursive ? AT_RECURSIVE : 0), MOUNT_ATTR_IDMAP, 0, userns) < 0)
		return fail("mount_setattr", errno, "device %s: shift (idmap) %s: the filesystem may not support idmapped mounts",
			    d->name, d->source);
	return 0;
}

int devices_prepare(const struct spec *spec, const struct cgroups *cg)
{
	for (int i = 0; i < device_count; i++) {
		struct device *d = &devices[i];
		if (d->shift && spec->id_count == 0)
			return fail("getopt", EINVAL, "device %s: shift needs an unprivileged container", d->name);
		int rc = prepare_one(spec, cg, d);
		if (rc < 0) {
			devices_release(spec);
			return -1;
		}
		if (rc > 0)
			release_one(spec, cg, d, false);
	}
	return 0;
}

int devices_idmap(const struct spec *spec, pid_t pid)
{
	if (spec->id_count == 0)
		return 0;
	int userns = -1, rc = 0;
	for (int i = 0; i < device_count && rc == 0; i++) {
		struct device *d = &devices[i];
		if (d->tree < 0 || !d->shift)
			continue;
		if (userns < 0) {
			char path[64];
			snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
			userns = open(path, O_RDONLY | O_CLOEXEC);
			if (userns < 0)
				return fail("open", errno, "%s", path);
		}
		rc = idmap_one(d, userns);
	}
	if (userns >= 0)
		close(userns);
	return rc;
}

void devices_release(const struct spec *spec)
{
	for (int i = 0; i < device_count; i++)
		release_one(spec, NULL, &devices[i], false);
	char dir[NODE_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/devices", spec->runtime_dir);
	rmdir(dir);
}

/* ---- the container's half: targets in the root, attach, detach ------------------------ */

/*
 * Opens `path` (absolute, inside) beneath `root` as an O_PATH target, creating what is missing:
 * parents as directories, the last component as a directory (dir) or an empty file. Every
 * lookup is RESOLVE_IN_ROOT; creation is by name in a parent so resolved, never following a
 * final symlink (a dangling one fails).
 */
static int make_target(int root, const char *path, bool dir, const char *device)
{
	char prefix[PATH_MAX];
	size_t len = strlen(path);
	int parent = open_in_root(root, "/", O_PATH | O_DIRECTORY, 0);
	if (parent < 0)
		return fail("openat2", errno, "device %s: the container's root", device);
	for (size_t start = 0; start < len;) {
		while (path[start] == '/')
			start++;
		if (start >= len)
			break;
		size_t end = start;
		while (end < len && path[end] != '/')
			end++;
		bool last = path[end + strspn(path + end, "/")] == '\0';
		char name[NAME_MAX + 1];
		if (end - start > NAME_MAX) {
			close(parent);
			return fail("openat2", ENAMETOOLONG, "device %s: %s", device, path);
		}
		snprintf(name, sizeof(name), "%.*s", (int)(end - start), path + start);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)end, path);
		int fd = open_in_root(root, prefix, O_PATH | ((last && !dir) ? 0 : O_DIRECTORY), 0);
		if (fd < 0 && errno == ENOENT) {
			int made = (last && !dir) ? openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644)
						  : mkdirat(parent, name, 0755);
			if (made < 0 && errno != EEXIST) {
				int err = errno;
				close(parent);
				return fail(last && !dir ? "openat" : "mkdirat", err, "device %s: %s in the container", device, prefix);
			}
			if (last && !dir && made >= 0)
				close(made);
			fd = open_in_root(root, prefix, O_PATH | ((last && !dir) ? 0 : O_DIRECTORY), 0);
		}
		if (fd < 0) {
			int err = errno;
			close(parent);
			return fail("openat2", err, "device %s: %s in the container", device, prefix);
		}
		close(parent);
		parent = fd;
		start = end;
	}
	if (!dir) {
		struct stat st;
		if (fstat(parent, &st) < 0 || S_ISDIR(st.st_mode)) {
			close(parent);
			return fail("openat2", EISDIR, "device %s: %s in the container is a directory", device, path);
		}
	}
	return parent;
}

static int attach_one(int root, const struct device *d)
{
	int target = make_target(root, d->path, d->is_dir, d->name);
	if (target < 0)
		return -1;
	int rc = sys_move_mount(d->tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
	int err = errno;
	close(target);
	if (rc < 0)
		return fail("move_mount", err, "device %s: %s onto %s", d->name, d->source[0] ? d->source : "node", d->path);
	return 0;
}

int devices_attach(int root)
{
	for (int i = 0; i < device_count; i++)
		if (devices[i].tree >= 0 && attach_one(root, &devices[i]) < 0)
			return -1;
	return 0;
}

/* ---- while it runs ---------------------------------------------------------------------- */

/*
 * Detaches the device's mount in the container (the caller entered its namespaces). The target
 * is resolved in the root as at attach: its parent directory with RESOLVE_IN_ROOT, a symlink
 * the guest planted as the last component followed (in the root) by hand, and the mount then
 * unmounted by name from inside that parent, without following anything more. A unix device's
 * node target, an empty file, is removed.
 */
static int detach_one(const struct device *d)
{
	int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return fail("open", errno, "the container's root");
	char path[PATH_MAX], link[PATH_MAX];
	snprintf(path, sizeof(path), "%s", d->path);
	int parent = -1, rc = -1;
	for (int hops = 0; hops < 40; hops++) {
		size_t len = strlen(path);
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		char *slash = strrchr(path, '/');
		char *base = slash + 1;
		*slash = '\0';
		parent = open_in_root(root, path[0] ? path : "/", O_PATH | O_DIRECTORY, 0);
		*slash = '/';
		if (parent < 0) {
			fail("openat2", errno, "device %s: %s in the container", d->name, d->path);
			goto out;
		}
		ssize_t n = readlinkat(parent, base, link, sizeof(link) - 1);
		if (n < 0)
			break; /* not a symlink: parent/base is the target */
		link[n] = '\0';
		close(parent);
		parent = -1;
		char next[PATH_MAX];
		*slash = '\0';
		int m = link[0] == '/' ? snprintf(next, sizeof(next), "%s", link) : snprintf(next, sizeof(next), "%s/%s", path, link);
		if (m < 0 || (size_t)m >= sizeof(next)) {
			fail("readlink", ENAMETOOLONG, "device %s: %s in the container", d->name, d->path);
			goto out;
		}
		memcpy(path, next, (size_t)m + 1);
	}
	if (parent < 0) {
		fail("readlink", ELOOP, "device %s: %s in the container", d->name, d->path);
		goto out;
	}
	const char *base = strrchr(path, '/') + 1;
	if (fchdir(parent) < 0) {
		fail("fchdir", errno, "device %s: %s in the container", d->name, d->path);
		goto out;
	}
	if (sys_umount2(base, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) {
		fail("umount2", errno, "device %s: %s", d->name, d->path);
		goto out;
	}
	rc = 0;
	struct stat st;
	if (d->kind != KIND_DISK && fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		unlinkat(parent, base, 0);
out:
	if (parent >= 0)
		close(parent);
	close(root);
	return rc;
}

/* Runs the attach or the detach of d in a child that entered the container's user and mount
 * namespaces (the mount namespace alone for a privileged one) as its root; its failure comes
 * back through a pipe. */
static int in_container(const struct spec *spec, int init_pidfd, const struct device *d, bool attach)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return fail("pipe2", errno, "device %s", d->name);
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return fail("fork", errno, "device %s", d->name);
	}
	if (pid == 0) {
		close(pipefd[0]);
		int rc = -1, root = -1;
		bool userns = spec->id_count > 0; /* a privileged container shares the host's */
		if (setns(init_pidfd, CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) < 0)
			fail("setns", errno, "the container's mount namespace");
		else if (userns && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0))
			fail("setresuid", errno, "the container's root");
		else if (!attach)
			rc = detach_one(d);
		else if ((root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			fail("open", errno, "the container's root");
		else
			rc = attach_one(root, d);
		if (rc < 0 && write_all(pipefd[1], &last_failure, sizeof(last_failure)) < 0)
			_exit(2);
		_exit(rc < 0 ? 1 : 0);
	}
	close(pipefd[1]);
	struct failure f;
	ssize_t n;
	do
		n = read(pipefd[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(f)) {
		last_failure = f;
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("waitpid", ECHILD, "device %s: the helper in the container failed", d->name);
	return 0;
}

static int find_device(const char *name)
{
	for (int i = 0; i < device_count; i++)
		if (strcmp(devices[i].name, name) == 0)
			return i;
	return -1;
}

static int hot_add(const struct spec *spec, const struct cgroups *cg, int init_pidfd, const char *json)
{
	if (device_count == MAX_DEVICES)
		return fail("getopt", E2BIG, "more than %d devices", MAX_DEVICES);
	struct device d;
	if (parse_device(json, &d) < 0)
		return -1;
	if (find_device(d.name) >= 0)
		return fail("getopt", EEXIST, "device %s is already there", d.name);
	if (d.shift && spec->id_count == 0)
		return fail("getopt", EINVAL, "device %s: shift needs an unprivileged container", d.name);
	int rc = prepare_one(spec, cg, &d);
	if (rc == 0 && d.shift) {
		char path[64];
		pid_t pid = 0;
		char info[2048];
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", init_pidfd);
		const char *line = read_file(path, info, sizeof(info)) > 0 ? strstr(info, "Pid:") : NULL;
		if (line)
			pid = (pid_t)atoi(line + 4);
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		int userns = pid > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		rc = userns < 0 ? fail("open", errno, "%s", path) : idmap_one(&d, userns);
		if (userns >= 0)
			close(userns);
	}
	if (rc == 0)
		rc = in_container(spec, init_pidfd, &d, true);
	bool keep = rc >= 0; /* attached, or skipped (an optional source that is missing) */
	release_one(spec, cg, &d, !keep || rc > 0);
	if (!keep)
		return -1;
	devices[device_count++] = d;
	char dir[NODE_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/devices", spec->runtime_dir);
	rmdir(dir);
	return 0;
}

static int hot_remove(const struct spec *spec, const struct cgroups *cg, int init_pidfd, const char *json)
{
	char name[64] = "";
	json_get_string(json, "name", name, sizeof(name));
	int i = find_device(name);
	if (i < 0)
		return fail("getopt", ENOENT, "device %s is not there", name);
	struct device *d = &devices[i];
	/* A device whose optional source was missing has nothing mounted: nothing to detach. */
	if (in_container(spec, init_pidfd, d, false) < 0 && !((last_failure.err == EINVAL || last_failure.err == ENOENT) && !d->required))
		return -1;
	release_one(spec, cg, d, true);
	devices[i] = devices[--device_count];
	return 0;
}

int devices_hotplug(const struct spec *spec, const struct cgroups *cg, int init_pidfd, const char *json, bool add)
{
	memset(&last_failure, 0, sizeof(last_failure));
	return add ? hot_add(spec, cg, init_pidfd, json) : hot_remove(spec, cg, init_pidfd, json);
}
