# SPDX-License-Identifier: MIT
"""tests/interop/test_mosquitto_sub.py - tern's ENCODER checked by a decoder we did not write:
Debian's mosquitto_sub (libmosquitto 2.0) receives the PUBLISH frames codec_peer re-encodes
with tern_packet_encode and prints them with -F; the printed fields must be what the publisher
sent. The bytes we sent are also compared with the spec layout where they are deterministic.

Owns: nothing beyond the `peer` fixture's processes. Thread: pytest main thread.
Spec ids: 3.1.1 and 5.0 number their statements independently; each says which it cites.
"""
import os
import signal

import pytest

from interop_util import MOSQ_VERSIONS, frame, hexs, publish_bytes, s, u32, varint

VERSIONS = list(MOSQ_VERSIONS)


def start_sub(peer, version, cid, *args):
    """Start mosquitto_sub and wait until codec_peer has written its SUBACK, so any PUBLISH
    routed afterwards reaches it. Returns (process, connection number)."""
    proc = peer.spawn(peer.mosq_args("mosquitto_sub", version, "-i", cid, *args))
    conn = peer.conn_of(cid)
    peer.wait_subscribed(conn)
    return proc, conn


def sent_publishes(peer, conn):
    return peer.frames(conn, "send", "PUBLISH")


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", VERSIONS)
def test_forwarded_publish_each_qos(peer, version, qos):
    """A message published at QoS q to a QoS 2 subscription arrives at QoS q (5.0
    [MQTT-3.8.4-8]: the lower of published and granted), with topic and payload intact and
    RETAIN 0 [MQTT-3.3.1-9] (3.1.1, live delivery). The receiver completes the QoS flow with
    our packet id (3.1.1 [MQTT-2.3.1-6]) and we answer PUBREC with PUBREL flags 0010
    [MQTT-3.6.1-1] (3.1.1)."""
    level = MOSQ_VERSIONS[version]
    topic, payload = "interop/fwd/%d" % qos, "payload \u00fc q%d" % qos
    sub, conn = start_sub(peer, version, "fsub-%d-%d" % (level, qos), "-q", "2",
                          "-t", "interop/fwd/#", "-C", "1", "-F", "%t|%p|%q|%r|%l")
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", "fpub", "-t", topic,
                            "-m", payload, "-q", str(qos)))
    out = peer.finish(sub).decode()
    assert out == "%s|%s|%d|0|%d\n" % (topic, payload, qos, len(payload.encode()))

    peer.wait(event="close", conn=conn)  # the peer has handled all the receiver sent
    fwd = sent_publishes(peer, conn)[0]
    pid = fwd.get("packet_id")
    assert fwd["raw"] == publish_bytes(level, topic, payload, qos, packet_id=pid).hex()
    acks = [(e["event"], e["type"], e.get("packet_id"), e["flags"]) for e in peer.frames(conn)
            if e["type"] in ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP")]
    assert acks == {0: [], 1: [("recv", "PUBACK", pid, 0)],
                    2: [("recv", "PUBREC", pid, 0), ("send", "PUBREL", pid, 2),
                        ("recv", "PUBCOMP", pid, 0)]}[qos]


@pytest.mark.parametrize("sub_version", VERSIONS)
@pytest.mark.parametrize("pub_version", VERSIONS)
def test_forwarded_across_versions(peer, pub_version, sub_version):
    """A message crosses protocol versions: a 5.0 publisher's properties are dropped for a 3.x
    receiver (3.x has no properties), a 3.x message gains an empty property list for a 5.0
    one. QoS 1 both ways."""
    sub, conn = start_sub(peer, sub_version, "xsub", "-q", "1", "-t", "x/+", "-C", "1",
                          "-F", "%t|%p|%q")
    peer.run(peer.mosq_args("mosquitto_pub", pub_version, "-i", "xpub", "-t", "x/y",
                            "-m", "across", "-q", "1", "-D", "publish", "user-property", "a", "b")
             if pub_version == "mqttv5" else
             peer.mosq_args("mosquitto_pub", pub_version, "-i", "xpub", "-t", "x/y",
                            "-m", "across", "-q", "1"))
    assert peer.finish(sub) == b"x/y|across|1\n"
    fwd = sent_publishes(peer, conn)[0]
    level = MOSQ_VERSIONS[sub_version]
    props = b"\x26" + s("a") + s("b") if level == 5 and pub_version == "mqttv5" else b""
    assert fwd["raw"] == publish_bytes(level, "x/y", "across", 1, packet_id=fwd["packet_id"],
                                       props=props).hex()


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_delivered_to_new_subscription(peer, version):
    """A retained message goes to a later subscriber with RETAIN 1 (3.1.1 [MQTT-3.3.1-8];
    5.0 Retain Handling 0 [MQTT-3.3.1-9]), at the lower of the two QoS (5.0 [MQTT-3.8.4-8]);
    a later empty retained message removes it (3.1.1 [MQTT-3.3.1-10])."""
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", "rpub", "-t", "interop/ret",
                            "-m", "kept", "-q", "2", "-r"))
    peer.wait(event="close", conn=peer.conn_of("rpub"))
    sub = peer.spawn(peer.mosq_args("mosquitto_sub", version, "-i", "rsub", "-q", "1",
                                    "-t", "interop/#", "-C", "1", "-F", "%t|%p|%q|%r"))
    assert peer.finish(sub) == b"interop/ret|kept|1|1\n"
    # Remove it; a subscriber then gets nothing retained: the SUBACK is the last thing sent.
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", "rdel", "-t", "interop/ret",
                            "-n", "-r"))
    peer.run(peer.mosq_args("mosquitto_sub", version, "-i", "rsub2", "-t", "interop/#", "-E"))
    conn = peer.conn_of("rsub2")
    peer.wait(event="close", conn=conn)
    assert [e["type"] for e in peer.frames(conn, "send")] == ["CONNACK", "SUBACK"]


