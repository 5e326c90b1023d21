# SPDX-License-Identifier: MIT
"""tests/interop/test_mosquitto_pub.py - tern's DECODER against bytes written by Debian's
mosquitto_pub / mosquitto_sub (libmosquitto 2.0) at MQTT 3.1, 3.1.1 and 5.0.

Each test runs a mosquitto client against codec_peer with options given on the command line,
then checks that the fields codec_peer decoded (its JSON log) are exactly those options, and,
where libmosquitto's bytes are deterministic, that the raw frame is the one the spec lays out
(built by interop_util's small independent encoder). The answers codec_peer wrote (CONNACK,
acks, SUBACK, UNSUBACK) are checked byte for byte too.

Owns: nothing beyond the `peer` fixture's processes. Thread: pytest main thread.
Spec ids: 3.1.1 and 5.0 number their statements independently; each says which it cites.
"""
import pytest

from interop_util import (MOSQ_VERSIONS, PROTOCOL_NAME, connect_bytes, frame, hexs,
                          publish_bytes, s, u16, u32, varint)

VERSIONS = list(MOSQ_VERSIONS)


def props(e, *ignore):
    """The decoded properties without the wire-order list and the given names."""
    return {k: v for k, v in e["props"].items() if k != "order" and k not in ignore}


def flow(peer, conn):
    """The frames of one connection as (direction, type) in the order the peer handled them."""
    return [(e["event"], e["type"]) for e in peer.frames(conn)]


def assert_ack(e, level, type_byte, packet_id):
    """An ack we encoded: 3.x is exactly 4 bytes; 5.0 may omit Reason Code and Property Length
    when the reason is 0x00 and there are no properties (5.0 3.4.2.1), or carry them."""
    short = bytes([type_byte]) + b"\x02" + u16(packet_id)
    if level < 5:
        assert e["raw"] == short.hex()
    else:
        assert e["raw"] in (short.hex(), frame(type_byte, u16(packet_id) + b"\x00").hex(),
                            frame(type_byte, u16(packet_id) + b"\x00\x00").hex())
    assert e["packet_id"] == packet_id and e["rc"] == 0


def check_connack(peer, conn, level, assigned=None):
    ack = peer.frames(conn, "send", "CONNACK")[0]
    assert ack["rc"] == 0 and ack["session_present"] is False
    if level < 5:
        assert ack["raw"] == "20020000"  # 3.1.1 3.2: accepted, no session present
    else:
        want = {"topic-alias-maximum": 10, "receive-maximum": 20}
        if assigned:
            want["assigned-client-identifier"] = assigned
        assert props(ack) == want


def check_connect(c, level, client_id, clean=True):
    assert c["protocol_name"] == PROTOCOL_NAME[level] and c["level"] == level
    assert c["client_id"] == client_id and c["clean"] is clean and c["keep_alive"] == 60


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", VERSIONS)
def test_publish_retain_each_qos_decoded(peer, version, qos):
    """PUBLISH at QoS 0/1/2 with RETAIN: fixed-header flags, topic, packet id, payload; and the
    acknowledgement flow codec_peer answers with. 3.1.1 [MQTT-2.3.1-6]: PUBACK/PUBREC/PUBREL
    carry the PUBLISH's packet id; [MQTT-3.6.1-1]: PUBREL flags are 0010."""
    level = MOSQ_VERSIONS[version]
    cid, topic = "pub-%d-q%d" % (level, qos), "interop/pub/q%d" % qos
    payload = "h\u00e9llo qos %d" % qos  # a multi-byte UTF-8 payload: bytes pass untouched
    peer.run(peer.mosq_args("mosquitto_pub", version, "-i", cid, "-t", topic, "-m", payload,
                            "-q", str(qos), "-r"))
    conn = peer.conn_of(cid)
    peer.wait(event="close", conn=conn)

    c = peer.frames(conn, "recv", "CONNECT")[0]
    check_connect(c, level, cid)
    if level < 5:
        assert c["raw"] == connect_bytes(level, cid).hex()
    check_connack(peer, conn, level)

    pub = peer.frames(conn, "recv", "PUBLISH")[0]
    assert (pub["qos"], pub["retain"], pub["dup"]) == (qos, True, False)
    assert pub["flags"] == (qos << 1) | 1
    assert pub["topic"] == topic and pub["payload"] == hexs(payload)
    pid = pub.get("packet_id")
    assert (pid is None) if qos == 0 else (pid >= 1)
    assert pub["raw"] == publish_bytes(level, topic, payload, qos, True, packet_id=pid).hex()
    if level == 5:
        assert props(pub) == {}

    expected = {0: [], 1: [("send", "PUBACK")],
                2: [("send", "PUBREC"), ("recv", "PUBREL"), ("send", "PUBCOMP")]}[qos]
    assert flow(peer, conn) == [("recv", "CONNECT"), ("send", "CONNACK"), ("recv", "PUBLISH")] \
        + expected + [("recv", "DISCONNECT")]
    for e in peer.frames(conn):
        if e["type"] in ("PUBACK", "PUBREC", "PUBCOMP"):
            assert_ack(e, level, {"PUBACK": 0x40, "PUBREC": 0x50, "PUBCOMP": 0x70}[e["type"]], pid)
        if e["type"] == "PUBREL":
            assert e["flags"] == 2 and e["packet_id"] == pid and e["raw"][:2] == "62"
    disc = peer.frames(conn, "recv", "DISCONNECT")[0]
    assert disc["raw"] == "e000" and disc["rc"] == 0


