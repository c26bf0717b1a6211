/*
 * address.c: reads the listen= and connect= values (tcp:, udp:, unix:) berthd passes (already validated there; read
 * again here so that the helper never trusts its argv blindly) into socket addresses.
 * Read: inet_pton(3), ip(7), ipv6(7), unix(7) ("Abstract sockets").
 */
#include "proxy.h"
#include "../monitor/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define MAX_PORTS 65535

static int parse_port(const char *text, const char **end, unsigned *out)
{
	unsigned value = 0;
	const char *p = text;
	while (*p >= '0' && *p <= '9' && p - text < 5)
		value = value * 10 + (unsigned)(*p++ - '0');
	if (p == text || value == 0 || value > 65535 || (*p >= '0' && *p <= '9'))
		return -1;
	*end = p;
	*out = value;
	return 0;
}

/* `80`, `8000-8010`, or a comma-separated mix, expanded in order. */
static int parse_ports(const char *field, const char *text, struct address *out)
{
	const char *p = text;
	for (;;) {
		unsigned first, last;
		if (parse_port(p, &p, &first) < 0)
			return fail("parse", EINVAL, "%s: bad port list \"%s\"", field, text);
		last = first;
		if (*p == '-' && parse_port(p + 1, &p, &last) < 0)
			return fail("parse", EINVAL, "%s: bad port range in \"%s\"", field, text);
		if (last < first || out->nports + (last - first + 1) > MAX_PORTS)
			return fail("parse", EINVAL, "%s: bad port range in \"%s\"", field, text);
		uint16_t *grown = realloc(out->ports, (out->nports + (last - first + 1)) * sizeof(*grown));
		if (!grown)
			return fail("realloc", ENOMEM, "%s", field);
		out->ports = grown;
		for (unsigned port = first; port <= last; port++)
			out->ports[out->nports++] = (uint16_t)port;
		if (*p == '\0')
			return 0;
		if (*p++ != ',')
			return fail("parse", EINVAL, "%s: bad port list \"%s\"", field, text);
	}
}

int parse_address(const char *field, const char *text, struct address *out)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(text, "unix:", 5) == 0) {
		const char *rest = text + 5;
		out->unix_socket = true;
		out->family = AF_UNIX;
		if (rest[0] == '@') {
			out->abstract = true;
			rest++;
		} else if (rest[0] != '/') {
			return fail("parse", EINVAL, "%s: a unix address is an absolute path or @name", field);
		}
		if (rest[0] == '\0' || strlen(rest) >= sizeof(out->path))
			return fail("parse", ENAMETOOLONG, "%s: bad unix address", field);
		strcpy(out->path, rest);
		return 0;
	}
	if (strncmp(text, "udp:", 4) == 0)
		out->datagram = true;
	else if (strncmp(text, "tcp:", 4) != 0)
		return fail("parse", EINVAL, "%s: \"%s\" must start with tcp:, udp: or unix:", field, text);

	const char *rest = text + 4, *ports;
	char host[INET6_ADDRSTRLEN];
	size_t len;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		len = close ? (size_t)(close - rest - 1) : 0;
		if (!close || close[1] != ':' || len == 0 || len >= sizeof(host))
			return fail("parse", EINVAL, "%s: bad IPv6 address in \"%s\"", field, text);
		memcpy(host, rest + 1, len);
		ports = close + 2;
		out->family = AF_INET6;
	} else {
		const char *colon = strchr(rest, ':');
		len = colon ? (size_t)(colon - rest) : 0;
		if (!colon || len == 0 || len >= sizeof(host))
			return fail("parse", EINVAL, "%s: \"%s\" must be %.3s:<address>:<ports>", field, text, text);
		memcpy(host, rest, len);
		ports = colon + 1;
		out->family = AF_INET;
	}
	host[len] = '\0';
	if (out->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ip;
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return fail("parse", EINVAL, "%s: \"%s\" is not an IPv6 address", field, host);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ip;
		sin->sin_family = AF_INET;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return fail("parse", EINVAL, "%s: \"%s\" is not an IPv4 address", field, host);
	}
	return parse_ports(field, ports, out);
}

socklen_t socket_address(const struct address *a, size_t index, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (!a->unix_socket) {
		*out = a->ip;
		uint16_t port = htons(a->ports[index < a->nports ? index : 0]);
		if (a->family == AF_INET6) {
			((struct sockaddr_in6 *)out)->sin6_port = port;
			return sizeof(struct sockaddr_in6);
		}
		((struct sockaddr_in *)out)->sin_port = port;
		return sizeof(struct sockaddr_in);
	}
	struct sockaddr_un *sun = (struct sockaddr_un *)out;
	size_t len = strlen(a->path);
	sun->sun_family = AF_UNIX;
	if (a->abstract) {
		if (len + 1 > sizeof(sun->sun_path))
			return 0;
		memcpy(sun->sun_path + 1, a->path, len); /* sun_path[0] == '\0': abstract */
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
	}
	if (len + 1 > sizeof(sun->sun_path))
		return 0;
	memcpy(sun->sun_path, a->path, len + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}
