# SPDX-License-Identifier: MIT
"""--trace (and -d): one stderr line per packet, time-stamped, with its fields. The QoS 2
exchange must show PUBLISH, PUBREC, PUBREL, PUBCOMP with one packet id, in that order
[MQTT-4.3.3-1] (3.1.1 / 5.0 QoS 2 delivery); QoS 1 shows PUBLISH then PUBACK."""
import re

import pytest

from conftest import TERN, mpub, tern, uid

H = ("-h", "127.0.0.1")
TS = r"\d\d:\d\d:\d\d\.\d{6}"


def packets(stderr):
    """[(direction, rest of line)] of the trace lines, time stamps checked."""
    out = []
    for line in stderr.decode().splitlines():
        m = re.fullmatch(TS + r" (->|<-) (.*)", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def test_trace_pub_qos2_flow(broker, topic):
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-m", "hello", "-q", 2, "--trace")
    assert r.returncode == 0, r.stderr
    p = packets(r.stderr)
    kinds = [(d, rest.split()[0]) for d, rest in p]
    assert kinds == [("->", "CONNECT"), ("<-", "CONNACK"), ("->", "PUBLISH"), ("<-", "PUBREC"),
                     ("->", "PUBREL"), ("<-", "PUBCOMP"), ("->", "DISCONNECT")], p
    m = re.fullmatch(rf"PUBLISH id=(\d+) qos=2 topic={re.escape(topic)} payload=5B", p[2][1])
    assert m, p[2]
    pid = m.group(1)
    assert p[3][1] == f"PUBREC id={pid}"
    assert p[4][1] == f"PUBREL id={pid}"
    assert p[5][1] == f"PUBCOMP id={pid}"


def test_trace_pub_qos1_v5_with_reason_codes_and_props(broker, topic):
    r = tern("pub", *H, "-p", broker.port, "-V", 5, "-t", topic, "-m", "x", "-q", 1, "-r",
             "-D", "publish", "user-property", "k", "v", "-d")
    assert r.returncode == 0, r.stderr
    p = packets(r.stderr)
    assert p[0][1].startswith("CONNECT v=5 ")
    assert p[1][1].startswith("CONNACK rc=0x00(Success) session-present=0")
    assert re.fullmatch(rf"PUBLISH id=(\d+) qos=1 retain=1 topic={re.escape(topic)} "
                        r"payload=1B props\{user-property=k:v\}", p[2][1]), p[2]
    # No subscriber: mosquitto answers 0x10 No matching subscribers (5.0 PUBACK).
    assert re.fullmatch(r"PUBACK id=\d+( rc=0x10\(No matching subscribers\))?", p[3][1]), p[3]
    assert p[4][1] == "DISCONNECT rc=0x00(Success)"


def test_trace_sub_receives_qos2(broker, procs, topic):
    cid = uid("trsub-")
    s = procs.start([TERN, "sub", *H, "-p", broker.port, "-i", cid, "-t", topic, "-q", 2,
                     "-C", 1, "--trace"])
    broker.wait_subscribed(cid, topic)
    mpub(broker, "-t", topic, "-m", "two", "-q", 2)
    rc, out, err = procs.finish(s)
    assert rc == 0, err
    assert out == b"two\n"
    p = packets(err)
    kinds = [(d, rest.split()[0]) for d, rest in p]
    assert kinds[:4] == [("->", "CONNECT"), ("<-", "CONNACK"), ("->", "SUBSCRIBE"),
                         ("<-", "SUBACK")], p
    assert p[2][1] == f"SUBSCRIBE id=1 {topic}(qos=2)"
    assert p[3][1] == "SUBACK id=1 rcs=0x02"
    m = re.fullmatch(rf"PUBLISH id=(\d+) qos=2 topic={re.escape(topic)} payload=3B", p[4][1])
    assert m and p[4][0] == "<-", p
    pid = m.group(1)
    assert p[5:8] == [("->", f"PUBREC id={pid}"), ("<-", f"PUBREL id={pid}"),
                      ("->", f"PUBCOMP id={pid}")], p


def test_trace_connect_fields_hide_password(broker, topic):
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-m", "x", "-u", "user1",
             "-P", "s3cret", "-k", 30, "--will-topic", topic + "/w", "--will-payload", "bye",
             "-i", "traceid", "--trace")
    assert r.returncode == 0, r.stderr
    line = packets(r.stderr)[0][1]
    assert line == (f"CONNECT v=4 id=traceid clean=1 keepalive=30 user=user1 password=6B "
                    f"will={topic}/w will-qos=0 will-retain=0 will-payload=3B")
    assert b"s3cret" not in r.stderr


def test_no_trace_without_flag(broker, topic):
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-m", "x", "-q", 2)
    assert r.returncode == 0
    assert r.stderr == b""
