# SPDX-License-Identifier: MIT
"""tests/interop/test_paho.py - tern's codec against Eclipse paho-mqtt (Debian's
python3-paho-mqtt 1.6, its own pure-Python encoder and decoder) at MQTT 3.1, 3.1.1 and 5.0.

paho as a sender checks our DECODER (codec_peer's log must hold exactly what paho was told to
send); paho as a receiver checks our ENCODER (what paho decodes from codec_peer's frames must be
what the publisher sent, plus what a broker adds: Subscription Identifiers, Assigned Client
Identifier). Waits are on paho callbacks (queues with a deadline) or on the peer's log.

Owns: the paho clients made by the `paho` fixture (their network threads are stopped at
teardown). Thread: pytest main thread; paho's loop threads only put into queues.
Spec ids: 3.1.1 and 5.0 number their statements independently; each says which it cites.
"""
import queue

import paho.mqtt
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

from interop_util import DEADLINE, PROTOCOL_NAME, hexs

assert paho.mqtt.__version__.startswith("1.6"), "written for the paho 1.6 API (Debian 12)"

PROTOCOLS = {"v31": mqtt.MQTTv31, "v311": mqtt.MQTTv311, "v5": mqtt.MQTTv5}
LEVEL = {mqtt.MQTTv31: 3, mqtt.MQTTv311: 4, mqtt.MQTTv5: 5}


def props_of(ptype, **values):
    p = Properties(ptype)
    for k, v in values.items():
        setattr(p, k, v)
    return p


def decoded(e, key="props"):
    return {k: v for k, v in e[key].items() if k != "order"}


class Paho:
    """A paho client whose callbacks feed one queue per kind of event."""

    KINDS = ("connect", "subscribe", "unsubscribe", "publish", "message", "disconnect")

    def __init__(self, peer, client_id, protocol, clean=True):
        self.peer, self.v5 = peer, protocol == mqtt.MQTTv5
        self.client_id = client_id
        self.c = mqtt.Client(client_id=client_id, protocol=protocol,
                             clean_session=None if self.v5 else clean)
        self.q = {k: queue.Queue() for k in self.KINDS}
        for k in self.KINDS:
            setattr(self.c, "on_" + k, self._put(k))
        self.started = False

    def _put(self, kind):
        return lambda client, userdata, *args: self.q[kind].put(args)

    def get(self, kind, timeout=DEADLINE):
        try:
            return self.q[kind].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("paho %s: no %s callback within %ss" % (
                self.client_id, kind, timeout)) from None

    def connect(self, clean=True, properties=None):
        kw = {"clean_start": clean, "properties": properties} if self.v5 else {}
        self.c.connect("127.0.0.1", self.peer.port, keepalive=30, **kw)
        self.c.loop_start()
        self.started = True
        args = self.get("connect")
        rc = args[1]
        assert (rc.value if self.v5 else rc) == 0, args
        self.conn = self.peer.wait(event="recv", type="CONNECT",
                                   pred=lambda e: e["client_id"] in (self.client_id, ""))[-1][
            "conn"]
        return args

    def subscribe(self, topic, **kw):
        """Subscribe and return the granted codes paho decoded from our SUBACK."""
        _, mid = self.c.subscribe(topic, **kw)
        args = self.get("subscribe")
        assert args[0] == mid
        return [r.value for r in args[1]] if self.v5 else list(args[1])

    def unsubscribe(self, topic, properties=None):
        _, mid = self.c.unsubscribe(topic, properties=properties)
        args = self.get("unsubscribe")
        assert args[0] == mid
        return args

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        """Publish and wait until paho reports the flow complete (PUBACK / PUBCOMP)."""
        info = self.c.publish(topic, payload, qos, retain, properties=properties)
        assert self.get("publish")[0] == info.mid
        return info.mid

    def barrier(self):
        """Round trip on this connection: the peer handles a client's frames in order, so when
        this SUBACK is back, every frame we sent before it has been fully handled, and every
        QoS 0/1 PUBLISH the peer sent before it has reached on_message. (Not QoS 2: paho calls
        on_message at PUBREL; and paho's own acks may still be queued behind this SUBSCRIBE.)"""
        self.barriers = getattr(self, "barriers", 0) + 1
        self.subscribe("barrier/%s/%d" % (self.client_id or "x", self.barriers))

    def messages(self):
        out = []
        while not self.q["message"].empty():
            out.append(self.q["message"].get_nowait()[0])
        return out

    def stop(self):
        if self.started:
            self.c.disconnect()
            self.c.loop_stop()
            self.started = False


