/*
 * addon.cc: berth_native.node, the tiny Node addon. Only calls that are safe from a
 * multi-threaded process live here (no clone/setns/unshare/pivot_root: those belong to
 * berth-monitor). Bounded syscalls run on the libuv pool (one AsyncWorker template, Call, serves
 * them all) and return Promises; failures reject with an Error carrying `syscall`, `errno` and
 * `code`, and a message like "pidfd_send_signal(2) failed: ESRCH".
 *
 * The root* calls give file access inside an untrusted tree (a guest's root filesystem) as if
 * it were "/": every path is resolved by the kernel with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so absolute symlinks and ".." stay inside the root, and the final
 * component is then operated on with *at() calls on its parent's descriptor, never followed
 * where the operation must not follow. Every descriptor is O_CLOEXEC.
 * Read: pidfd_open(2), pidfd_send_signal(2), openat2(2) (RESOLVE_IN_ROOT), path_resolution(7),
 * renameat2(2), symlinkat(2), fstatat(2), proc(5) (/proc/self/fd), unix(7) (SO_PEERCRED), node-addon-api's
 * doc/async_worker.md.
 */
#include <napi.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <optional>
#include <string>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

Napi::Error SyscallError(Napi::Env env, const char *syscall, int err)
{
	const char *name = strerrorname_np(err);
	std::string code = name ? name : "EUNKNOWN";
	Napi::Error error = Napi::Error::New(env, std::string(syscall) + "(2) failed: " + code);
	error.Set("syscall", Napi::String::New(env, syscall));
	error.Set("errno", Napi::Number::New(env, err));
	error.Set("code", Napi::String::New(env, code));
	return error;
}

/* Closes the descriptor it owns. */
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	Fd(Fd &&other) noexcept : fd_(other.release()) {}
	Fd &operator=(Fd &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	~Fd() { reset(-1); }
	int get() const { return fd_; }
	void reset(int fd)
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = fd;
	}
	/* Gives the descriptor up without closing it. */
	int release() { return std::exchange(fd_, -1); }

private:
	int fd_ = -1;
};

