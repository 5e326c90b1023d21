/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_tls_test.c - libtern over TLS (OpenSSL) against mosquitto's TLS
 * listeners, with a CA, server and client certificates this test makes with the openssl CLI:
 * verified connection and publish, server name mismatch refused, the explicit insecure switch,
 * an unknown CA refused, a listener that requires a client certificate, TLS 1.3 minimum.
 *
 * Owns: the broker and the certificate directory. Thread: main thread.
 */
#include "tn_test.h"
#include "tc_util.h"

struct st {
    bool connected, disconnected, subscribed, got;
    int err;
};

static void t_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    ((struct st *)ud)->connected = ev->rc == 0;
}
static void t_disc(tern_client *c, void *ud, const struct tern_disconnect_event *ev)
{
    (void)c;
    ((struct st *)ud)->disconnected = true;
    ((struct st *)ud)->err = ev->err;
}
static void t_sub(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    (void)c;
    (void)ev;
    ((struct st *)ud)->subscribed = true;
}
static void t_msg(tern_client *c, void *ud, const struct tern_publish *p, uint8_t v)
{
    (void)c;
    (void)v;
    if (p->payload.n == 6 && !memcmp(p->payload.p, "secret", 6))
        ((struct st *)ud)->got = true;
}

static struct tc_broker B;
static int tls_port, mtls_port;
static char dir[64];

static bool run(const char *cmd)
{
    char full[1024];
    snprintf(full, sizeof full, "cd %s && %s >>openssl.log 2>&1", dir, cmd);
    return system(full) == 0;
}

static bool setup(void)
{
    if (B.pid)
        return true;
    snprintf(dir, sizeof dir, "/tmp/tern-tls-test-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 %s -keyout ca.key -out ca.crt -days 2 "
             "-subj /CN=tern-test-ca",
             ec);
    if (!run(cmd))
        return false;
    char san[128];
    snprintf(san, sizeof san, "%s/san.ext", dir);
    FILE *f = fopen(san, "w");
    if (!f)
        return false;
    fputs("subjectAltName=DNS:localhost,IP:127.0.0.1\n", f);
    fclose(f);
    const char *who[] = {"server", "client"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "openssl req %s -keyout %s.key -out %s.csr -subj /CN=%s", ec,
                 who[i], who[i], i ? "tern-client" : "localhost");
        if (!run(cmd))
            return false;
        snprintf(cmd, sizeof cmd,
                 "openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key "
                 "-CAcreateserial -out %s.crt -days 2 %s",
                 who[i], who[i], i ? "" : "-extfile san.ext");
        if (!run(cmd))
            return false;
    }
    tls_port = tc_free_port();
    mtls_port = tc_free_port();
    snprintf(
        B.extra, sizeof B.extra,
        "listener %d 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
        "listener %d 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
        "require_certificate true\n",
        tls_port, dir, dir, dir, mtls_port, dir, dir, dir);
    if (!tc_broker_start(&B))
        return false;
    long long until = tc_now_ms() + 5000;
    while (!tc_port_open(tls_port) && tc_now_ms() < until)
        poll(NULL, 0, 20);
    return true;
}

static void opts(struct tern_client_opts *o, struct st *s, int port)
{
    static char ca[128];
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    tern_client_opts_init(o);
    o->port = (uint16_t)port;
    o->tls = true;
    o->tls_ca_file = ca;
    o->auto_reconnect = false;
    o->connect_timeout_ms = 5000;
    o->cb.on_connect = t_connect;
    o->cb.on_disconnect = t_disc;
    o->cb.on_subscribe = t_sub;
    o->cb.on_message = t_msg;
    o->user_data = s;
}

/* Wait for connect or disconnect; returns connected. */
static bool attempt(struct tern_client_opts *o, struct st *s, int *err)
{
    tern_client *c = NULL;
    if (tern_client_new(o, &c))
        return false;
    tern_client_connect(c);
    long long until = tc_now_ms() + 8000;
    while (!s->connected && !s->disconnected && tc_now_ms() < until)
        tern_client_run(c, 20);
    *err = s->err;
    bool ok = s->connected;
    if (!ok)
        fprintf(stderr, "  (attempt refused: %s; %s)\n", tern_client_strerror(s->err),
                tern_client_last_error());
    tern_client_free(c);
    return ok;
}

