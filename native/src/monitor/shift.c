/*
 * shift.c: see shift.h. The walk holds one directory descriptor per level and nothing else
 * across a descent: a directory's names are read in full and its stream closed before any of
 * them is visited. Every entry is reached with *at() calls on its parent's descriptor, regular
 * files and directories are then changed through their own descriptor, symlinks and special
 * files with AT_SYMLINK_NOFOLLOW, and an entry on another mount (statx mnt_id) is left alone.
 *
 * The marker is <parent of the rootfs>/.berth-shifted.<rootfs name>, root's alone (0600):
 *   "shifting FROM TO COUNT" while a walk runs (a crash leaves it: the next start redoes it),
 *   "shifted BASE COUNT" once the tree is shifted from 0 to BASE.
 *
 * Read: statx(2), openat(2), fchownat(2), chown(2) ("When the owner or group of an executable
 * file is changed ... the S_ISUID and S_ISGID mode bits are cleared"), fchmodat2 (in
 * chmod(2)), capabilities(7) (security.capability v2/v3, rootid), acl(5) and the kernel's
 * include/uapi/linux/posix_acl_xattr.h, getxattr(2), setxattr(2), syncfs(2), getrlimit(2).
 */
#include "shift.h"
#include "util.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

#define MARKER_PREFIX ".berth-shifted."
#define XATTR_CAPS "security.capability"
#define XATTR_ACL_ACCESS "system.posix_acl_access"
#define XATTR_ACL_DEFAULT "system.posix_acl_default"
#define XATTR_VALUE_MAX 65536
#define POSIX_ACL_XATTR_VERSION 0x0002
#define ACL_USER 0x02
#define ACL_GROUP 0x08

const char *const idmap_mode_names[] = { "none", "idmapped", "shifted" };

struct shift {
	uint32_t from, to, count;
	uint64_t mnt_id;
	long long inodes;
	char path[PATH_MAX]; /* of the entry at hand, relative to the tree: for messages */
};

bool idmap_refused(int err)
{
	return err == EINVAL || err == EOPNOTSUPP || err == ENOTSUP || err == EPERM;
}

static const char *where(const struct shift *s)
{
	return s->path[0] ? s->path : "/";
}

static bool map_id(const struct shift *s, uint32_t id, uint32_t *out)
{
	if (id >= s->from && id - s->from < s->count) {
		*out = id - s->from + s->to;
		return true;
	}
	*out = id;
	return false;
}

/* The ids of ACL_USER and ACL_GROUP entries; the others (owner, mask, other) carry none. */
static int shift_acl(int fd, const char *name, struct shift *s)
{
	static unsigned char buf[XATTR_VALUE_MAX];
	ssize_t len = fgetxattr(fd, name, buf, sizeof(buf));
	if (len < 0)
		return errno == ENODATA || errno == EOPNOTSUPP ? 0 : fail("fgetxattr", errno, "%s of %s", name, where(s));
	uint32_t version = 0;
	if (len >= 4)
		memcpy(&version, buf, 4);
	if (len < 4 || (len - 4) % 8 != 0 || le32toh(version) != POSIX_ACL_XATTR_VERSION)
		return fail("fgetxattr", EINVAL, "malformed %s on %s", name, where(s));
	bool changed = false;
	for (ssize_t off = 4; off < len; off += 8) {
		uint16_t tag;
		uint32_t id, mapped;
		memcpy(&tag, buf + off, 2);
		memcpy(&id, buf + off + 4, 4);
		tag = le16toh(tag);
		if ((tag == ACL_USER || tag == ACL_GROUP) && map_id(s, le32toh(id), &mapped)) {
			mapped = htole32(mapped);
			memcpy(buf + off + 4, &mapped, 4);
			changed = true;
		}
	}
	if (changed && fsetxattr(fd, name, buf, (size_t)len, XATTR_REPLACE) < 0)
		return fail("fsetxattr", errno, "%s of %s", name, where(s));
	return 0;
}

/*
 * security.capability as the host reads it: v2 (root id 0, the host's) or v3 with a root id.
 * Written back as v3 with the shifted root id, or as v2 when that is 0 (a shift back).
 */
