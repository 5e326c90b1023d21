/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_durable_test.c - libtern's durable store: a publisher process is killed
 * with SIGKILL mid-stream, restarted with the same store directory, and completes what it had
 * queued; a subscriber in this process counts every message id the broker delivered: each at
 * least once for QoS 1, exactly once for QoS 2. Also: the store keeps offline messages across
 * a clean restart of the client, and one store directory serves one client at a time.
 *
 * Owns: the broker and the publisher processes it forks (killed on every path).
 * Thread: main thread; the publisher runs in forked children.
 */
#include "tn_test.h"
#include "tc_util.h"

#define N 1500

struct sub {
    bool connected, subscribed;
    int seen[N];
    int total;
};

static void s_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    ((struct sub *)ud)->connected = ev->rc == 0;
}
static void s_subscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    (void)c;
    (void)ev;
    ((struct sub *)ud)->subscribed = true;
}
static void s_message(tern_client *c, void *ud, const struct tern_publish *p, uint8_t v)
{
    (void)c;
    (void)v;
    struct sub *s = ud;
    char b[16] = {0};
    memcpy(b, p->payload.p, p->payload.n < 15 ? p->payload.n : 15);
    int i = atoi(b);
    if (i >= 0 && i < N)
        s->seen[i]++;
    s->total++;
}

/* The publisher: queue (if `publish`) N messages, then run until all are acknowledged. */
static void publisher(int port, const char *dir, int qos, bool publish, int report_fd, uint8_t ver)
{
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)port;
    o.client_id = "dur-pub";
    o.clean = false; /* exactly once needs the broker to keep our QoS 2 state */
    o.version = ver;
    if (ver == TERN_V5)
        o.session_expiry = 600; /* 5.0: the session outlives the connection */
    o.store_dir = dir;
    o.max_inflight = 10;
    o.reconnect_min_ms = 50;
    tern_client *c = NULL;
    if (tern_client_new(&o, &c))
        _exit(2);
    if (publish)
        for (int i = 0; i < N; i++) {
            char p[16];
            snprintf(p, sizeof p, "%d", i);
            if (tern_client_publish(c, "tern/dur", p, strlen(p), qos, false, NULL, NULL))
                _exit(3);
        }
    int32_t q = publish ? N : 0;
    if (write(report_fd, &q, sizeof q) != sizeof q)
        _exit(4);
    tern_client_connect(c);
    long long until = tc_now_ms() + 60000;
    size_t left = 1;
    while (tc_now_ms() < until) {
        tern_client_run(c, 20);
        tern_client_queued(c, &left, NULL);
        if (!left)
            break;
    }
    tern_client_free(c);
    _exit(left ? 5 : 0);
}

static pid_t fork_publisher(int port, const char *dir, int qos, bool publish, int *rfd, uint8_t ver)
{
    int pfd[2];
    if (pipe(pfd))
        return -1;
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(pfd[0]);
        publisher(port, dir, qos, publish, pfd[1], ver);
    }
    close(pfd[1]);
    *rfd = pfd[0];
    if (p > 0)
        tc_track_(p, true);
    return p;
}

static void sigkill_midstream(int qos, uint8_t ver)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    char store[128];
    snprintf(store, sizeof store, "%s/store", b.dir);

    struct sub *s = calloc(1, sizeof *s);
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)b.port;
    o.client_id = "dur-sub";
    o.cb.on_connect = s_connect;
    o.cb.on_subscribe = s_subscribe;
    o.cb.on_message = s_message;
    o.user_data = s;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    tern_client_subscribe1(c, "tern/dur", 2, NULL);
    TN_REQUIRE(tc_run_until(c, &s->subscribed, 5000));

    int rfd;
    pid_t p = fork_publisher(b.port, store, qos, true, &rfd, ver);
    TN_REQUIRE(p > 0);
    int32_t queued = 0;
    TN_EXPECT(read(rfd, &queued, sizeof queued) == sizeof queued);
    close(rfd);
    TN_EXPECT_EQ_INT(queued, N);
    /* kill it once a third has arrived: messages are in flight at that moment */
    long long until = tc_now_ms() + 20000;
    while (s->total < N / 3 && tc_now_ms() < until)
        tern_client_run(c, 10);
    kill(p, SIGKILL);
    int st = 0;
    waitpid(p, &st, 0);
    tc_reap(p);
    TN_EXPECT(WIFSIGNALED(st));
    int before = s->total;
    TN_EXPECT(before < N); /* it really was mid-stream */

    /* restart with the same store: it finishes what it had */
    p = fork_publisher(b.port, store, qos, false, &rfd, ver);
    TN_REQUIRE(p > 0);
    int32_t dummy;
    TN_EXPECT(read(rfd, &dummy, sizeof dummy) == sizeof dummy);
    close(rfd);
    until = tc_now_ms() + 60000;
    bool exited = false;
    while (tc_now_ms() < until) {
        tern_client_run(c, 10);
        if (!exited && waitpid(p, &st, WNOHANG) == p) {
            exited = true;
            tc_reap(p);
        }
        bool all = true;
        for (int i = 0; i < N && all; i++)
            all = s->seen[i] > 0;
        if (exited && all)
            break;
    }
    if (!exited) {
        kill(p, SIGKILL);
        waitpid(p, &st, 0);
        tc_reap(p);
    }
    TN_EXPECT(exited && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* drain a little longer: a duplicate would come now */
    for (int i = 0; i < 10; i++)
        tern_client_run(c, 10);
    int missing = 0, dups = 0;
    for (int i = 0; i < N; i++) {
        missing += s->seen[i] == 0;
        dups += s->seen[i] > 1;
    }
    fprintf(stderr, "v%u qos %d: delivered %d before the kill, %d in all, %d missing, %d dup\n",
            ver, qos, before, s->total, missing, dups);
    TN_EXPECT_EQ_INT(missing, 0); /* at least once (QoS 1), and QoS 2 ... */
    if (qos == 2)
        TN_EXPECT_EQ_INT(dups, 0); /* ... exactly once [MQTT-4.3.3-3] (5.0) */
    tern_client_free(c);
    free(s);
    tc_broker_cleanup(&b);
}

