/* SPDX-License-Identifier: MIT */
/*
 * src/net/listen.h - TCP listening sockets and the TCP transport's few socket helpers.
 * Owns: nothing (returns descriptors to the caller). Thread: any.
 */
#ifndef TN_LISTEN_H
#define TN_LISTEN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Open a non-blocking listening socket on host (numeric IPv4/IPv6; "" = every address, IPv6
 * dual-stack when possible) and port (0 = any). With reuseport, several sockets may share the
 * port so the kernel spreads connections over them. Returns the fd or -errno; *bound gets the
 * port actually bound. */
int tn_listen_tcp(const char *host, uint16_t port, bool reuseport, uint16_t *bound);

/* 0 if nothing else listens on host/port, else -errno (-EADDRINUSE). SO_REUSEPORT lets any
 * process of the same user join a port group, so a second broker started on the same port
 * would silently share its clients with the first; binding once without it first catches
 * that (a socket with SO_REUSEPORT cannot share a port with one without). */
int tn_listen_check_free(const char *host, uint16_t port);

/* "1.2.3.4:5" / "[::1]:5" for a peer address. */
void tn_sockaddr_str(const struct sockaddr *sa, char *out, unsigned cap);

#endif