/* openat2 relative to `root` as if it were "/"; retried on EAGAIN (a concurrent rename). */
int OpenInRoot(int root, const std::string &path, int flags)
{
	struct open_how how = {};
	how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	const char *p = path.empty() ? "/" : path.c_str();
	int fd;
	do
		fd = static_cast<int>(syscall(SYS_openat2, root, p, &how, sizeof(how)));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

/* Splits `path` into its parent and final component; false when there is no final component
 * to operate on ("/", "", ".", ".." or one ending so). */
bool SplitPath(const std::string &path, std::string &parent, std::string &base)
{
	std::string p = path;
	while (p.size() > 1 && p.back() == '/')
		p.pop_back();
	size_t slash = p.rfind('/');
	if (slash == std::string::npos) {
		parent = ".";
		base = p;
	} else {
		parent = slash == 0 ? "/" : p.substr(0, slash);
		base = p.substr(slash + 1);
	}
	return !base.empty() && base != "." && base != ".." && base.size() <= NAME_MAX;
}

/* What a call's work has on the libuv pool: for a root* call the root (an O_PATH descriptor)
 * and the path the call is about; and the first failed syscall, which its Promise rejects with. */
class Task {
public:
	explicit Task(std::string path) : path(std::move(path)) {}

	/* Records the first failure; returns false so callers can `return t.Fail(...)`. */
	bool Fail(const char *syscall, int err)
	{
		if (!syscall_) {
			syscall_ = syscall;
			errno_ = err;
		}
		return false;
	}
	bool Failed() const { return syscall_ != nullptr; }
	Napi::Error Error(Napi::Env env) const { return SyscallError(env, syscall_, errno_); }

	/* `p` opened with openat2 in the root. */
	int Open(const std::string &p, int flags) const { return OpenInRoot(root, p, flags); }

	/* An O_PATH descriptor of the parent directory of `p` (resolved in root) and the final
	 * component's name. */
	bool OpenParent(const std::string &p, Fd &parent, std::string &base)
	{
		std::string dir;
		if (!SplitPath(p, dir, base))
			return Fail("openat2", EINVAL);
		parent.reset(Open(dir, O_PATH | O_DIRECTORY));
		if (parent.get() < 0)
			return Fail("openat2", errno);
		return true;
	}

	int root = -1;
	const std::string path;

private:
	const char *syscall_ = nullptr;
	int errno_ = 0;
};

/*
 * One call, as an AsyncWorker settling a Promise: `work(task)` runs on the libuv pool, for a
 * root* call with the root opened first (trusted: the caller's own path). The Promise then
 * rejects with the first failure the work recorded (for a root* call with `path` set too), or
 * resolves with `toJs(env, what work returned)`, undefined when the work returns nothing.
 */
template <typename Work, typename ToJs> class Call : public Napi::AsyncWorker {
	using Result = std::invoke_result_t<Work &, Task &>;
	struct Nothing {};

public:
	Call(Napi::Env env, std::optional<std::string> root, std::string path, Work work, ToJs toJs)
		: Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), root_(std::move(root)),
		  task_(std::move(path)), work_(std::move(work)), toJs_(std::move(toJs))
	{
	}

	Napi::Promise Promise() { return deferred_.Promise(); }

	void Execute() override
	{
		Fd root;
		if (root_) {
			root.reset(open(root_->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
			if (root.get() < 0) {
				task_.Fail("open", errno);
				return;
			}
			task_.root = root.get();
		}
		if constexpr (std::is_void_v<Result>)
			work_(task_);
		else
			result_ = work_(task_);
		task_.root = -1;
	}

	void OnOK() override
	{
		if (task_.Failed()) {
			Napi::Error error = task_.Error(Env());
			if (root_)
				error.Set("path", Napi::String::New(Env(), task_.path));
			deferred_.Reject(error.Value());
		} else if constexpr (std::is_void_v<Result>) {
			deferred_.Resolve(Env().Undefined());
		} else {
			deferred_.Resolve(toJs_(Env(), result_));
		}
	}

	void OnError(const Napi::Error &error) override { deferred_.Reject(error.Value()); }

private:
	Napi::Promise::Deferred deferred_;
	std::optional<std::string> root_;
	Task task_;
	Work work_;
	ToJs toJs_;
	std::conditional_t<std::is_void_v<Result>, Nothing, Result> result_{};
};

/* Queues a Call and returns its Promise; without `toJs`, `work` returns nothing. */
template <typename Work, typename ToJs = std::nullptr_t>
Napi::Value Queue(Napi::Env env, std::optional<std::string> root, std::string path, Work work, ToJs toJs = nullptr)
{
	auto *call = new Call<Work, ToJs>(env, std::move(root), std::move(path), std::move(work), std::move(toJs));
	Napi::Promise promise = call->Promise();
	call->Queue();
	return promise;
}

/* ---- arguments ---------------------------------------------------------------------------- */

/* A string argument without NUL bytes (the kernel would see a shorter path). */
std::string PathArg(const Napi::CallbackInfo &info, size_t i, const char *usage)
{
	if (info.Length() <= i || !info[i].IsString())
		throw Napi::TypeError::New(info.Env(), usage);
	std::string s = info[i].As<Napi::String>().Utf8Value();
	if (s.find('\0') != std::string::npos)
		throw Napi::TypeError::New(info.Env(), std::string(usage) + ": paths must not contain NUL bytes");
	return s;
}

std::string RootArg(const Napi::CallbackInfo &info, const char *usage)
{
	std::string root = PathArg(info, 0, usage);
	if (root.empty() || root[0] != '/')
		throw Napi::TypeError::New(info.Env(), std::string(usage) + ": root must be an absolute path");
	return root;
}

/* Owner and mode to give a new entry: the explicit ones, else those of what it replaces,
 * else `mode` and the parent directory's owner. */
struct Ownership {
	int64_t mode = -1;
	int64_t uid = -1;
	int64_t gid = -1;
};

Ownership OwnershipArg(const Napi::CallbackInfo &info, size_t i, const char *usage)
{
	Ownership own;
	if (info.Length() <= i || info[i].IsUndefined())
		return own;
	if (!info[i].IsObject())
		throw Napi::TypeError::New(info.Env(), usage);
	Napi::Object o = info[i].As<Napi::Object>();
	auto field = [&](const char *key, int64_t max) -> int64_t {
		Napi::Value v = o.Get(key);
		if (v.IsUndefined())
			return -1;
		if (!v.IsNumber())
			throw Napi::TypeError::New(info.Env(), std::string(usage) + ": " + key + " must be a number");
		int64_t n = v.As<Napi::Number>().Int64Value();
		if (n < 0 || n > max)
			throw Napi::RangeError::New(info.Env(), std::string(usage) + ": " + key + " out of range");
		return n;
	};
	own.mode = field("mode", 07777);
	own.uid = field("uid", 0xfffffffe);
	own.gid = field("gid", 0xfffffffe);
	return own;
}

/* ---- signals ------------------------------------------------------------------------------ */

/* Sends a signal through a pidfd, so a recycled pid can never be hit by mistake between the
 * open and the send. */
Napi::Value SignalProcess(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber())
		throw Napi::TypeError::New(env, "signalProcess(pid: number, signal: number)");
	int pid = info[0].As<Napi::Number>().Int32Value();
	int signal = info[1].As<Napi::Number>().Int32Value();
	if (pid <= 0 || signal < 0 || signal > 64)
		throw Napi::RangeError::New(env, "signalProcess: pid must be > 0 and signal within 0..64");
	return Queue(env, std::nullopt, "", [pid, signal](Task &t) {
		Fd fd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
		if (fd.get() < 0)
			t.Fail("pidfd_open", errno);
		else if (syscall(SYS_pidfd_send_signal, fd.get(), signal, nullptr, 0) < 0)
			t.Fail("pidfd_send_signal", errno);
	});
}

/* ---- file access inside a root ------------------------------------------------------------ */

Napi::Object StatObject(Napi::Env env, const struct stat &st)
{
	Napi::Object out = Napi::Object::New(env);
	out.Set("mode", Napi::Number::New(env, st.st_mode));
	out.Set("uid", Napi::Number::New(env, st.st_uid));
	out.Set("gid", Napi::Number::New(env, st.st_gid));
	out.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
	out.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
	out.Set("nlink", Napi::Number::New(env, static_cast<double>(st.st_nlink)));
	out.Set("mtimeMs", Napi::Number::New(env, st.st_mtim.tv_sec * 1e3 + st.st_mtim.tv_nsec / 1e6));
	return out;
}

Napi::Value StringValue(Napi::Env env, const std::string &s) { return Napi::String::New(env, s); }

/* The entry itself (a final symlink is not followed). */
Napi::Value RootLstat(const Napi::CallbackInfo &info)
{
	const char *usage = "rootLstat(root: string, path: string)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	return Queue(info.Env(), root, path, [](Task &t) {
		struct stat st = {};
		Fd fd(t.Open(t.path, O_PATH | O_NOFOLLOW));
		if (fd.get() < 0)
			t.Fail("openat2", errno);
		else if (fstatat(fd.get(), "", &st, AT_EMPTY_PATH) < 0)
			t.Fail("fstatat", errno);
		return st;
	}, StatObject);
}

