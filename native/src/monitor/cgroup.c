/*
 * cgroup.c: see cgroup.h. Every hierarchy mounted on the host gets the same relative path, so
 * limits can be written per controller on v1 and /proc/<pid>/cgroup matches what systemd inside
 * sees through its cgroup namespace. Paths are built only from the hierarchy mount points and
 * names generated here; directories the container created are walked by descriptor.
 * Read: cgroups(7), proc(5) (/proc/pid/cgroup, /proc/pid/mountinfo), getrandom(2), unlinkat(2),
 * bpf(2) (BPF_PROG_LOAD, BPF_PROG_ATTACH), include/uapi/linux/bpf.h (struct bpf_cgroup_dev_ctx),
 * the kernel's Documentation/admin-guide/cgroup-v1/devices.rst and cgroup-v2.rst ("Device
 * controller").
 */
#include "cgroup.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

bool cgroup_has_controller(const struct hierarchy *h, const char *controller)
{
	return !h->unified && has_token(h->controllers, controller);
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
 * Device access for everything below the container's cgroup: LXC's default list (mknod of
 * anything, use of the standard nodes, ptys, tun and fuse only). One table, two enforcers:
 * devices.allow lines on v1, a BPF_PROG_TYPE_CGROUP_DEVICE program on v2.
 */
#define ANY_ID -1
#define ACCESS_MKNOD BPF_DEVCG_ACC_MKNOD
#define ACCESS_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

static const struct device_rule {
	char type; /* 'c' or 'b' */
	int major, minor;
	unsigned access;
} device_rules[] = {
	{ 'c', ANY_ID, ANY_ID, ACCESS_MKNOD }, { 'b', ANY_ID, ANY_ID, ACCESS_MKNOD },
	{ 'c', 1, 3, ACCESS_ALL },	       { 'c', 1, 5, ACCESS_ALL },  { 'c', 1, 7, ACCESS_ALL },
	{ 'c', 1, 8, ACCESS_ALL },	       { 'c', 1, 9, ACCESS_ALL },  { 'c', 5, 0, ACCESS_ALL },
	{ 'c', 5, 1, ACCESS_ALL },	       { 'c', 5, 2, ACCESS_ALL },  { 'c', 136, ANY_ID, ACCESS_ALL },
	{ 'c', 10, 200, ACCESS_ALL },	       { 'c', 10, 229, ACCESS_ALL },
};
#define DEVICE_RULES (sizeof(device_rules) / sizeof(*device_rules))

/* The unix-char/unix-block devices of the container (devices.c), allowed on top of the table:
 * kept here so that a fresh cgroup (a reboot from inside) gets them too. */
#define MAX_EXTRA_RULES 32
static struct device_rule extra_rules[MAX_EXTRA_RULES];
static size_t extra_count;

static const struct device_rule *rule_at(size_t i)
{
	return i < DEVICE_RULES ? &device_rules[i] : &extra_rules[i - DEVICE_RULES];
}

static int restrict_devices(const struct hierarchy *h, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/devices.deny", h->mount, rel);
	if (write_file(path, "a") < 0)
		return fail("write", errno, "%s", path);
	snprintf(path, sizeof(path), "%s/%s/devices.allow", h->mount, rel);
	for (size_t i = 0; i < DEVICE_RULES + extra_count; i++) {
		const struct device_rule *r = rule_at(i);
		char line[64], major[16], minor[16];
		snprintf(major, sizeof(major), r->major == ANY_ID ? "*" : "%d", r->major);
		snprintf(minor, sizeof(minor), r->minor == ANY_ID ? "*" : "%d", r->minor);
		snprintf(line, sizeof(line), "%c %s:%s %s", r->type, major, minor, r->access == ACCESS_ALL ? "rwm" : "m");
		if (write_file(path, line) < 0)
			return fail("write", errno, "%s: %s", path, line);
	}
	return 0;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/*
 * The table as a cgroup device program. The context (struct bpf_cgroup_dev_ctx) holds
 * access_type = access << 16 | type, major and minor; 1 allows, 0 denies. Each rule is a run
 * of tests that jump past the rule's "return 1" on a mismatch.
 */
static int device_program(struct bpf_insn *prog, size_t max)
{
	size_t n = 0;
	/* r2 = access, r3 = type, r4 = major, r5 = minor */
	prog[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	prog[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	prog[n++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
	prog[n++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
	prog[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	prog[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	for (size_t i = 0; i < DEVICE_RULES + extra_count; i++) {
		const struct device_rule *r = rule_at(i);
		struct bpf_insn tests[4];
		size_t t = 0;
		tests[t++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 0, r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
		if (r->major != ANY_ID)
			tests[t++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, r->major);
		if (r->minor != ANY_ID)
			tests[t++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, r->minor);
		if (r->access != ACCESS_ALL) /* any access bit the rule does not grant */
			tests[t++] = insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_2, 0, 0, (int32_t)(ACCESS_ALL & ~r->access));
		if (n + t + 2 + 2 > max)
			return -1;
		for (size_t j = 0; j < t; j++) {
			tests[j].off = (int16_t)(t - 1 - j + 2); /* past the remaining tests and the return */
			prog[n++] = tests[j];
		}
		prog[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		prog[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	prog[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	prog[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return (int)n;
}

/* Loads the device program; replace_fd >= 0 swaps it for that attached one (BPF_F_REPLACE). */
static int load_device_filter(int cgroup_fd, const char *what, int replace_fd)
{
	struct bpf_insn prog[512];
	int count = device_program(prog, sizeof(prog) / sizeof(*prog));
	if (count < 0)
		return fail("bpf", E2BIG, "device program for %s", what);
	union bpf_attr load;
	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.expected_attach_type = BPF_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)prog;
	load.insn_cnt = (uint32_t)count;
	load.license = (uint64_t)(uintptr_t)"Apache-2.0";
	snprintf(load.prog_name, sizeof(load.prog_name), "berth_devices");
	int prog_fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load)); /* O_CLOEXEC by the kernel */
	if (prog_fd < 0)
		return fail("bpf", errno, "BPF_PROG_LOAD of the device program for %s", what);
	union bpf_attr attach;
	memset(&attach, 0, sizeof(attach));
	attach.target_fd = (uint32_t)cgroup_fd;
	attach.attach_bpf_fd = (uint32_t)prog_fd;
	attach.attach_type = BPF_CGROUP_DEVICE;
	attach.attach_flags = BPF_F_ALLOW_MULTI | (replace_fd >= 0 ? BPF_F_REPLACE : 0);
	attach.replace_bpf_fd = replace_fd >= 0 ? (uint32_t)replace_fd : 0;
	int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach));
	int err = errno;
	close(prog_fd); /* the cgroup holds the program until it is removed */
	if (rc < 0)
		return fail("bpf", err, "BPF_PROG_ATTACH of the device program to %s", what);
	return 0;
}

int cgroup_attach_device_filter(int cgroup_fd, const char *what)
{
	return load_device_filter(cgroup_fd, what, -1);
}

/* Attaches the device program with the current rules to the cgroup2 directory; with replace,
 * in place of the one attached there (BPF_F_REPLACE), so that no moment is unfiltered. */
static int filter_devices(const struct hierarchy *h, const char *rel, bool replace)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", h->mount, rel);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fail("open", errno, "%s", path);
	int rc = -1, old = -1;
	if (replace) {
		uint32_t ids[8] = { 0 };
		union bpf_attr query;
		memset(&query, 0, sizeof(query));
		query.query.target_fd = (uint32_t)fd;
		query.query.attach_type = BPF_CGROUP_DEVICE;
		query.query.prog_ids = (uint64_t)(uintptr_t)ids;
		query.query.prog_cnt = 8;
		if (syscall(SYS_bpf, BPF_PROG_QUERY, &query, sizeof(query)) < 0 || query.query.prog_cnt != 1) {
			fail("bpf", query.query.prog_cnt != 1 ? ENOENT : errno, "BPF_PROG_QUERY: the device program of %s", path);
			goto out;
		}
		union bpf_attr get;
		memset(&get, 0, sizeof(get));
		get.prog_id = ids[0];
		old = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &get, sizeof(get)); /* O_CLOEXEC by the kernel */
		if (old < 0) {
			fail("bpf", errno, "BPF_PROG_GET_FD_BY_ID for %s", path);
			goto out;
		}
	}
	rc = load_device_filter(fd, path, old);
out:
	if (old >= 0)
		close(old);
	close(fd);
	return rc;
}

static bool same_device(const struct device_rule *r, char type, unsigned major, unsigned minor)
{
	return r->type == type && r->major == (int)major && r->minor == (int)minor && r->access == ACCESS_ALL;
}

/* Writes one v1 devices line into rel and rel/payload (a v1 child keeps its own copy of the list). */
static int write_devices_line(const struct hierarchy *h, const char *rel, const char *file, const char *line)
{
	char path[512];
	const char *const dirs[] = { "", "/" CGROUP_PAYLOAD };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s%s/%s", h->mount, rel, dirs[i], file);
		if (write_file(path, line) < 0 && !(i == 1 && errno == ENOENT))
			return fail("write", errno, "%s: %s", path, line);
	}
	return 0;
}

int cgroups_allow_device(const struct cgroups *cg, char type, unsigned major, unsigned minor, bool allow)
{
	size_t found = extra_count;
	for (size_t i = 0; i < extra_count; i++)
		if (same_device(&extra_rules[i], type, major, minor))
			found = i;
	bool standard = false;
	for (size_t i = 0; i < DEVICE_RULES; i++)
		standard = standard || same_device(&device_rules[i], type, major, minor);
	if (allow && found == extra_count) {
		if (extra_count == MAX_EXTRA_RULES)
			return fail("write", E2BIG, "more than %d unix devices", MAX_EXTRA_RULES);
		extra_rules[extra_count++] = (struct device_rule){ type, (int)major, (int)minor, ACCESS_ALL };
	} else if (!allow && found < extra_count) {
		extra_rules[found] = extra_rules[--extra_count];
	}
	if (!cg->rel[0] || (!allow && standard))
		return 0;
	char line[64];
	snprintf(line, sizeof(line), "%c %u:%u rwm", type, major, minor);
	for (int i = 0; i < cg->count; i++) {
		const struct hierarchy *h = &cg->h[i];
		if (strcmp(h->controllers, "devices") == 0 && write_devices_line(h, cg->rel, allow ? "devices.allow" : "devices.deny", line) < 0)
			return -1;
		if (cg->pure_v2 && h->unified && filter_devices(h, cg->rel, true) < 0)
			return -1;
	}
	return 0;
}

static void remove_tree(int parentfd, const char *name);
static int remove_in(const struct cgroups *cg, int upto);

/* Creates each directory of prefix ("berth/monitor") that is missing, controllers enabled below. */
static int make_parents(const struct hierarchy *h, const char *prefix)
{
	for (const char *p = prefix;;) {
		const char *slash = strchr(p, '/');
		char rel[160], dir[512];
		snprintf(rel, sizeof(rel), "%.*s", slash ? (int)(slash - prefix) : (int)strlen(prefix), prefix);
		if (mkdir_one(h, rel, false) < 0)
			return -1;
		snprintf(dir, sizeof(dir), "%s/%s", h->mount, rel);
		if (h->unified)
			enable_controllers(dir);
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

/* Creates <prefix>/<name>-<random> (never an existing one) in every hierarchy, as cg->rel. */
static int create_unique(struct cgroups *cg, const char *prefix, const char *name)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		uint32_t suffix;
		if (getrandom(&suffix, sizeof(suffix), 0) != sizeof(suffix))
			return fail("getrandom", errno, "cgroup name");
		snprintf(cg->rel, sizeof(cg->rel), "%s/%s-%08x", prefix, name, suffix);
		int i;
		bool taken = false;
		for (i = 0; i < cg->count; i++) {
			const struct hierarchy *h = &cg->h[i];
			if (make_parents(h, prefix) < 0)
				break;
			if (mkdir_one(h, cg->rel, true) < 0) {
				taken = errno == EEXIST;
				break;
			}
		}
		if (i == cg->count)
			return 0;
		int err = errno;
		char failed[512];
		snprintf(failed, sizeof(failed), "%s/%s", cg->h[i].mount, cg->rel);
		remove_in(cg, i); /* only the directories this attempt created */
		if (!taken) {
			cg->rel[0] = '\0';
			return fail("mkdir", err, "%s", failed);
		}
	}
	cg->rel[0] = '\0';
	return fail("mkdir", EEXIST, "no free cgroup name for %s", name);
}

int cgroups_create(struct cgroups *cg, const char *name)
{
	if (create_unique(cg, "berth", name) < 0)
		return -1;
	for (int i = 0; i < cg->count; i++) {
		const struct hierarchy *h = &cg->h[i];
		char rel[256], dir[512];
		snprintf(rel, sizeof(rel), "%s/%s", cg->rel, CGROUP_PAYLOAD);
		snprintf(dir, sizeof(dir), "%s/%s", h->mount, cg->rel);
		if (h->unified)
			enable_controllers(dir);
		if ((strcmp(h->controllers, "devices") == 0 && restrict_devices(h, cg->rel) < 0) ||
		    (cg->pure_v2 && h->unified && filter_devices(h, cg->rel, false) < 0)) {
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

static int move_self(const struct cgroups *cg, const char *rel)
{
	char self[32];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	for (int i = 0; i < cg->count; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s%scgroup.procs", cg->h[i].mount, rel, rel[0] ? "/" : "");
		if (write_file(path, self) < 0)
			return fail("write", errno, "%s", path);
	}
	return 0;
}

int cgroups_create_monitor(struct cgroups *mon, const struct cgroups *cg, const char *name)
{
	*mon = *cg;
	if (create_unique(mon, CGROUP_MONITORS, name) < 0)
		return -1;
	if (move_self(mon, mon->rel) < 0) {
		cgroups_leave(mon);
		return -1;
	}
	return 0;
}

void cgroups_leave(struct cgroups *mon)
{
	if (mon->rel[0] == '\0')
		return;
	move_self(mon, ""); /* a cgroup cannot be removed while we are in it */
	cgroups_remove(mon);
	mon->rel[0] = '\0';
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
