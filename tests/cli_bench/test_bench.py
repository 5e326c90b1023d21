# SPDX-License-Identifier: MIT
"""tests/cli_bench/test_bench.py - tern bench against Debian's mosquitto 2.0: every mode with
small bounded counts, each QoS and both protocol versions, the --json report's counts, loss
detection (QoS 0 counted, QoS 1 fails the run), the live line on a terminal, Ctrl-C, and the
errors a user sees for bad options, a refused connection or a refused CONNECT.

Speed is not asserted anywhere: the machine running the tests is shared.
Owns: the tern bench processes it starts (brokers come from conftest.py).
Thread: the pytest main thread.
"""
import json
import os
import pty
import re
import select
import signal
import subprocess
import time

import pytest

from conftest import DEADLINE, RUN_TIMEOUT, bench, bench_json, free_port, tern_bin

LIVE_RE = re.compile(r"\[\s*\d+\.\ds\] sent \d+ msg/s  received \d+ msg/s  in flight \d+  "
                     r"errors \d+")


def check_complete(j, sent, subs):
    """Counts of a run where nothing may be lost."""
    assert j["sent"] == sent
    assert j["expected"] == sent * subs
    assert j["received"] == sent * subs
    assert j["unique"] == sent * subs
    assert j["lost"] == 0
    assert j["duplicates"] == 0
    assert j["foreign"] == 0
    assert j["errors"] == 0
    assert j["ok"] is True and j["error"] is None
    assert j["qos_downgraded"] is False
    assert j["drain_cut"] is False
    if j["qos"] > 0:
        assert j["acked"] == sent
    lat = j["latency_us"]
    assert lat["count"] == j["received"]
    assert 0 <= lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"]
    assert j["connections"]["failed"] == 0


