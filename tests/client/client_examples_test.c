/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_examples_test.c - examples/sensor and examples/display ride out a
 * broker restart: every reading the sensor publishes (QoS 1, persistent sessions) reaches the
 * display, including those published while the broker was down.
 *
 * Owns: the broker and the two example processes (stopped on every path).
 * Thread: main thread.
 */
#include "tn_test.h"
#include "tc_util.h"

#define COUNT 40

static int readings(const char *txt, int *seen)
{
    int n = 0;
    for (const char *p = txt; p && (p = strstr(p, "sensors/s1/temperature ")); p++) {
        int v = atoi(p + strlen("sensors/s1/temperature "));
        if (v >= 0 && v < COUNT && !seen[v]++)
            n++;
    }
    return n;
}

static char *wait_for(const char *path, const char *needle, int ms)
{
    long long until = tc_now_ms() + ms;
    for (;;) {
        char *t = tc_wait_lines(path, 0, 0);
        if ((t && strstr(t, needle)) || tc_now_ms() >= until)
            return t;
        free(t);
        poll(NULL, 0, 20);
    }
}

TN_TEST(examples_ride_out_broker_restart_311)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    char port[16], dout[128], sout[128];
    snprintf(port, sizeof port, "%d", b.port);
    snprintf(dout, sizeof dout, "%s/display.out", b.dir);
    snprintf(sout, sizeof sout, "%s/sensor.out", b.dir);
    char *dargv[] = {TC_DISPLAY, "-p", port, "-i", "disp-test", NULL};
    pid_t d = tc_spawn(dargv, dout);
    char *t = wait_for(dout, "display: connected", 5000);
    TN_EXPECT(t && strstr(t, "display: connected"));
    free(t);
    char *sargv[] = {TC_SENSOR, "-p", port, "-i", "s1", "-n", "40", "-t", "50", NULL};
    pid_t s = tc_spawn(sargv, sout);
    /* a few readings arrive, then the broker goes away */
    long long until = tc_now_ms() + 10000;
    int seen[COUNT];
    while (tc_now_ms() < until) {
        memset(seen, 0, sizeof seen);
        t = tc_wait_lines(dout, 0, 0);
        int n = readings(t, seen);
        free(t);
        if (n >= 5)
            break;
        poll(NULL, 0, 20);
    }
    tc_broker_stop(&b);
    t = wait_for(sout, "sensor: disconnected", 5000);
    TN_EXPECT(t && strstr(t, "disconnected"));
    free(t);
    TN_REQUIRE(tc_broker_start(&b));
    /* every reading arrives; the sensor exits by itself once all are acknowledged */
    int n = 0;
    until = tc_now_ms() + 30000;
    while (tc_now_ms() < until) {
        memset(seen, 0, sizeof seen);
        t = tc_wait_lines(dout, 0, 0);
        n = readings(t, seen);
        free(t);
        if (n == COUNT)
            break;
        poll(NULL, 0, 50);
    }
    TN_EXPECT_EQ_INT(n, COUNT);
    int st = -1;
    until = tc_now_ms() + 10000;
    while (tc_now_ms() < until && waitpid(s, &st, WNOHANG) != s)
        poll(NULL, 0, 20);
    TN_EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (!WIFEXITED(st))
        kill(s, SIGKILL), waitpid(s, NULL, 0);
    tc_reap(s);
    kill(d, SIGTERM);
    waitpid(d, &st, 0);
    tc_reap(d);
    TN_EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    t = tc_wait_lines(dout, 0, 0);
    TN_EXPECT(t && strstr(t, "display: disconnected"));
    free(t);
    tc_broker_cleanup(&b);
}

TN_TEST_MAIN()
