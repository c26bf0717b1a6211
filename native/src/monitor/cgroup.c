/*
 * cgroup.c: see cgroup.h. Every hierarchy mounted on the host gets the same relative path, so
 * limits can be written per controller on v1 and /proc/<pid>/cgroup matches what systemd inside
 * sees through its cgroup namespace. Paths are built only from the hierarchy mount points and
 * names generated here; directories the container created are walked by descriptor.
 * Read: cgroups(7), proc(5) (/proc/pid/cgroup, /proc/pid/mountinfo), getrandom(2), unlinkat(2).
 */
#include "cgroup.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool has_token(const char *list, const char *token)
{
	size_t len = strlen(token);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && strncmp(p, token, len) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* True when every controller of `controllers` ("cpu,cpuacct") is in the mount's super options. */
static bool matches(const char *superopts, const char *controllers)
{
	char copy[96];
	snprintf(copy, sizeof(copy), "%s", controllers);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!has_token(superopts, t))
			return false;
	return true;
}

static int find_mount(const char *controllers, bool unified, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return fail("open", errno, "/proc/self/mountinfo");
	char line[4096];
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char root[256], mnt[256], fstype[32], source[64], superopts[512];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %255s %255s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%31s %63s %511s", fstype, source, superopts) != 3)
			continue;
		if (strcmp(root, "/") != 0)
			continue;
		if (unified ? strcmp(fstype, "cgroup2") == 0
			    : strcmp(fstype, "cgroup") == 0 && matches(superopts, controllers)) {
			snprintf(out, len, "%s", mnt);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

int cgroups_detect(struct cgroups *cg, bool unified_only)
{
	memset(cg, 0, sizeof(*cg));
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return fail("open", errno, "/proc/self/cgroup");
	char line[1024];
	while (fgets(line, sizeof(line), f) && cg->count < CGROUP_MAX_HIERARCHIES) {
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*a = *b = '\0';
		struct hierarchy *h = &cg->h[cg->count];
		snprintf(h->controllers, sizeof(h->controllers), "%s", a + 1);
		h->unified = strcmp(line, "0") == 0 && h->controllers[0] == '\0';
		if ((!h->unified && h->controllers[0] == '\0') || (unified_only && !h->unified))
			continue;
		if (find_mount(h->controllers, h->unified, h->mount, sizeof(h->mount)) == 0)
			cg->count++;
	}
	fclose(f);
	if (cg->count == 0)
		return fail("open", ENOENT, "no cgroup hierarchy is mounted");
	cg->pure_v2 = cg->count == 1 && cg->h[0].unified;
	return 0;
}

static int open_dir(const char *path)
{
	return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* v1 cpuset starts empty: a task can only join once cpus and mems are set (copied from the parent). */
static void cpuset_inherit(const char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	for (size_t i = 0; i < 2; i++) {
		char path[512], parent[512], value[4096], current[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		snprintf(parent, sizeof(parent), "%s/../%s", dir, files[i]);
		if (read_file(path, current, sizeof(current)) > 1)
			continue;
		if (read_file(parent, value, sizeof(value)) > 0)
			write_file(path, value);
	}
}

/* Enables for the children of dir, one by one, every controller dir has; what fails stays
 * off. The host's root cgroup is left as the host's init configured it. */
static void enable_controllers(const char *dir)
{
	char path[512], list[512];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (read_file(path, list, sizeof(list)) <= 0)
		return;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	char *save = NULL;
	for (char *c = strtok_r(list, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
		char op[64];
		snprintf(op, sizeof(op), "+%s", c);
		write_file(path, op);
	}
}

static int mkdir_one(const struct hierarchy *h, const char *rel, bool exclusive)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", h->mount, rel);
	if (mkdir(path, 0755) < 0 && (exclusive || errno != EEXIST))
		return -1;
	if (has_token(h->controllers, "cpuset"))
		cpuset_inherit(path);
	return 0;
}

/*
 * v1 device access for everything below the container's cgroup: LXC's default list (mknod of
 * anything, use of the standard nodes, ptys, tun and fuse only). On cgroup v2 the same policy
 * needs a BPF_PROG_TYPE_CGROUP_DEVICE program, not written yet; unprivileged containers do not
 * depend on it (their root cannot open host devices it has no bind of).
 */
static int restrict_devices(const struct hierarchy *h, const char *rel)
{
	static const char *const allow[] = {
		"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm", "c 10:229 rwm",
	};
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/devices.deny", h->mount, rel);
	if (write_file(path, "a") < 0)
		return fail("write", errno, "%s", path);
	snprintf(path, sizeof(path), "%s/%s/devices.allow", h->mount, rel);
	for (size_t i = 0; i < sizeof(allow) / sizeof(*allow); i++)
		if (write_file(path, allow[i]) < 0)
			return fail("write", errno, "%s: %s", path, allow[i]);
	return 0;
}

static void remove_tree(int parentfd, const char *name);
static int remove_in(const struct cgroups *cg, int upto);

int cgroups_create(struct cgroups *cg, const char *name)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		uint32_t suffix;
		if (getrandom(&suffix, sizeof(suffix), 0) != sizeof(suffix))
			return fail("getrandom", errno, "cgroup name");
		snprintf(cg->rel, sizeof(cg->rel), "berth/%s-%08x", name, suffix);
		int i;
		bool taken = false;
		for (i = 0; i < cg->count; i++) {
			const struct hierarchy *h = &cg->h[i];
			if (mkdir_one(h, "berth", false) < 0)
				break;
			char base[512];
			snprintf(base, sizeof(base), "%s/berth", h->mount);
			if (h->unified)
				enable_controllers(base);
			if (mkdir_one(h, cg->rel, true) < 0) {
				taken = errno == EEXIST;
				break;
			}
		}
		if (i == cg->count) {
			for (i = 0; i < cg->count; i++) {
				const struct hierarchy *h = &cg->h[i];
				char rel[256], dir[512];
				snprintf(rel, sizeof(rel), "%s/%s", cg->rel, CGROUP_PAYLOAD);
				snprintf(dir, sizeof(dir), "%s/%s", h->mount, cg->rel);
				if (h->unified)
					enable_controllers(dir);
				if (strcmp(h->controllers, "devices") == 0 && restrict_devices(h, cg->rel) < 0) {
					cgroups_remove(cg);
					return -1;
				}
				if (mkdir_one(h, rel, true) < 0) {
					int err = errno;
					cgroups_remove(cg);
					return fail("mkdir", err, "%s/%s", h->mount, rel);
				}
			}
			return 0;
		}
		int err = errno;
		char failed[512];
		snprintf(failed, sizeof(failed), "%s/%s", cg->h[i].mount, cg->rel);
		remove_in(cg, i); /* only the directories this attempt created */
		if (!taken)
			return fail("mkdir", err, "%s", failed);
	}
	return fail("mkdir", EEXIST, "no free cgroup name for %s", name);
}

int cgroups_attach(const struct cgroups *cg, pid_t pid)
{
	char value[32];
	snprintf(value, sizeof(value), "%d", (int)pid);
	for (int i = 0; i < cg->count; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", cg->h[i].mount, cg->rel, CGROUP_PAYLOAD);
		if (write_file(path, value) < 0)
			return fail("write", errno, "%s", path);
	}
	return 0;
}

static int chown_at(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | (name[0] ? 0 : AT_EMPTY_PATH)) < 0 &&
	    errno != ENOENT)
		return fail("fchownat", errno, "cgroup file %s", name[0] ? name : ".");
	return 0;
}

