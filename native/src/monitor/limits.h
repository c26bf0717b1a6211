/*
 * limits.h: the container's resource limits as cgroup file writes (`--limit
 * controller:file=value`), made in the container's fresh cgroup before its init exists, and
 * carried over, with the values they have then, to the new cgroup of a reboot from inside.
 * Read: cgroups(7), the kernel's Documentation/admin-guide/cgroup-v1/{memory,cpusets,pids}.rst
 * and cgroup-v2.rst ("Resource distribution models", "Controllers").
 */
#ifndef BERTH_LIMITS_H
#define BERTH_LIMITS_H

#include "cgroup.h"

#define LIMITS_MAX 32

struct cgroup_limit {
	char controller[16]; /* memory, cpu, cpuset, pids, blkio, io: selects the v1 hierarchy */
	char file[64];	     /* <controller>.<name>, in the container's cgroup */
	char value[256];
};

struct limits {
	struct cgroup_limit l[LIMITS_MAX];
	int count;
};

/* The write that failed, set with last_failure by limits_apply. */
extern struct cgroup_limit last_limit_failure;

/* Appends `controller:file=value` (checked: a known controller, a file of that controller,
 * a value of printable characters) to limits. */
int limits_add(struct limits *limits, const char *arg);

/* Writes every limit in order into the cgroup cg (created, no task yet). On v1 a cpuset file
 * goes to the payload child first, since the kernel refuses a parent a cpuset narrower than a
 * child's. A value that the kernel refuses is tried again as `fallback` has it (the same file,
 * when it differs); the first refusal left fails the whole: last_failure and last_limit_failure
 * say which. */
int limits_apply(const struct cgroups *cg, const struct limits *limits, const struct limits *fallback);

/* The values the files of `wanted` have now in cg; a file that cannot be read keeps its
 * value from `wanted`. */
void limits_read(const struct cgroups *cg, const struct limits *wanted, struct limits *out);

/* Adds last_limit_failure, when set, to a failure's JSON (`"limit":{...}` before the end). */
void limits_failure_json(char *json, size_t len);

#endif
