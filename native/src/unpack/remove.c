/*
 * remove.c: `berth-unpack --remove DIR`, the only way Berth deletes an extracted tree. Every
 * directory is entered through openat(O_DIRECTORY|O_NOFOLLOW) on its parent's fd, and every
 * other entry (symlinks included) is unlinked where it stands, so a symlink planted in the tree,
 * even one swapped in during the walk, is removed itself and never leads outside.
 * Read: unlinkat(2), openat(2), fdopendir(3), readdir(3), rewinddir(3).
 */
#include "remove.h"

#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

static void remove_children(int dir_fd, const char *where);

/* Removes name in dir_fd: unlink first; only a real directory (EISDIR) is descended into. */
static void remove_entry(int dir_fd, const char *name, const char *where)
{
	if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
		return;
	if (errno != EISDIR)
		fail_syscall("unlinkat", errno, where);

	int child = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (child < 0) {
		if (errno == ENOENT)
			return;
		fail_syscall("openat", errno, where);
	}
	remove_children(child, where);
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		fail_syscall("unlinkat", errno, where);
}

/* Takes ownership of dir_fd. Passes repeat until empty: readdir may skip entries while we delete. */
static void remove_children(int dir_fd, const char *where)
{
	DIR *dir = fdopendir(dir_fd);
	if (dir == NULL)
		fail_syscall("fdopendir", errno, where);
	for (;;) {
		bool removed_any = false;
		struct dirent *d;
		errno = 0;
		while ((d = readdir(dir)) != NULL) {
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			remove_entry(dirfd(dir), d->d_name, where);
			removed_any = true;
			errno = 0;
		}
		if (errno != 0)
			fail_syscall("readdir", errno, where);
		if (!removed_any)
			break;
		rewinddir(dir);
	}
	closedir(dir);
}

void remove_tree(const char *target)
{
	int fd = open(target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		/* The target itself is a symlink or a file: remove that, never what it points to. */
		if ((errno == ELOOP || errno == ENOTDIR) && unlink(target) == 0)
			return;
		fail_syscall("open", errno, target);
	}
	remove_children(fd, target);
	if (rmdir(target) < 0 && errno != ENOENT)
		fail_syscall("rmdir", errno, target);
}