/* The path a descriptor is at, as /proc/self/fd tells. */
bool FdPath(int fd, std::string &out)
{
	char link[64];
	char buf[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, sizeof(buf));
	if (n < 0)
		return false;
	if (n == sizeof(buf)) {
		errno = ENAMETOOLONG;
		return false;
	}
	out.assign(buf, static_cast<size_t>(n));
	return true;
}

/* Where `path` leads inside the root, symlinks followed (in root): an absolute path from "/". */
Napi::Value RootRealpath(const Napi::CallbackInfo &info)
{
	const char *usage = "rootRealpath(root: string, path: string)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	return Queue(info.Env(), root, path, [](Task &t) -> std::string {
		Fd fd(t.Open(t.path, O_PATH));
		if (fd.get() < 0) {
			t.Fail("openat2", errno);
			return {};
		}
		std::string top, target;
		if (!FdPath(t.root, top) || !FdPath(fd.get(), target)) {
			t.Fail("readlink", errno);
			return {};
		}
		if (target == top)
			return "/";
		if (top == "/")
			return target;
		if (target.compare(0, top.size() + 1, top + "/") == 0)
			return target.substr(top.size());
		t.Fail("readlink", EXDEV);
		return {};
	}, StringValue);
}

/* A regular file's bytes (symlinks followed in root), at most max bytes: else EFBIG, or only the
 * first max bytes with `truncate` (a header). Anything but a regular file is refused before it
 * is opened for reading (no FIFO hangs, no device opens): the O_PATH descriptor is checked,
 * then reopened through /proc/self/fd. */
