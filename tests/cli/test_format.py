# SPDX-License-Identifier: MIT
"""tern sub -F against mosquitto_sub -F: both subscribe to the same topic with the same format,
one message is published, and the two outputs must be identical byte for byte (time stamps
aside, which are checked for shape and closeness instead). Covers every %-specifier, flags,
widths and precisions, @-time sequences, \\-escapes, -v, and %j/%J with and without --pretty."""
import json
import re
import subprocess
import time

import pytest

from conftest import TERN, mpub, tern, uid

H = ("-h", "127.0.0.1")

PROPS = ["-D", "publish", "user-property", "key", "value",
         "-D", "publish", "user-property", "k2", "v2",
         "-D", "publish", "content-type", "application/x-test",
         "-D", "publish", "correlation-data", "corr\"data",
         "-D", "publish", "response-topic", "resp/topic",
         "-D", "publish", "payload-format-indicator", "1",
         "-D", "publish", "message-expiry-interval", "86400"]
SUBID = ["-D", "subscribe", "subscription-identifier", "9"]


def both(procs, broker, topic, fmt, payloads=(b"hello",), v5=True, qos=1, retain=False,
         extra=(), props=True):
    """Run mosquitto_sub and tern sub with -F fmt over the payloads (one message each, b""
    sent with -n); return (tern stdout, mosquitto_sub stdout)."""
    subs = []
    for prog in ("mosquitto_sub", "tern"):
        cid = uid("fmt-")
        argv = ([TERN, "sub"] if prog == "tern" else ["mosquitto_sub"])
        argv += [*H, "-p", broker.port, "-i", cid, "-t", topic, "-C", len(payloads), "-q", 2]
        if fmt is not None:
            argv += ["-F", fmt]
        if v5:
            argv += ["-V", "mqttv5", *SUBID]
        argv += list(extra)
        subs.append(procs.start(argv))
        broker.wait_subscribed(cid, topic)
    for payload in payloads:
        pub = ["-t", topic, "-q", qos] + (["-s"] if payload else ["-n"])
        if v5:
            pub += ["-V", "mqttv5"] + (PROPS if props else [])
        if retain:
            pub += ["-r"]
        r = subprocess.run(["mosquitto_pub", *H, "-p", str(broker.port), *map(str, pub)],
                           input=payload, capture_output=True, timeout=20)
        assert r.returncode == 0, r.stderr
    mo = procs.finish(subs[0])
    te = procs.finish(subs[1])
    assert mo[0] == 0, mo[2]
    assert te[0] == 0, te[2]
    return te[1], mo[1]


SEP = "#|#"
SAME = [
    "%t", "%p", "%q", "%r", "%l", "%m", "%x", "%X", "%%", "%P", "%C", "%D", "%E", "%F",
    "%R", "%S", "%A",
    "[%10t]", "[%-10t]", "[%.3t]", "[%10.3t]", "[%-10.3t]", "[%5l]", "[%-5l]", "[%05l]",
    "[%3p]", "[%20p]", "[%-20p]", "[%020p]", "[%08x]", "[%-8x]", "[%6X]", "[%20X]",
    "[%30C]", "[%-30C]", "[%.4C]", "[%8E]", "[%-8E]", "[%08E]", "[%5F]", "[%05S]", "[%-5S]",
    "[%5A]", "[%05A]", "[%4m]", "[%-4m]", "[%3q]", "[%20R]", "[%.2R]", "[%3r]", "[%-0t]",
    "@@", "\\t|\\n|\\\\|\\e|\\0|\\a|\\v|\\r", "@Y-@m-@d", "%t %p %q %r %l %m",
]


def assert_fields_equal(t, m, fields):
    if t != m:
        tf, mf = t.split(SEP.encode()), m.split(SEP.encode())
        for f, a, b in zip(fields, tf, mf):
            assert a == b, f"-F {f!r}: tern {a!r} mosquitto_sub {b!r}"
        assert t == m


def test_every_specifier_same_as_mosquitto_sub_v5(broker, procs, topic):
    t, m = both(procs, broker, topic, SEP.join(SAME), payloads=[b"hello world"])
    assert_fields_equal(t, m, SAME)


def test_every_specifier_same_as_mosquitto_sub_311(broker, procs, topic):
    t, m = both(procs, broker, topic, SEP.join(SAME), v5=False, payloads=[b"three.one.one"])
    assert_fields_equal(t, m, SAME)