@pytest.mark.parametrize("version", VERSIONS)
def test_live_retained_publish_forwarded_with_retain_0(peer, version):
    """An existing subscriber gets a retained PUBLISH with RETAIN 0 (3.1.1 [MQTT-3.3.1-9]; 5.0
    without Retain As Published [MQTT-3.3.1-12])."""
    sub, conn = start_sub(peer, version, "lsub", "-t", "live/t", "-C", "1", "-F", "%t|%p|%r")
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", "lpub", "-t", "live/t", "-m", "v",
                            "-r"))
    assert peer.finish(sub) == b"live/t|v|0\n"
    assert sent_publishes(peer, conn)[0]["flags"] == 0


def test_v5_properties_forwarded(peer):
    """Every forwardable PUBLISH property reaches a 5.0 receiver unaltered: Payload Format
    Indicator [MQTT-3.3.2-4], Message Expiry (no time waited here) [MQTT-3.3.2-6], Response
    Topic [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16], User Properties all and in order
    [MQTT-3.3.2-17] [MQTT-3.3.2-18], Content Type [MQTT-3.3.2-20], plus the subscription's
    identifier [MQTT-3.3.4-3] (all 5.0)."""
    fmt = "%t|%p|%P|%C|%D|%E|%R|%F|%S"
    sub, conn = start_sub(peer, "mqttv5", "psub", "-q", "1", "-t", "p/#", "-C", "1",
                          "-F", fmt, "-D", "subscribe", "subscription-identifier", "7")
    d = ["-D", "publish"]
    peer.run(peer.mosq_args(
        "mosquitto_pub", "mqttv5", "-i", "ppub", "-t", "p/q", "-m", "body", "-q", "1",
        *d, "user-property", "k1", "v1", *d, "user-property", "k0", "v0",
        *d, "user-property", "k1", "v2", *d, "content-type", "text/plain",
        *d, "correlation-data", "corr", *d, "message-expiry-interval", "3600",
        *d, "response-topic", "p/reply", *d, "payload-format-indicator", "1"))
    assert peer.finish(sub) == b"p/q|body|k1:v1 k0:v0 k1:v2|text/plain|corr|3600|p/reply|1|7\n"
    fwd = sent_publishes(peer, conn)[0]
    assert fwd["props"]["user-property"] == [["k1", "v1"], ["k0", "v0"], ["k1", "v2"]]
    assert fwd["props"]["subscription-identifier"] == [7]


@pytest.mark.parametrize("size", [0, 1, 113, 114, 16370, 16371, 70000])
@pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
def test_remaining_length_boundaries(peer, tmp_path, version, size):
    """Payload sizes chosen so the forwarded PUBLISH's Remaining Length crosses the 1/2 and
    2/3-byte Variable Byte Integer boundaries (127/128, 16383/16384) [MQTT-1.5.5-1] (5.0:
    minimal encoding); mosquitto_sub must read the same number of bytes back."""
    level = MOSQ_VERSIONS[version]
    topic = "interop/len/abcd"  # 18 bytes with its length prefix
    data = bytes((i * 7 + 3) & 0xFF for i in range(size))
    path = tmp_path / "payload.bin"
    path.write_bytes(data)
    sub, conn = start_sub(peer, version, "bsub", "-t", topic, "-q", "1", "-C", "1",
                          "-F", "%l|%x")
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", "bpub", "-t", topic, "-q", "1",
                            *(["-f", str(path)] if size else ["-n"])))
    out = peer.finish(sub).decode()
    assert out == "%d|%s\n" % (size, data.hex())
    fwd = sent_publishes(peer, conn)[0]
    expected = publish_bytes(level, topic, data, 1, packet_id=fwd["packet_id"])
    assert fwd["raw"] == expected.hex()
    remaining = len(expected) - 1 - len(varint(len(expected)))
    assert fwd["raw"][2:2 + 2 * len(varint(remaining))] == varint(remaining).hex()


