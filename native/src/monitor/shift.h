/*
 * shift.h: the fallback for filesystems that refuse an idmapped mount (an overlayfs mount itself,
 * some FUSE and network filesystems): the ownership of the rootfs is shifted on disk instead,
 * once, and recorded in a marker beside the rootfs so that it is never applied twice.
 * Read: chown(2) (what it clears), capabilities(7) ("File capability extended attribute
 * versioning", namespaced file capabilities), acl(5), xattr(7), statx(2) (STATX_MNT_ID).
 */
#ifndef BERTH_SHIFT_H
#define BERTH_SHIFT_H

#include <stdbool.h>
#include <stdint.h>

/* How the container sees its rootfs' ownership. */
enum idmap_mode { IDMAP_NONE, IDMAP_IDMAPPED, IDMAP_SHIFTED };
extern const char *const idmap_mode_names[];

/*
 * Shifts the tree at dir in place: every inode whose uid or gid is in [from, from + count) gets
 * it moved by to - from (ids outside stay), as do the ids in its POSIX ACLs and the root id of
 * its file capabilities; setuid/setgid bits and capabilities, which chown(2) clears, are put
 * back. The walk goes by descriptor, never follows a symlink and stays on dir's mount. The two
 * ranges must not overlap, which makes a shift idempotent (an interrupted one can be redone).
 * Returns the number of inodes visited, or -1 with last_failure set.
 */
long long shift_tree(const char *dir, uint32_t from, uint32_t to, uint32_t count);

/*
 * Before a start: finishes a shift a crash interrupted, and shifts a tree recorded as shifted
 * for another map (or for a privileged start: count 0) back to its own ids. *shifted tells
 * whether the tree on disk already is shifted to base/count, to be used without an idmapped mount.
 */
int shift_prepare(const char *rootfs, uint32_t base, uint32_t count, bool *shifted);

/* After the filesystem refused MOUNT_ATTR_IDMAP: shifts the tree from 0 to base and records it. */
int shift_apply(const char *rootfs, uint32_t base, uint32_t count);

/* True for the errors by which mount_setattr(2) says the filesystem cannot be idmapped. */
bool idmap_refused(int err);

#endif
