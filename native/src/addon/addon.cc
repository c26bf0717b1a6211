/*
 * addon.cc: berth_native.node, the tiny Node addon. Only calls that are safe from a
 * multi-threaded process live here (no clone/setns/unshare/pivot_root: those belong to
 * berth-monitor). Bounded syscalls run on the libuv pool as AsyncWorkers returning Promises;
 * failures reject with an Error carrying `syscall`, `errno` and `code`, and a message like
 * "pidfd_send_signal(2) failed: ESRCH".
 *
 * The root* calls give file access inside an untrusted tree (a guest's root filesystem) as if
 * it were "/": every path is resolved by the kernel with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so absolute symlinks and ".." stay inside the root, and the final
 * component is then operated on with *at() calls on its parent's descriptor, never followed
 * where the operation must not follow. Every descriptor is O_CLOEXEC.
 * Read: pidfd_open(2), pidfd_send_signal(2), openat2(2) (RESOLVE_IN_ROOT), path_resolution(7),
 * renameat2(2), symlinkat(2), fstatat(2), proc(5) (/proc/self/fd), node-addon-api's
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
#include <string>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* Sends a signal through a pidfd, so a recycled pid can never be hit by mistake between the
 * open and the send. */
class SignalWorker : public Napi::AsyncWorker {
public:
	SignalWorker(Napi::Env env, int pid, int signal)
		: Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), pid_(pid), signal_(signal)
	{
	}

	Napi::Promise Promise() { return deferred_.Promise(); }

	void Execute() override
	{
		int fd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
		if (fd < 0) {
			syscall_ = "pidfd_open";
			errno_ = errno;
			return;
		}
		if (syscall(SYS_pidfd_send_signal, fd, signal_, nullptr, 0) < 0) {
			syscall_ = "pidfd_send_signal";
			errno_ = errno;
		}
		close(fd);
	}

	void OnOK() override
	{
		if (syscall_)
			deferred_.Reject(SyscallError(Env(), syscall_, errno_).Value());
		else
			deferred_.Resolve(Env().Undefined());
	}

	void OnError(const Napi::Error &error) override { deferred_.Reject(error.Value()); }

private:
	Napi::Promise::Deferred deferred_;
	int pid_;
	int signal_;
	const char *syscall_ = nullptr;
	int errno_ = 0;
};

Napi::Value SignalProcess(const Napi::CallbackInfo &info)
{
	Napi::Env env = info.Env();
	if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsNumber())
		throw Napi::TypeError::New(env, "signalProcess(pid: number, signal: number)");
	int pid = info[0].As<Napi::Number>().Int32Value();
	int signal = info[1].As<Napi::Number>().Int32Value();
	if (pid <= 0 || signal < 0 || signal > 64)
		throw Napi::RangeError::New(env, "signalProcess: pid must be > 0 and signal within 0..64");
	auto *worker = new SignalWorker(env, pid, signal);
	Napi::Promise promise = worker->Promise();
	worker->Queue();
	return promise;
}

/* ---- file access inside a root ------------------------------------------------------------ */

/* Closes the descriptor it owns. */
class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	int get() const { return fd_; }
	void reset(int fd)
	{
		if (fd_ >= 0)
			close(fd_);
		fd_ = fd;
	}

private:
	int fd_;
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

struct DirEntry {
	std::string name;
	const char *type;
};

/*
 * One call inside a root: opens the root (trusted: the caller's own path), runs Run() on the
 * libuv pool, then resolves with Result() or rejects with the first failed syscall.
 */
class RootCall : public Napi::AsyncWorker {
public:
	RootCall(Napi::Env env, std::string root, std::string path)
		: Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), root_(std::move(root)),
		  path_(std::move(path))
	{
	}

	Napi::Promise Promise() { return deferred_.Promise(); }

	void Execute() override
	{
		Fd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
		if (root.get() < 0) {
			Fail("open", errno);
			return;
		}
		Run(root.get());
	}

	void OnOK() override
	{
		if (syscall_) {
			Napi::Error error = SyscallError(Env(), syscall_, errno_);
			error.Set("path", Napi::String::New(Env(), path_));
			deferred_.Reject(error.Value());
		} else {
			deferred_.Resolve(Result(Env()));
		}
	}

	void OnError(const Napi::Error &error) override { deferred_.Reject(error.Value()); }

