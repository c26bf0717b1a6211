/*
 * relay.c: berth-proxy's event loop and its stream relay (datagrams are udp.c's). One epoll
 * set, level-triggered, holds the listeners, the init's pidfd, a signalfd and both ends of every
 * relayed connection. Each direction of a connection has one bounded buffer: a side is read only while its buffer has room, so a slow
 * reader slows the writer down instead of growing memory. When a side reaches EOF and its
 * buffer is drained, the other side gets shutdown(SHUT_WR); the connection ends once both
 * directions are done, or at the first error. A descriptor with nothing to wait for is taken
 * out of the set, so a hung-up peer cannot make the loop spin.
 * Read: epoll(7), accept4(2), connect(2) (EINPROGRESS, SO_ERROR), shutdown(2), setns(2),
 * unix(7) (connecting through /proc/self/fd/N), openat2(2) (RESOLVE_IN_ROOT).
 */
#include "proxy.h"
#include "../monitor/util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <unistd.h>

#define BUFFER_SIZE (64 * 1024)
#define MAX_CONNECTIONS 1024

struct buffer {
	size_t start, end; /* pending bytes are data[start, end) */
	char data[BUFFER_SIZE];
};

struct connection;

struct end {
	struct handle h;
	int fd;
	uint32_t watched; /* the events registered in the epoll set; 0 = not registered */
	bool eof;	  /* its reading side reached EOF */
	bool shut;	  /* we shut down writing to it */
	struct connection *c;
};

struct connection {
	struct end client, upstream;
	struct buffer up;   /* client → upstream */
	struct buffer down; /* upstream → client */
	bool connecting;
	bool dropped; /* closed; freed after the current batch of events, which may still name it */
	struct connection *prev, *next;
};

struct listener {
	struct handle h;
	int fd;
	size_t index; /* which listen port: picks the connect port */
};

static struct {
	struct proxy *p;
	int epfd;
	struct listener *listeners;
	struct connection *connections;
	struct connection *dropped; /* chained through next */
	size_t count;
	bool paused; /* listeners out of the set: at the connection cap, or out of descriptors */
} r;

static struct handle signal_handle = { K_SIGNAL }, pidfd_handle = { K_PIDFD };

static int watch(int fd, struct handle *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };
	return epoll_ctl(r.epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Registers, changes or removes `e` so that the set holds exactly `events` for it. */
static void rewatch(struct end *e, uint32_t events)
{
	if (events == e->watched)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = &e->h };
	int op = events == 0 ? EPOLL_CTL_DEL : e->watched == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(r.epfd, op, e->fd, &ev) == 0)
		e->watched = events;
}

static void set_listening(bool on)
{
	if (r.paused == !on)
		return;
	for (size_t i = 0; i < r.p->nlisteners; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &r.listeners[i].h };
		epoll_ctl(r.epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, r.listeners[i].fd, &ev);
	}
	r.paused = !on;
}

static void drop(struct connection *c)
{
	close(c->client.fd); /* closing removes them from the epoll set */
	if (c->upstream.fd >= 0)
		close(c->upstream.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		r.connections = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->dropped = true;
	c->next = r.dropped;
	r.dropped = c;
	r.count--;
	if (r.count < MAX_CONNECTIONS)
		set_listening(true);
}

static bool has_room(const struct buffer *b)
{
	return b->end - b->start < BUFFER_SIZE;
}

static bool has_data(const struct buffer *b)
{
	return b->end > b->start;
}

/* Moves what it can from src to dst through b. Returns false on an error that ends the connection. */
static bool flow(struct end *src, struct end *dst, struct buffer *b, bool src_ready, bool dst_ready)
{
	if (src_ready && !src->eof && has_room(b)) {
		if (b->end == BUFFER_SIZE) {
			memmove(b->data, b->data + b->start, b->end - b->start);
			b->end -= b->start;
			b->start = 0;
		}
		ssize_t n = recv(src->fd, b->data + b->end, BUFFER_SIZE - b->end, 0);
		if (n > 0)
			b->end += (size_t)n;
		else if (n == 0)
			src->eof = true;
		else if (errno != EAGAIN && errno != EINTR)
			return false;
	}
	if (dst_ready && has_data(b)) {
		ssize_t n = send(dst->fd, b->data + b->start, b->end - b->start, MSG_NOSIGNAL);
		if (n > 0)
			b->start += (size_t)n;
		else if (errno != EAGAIN && errno != EINTR)
			return false;
		if (b->start == b->end)
			b->start = b->end = 0;
	}
	if (dst_ready && src->eof && !has_data(b) && !dst->shut) {
		if (shutdown(dst->fd, SHUT_WR) < 0 && errno != ENOTCONN)
			return false;
		dst->shut = true;
	}
	return true;
}

static void pump(struct connection *c)
{
	bool up_ready = !c->connecting;
	if (!flow(&c->client, &c->upstream, &c->up, true, up_ready) || !flow(&c->upstream, &c->client, &c->down, up_ready, true)) {
		drop(c);
		return;
	}
	if (c->client.eof && c->upstream.eof && c->client.shut && c->upstream.shut) {
		drop(c);
		return;
	}
	rewatch(&c->client, (!c->client.eof && has_room(&c->up) ? EPOLLIN : 0) | (has_data(&c->down) ? EPOLLOUT : 0));
	if (c->connecting)
		rewatch(&c->upstream, EPOLLOUT);
	else
		rewatch(&c->upstream, (!c->upstream.eof && has_room(&c->down) ? EPOLLIN : 0) | (has_data(&c->up) ? EPOLLOUT : 0));
}

/* A socket made inside the container's network namespace; we return to ours at once. */
int container_socket(int family, int type)
{
	if (setns(r.p->container_net, CLONE_NEWNET) < 0) {
		log_line("setns(2) into the container failed: %s", strerrorname_np(errno));
		return -1;
	}
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = errno;
	if (setns(r.p->host_net, CLONE_NEWNET) < 0) {
		/* Nothing more may be created in the wrong namespace: stop here, cleanly. */
		log_line("setns(2) back to the host failed: %s", strerrorname_np(errno));
		exit(1);
	}
	errno = err;
	return fd;
}

/*
 * Connects `fd` to the upstream for listen port `index`. A unix path is looked up inside the
 * container's root with RESOLVE_IN_ROOT (its symlinks and ".." cannot leave that root; /proc
 * magic links are refused), then connected to through /proc/self/fd/N, which names exactly the
 * socket inode found. Returns 0, or -1 with errno (EINPROGRESS: connecting).
 */
static int connect_upstream(int fd, size_t index, const char **syscall_name)
{
	const struct address *a = &r.p->connect;
	struct sockaddr_storage sa;
	socklen_t len;
	*syscall_name = "connect";
	if (a->unix_socket && !a->abstract) {
		int target = open_in_root(r.p->container_root, a->path, O_PATH, 0);
		if (target < 0) {
			*syscall_name = "openat2";
			return -1;
		}
		struct sockaddr_un *sun = (struct sockaddr_un *)&sa;
		memset(&sa, 0, sizeof(sa));
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "/proc/self/fd/%d", target);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sun->sun_path) + 1);
		int rc = connect(fd, (const struct sockaddr *)&sa, len);
		int err = errno;
		close(target);
		errno = err;
		return rc;
	}
	len = socket_address(a, a->nports == 1 ? 0 : index, &sa);
	if (len == 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return connect(fd, (const struct sockaddr *)&sa, len);
}

