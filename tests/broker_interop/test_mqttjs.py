# SPDX-License-Identifier: MIT
"""tests/broker_interop/test_mqttjs.py - the broker driven by MQTT.js 5.x (npm `mqtt`, its own
JavaScript encoder/decoder) at MQTT 5.0. Each test runs one scenario of mqttjs/scenario.js
(which prints what its clients observed as one JSON line) against a fresh broker and asserts
on that. Needs `npm ci` in tests/broker_interop/mqttjs (CI does it); skipped otherwise.

Owns: one node process per test (through the `broker` fixture). Thread: pytest main thread.
Spec ids: MQTT 5.0 numbering.
"""
import json
import os
import shutil

import pytest

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mqttjs")
NODE = shutil.which("node") or shutil.which("nodejs")

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node not found (Debian package nodejs)"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(JS_DIR, "node_modules", "mqtt")),
                       reason="MQTT.js not installed: run `npm ci --prefix "
                              "tests/broker_interop/mqttjs` (CI does)"),
]


def run(broker, scenario, *args):
    """Run one scenario to completion (it bounds itself to 20 s); return its JSON result."""
    p = broker.spawn([NODE, os.path.join(JS_DIR, "scenario.js"), scenario, str(broker.port)]
                     + [str(a) for a in args], name="mqttjs-" + scenario)
    out = p.finish(timeout=30)
    assert out, "scenario %s printed nothing; stderr %s" % (scenario, p.stderr())
    return json.loads(out[-1])


def test_mqttjs_v5_connect_connack(broker):
    """CONNACK reason 0x00, Session Present 0 for Clean Start 1 ([MQTT-3.2.2-2]); a Receive
    Maximum, when present, is not 0 (a Protocol Error, 5.0 3.2.2.3.3)."""
    r = run(broker, "connect")
    assert r["reasonCode"] == 0 and r["sessionPresent"] is False, r
    props = r["properties"]
    assert props.get("receiveMaximum", 65535) >= 1, props
    assert props.get("topicAliasMaximum", 0) >= 0, props


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mqttjs_v5_pubsub_each_qos_in_order(broker, qos):
    """Five messages at QoS q reach a QoS 2 subscriber once each, in order ([MQTT-4.6.0-6]),
    at QoS q (min of published and granted, [MQTT-3.8.4-8]), RETAIN 0, granted QoS 2."""
    r = run(broker, "pubsub", qos)
    assert r["granted"] == [2]
    assert [(m["topic"], m["payload"], m["qos"], m["retain"]) for m in r["msgs"]] == [
        ("js/q/%d" % qos, "m%d" % i, qos, False) for i in range(5)]


def test_mqttjs_v5_retained_replace_and_clear(broker):
    """Only the last retained message is kept and sent to a new subscription with RETAIN 1
    ([MQTT-3.3.1-5], [MQTT-3.3.1-9]); an empty retained PUBLISH is forwarded live and removes
    it ([MQTT-3.3.1-6], [MQTT-3.3.1-7])."""
    r = run(broker, "retained")
    assert [(m["topic"], m["payload"], m["retain"]) for m in r["afterSet"]] == [
        ("js/ret/a", "two", True)]
    assert (r["live"]["topic"], r["live"]["payload"], r["live"]["retain"]) == (
        "js/ret/a", "", False)
    assert r["afterClear"] == []


def test_mqttjs_v5_user_and_publish_properties_forwarded(broker):
    """User Properties (a repeated key in order, non-ASCII) are forwarded unaltered
    ([MQTT-3.3.2-17], [MQTT-3.3.2-18]), with Content Type ([MQTT-3.3.2-20]), Response Topic
    ([MQTT-3.3.2-15]), Correlation Data ([MQTT-3.3.2-16]), Payload Format Indicator
    ([MQTT-3.3.2-4])."""
    m = run(broker, "userprops")["msg"]
    assert (m["topic"], m["payload"], m["qos"]) == ("js/up", "body", 1)
    p = m["properties"]
    assert p["userProperties"] == {"k": ["v1", "v2"], "sch\u00fcssel": "w\u00e4rt"}
    assert p["contentType"] == "application/json"
    assert p["responseTopic"] == "js/reply"
    assert p["correlationData"] == "000102ff"
    assert p["payloadFormatIndicator"] is True


