/*
 * cgroup.h: the container's cgroups on pure cgroup v2 and on v1/hybrid hosts (detected at run
 * time): creation under a fresh unique name, device access limits, placement, delegation to the
 * container's root, killing and depth-first removal; and the monitor's own cgroup.
 * Read: cgroups(7), cgroup_namespaces(7), the kernel's Documentation/admin-guide/cgroup-v2.rst
 * ("Delegation"), systemd's docs/CGROUP_DELEGATION.md.
 */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#define CGROUP_MAX_HIERARCHIES 16

struct hierarchy {
	char mount[256];      /* where it is mounted, e.g. /sys/fs/cgroup/memory */
	char controllers[96]; /* as /proc/self/cgroup names it: "memory", "name=systemd"; "" for v2 */
	bool unified;         /* the cgroup2 hierarchy */
};

struct cgroups {
	struct hierarchy h[CGROUP_MAX_HIERARCHIES];
	int count;
	bool pure_v2;  /* only the cgroup2 hierarchy is used */
	char rel[160]; /* the container's cgroup, relative to each hierarchy's root: berth/<name>-<hex> */
};

/* The payload (where init lives and what is delegated) is a child of the root-owned rel. */
#define CGROUP_PAYLOAD "payload"
/* Where the monitors' own cgroups are: beside the containers', never inside a delegated tree. */
#define CGROUP_MONITORS "berth/monitor"

/* Finds the hierarchies this process is in. unified_only keeps the cgroup2 one alone (what a
 * pure v2 host offers), which on a hybrid host leaves the v1 controllers out. */
int cgroups_detect(struct cgroups *cg, bool unified_only);
/* Whether h is the v1 hierarchy of `controller` (a token of its list, e.g. "cpu" of "cpu,cpuacct"). */
bool cgroup_has_controller(const struct hierarchy *h, const char *controller);
/* Creates berth/<name>-<random> (never an existing one) and its payload in every hierarchy;
 * device access is limited there (devices.allow on v1; on a pure v2 layout, a BPF program). */
int cgroups_create(struct cgroups *cg, const char *name);
/* The calling monitor's own cgroup: berth/monitor/<name>-<random> in each hierarchy of cg,
 * which it moves into, so that its resource use is accounted apart from berthd's and the
 * container's. */
int cgroups_create_monitor(struct cgroups *mon, const struct cgroups *cg, const char *name);
/* Moves the calling process to each hierarchy's root cgroup, then removes mon. */
void cgroups_leave(struct cgroups *mon);
/* Attaches (BPF_F_ALLOW_MULTI) the device program allowing what the v1 list allows to the
 * cgroup2 directory cgroup_fd; it stays attached until the cgroup is removed. */
int cgroup_attach_device_filter(int cgroup_fd, const char *what);
/* Allows (or denies again) all access to one device node, c or b major:minor, beyond the
 * standard list, in the live cgroup and in every cgroup created later by this process (a
 * reboot). A device of the standard list is never denied. */
int cgroups_allow_device(const struct cgroups *cg, char type, unsigned major, unsigned minor, bool allow);
/* Puts pid into the payload cgroup of every hierarchy. */
int cgroups_attach(const struct cgroups *cg, pid_t pid);
/* Hands the payload to the container's root: cgroup2 (the files in /sys/kernel/cgroup/delegate)
 * and the name=systemd v1 hierarchy. Controllers' limit files stay root-owned. */
int cgroups_delegate(const struct cgroups *cg, uid_t uid, gid_t gid);
/* Kills every process in the container's cgroup (cgroup.kill, else SIGKILL per pid). */
void cgroups_kill(const struct cgroups *cg);
/* Removes the container's cgroup depth-first in every hierarchy; waits for dying tasks. */
int cgroups_remove(const struct cgroups *cg);
/* Moves the calling process into the cgroups `target` is in (exec into a container). */
int cgroups_join_process(const struct cgroups *cg, pid_t target);

#endif
