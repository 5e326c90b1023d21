# SPDX-License-Identifier: MIT
"""tests/broker_interop/test_mosquitto_clients.py - the broker driven by Debian's mosquitto_pub
and mosquitto_sub (libmosquitto 2.0.11) at MQTT 3.1 (-V mqttv31), 3.1.1 (-V mqttv311) and 5.0
(-V mqttv5):
QoS 0/1/2 delivery and order, retained messages, wildcards, $SYS, Wills, 5.0 properties,
message expiry, a 1 MB payload and 10,000 QoS 1 messages.

mosquitto_sub runs with -d so the test sees the SUBACK before it publishes (the subscription
exists), and -F with a marker so message lines are told apart from debug lines.

Owns: nothing beyond the `broker` fixture's processes. Thread: pytest main thread.
Spec ids: 3.1.1 and 5.0 number their statements independently; each says which it cites.
"""
import signal

import pytest

from broker_util import DEADLINE, wait_for

VERSIONS = ["31", "311", "5"]


def lines(*msgs):
    return "".join(m + "\n" for m in msgs).encode()


def retained_now(broker, version, filt, marker_topic):
    """Messages a new subscription to filt gets before a live marker published afterwards:
    the retained messages (the broker sends them when it handles the SUBSCRIBE, so before the
    marker). Returns the "%t|%r|%p" lines, marker excluded."""
    sub = broker.sub(version, "%t|%r|%p", "-t", filt, "-t", marker_topic)
    broker.pub(version, "-t", marker_topic, "-m", "end")
    sub.wait_line(lambda l: l == b"M>" + marker_topic.encode() + b"|0|end")
    sub.stop()
    return [m.decode() for m in sub.messages()[:-1]]


# ---- delivery ------------------------------------------------------------------------------

@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", VERSIONS)
def test_pubsub_each_qos_delivers_in_order(broker, version, qos):
    """Five messages published at QoS q (one connection, -l) reach a QoS 2 subscriber exactly
    once each, in order (3.1.1 and 5.0 [MQTT-4.6.0-6]), at QoS q (the minimum of published and
    granted QoS: 3.1.1 [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-8]), RETAIN 0 on a live delivery
    (3.1.1 [MQTT-3.3.1-9])."""
    topic = "it/q/%s/%d" % (version, qos)
    sub = broker.sub(version, "%t|%q|%r|%p", "-q", "2", "-t", topic, "-C", "5")
    assert sub.granted(sub.seen[-1]) == [2]
    msgs = ["m%d \u00e4" % i for i in range(5)]
    broker.pub(version, "-t", topic, "-q", qos, "-l", stdin=lines(*msgs))
    sub.finish()
    assert [m.decode() for m in sub.messages()] == ["%s|%d|0|%s" % (topic, qos, m)
                                                    for m in msgs]


@pytest.mark.parametrize("version", VERSIONS)
def test_delivery_qos_is_downgraded_to_granted_qos(broker, version):
    """A QoS 2 message to a QoS 0 / QoS 1 subscription is delivered at QoS 0 / 1 (3.1.1
    [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-8])."""
    s0 = broker.sub(version, "%q|%p", "-q", "0", "-t", "it/down", "-C", "1")
    s1 = broker.sub(version, "%q|%p", "-q", "1", "-t", "it/down", "-C", "1")
    broker.pub(version, "-t", "it/down", "-q", "2", "-m", "x")
    s0.finish()
    s1.finish()
    assert s0.messages() == [b"0|x"]
    assert s1.messages() == [b"1|x"]


