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