int cgroups_delegate(const struct cgroups *cg, uid_t uid, gid_t gid)
{
	char delegate[512];
	if (read_file("/sys/kernel/cgroup/delegate", delegate, sizeof(delegate)) <= 0)
		snprintf(delegate, sizeof(delegate), "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
	for (int i = 0; i < cg->count; i++) {
		const struct hierarchy *h = &cg->h[i];
		if (!h->unified && strcmp(h->controllers, "name=systemd") != 0)
			continue; /* delegating v1 controllers is not safe (CGROUP_DELEGATION.md) */
		char path[512];
		snprintf(path, sizeof(path), "%s/%s/%s", h->mount, cg->rel, CGROUP_PAYLOAD);
		int dirfd = open_dir(path);
		if (dirfd < 0)
			return fail("open", errno, "%s", path);
		int rc = chown_at(dirfd, "", uid, gid);
		if (h->unified) {
			char list[512], *save = NULL;
			snprintf(list, sizeof(list), "%s", delegate);
			for (char *f = strtok_r(list, " \n", &save); f && rc == 0; f = strtok_r(NULL, " \n", &save))
				rc = chown_at(dirfd, f, uid, gid);
		} else {
			rc = rc ?: chown_at(dirfd, "tasks", uid, gid);
			rc = rc ?: chown_at(dirfd, "cgroup.procs", uid, gid);
		}
		close(dirfd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void cgroups_kill(const struct cgroups *cg)
{
	for (int i = 0; i < cg->count; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s/cgroup.kill", cg->h[i].mount, cg->rel);
		if (cg->h[i].unified && write_file(path, "1") == 0)
			return;
	}
	for (int i = 0; i < cg->count; i++) {
		if (cg->h[i].unified)
			continue;
		char path[512], procs[65536];
		snprintf(path, sizeof(path), "%s/%s/%s/cgroup.procs", cg->h[i].mount, cg->rel, CGROUP_PAYLOAD);
		if (read_file(path, procs, sizeof(procs)) <= 0)
			continue;
		char *save = NULL;
		for (char *p = strtok_r(procs, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
			kill((pid_t)atoi(p), SIGKILL);
		return;
	}
}

/* rmdir, waiting up to a few seconds for tasks that are still exiting (EBUSY). */
static int rmdir_at(int parentfd, const char *name)
{
	for (int tries = 0; tries < 250; tries++) {
		if (unlinkat(parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Depth-first removal of a cgroup directory, by descriptor (only directories are removed). */
static void remove_tree(int parentfd, const char *name)
{
	int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		remove_tree(dirfd(dir), e->d_name);
	}
	closedir(dir);
	rmdir_at(parentfd, name);
}

int cgroups_remove(const struct cgroups *cg)
{
	return remove_in(cg, cg->count);
}

static int remove_in(const struct cgroups *cg, int upto)
{
	int rc = 0;
	if (cg->rel[0] == '\0')
		return 0;
	for (int i = 0; i < upto; i++) {
		int root = open_dir(cg->h[i].mount);
		if (root < 0)
			continue;
		remove_tree(root, cg->rel);
		if (faccessat(root, cg->rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			rc = fail("rmdir", EBUSY, "%s/%s", cg->h[i].mount, cg->rel);
		close(root);
	}
	return rc;
}

int cgroups_join_process(const struct cgroups *cg, pid_t target)
{
	char path[64], content[8192], self[32];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)target);
	if (read_file(path, content, sizeof(content)) <= 0)
		return fail("open", errno ? errno : ESRCH, "%s", path);
	snprintf(self, sizeof(self), "%d", (int)getpid());
	char *save = NULL;
	for (char *line = strtok_r(content, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *a = strchr(line, ':');
		char *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		*b = '\0';
		const char *controllers = a + 1, *cgpath = b + 1;
		for (int i = 0; i < cg->count; i++) {
			const struct hierarchy *h = &cg->h[i];
			if (strcmp(h->controllers, controllers) != 0)
				continue;
			int root = open_dir(h->mount);
			if (root < 0)
				return fail("open", errno, "%s", h->mount);
			char rel[4096];
			snprintf(rel, sizeof(rel), "./%s/cgroup.procs", cgpath);
			int fd = sys_openat2(root, rel, O_WRONLY | O_CLOEXEC, 0,
					     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
			int err = errno;
			close(root);
			if (fd < 0)
				return fail("openat2", err, "%s%s/cgroup.procs", h->mount, cgpath);
			ssize_t n = write(fd, self, strlen(self));
			err = errno;
			close(fd);
			if (n < 0)
				return fail("write", err, "%s%s/cgroup.procs", h->mount, cgpath);
		}
	}
	return 0;
}