std::vector<char> ReadRegularFile(Task &t, size_t max, bool truncate)
{
	std::vector<char> data;
	Fd handle(t.Open(t.path, O_PATH));
	if (handle.get() < 0) {
		t.Fail("openat2", errno);
		return data;
	}
	struct stat st;
	if (fstat(handle.get(), &st) < 0) {
		t.Fail("fstat", errno);
		return data;
	}
	if (!S_ISREG(st.st_mode)) {
		t.Fail("open", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
		return data;
	}
	if (static_cast<uint64_t>(st.st_size) > max && !truncate) {
		t.Fail("read", EFBIG);
		return data;
	}
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", handle.get());
	Fd fd(open(link, O_RDONLY | O_NOCTTY | O_CLOEXEC));
	if (fd.get() < 0) {
		t.Fail("open", errno);
		return data;
	}
	char buf[65536];
	for (;;) {
		size_t want = sizeof(buf);
		if (truncate)
			want = std::min(want, max - data.size());
		if (want == 0)
			break;
		ssize_t n = read(fd.get(), buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			t.Fail("read", errno);
			return data;
		}
		if (n == 0)
			break;
		if (data.size() + static_cast<size_t>(n) > max) {
			t.Fail("read", EFBIG);
			return data;
		}
		data.insert(data.end(), buf, buf + n);
	}
	return data;
}

Napi::Value RootReadFile(const Napi::CallbackInfo &info)
{
	const char *usage = "rootReadFile(root: string, path: string, maxBytes: number, truncate?: boolean)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	if (info.Length() < 3 || !info[2].IsNumber())
		throw Napi::TypeError::New(info.Env(), usage);
	int64_t max = info[2].As<Napi::Number>().Int64Value();
	if (max < 0 || max > (int64_t(1) << 30))
		throw Napi::RangeError::New(info.Env(), "rootReadFile: maxBytes must be within 0..1 GiB");
	bool truncate = info.Length() > 3 && info[3].ToBoolean().Value();
	return Queue(
		info.Env(), root, path, [max = static_cast<size_t>(max), truncate](Task &t) { return ReadRegularFile(t, max, truncate); },
		[](Napi::Env env, const std::vector<char> &data) { return Napi::Buffer<char>::Copy(env, data.data(), data.size()); });
}

/* A symlink's target, verbatim. */
Napi::Value RootReadlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootReadlink(root: string, path: string)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	return Queue(info.Env(), root, path, [](Task &t) -> std::string {
		Fd fd(t.Open(t.path, O_PATH | O_NOFOLLOW));
		if (fd.get() < 0) {
			t.Fail("openat2", errno);
			return {};
		}
		char buf[PATH_MAX];
		ssize_t n = readlinkat(fd.get(), "", buf, sizeof(buf));
		if (n < 0) {
			t.Fail("readlinkat", errno == ENOENT ? EINVAL : errno);
			return {};
		}
		if (n == sizeof(buf)) {
			t.Fail("readlinkat", ENAMETOOLONG);
			return {};
		}
		return std::string(buf, static_cast<size_t>(n));
	}, StringValue);
}