@pytest.mark.parametrize("will_qos,will_retain", [(0, False), (1, True), (2, True)])
@pytest.mark.parametrize("version", VERSIONS)
def test_will_username_password_decoded(peer, version, will_qos, will_retain):
    """CONNECT with Will, User Name and Password: the flag bits (3.1.1 3.1.2.3) and each payload
    field in its order [MQTT-3.1.3-1] (3.1.1)."""
    level = MOSQ_VERSIONS[version]
    cid, user, password = "will-%d-%d" % (level, will_qos), "us\u00e9r", "s3cr\u00eat"
    wtopic, wpayload = "interop/will/%d" % level, "gone \u2603"
    args = ["-i", cid, "-t", "x", "-m", "m", "-u", user, "-P", password, "--will-topic", wtopic,
            "--will-payload", wpayload, "--will-qos", str(will_qos)]
    peer.run(peer.mosq_args("mosquitto_pub", version, *args,
                            *(["--will-retain"] if will_retain else [])))
    conn = peer.conn_of(cid)
    c = peer.frames(conn, "recv", "CONNECT")[0]
    check_connect(c, level, cid)
    assert c["will"] is True and c["will_qos"] == will_qos and c["will_retain"] is will_retain
    assert c["will_topic"] == wtopic and c["will_payload"] == hexs(wpayload)
    assert c["username"] == user and c["password"] == hexs(password)
    if level < 5:
        assert c["raw"] == connect_bytes(level, cid, will=(wtopic, wpayload, will_qos, will_retain),
                                         username=user, password=password).hex()
    else:
        assert props(c, "receive-maximum") == {} and c["will_props"] == {}
        rm = c["props"]["receive-maximum"]
        assert c["raw"] == connect_bytes(level, cid, will=(wtopic, wpayload, will_qos, will_retain),
                                         username=user, password=password,
                                         props=b"\x21" + u16(rm)).hex()
    # A normal DISCONNECT discards the Will: nothing is published [MQTT-3.14.4-3] (3.1.1).
    peer.wait(event="close", conn=conn)
    assert not peer.find(event="send", type="PUBLISH")


@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_decoded(peer, version):
    """-c (clean session off) with -i: Clean Session / Clean Start 0 (3.1.1 3.1.2.4); 5.0
    mosquitto_pub then asks for a session that never expires (Session Expiry 0xFFFFFFFF)."""
    level = MOSQ_VERSIONS[version]
    cid = "persist-%d" % level
    peer.run(peer.mosq_args("mosquitto_pub", version, "-c", "-i", cid, "-t", "t", "-m", "p",
                            "-q", "1"))
    c = peer.frames(peer.conn_of(cid), "recv", "CONNECT")[0]
    check_connect(c, level, cid, clean=False)
    if level < 5:
        assert c["raw"] == connect_bytes(level, cid, clean=False).hex()
    else:
        assert props(c, "receive-maximum") == {"session-expiry-interval": 0xFFFFFFFF}


