/* SPDX-License-Identifier: MIT */
/*
 * src/net/listen.c - see listen.h.
 * Owns: nothing. Thread: any.
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* host/port as a socket address; -EINVAL for a host that is not a numeric address. */
static int make_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof(*ss));
    if (host && *host && strchr(host, ':') == NULL) {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -EINVAL;
        *sl = sizeof(*a);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (host && *host && inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -EINVAL;
        if (!host || !*host)
            a->sin6_addr = in6addr_any;
        *sl = sizeof(*a);
    }
    return 0;
}

/* A socket bound to host/port (SO_REUSEADDR, SO_REUSEPORT when asked); fd or -errno. */
static int bound_socket(const char *host, uint16_t port, bool reuseport,
                        struct sockaddr_storage *ss, socklen_t *sl)
{
    int fd, one = 1, e = make_addr(host, port, ss, sl);

    if (e < 0)
        return e;
    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ss->ss_family == AF_INET6) {
        int v6only = (host && *host) ? 1 : 0; /* "" listens on IPv4 too */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    }
    if (bind(fd, (struct sockaddr *)ss, *sl) < 0) {
        e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int tn_listen_tcp(const char *host, uint16_t port, bool reuseport, uint16_t *bound)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd = bound_socket(host, port, reuseport, &ss, &sl), e;

    if (fd < 0)
        return fd;
    if (listen(fd, 1024) < 0) {
        e = -errno;
        close(fd);
        return e;
    }
    sl = sizeof(ss);
    if (bound && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                               : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int tn_listen_check_free(const char *host, uint16_t port)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd = bound_socket(host, port, false, &ss, &sl);

    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

void tn_sockaddr_str(const struct sockaddr *sa, char *out, unsigned cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "unknown");
    }
}
