/*
 * create.h: creates one validated entry beneath the extraction root, by file descriptor only.
 * Read: openat2(2), path_resolution(7), mkdirat(2), symlinkat(2), linkat(2), mknodat(2),
 * fchown(2), fchmod(2), utimensat(2), fsetxattr(2), capabilities(7) (file capabilities, v3).
 */
#ifndef BERTH_UNPACK_CREATE_H
#define BERTH_UNPACK_CREATE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdint.h>

#include "records.h"

struct unpack_options {
	/* Host id = archive id + shift (the container's id mapping); archive ids must be < id_range. */
	uint32_t uid_shift;
	uint32_t gid_shift;
	uint64_t id_range;
	/* Device nodes and FIFOs are created only for privileged targets; dropped otherwise. */
	bool privileged;
};

struct unpack_stats {
	uint64_t entries;
	uint64_t bytes;
	uint64_t dropped;
};

/* Opens the root as an O_PATH directory after creating it 0700; it must not exist. */
int create_root(const char *target);
/* Creates rec (and consumes its data) under root_fd; exits on any failure or rejection. */
void create_entry(int root_fd, const struct unpack_options *opts, struct reader *r, const struct record *rec,
		  struct unpack_stats *stats);

#endif