def test_v5_session_expiry_and_connect_properties_decoded(peer):
    """-D connect ...: every CONNECT property mosquitto_pub can send, and their values
    (5.0 3.1.2.11); User Properties keep their order, and a name may repeat (3.1.2.11.8)."""
    cid = "props5"
    d = ["-D", "connect"]
    peer.run(peer.mosq_args(
        "mosquitto_pub", "mqttv5", "-i", cid, "-t", "t", "-m", "p",
        *d, "session-expiry-interval", "120", *d, "receive-maximum", "7",
        *d, "maximum-packet-size", "10000", *d, "topic-alias-maximum", "5",
        *d, "request-problem-information", "0", *d, "request-response-information", "1",
        *d, "user-property", "zeta", "1", *d, "user-property", "alpha", "2",
        *d, "user-property", "zeta", "3"))
    c = peer.frames(peer.conn_of(cid), "recv", "CONNECT")[0]
    check_connect(c, 5, cid)
    assert props(c) == {
        "session-expiry-interval": 120, "receive-maximum": 7, "maximum-packet-size": 10000,
        "topic-alias-maximum": 5, "request-problem-information": 0,
        "request-response-information": 1,
        "user-property": [["zeta", "1"], ["alpha", "2"], ["zeta", "3"]]}


def test_v5_session_expiry_with_x(peer):
    """-c -x 120: Clean Start 0 and Session Expiry Interval 120 (5.0 3.1.2.11.2), exact bytes."""
    peer.run(peer.mosq_args("mosquitto_pub", "mqttv5", "-c", "-x", "120", "-i", "x120",
                            "-t", "t", "-m", "p"))
    c = peer.frames(peer.conn_of("x120"), "recv", "CONNECT")[0]
    assert c["clean"] is False and c["props"]["session-expiry-interval"] == 120
    rm = c["props"]["receive-maximum"]
    assert c["raw"] == connect_bytes(5, "x120", clean=False,
                                     props=b"\x11" + u32(120) + b"\x21" + u16(rm)).hex()


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_v5_publish_properties_decoded(peer, qos):
    """-D publish ...: every PUBLISH property mosquitto_pub sends, decoded to the values given
    (5.0 3.3.2.3); User Properties in wire order, duplicates kept [MQTT-3.3.2-17]
    [MQTT-3.3.2-18] (5.0: what the server must forward, so it must first read it faithfully).
    The raw bytes are the spec layout, properties in the order mosquitto_pub writes them."""
    cid, topic, payload = "pprops-%d" % qos, "interop/props", "{\"v\": 1}"
    d = ["-D", "publish"]
    peer.run(peer.mosq_args(
        "mosquitto_pub", "mqttv5", "-i", cid, "-t", topic, "-m", payload, "-q", str(qos),
        *d, "user-property", "k1", "v1", *d, "user-property", "k0", "v0",
        *d, "user-property", "k1", "v2", *d, "message-expiry-interval", "3600",
        *d, "content-type", "application/json; charset=utf-8",
        *d, "response-topic", "interop/reply", *d, "correlation-data", "corr-42",
        *d, "payload-format-indicator", "1"))
    conn = peer.conn_of(cid)
    pub = peer.wait(event="recv", type="PUBLISH", conn=conn)[0]
    assert props(pub) == {
        "payload-format-indicator": 1, "message-expiry-interval": 3600,
        "content-type": "application/json; charset=utf-8", "response-topic": "interop/reply",
        "correlation-data": hexs("corr-42"),
        "user-property": [["k1", "v1"], ["k0", "v0"], ["k1", "v2"]]}
    assert pub["topic"] == topic and pub["payload"] == hexs(payload) and pub["qos"] == qos
    wire = {38: b"", 1: b"\x01\x01", 2: b"\x02" + u32(3600),
            3: b"\x03" + s("application/json; charset=utf-8"), 8: b"\x08" + s("interop/reply"),
            9: b"\x09" + s("corr-42")}
    users = [b"\x26" + s(k) + s(v) for k, v in (("k1", "v1"), ("k0", "v0"), ("k1", "v2"))]
    body = b""
    for pid in pub["props"]["order"]:  # mosquitto's property order, checked byte for byte
        body += users.pop(0) if pid == 38 else wire.pop(pid)
    assert not users and list(wire) == [38]
    assert pub["raw"] == publish_bytes(5, topic, payload, qos, packet_id=pub.get("packet_id"),
                                       props=body).hex()