def test_mqttjs_v5_topic_alias_from_client(broker):
    """Client Topic Aliases, set by hand and by MQTT.js's autoAssignTopicAlias (which sends an
    empty topic once the alias is mapped), are resolved by the broker: subscribers get the full
    topic (5.0 3.3.2.3.4); aliases stay within the CONNACK Topic Alias Maximum
    ([MQTT-3.3.2-9])."""
    r = run(broker, "topicalias")
    assert r["topicAliasMaximum"] >= 1, r
    assert [(m["topic"], m["payload"]) for m in r["msgs"]] == [
        ("js/ta/one", "a"), ("js/ta/one", "b"),
        ("js/ta/auto", "auto0"), ("js/ta/auto", "auto1"), ("js/ta/auto", "auto2")]
    # MQTT.js really used the alias (otherwise this test would prove nothing).
    assert r["autoSent"][1:] == [{"topic": "", "topicAlias": 1}] * 2, r["autoSent"]


def test_mqttjs_v5_session_resume_gets_queued_messages(broker):
    """Clean Start 0 with Session Expiry 300: the resumed session has Session Present 1
    ([MQTT-3.2.2-3]) and gets the QoS 1/2 messages queued while offline
    ([MQTT-3.1.2-23]), per QoS in order (MQTT.js hands a QoS 2 message over at PUBREL)."""
    r = run(broker, "session")
    assert r["firstSessionPresent"] is False and r["secondSessionPresent"] is True
    got = [(m["topic"], m["payload"], m["qos"]) for m in r["msgs"]]
    assert sorted(got) == [("js/sess/a", "q1", 1), ("js/sess/b", "q2", 2),
                           ("js/sess/c", "q1 again", 1)]
    assert [g for g in got if g[2] == 1] == [("js/sess/a", "q1", 1), ("js/sess/c", "q1 again", 1)]


# ---- 5.0 features ------------------------------------------------------------------------------

def test_mqttjs_v5_shared_subscription_each_message_to_one_member(broker):
    """$share/g/js/sh/t ([MQTT-4.8.2-1], [MQTT-4.8.2-2]) with two MQTT.js members: each of 20
    messages goes to exactly one member of the group and none is lost (5.0 4.8.2: the message
    is sent to only one of the sessions sharing the subscription; a duplicate would arrive
    before the marker each member gets after them), each at the QoS granted to that member
    (QoS 1 and QoS 0, [MQTT-4.8.2-3]); both members get some (the group shares the load)."""
    r = run(broker, "shared")
    assert r["granted"] == [[1, 1], [0, 1]], r["granted"]
    a = [int(m["payload"]) for m in r["a"]]
    b = [int(m["payload"]) for m in r["b"]]
    assert sorted(a + b) == list(range(r["n"])), (a, b)  # all, and none twice
    assert a and b, (a, b)
    assert {(m["topic"], m["qos"]) for m in r["a"]} == {("js/sh/t", 1)}, r["a"]
    assert {(m["topic"], m["qos"]) for m in r["b"]} == {("js/sh/t", 0)}, r["b"]
    # From one publisher, each member gets its share in publication order.
    assert a == sorted(a) and b == sorted(b), (a, b)