protected:
	virtual void Run(int root) = 0;
	virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

	/* Records the first failure; returns false so callers can `return Fail(...)`. */
	bool Fail(const char *syscall, int err)
	{
		if (!syscall_) {
			syscall_ = syscall;
			errno_ = err;
		}
		return false;
	}

	/* An O_PATH descriptor of the parent directory of `path` (resolved in root) and the final
	 * component's name. */
	bool OpenParent(int root, const std::string &path, Fd &parent, std::string &base)
	{
		std::string dir;
		if (!SplitPath(path, dir, base))
			return Fail("openat2", EINVAL);
		parent.reset(OpenInRoot(root, dir, O_PATH | O_DIRECTORY));
		if (parent.get() < 0)
			return Fail("openat2", errno);
		return true;
	}

	const std::string &path() const { return path_; }

private:
	Napi::Promise::Deferred deferred_;
	std::string root_;
	std::string path_;
	const char *syscall_ = nullptr;
	int errno_ = 0;
};

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

/* The entry itself (a final symlink is not followed). */
class LstatCall : public RootCall {
public:
	using RootCall::RootCall;

protected:
	void Run(int root) override
	{
		Fd fd(OpenInRoot(root, path(), O_PATH | O_NOFOLLOW));
		if (fd.get() < 0) {
			Fail("openat2", errno);
			return;
		}
		if (fstatat(fd.get(), "", &st_, AT_EMPTY_PATH) < 0)
			Fail("fstatat", errno);
	}
	Napi::Value Result(Napi::Env env) override { return StatObject(env, st_); }

private:
	struct stat st_ = {};
};

/* Where `path` leads inside the root, symlinks followed (in root): an absolute path from "/". */
class RealpathCall : public RootCall {
public:
	using RootCall::RootCall;

protected:
	static bool FdPath(int fd, std::string &out)
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

	void Run(int root) override
	{
		Fd fd(OpenInRoot(root, path(), O_PATH));
		if (fd.get() < 0) {
			Fail("openat2", errno);
			return;
		}
		std::string top, target;
		if (!FdPath(root, top) || !FdPath(fd.get(), target)) {
			Fail("readlink", errno);
			return;
		}
		if (target == top)
			result_ = "/";
		else if (top == "/")
			result_ = target;
		else if (target.compare(0, top.size() + 1, top + "/") == 0)
			result_ = target.substr(top.size());
		else
			Fail("readlink", EXDEV);
	}
	Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, result_); }

private:
	std::string result_;
};

/* A regular file's bytes (symlinks followed in root), at most max bytes: else EFBIG, or only the
 * first max bytes with `truncate` (a header). Anything
 * but a regular file is refused before it is opened for reading (no FIFO hangs, no device
 * opens): the O_PATH descriptor is checked, then reopened through /proc/self/fd. */
class ReadFileCall : public RootCall {
public:
	ReadFileCall(Napi::Env env, std::string root, std::string path, size_t max, bool truncate)
		: RootCall(env, std::move(root), std::move(path)), max_(max), truncate_(truncate)
	{
	}

protected:
	void Run(int root) override
	{
		Fd handle(OpenInRoot(root, path(), O_PATH));
		if (handle.get() < 0) {
			Fail("openat2", errno);
			return;
		}
		struct stat st;
		if (fstat(handle.get(), &st) < 0) {
			Fail("fstat", errno);
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			Fail("open", S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
			return;
		}
		if (static_cast<uint64_t>(st.st_size) > max_ && !truncate_) {
			Fail("read", EFBIG);
			return;
		}
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", handle.get());
		Fd fd(open(link, O_RDONLY | O_NOCTTY | O_CLOEXEC));
		if (fd.get() < 0) {
			Fail("open", errno);
			return;
		}
		char buf[65536];
		for (;;) {
			size_t want = sizeof(buf);
			if (truncate_)
				want = std::min(want, max_ - data_.size());
			if (want == 0)
				break;
			ssize_t n = read(fd.get(), buf, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				Fail("read", errno);
				return;
			}
			if (n == 0)
				break;
			if (data_.size() + static_cast<size_t>(n) > max_) {
				Fail("read", EFBIG);
				return;
			}
			data_.insert(data_.end(), buf, buf + n);
		}
	}
	Napi::Value Result(Napi::Env env) override { return Napi::Buffer<char>::Copy(env, data_.data(), data_.size()); }

private:
	size_t max_;
	bool truncate_;
	std::vector<char> data_;
};

/* A symlink's target, verbatim. */
class ReadlinkCall : public RootCall {
public:
	using RootCall::RootCall;

protected:
	void Run(int root) override
	{
		Fd fd(OpenInRoot(root, path(), O_PATH | O_NOFOLLOW));
		if (fd.get() < 0) {
			Fail("openat2", errno);
			return;
		}
		char buf[PATH_MAX];
		ssize_t n = readlinkat(fd.get(), "", buf, sizeof(buf));
		if (n < 0) {
			Fail("readlinkat", errno == ENOENT ? EINVAL : errno);
			return;
		}
		if (n == sizeof(buf)) {
			Fail("readlinkat", ENAMETOOLONG);
			return;
		}
		target_.assign(buf, static_cast<size_t>(n));
	}
	Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, target_); }