TN_TEST(sigkill_midstream_qos1_at_least_once_311)
{
    sigkill_midstream(1, TERN_V311);
}
TN_TEST(sigkill_midstream_qos2_exactly_once_311)
{
    sigkill_midstream(2, TERN_V311);
}
TN_TEST(sigkill_midstream_qos2_exactly_once_v5)
{
    sigkill_midstream(2, TERN_V5);
}

/* Queued QoS 1/2 messages survive freeing the client; QoS 0 ones are not stored. */
TN_TEST(store_keeps_offline_queue_across_restart)
{
    char dir[] = "/tmp/tern-store-test-XXXXXX";
    TN_REQUIRE(mkdtemp(dir));
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.client_id = "st";
    o.store_dir = dir;
    tern_client *c = NULL, *c2 = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    uint64_t last = 0, m = 0;
    for (int i = 0; i < 100; i++) {
        TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "abc", 3, i % 3, false, NULL, &m), 0);
        if (i % 3)
            last = m; /* the stored ones */
    }
    /* one client per store directory */
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c2), -TERN_ESTORE);
    TN_EXPECT(strstr(tern_client_last_error(), "in use") != NULL);
    tern_client_free(c);
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    size_t n = 0;
    tern_client_queued(c, &n, NULL);
    TN_EXPECT_EQ_INT(n, 66); /* QoS 1 and 2 of 100 */
    uint64_t mid = 0;
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "x", 1, 1, false, NULL, &mid), 0);
    TN_EXPECT(mid > last); /* ids keep growing past the recovered ones */
    tern_client_free(c);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TN_EXPECT(system(cmd) == 0);
}

static void count_pub(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    (void)c;
    (void)ev;
    (*(int *)ud)++;
}

/* The log is compacted once it is mostly dead (>= 4 MiB, under a quarter live): 5000 x 1 KiB
 * messages streamed through it leave well under the 5+ MiB written, and what is queued after
 * that still survives a restart (here with TERN_SYNC_ALWAYS). */
TN_TEST(store_compacts_when_mostly_dead_311)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    char store[128], log[160];
    snprintf(store, sizeof store, "%s/cstore", b.dir);
    snprintf(log, sizeof log, "%s/tern.log", store);
    int acked = 0;
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)b.port;
    o.client_id = "compact";
    o.store_dir = store;
    o.cb.on_publish = count_pub;
    o.user_data = &acked;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    static char big[1024];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 5000; i++)
        TN_REQUIRE(tern_client_publish(c, "tern/compact", big, sizeof big, 1, false, NULL, NULL) ==
                   0);
    struct stat st;
    TN_EXPECT(stat(log, &st) == 0 && (long long)st.st_blocks * 512 >= 4 << 20);
    long long until = tc_now_ms() + 30000;
    while (acked < 5000 && tc_now_ms() < until)
        tern_client_run(c, 20);
    TN_EXPECT_EQ_INT(acked, 5000);
    tern_client_run(c, 0);
    /* the file is sparse past its last record: count the blocks it really uses */
    TN_EXPECT(stat(log, &st) == 0 && (long long)st.st_blocks * 512 <= 3 << 20);
    tern_client_free(c);

    o.store_sync = TERN_SYNC_ALWAYS;
    o.port = 1; /* nothing listens: stays offline */
    o.auto_reconnect = false;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    size_t n = 9;
    tern_client_queued(c, &n, NULL);
    TN_EXPECT_EQ_INT(n, 0);
    for (int i = 0; i < 4; i++)
        TN_EXPECT_EQ_INT(
            tern_client_publish(c, "tern/compact", "y", 1, 1 + i % 2, false, NULL, NULL), 0);
    tern_client_free(c);
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_queued(c, &n, NULL);
    TN_EXPECT_EQ_INT(n, 4);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

TN_TEST_MAIN()