static int restore_caps(int fd, const struct vfs_ns_cap_data *cap, ssize_t len, bool owner_changed, struct shift *s)
{
	uint32_t magic = le32toh(cap->magic_etc), revision = magic & VFS_CAP_REVISION_MASK;
	uint32_t root = 0, mapped;
	if (revision == VFS_CAP_REVISION_3 && len == XATTR_CAPS_SZ_3)
		root = le32toh(cap->rootid);
	else if (!(revision == VFS_CAP_REVISION_2 && len == XATTR_CAPS_SZ_2) &&
		 !(revision == VFS_CAP_REVISION_1 && len == XATTR_CAPS_SZ_1))
		return fail("fgetxattr", EINVAL, "malformed security.capability on %s", where(s));
	if (!map_id(s, root, &mapped) && !owner_changed)
		return 0;
	struct vfs_ns_cap_data out = { 0 };
	out.data[0] = cap->data[0];
	if (revision != VFS_CAP_REVISION_1)
		out.data[1] = cap->data[1];
	size_t size = XATTR_CAPS_SZ_2;
	uint32_t effective = magic & VFS_CAP_FLAGS_EFFECTIVE;
	if (mapped == 0) {
		out.magic_etc = htole32(VFS_CAP_REVISION_2 | effective);
	} else {
		out.magic_etc = htole32(VFS_CAP_REVISION_3 | effective);
		out.rootid = htole32(mapped);
		size = XATTR_CAPS_SZ_3;
	}
	if (fsetxattr(fd, XATTR_CAPS, &out, size, 0) < 0)
		return fail("fsetxattr", errno, "security.capability of %s", where(s));
	return 0;
}

/* A directory or regular file, through its own descriptor. */
static int shift_open(int fd, const struct statx *st, struct shift *s)
{
	uint32_t uid, gid;
	bool owner_changed = map_id(s, st->stx_uid, &uid) | map_id(s, st->stx_gid, &gid);
	bool regular = S_ISREG(st->stx_mode);
	struct vfs_ns_cap_data cap;
	ssize_t caplen = -1;
	if (regular) {
		caplen = fgetxattr(fd, XATTR_CAPS, &cap, sizeof(cap));
		if (caplen < 0 && errno != ENODATA && errno != EOPNOTSUPP)
			return fail("fgetxattr", errno, "security.capability of %s", where(s));
	}
	if (owner_changed && fchown(fd, uid, gid) < 0)
		return fail("fchown", errno, "%s", where(s));
	if (shift_acl(fd, XATTR_ACL_ACCESS, s) < 0 ||
	    (S_ISDIR(st->stx_mode) && shift_acl(fd, XATTR_ACL_DEFAULT, s) < 0))
		return -1;
	if (caplen > 0 && restore_caps(fd, &cap, caplen, owner_changed, s) < 0)
		return -1;
	/* Last: setting an ACL recomputes the mode, and chown cleared setuid/setgid. */
	if (owner_changed && regular && (st->stx_mode & (S_ISUID | S_ISGID)) && fchmod(fd, st->stx_mode & 07777) < 0)
		return fail("fchmod", errno, "%s", where(s));
	return 0;
}

/* A symlink, device, fifo or socket: changed where it stands, never opened or followed. */
static int shift_in_place(int dirfd, const char *name, const struct statx *st, struct shift *s)
{
	uint32_t uid, gid;
	if (!(map_id(s, st->stx_uid, &uid) | map_id(s, st->stx_gid, &gid)))
		return 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail("fchownat", errno, "%s", where(s));
	if (!S_ISLNK(st->stx_mode) && (st->stx_mode & (S_ISUID | S_ISGID)) &&
	    syscall(SYS_fchmodat2, dirfd, name, st->stx_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0)
		return fail("fchmodat2", errno, "%s", where(s));
	return 0;
}

/* The names in a directory, read in full so that its stream is closed before any descent. */
static char *read_names(int fd, size_t *total, struct shift *s)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = copy >= 0 ? fdopendir(copy) : NULL;
	if (!dir) {
		fail("fdopendir", errno, "%s", where(s));
		if (copy >= 0)
			close(copy);
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *names = malloc(cap);
	struct dirent *e;
	errno = 0;
	while (names && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		size_t n = strlen(e->d_name) + 1;
		if (len + n > cap) {
			char *bigger = realloc(names, cap * 2 + n);
			if (!bigger) {
				free(names);
				names = NULL;
				break;
			}
			names = bigger;
			cap = cap * 2 + n;
		}
		memcpy(names + len, e->d_name, n);
		len += n;
		errno = 0;
	}
	int err = names ? errno : ENOMEM;
	closedir(dir);
	if (err != 0) {
		free(names);
		fail(err == ENOMEM ? "malloc" : "readdir", err, "%s", where(s));
		return NULL;
	}
	*total = len;
	return names;
}

static int shift_dir(int fd, struct shift *s);

static int shift_entry(int dirfd, const char *name, struct shift *s)
{
	struct statx st;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_MNT_ID, &st) < 0)
		return errno == ENOENT ? 0 : fail("statx", errno, "%s", where(s));
	if (st.stx_mnt_id != s->mnt_id)
		return 0; /* another filesystem mounted here */
	s->inodes++;
	if (!S_ISDIR(st.stx_mode) && !S_ISREG(st.stx_mode))
		return shift_in_place(dirfd, name, &st, s);
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (S_ISDIR(st.stx_mode) ? O_DIRECTORY : 0);
	int fd = openat(dirfd, name, flags);
	if (fd < 0)
		return fail("openat", errno, "%s", where(s));
	struct stat now;
	int rc = -1;
	if (fstat(fd, &now) < 0)
		fail("fstat", errno, "%s", where(s));
	else if ((now.st_mode & S_IFMT) != (st.stx_mode & S_IFMT))
		fail("openat", ESTALE, "%s changed type during the shift", where(s));
	else if (shift_open(fd, &st, s) == 0)
		rc = S_ISDIR(st.stx_mode) ? shift_dir(fd, s) : 0;
	close(fd);
	return rc;
}