# ---- retained ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_retained_set_replace_clear(broker, version):
    """A retained message is stored and sent to new subscribers with RETAIN 1 (3.1.1
    [MQTT-3.3.1-5], [MQTT-3.3.1-6], [MQTT-3.3.1-8]); a new one replaces it (only the last is
    kept); a zero-byte retained PUBLISH removes it (3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6],
    [MQTT-3.3.1-7]) while other retained topics stay."""
    broker.pub(version, "-t", "ret/a", "-r", "-q", "1", "-m", "first")
    broker.pub(version, "-t", "ret/b", "-r", "-m", "other")
    got = retained_now(broker, version, "ret/#", "mark/1")
    assert sorted(got) == ["ret/a|1|first", "ret/b|1|other"]

    broker.pub(version, "-t", "ret/a", "-r", "-q", "2", "-m", "second")
    assert sorted(retained_now(broker, version, "ret/#", "mark/2")) == [
        "ret/a|1|second", "ret/b|1|other"]

    broker.pub(version, "-t", "ret/a", "-r", "-n")
    assert retained_now(broker, version, "ret/#", "mark/3") == ["ret/b|1|other"]


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_flag_is_0_for_live_delivery_and_clear_is_forwarded(broker, version):
    """To an existing subscription a retained PUBLISH is forwarded with RETAIN 0 (3.1.1
    [MQTT-3.3.1-9]; 5.0 [MQTT-3.3.1-12], Retain As Published 0), and the zero-byte clearing
    message is forwarded like any other (3.1.1 [MQTT-3.3.1-10])."""
    sub = broker.sub(version, "%t|%r|%l", "-t", "live/r", "-C", "2")
    broker.pub(version, "-t", "live/r", "-r", "-m", "abc")
    broker.pub(version, "-t", "live/r", "-r", "-n")
    sub.finish()
    assert sub.messages() == [b"live/r|0|3", b"live/r|0|0"]


def test_retained_qos_is_the_lower_of_stored_and_granted(broker):
    """A retained QoS 2 message sent for a new QoS 1 subscription goes at QoS 1 (5.0
    [MQTT-3.8.4-8]) with RETAIN 1."""
    broker.pub("5", "-t", "ret/q", "-r", "-q", "2", "-m", "v")
    sub = broker.sub("5", "%q|%r|%p", "-q", "1", "-t", "ret/q", "-C", "1")
    sub.finish()
    assert sub.messages() == [b"1|1|v"]


# ---- wildcards -----------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_wildcards_plus_and_hash(broker, version):
    """'+' matches exactly one level, '#' the parent and any number of levels (3.1.1 and 5.0
    4.7.1); topic levels are case-sensitive and an empty level is a level."""
    plus = broker.sub(version, "%t", "-t", "w/+/x")
    hsh = broker.sub(version, "%t", "-t", "w/a/#")
    topics = ["w/a/x", "w/b/x", "w/a/x/y", "w/x", "w//x", "W/a/x", "w/a", "w/a/b/c", "w/end"]
    for t in topics:
        broker.pub(version, "-t", t, "-q", "1", "-m", t)
    broker.pub(version, "-t", "w/end/x", "-m", ".")
    broker.pub(version, "-t", "w/a/end", "-m", ".")
    plus.wait_line(lambda l: l == b"M>w/end/x")
    hsh.wait_line(lambda l: l == b"M>w/a/end")
    assert plus.messages() == [b"w/a/x", b"w/b/x", b"w//x", b"w/end/x"]
    assert hsh.messages() == [b"w/a/x", b"w/a/x/y", b"w/a", b"w/a/b/c", b"w/a/end"]


# ---- $SYS ----------------------------------------------------------------------------------

def sys_value(broker, topic):
    sub = broker.sub("311", "%t|%p", "-t", topic, "-C", "1")
    sub.finish()
    t, _, v = sub.messages()[0].decode().partition("|")
    assert t == topic
    return v


@pytest.mark.broker_conf("sys_interval 1")
def test_sys_broker_topics(broker):
    """$SYS/broker/... as Mosquitto names them (sys_interval 1): version, uptime, connected
    clients, messages received."""
    version = sys_value(broker, "$SYS/broker/version")
    assert version.strip(), version
    if broker.is_mosquitto:
        assert version.startswith("mosquitto version "), version
    uptime = sys_value(broker, "$SYS/broker/uptime")
    assert uptime.endswith(" seconds") and uptime.split()[0].isdigit(), uptime
    # $SYS values are retained and republished when they change: a subscriber that stays
    # connected sees the count include itself, and the received count include a publish.
    conn = broker.sub("311", "%p", "-t", "$SYS/broker/clients/connected")
    conn.wait_line(lambda l: l.startswith(b"M>") and int(l[2:]) >= 1)
    recv = broker.sub("311", "%p", "-t", "$SYS/broker/messages/received")
    first = int(recv.next_message())
    broker.pub("311", "-t", "sys/x", "-q", "1", "-m", "x")
    recv.wait_line(lambda l: l.startswith(b"M>") and int(l[2:]) > first)


