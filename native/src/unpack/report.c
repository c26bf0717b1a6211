/*
 * report.c: the stderr line protocol of berth-unpack (see report.h) and the exits that end a
 * failed extraction. Nothing is cleaned up here on purpose: the parent removes the whole target
 * with `berth-unpack --remove`, which also covers a helper killed by a signal.
 * Read: errno(3), strerrorname_np(3), stdio(3), _exit(2).
 */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Escapes control characters and backslashes so that a path can never end the line or add a
 * field; bytes >= 0x80 pass through so UTF-8 names stay readable. The output is truncated to
 * fit: messages name an entry, they do not need to round-trip it.
 */
static void escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (o + 5 >= outlen)
			break;
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static void emit(const char *kind, const char *path, const char *fmt, va_list ap)
{
	char message[1024];
	char escaped_message[2048];
	char escaped_path[4 * 4096 + 1];

	vsnprintf(message, sizeof(message), fmt, ap);
	escape(message, escaped_message, sizeof(escaped_message));
	if (path != NULL) {
		escape(path, escaped_path, sizeof(escaped_path));
		fprintf(stderr, "%s\t%s\t%s\n", kind, escaped_path, escaped_message);
	} else {
		fprintf(stderr, "%s\t%s\n", kind, escaped_message);
	}
	fflush(stderr);
}

void report_warning(const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("warning", path, fmt, ap);
	va_end(ap);
}

void reject_entry(const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("rejected", path, fmt, ap);
	va_end(ap);
	_exit(UNPACK_EXIT_REJECTED);
}

void fail_syscall(const char *syscall, int err, const char *path)
{
	char escaped_path[4 * 4096 + 1];
	const char *name = strerrorname_np(err);

	escape(path != NULL ? path : "", escaped_path, sizeof(escaped_path));
	fprintf(stderr, "failed\t%s\t%s\t%s\n", syscall, name != NULL ? name : "EUNKNOWN", escaped_path);
	fflush(stderr);
	_exit(UNPACK_EXIT_FAILED);
}

void protocol_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit("protocol", NULL, fmt, ap);
	va_end(ap);
	_exit(UNPACK_EXIT_PROTOCOL);
}