private:
	std::string target_;
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
class ReaddirCall : public RootCall {
public:
	using RootCall::RootCall;

protected:
	void Run(int root) override
	{
		int fd = OpenInRoot(root, path(), O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			Fail("openat2", errno);
			return;
		}
		DIR *dir = fdopendir(fd);
		if (!dir) {
			Fail("fdopendir", errno);
			close(fd);
			return;
		}
		for (;;) {
			errno = 0;
			struct dirent *entry = readdir(dir);
			if (!entry) {
				if (errno)
					Fail("readdir", errno);
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
			entries_.push_back({ std::move(name), type });
		}
		closedir(dir);
		std::sort(entries_.begin(), entries_.end(), [](const DirEntry &a, const DirEntry &b) { return a.name < b.name; });
	}
	Napi::Value Result(Napi::Env env) override
	{
		Napi::Array out = Napi::Array::New(env, entries_.size());
		for (size_t i = 0; i < entries_.size(); i++) {
			Napi::Object entry = Napi::Object::New(env);
			entry.Set("name", Napi::String::New(env, entries_[i].name));
			entry.Set("type", Napi::String::New(env, entries_[i].type));
			out.Set(static_cast<uint32_t>(i), entry);
		}
		return out;
	}

private:
	std::vector<DirEntry> entries_;
};

/* Owner and mode to give a new entry: the explicit ones, else those of what it replaces,
 * else `mode` and the parent directory's owner. */
struct Ownership {
	int64_t mode = -1;
	int64_t uid = -1;
	int64_t gid = -1;
};

/* Replaces (or creates) a file atomically: a temporary file in the same directory, written,
 * owned, synced, then renamed over the final component (a symlink there is replaced, never
 * followed). */
class WriteFileCall : public RootCall {
public:
	WriteFileCall(Napi::Env env, std::string root, std::string path, std::vector<char> data, Ownership own)
		: RootCall(env, std::move(root), std::move(path)), data_(std::move(data)), own_(own)
	{
	}

protected:
	void Run(int root) override
	{
		Fd parent;
		std::string base;
		if (!OpenParent(root, path(), parent, base))
			return;
		struct stat dir, old;
		if (fstat(parent.get(), &dir) < 0) {
			Fail("fstat", errno);
			return;
		}
		mode_t mode = 0644;
		uid_t uid = dir.st_uid;
		gid_t gid = dir.st_gid;
		if (fstatat(parent.get(), base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(old.st_mode)) {
				Fail("renameat", EISDIR);
				return;
			}
			if (S_ISREG(old.st_mode)) {
				mode = old.st_mode & 07777;
				uid = old.st_uid;
				gid = old.st_gid;
			}
		} else if (errno != ENOENT) {
			Fail("fstatat", errno);
			return;
		}
		if (own_.mode >= 0)
			mode = static_cast<mode_t>(own_.mode);
		if (own_.uid >= 0)
			uid = static_cast<uid_t>(own_.uid);
		if (own_.gid >= 0)
			gid = static_cast<gid_t>(own_.gid);

		uint64_t nonce;
		if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
			Fail("getrandom", errno);
			return;
		}
		char tmp[40];
		snprintf(tmp, sizeof(tmp), ".berth-tmp-%016llx", static_cast<unsigned long long>(nonce));
		Fd fd(openat(parent.get(), tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
		if (fd.get() < 0) {
			Fail("openat", errno);
			return;
		}
		if (!WriteAll(fd.get()) || !Finish(fd.get(), uid, gid, mode)) {
			unlinkat(parent.get(), tmp, 0);
			return;
		}
		fd.reset(-1);
		if (renameat(parent.get(), tmp, parent.get(), base.c_str()) < 0) {
			Fail("renameat", errno);
			unlinkat(parent.get(), tmp, 0);
		}
	}

private:
	bool WriteAll(int fd)
	{
		size_t done = 0;
		while (done < data_.size()) {
			ssize_t n = write(fd, data_.data() + done, data_.size() - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return Fail("write", errno);
			done += static_cast<size_t>(n);
		}
		return true;
	}

	/* chown before chmod: chown clears set-id bits. */
	bool Finish(int fd, uid_t uid, gid_t gid, mode_t mode)
	{
		if (fchown(fd, uid, gid) < 0)
			return Fail("fchown", errno);
		if (fchmod(fd, mode) < 0)
			return Fail("fchmod", errno);
		if (fsync(fd) < 0)
			return Fail("fsync", errno);
		return true;
	}

	std::vector<char> data_;
	Ownership own_;
};

/* renameat2 with both parents resolved in root; RENAME_NOREPLACE on request. */
class RenameCall : public RootCall {
public:
	RenameCall(Napi::Env env, std::string root, std::string from, std::string to, bool noReplace)
		: RootCall(env, std::move(root), from), to_(std::move(to)), noReplace_(noReplace)
	{
	}

protected:
	void Run(int root) override
	{
		Fd fromParent, toParent;
		std::string fromBase, toBase;
		if (!OpenParent(root, path(), fromParent, fromBase) || !OpenParent(root, to_, toParent, toBase))
			return;
		if (renameat2(fromParent.get(), fromBase.c_str(), toParent.get(), toBase.c_str(), noReplace_ ? RENAME_NOREPLACE : 0) < 0)
			Fail("renameat2", errno);
	}

private:
	std::string to_;
	bool noReplace_;
};

/* A symlink whose target is stored verbatim (it is only ever resolved in root). */
class SymlinkCall : public RootCall {
public:
	SymlinkCall(Napi::Env env, std::string root, std::string path, std::string target)
		: RootCall(env, std::move(root), std::move(path)), target_(std::move(target))
	{
	}

protected:
	void Run(int root) override
	{
		Fd parent;
		std::string base;
		if (!OpenParent(root, path(), parent, base))
			return;
		if (symlinkat(target_.c_str(), parent.get(), base.c_str()) < 0)
			Fail("symlinkat", errno);
	}

private:
	std::string target_;
};

/* A new directory, owned like WriteFileCall's new files (default mode 0755). */
class MkdirCall : public RootCall {
public:
	MkdirCall(Napi::Env env, std::string root, std::string path, Ownership own)
		: RootCall(env, std::move(root), std::move(path)), own_(own)
	{
	}

protected:
	void Run(int root) override
	{
		Fd parent;
		std::string base;
		if (!OpenParent(root, path(), parent, base))
			return;
		struct stat dir;
		if (fstat(parent.get(), &dir) < 0) {
			Fail("fstat", errno);
			return;
		}
		mode_t mode = own_.mode >= 0 ? static_cast<mode_t>(own_.mode) : 0755;
		if (mkdirat(parent.get(), base.c_str(), 0700) < 0) {
			Fail("mkdirat", errno);
			return;
		}
		Fd fd(openat(parent.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
		if (fd.get() < 0) {
			Fail("openat", errno);
			return;
		}
		uid_t uid = own_.uid >= 0 ? static_cast<uid_t>(own_.uid) : dir.st_uid;
		gid_t gid = own_.gid >= 0 ? static_cast<gid_t>(own_.gid) : dir.st_gid;
		if (fchown(fd.get(), uid, gid) < 0)
			Fail("fchown", errno);
		else if (fchmod(fd.get(), mode) < 0)
			Fail("fchmod", errno);
	}

private:
	Ownership own_;
};

/* Removes the final component itself (a symlink, not its target); `directory` for rmdir. */
class UnlinkCall : public RootCall {
public:
	UnlinkCall(Napi::Env env, std::string root, std::string path, bool directory)
		: RootCall(env, std::move(root), std::move(path)), directory_(directory)
	{
	}

protected:
	void Run(int root) override
	{
		Fd parent;
		std::string base;
		if (!OpenParent(root, path(), parent, base))
			return;
		if (unlinkat(parent.get(), base.c_str(), directory_ ? AT_REMOVEDIR : 0) < 0)
			Fail("unlinkat", errno);
	}

private:
	bool directory_;
};

/* A descriptor for streaming a file in or out, handed to JavaScript, which closes it:
 *  - Read: a regular file (symlinks followed in root) opened O_RDONLY, refused before it is
 *    opened for reading if it is anything else (as ReadFileCall);
 *  - Append: a regular file opened O_WRONLY | O_APPEND (symlinks followed in root), or a new
 *    one (0600: the caller sets owner and mode) when nothing is there;
 *  - Temp: a new temporary file (0600) in the parent directory of `path`, for the caller to
 *    fill and rename over `path` (rootRename), as WriteFileCall does in one call.
 * Resolves with the descriptor, the guest path it is at and its fstat (for Temp: the parent
 * directory's, whose owner a new file takes by default). */
class OpenCall : public RootCall {
public:
	enum How { Read, Append, Temp };

	OpenCall(Napi::Env env, std::string root, std::string path, How how)
		: RootCall(env, std::move(root), std::move(path)), how_(how), at_(this->path())
	{
	}

	~OpenCall() override
	{
		if (fd_ >= 0)
			close(fd_);
	}

protected:
	void Run(int root) override
	{
		if (how_ == Temp) {
			OpenTemp(root);
			return;
		}
		Fd handle(OpenInRoot(root, path(), O_PATH));
		if (handle.get() < 0 && errno == ENOENT && how_ == Append) {
			OpenNew(root);
			return;
		}
		if (handle.get() < 0) {
			Fail("openat2", errno);
			return;
		}
		if (fstat(handle.get(), &st_) < 0) {
			Fail("fstat", errno);
			return;
		}
		if (!S_ISREG(st_.st_mode)) {
			Fail("open", S_ISDIR(st_.st_mode) ? EISDIR : EINVAL);
			return;
		}
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", handle.get());
		fd_ = open(link, (how_ == Read ? O_RDONLY : O_WRONLY | O_APPEND) | O_NOCTTY | O_CLOEXEC);
		if (fd_ < 0)
			Fail("open", errno);
	}

	Napi::Value Result(Napi::Env env) override
	{
		Napi::Object out = Napi::Object::New(env);
		out.Set("fd", Napi::Number::New(env, fd_));
		out.Set("path", Napi::String::New(env, at_));
		out.Set("stat", StatObject(env, st_));
		fd_ = -1; /* JavaScript owns it now */
		return out;
	}

private:
	void OpenNew(int root)
	{
		Fd parent;
		std::string base;
		if (!OpenParent(root, path(), parent, base))
			return;
		fd_ = openat(parent.get(), base.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
		if (fd_ < 0) {
			Fail("openat", errno);
			return;
		}
		if (fstat(fd_, &st_) < 0)
			Fail("fstat", errno);
	}

	void OpenTemp(int root)
	{
		Fd parent;
		std::string base, dir;
		if (!OpenParent(root, path(), parent, base))
			return;
		SplitPath(path(), dir, base);
		if (fstat(parent.get(), &st_) < 0) {
			Fail("fstat", errno);
			return;
		}
		uint64_t nonce;
		if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce)) {
			Fail("getrandom", errno);
			return;
		}
		char tmp[40];
		snprintf(tmp, sizeof(tmp), ".berth-tmp-%016llx", static_cast<unsigned long long>(nonce));
		fd_ = openat(parent.get(), tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd_ < 0) {
			Fail("openat", errno);
			return;
		}
		at_ = (dir == "/" ? "" : dir == "." ? "" : dir) + "/" + tmp;
	}

	How how_;
	std::string at_;
	int fd_ = -1;
	struct stat st_ = {};
};

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

template <typename Call, typename... Args> Napi::Value Queue(Napi::Env env, Args &&...args)
{
	auto *call = new Call(env, std::forward<Args>(args)...);
	Napi::Promise promise = call->Promise();
	call->Queue();
	return promise;
}

Napi::Value RootLstat(const Napi::CallbackInfo &info)
{
	const char *usage = "rootLstat(root: string, path: string)";
	return Queue<LstatCall>(info.Env(), RootArg(info, usage), PathArg(info, 1, usage));
}

Napi::Value RootRealpath(const Napi::CallbackInfo &info)
{
	const char *usage = "rootRealpath(root: string, path: string)";
	return Queue<RealpathCall>(info.Env(), RootArg(info, usage), PathArg(info, 1, usage));
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
	return Queue<ReadFileCall>(info.Env(), root, path, static_cast<size_t>(max), truncate);
}

Napi::Value RootReadlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootReadlink(root: string, path: string)";
	return Queue<ReadlinkCall>(info.Env(), RootArg(info, usage), PathArg(info, 1, usage));
}

Napi::Value RootReaddir(const Napi::CallbackInfo &info)
{
	const char *usage = "rootReaddir(root: string, path: string)";
	return Queue<ReaddirCall>(info.Env(), RootArg(info, usage), PathArg(info, 1, usage));
}

Napi::Value RootWriteFile(const Napi::CallbackInfo &info)
{
	const char *usage = "rootWriteFile(root: string, path: string, data: Buffer, options?: {mode, uid, gid})";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	if (info.Length() < 3 || !info[2].IsBuffer())
		throw Napi::TypeError::New(info.Env(), usage);
	Napi::Buffer<char> buffer = info[2].As<Napi::Buffer<char>>();
	std::vector<char> data(buffer.Data(), buffer.Data() + buffer.Length());
	return Queue<WriteFileCall>(info.Env(), root, path, std::move(data), OwnershipArg(info, 3, usage));
}

Napi::Value RootRename(const Napi::CallbackInfo &info)
{
	const char *usage = "rootRename(root: string, from: string, to: string, noReplace?: boolean)";
	std::string root = RootArg(info, usage), from = PathArg(info, 1, usage), to = PathArg(info, 2, usage);
	bool noReplace = info.Length() > 3 && info[3].ToBoolean().Value();
	return Queue<RenameCall>(info.Env(), root, from, to, noReplace);
}

Napi::Value RootSymlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootSymlink(root: string, target: string, path: string)";
	std::string root = RootArg(info, usage), target = PathArg(info, 1, usage), path = PathArg(info, 2, usage);
	if (target.empty())
		throw Napi::TypeError::New(info.Env(), "rootSymlink: target must not be empty");
	return Queue<SymlinkCall>(info.Env(), root, path, target);
}

Napi::Value RootMkdir(const Napi::CallbackInfo &info)
{
	const char *usage = "rootMkdir(root: string, path: string, options?: {mode, uid, gid})";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	return Queue<MkdirCall>(info.Env(), root, path, OwnershipArg(info, 2, usage));
}

Napi::Value RootUnlink(const Napi::CallbackInfo &info)
{
	const char *usage = "rootUnlink(root: string, path: string, directory?: boolean)";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage);
	bool directory = info.Length() > 2 && info[2].ToBoolean().Value();
	return Queue<UnlinkCall>(info.Env(), root, path, directory);
}

Napi::Value RootOpen(const Napi::CallbackInfo &info)
{
	const char *usage = "rootOpen(root: string, path: string, how: 'read' | 'append' | 'temp')";
	std::string root = RootArg(info, usage), path = PathArg(info, 1, usage), how = PathArg(info, 2, usage);
	OpenCall::How h;
	if (how == "read")
		h = OpenCall::Read;
	else if (how == "append")
		h = OpenCall::Append;
	else if (how == "temp")
		h = OpenCall::Temp;
	else
		throw Napi::TypeError::New(info.Env(), usage);
	return Queue<OpenCall>(info.Env(), root, path, h);
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
	return exports;
}

} // namespace

NODE_API_MODULE(berth_native, Init)
