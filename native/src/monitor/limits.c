/*
 * limits.c: see limits.h. The file names are checked against their controller at parsing, so
 * a limit can only ever name a controller's own file in the container's cgroup (never
 * cgroup.procs, devices.*, or a path); the directories are the ones cgroup.c generated.
 * Read: cgroups(7), open(2) (O_NOFOLLOW), the kernel's
 * Documentation/admin-guide/cgroup-v1/cpusets.rst ("subset of its parent's").
 */
#include "limits.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct cgroup_limit last_limit_failure;

static const char *const controllers[] = { "memory", "cpu", "cpuset", "pids", "blkio", "io" };

static bool known_controller(const char *name)
{
	for (size_t i = 0; i < sizeof(controllers) / sizeof(*controllers); i++)
		if (strcmp(name, controllers[i]) == 0)
			return true;
	return false;
}

/* <controller>.<name>, name of [a-z0-9_.] without "..": a file of that controller, no path. */
static bool valid_file(const char *controller, const char *file)
{
	size_t len = strlen(controller);
	if (strncmp(file, controller, len) != 0 || file[len] != '.' || file[len + 1] == '\0' || strstr(file, ".."))
		return false;
	return strspn(file + len + 1, "abcdefghijklmnopqrstuvwxyz0123456789_.") == strlen(file + len + 1);
}

static bool valid_value(const char *value)
{
	if (value[0] == '\0')
		return false;
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

int limits_add(struct limits *limits, const char *arg)
{
	const char *colon = strchr(arg, ':');
	const char *eq = colon ? strchr(colon + 1, '=') : NULL;
	if (limits->count == LIMITS_MAX)
		return fail("getopt", E2BIG, "more than %d --limit", LIMITS_MAX);
	struct cgroup_limit *l = &limits->l[limits->count];
	if (!eq || (size_t)(colon - arg) >= sizeof(l->controller) || (size_t)(eq - colon - 1) >= sizeof(l->file) ||
	    strlen(eq + 1) >= sizeof(l->value))
		return fail("getopt", EINVAL, "--limit takes controller:file=value");
	snprintf(l->controller, sizeof(l->controller), "%.*s", (int)(colon - arg), arg);
	snprintf(l->file, sizeof(l->file), "%.*s", (int)(eq - colon - 1), colon + 1);
	snprintf(l->value, sizeof(l->value), "%s", eq + 1);
	if (!known_controller(l->controller))
		return fail("getopt", EINVAL, "--limit: unknown controller %s", l->controller);
	if (!valid_file(l->controller, l->file))
		return fail("getopt", EINVAL, "--limit: %s is not a file of the %s controller", l->file, l->controller);
	if (!valid_value(l->value))
		return fail("getopt", EINVAL, "--limit: the value of %s is empty or not printable", l->file);
	limits->count++;
	return 0;
}

/* The hierarchy a controller's files are in: its v1 one, else (pure v2, or a controller v1 does
 * not have) the cgroup2 one. NULL when neither is there. */
static const struct hierarchy *hierarchy_of(const struct cgroups *cg, const char *controller)
{
	const struct hierarchy *unified = NULL;
	for (int i = 0; i < cg->count; i++) {
		if (cg->h[i].unified)
			unified = &cg->h[i];
		else if (cgroup_has_controller(&cg->h[i], controller))
			return &cg->h[i];
	}
	return unified;
}

static int write_limit(const struct hierarchy *h, const char *rel, const struct cgroup_limit *l, const char *value)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/%s", h->mount, rel, l->file);
	return write_file(path, value); /* O_WRONLY, no O_CREAT: a missing file is ENOENT */
}

static int apply_one(const struct cgroups *cg, const struct cgroup_limit *l, const char *fallback)
{
	const struct hierarchy *h = hierarchy_of(cg, l->controller);
	if (!h) {
		last_limit_failure = *l;
		return fail("write", ENOENT, "%s=%s: no hierarchy has the %s controller", l->file, l->value, l->controller);
	}
	char payload[sizeof(cg->rel) + sizeof(CGROUP_PAYLOAD) + 1];
	snprintf(payload, sizeof(payload), "%s/%s", cg->rel, CGROUP_PAYLOAD);
	bool v1_cpuset = !h->unified && strcmp(l->controller, "cpuset") == 0;
	const char *value = l->value;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((!v1_cpuset || write_limit(h, payload, l, value) == 0) && write_limit(h, cg->rel, l, value) == 0)
			return 0;
		if (attempt == 1 || !fallback || strcmp(fallback, value) == 0)
			break;
		value = fallback;
	}
	int err = errno;
	last_limit_failure = *l;
	snprintf(last_limit_failure.value, sizeof(last_limit_failure.value), "%s", value);
	return fail("write", err, "%s=%s in %s/%s", l->file, value, h->mount, cg->rel);
}

int limits_apply(const struct cgroups *cg, const struct limits *limits, const struct limits *fallback)
{
	for (int i = 0; i < limits->count; i++) {
		const char *spec = fallback && i < fallback->count ? fallback->l[i].value : NULL;
		if (apply_one(cg, &limits->l[i], spec) < 0)
			return -1;
	}
	return 0;
}

void limits_read(const struct cgroups *cg, const struct limits *wanted, struct limits *out)
{
	*out = *wanted;
	for (int i = 0; i < out->count; i++) {
		struct cgroup_limit *l = &out->l[i];
		const struct hierarchy *h = hierarchy_of(cg, l->controller);
		char path[512], value[sizeof(l->value)];
		if (!h)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", h->mount, cg->rel, l->file);
		if (read_file(path, value, sizeof(value)) <= 0)
			continue;
		value[strcspn(value, "\n")] = '\0';
		if (valid_value(value))
			snprintf(l->value, sizeof(l->value), "%s", value);
	}
}

void limits_failure_json(char *json, size_t len)
{
	if (last_limit_failure.file[0] == '\0')
		return;
	size_t used = strlen(json);
	char controller[64], file[160], value[600];
	if (used == 0 || json[used - 1] != '}' || json_quote(controller, sizeof(controller), last_limit_failure.controller) < 0 ||
	    json_quote(file, sizeof(file), last_limit_failure.file) < 0 ||
	    json_quote(value, sizeof(value), last_limit_failure.value) < 0)
		return;
	char tail[1024];
	int n = snprintf(tail, sizeof(tail), ",\"limit\":{\"controller\":%s,\"file\":%s,\"value\":%s}}", controller, file, value);
	if (n > 0 && (size_t)n < sizeof(tail) && used - 1 + (size_t)n < len)
		memcpy(json + used - 1, tail, (size_t)n + 1);
}
