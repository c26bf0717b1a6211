/*
 * util.c: failures as data, raw syscall wrappers, fd passing over unix sockets, small-file I/O
 * and the minimal JSON used by the control protocol (flat objects only, no nesting).
 * Read: errno(3), strerrorname_np(3), syscall(2), unix(7), cmsg(3), openat2(2), open_tree(2)
 * (in the kernel's Documentation/filesystems/mount_api.rst until the man page lands).
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct failure last_failure;

int fail(const char *syscall, int err, const char *fmt, ...)
{
	if (last_failure.syscall[0] != '\0')
		return -1; /* keep the first, root-cause failure */
	snprintf(last_failure.syscall, sizeof(last_failure.syscall), "%s", syscall);
	last_failure.err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_failure.detail, sizeof(last_failure.detail), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *errname(int err)
{
	const char *name = err ? strerrorname_np(err) : NULL;
	return name ? name : "EUNKNOWN";
}

void failure_json(const struct failure *f, char *buf, size_t len)
{
	char message[768];
	char quoted[1600];
	snprintf(message, sizeof(message), "%s(2) failed: %s%s%s", f->syscall, errname(f->err),
		 f->detail[0] ? " (" : "", f->detail[0] ? f->detail : "");
	if (f->detail[0])
		strncat(message, ")", sizeof(message) - strlen(message) - 1);
	if (json_quote(quoted, sizeof(quoted), message) < 0)
		snprintf(quoted, sizeof(quoted), "\"%s(2) failed\"", f->syscall);
	snprintf(buf, len, "{\"ok\":false,\"syscall\":\"%s\",\"errno\":%d,\"code\":\"%s\",\"message\":%s}",
		 f->syscall, f->err, errname(f->err), quoted);
}

int json_quote(char *out, size_t len, const char *s)
{
	size_t n = 0;
#define PUT(c)                      \
	do {                        \
		if (n + 1 >= len)   \
			return -1;  \
		out[n++] = (c);     \
	} while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			PUT('\\');
			PUT(*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			for (char *e = esc; *e; e++)
				PUT(*e);
		} else {
			PUT(*p);
		}
	}
	PUT('"');
	out[n] = '\0';
#undef PUT
	return (int)n;
}

/*
 * Finds the value of a top-level member. The protocol only ever sends flat objects, so the
 * scanner tracks strings (to skip keys inside values) and nothing else.
 */
static const char *json_find(const char *json, const char *key)
{
	size_t klen = strlen(key);
	const char *p = json;
	while ((p = strchr(p, '"')) != NULL) {
		const char *start = ++p;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (!*p)
			return NULL;
		size_t len = (size_t)(p - start);
		p++;
		const char *q = p;
		while (isspace((unsigned char)*q))
			q++;
		if (*q != ':')
			continue; /* that was a value, not a key */
		q++;
		while (isspace((unsigned char)*q))
			q++;
		if (len == klen && memcmp(start, key, klen) == 0)
			return q;
		p = q;
		if (*p == '"') { /* skip a string value so its content is not taken for a key */
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			if (*p)
				p++;
		}
	}
	return NULL;
}

bool json_get_string(const char *json, const char *key, char *out, size_t len)
{
	const char *p = json_find(json, key);
	if (!p || *p != '"' || len == 0)
		return false;
	p++;
	size_t n = 0;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '"': case '\\': case '/': break;
			default: return false; /* \uXXXX and others are not used by the protocol */
			}
		}
		if (n + 1 >= len)
			return false;
		out[n++] = c;
	}
	if (*p != '"')
		return false;
	out[n] = '\0';
	return true;
}

bool json_get_number(const char *json, const char *key, double *out)
{
	const char *p = json_find(json, key);
	if (!p)
		return false;
	char *end;
	errno = 0;
	double v = strtod(p, &end);
	if (end == p || errno != 0)
		return false;
	*out = v;
	return true;
}

bool json_get_bool(const char *json, const char *key, bool *out)
{
	const char *p = json_find(json, key);
	if (!p)
		return false;
	if (strncmp(p, "true", 4) == 0)
		*out = true;
	else if (strncmp(p, "false", 5) == 0)
		*out = false;
	else
		return false;
	return true;
}

int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

int sys_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int sys_open_tree(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

int sys_mount_setattr(int dfd, const char *path, unsigned int flags, uint64_t set, uint64_t clr, int userns_fd)
{
	struct mount_attr attr = {
		.attr_set = set,
		.attr_clr = clr,
		.propagation = 0,
		.userns_fd = userns_fd < 0 ? 0 : (uint64_t)userns_fd,
	};
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof(attr));
}

int sys_fsopen(const char *fs, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}

int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

int sys_fsmount(int fd, unsigned int flags, unsigned int attrs)
{
	return (int)syscall(SYS_fsmount, fd, flags, attrs);
}

int sys_openat2(int dfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags, .mode = mode, .resolve = resolve };
	return (int)syscall(SYS_openat2, dfd, path, &how, sizeof(how));
}

int sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)
{
	return (int)syscall(SYS_mount, source, target, fstype, flags, data);
}

int sys_umount2(const char *target, int flags)
{
	return (int)syscall(SYS_umount2, target, flags);
}

int open_in_root(int root, const char *path, int flags, mode_t mode)
{
	int fd;
	do
		fd = sys_openat2(root, path, flags | O_CLOEXEC, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

ssize_t recv_with_fd(int sock, void *buf, size_t len, int *fd)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (fd)
		*fd = -1;
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int received;
			memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd && *fd < 0)
				*fd = received;
			else
				close(received); /* never keep descriptors nobody asked for */
		}
	}
	return n;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_at(int dirfd, const char *name, const char *data)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	int saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

int write_file(const char *path, const char *data)
{
	return write_file_at(AT_FDCWD, path, data);
}

ssize_t read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t total = 0;
	while (total + 1 < len) {
		ssize_t n = read(fd, buf + total, len - 1 - total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	close(fd);
	buf[total] = '\0';
	return (ssize_t)total;
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