@pytest.fixture
def paho(peer):
    """Factory: paho(client_id, protocol, clean=True) -> Paho; all stopped at teardown."""
    made = []

    def make(client_id, protocol, clean=True):
        p = Paho(peer, client_id, protocol, clean)
        made.append(p)
        return p
    yield make
    for p in made:
        p.stop()


PUB_PROPS = dict(UserProperty=[("x", "1"), ("y", "2"), ("x", "3")], CorrelationData=b"\x00\x01\xfe",
                 ContentType="application/cbor", ResponseTopic="paho/reply",
                 MessageExpiryInterval=60, PayloadFormatIndicator=0)
PUB_PROPS_DECODED = {"user-property": [["x", "1"], ["y", "2"], ["x", "3"]],
                     "correlation-data": "0001fe", "content-type": "application/cbor",
                     "response-topic": "paho/reply", "message-expiry-interval": 60,
                     "payload-format-indicator": 0}


@pytest.mark.parametrize("proto", list(PROTOCOLS))
def test_paho_connect_publish_each_qos_disconnect(peer, paho, proto):
    """paho as sender. CONNECT with Clean Session/Start 0, credentials, a QoS 2 retained Will
    (5.0: with Will Properties) and 5.0 CONNECT properties; PUBLISH at QoS 0, 1, 2 (5.0: with
    every publish property, User Properties in order); DISCONNECT (5.0: with a property).
    Every field decoded as given; the flows end with our acks carrying paho's packet ids
    (3.1.1 [MQTT-2.3.1-6]); our CONNACK properties read back by paho (5.0 3.2.2.3)."""
    protocol = PROTOCOLS[proto]
    level = LEVEL[protocol]
    v5 = level == 5
    cid = "paho-%s" % proto
    cl = paho(cid, protocol, clean=False)
    cl.c.username_pw_set("paho-user", "pa\u00dfword")
    will_props = props_of(PacketTypes.WILLMESSAGE, WillDelayInterval=5, ContentType="text/plain",
                          UserProperty=[("w", "1"), ("w", "0")], CorrelationData=b"\x00\xff",
                          MessageExpiryInterval=7, ResponseTopic="paho/resp",
                          PayloadFormatIndicator=1) if v5 else None
    cl.c.will_set("paho/will", b"\x00\x01will", qos=2, retain=True, properties=will_props)
    conn_props = props_of(PacketTypes.CONNECT, SessionExpiryInterval=300, ReceiveMaximum=9,
                          MaximumPacketSize=65536, TopicAliasMaximum=4,
                          RequestProblemInformation=0, RequestResponseInformation=1,
                          UserProperty=[("a", "1"), ("b", "2"), ("a", "3")]) if v5 else None
    args = cl.connect(clean=False, properties=conn_props)
    if v5:  # our CONNACK properties as paho decoded them
        assert args[2].TopicAliasMaximum == 10 and args[2].ReceiveMaximum == 20
        assert not hasattr(args[2], "AssignedClientIdentifier")

    c = peer.frames(cl.conn, "recv", "CONNECT")[0]
    assert (c["protocol_name"], c["level"], c["client_id"]) == (PROTOCOL_NAME[level], level, cid)
    assert c["clean"] is False and c["keep_alive"] == 30
    assert c["username"] == "paho-user" and c["password"] == hexs("pa\u00dfword")
    assert (c["will"], c["will_qos"], c["will_retain"]) == (True, 2, True)
    assert c["will_topic"] == "paho/will" and c["will_payload"] == b"\x00\x01will".hex()
    if v5:
        assert decoded(c, "will_props") == {
            "will-delay-interval": 5, "content-type": "text/plain",
            "user-property": [["w", "1"], ["w", "0"]], "correlation-data": "00ff",
            "message-expiry-interval": 7, "response-topic": "paho/resp",
            "payload-format-indicator": 1}
        assert decoded(c) == {
            "session-expiry-interval": 300, "receive-maximum": 9, "maximum-packet-size": 65536,
            "topic-alias-maximum": 4, "request-problem-information": 0,
            "request-response-information": 1,
            "user-property": [["a", "1"], ["b", "2"], ["a", "3"]]}
    else:
        assert c["props"] == {} and c["will_props"] == {}

    for qos in (0, 1, 2):
        payload = b"\x00\xffbin" + bytes([0x30 + qos])
        mid = cl.publish("paho/pub/q%d" % qos, payload, qos, retain=(qos == 1),
                         properties=props_of(PacketTypes.PUBLISH, **PUB_PROPS) if v5 else None)
        pub = peer.wait(event="recv", type="PUBLISH", conn=cl.conn, topic="paho/pub/q%d" % qos)[0]
        assert (pub["qos"], pub["retain"], pub["dup"]) == (qos, qos == 1, False)
        assert pub["payload"] == payload.hex()
        assert decoded(pub) == (PUB_PROPS_DECODED if v5 else {})
        if qos:
            assert pub["packet_id"] == mid

    if v5:
        cl.c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, "Normal disconnection"),
                        properties=props_of(PacketTypes.DISCONNECT,
                                            UserProperty=[("bye", "now")]))
    else:
        cl.c.disconnect()
    peer.wait(event="close", conn=cl.conn)
    disc = peer.frames(cl.conn, "recv", "DISCONNECT")[0]
    assert disc["rc"] == 0
    assert decoded(disc) == ({"user-property": [["bye", "now"]]} if v5 else {})
    flow = [(e["event"], e["type"], e.get("packet_id")) for e in peer.frames(cl.conn)
            if e["type"] in ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP")]
    p1, p2 = [e["packet_id"] for e in peer.frames(cl.conn, "recv", "PUBLISH")[1:]]
    assert flow == [("send", "PUBACK", p1), ("send", "PUBREC", p2), ("recv", "PUBREL", p2),
                    ("send", "PUBCOMP", p2)]
    # Normal DISCONNECT: the Will is discarded, not published (3.1.1 [MQTT-3.14.4-3]); it
    # would have been retained, so nothing is stored either.
    assert not peer.find(event="send", type="PUBLISH")


def test_paho_v5_assigned_client_identifier(peer, paho):
    """An empty Client Identifier gets a CONNACK with an Assigned Client Identifier
    [MQTT-3.2.2-16] (5.0), which paho reads back from our encoding."""
    cl = paho("", mqtt.MQTTv5)
    args = cl.connect()
    assert args[2].AssignedClientIdentifier == "tern-peer-%d" % cl.conn
    ack = peer.frames(cl.conn, "send", "CONNACK")[0]
    assert ack["props"]["assigned-client-identifier"] == args[2].AssignedClientIdentifier


def test_paho_v5_subscribe_options_ids_no_local_unsubscribe(peer, paho):
    """Subscription options and identifiers decoded (5.0 3.8.3.1, 3.8.2.1.2); one PUBLISH for
    overlapping subscriptions carrying both identifiers [MQTT-3.3.4-3] [MQTT-3.3.4-4], user
    properties unaltered and in order [MQTT-3.3.2-17] [MQTT-3.3.2-18], correlation data bytes
    [MQTT-3.3.2-16], RETAIN kept under Retain As Published [MQTT-3.3.1-13]; No Local keeps a
    client's own message from it [MQTT-3.8.3-3]; UNSUBACK codes per filter in order
    [MQTT-3.11.3-1], 0x11 for a filter that had no subscription (all 5.0)."""
    r = paho("paho-r", mqtt.MQTTv5)
    r.connect()
    assert r.subscribe([("sub/+/x", SubscribeOptions(qos=2, retainAsPublished=True))],
                       properties=props_of(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=42)) == [2]
    assert r.subscribe([("sub/#", SubscribeOptions(qos=1, noLocal=True, retainHandling=2))],
                       properties=props_of(PacketTypes.SUBSCRIBE,
                                           SubscriptionIdentifier=268435455)) == [1]
    subs = peer.frames(r.conn, "recv", "SUBSCRIBE")
    assert subs[0]["subs"] == [{"filter": "sub/+/x", "qos": 2, "nl": False, "rap": True, "rh": 0}]
    assert subs[0]["props"]["subscription-identifier"] == [42]
    assert subs[1]["subs"] == [{"filter": "sub/#", "qos": 1, "nl": True, "rap": False, "rh": 2}]
    assert subs[1]["props"]["subscription-identifier"] == [268435455]  # 4-byte varint

    p = paho("paho-p", mqtt.MQTTv5)
    p.connect()
    assert p.subscribe([("sub/#", SubscribeOptions(qos=1, noLocal=True))]) == [1]
    p.publish("sub/a/x", b"\x01\x02", qos=2, retain=True,
              properties=props_of(PacketTypes.PUBLISH, **PUB_PROPS))
    msg = r.get("message")[0]
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("sub/a/x", b"\x01\x02", 2, 1)
    assert msg.properties.UserProperty == PUB_PROPS["UserProperty"]
    assert msg.properties.CorrelationData == PUB_PROPS["CorrelationData"]
    assert msg.properties.ContentType == "application/cbor"
    assert msg.properties.ResponseTopic == "paho/reply"
    assert msg.properties.MessageExpiryInterval == 60
    assert sorted(msg.properties.SubscriptionIdentifier) == [42, 268435455]

    args = p.unsubscribe(["sub/#", "never/subscribed"])
    assert [rc.value for rc in args[2]] == [0x00, 0x11]
    uns = peer.frames(p.conn, "recv", "UNSUBSCRIBE")[0]
    assert uns["subs"] == [{"filter": "sub/#"}, {"filter": "never/subscribed"}]
    # UNSUBACK came back after the PUBLISH was handled: nothing went to the publisher.
    assert not peer.frames(p.conn, "send", "PUBLISH") and not p.messages()


def test_paho_v5_retain_handling(peer, paho):
    """Retain Handling: 2 sends no retained message [MQTT-3.3.1-11], 1 sends it only for a new
    subscription [MQTT-3.3.1-10], 0 always [MQTT-3.3.1-9]; sent with RETAIN 1 (all 5.0)."""
    p = paho("rh-pub", mqtt.MQTTv5)
    p.connect()
    p.publish("rh/t", b"state", qos=1, retain=True)
    r = paho("rh-sub", mqtt.MQTTv5)
    r.connect()

    def sub(rh):
        assert r.subscribe([("rh/+", SubscribeOptions(qos=1, retainHandling=rh))]) == [1]
        r.barrier()
        return [(m.topic, m.payload, m.retain, m.qos) for m in r.messages()]
    assert sub(2) == []
    assert r.unsubscribe("rh/+")[2].value == 0
    assert sub(1) == [("rh/t", b"state", 1, 1)]
    assert sub(1) == []  # the subscription exists now
    assert sub(0) == [("rh/t", b"state", 1, 1)]


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("proto", list(PROTOCOLS))
def test_paho_receives_each_qos(peer, paho, proto, qos):
    """paho as receiver at each version and QoS: our PUBLISH decoded with topic, payload, QoS
    (the lower of published and granted, 5.0 [MQTT-3.8.4-8]) and RETAIN 0 for a live delivery
    (3.1.1 [MQTT-3.3.1-9]); paho then completes the flow with our packet id."""
    protocol = PROTOCOLS[proto]
    r = paho("recv-%s-%d" % (proto, qos), protocol)
    r.connect()
    assert r.subscribe("recv/#", qos=2) == [2]
    payload = bytes(range(256)) * 2
    peer.run(peer.mosq_args("mosquitto_pub", "mqttv311", "-i", "recv-pub", "-t", "recv/x",
                            "-s", "-q", str(qos), "-r"), input=payload)
    msg = r.get("message")[0]
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("recv/x", payload, qos, 0)
    fwd = peer.frames(r.conn, "send", "PUBLISH")[0]
    if qos:  # paho acks after its on_message callback returns: wait for the last ack
        peer.wait(event="recv", conn=r.conn, type="PUBACK" if qos == 1 else "PUBCOMP")
    acks = [(e["event"], e["type"]) for e in peer.frames(r.conn)
            if e["type"] in ("PUBACK", "PUBREC", "PUBREL", "PUBCOMP")
            and e["packet_id"] == fwd.get("packet_id")]
    assert acks == {0: [], 1: [("recv", "PUBACK")],
                    2: [("recv", "PUBREC"), ("send", "PUBREL"), ("recv", "PUBCOMP")]}[qos]
    if qos == 0:
        assert msg.mid == 0 and "packet_id" not in fwd


def test_paho_v5_disconnect_with_will_message(peer, paho):
    """DISCONNECT with reason 0x04 asks the server to publish the Will (5.0 3.14.2.1): decoded
    as such, and the Will reaches a subscriber with its Will Properties forwarded (content
    type, User Properties in order [MQTT-3.3.2-17] [MQTT-3.3.2-18]) and the subscription's
    identifier [MQTT-3.3.4-3] (all 5.0)."""
    r = paho("lw-r", mqtt.MQTTv5)
    r.connect()
    r.subscribe([("lw/#", SubscribeOptions(qos=1))],
                properties=props_of(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=5))
    w = paho("lw-w", mqtt.MQTTv5)
    w.c.will_set("lw/w", b"lastwill", qos=1,
                 properties=props_of(PacketTypes.WILLMESSAGE, ContentType="text/plain",
                                     UserProperty=[("u", "1"), ("v", "2")]))
    w.connect()
    w.c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT,
                                          "Disconnect with will message"))
    msg = r.get("message")[0]
    assert (msg.topic, msg.payload, msg.qos) == ("lw/w", b"lastwill", 1)
    assert msg.properties.ContentType == "text/plain"
    assert msg.properties.UserProperty == [("u", "1"), ("v", "2")]
    assert msg.properties.SubscriptionIdentifier == [5]
    disc = peer.frames(w.conn, "recv", "DISCONNECT")[0]
    assert disc["rc"] == 4 and disc["raw"] == "e00104"
