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

/* "1.2.3.4:5" / "[::1]:5" for a peer address. */
void tn_sockaddr_str(const struct sockaddr *sa, char *out, unsigned cap);

#endif
