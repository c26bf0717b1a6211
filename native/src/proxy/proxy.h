/*
 * proxy.h: berth-proxy, one process per proxy device of a running container. It listens in the
 * host's network namespace and, for each client (a TCP or unix connection, or a UDP client
 * address), connects inside the container's: a socket belongs to the namespace it was created
 * in, so only the socket() call runs after setns.
 * Read: setns(2), network_namespaces(7), pidfd_open(2), epoll(7), unix(7), udp(7), openat2(2).
 */
#ifndef BERTH_PROXY_H
#define BERTH_PROXY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* One side of the device, as LXD writes it: tcp:<ipv4>:<ports>, udp:[<ipv6>]:<ports>, unix:<path|@name>. */
struct address {
	bool unix_socket;
	bool datagram;		    /* udp */
	int family;		    /* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage ip; /* tcp, udp: the address, port 0 */
	uint16_t *ports;	    /* tcp, udp: expanded in order */
	size_t nports;
	bool abstract;		    /* unix: @name, in the network namespace's abstract space */
	char path[PATH_MAX];	    /* unix: the path, or the abstract name without '@' */
};

/* Parses `text` into `out` (ports on the heap). Returns 0, or -1 with a failure recorded. */
int parse_address(const char *field, const char *text, struct address *out);

/* The socket address of `a` for its `index`-th port (tcp, udp) or its name (abstract unix only). */
socklen_t socket_address(const struct address *a, size_t index, struct sockaddr_storage *out);

/* What the relay needs from the setup. */
struct proxy {
	struct address listen, connect;
	int pidfd;	    /* the container's init: readable once it exits */
	int host_net;	    /* our own network namespace, to return to after each socket() */
	int container_net;  /* the container's, where upstream sockets are made */
	int container_root; /* its root directory (unix path connects only), -1 otherwise */
	int signal_fd;	    /* SIGTERM, SIGINT */
	int *listeners;
	size_t nlisteners;
	unsigned udp_idle;  /* seconds a UDP session may stay silent before it is closed */
};

/* What an epoll event points at: the first member of every registered object. */
enum kind { K_SIGNAL, K_PIDFD, K_LISTENER, K_END, K_UDP_LISTENER, K_UDP_SESSION };

struct handle {
	enum kind kind;
};

/* Runs the event loop until SIGTERM or the container's init exits. Returns the exit status. */
int relay_run(struct proxy *p);

/* A non-blocking socket of `type` made in the container's network namespace, or -1 with errno. */
int container_socket(int family, int type);

/* udp.c: the datagram relay, driven by relay_run's loop. */
int udp_start(struct proxy *p, int epfd);
void udp_on_listener(struct handle *h);
void udp_on_session(struct handle *h);
/* Milliseconds until the oldest session expires (-1: none), and closing the expired ones. */
int udp_timeout_ms(void);
void udp_expire(void);

/* A line in the log (if one was given), capped so a busy client cannot fill the disk. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