static void on_accept(struct listener *l)
{
	for (int burst = 0; burst < 16 && !r.paused; burst++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				log_line("accept4(2) failed: %s; not accepting until a connection ends", strerrorname_np(errno));
				if (r.count > 0)
					set_listening(false);
			}
			return; /* EAGAIN, or a client that went away (ECONNABORTED) */
		}
		struct connection *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->client = (struct end){ .h = { K_END }, .fd = fd, .c = c };
		c->upstream = (struct end){ .h = { K_END }, .fd = -1, .c = c };
		const char *what = "socket";
		int up = container_socket(r.p->connect.family, SOCK_STREAM);
		int rc = up < 0 ? -1 : connect_upstream(up, l->index, &what);
		if (rc < 0 && errno != EINPROGRESS) {
			log_line("%s(2) to %s failed: %s", what, r.p->connect.unix_socket ? r.p->connect.path : "the container", strerrorname_np(errno));
			if (up >= 0)
				close(up);
			close(fd);
			free(c);
			continue;
		}
		c->upstream.fd = up;
		c->connecting = rc < 0;
		int one = 1;
		if (!r.p->listen.unix_socket)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!r.p->connect.unix_socket)
			setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->next = r.connections;
		if (r.connections)
			r.connections->prev = c;
		r.connections = c;
		if (++r.count >= MAX_CONNECTIONS)
			set_listening(false);
		pump(c);
	}
}

static void on_end(struct end *e)
{
	struct connection *c = e->c;
	if (e == &c->upstream && c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(c->upstream.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err != 0) {
			log_line("connect(2) to the container failed: %s", strerrorname_np(err));
			drop(c);
			return;
		}
		c->connecting = false;
	}
	pump(c);
}

int relay_run(struct proxy *p)
{
	r.p = p;
	r.epfd = epoll_create1(EPOLL_CLOEXEC);
	r.listeners = calloc(p->nlisteners, sizeof(*r.listeners));
	if (r.epfd < 0 || !r.listeners)
		return 1;
	if (watch(p->signal_fd, &signal_handle, EPOLLIN) < 0 || watch(p->pidfd, &pidfd_handle, EPOLLIN) < 0)
		return 1;
	if (p->listen.datagram) {
		if (udp_start(p, r.epfd) < 0)
			return 1;
	} else {
		for (size_t i = 0; i < p->nlisteners; i++) {
			r.listeners[i] = (struct listener){ .h = { K_LISTENER }, .fd = p->listeners[i], .index = i };
			if (watch(p->listeners[i], &r.listeners[i].h, EPOLLIN) < 0)
				return 1;
		}
	}
	for (;;) {
		struct epoll_event events[64];
		int n = epoll_wait(r.epfd, events, 64, p->listen.datagram ? udp_timeout_ms() : -1);
		if (n < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			struct handle *h = events[i].data.ptr;
			switch (h->kind) {
			case K_SIGNAL: {
				struct signalfd_siginfo si;
				if (read(p->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
					return 0;
				break;
			}
			case K_PIDFD:
				log_line("the container's init exited");
				return 0;
			case K_LISTENER:
				on_accept((struct listener *)h);
				break;
			case K_END:
				if (!((struct end *)h)->c->dropped)
					on_end((struct end *)h);
				break;
			case K_UDP_LISTENER:
				udp_on_listener(h);
				break;
			case K_UDP_SESSION:
				udp_on_session(h);
				break;
			}
		}
		if (p->listen.datagram)
			udp_expire();
		while (r.dropped) {
			struct connection *c = r.dropped;
			r.dropped = c->next;
			free(c);
		}
	}
}