@pytest.mark.parametrize("version", VERSIONS)
def test_will_published_on_abnormal_close(peer, version):
    """A client that vanishes without DISCONNECT has its Will published (3.1.1 [MQTT-3.1.2-8]);
    a retained Will is then also kept for later subscribers with RETAIN 1 (3.1.1
    [MQTT-3.1.2-17], [MQTT-3.3.1-8])."""
    watcher, _ = start_sub(peer, version, "wwatch", "-t", "will/#", "-q", "2", "-C", "1",
                           "-F", "%t|%p|%q|%r")
    victim, vconn = start_sub(peer, version, "wvictim", "-t", "nothing", "--will-topic",
                              "will/victim", "--will-payload", "vanished", "--will-qos", "1",
                              "--will-retain")
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=10)
    assert peer.finish(watcher) == b"will/victim|vanished|1|0\n"
    late = peer.spawn(peer.mosq_args("mosquitto_sub", version, "-i", "wlate", "-t", "will/#",
                                     "-C", "1", "-F", "%t|%p|%r"))
    assert peer.finish(late) == b"will/victim|vanished|1\n"


def test_v5_will_properties_decoded_and_forwarded(peer):
    """5.0 Will Properties (3.1.3.2) decoded, then forwarded with the Will when the client
    vanishes: content type, correlation data, response topic, User Properties in order
    [MQTT-3.3.2-17] [MQTT-3.3.2-18] (5.0)."""
    watcher, wconn = start_sub(peer, "mqttv5", "w5watch", "-t", "w5/#", "-C", "1",
                               "-F", "%t|%p|%P|%C|%D|%R|%F|%E")
    d = ["-D", "will"]
    victim, vconn = start_sub(
        peer, "mqttv5", "w5victim", "-t", "nothing", "--will-topic", "w5/v",
        "--will-payload", "bye", *d, "content-type", "text/x", *d, "correlation-data", "cd",
        *d, "response-topic", "w5/r", *d, "payload-format-indicator", "1",
        *d, "message-expiry-interval", "99", *d, "user-property", "b", "2",
        *d, "user-property", "a", "1", *d, "will-delay-interval", "0")
    c = peer.frames(vconn, "recv", "CONNECT")[0]
    assert {k: v for k, v in c["will_props"].items() if k != "order"} == {
        "content-type": "text/x", "correlation-data": hexs("cd"), "response-topic": "w5/r",
        "payload-format-indicator": 1, "message-expiry-interval": 99, "will-delay-interval": 0,
        "user-property": [["b", "2"], ["a", "1"]]}
    os.kill(victim.pid, signal.SIGKILL)
    victim.communicate(timeout=10)
    assert peer.finish(watcher) == b"w5/v|bye|b:2 a:1|text/x|cd|w5/r|1|99\n"


def test_v5_disconnect_properties_decoded(peer):
    """-D disconnect ...: DISCONNECT with properties (5.0 3.14.2.2) decoded; reason 0x00 is
    still written because properties follow it (3.14.2.1)."""
    peer.run(peer.mosq_args("mosquitto_sub", "mqttv5", "-i", "dsub", "-t", "t", "-E",
                            "-D", "disconnect", "session-expiry-interval", "30",
                            "-D", "disconnect", "user-property", "why", "done"))
    disc = peer.wait(event="recv", type="DISCONNECT")[0]
    assert disc["rc"] == 0
    assert {k: v for k, v in disc["props"].items() if k != "order"} == {
        "session-expiry-interval": 30, "user-property": [["why", "done"]]}
    wire = {17: b"\x11" + u32(30), 38: b"\x26" + s("why") + s("done")}
    body = b"".join(wire[i] for i in disc["props"]["order"])
    assert sorted(disc["props"]["order"]) == [17, 38]
    assert disc["raw"] == frame(0xE0, b"\x00" + varint(len(body)) + body).hex()
