/*
 * report.h: how berth-unpack tells its parent what happened. One line per message on stderr,
 * tab-separated, paths escaped so that a hostile name cannot forge a line:
 *   warning<TAB>message                      the entry was dropped or altered, extraction goes on
 *   rejected<TAB>path<TAB>reason             the archive is unsafe or inconsistent (exit 2)
 *   failed<TAB>syscall<TAB>ERRNO<TAB>path    the host failed us: ENOSPC, EIO, ... (exit 1)
 *   protocol<TAB>message                     the record stream itself is malformed (exit 3)
 * The parent (libs/images/src/infrastructure/unpack-helper.ts) parses exactly these forms.
 * Read: errno(3), strerrorname_np(3), stdarg(3).
 */
#ifndef BERTH_UNPACK_REPORT_H
#define BERTH_UNPACK_REPORT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>

enum unpack_exit {
	UNPACK_EXIT_OK = 0,
	UNPACK_EXIT_FAILED = 1,
	UNPACK_EXIT_REJECTED = 2,
	UNPACK_EXIT_PROTOCOL = 3,
};

void report_warning(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void reject_entry(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fail_syscall(const char *syscall, int err, const char *path);
_Noreturn void protocol_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