struct DirEntry {
	std::string name;
	const char *type;
};

const char *TypeName(mode_t mode)
{
	if (S_ISREG(mode))
		return "file";
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symlink";
	return "other";
}

/* A directory's entries (without . and ..) with their types, sorted by name. */
std::vector<DirEntry> ListDirectory(Task &t)
{
	std::vector<DirEntry> entries;
	int fd = t.Open(t.path, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		t.Fail("openat2", errno);
		return entries;
	}
	DIR *dir = fdopendir(fd);
	if (!dir) {
		t.Fail("fdopendir", errno);
		close(fd);
		return entries;
	}
	for (;;) {
		errno = 0;
		struct dirent *entry = readdir(dir);
		if (!entry) {
			if (errno)
				t.Fail("readdir", errno);
			break;
		}
		std::string name = entry->d_name;
		if (name == "." || name == "..")
			continue;
		const char *type = "other";
		switch (entry->d_type) {
		case DT_REG: type = "file"; break;
		case DT_DIR: type = "directory"; break;
		case DT_LNK: type = "symlink"; break;
		case DT_UNKNOWN: {
			struct stat st;
			if (fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				type = TypeName(st.st_mode);
			break;
		}
		default: break;
		}
		entries.push_back({ std::move(name), type });
	}
	closedir(dir);
	std::sort(entries.begin(), entries.end(), [](const DirEntry &a, const DirEntry &b) { return a.name < b.name; });
	return entries;
}

Napi::Value EntriesArray(Napi::Env env, const std::vector<DirEntry> &entries)
{
	Napi::Array out = Napi::Array::New(env, entries.size());
	for (size_t i = 0; i < entries.size(); i++) {
		Napi::Object entry = Napi::Object::New(env);
		entry.Set("name", Napi::String::New(env, entries[i].name));
		entry.Set("type", Napi::String::New(env, entries[i].type));
		out.Set(static_cast<uint32_t>(i), entry);
	}
	return out;
}

Napi::Value RootReaddir(const Napi::CallbackInfo &info)
{
	const char *usage = "rootReaddir(root: string, path: string)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	return Queue(info.Env(), root, path, ListDirectory, EntriesArray);
}

/* A new temporary file (0600, opened for writing) in the directory `dir`, named
 * ".berth-tmp-<random>" (`name`); -1 on failure. */
int CreateTemp(Task &t, int dir, std::string &name)
{
	uint64_t nonce;
	if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		t.Fail("getrandom", errno);
		return -1;
	}
	char tmp[40];
	snprintf(tmp, sizeof(tmp), ".berth-tmp-%016llx", static_cast<unsigned long long>(nonce));
	int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		t.Fail("openat", errno);
	else
		name = tmp;
	return fd;
}