@pytest.mark.broker_conf("sys_interval 1")
def test_sys_topics_not_matched_by_leading_wildcard(broker):
    """'#' and '+/...' do not match topics starting with '$' (3.1.1 and 5.0 [MQTT-4.7.2-1]):
    a '#' subscriber sees none of the $SYS updates published while it is subscribed."""
    every = broker.sub("5", "%t", "-t", "#", "-t", "+/broker/uptime")
    # Two uptime updates after `every` subscribed: at least one $SYS round went by.
    ticks = broker.sub("5", "%t", "-t", "$SYS/broker/uptime", "-C", "2")
    ticks.finish(timeout=DEADLINE)
    broker.pub("5", "-t", "after/sys", "-m", "x")
    every.wait_line(lambda l: l == b"M>after/sys")
    assert every.messages() == [b"after/sys"]


# ---- Will ----------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_will_published_when_connection_drops(broker, version):
    """A client killed without DISCONNECT has its Will published (3.1.1 and 5.0
    [MQTT-3.1.2-8]), retained when Will Retain is 1 (3.1.1 [MQTT-3.1.2-17])."""
    watcher = broker.sub(version, "%t|%q|%r|%p", "-q", "1", "-t", "will/#")
    dying = broker.sub(version, "%t", "-t", "nothing/here", "--will-topic", "will/t",
                       "--will-payload", "gone", "--will-qos", "1", "--will-retain")
    dying.p.send_signal(signal.SIGKILL)
    assert watcher.next_message() == b"will/t|1|0|gone"
    # Stored as retained as well.
    assert retained_now(broker, version, "will/#", "mark/w") == ["will/t|1|gone"]


def test_311_will_not_published_after_disconnect(broker):
    """After a DISCONNECT the Will is discarded (3.1.1 [MQTT-3.14.4-3]): mosquitto_sub
    -V mqttv311 sends DISCONNECT on SIGINT. (5.0 case: test_paho.py, reason 0x00.)"""
    watcher = broker.sub("311", "%t|%p", "-t", "will/#")
    polite = broker.sub("311", "%t", "-t", "nothing/here", "--will-topic", "will/t",
                        "--will-payload", "gone")
    polite.p.send_signal(signal.SIGINT)
    polite.finish()
    # The marker comes from a client connected after the polite one left.
    broker.pub("311", "-t", "will/marker", "-m", "m")
    watcher.wait_line(lambda l: l == b"M>will/marker|m")
    assert watcher.messages() == [b"will/marker|m"]


def test_v5_will_published_after_disconnect_with_will_message(broker):
    """mosquitto_sub -V mqttv5 ends on SIGINT with DISCONNECT reason 0x04 "Disconnect with
    Will Message" (seen on the wire with libmosquitto 2.0.11): the Server publishes the Will
    (5.0 3.14.2.1; the Will is discarded only for 0x00, [MQTT-3.14.4-3])."""
    watcher = broker.sub("5", "%t|%p", "-t", "will/#")
    leaving = broker.sub("5", "%t", "-t", "nothing/here", "--will-topic", "will/t",
                         "--will-payload", "bye")
    leaving.p.send_signal(signal.SIGINT)
    leaving.finish()
    assert watcher.next_message() == b"will/t|bye"


# ---- 5.0 properties ------------------------------------------------------------------------

def test_v5_publish_properties_forwarded_unaltered(broker):
    """User Properties are forwarded unaltered and in order (5.0 [MQTT-3.3.2-17],
    [MQTT-3.3.2-18]); so are Content Type ([MQTT-3.3.2-20]), Response Topic ([MQTT-3.3.2-15]),
    Correlation Data ([MQTT-3.3.2-16]) and Payload Format Indicator ([MQTT-3.3.2-4])."""
    sub = broker.sub("5", "%P|%C|%R|%D|%F|%p", "-q", "1", "-t", "props/t", "-C", "1")
    broker.pub("5", "-t", "props/t", "-q", "1", "-m", "body",
               "-D", "PUBLISH", "user-property", "k1", "v1",
               "-D", "PUBLISH", "user-property", "z", "second",
               "-D", "PUBLISH", "user-property", "k1", "again",
               "-D", "PUBLISH", "content-type", "text/plain",
               "-D", "PUBLISH", "response-topic", "reply/here",
               "-D", "PUBLISH", "correlation-data", "c0rr",
               "-D", "PUBLISH", "payload-format-indicator", "1")
    sub.finish()
    assert sub.messages() == [b"k1:v1 z:second k1:again|text/plain|reply/here|c0rr|1|body"]


