/*
 * main.c: berth-unpack, the small single-threaded helper that performs every filesystem write of
 * an image extraction (and the removal of a failed one), so that the multi-threaded Node process
 * only parses and validates. Usage:
 *   berth-unpack --target DIR [--uid-shift N] [--gid-shift N] [--id-range N] [--privileged] < records
 *   berth-unpack --remove DIR
 *   berth-unpack --selftest-forbidden socket|mmap-exec|execve
 * Before it touches anything it enters its sandbox (sandbox.h): a seccomp allow list and the few
 * capabilities its job needs. --selftest-forbidden enters the extraction sandbox and then makes
 * one forbidden call: the process must die with SIGSYS (the tests check that it does).
 * With --target it creates DIR (0700, must not exist) and prints "created" on stdout, reads the
 * record stream (records.h) from stdin, creates each entry (create.c) and prints
 * "ok<TAB>entries<TAB>bytes<TAB>dropped" on stdout once the end record arrives. Failures are lines on stderr (report.h) and a non-zero exit; the
 * parent then removes DIR with --remove.
 * Read: close_range(2), prctl(2) (PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE), umask(2), strtoull(3).
 */
#include "create.h"
#include "records.h"
#include "remove.h"
#include "report.h"
#include "sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: berth-unpack --target DIR [--uid-shift N] [--gid-shift N] [--id-range N] [--privileged]\n"
			"       berth-unpack --remove DIR\n"
			"       berth-unpack --selftest-forbidden socket|mmap-exec|execve\n");
	exit(UNPACK_EXIT_PROTOCOL);
}

static uint64_t parse_number(const char *text, uint64_t max)
{
	char *end;
	errno = 0;
	if (text == NULL || text[0] < '0' || text[0] > '9')
		usage();
	unsigned long long value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value > max)
		usage();
	return value;
}

/* The record holds 256 KiB of xattrs: static, not on the stack. */
static struct record current;
static struct reader input;

static int unpack(const char *target, const struct unpack_options *opts)
{
	struct unpack_stats stats = { 0 };
	int root_fd = create_root(target);

	/* From here on the target is ours: the parent removes it if we fail (and only then). */
	printf("created\n");
	if (fflush(stdout) != 0)
		fail_syscall("write", errno, "<stdout>");

	reader_init(&input, STDIN_FILENO);
	reader_expect_magic(&input);
	for (;;) {
		record_read(&input, &current);
		if (current.type == RECORD_END)
			break;
		create_entry(root_fd, opts, &input, &current, &stats);
	}
	if (!reader_at_eof(&input))
		protocol_error("bytes after the end record");
	close(root_fd);
	printf("ok\t%llu\t%llu\t%llu\n", (unsigned long long)stats.entries, (unsigned long long)stats.bytes,
	       (unsigned long long)stats.dropped);
	if (fflush(stdout) != 0)
		fail_syscall("write", errno, "<stdout>");
	return UNPACK_EXIT_OK;
}

/* Makes one call the sandbox forbids; returning from here means the sandbox let it through. */
static int selftest_forbidden(const char *call)
{
	sandbox_enter(SANDBOX_EXTRACT, false);
	if (strcmp(call, "socket") == 0) {
		socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	} else if (strcmp(call, "mmap-exec") == 0) {
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	} else if (strcmp(call, "execve") == 0) {
		char *const args[] = { "/bin/true", NULL };
		execve(args[0], args, args + 1);
	} else {
		usage();
	}
	fprintf(stderr, "protocol\t%s was not refused by the sandbox\n", call);
	return UNPACK_EXIT_FAILED;
}

int main(int argc, char **argv)
{
	/* Inherit nothing but stdio from Node (its sockets, its Postgres connections). */
	if (close_range(3, ~0U, 0) < 0)
		fail_syscall("close_range", errno, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail_syscall("prctl", errno, NULL);
	/* Modes come from the archive, exactly: no umask in between. */
	umask(0);

	struct unpack_options opts = { .uid_shift = 0, .gid_shift = 0, .id_range = UINT32_MAX, .privileged = false };
	const char *target = NULL;
	const char *remove = NULL;
	if (argc == 3 && strcmp(argv[1], "--selftest-forbidden") == 0)
		return selftest_forbidden(argv[2]);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(arg, "--target") == 0 && value != NULL) {
			target = value;
			i++;
		} else if (strcmp(arg, "--remove") == 0 && value != NULL) {
			remove = value;
			i++;
		} else if (strcmp(arg, "--uid-shift") == 0) {
			opts.uid_shift = (uint32_t)parse_number(value, UINT32_MAX - 1);
			i++;
		} else if (strcmp(arg, "--gid-shift") == 0) {
			opts.gid_shift = (uint32_t)parse_number(value, UINT32_MAX - 1);
			i++;
		} else if (strcmp(arg, "--id-range") == 0) {
			opts.id_range = parse_number(value, UINT32_MAX);
			i++;
		} else if (strcmp(arg, "--privileged") == 0) {
			opts.privileged = true;
		} else {
			usage();
		}
	}
	if ((target == NULL) == (remove == NULL))
		usage();
	sandbox_enter(remove != NULL ? SANDBOX_REMOVE : SANDBOX_EXTRACT, opts.privileged);
	if (remove != NULL) {
		remove_tree(remove);
		return UNPACK_EXIT_OK;
	}
	return unpack(target, &opts);
}