@pytest.mark.parametrize("qos,retain", [(0, False), (2, True)])
def test_format_qos_retain(broker, procs, topic, qos, retain):
    t, m = both(procs, broker, topic, "%q %r %m %t", qos=qos, retain=retain)
    assert t == m


@pytest.mark.parametrize("extra", [["-v"], [], ["-N"], ["-v", "-N"]])
def test_verbose_and_plain_same(broker, procs, topic, extra):
    t, m = both(procs, broker, topic, None, extra=extra, payloads=[b"a b\nc", b"", b"z"])
    assert t == m


def test_binary_payload_raw_and_hex(broker, procs, topic):
    t, m = both(procs, broker, topic, "%p|%x|%X|%l", payloads=[bytes(range(256))])
    assert t == m


@pytest.mark.parametrize("fmt", ["x%", "trailing\\", "end@", "%Z unknown", "%-", "%5",
                                 "\\t|\\z", "%10."])
def test_invalid_format_refused_like_mosquitto_sub(broker, fmt):
    r = tern("sub", *H, "-p", broker.port, "-t", "x", "-F", fmt)
    assert r.returncode == 1
    assert r.stderr.startswith(b"tern sub: invalid -F format: "), r.stderr
    m = subprocess.run(["mosquitto_sub", *H, "-p", str(broker.port), "-t", "x", "-F", fmt],
                       capture_output=True, timeout=20)
    assert m.returncode != 0


def strip_tst(b):
    return re.sub(rb'"tst":\s*"[^"]*"', b'"tst":"T"', b)


TST = rb'"tst":\s*"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z[+-]\d{4})"'


@pytest.mark.parametrize("pretty", [False, True])
def test_json_j_same(broker, procs, topic, pretty):
    payloads = [b"hello", b'q"uote\\back\x01\ttab\n\xc3\xa9', b""]
    t, m = both(procs, broker, topic, "%j", payloads=payloads,
                extra=["--pretty"] if pretty else [])
    assert len(re.findall(TST, t)) == 3 and len(re.findall(TST, m)) == 3, (t, m)
    assert strip_tst(t) == strip_tst(m)


J_PAYLOADS = [
    b'{"a":[1,2.5,{"b":null}],"c":"d\\u00e9\\/","e":true,"n":1e10,"f":false,"neg":-0.125}',
    b' [ ] ', b'{}', b'"just a string"', b'12345678901234567890', b'[[[]],{"x":{}}]',
    b'3.14159265358979', b'{"t":"\\ud83d\\ude00"}']


@pytest.mark.parametrize("pretty", [False, True])
def test_json_J_same(broker, procs, topic, pretty):
    t, m = both(procs, broker, topic, "%J", payloads=J_PAYLOADS,
                extra=["--pretty"] if pretty else [])
    assert strip_tst(t) == strip_tst(m)
    if not pretty:
        for line in t.splitlines():
            json.loads(line)  # and each is JSON


def test_json_J_invalid_payload(broker, procs, topic):
    t, m = both(procs, broker, topic, "<%J>", payloads=[b"{not json"])
    assert t == m == b"<>\n"


def test_json_j_311_has_no_properties(broker, procs, topic):
    t, m = both(procs, broker, topic, "%j", v5=False, payloads=[b"x"])
    assert strip_tst(t) == strip_tst(m)
    assert b"properties" not in t


def test_time_specifiers(broker, procs, topic):
    fmt = "%I|%U|@N|@H:@M:@S|@s"
    t, m = both(procs, broker, topic, fmt)
    rx = re.compile(rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})\|(\d+)\.(\d{9})\|(\d{9})\|"
                    rb"(\d\d:\d\d:\d\d)\|(\d+)\n")
    mt, mm = rx.fullmatch(t), rx.fullmatch(m)
    assert mt and mm, (t, m)
    # Both printed when the message arrived: within a few seconds of each other and of now.
    assert abs(int(mt.group(2)) - int(mm.group(2))) <= 2
    assert abs(int(mt.group(2)) - time.time()) < 60
    assert abs(int(mt.group(6)) - int(mt.group(2))) <= 1
    assert len(mt.group(1)) == len(mm.group(1))


def test_client_id_i_is_tern_extension(broker, procs, topic):
    cid = uid("idfmt-")
    p = procs.start([TERN, "sub", *H, "-p", broker.port, "-i", cid, "-t", topic, "-C", 1,
                     "-F", "%i|%10.4i|"])
    broker.wait_subscribed(cid, topic)
    mpub(broker, "-t", topic, "-m", "x")
    assert procs.finish(p)[1] == f"{cid}|{' ' * 6}{cid[:4]}|\n".encode()
