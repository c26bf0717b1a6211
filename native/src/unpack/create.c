/*
 * create.c: every filesystem write of an extraction. Each entry is created relative to the root
 * directory fd: the parent is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV), so a symlink anywhere on the way is refused rather than
 * followed, and the final component is created with O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat,
 * linkat(AT_EMPTY_PATH) or mknodat, none of which follows or replaces what is already there.
 * Never a path joined from strings, never a prefix check.
 * Ordering per regular file matters: data, then fchown (which clears setuid bits and file
 * capabilities), then fchmod, then fsetxattr, then futimens.
 * Read: openat2(2), path_resolution(7), open(2) (O_EXCL, O_NOFOLLOW, O_PATH), mkdirat(2),
 * symlinkat(2), linkat(2) (AT_EMPTY_PATH), mknodat(2), fchown(2), fchmod(2), utimensat(2),
 * fsetxattr(2), xattr(7), capabilities(7) ("File capability extended attribute versioning").
 */
#include "create.h"

#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RESOLVE_CONFINED (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV)

/* glibc 2.36 has no openat2() wrapper. EAGAIN means a concurrent rename raced the lookup: retry. */
static int openat2_confined(int dirfd, const char *path, uint64_t flags)
{
	struct open_how how = { .flags = flags | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_CONFINED };
	for (int attempt = 0; attempt < 64; attempt++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

/* The errors that mean "the archive asked for something the tree does not allow". */
static bool is_refusal(int err)
{
	return err == ELOOP || err == EXDEV || err == ENOTDIR || err == ENOENT || err == EEXIST || err == EISDIR;
}

static _Noreturn void refuse_or_fail(const char *syscall, int err, const char *path, const char *what)
{
	if (is_refusal(err))
		reject_entry(path, "%s (%s: %s)", what, syscall, strerrorname_np(err));
	fail_syscall(syscall, err, path);
}

int create_root(const char *target)
{
	if (mkdir(target, 0700) < 0)
		fail_syscall("mkdir", errno, target);
	int fd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail_syscall("open", errno, target);
	return fd;
}

struct parent {
	int fd;
	const char *base;
};

static struct parent open_parent(int root_fd, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return (struct parent){ .fd = root_fd, .base = path };

	char dir[PATH_MAX];
	size_t len = (size_t)(slash - path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	int fd = openat2_confined(root_fd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		refuse_or_fail("openat2", errno, path, "parent is missing, not a directory, or reached through a symlink");
	return (struct parent){ .fd = fd, .base = slash + 1 };
}

static void close_parent(int root_fd, struct parent *p)
{
	if (p->fd != root_fd)
		close(p->fd);
}

static uint32_t host_id(uint32_t id, uint32_t shift, const struct unpack_options *opts, const char *path,
			const char *kind)
{
	uint64_t host = (uint64_t)id + shift;
	if ((uint64_t)id >= opts->id_range || host >= UINT32_MAX)
		reject_entry(path, "%s %u is outside the id range of the target", kind, id);
	return (uint32_t)host;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * Rewrites security.capability for the target's id mapping. A v2 capability is honoured in every
 * user namespace, so under a shift it becomes v3 with rootid = the container's root: the
 * capabilities then apply only inside that container, never to a host user who reaches the
 * file. A v3 rootid is container-relative in the archive and is shifted like an owner.
 */
static size_t map_file_capability(const struct unpack_options *opts, const struct record *rec,
				  const struct record_xattr *x, unsigned char out[XATTR_CAPS_SZ_3])
{
	if (x->value_len < 4)
		reject_entry(rec->path, "security.capability is too short");
	uint32_t magic = le32(x->value);
	uint32_t revision = magic & VFS_CAP_REVISION_MASK;
	size_t expected = revision == VFS_CAP_REVISION_1 ? XATTR_CAPS_SZ_1
			  : revision == VFS_CAP_REVISION_2 ? XATTR_CAPS_SZ_2
			  : revision == VFS_CAP_REVISION_3 ? XATTR_CAPS_SZ_3
							   : 0;
	if (expected == 0 || x->value_len != expected || (magic & ~(VFS_CAP_REVISION_MASK | VFS_CAP_FLAGS_EFFECTIVE)) != 0)
		reject_entry(rec->path, "security.capability has an unknown revision or size");

	if (opts->uid_shift == 0 && revision != VFS_CAP_REVISION_3) {
		memcpy(out, x->value, x->value_len);
		return x->value_len;
	}
	uint32_t archive_rootid = revision == VFS_CAP_REVISION_3 ? le32(x->value + 20) : 0;
	memset(out, 0, XATTR_CAPS_SZ_3);
	put_le32(out, VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE));
	memcpy(out + 4, x->value + 4, 8);
	if (revision != VFS_CAP_REVISION_1)
		memcpy(out + 12, x->value + 12, 8);
	put_le32(out + 20, host_id(archive_rootid, opts->uid_shift, opts, rec->path, "capability rootid"));
	return XATTR_CAPS_SZ_3;
}

/* Allow-list: file capabilities and user.*; anything else (trusted.*, security.selinux, ACLs) is dropped. */
static void apply_xattrs(int fd, const struct unpack_options *opts, const struct record *rec)
{
	for (unsigned i = 0; i < rec->xattr_count; i++) {
		const struct record_xattr *x = &rec->xattrs[i];
		if (strcmp(x->name, "security.capability") == 0) {
			unsigned char value[XATTR_CAPS_SZ_3];
			size_t len = map_file_capability(opts, rec, x, value);
			if (fsetxattr(fd, x->name, value, len, 0) < 0)
				fail_syscall("fsetxattr", errno, rec->path);
		} else if (strncmp(x->name, "user.", 5) == 0) {
			if (fsetxattr(fd, x->name, x->value, x->value_len, 0) < 0) {
				if (errno != ENOTSUP)
					fail_syscall("fsetxattr", errno, rec->path);
				report_warning(rec->path, "dropped xattr %s: the filesystem does not support it", x->name);
			}
		} else {
			report_warning(rec->path, "dropped xattr %s: not in the allow-list", x->name);
		}
	}
}

static void timestamps(const struct record *rec, struct timespec ts[2])
{
	ts[0].tv_sec = rec->mtime_sec;
	ts[0].tv_nsec = rec->mtime_nsec;
	ts[1] = ts[0];
}

static void create_file(struct parent *p, const struct unpack_options *opts, struct reader *r, const struct record *rec,
			struct unpack_stats *stats)
{
	uid_t uid = host_id(rec->uid, opts->uid_shift, opts, rec->path, "uid");
	gid_t gid = host_id(rec->gid, opts->gid_shift, opts, rec->path, "gid");
	struct timespec ts[2];

	int fd = openat(p->fd, p->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		refuse_or_fail("openat", errno, rec->path, "cannot create the file");
	reader_copy_to_fd(r, fd, rec->data_len, rec->path);
	stats->bytes += rec->data_len;
	if (fchown(fd, uid, gid) < 0)
		fail_syscall("fchown", errno, rec->path);
	if (fchmod(fd, rec->mode) < 0)
		fail_syscall("fchmod", errno, rec->path);
	apply_xattrs(fd, opts, rec);
	timestamps(rec, ts);
	if (futimens(fd, ts) < 0)
		fail_syscall("futimens", errno, rec->path);
	if (close(fd) < 0)
		fail_syscall("close", errno, rec->path);
}

static void create_directory(struct parent *p, const struct unpack_options *opts, const struct record *rec)
{
	uid_t uid = host_id(rec->uid, opts->uid_shift, opts, rec->path, "uid");
	gid_t gid = host_id(rec->gid, opts->gid_shift, opts, rec->path, "gid");

	if (mkdirat(p->fd, p->base, 0700) < 0 && !(errno == EEXIST && (rec->flags & RECORD_FLAG_DIRECTORY_MAY_EXIST)))
		refuse_or_fail("mkdirat", errno, rec->path, "cannot create the directory");
	int fd = openat(p->fd, p->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		refuse_or_fail("openat", errno, rec->path, "the directory was replaced");
	if (fchown(fd, uid, gid) < 0)
		fail_syscall("fchown", errno, rec->path);
	if (fchmod(fd, rec->mode) < 0)
		fail_syscall("fchmod", errno, rec->path);
	apply_xattrs(fd, opts, rec);
	close(fd);
}

static void warn_dropped_xattrs(const struct record *rec)
{
	for (unsigned i = 0; i < rec->xattr_count; i++)
		report_warning(rec->path, "dropped xattr %s: only files and directories carry xattrs", rec->xattrs[i].name);
}

static void create_symlink(struct parent *p, const struct unpack_options *opts, const struct record *rec)
{
	uid_t uid = host_id(rec->uid, opts->uid_shift, opts, rec->path, "uid");
	gid_t gid = host_id(rec->gid, opts->gid_shift, opts, rec->path, "gid");
	struct timespec ts[2];

	if (symlinkat(rec->link, p->fd, p->base) < 0)
		refuse_or_fail("symlinkat", errno, rec->path, "cannot create the symlink");
	if (fchownat(p->fd, p->base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		fail_syscall("fchownat", errno, rec->path);
	timestamps(rec, ts);
	if (utimensat(p->fd, p->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		fail_syscall("utimensat", errno, rec->path);
	warn_dropped_xattrs(rec);
}

/*
 * The target is opened (confined, O_PATH|O_NOFOLLOW) and checked to be a regular file, then that
 * very inode is linked with AT_EMPTY_PATH: no second lookup that could resolve differently.
 */
static void create_hardlink(int root_fd, struct parent *p, const struct record *rec)
{
	struct stat st;
	int target = openat2_confined(root_fd, rec->link, O_PATH | O_NOFOLLOW);
	if (target < 0)
		refuse_or_fail("openat2", errno, rec->path, "hardlink target is missing or reached through a symlink");
	if (fstat(target, &st) < 0)
		fail_syscall("fstat", errno, rec->path);
	if (!S_ISREG(st.st_mode))
		reject_entry(rec->path, "hardlink target %s is not a regular file", rec->link);
	if (linkat(target, "", p->fd, p->base, AT_EMPTY_PATH) < 0)
		refuse_or_fail("linkat", errno, rec->path, "cannot create the hardlink");
	close(target);
}

static void create_special(struct parent *p, const struct unpack_options *opts, const struct record *rec,
			   struct unpack_stats *stats)
{
	const char *kind = rec->type == RECORD_FIFO ? "FIFO" : "device node";
	if (!opts->privileged) {
		report_warning(rec->path, "dropped %s: the target is not privileged", kind);
		stats->dropped++;
		return;
	}
	uid_t uid = host_id(rec->uid, opts->uid_shift, opts, rec->path, "uid");
	gid_t gid = host_id(rec->gid, opts->gid_shift, opts, rec->path, "gid");
	mode_t type = rec->type == RECORD_CHAR_DEVICE ? S_IFCHR : rec->type == RECORD_BLOCK_DEVICE ? S_IFBLK : S_IFIFO;
	dev_t dev = rec->type == RECORD_FIFO ? 0 : makedev(rec->dev_major, rec->dev_minor);
	struct timespec ts[2];

	/* No setuid, setgid or sticky bit on a node: they mean nothing there but surprise. */
	if (mknodat(p->fd, p->base, type | (rec->mode & 0777), dev) < 0)
		refuse_or_fail("mknodat", errno, rec->path, "cannot create the node");
	if (fchownat(p->fd, p->base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		fail_syscall("fchownat", errno, rec->path);
	timestamps(rec, ts);
	if (utimensat(p->fd, p->base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		fail_syscall("utimensat", errno, rec->path);
	warn_dropped_xattrs(rec);
}

static void set_directory_times(int root_fd, const struct record *rec)
{
	struct timespec ts[2];
	int fd = openat2_confined(root_fd, rec->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		refuse_or_fail("openat2", errno, rec->path, "directory is missing or was replaced");
	timestamps(rec, ts);
	if (futimens(fd, ts) < 0)
		fail_syscall("futimens", errno, rec->path);
	close(fd);
}

void create_entry(int root_fd, const struct unpack_options *opts, struct reader *r, const struct record *rec,
		  struct unpack_stats *stats)
{
	if (rec->type == RECORD_DIRECTORY_TIMES) {
		set_directory_times(root_fd, rec);
		return;
	}

	struct parent p = open_parent(root_fd, rec->path);
	switch (rec->type) {
	case RECORD_FILE:
		create_file(&p, opts, r, rec, stats);
		break;
	case RECORD_DIRECTORY:
		create_directory(&p, opts, rec);
		break;
	case RECORD_SYMLINK:
		create_symlink(&p, opts, rec);
		break;
	case RECORD_HARDLINK:
		create_hardlink(root_fd, &p, rec);
		break;
	default:
		create_special(&p, opts, rec, stats);
		break;
	}
	close_parent(root_fd, &p);
	stats->entries++;
}
