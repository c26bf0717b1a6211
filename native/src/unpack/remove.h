/*
 * remove.h: deletes a tree that an extraction wrote, without ever following a symlink in it.
 * Read: unlinkat(2), openat(2) (O_NOFOLLOW, O_DIRECTORY), fdopendir(3), readdir(3).
 */
#ifndef BERTH_UNPACK_REMOVE_H
#define BERTH_UNPACK_REMOVE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

/* Removes target and everything beneath it; a missing target is success. Exits on failure. */
void remove_tree(const char *target);

#endif
