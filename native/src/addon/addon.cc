/*
 * addon.cc: berth_native.node, the tiny Node addon. Only calls that are safe from a
 * multi-threaded process live here (no clone/setns/unshare/pivot_root: those belong to
 * berth-monitor). Bounded syscalls run on the libuv pool as AsyncWorkers returning Promises;
 * failures reject with an Error carrying `syscall`, `errno` and `code`, and a message like
 * "pidfd_send_signal(2) failed: ESRCH".
 * Read: pidfd_open(2), pidfd_send_signal(2), node-addon-api's doc/async_worker.md.
 */
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

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

Napi::Object Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("signalProcess", Napi::Function::New(env, SignalProcess, "signalProcess"));
	return exports;
}

} // namespace

NODE_API_MODULE(berth_native, Init)
