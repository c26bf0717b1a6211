/*
 * records.c: reads the record stream (format in records.h) from stdin, with every length checked
 * against a fixed bound before anything is copied, and paths checked again here even though Node
 * validated them: this process does the writes, so it does not trust its parent's parsing.
 * Read: read(2), write(2), pipe(7), path_resolution(7).
 */
#include "records.h"

#include "report.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void reader_init(struct reader *r, int fd)
{
	r->fd = fd;
	r->start = 0;
	r->end = 0;
}

/* Refills the buffer; returns false at end of stream. */
static bool reader_fill(struct reader *r)
{
	if (r->start < r->end)
		return true;
	for (;;) {
		ssize_t n = read(r->fd, r->buf, sizeof(r->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_syscall("read", errno, "<stdin>");
		r->start = 0;
		r->end = (size_t)n;
		return n > 0;
	}
}

static void reader_read_exact(struct reader *r, void *dst, size_t len)
{
	unsigned char *out = dst;
	while (len > 0) {
		if (!reader_fill(r))
			protocol_error("record stream ended early (no end record)");
		size_t chunk = r->end - r->start;
		if (chunk > len)
			chunk = len;
		memcpy(out, r->buf + r->start, chunk);
		r->start += chunk;
		out += chunk;
		len -= chunk;
	}
}

bool reader_at_eof(struct reader *r)
{
	return !reader_fill(r);
}

void reader_expect_magic(struct reader *r)
{
	char magic[sizeof(RECORD_MAGIC) - 1];
	reader_read_exact(r, magic, sizeof(magic));
	if (memcmp(magic, RECORD_MAGIC, sizeof(magic)) != 0)
		protocol_error("bad stream magic");
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

/*
 * A relative path of non-empty components, none of them "." or "..", no NUL, no leading or
 * trailing slash, each component within NAME_MAX. openat2(RESOLVE_IN_ROOT) would contain a
 * ".." anyway; rejecting it keeps one meaning for every name.
 */
static bool is_clean_relative_path(const char *path, size_t len)
{
	if (len == 0 || len >= PATH_MAX || memchr(path, '\0', len) != NULL)
		return false;
	size_t component_start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		size_t component_len = i - component_start;
		const char *component = path + component_start;
		if (component_len == 0 || component_len > NAME_MAX)
			return false;
		if (component_len == 1 && component[0] == '.')
			return false;
		if (component_len == 2 && component[0] == '.' && component[1] == '.')
			return false;
		component_start = i + 1;
	}
	return true;
}

static void read_string(struct reader *r, char *dst, uint32_t len)
{
	reader_read_exact(r, dst, len);
	dst[len] = '\0';
}

static void read_xattrs(struct reader *r, struct record *rec, uint16_t count, uint32_t total_len)
{
	if (count > RECORD_MAX_XATTRS || total_len > RECORD_MAX_XATTRS_LEN)
		protocol_error("too many xattrs for %s", rec->path);
	reader_read_exact(r, rec->xattr_storage, total_len);

	size_t offset = 0;
	for (unsigned i = 0; i < count; i++) {
		if (total_len - offset < 8)
			protocol_error("xattr section of %s is short", rec->path);
		uint32_t name_len = le32(rec->xattr_storage + offset);
		uint32_t value_len = le32(rec->xattr_storage + offset + 4);
		offset += 8;
		if (name_len == 0 || name_len > RECORD_MAX_XATTR_NAME || value_len > RECORD_MAX_XATTR_VALUE ||
		    (uint64_t)name_len + value_len > total_len - offset)
			protocol_error("bad xattr lengths for %s", rec->path);
		const unsigned char *name = rec->xattr_storage + offset;
		if (memchr(name, '\0', name_len) != NULL)
			protocol_error("NUL in an xattr name of %s", rec->path);
		memcpy(rec->xattrs[i].name, name, name_len);
		rec->xattrs[i].name[name_len] = '\0';
		rec->xattrs[i].value = rec->xattr_storage + offset + name_len;
		rec->xattrs[i].value_len = value_len;
		offset += name_len + value_len;
	}
	if (offset != total_len)
		protocol_error("xattr section of %s has trailing bytes", rec->path);
	rec->xattr_count = count;
}

void record_read(struct reader *r, struct record *rec)
{
	unsigned char h[RECORD_HEADER_SIZE];
	reader_read_exact(r, h, sizeof(h));

	rec->type = (char)h[0];
	rec->flags = h[1];
	uint16_t xattr_count = le16(h + 2);
	rec->mode = le32(h + 4);
	rec->uid = le32(h + 8);
	rec->gid = le32(h + 12);
	rec->mtime_sec = (int64_t)le64(h + 16);
	rec->mtime_nsec = le32(h + 24);
	rec->dev_major = le32(h + 28);
	rec->dev_minor = le32(h + 32);
	uint32_t path_len = le32(h + 36);
	uint32_t link_len = le32(h + 40);
	uint32_t xattrs_len = le32(h + 44);
	rec->data_len = le64(h + 48);
	rec->path[0] = '\0';
	rec->link[0] = '\0';
	rec->xattr_count = 0;

	if (le64(h + 56) != 0)
		protocol_error("reserved header bytes are set");
	if (rec->type == RECORD_END) {
		if (path_len != 0 || link_len != 0 || xattr_count != 0 || rec->data_len != 0)
			protocol_error("end record carries a payload");
		return;
	}
	if (path_len >= PATH_MAX || link_len >= PATH_MAX)
		protocol_error("path or link longer than PATH_MAX");
	read_string(r, rec->path, path_len);
	read_string(r, rec->link, link_len);
	if (!is_clean_relative_path(rec->path, path_len))
		protocol_error("path is not a clean relative path");
	if ((rec->mode & ~07777u) != 0 || rec->mtime_nsec >= 1000000000u || (rec->flags & ~RECORD_FLAG_DIRECTORY_MAY_EXIST) != 0)
		protocol_error("bad mode, time or flags for %s", rec->path);
	read_xattrs(r, rec, xattr_count, xattrs_len);

	switch (rec->type) {
	case RECORD_FILE:
		break;
	case RECORD_HARDLINK:
		if (!is_clean_relative_path(rec->link, link_len))
			protocol_error("hardlink target of %s is not a clean relative path", rec->path);
		break;
	case RECORD_SYMLINK:
		/* Any target, absolute or with "..": it is stored, never followed. */
		if (link_len == 0 || memchr(rec->link, '\0', link_len) != NULL)
			protocol_error("bad symlink target for %s", rec->path);
		break;
	case RECORD_DIRECTORY:
	case RECORD_CHAR_DEVICE:
	case RECORD_BLOCK_DEVICE:
	case RECORD_FIFO:
	case RECORD_DIRECTORY_TIMES:
		break;
	default:
		protocol_error("unknown record type 0x%02x", (unsigned char)rec->type);
	}
	if (rec->type != RECORD_FILE && rec->data_len != 0)
		protocol_error("%s carries data but is not a regular file", rec->path);
	if (rec->type != RECORD_SYMLINK && rec->type != RECORD_HARDLINK && link_len != 0)
		protocol_error("%s carries a link target but is not a link", rec->path);
}

static void write_all(int fd, const unsigned char *p, size_t len, const char *path)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail_syscall("write", errno, path);
		p += n;
		len -= (size_t)n;
	}
}

void reader_copy_to_fd(struct reader *r, int fd, uint64_t len, const char *path)
{
	while (len > 0) {
		if (!reader_fill(r))
			protocol_error("record stream ended inside the data of %s", path);
		size_t chunk = r->end - r->start;
		if (chunk > len)
			chunk = (size_t)len;
		write_all(fd, r->buf + r->start, chunk, path);
		r->start += chunk;
		len -= chunk;
	}
}
