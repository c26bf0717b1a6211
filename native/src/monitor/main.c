/*
 * main.c: berth-monitor's entry: `berth-monitor start …` supervises one container,
 * `berth-monitor exec …` runs a command inside a running one. Two more modes run one piece of
 * the monitor on its own, for tests and repairs, and print one JSON line on stdout:
 *   berth-monitor shift DIR --from-base A --to-base B --count N   (shift.h, no marker)
 *   berth-monitor device-filter CGROUP2-DIR                       (the v2 device program)
 * All start by closing every descriptor they inherited; Node spawns them with only stdio
 * (and a report pipe).
 * Read: ../common/process.h (close_inherited), strtoul(3).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup.h"
#include "monitor.h"
#include "shift.h"
#include "util.h"
#include "../common/process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool parse_id(const char *text, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long value = text && *text >= '0' && *text <= '9' ? strtoul(text, &end, 10) : 0;
	if (!text || *text < '0' || *text > '9' || errno != 0 || *end != '\0' || value > UINT32_MAX)
		return false;
	*out = (uint32_t)value;
	return true;
}

static int answer(int rc, const char *ok)
{
	char json[2048];
	if (rc < 0)
		failure_json(&last_failure, json, sizeof(json));
	printf("%s\n", rc < 0 ? json : ok);
	return rc < 0 ? 1 : 0;
}

static int shift_main(int argc, char **argv)
{
	uint32_t from = 0, to = 0, count = 0;
	bool have_from = false, have_to = false, have_count = false;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--from-base") == 0)
			have_from = parse_id(argv[i + 1], &from);
		else if (strcmp(argv[i], "--to-base") == 0)
			have_to = parse_id(argv[i + 1], &to);
		else if (strcmp(argv[i], "--count") == 0)
			have_count = parse_id(argv[i + 1], &count);
	}
	if (argc != 8 || argv[1][0] != '/' || !have_from || !have_to || !have_count || count == 0)
		return answer(fail("getopt", EINVAL, "usage: shift /DIR --from-base A --to-base B --count N"), NULL);
	long long inodes = shift_tree(argv[1], from, to, count);
	char ok[64];
	snprintf(ok, sizeof(ok), "{\"ok\":true,\"inodes\":%lld}", inodes);
	return answer(inodes < 0 ? -1 : 0, ok);
}

static int device_filter_main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] != '/')
		return answer(fail("getopt", EINVAL, "usage: device-filter /CGROUP2-DIR"), NULL);
	int fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return answer(fail("open", errno, "%s", argv[1]), NULL);
	int rc = cgroup_attach_device_filter(fd, argv[1]);
	close(fd);
	return answer(rc, "{\"ok\":true}");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return monitor_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "exec") == 0)
		return exec_main(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "shift") == 0 || strcmp(argv[1], "device-filter") == 0)) {
		close_inherited(-1);
		return strcmp(argv[1], "shift") == 0 ? shift_main(argc - 1, argv + 1) : device_filter_main(argc - 1, argv + 1);
	}
	fprintf(stderr, "usage: berth-monitor start|exec|shift|device-filter [options]\n");
	return 2;
}