bool WriteAll(Task &t, int fd, const std::vector<char> &data)
{
	size_t done = 0;
	while (done < data.size()) {
		ssize_t n = write(fd, data.data() + done, data.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return t.Fail("write", errno);
		done += static_cast<size_t>(n);
	}
	return true;
}

/* chown before chmod: chown clears set-id bits. */
bool Finish(Task &t, int fd, uid_t uid, gid_t gid, mode_t mode)
{
	if (fchown(fd, uid, gid) < 0)
		return t.Fail("fchown", errno);
	if (fchmod(fd, mode) < 0)
		return t.Fail("fchmod", errno);
	if (fsync(fd) < 0)
		return t.Fail("fsync", errno);
	return true;
}

/* Replaces (or creates) a file atomically: a temporary file in the same directory, written,
 * owned, synced, then renamed over the final component (a symlink there is replaced, never
 * followed). */
void WriteFileAtomically(Task &t, const std::vector<char> &data, const Ownership &own)
{
	Fd parent;
	std::string base;
	if (!t.OpenParent(t.path, parent, base))
		return;
	struct stat dir, old;
	if (fstat(parent.get(), &dir) < 0) {
		t.Fail("fstat", errno);
		return;
	}
	mode_t mode = 0644;
	uid_t uid = dir.st_uid;
	gid_t gid = dir.st_gid;
	if (fstatat(parent.get(), base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(old.st_mode)) {
			t.Fail("renameat", EISDIR);
			return;
		}
		if (S_ISREG(old.st_mode)) {
			mode = old.st_mode & 07777;
			uid = old.st_uid;
			gid = old.st_gid;
		}
	} else if (errno != ENOENT) {
		t.Fail("fstatat", errno);
		return;
	}
	if (own.mode >= 0)
		mode = static_cast<mode_t>(own.mode);
	if (own.uid >= 0)
		uid = static_cast<uid_t>(own.uid);
	if (own.gid >= 0)
		gid = static_cast<gid_t>(own.gid);

	std::string tmp;
	Fd fd(CreateTemp(t, parent.get(), tmp));
	if (fd.get() < 0)
		return;
	if (!WriteAll(t, fd.get(), data) || !Finish(t, fd.get(), uid, gid, mode)) {
		unlinkat(parent.get(), tmp.c_str(), 0);
		return;
	}
	fd.reset(-1);
	if (renameat(parent.get(), tmp.c_str(), parent.get(), base.c_str()) < 0) {
		t.Fail("renameat", errno);
		unlinkat(parent.get(), tmp.c_str(), 0);
	}
}

Napi::Value RootWriteFile(const Napi::CallbackInfo &info)
{
	const char *usage = "rootWriteFile(root: string, path: string, data: Buffer, options?: {mode, uid, gid})";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	if (info.Length() < 3 || !info[2].IsBuffer())
		throw Napi::TypeError::New(info.Env(), usage);
	Napi::Buffer<char> buffer = info[2].As<Napi::Buffer<char>>();
	std::vector<char> data(buffer.Data(), buffer.Data() + buffer.Length());
	Ownership own = OwnershipArg(info, 3, usage);
	return Queue(info.Env(), root, path,
		     [data = std::move(data), own](Task &t) { WriteFileAtomically(t, data, own); });
}

/* renameat2 with both parents resolved in root; RENAME_NOREPLACE on request. */
Napi::Value RootRename(const Napi::CallbackInfo &info)
{
	const char *usage = "rootRename(root: string, from: string, to: string, noReplace?: boolean)";
	std::string root = RootArg(info, usage), from = PathArg(info, 1, usage), to = PathArg(info, 2, usage);
	bool noReplace = info.Length() > 3 && info[3].ToBoolean().Value();
	return Queue(info.Env(), root, from, [to, noReplace](Task &t) {
		Fd fromParent, toParent;
		std::string fromBase, toBase;
		if (!t.OpenParent(t.path, fromParent, fromBase) || !t.OpenParent(to, toParent, toBase))
			return;
		if (renameat2(fromParent.get(), fromBase.c_str(), toParent.get(), toBase.c_str(), noReplace ? RENAME_NOREPLACE : 0) < 0)
			t.Fail("renameat2", errno);
	});
}

/* A symlink whose target is stored verbatim (it is only ever resolved in root). */
Napi::Value RootSymlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootSymlink(root: string, target: string, path: string)";
	std::string root = RootArg(info, usage), target = PathArg(info, 1, usage), path = PathArg(info, 2, usage);
	if (target.empty())
		throw Napi::TypeError::New(info.Env(), "rootSymlink: target must not be empty");
	return Queue(info.Env(), root, path, [target](Task &t) {
		Fd parent;
		std::string base;
		if (!t.OpenParent(t.path, parent, base))
			return;
		if (symlinkat(target.c_str(), parent.get(), base.c_str()) < 0)
			t.Fail("symlinkat", errno);
	});
}

