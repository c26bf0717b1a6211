/*
 * container.h: the container's spec and the creation of its init: clone3 into new namespaces,
 * id maps, the idmapped rootfs, the API filesystems, pivot_root and the exec of systemd.
 * Read: clone(2) (clone3), user_namespaces(7), pid_namespaces(7), mount_namespaces(7),
 * pivot_root(2), mount_setattr(2), systemd's docs/CONTAINER_INTERFACE.md.
 */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include "cgroup.h"
#include "shift.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

struct spec {
	char name[64];
	char hostname[64];
	char uuid[40];
	char berth_dir[PATH_MAX];
	char runtime_dir[PATH_MAX]; /* <berth_dir>/containers/<name> */
	char rootfs[PATH_MAX];
	char lxcfs[PATH_MAX]; /* a running lxcfs' mount point, bound over /proc files; "" for none */
	char devlxd[PATH_MAX]; /* the host directory of the guest API's socket, bound at /dev/lxd; "" for none */
	uid_t id_base;      /* host id of the container's root */
	unsigned id_count;  /* 0: privileged, no user namespace */
};

struct init_process {
	pid_t pid;     /* as the host sees it */
	int pidfd;
	int notify_fd; /* the NOTIFY_SOCKET the container's systemd writes to, bound inside */
	enum idmap_mode idmap; /* how the rootfs carries the container's ids */
};

/* Names Berth accepts: 1-63 of [A-Za-z0-9-], no '-' at either end (a hostname label). */
bool valid_name(const char *name);

/* Creates and starts the container's init. `console` is the pty slave that becomes
 * /dev/console and the init's stdio. The rootfs is idmapped; where its filesystem refuses
 * that, its ownership is shifted on disk instead (shift.h). On failure the child is gone and
 * last_failure says why. */
int container_spawn(const struct spec *spec, const struct cgroups *cg, int console, struct init_process *out);

/* Drops from the bounding set the capabilities that only act on the host (sys_module,
 * sys_rawio, sys_time, mac_*, audit_control/read): shared by init and exec'd processes. */
int drop_host_capabilities(void);

/* The seccomp deny list shared by init and exec'd processes (LXC's spirit, not Docker's). */
int install_seccomp(void);

#endif