TN_TEST(tls_verified_publish_subscribe)
{
    TN_REQUIRE(setup());
    struct st s = {0};
    struct tern_client_opts o;
    opts(&o, &s, tls_port);
    o.client_id = "tls-ok";
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    TN_EXPECT(tc_run_until(c, &s.connected, 8000));
    tern_client_subscribe1(c, "tern/tls", 1, NULL);
    TN_EXPECT(tc_run_until(c, &s.subscribed, 5000));
    tern_client_publish(c, "tern/tls", "secret", 6, 1, false, NULL, NULL);
    TN_EXPECT(tc_run_until(c, &s.got, 5000));
    tern_client_free(c);
}

TN_TEST(tls_server_name_mismatch_refused)
{
    TN_REQUIRE(setup());
    struct st s = {0};
    struct tern_client_opts o;
    opts(&o, &s, tls_port);
    o.tls_server_name = "not-the-server.example";
    int err = 0;
    TN_EXPECT(!attempt(&o, &s, &err));
    TN_EXPECT_EQ_INT(err, -TERN_ETLS);
    TN_EXPECT(strstr(tern_client_last_error(), "verif") != NULL);
}

TN_TEST(tls_insecure_skips_name_check_only)
{
    TN_REQUIRE(setup());
    struct st s = {0};
    struct tern_client_opts o;
    opts(&o, &s, tls_port);
    o.tls_server_name = "not-the-server.example";
    o.tls_insecure = true;
    int err = 0;
    TN_EXPECT(attempt(&o, &s, &err));
    /* the chain is still checked: an unknown CA fails even with tls_insecure */
    struct st s2 = {0};
    opts(&o, &s2, tls_port);
    o.tls_ca_file = NULL; /* system CAs do not know our test CA */
    o.tls_insecure = true;
    TN_EXPECT(!attempt(&o, &s2, &err));
    TN_EXPECT_EQ_INT(err, -TERN_ETLS);
    struct st s3 = {0};
    opts(&o, &s3, tls_port);
    o.tls_ca_file = NULL;
    o.tls_no_verify = true;
    TN_EXPECT(attempt(&o, &s3, &err));
}

TN_TEST(tls_client_certificate_required)
{
    TN_REQUIRE(setup());
    struct st s = {0};
    struct tern_client_opts o;
    opts(&o, &s, mtls_port);
    int err = 0;
    TN_EXPECT(!attempt(&o, &s, &err));
    struct st s2 = {0};
    char cert[128], key[128];
    snprintf(cert, sizeof cert, "%s/client.crt", dir);
    snprintf(key, sizeof key, "%s/client.key", dir);
    opts(&o, &s2, mtls_port);
    o.tls_cert_file = cert;
    o.tls_key_file = key;
    TN_EXPECT(attempt(&o, &s2, &err));
    /* a key file that does not exist: refused at connect with a message */
    struct st s3 = {0};
    opts(&o, &s3, mtls_port);
    o.tls_cert_file = cert;
    o.tls_key_file = "/nonexistent.key";
    TN_EXPECT(!attempt(&o, &s3, &err));
}

TN_TEST(tls13_minimum_v5)
{
    TN_REQUIRE(setup());
    struct st s = {0};
    struct tern_client_opts o;
    opts(&o, &s, tls_port);
    o.version = TERN_V5;
    o.tls_version = "tlsv1.3";
    int err = 0;
    TN_EXPECT(attempt(&o, &s, &err));
    o.tls_version = "sslv3";
    tern_client *c = NULL;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
}

static void cleanup(void)
{
    tc_broker_cleanup(&B);
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd)) {
        }
    }
}

__attribute__((constructor)) static void reg_cleanup(void)
{
    atexit(cleanup);
}

TN_TEST_MAIN()