/* A new directory, owned like rootWriteFile's new files (default mode 0755). */
Napi::Value RootMkdir(const Napi::CallbackInfo &info)
{
	const char *usage = "rootMkdir(root: string, path: string, options?: {mode, uid, gid})";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	Ownership own = OwnershipArg(info, 2, usage);
	return Queue(info.Env(), root, path, [own](Task &t) {
		Fd parent;
		std::string base;
		if (!t.OpenParent(t.path, parent, base))
			return;
		struct stat dir;
		if (fstat(parent.get(), &dir) < 0) {
			t.Fail("fstat", errno);
			return;
		}
		mode_t mode = own.mode >= 0 ? static_cast<mode_t>(own.mode) : 0755;
		if (mkdirat(parent.get(), base.c_str(), 0700) < 0) {
			t.Fail("mkdirat", errno);
			return;
		}
		Fd fd(openat(parent.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (fd.get() < 0) {
			t.Fail("openat", errno);
			return;
		}
		uid_t uid = own.uid >= 0 ? static_cast<uid_t>(own.uid) : dir.st_uid;
		gid_t gid = own.gid >= 0 ? static_cast<gid_t>(own.gid) : dir.st_gid;
		if (fchown(fd.get(), uid, gid) < 0)
			t.Fail("fchown", errno);
		else if (fchmod(fd.get(), mode) < 0)
			t.Fail("fchmod", errno);
	});
}

/* Removes the final component itself (a symlink, not its target); `directory` for rmdir. */
Napi::Value RootUnlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootUnlink(root: string, path: string, directory?: boolean)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	bool directory = info.Length() > 2 && info[2].ToBoolean().Value();
	return Queue(info.Env(), root, path, [directory](Task &t) {
		Fd parent;
		std::string base;
		if (!t.OpenParent(t.path, parent, base))
			return;
		if (unlinkat(parent.get(), base.c_str(), directory ? AT_REMOVEDIR : 0) < 0)
			t.Fail("unlinkat", errno);
	});
}

/* What rootOpen hands JavaScript: the descriptor (closed here unless handed over), the guest
 * path it is at and an fstat. */
struct Opened {
	Fd fd;
	std::string at;
	struct stat st = {};
};

enum class OpenHow { Read, Append, Temp };

/* Append, nothing there yet: a new file (0600: the caller sets owner and mode). */
void OpenNew(Task &t, Opened &out)
{
	Fd parent;
	std::string base;
	if (!t.OpenParent(t.path, parent, base))
		return;
	out.fd.reset(openat(parent.get(), base.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600));
	if (out.fd.get() < 0)
		t.Fail("openat", errno);
	else if (fstat(out.fd.get(), &out.st) < 0)
		t.Fail("fstat", errno);
}

/* Temp: a new temporary file (0600) in the parent directory of the path, with that directory's
 * fstat (whose owner a new file takes by default). */
void OpenTemp(Task &t, Opened &out)
{
	Fd parent;
	std::string base, dir;
	if (!t.OpenParent(t.path, parent, base))
		return;
	SplitPath(t.path, dir, base);
	if (fstat(parent.get(), &out.st) < 0) {
		t.Fail("fstat", errno);
		return;
	}
	std::string tmp;
	out.fd.reset(CreateTemp(t, parent.get(), tmp));
	if (out.fd.get() < 0)
		return;
	out.at = (dir == "/" ? "" : dir == "." ? "" : dir) + "/" + tmp;
}

/* A descriptor for streaming a file in or out, handed to JavaScript, which closes it:
 *  - Read: a regular file (symlinks followed in root) opened O_RDONLY, refused before it is
 *    opened for reading if it is anything else (as rootReadFile);
 *  - Append: a regular file opened O_WRONLY | O_APPEND (symlinks followed in root), or a new
 *    one (OpenNew) when nothing is there;
 *  - Temp: a new temporary file (OpenTemp), for the caller to fill and rename over the path
 *    (rootRename), as rootWriteFile does in one call. */
Opened OpenForStream(Task &t, OpenHow how)
{
	Opened out;
	out.at = t.path;
	if (how == OpenHow::Temp) {
		OpenTemp(t, out);
		return out;
	}
	Fd handle(t.Open(t.path, O_PATH));
	if (handle.get() < 0 && errno == ENOENT && how == OpenHow::Append) {
		OpenNew(t, out);
		return out;
	}
	if (handle.get() < 0) {
		t.Fail("openat2", errno);
		return out;
	}
	if (fstat(handle.get(), &out.st) < 0) {
		t.Fail("fstat", errno);
		return out;
	}
	if (!S_ISREG(out.st.st_mode)) {
		t.Fail("open", S_ISDIR(out.st.st_mode) ? EISDIR : EINVAL);
		return out;
	}
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", handle.get());
	out.fd.reset(open(link, (how == OpenHow::Read ? O_RDONLY : O_WRONLY | O_APPEND) | O_NOCTTY | O_CLOEXEC));
	if (out.fd.get() < 0)
		t.Fail("open", errno);
	return out;
}

Napi::Value OpenedObject(Napi::Env env, Opened &opened)
{
	Napi::Object out = Napi::Object::New(env);
	out.Set("fd", Napi::Number::New(env, opened.fd.get()));
	out.Set("path", Napi::String::New(env, opened.at));
	out.Set("stat", StatObject(env, opened.st));
	opened.fd.release(); /* JavaScript owns it now */
	return out;
}

Napi::Value RootOpen(const Napi::CallbackInfo &info)
{
	const char *usage = "rootOpen(root: string, path: string, how: 'read' | 'append' | 'temp')";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage), how = PathArg(info, 2, usage);
	OpenHow h;
	if (how == "read")
		h = OpenHow::Read;
	else if (how == "append")
		h = OpenHow::Append;
	else if (how == "temp")
		h = OpenHow::Temp;
	else
		throw Napi::TypeError::New(info.Env(), usage);
	return Queue(info.Env(), root, path, [h](Task &t) { return OpenForStream(t, h); }, OpenedObject);
}

