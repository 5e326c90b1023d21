/* SPDX-License-Identifier: MIT */
/*
 * src/client/net.c - libtern's transport: name resolution (getaddrinfo, blocking), a
 * non-blocking TCP socket, and TLS over it through OpenSSL (CA file/path, client certificate,
 * server name check, explicit insecure switches, minimum TLS version).
 *
 * Owns: the socket, the SSL object and the SSL_CTX of one client.
 * Thread: the client's driver, with c->mu held.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client_internal.h"

int tn_net_open(tern_client *c)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", c->o.port);
    int g = getaddrinfo(c->host, port, &hints, &res);
    if (g != 0 || !res) {
        tn_fail(-TERN_EDNS, "resolve %s: %s", c->host, gai_strerror(g));
        return -TERN_EDNS;
    }
    int err = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = -errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            c->fd = fd;
            freeaddrinfo(res);
            return 0;
        }
        err = -errno;
        close(fd);
    }
    freeaddrinfo(res);
    return err;
}

int tn_net_connect_result(tern_client *c)
{
    int e = 0;
    socklen_t l = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
        return -errno;
    return e ? -e : 0;
}

static int tls_fail(tern_client *c, const char *what)
{
    char buf[200] = "";
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    tn_fail(-TERN_ETLS, "TLS %s: %s", what, buf);
    if (c->o.cb.on_log) {
        /* the log event is emitted by the core on close; keep the detail in last_error */
    }
    return -TERN_ETLS;
}

static int tls_ctx(tern_client *c)
{
    if (c->ssl_ctx)
        return 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return tls_fail(c, "context");
    SSL_CTX_set_min_proto_version(ctx, strcmp(c->o.tls_version, "tlsv1.3") ? TLS1_2_VERSION
                                                                           : TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (c->tls_ca_file || c->tls_ca_path) {
        if (!SSL_CTX_load_verify_locations(ctx, c->tls_ca_file, c->tls_ca_path)) {
            SSL_CTX_free(ctx);
            return tls_fail(c, "loading CA file/path");
        }
    } else if (!SSL_CTX_set_default_verify_paths(ctx)) {
        SSL_CTX_free(ctx);
        return tls_fail(c, "default CA paths");
    }
    if (c->tls_cert_file) {
        if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, c->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            SSL_CTX_free(ctx);
            return tls_fail(c, "client certificate/key");
        }
    }
    SSL_CTX_set_verify(ctx, c->o.tls_no_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    c->ssl_ctx = ctx;
    return 0;
}

int tn_net_tls_start(tern_client *c)
{
    int err = tls_ctx(c);
    if (err)
        return err;
    SSL *ssl = SSL_new(c->ssl_ctx);
    if (!ssl)
        return tls_fail(c, "SSL_new");
    const char *name = c->tls_server_name ? c->tls_server_name : c->host;
    SSL_set_tlsext_host_name(ssl, name);
    if (!c->o.tls_insecure && !c->o.tls_no_verify) {
        /* the certificate must name the host [RFC 6125]: IP literals match IP SANs */
        X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!X509_VERIFY_PARAM_set1_ip_asc(vp, name) && !X509_VERIFY_PARAM_set1_host(vp, name, 0)) {
            SSL_free(ssl);
            return tls_fail(c, "server name");
        }
    }
    SSL_set_fd(ssl, c->fd);
    SSL_set_connect_state(ssl);
    c->tls = (struct tn_tls *)ssl;
    c->tls_want = TERN_WANT_WRITE;
    return 0;
}

int tn_net_tls_handshake(tern_client *c)
{
    SSL *ssl = (SSL *)c->tls;
    ERR_clear_error();
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        c->tls_want = TERN_WANT_READ;
        return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        c->tls_want = TERN_WANT_WRITE;
        return 0;
    }
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) {
        ERR_clear_error();
        tn_fail(-TERN_ETLS, "TLS handshake: certificate verification: %s",
                X509_verify_cert_error_string(v));
        return -TERN_ETLS;
    }
    return tls_fail(c, "handshake");
}

unsigned tn_net_tls_want(const tern_client *c)
{
    return c->tls_want ? c->tls_want : TERN_WANT_READ;
}

bool tn_net_pending(const tern_client *c)
{
    return c->tls && SSL_pending((SSL *)c->tls) > 0;
}

ssize_t tn_net_read(tern_client *c, uint8_t *p, size_t n)
{
    if (c->tls) {
        ERR_clear_error();
        int r = SSL_read((SSL *)c->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (r > 0)
            return r;
        int e = SSL_get_error((SSL *)c->tls, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -EAGAIN;
        if (e == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (e == SSL_ERROR_SYSCALL && errno == 0)
            return 0;
        tls_fail(c, "read");
        return -TERN_ETLS;
    }
    for (;;) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

ssize_t tn_net_write(tern_client *c, const uint8_t *p, size_t n)
{
    if (c->tls) {
        ERR_clear_error();
        int r = SSL_write((SSL *)c->tls, p, n > INT32_MAX ? INT32_MAX : (int)n);
        if (r > 0)
            return r;
        int e = SSL_get_error((SSL *)c->tls, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return -EAGAIN;
        tls_fail(c, "write");
        return -TERN_ETLS;
    }
    for (;;) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0)
            return w;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

void tn_net_close(tern_client *c)
{
    if (c->tls) {
        SSL_free((SSL *)c->tls);
        c->tls = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void tn_net_global_fini(tern_client *c)
{
    if (c->ssl_ctx) {
        SSL_CTX_free(c->ssl_ctx);
        c->ssl_ctx = NULL;
    }
}