static int shift_dir(int fd, struct shift *s)
{
	size_t len, base = strlen(s->path);
	char *names = read_names(fd, &len, s);
	if (!names)
		return -1;
	int rc = 0;
	for (size_t off = 0; off < len && rc == 0; off += strlen(names + off) + 1) {
		const char *name = names + off;
		snprintf(s->path + base, sizeof(s->path) - base, "/%s", name); /* truncated when deep: only for messages */
		rc = shift_entry(fd, name, s);
		s->path[base] = '\0';
	}
	free(names);
	return rc;
}

/* The walk from an open directory: the tree's root, which fixes the mount it stays on. */
static long long shift_root(int fd, const char *what, uint32_t from, uint32_t to, uint32_t count)
{
	if ((uint64_t)from + count > (uint64_t)UINT32_MAX + 1 || (uint64_t)to + count > (uint64_t)UINT32_MAX + 1)
		return fail("fchown", EINVAL, "ids %u/%u + %u do not fit in 32 bits", from, to, count);
	if (from != to && (from < to ? to - from < count : from - to < count))
		return fail("fchown", EINVAL, "ids %u-%u cannot be shifted in place to the overlapping %u-%u",
			    from, from + (count - 1), to, to + (count - 1));
	struct shift *s = calloc(1, sizeof(*s));
	if (!s)
		return fail("malloc", ENOMEM, "shift");
	*s = (struct shift){ .from = from, .to = to, .count = count, .inodes = 1 };
	/* One descriptor per level: deep trees need more than the usual soft limit of 1024. */
	struct rlimit saved, raised;
	bool restore = getrlimit(RLIMIT_NOFILE, &saved) == 0;
	if (restore) {
		raised = saved;
		raised.rlim_cur = saved.rlim_max;
		setrlimit(RLIMIT_NOFILE, &raised);
	}
	long long rc = -1;
	struct statx st;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_MNT_ID, &st) < 0)
		fail("statx", errno, "%s", what);
	else {
		s->mnt_id = st.stx_mnt_id;
		if (shift_open(fd, &st, s) == 0 && shift_dir(fd, s) == 0)
			rc = s->inodes;
	}
	if (restore)
		setrlimit(RLIMIT_NOFILE, &saved);
	free(s);
	return rc;
}

long long shift_tree(const char *dir, uint32_t from, uint32_t to, uint32_t count)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail("open", errno, "%s", dir);
	long long rc = shift_root(fd, dir, from, to, count);
	close(fd);
	return rc;
}

/* ---- the marker ----------------------------------------------------------------------- */

enum marker_kind { MARKER_NONE, MARKER_SHIFTED, MARKER_PENDING };

struct marker {
	enum marker_kind kind;
	uint32_t from, to, count;
};

struct place {
	int parent;               /* O_PATH descriptor of the rootfs' parent */
	char rootfs[NAME_MAX + 1]; /* the rootfs' name in it */
	char name[NAME_MAX + 32];  /* the marker's */
	char tmp[NAME_MAX + 40];
};

/* Splits rootfs into its parent directory and its name; false for "/" and the like. */
static bool split_rootfs(const char *rootfs, char *parent, size_t len, char *name)
{
	if (snprintf(parent, len, "%s", rootfs) >= (int)len)
		return false;
	size_t n = strlen(parent);
	while (n > 1 && parent[n - 1] == '/')
		parent[--n] = '\0';
	char *slash = strrchr(parent, '/');
	if (!slash || slash[1] == '\0' || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0 ||
	    strlen(slash + 1) > NAME_MAX)
		return false;
	snprintf(name, NAME_MAX + 1, "%s", slash + 1);
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	return true;
}