def test_mqttjs_v5_request_response(broker):
    """Request/response (5.0 4.10): the responder gets each request's Response Topic
    ([MQTT-3.3.2-15]) and Correlation Data ([MQTT-3.3.2-16]) unaltered (binary, non-UTF-8
    bytes included), answers on that Response Topic with the Correlation Data, and the
    requester gets both answers with their own Correlation Data."""
    r = run(broker, "reqresp")
    corr = r["sentCorrelation"]
    assert [(m["topic"], m["payload"], m["properties"]) for m in r["requests"]] == [
        ("js/rr/svc", "question %d" % i,
         {"responseTopic": "js/rr/reply/js-rr-req", "correlationData": corr[i]})
        for i in range(2)]
    assert [(m["topic"], m["payload"], m["properties"]) for m in r["replies"]] == [
        ("js/rr/reply/js-rr-req", "answer to question %d" % i, {"correlationData": corr[i]})
        for i in range(2)]


def test_mqttjs_v5_broker_topic_aliases_within_client_maximum(broker):
    """A subscriber whose CONNECT allows 2 Topic Aliases gets 3 topics x 3 rounds: any alias
    the broker sends is 1..2 ([MQTT-3.3.2-8], [MQTT-3.1.2-26], [MQTT-3.3.2-11]), an
    alias-only PUBLISH (empty topic) uses an alias mapped before on this connection, and every
    message arrives with its full topic, in order. A subscriber that allowed none gets no alias
    at all ([MQTT-3.1.2-27]). Aliases are optional for a Server (Mosquitto 2.0.11 sends none);
    ternd uses them, so against ternd the test also checks they were used."""
    r = run(broker, "serveralias")
    want = [(s["topic"], s["payload"]) for s in r["sent"]]
    assert [(m["topic"], m["payload"]) for m in r["msgs"]] == want
    assert [(m["topic"], m["payload"]) for m in r["plainMsgs"]] == want
    mapped = {}
    for w, (topic, payload) in zip(r["wire"], want):
        alias = w.get("topicAlias")
        assert w["payload"] == payload, r["wire"]
        if alias is None:
            assert w["topic"] == topic, w
            continue
        assert 1 <= alias <= r["max"], w
        if w["topic"]:
            assert w["topic"] == topic, w
            mapped[alias] = topic
        else:
            assert mapped.get(alias) == topic, (w, mapped)
    assert all("topicAlias" not in w for w in r["plainWire"]), r["plainWire"]
    if not broker.is_mosquitto:
        assert any(w["topic"] == "" for w in r["wire"]), \
            "ternd sent no alias-only PUBLISH to a client allowing aliases: %r" % r["wire"]


def test_mqttjs_v5_message_expiry_while_queued(broker):
    """Messages queued for an offline persistent session: one whose Message Expiry Interval
    (1 s) passed before the client came back is not delivered ([MQTT-3.3.2-5]); one with 60 s
    arrives with the interval minus the time it waited in the Server, at least the 2.5 s the
    client stayed away ([MQTT-3.3.2-6]); one without expiry arrives without the property.
    Time passing is what is tested: the scenario sleeps 2.5 s."""
    r = run(broker, "msgexpiry")
    assert r["sessionPresent"] is True
    got = [(m["topic"], m["payload"]) for m in r["msgs"]]
    assert got == [("js/mexp/long", "long"), ("js/mexp/none", "none")], r["msgs"]
    left = r["msgs"][0]["properties"].get("messageExpiryInterval")
    assert left is not None and 1 <= left <= 58, r["msgs"][0]
    assert "messageExpiryInterval" not in r["msgs"][1]["properties"], r["msgs"][1]


def test_mqttjs_v5_subscription_identifiers(broker):
    """A message is sent with the Subscription Identifier of the subscription it matched
    ([MQTT-3.3.4-3]), the largest one (268,435,455) included; none for a subscription without
    one; matching two subscriptions it comes once with both identifiers ([MQTT-3.3.4-4]) or
    once per subscription with each one's ([MQTT-3.3.4-5]); a subscription replaced with a new
    identifier ([MQTT-3.8.4-3]) gives the new one."""
    r = run(broker, "subid")
    first = r["first"]
    assert [(m["topic"], m["payload"], m["ids"]) for m in first[:3]] == [
        ("js/sid/a/y", "one", [5]), ("js/sid/b", "big", [268435455]),
        ("js/sid/c", "none", [])], first
    both = first[3:]
    assert all((m["topic"], m["payload"]) == ("js/sid/a/x", "both") for m in both), both
    ids = [m["ids"] for m in both]
    assert ids == [[5, 77]] or sorted(ids) == [[5], [77]], both
    assert r["second"] == [{"topic": "js/sid/b", "payload": "replaced", "ids": [9]}], r


