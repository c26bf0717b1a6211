/*
 * records.h: the record stream berth-unpack reads on stdin. Node parses and validates the tar
 * archive; this stream carries exactly the validated entries, in archive order.
 *
 * The stream starts with the 8 bytes "BUNPACK1". Each record is a 64-byte little-endian header
 *   0 u8 type   1 u8 flags   2 u16 xattr_count   4 u32 mode (07777 bits)   8 u32 uid   12 u32 gid
 *   16 i64 mtime_sec   24 u32 mtime_nsec   28 u32 dev_major   32 u32 dev_minor   36 u32 path_len
 *   40 u32 link_len   44 u32 xattrs_len   48 u64 data_len   56 u64 reserved (must be 0)
 * followed by path, link target, xattrs (each: u32 name_len, u32 value_len, name, value) and
 * data_len bytes of file content. A RECORD_END record closes the stream: without it (the parent
 * died, the pipe broke) the extraction fails. The encoder is
 * libs/images/src/infrastructure/unpack-records.ts; keep the two in step.
 * Read: pipe(7), read(2), endian(3).
 */
#ifndef BERTH_UNPACK_RECORDS_H
#define BERTH_UNPACK_RECORDS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAGIC "BUNPACK1"
#define RECORD_HEADER_SIZE 64
#define RECORD_MAX_XATTRS 32
#define RECORD_MAX_XATTR_NAME 255
#define RECORD_MAX_XATTR_VALUE 65536
#define RECORD_MAX_XATTRS_LEN (256 * 1024)

enum record_type {
	RECORD_FILE = 'f',
	RECORD_DIRECTORY = 'd',
	RECORD_SYMLINK = 'l',
	RECORD_HARDLINK = 'h',
	RECORD_CHAR_DEVICE = 'c',
	RECORD_BLOCK_DEVICE = 'b',
	RECORD_FIFO = 'p',
	/* Sets a directory's times once its content is written (writing children changes them). */
	RECORD_DIRECTORY_TIMES = 't',
	RECORD_END = 'e',
};

/* A directory entry for a parent the parent process created implicitly earlier: apply, not create. */
#define RECORD_FLAG_DIRECTORY_MAY_EXIST 0x01

struct record_xattr {
	char name[RECORD_MAX_XATTR_NAME + 1];
	const unsigned char *value;
	uint32_t value_len;
};

struct record {
	char type;
	uint8_t flags;
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint32_t dev_major;
	uint32_t dev_minor;
	char path[PATH_MAX];
	char link[PATH_MAX];
	unsigned xattr_count;
	struct record_xattr xattrs[RECORD_MAX_XATTRS];
	unsigned char xattr_storage[RECORD_MAX_XATTRS_LEN];
	uint64_t data_len;
};

struct reader {
	int fd;
	size_t start;
	size_t end;
	unsigned char buf[256 * 1024];
};

void reader_init(struct reader *r, int fd);
/* Reads and checks the stream magic; exits with a protocol error otherwise. */
void reader_expect_magic(struct reader *r);
/* Reads the next record header and its path, link and xattrs; the data stays in the stream. */
void record_read(struct reader *r, struct record *rec);
/* Copies exactly len bytes of entry data from the stream to fd. */
void reader_copy_to_fd(struct reader *r, int fd, uint64_t len, const char *path);
/* True when the stream has no byte left (checked after RECORD_END). */
bool reader_at_eof(struct reader *r);

#endif