def test_v5_topic_alias_decoded_and_resolved(peer):
    """-D publish topic-alias 2 with two messages (-l): the first carries topic + alias, the
    second an empty topic and the alias (5.0 3.3.2.3.4); codec_peer maps it back and forwards
    the message to a subscriber under the full topic name [MQTT-3.3.2-12] (5.0)."""
    sub = peer.spawn(peer.mosq_args("mosquitto_sub", "mqttv311", "-i", "alias-sub",
                                    "-t", "interop/alias", "-C", "2", "-F", "%t|%p"))
    peer.wait_subscribed(peer.conn_of("alias-sub"))
    peer.run(peer.mosq_args("mosquitto_pub", "mqttv5", "-i", "alias-pub", "-t", "interop/alias",
                            "-l", "-D", "publish", "topic-alias", "2"), input=b"one\ntwo\n")
    pubs = peer.wait(event="recv", type="PUBLISH", conn=peer.conn_of("alias-pub"), count=2)
    assert [(p["topic"], p["props"]["topic-alias"]) for p in pubs] == [
        ("interop/alias", 2), ("", 2)]
    assert pubs[1]["raw"] == publish_bytes(5, "", "two", props=b"\x23" + u16(2)).hex()
    assert peer.finish(sub) == b"interop/alias|one\ninterop/alias|two\n"


@pytest.mark.parametrize("version", VERSIONS)
def test_subscribe_unsubscribe_decoded(peer, version):
    """SUBSCRIBE with two filters at QoS 2, then UNSUBSCRIBE of one (mosquitto_sub -U ... -E):
    entries in order with their options (3.1.1 3.8.3, 5.0 3.8.3.1). Our SUBACK grants what was
    asked, one code per filter in order [MQTT-3.8.4-5] [MQTT-3.9.3-1] (3.1.1) with the
    SUBSCRIBE's packet id [MQTT-3.8.4-2] (3.1.1); UNSUBACK likewise [MQTT-3.10.4-4] (3.1.1),
    with one reason code per filter in 5.0 [MQTT-3.11.3-1] (5.0)."""
    level = MOSQ_VERSIONS[version]
    cid = "subs-%d" % level
    peer.run(peer.mosq_args("mosquitto_sub", version, "-i", cid, "-q", "2", "-t", "a/b",
                            "-t", "c/+/#", "-U", "c/+/#", "-E"))
    conn = peer.conn_of(cid)
    peer.wait(event="close", conn=conn)
    sub = peer.frames(conn, "recv", "SUBSCRIBE")[0]
    opts = {"qos": 2, "nl": False, "rap": False, "rh": 0}
    assert sub["flags"] == 2 and sub["count"] == 2
    assert sub["subs"] == [dict(filter="a/b", **opts), dict(filter="c/+/#", **opts)]
    pid = sub["packet_id"]
    entries = s("a/b") + b"\x02" + s("c/+/#") + b"\x02"
    assert sub["raw"] == frame(0x82, u16(pid) + (b"\x00" if level == 5 else b"") + entries).hex()
    ack = peer.frames(conn, "send", "SUBACK")[0]
    assert ack["packet_id"] == pid and ack["rcs"] == [2, 2]
    assert ack["raw"] == frame(0x90, u16(pid) + (b"\x00" if level == 5 else b"") + b"\x02\x02").hex()

    uns = peer.frames(conn, "recv", "UNSUBSCRIBE")[0]
    assert uns["flags"] == 2 and uns["subs"] == [{"filter": "c/+/#"}]
    upid = uns["packet_id"]
    uack = peer.frames(conn, "send", "UNSUBACK")[0]
    assert uack["packet_id"] == upid
    if level < 5:
        assert uack["rcs"] == [] and uack["raw"] == frame(0xB0, u16(upid)).hex()
    else:
        assert uack["rcs"] == [0] and uack["raw"] == frame(0xB0, u16(upid) + b"\x00\x00").hex()


def test_v5_subscribe_properties_decoded(peer):
    """-D subscribe subscription-identifier / user-property: SUBSCRIBE properties (5.0
    3.8.2.1); the Subscription Identifier as a Variable Byte Integer, here 2 bytes (1.5.5)."""
    peer.run(peer.mosq_args("mosquitto_sub", "mqttv5", "-i", "subp", "-t", "a/#", "-E",
                            "-D", "subscribe", "subscription-identifier", "300",
                            "-D", "subscribe", "user-property", "who", "me"))
    sub = peer.wait(event="recv", type="SUBSCRIBE")[0]
    assert props(sub) == {"subscription-identifier": [300], "user-property": [["who", "me"]]}
    assert sub["props"]["order"] == [11, 38]
    body = b"\x0b" + varint(300) + b"\x26" + s("who") + s("me")
    assert sub["raw"] == frame(0x82, u16(sub["packet_id"]) + varint(len(body)) + body
                               + s("a/#") + b"\x00").hex()