def test_v5_message_expiry_counts_down_and_expires(broker):
    """The Message Expiry Interval sent to a subscriber is the received value minus the time
    the message waited (5.0 [MQTT-3.3.2-6]); once it has passed, a retained message is no
    longer delivered ([MQTT-3.3.2-5])."""
    broker.pub("5", "-t", "exp/long", "-r", "-m", "l", "-D", "PUBLISH",
               "message-expiry-interval", "100")
    broker.pub("5", "-t", "exp/short", "-r", "-m", "s", "-D", "PUBLISH",
               "message-expiry-interval", "1")
    sub = broker.sub("5", "%t|%E", "-t", "exp/long", "-C", "1")
    sub.finish()
    topic, exp = sub.messages()[0].decode().split("|")
    assert topic == "exp/long" and 90 <= int(exp) <= 100, exp
    # The 1 s message goes away: poll until a new subscription no longer gets it.
    wait_for(lambda: "exp/short|1|s" not in retained_now(broker, "5", "exp/#", "mark/e"),
             "exp/short to expire", timeout=DEADLINE, interval=0.2)
    assert retained_now(broker, "5", "exp/#", "mark/f") == ["exp/long|1|l"]


def test_v5_live_message_carries_expiry(broker):
    """A live delivery carries the Message Expiry Interval (at most the value sent;
    5.0 [MQTT-3.3.2-6]); a message without one carries none."""
    sub = broker.sub("5", "%p|%E", "-t", "exp/live", "-C", "2")
    broker.pub("5", "-t", "exp/live", "-m", "a", "-D", "PUBLISH", "message-expiry-interval", "50")
    broker.pub("5", "-t", "exp/live", "-m", "b")
    sub.finish()
    a, b = [m.decode() for m in sub.messages()]
    assert a.startswith("a|") and 49 <= int(a[2:]) <= 50, a
    assert b == "b|", b


# ---- sizes and volume ----------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_one_megabyte_payload(broker, version, tmp_path):
    """A 1 MiB payload (4-byte Remaining Length) goes through intact at QoS 1."""
    payload = (b"0123456789abcdefghijklmnopqrstuvwxyz" * 30000)[:1 << 20]
    path = tmp_path / "big.bin"
    path.write_bytes(payload)
    sub = broker.sub(version, "%l|%p", "-q", "1", "-t", "big/t", "-C", "1")
    broker.pub(version, "-t", "big/t", "-q", "1", "-f", str(path))
    sub.finish()
    assert sub.messages() == [b"%d|" % len(payload) + payload]


# The subscriber (mosquitto_sub -d, read by Python) can fall behind the publisher on a loaded
# machine: the queue limit is raised above the message count so no broker drops by policy
# (Mosquitto's default max_queued_messages is 1000; both brokers read this option).
@pytest.mark.broker_conf("max_queued_messages 20000")
def test_ten_thousand_qos1_messages_in_order(broker):
    """10,000 QoS 1 messages from one connection (mosquitto_pub -l) all reach a QoS 1
    subscriber once each, in order (5.0 [MQTT-4.6.0-6]), none dropped: the queue limit is above
    the count."""
    n = 10000
    sub = broker.sub("5", "%p", "-q", "1", "-t", "many/t", "-C", n)
    broker.pub("5", "-t", "many/t", "-q", "1", "-l", stdin=lines(*("%05d" % i for i in range(n))),
               timeout=30)
    try:
        sub.finish(timeout=30)
    except AssertionError:
        sub.drain()
        got = set(int(m) for m in sub.messages())
        missing = [i for i in range(n) if i not in got]
        raise AssertionError("%d of %d messages arrived; missing %d: %r ... %r" % (
            len(got), n, len(missing), missing[:10], missing[-10:])) from None
    assert sub.messages() == [b"%05d" % i for i in range(n)]
