/*
 * udp.c: berth-proxy's datagram relay. UDP has no connections, so the relay keeps a session per
 * client address and listen port: an upstream socket made in the container's network namespace
 * and connect(2)ed to the target, so that the kernel hands its answers to that session alone and
 * the relay sends them back from the listening socket the client wrote to. Datagrams are relayed
 * one for one, never merged or split; one that cannot be sent at once is dropped, as UDP may.
 * Sessions are kept in order of last use: the least recently used one is the next to expire, once
 * silent for the idle timeout in both directions. At the session cap, a new client's datagrams
 * are dropped until a session expires.
 * Read: udp(7), recvfrom(2), sendto(2), connect(2) ("datagram sockets"), epoll(7).
 */
#include "proxy.h"
#include "../monitor/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_SESSIONS 1024
#define BUCKETS 1024
#define BURST 64
/* The largest UDP payload over IPv6 jumbograms aside: 65535 minus the 8-byte UDP header. */
#define MAX_DATAGRAM 65535

struct session {
	struct handle h;
	int fd;	      /* upstream, in the container's namespace, connected */
	size_t index; /* which listen port the client wrote to */
	struct sockaddr_storage client;
	socklen_t client_len;
	uint64_t last; /* now_ms() of the last datagram either way; 0: failed, close at the next sweep */
	struct session *chain;	      /* the next in its hash bucket */
	struct session *older, *newer; /* the order of last use */
};

struct udp_listener {
	struct handle h;
	int fd;
	size_t index;
};

static struct {
	struct proxy *p;
	int epfd;
	uint64_t idle_ms;
	struct udp_listener *listeners;
	struct session *buckets[BUCKETS];
	struct session *oldest, *newest;
	size_t count;
	unsigned char data[MAX_DATAGRAM];
} u;

/* Only the family, port and address tell clients apart: the rest of a sockaddr is padding or scope. */
static bool same_client(const struct session *s, size_t index, const struct sockaddr_storage *sa)
{
	if (s->index != index || s->client.ss_family != sa->ss_family)
		return false;
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&s->client, *y = (const struct sockaddr_in6 *)sa;
		return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	const struct sockaddr_in *x = (const struct sockaddr_in *)&s->client, *y = (const struct sockaddr_in *)sa;
	return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static size_t bucket_of(size_t index, const struct sockaddr_storage *sa)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	const unsigned char *bytes = sa->ss_family == AF_INET6 ? (const unsigned char *)&in6->sin6_addr : (const unsigned char *)&in->sin_addr;
	size_t n = sa->ss_family == AF_INET6 ? sizeof(in6->sin6_addr) : sizeof(in->sin_addr);
	uint32_t h = 2166136261u ^ (uint32_t)index; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ bytes[i]) * 16777619u;
	uint16_t port = sa->ss_family == AF_INET6 ? in6->sin6_port : in->sin_port;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h % BUCKETS;
}

static void unlink_order(struct session *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		u.oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		u.newest = s->older;
	s->older = s->newer = NULL;
}

static void touch(struct session *s)
{
	s->last = now_ms();
	if (u.newest == s)
		return;
	if (s->older || s->newer || u.oldest == s)
		unlink_order(s);
	s->older = u.newest;
	if (u.newest)
		u.newest->newer = s;
	u.newest = s;
	if (!u.oldest)
		u.oldest = s;
}

/* A session whose socket failed: first in line for the next sweep. */
static void doom(struct session *s)
{
	unlink_order(s);
	s->last = 0;
	s->newer = u.oldest;
	if (u.oldest)
		u.oldest->older = s;
	u.oldest = s;
	if (!u.newest)
		u.newest = s;
}

static void close_session(struct session *s)
{
	struct session **link = &u.buckets[bucket_of(s->index, &s->client)];
	while (*link && *link != s)
		link = &(*link)->chain;
	if (*link)
		*link = s->chain;
	unlink_order(s);
	close(s->fd); /* which also takes it out of the epoll set */
	free(s);
	u.count--;
}