def test_mqttjs_v5_no_local(broker):
    """No Local 1: the client's own message is not forwarded to it on that subscription
    ([MQTT-3.8.3-3]), another client's is; a subscriber without No Local gets both."""
    r = run(broker, "nolocal")
    assert r["nlGot"] == [{"topic": "js/nl/t", "payload": "theirs"}], r
    assert sorted(m["payload"] for m in r["otherGot"]) == ["own", "theirs"], r


def test_mqttjs_v5_retain_handling_and_retain_as_published(broker):
    """Retain Handling 1 sends the retained message only when the subscription is new
    ([MQTT-3.3.1-10]), 0 at every subscribe, existing or not ([MQTT-3.3.1-9],
    [MQTT-3.8.4-4]), 2 never ([MQTT-3.3.1-11]); Retain As Published 1 keeps the RETAIN flag as
    published on live delivery ([MQTT-3.3.1-13]), 0 clears it ([MQTT-3.3.1-12]); a retained
    message sent for a new subscription has RETAIN 1 (5.0 3.3.1.3)."""
    r = run(broker, "retainopts")
    kept = [{"payload": "kept", "retain": True}]
    assert r["rh1New"] == kept, r
    assert r["rh1Again"] == [], r
    assert r["rh0Again"] == kept, r
    assert r["rh2New"] == [], r
    assert r["rapGot"] == [{"payload": "r", "retain": True}, {"payload": "n", "retain": False}]
    assert r["norapGot"] == [{"payload": "r", "retain": False},
                             {"payload": "n", "retain": False}]
    assert r["lateGot"] == [{"payload": "r", "retain": True}], r


def test_mqttjs_v5_will_delay_cancelled_by_resume_and_sent_otherwise(broker):
    """Two clients with a Will Delay Interval of 1 s and Session Expiry 10 s lose their
    connections (socket destroyed, no DISCONNECT). One reconnects at once and resumes its
    session (Session Present 1): its Will is not sent ([MQTT-3.1.3-9]), as a marker published
    after the delay had passed shows. The other's Will is sent once the delay has elapsed
    ([MQTT-3.1.2-8]): after a marker published right after the drop, and about 1 s later. The
    delay passing is what is tested (the scenario waits up to 2 s)."""
    r = run(broker, "willdelay")
    assert r["resumedSessionPresent"] is True
    ev = r["events"]
    assert [(e["topic"], e["payload"]) for e in ev] == [
        ("js/wd/mark1", "marker"), ("js/wd/js-wd-gone", "will of js-wd-gone")], ev
    assert ev[1]["afterMs"] >= 900, ev
    assert r["late"] == [], r


def test_mqttjs_v5_session_expiry_discards_session(broker):
    """A session whose Session Expiry Interval (1 s) has passed after the disconnect is
    discarded ([MQTT-4.1.0-2]): reconnecting with Clean Start 0 gets Session Present 0
    ([MQTT-3.2.2-3]), neither the message queued for it nor a later one on its old
    subscription arrives. A session with 300 s left the same way at the same time is resumed
    (Session Present 1) with its queued message. Time passing is what is tested: the scenario
    sleeps 2.5 s."""
    r = run(broker, "sessexpiry")
    assert r["js-sx-short"] == {"sessionPresent": False, "msgs": []}, r
    assert r["js-sx-long"] == {"sessionPresent": True, "msgs": [
        {"topic": "js/sx/js-sx-long", "payload": "queued"},
        {"topic": "js/sx/js-sx-long", "payload": "live"}]}, r