@pytest.mark.parametrize("version", ["311", "5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_throughput_each_qos(broker, qos, version):
    j, r = bench_json(broker, "-q", qos, "-V", version, "--count", 2000)
    assert j["mode"] == "throughput"
    assert j["qos"] == qos and j["version"] == ("5.0" if version == "5" else "3.1.1")
    assert j["pubs"] == 1 and j["subs"] == 1
    assert j["connections"]["ok"] == 2
    check_complete(j, 2000, 1)
    assert j["interrupted"] is False
    assert r.stderr == ""  # no live line without a terminal


def test_throughput_many_to_many_over_threads(broker):
    j, _ = bench_json(broker, "-q", 1, "--pubs", 3, "--subs", 2, "--threads", 2, "--count", 700,
                      "--window", 8)
    assert j["threads"] == 2 and j["window"] == 8
    check_complete(j, 2100, 2)


def test_fanout(broker):
    j, _ = bench_json(broker, "--mode", "fanout", "--subs", 4, "-q", 1, "--count", 500)
    assert j["pubs"] == 1 and j["subs"] == 4
    check_complete(j, 500, 4)


def test_fanin_v5_qos2(broker):
    j, _ = bench_json(broker, "--mode", "fanin", "--pubs", 4, "-q", 2, "-V", 5, "--count", 300)
    assert j["pubs"] == 4 and j["subs"] == 1
    check_complete(j, 1200, 1)


def test_mode_defaults(broker):
    j, _ = bench_json(broker, "--mode", "fanin", "--count", 50)
    assert (j["pubs"], j["subs"]) == (10, 1)
    check_complete(j, 500, 1)
    j, _ = bench_json(broker, "--mode", "fanout", "--count", 50)
    assert (j["pubs"], j["subs"]) == (1, 10)
    check_complete(j, 50, 10)


def test_latency_mode_paces_publishing(broker):
    # 100 messages at 200 msg/s cannot take less than 99 intervals of 5 ms.
    j, _ = bench_json(broker, "--mode", "latency", "--rate", 200, "--count", 100, "-q", 1)
    assert j["rate"] == 200
    check_complete(j, 100, 1)
    assert j["send_seconds"] >= 0.99 * 99 / 200


def test_latency_mode_default_rate(broker):
    j, _ = bench_json(broker, "--mode", "latency", "--count", 20)
    assert j["rate"] == 1000
    check_complete(j, 20, 1)


def test_duration_bounds_the_run(broker):
    j, _ = bench_json(broker, "--duration", "500ms", "--rate", 2000, "-q", 1)
    assert j["sent"] > 0
    assert j["send_seconds"] >= 0.45
    check_complete(j, j["sent"], 1)


def test_count_and_duration_whichever_first(broker):
    j, _ = bench_json(broker, "--count", 10, "--duration", 30)
    check_complete(j, 10, 1)
    assert j["send_seconds"] < 30


def test_large_payload(broker):
    j, _ = bench_json(broker, "--size", "100k", "-q", 1, "--count", 50)
    assert j["size"] == 100 * 1024
    check_complete(j, 50, 1)


def test_topic_prefix(broker):
    j, _ = bench_json(broker, "--topic", "bench/here", "--count", 10)
    assert j["topic"] == "bench/here"
    check_complete(j, 10, 1)


def test_idle_connections_and_broker_memory(broker):
    j, _ = bench_json(broker, "--mode", "idle", "--clients", 200, "--broker-pid", broker.pid)
    c = j["connections"]
    assert c["ok"] == 200 and c["failed"] == 0
    assert c["per_second"] > 0
    assert c["connack_us"]["count"] == 200
    b = j["broker"]
    assert b["pid"] == broker.pid
    assert b["rss_kb_before"] > 0 and b["rss_kb_after"] > 0
    assert isinstance(b["rss_per_connection_bytes"], (int, float))
    assert j["ok"] is True


def test_idle_spreads_over_source_addresses(broker):
    j, _ = bench_json(broker, "--mode", "idle", "--clients", 30, "--source-addrs", 3)
    assert j["connections"]["ok"] == 30
    assert j["connections"]["source_addresses"] == 3
    log = broker.log()
    for a in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
        assert re.search(r"New connection from %s:\d+" % re.escape(a), log), log[-2000:]


def test_idle_holds_for_duration(broker):
    j, _ = bench_json(broker, "--mode", "idle", "--clients", 5, "--duration", "300ms",
                      "--keepalive", 1)
    assert j["connections"]["ok"] == 5 and j["ok"] is True


def test_broker_cpu_reported(broker):
    j, _ = bench_json(broker, "--count", 1000, "--broker-pid", broker.pid)
    assert j["broker"]["cpu_percent"] is not None and j["broker"]["cpu_percent"] >= 0
    assert j["broker"]["cpu_wait_percent"] is not None and j["broker"]["cpu_wait_percent"] >= 0
    assert j["bench_cpu_percent"] >= 0 and j["bench_cpu_wait_percent"] >= 0
    check_complete(j, 1000, 1)


def test_text_report(broker):
    r = bench("-h", "127.0.0.1", "-p", broker.port, "-q", 1, "--count", 300)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("tern bench: throughput, MQTT 3.1.1, QoS 1, 1 pub -> 1 sub, 64 B")
    assert re.search(r"^  sent       300 in [\d.]+ s: \d+ msg/s \(300 acknowledged\)$", out, re.M)
    assert re.search(r"^  received   300 of 300 in ", out, re.M)
    assert re.search(r"^  QoS 1      lost 0, duplicates 0, rejected 0, errors 0$", out, re.M)
    assert re.search(r"^  latency    p50 .* p90 .* p99 .* p99\.9 .* max .*\(mean .*, 300 samples\)$",
                     out, re.M)


# ---- losses ------------------------------------------------------------------------------

# mosquitto drops what does not fit a client's queue (max_queued_messages); a subscriber that
# does not read for a second (--sub-stall) while 20 MB arrive makes it drop.
SMALL_QUEUE = ["allow_anonymous true", "max_inflight_messages 0", "max_queued_messages 10"]


def test_qos0_losses_are_counted(mosquitto_factory):
    m = mosquitto_factory(SMALL_QUEUE)
    j, _ = bench_json(m, "--count", 20000, "--size", 1000, "--sub-stall", 1, "--drain", 1)
    assert j["sent"] == 20000
    assert j["lost"] > 0
    assert j["unique"] + j["lost"] == j["sent"]
    assert j["received"] == j["unique"]
    assert j["ok"] is True  # QoS 0 may lose messages


def test_drain_max_cuts_the_wait(broker):
    # The subscriber reads nothing for 5 s; without --drain-max the run would wait --drain
    # (20 s) of no progress. With it, the wait ends 0.5 s after publishing: what has not
    # arrived is lost, and the report says the wait was cut.
    t0 = time.monotonic()
    j, _ = bench_json(broker, "--count", 2000, "--sub-stall", 5, "--drain", 20,
                      "--drain-max", 0.5)
    assert time.monotonic() - t0 < 5
    assert j["drain_cut"] is True
    assert j["sent"] == 2000 and j["lost"] > 0
    assert j["unique"] + j["lost"] == 2000


def test_qos1_loss_fails_the_run(mosquitto_factory):
    m = mosquitto_factory(SMALL_QUEUE)
    j, r = bench_json(m, "-q", 1, "--count", 20000, "--size", 1000, "--sub-stall", 1,
                      "--drain", 1, expect_rc=1)
    assert j["acked"] == 20000  # the broker acknowledged them all...
    assert j["lost"] > 0  # ...and did not deliver them all
    assert j["unique"] + j["lost"] == 20000
    assert j["ok"] is False
    assert "QoS 1 messages lost" in r.stderr


# ---- the terminal ------------------------------------------------------------------------

def read_pty_until_exit(master, proc, deadline):
    out = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    return out.decode(errors="replace")


def test_live_line_on_a_terminal(broker):
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([tern_bin(), "bench", "-h", "127.0.0.1", "-p", str(broker.port),
                                 "--duration", "2500ms", "--rate", "1000"],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
        os.close(slave)
        slave = -1
        text = read_pty_until_exit(master, proc, time.monotonic() + RUN_TIMEOUT)
        assert proc.wait(timeout=DEADLINE) == 0, text
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    lines = [ln for ln in text.splitlines() if LIVE_RE.search(ln)]
    assert len(lines) >= 2, text
    assert "tern bench: throughput" in text


def test_ctrl_c_ends_the_run_with_a_report(broker):
    master, slave = pty.openpty()
    proc = None
    try:
        proc = subprocess.Popen([tern_bin(), "bench", "-h", "127.0.0.1", "-p", str(broker.port),
                                 "-q", "1", "--duration", "60", "--rate", "500", "--json"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = -1
        seen = b""
        deadline = time.monotonic() + RUN_TIMEOUT
        while not LIVE_RE.search(seen.decode(errors="replace")):  # publishing has begun
            assert time.monotonic() < deadline and proc.poll() is None, seen
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=DEADLINE)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    j = json.loads(out)
    assert j["interrupted"] is True
    assert 0 < j["send_seconds"] < 60
    check_complete(j, j["sent"], 1)


# ---- errors --------------------------------------------------------------------------------

def test_connection_refused():
    port = free_port()  # nothing listens there
    r = bench("-h", "127.0.0.1", "-p", port, "--count", 10)
    assert r.returncode == 1
    assert r.stderr == "tern bench: cannot connect to 127.0.0.1:%d: Connection refused\n" % port
    assert r.stdout == ""


def test_connection_refused_json():
    port = free_port()
    r = bench("-h", "127.0.0.1", "-p", port, "--count", 10, "--json")
    assert r.returncode == 1
    j = json.loads(r.stdout)
    assert j["ok"] is False
    assert j["error"] == "cannot connect to 127.0.0.1:%d: Connection refused" % port
    assert j["connections"]["failed"] == 2


def test_idle_connection_refused():
    port = free_port()
    r = bench("-h", "127.0.0.1", "-p", port, "--mode", "idle", "--clients", 20)
    assert r.returncode == 1
    assert "tern bench: cannot connect to 127.0.0.1:%d: Connection refused" % port in r.stderr


@pytest.mark.parametrize("version,text", [
    ("311", "refused the connection: not authorized (0x05)"),
    ("5", "refused the connection: Not authorized (0x87)"),
])
def test_connack_refused(mosquitto_factory, version, text):
    m = mosquitto_factory(["allow_anonymous false"])
    r = bench("-h", "127.0.0.1", "-p", m.port, "-V", version, "--count", 10)
    assert r.returncode == 1
    assert r.stderr == "tern bench: 127.0.0.1:%d %s\n" % (m.port, text)


def test_unresolvable_host():
    r = bench("-h", "nonexistent.invalid", "--count", 1)
    assert r.returncode == 1
    assert r.stderr.startswith("tern bench: cannot resolve nonexistent.invalid: ")


@pytest.mark.parametrize("args,msg", [
    (["-q", "3"], "-q must be 0, 1 or 2, got '3'"),
    (["-V", "4.5"], "-V must be 311 or 5, got '4.5'"),
    (["--mode", "storm"], "--mode must be throughput, fanout, fanin, latency or idle"),
    (["--size", "10"], "--size must be at least 24"),
    (["--count", "0"], "--count must be a whole number from 1"),
    (["--count", "ten"], "--count needs a number, got 'ten'"),
    (["--duration", "5h"], "--duration needs a time such as 10, 2.5s, 500ms or 2m, got '5h'"),
    (["--rate", "-1"], "--rate needs messages per second above 0, got '-1'"),
    (["--drain-max", "soon"], "--drain-max needs a time such as 10, 2.5s, 500ms or 2m"),
    (["--window", "70000"], "--window must be a whole number from 1 to 65535"),
    (["--threads", "0"], "--threads must be a whole number from 1 to 256"),
    (["-p", "65536"], "-p must be a whole number from 1 to 65535"),
    (["--topic", "a/+/b"], "--topic must be a topic name without + or #"),
    (["--pubs"], "--pubs needs a value"),
    (["--bogus"], "unknown option '--bogus'"),
    (["-x"], "unknown option '-x'"),
    (["stray"], "unexpected argument 'stray'"),
    (["--mode", "fanout", "--pubs", "2"], "--mode fanout has one publisher"),
    (["--mode", "fanin", "--subs", "2"], "--mode fanin has one subscriber"),
    (["--mode", "idle", "--pubs", "2"], "--mode idle takes --clients and --duration"),
    (["--clients", "10"], "--clients is for --mode idle"),
    (["--pubs", "0"], "--pubs 0: nothing would be published"),
])
def test_bad_options(args, msg):
    r = bench(*args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("tern bench: ")
    assert msg in r.stderr
    assert r.stderr.endswith("(see tern bench --help)\n")
    assert r.stdout == ""


def test_source_addrs_need_loopback():
    r = bench("-h", "::1", "--source-addrs", "2", "--count", 1)
    assert r.returncode == 1
    assert "--source-addrs needs a broker on a 127.x.x.x address" in r.stderr


def test_help():
    r = bench("--help")
    assert r.returncode == 0
    for opt in ("--mode", "-h, --host", "-p, --port", "-q, --qos", "-V", "--pubs", "--subs",
                "--count", "--duration", "--size", "--rate", "--window", "--json", "--topic",
                "--threads", "--clients", "--broker-pid"):
        assert opt in r.stdout, opt


def test_connect_timeout_when_no_connack():
    # A listener that never accepts: TCP connects (the backlog), CONNACK never comes.
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        port = s.getsockname()[1]
        r = bench("-h", "127.0.0.1", "-p", port, "--count", 1, "--connect-timeout", "500ms")
    assert r.returncode == 1
    assert r.stderr == ("tern bench: timed out connecting to 127.0.0.1:%d: 0 of 2 connections "
                        "ready after 0.5 s\n" % port)


def test_broker_gone_mid_run_fails(broker):
    master, slave = pty.openpty()
    proc = None
    try:
        proc = subprocess.Popen([tern_bin(), "bench", "-h", "127.0.0.1", "-p", str(broker.port),
                                 "-q", "1", "--duration", "60", "--rate", "500"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                text=True)
        os.close(slave)
        slave = -1
        seen = b""
        deadline = time.monotonic() + RUN_TIMEOUT
        while not LIVE_RE.search(seen.decode(errors="replace")):  # publishing has begun
            assert time.monotonic() < deadline and proc.poll() is None, seen
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 65536)
        broker.stop()
        proc.wait(timeout=DEADLINE)
        err = read_pty_until_exit(master, proc, time.monotonic() + DEADLINE)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert proc.returncode == 1
    assert re.search(r"tern bench: (publisher|subscriber) 0: (127\.0\.0\.1:%d closed the "
                     r"connection|read from 127\.0\.0\.1:%d: Connection reset by peer)"
                     % (broker.port, broker.port), err), err


def test_maximum_qos_in_connack_is_respected_v5_3_2_2_11(mosquitto_factory):
    # A 5.0 client that received a Maximum QoS must not publish above it [MQTT-3.2.2-11]
    # (5.0): tern bench stops with a clear message instead of being disconnected.
    m = mosquitto_factory(["allow_anonymous true", "max_qos 1"])
    r = bench("-h", "127.0.0.1", "-p", m.port, "-V", 5, "-q", 2, "--count", 10)
    assert r.returncode == 1
    assert ("tern bench: 127.0.0.1:%d accepts PUBLISH up to QoS 1 (Maximum QoS in CONNACK), "
            "not 2\n" % m.port) in r.stderr


def test_qos_downgrade_is_reported_311(mosquitto_factory):
    # 3.1.1 has no Maximum QoS: the SUBACK grants less and mosquitto drops the QoS 2 publisher.
    m = mosquitto_factory(["allow_anonymous true", "max_qos 1"])
    r = bench("-h", "127.0.0.1", "-p", m.port, "-q", 2, "--count", 10, "--json")
    assert r.returncode == 1
    assert "tern bench: warning: the broker granted some subscriptions a QoS below 2" in r.stderr
    assert json.loads(r.stdout)["qos_downgraded"] is True