/* ---- socket peers ------------------------------------------------------------------------ */

/* The pid, uid and gid (SO_PEERCRED) of the process that connected a unix socket, as this
 * process' namespaces see them. Synchronous on purpose: getsockopt on a connected socket never
 * blocks, and the descriptor (a libuv handle's) cannot be closed and reused by another
 * connection between the call and its answer, as it could while queued on the pool. */
Napi::Value PeerCredentials(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() != 1 || !info[0].IsNumber())
		throw Napi::TypeError::New(env, "peerCredentials(fd: number)");
	int fd = info[0].As<Napi::Number>().Int32Value();
	if (fd < 0)
		throw Napi::RangeError::New(env, "peerCredentials: fd must be >= 0");
	struct ucred cred = {};
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		throw SyscallError(env, "getsockopt", errno);
	Napi::Object out = Napi::Object::New(env);
	out.Set("pid", Napi::Number::New(env, cred.pid));
	out.Set("uid", Napi::Number::New(env, cred.uid));
	out.Set("gid", Napi::Number::New(env, cred.gid));
	return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("signalProcess", Napi::Function::New(env, SignalProcess, "signalProcess"));
	exports.Set("rootLstat", Napi::Function::New(env, RootLstat, "rootLstat"));
	exports.Set("rootRealpath", Napi::Function::New(env, RootRealpath, "rootRealpath"));
	exports.Set("rootReadFile", Napi::Function::New(env, RootReadFile, "rootReadFile"));
	exports.Set("rootReadlink", Napi::Function::New(env, RootReadlink, "rootReadlink"));
	exports.Set("rootReaddir", Napi::Function::New(env, RootReaddir, "rootReaddir"));
	exports.Set("rootWriteFile", Napi::Function::New(env, RootWriteFile, "rootWriteFile"));
	exports.Set("rootRename", Napi::Function::New(env, RootRename, "rootRename"));
	exports.Set("rootSymlink", Napi::Function::New(env, RootSymlink, "rootSymlink"));
	exports.Set("rootMkdir", Napi::Function::New(env, RootMkdir, "rootMkdir"));
	exports.Set("rootUnlink", Napi::Function::New(env, RootUnlink, "rootUnlink"));
	exports.Set("rootOpen", Napi::Function::New(env, RootOpen, "rootOpen"));
	exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
	return exports;
}

} // namespace

NODE_API_MODULE(berth_native, Init)