static int open_place(const char *rootfs, struct place *p)
{
	char parent[PATH_MAX];
	if (!split_rootfs(rootfs, parent, sizeof(parent), p->rootfs))
		return fail("open", EINVAL, "rootfs %s has no parent directory to record a shift in", rootfs);
	snprintf(p->name, sizeof(p->name), "%s%s", MARKER_PREFIX, p->rootfs);
	snprintf(p->tmp, sizeof(p->tmp), "%s.tmp", p->name);
	p->parent = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (p->parent < 0)
		return fail("open", errno, "%s", parent);
	return 0;
}

static int read_marker(const struct place *p, struct marker *mk)
{
	memset(mk, 0, sizeof(*mk));
	int fd = openat(p->parent, p->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : fail("openat", errno, "%s", p->name);
	char buf[128], kind[16];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return fail("read", err, "%s", p->name);
	buf[n] = '\0';
	if (sscanf(buf, "%15s", kind) == 1 && strcmp(kind, "shifted") == 0 &&
	    sscanf(buf, "%*s %u %u", &mk->to, &mk->count) == 2)
		mk->kind = MARKER_SHIFTED;
	else if (sscanf(buf, "%15s", kind) == 1 && strcmp(kind, "shifting") == 0 &&
		 sscanf(buf, "%*s %u %u %u", &mk->from, &mk->to, &mk->count) == 3)
		mk->kind = MARKER_PENDING;
	else
		return fail("read", EUCLEAN, "%s: not a shift marker", p->name);
	return 0;
}

/* Replaces the marker atomically; MARKER_NONE removes it. */
static int write_marker(const struct place *p, const struct marker *mk)
{
	if (mk->kind == MARKER_NONE) {
		if (unlinkat(p->parent, p->name, 0) < 0 && errno != ENOENT)
			return fail("unlinkat", errno, "%s", p->name);
		return 0;
	}
	char buf[128];
	if (mk->kind == MARKER_SHIFTED)
		snprintf(buf, sizeof(buf), "shifted %u %u\n", mk->to, mk->count);
	else
		snprintf(buf, sizeof(buf), "shifting %u %u %u\n", mk->from, mk->to, mk->count);
	int fd = openat(p->parent, p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail("openat", errno, "%s", p->tmp);
	int rc = write_all(fd, buf, strlen(buf)) == 0 && fsync(fd) == 0 ? 0 : fail("write", errno, "%s", p->tmp);
	close(fd);
	if (rc == 0 && renameat(p->parent, p->tmp, p->parent, p->name) < 0)
		rc = fail("renameat", errno, "%s", p->name);
	return rc;
}

/* One recorded walk: "shifting" first, the tree synced, then what it leads to. */
static int run_shift(const struct place *p, uint32_t from, uint32_t to, uint32_t count)
{
	struct marker pending = { MARKER_PENDING, from, to, count };
	struct marker done = { to == 0 ? MARKER_NONE : MARKER_SHIFTED, 0, to, count };
	if (write_marker(p, &pending) < 0)
		return -1;
	int root = openat(p->parent, p->rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return fail("openat", errno, "rootfs %s", p->rootfs);
	int rc = shift_root(root, p->rootfs, from, to, count) < 0 ? -1 : 0;
	if (rc == 0 && syncfs(root) < 0)
		rc = fail("syncfs", errno, "rootfs %s", p->rootfs);
	close(root);
	return rc == 0 ? write_marker(p, &done) : -1;
}

int shift_prepare(const char *rootfs, uint32_t base, uint32_t count, bool *shifted)
{
	struct place p;
	struct marker mk;
	char parent[PATH_MAX], name[NAME_MAX + 1];
	*shifted = false;
	if (!split_rootfs(rootfs, parent, sizeof(parent), name))
		return 0; /* nowhere to record a shift: none was ever made */
	if (open_place(rootfs, &p) < 0)
		return -1;
	int rc = read_marker(&p, &mk);
	if (rc == 0 && mk.kind == MARKER_PENDING) {
		rc = run_shift(&p, mk.from, mk.to, mk.count);
		mk = (struct marker){ mk.to == 0 ? MARKER_NONE : MARKER_SHIFTED, 0, mk.to, mk.count };
	}
	if (rc == 0 && mk.kind == MARKER_SHIFTED) {
		if (count > 0 && mk.to == base && mk.count == count)
			*shifted = true;
		else
			rc = run_shift(&p, mk.to, 0, mk.count);
	}
	close(p.parent);
	return rc;
}

int shift_apply(const char *rootfs, uint32_t base, uint32_t count)
{
	struct place p;
	if (open_place(rootfs, &p) < 0)
		return -1;
	int rc = run_shift(&p, 0, base, count);
	close(p.parent);
	return rc;
}
