/*
 * devices.h: the container's disk, unix-char and unix-block devices (LXD's names): host paths
 * and device nodes bound into the container, at start (before init runs) and while it runs.
 * Read: open_tree(2), move_mount(2), mount_setattr(2), openat2(2), setns(2), mknod(2).
 */
#ifndef BERTH_DEVICES_H
#define BERTH_DEVICES_H

#include "cgroup.h"
#include "container.h"

#include <stdbool.h>
#include <sys/types.h>

/* Adds a device from its flat JSON description (--device at start). */
int devices_add_arg(const char *json);

/* Monitor, before the clone: makes the unix nodes (under <runtime_dir>/devices), allows them in
 * the cgroup and opens a detached clone of each source, which the child inherits. A missing
 * source of a device with required=false is skipped; of another, the start fails naming it. */
int devices_prepare(const struct spec *spec, const struct cgroups *cg);
/* Monitor, once the child's user namespace exists: idmaps the clones of shift=true disks. */
int devices_idmap(const struct spec *spec, pid_t pid);
/* Child, before pivot_root: attaches each clone at its path, created in the root if missing. */
int devices_attach(int root);
/* Monitor, after the spawn (done or failed): closes the clones, removes the host nodes. */
void devices_release(const struct spec *spec);

/* The `device-add` / `device-remove` control requests on the running container (init's pidfd):
 * the work is done by a forked child in the container's user and mount namespaces. Answers
 * 0, or -1 with last_failure set and nothing changed. */
int devices_hotplug(const struct spec *spec, const struct cgroups *cg, int init_pidfd, const char *json, bool add);

#endif