static struct session *find(size_t index, const struct sockaddr_storage *sa)
{
	for (struct session *s = u.buckets[bucket_of(index, sa)]; s; s = s->chain)
		if (same_client(s, index, sa))
			return s;
	return NULL;
}

/* A new session: its own upstream socket, connected to the target of listen port `index`. */
static struct session *open_session(size_t index, const struct sockaddr_storage *sa, socklen_t len)
{
	if (u.count >= MAX_SESSIONS)
		return NULL;
	const struct address *target = &u.p->connect;
	struct sockaddr_storage to;
	socklen_t to_len = socket_address(target, target->nports == 1 ? 0 : index, &to);
	int fd = container_socket(target->family, SOCK_DGRAM);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&to, to_len) < 0) {
		log_line("%s(2) to the container failed: %s", fd < 0 ? "socket" : "connect", strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return NULL;
	}
	*s = (struct session){ .h = { K_UDP_SESSION }, .fd = fd, .index = index, .client = *sa, .client_len = len };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->h };
	if (epoll_ctl(u.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		free(s);
		return NULL;
	}
	size_t b = bucket_of(index, sa);
	s->chain = u.buckets[b];
	u.buckets[b] = s;
	u.count++;
	return s;
}

int udp_start(struct proxy *p, int epfd)
{
	u.p = p;
	u.epfd = epfd;
	u.idle_ms = (uint64_t)(p->udp_idle ? p->udp_idle : 30) * 1000;
	u.listeners = calloc(p->nlisteners, sizeof(*u.listeners));
	if (!u.listeners)
		return -1;
	for (size_t i = 0; i < p->nlisteners; i++) {
		u.listeners[i] = (struct udp_listener){ .h = { K_UDP_LISTENER }, .fd = p->listeners[i], .index = i };
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &u.listeners[i].h };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->listeners[i], &ev) < 0)
			return -1;
	}
	return 0;
}

void udp_on_listener(struct handle *h)
{
	struct udp_listener *l = (struct udp_listener *)h;
	for (int burst = 0; burst < BURST; burst++) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(l->fd, u.data, sizeof(u.data), MSG_DONTWAIT, (struct sockaddr *)&from, &len);
		if (n < 0)
			return; /* EAGAIN, or an error queued by an earlier ICMP message: nothing to relay */
		struct session *s = find(l->index, &from);
		if (!s)
			s = open_session(l->index, &from, len);
		if (!s)
			continue; /* at the cap, or the container is unreachable: the datagram is dropped */
		touch(s);
		if (send(s->fd, u.data, (size_t)n, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ECONNREFUSED && errno != EINTR)
			doom(s);
	}
}

void udp_on_session(struct handle *h)
{
	struct session *s = (struct session *)h;
	for (int burst = 0; burst < BURST; burst++) {
		ssize_t n = recv(s->fd, u.data, sizeof(u.data), MSG_DONTWAIT);
		if (n < 0) {
			/* ECONNREFUSED: nothing listens on the target yet; the client may retry. */
			if (errno != EAGAIN && errno != ECONNREFUSED && errno != EINTR)
				doom(s);
			return;
		}
		touch(s);
		sendto(u.listeners[s->index].fd, u.data, (size_t)n, MSG_DONTWAIT, (const struct sockaddr *)&s->client, s->client_len);
	}
}

int udp_timeout_ms(void)
{
	if (!u.oldest)
		return -1;
	uint64_t now = now_ms();
	uint64_t due = u.oldest->last + u.idle_ms;
	return due <= now ? 0 : (int)(due - now > 60000 ? 60000 : due - now);
}

void udp_expire(void)
{
	uint64_t now = now_ms();
	while (u.oldest && now - u.oldest->last >= u.idle_ms)
		close_session(u.oldest);
}
