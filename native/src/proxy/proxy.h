/*
 * proxy.h: berth-proxy, one process per proxy device of a running container. It listens in the
 * host's network namespace and, for each client, connects inside the container's: a socket
 * belongs to the namespace it was created in, so only the socket() call runs after setns.
 * Read: setns(2), network_namespaces(7), pidfd_open(2), epoll(7), unix(7), openat2(2).
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

/* One side of the device, as LXD writes it: tcp:<ipv4>:<ports>, tcp:[<ipv6>]:<ports>, unix:<path|@name>. */
struct address {
	bool unix_socket;
	int family;		    /* AF_INET, AF_INET6 or AF_UNIX */
	struct sockaddr_storage ip; /* tcp: the address, port 0 */
	uint16_t *ports;	    /* tcp: expanded in order */
	size_t nports;
	bool abstract;		    /* unix: @name, in the network namespace's abstract space */
	char path[PATH_MAX];	    /* unix: the path, or the abstract name without '@' */
};

/* Parses `text` into `out` (ports on the heap). Returns 0, or -1 with a failure recorded. */
int parse_address(const char *field, const char *text, struct address *out);

/* The socket address of `a` for its `index`-th port (tcp) or its name (abstract unix only). */
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
};

/* Runs the event loop until SIGTERM or the container's init exits. Returns the exit status. */
int relay_run(struct proxy *p);

/* A line in the log (if one was given), capped so a busy client cannot fill the disk. */
void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
