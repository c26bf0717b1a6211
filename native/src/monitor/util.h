/*
 * util.h: shared helpers of berth-monitor: failures carried as data (syscall + errno),
 * raw syscall wrappers glibc lacks, fd passing, and a minimal JSON reader/writer for the
 * line-based control protocol.
 * Read: errno(3), syscall(2), unix(7) (SCM_RIGHTS), openat2(2), close_range(2).
 */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The first failure of the current operation: what crosses to TypeScript. */
struct failure {
	char syscall[32];
	int err;
	char detail[512];
};

extern struct failure last_failure;

/* Records a failed syscall (err is an errno value) with a printf-style detail; returns -1. */
int fail(const char *syscall, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Formats last_failure as `{"ok":false,...}` into buf. */
void failure_json(const struct failure *f, char *buf, size_t len);

/* JSON output: appends a quoted, escaped string. Returns bytes written or -1 if it did not fit. */
int json_quote(char *out, size_t len, const char *s);

/* JSON input: a flat object of string, number and boolean members. */
bool json_get_string(const char *json, const char *key, char *out, size_t len);
bool json_get_number(const char *json, const char *key, double *out);
bool json_get_bool(const char *json, const char *key, bool *out);

/* Syscalls without glibc wrappers on bookworm's glibc 2.36 headers (or with conflicting ones). */
int sys_pidfd_open(pid_t pid, unsigned int flags);
int sys_pidfd_send_signal(int pidfd, int sig);
int sys_open_tree(int dfd, const char *path, unsigned int flags);
int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned int flags);
int sys_mount_setattr(int dfd, const char *path, unsigned int flags, uint64_t set, uint64_t clr, int userns_fd);
int sys_fsopen(const char *fs, unsigned int flags);
int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux);
int sys_fsmount(int fd, unsigned int flags, unsigned int attrs);
int sys_openat2(int dfd, const char *path, int flags, mode_t mode, uint64_t resolve);
int sys_pivot_root(const char *new_root, const char *put_old);
/* mount(2) and umount2(2): <sys/mount.h> clashes with <linux/mount.h> on glibc 2.36. */
int sys_mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data);
int sys_umount2(const char *target, int flags);
#ifndef MNT_FORCE
#define MNT_FORCE 1
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif

/* Opens `path` relative to `root` as if `root` were "/" (RESOLVE_IN_ROOT, no magic links). */
int open_in_root(int root, const char *path, int flags, mode_t mode);

/* Sends one message with an optional descriptor; receives one, with a descriptor if present. */
int send_with_fd(int sock, const void *buf, size_t len, int fd);
ssize_t recv_with_fd(int sock, void *buf, size_t len, int *fd);

/* Writes all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Writes a whole small file (cgroup and /proc files): open O_WRONLY|O_CLOEXEC, one write. */
int write_file(const char *path, const char *data);
int write_file_at(int dirfd, const char *name, const char *data);
/* Reads a small file into buf (NUL-terminated). Returns bytes read or -1. */
ssize_t read_file(const char *path, char *buf, size_t len);

/* Monotonic milliseconds. */
uint64_t now_ms(void);
/* Wall clock milliseconds since the epoch. */
uint64_t wall_ms(void);

#endif
