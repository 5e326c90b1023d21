# SPDX-License-Identifier: MIT
"""tern pub and tern sub against Debian's mosquitto broker, with mosquitto_sub and
mosquitto_pub as the independent peers: QoS 0/1/2, retained messages, every way tern pub takes
a message (-m -f -l -n -s, --repeat), wills, MQTT 5 properties (-D) and the connection flags."""
import os
import re
import signal

import pytest

from conftest import TERN, mpub, tern, uid

H = ("-h", "127.0.0.1")


def msub(procs, broker, topic, *args, cid=None, version=None):
    """Start mosquitto_sub and return once the broker has accepted its subscription."""
    cid = cid or uid("msub-")
    argv = ["mosquitto_sub", *H, "-p", str(broker.port), "-i", cid, "-t", topic, *map(str, args)]
    if version:
        argv += ["-V", version]
    p = procs.start(argv)
    broker.wait_subscribed(cid, topic)
    return p


def tsub(procs, broker, topic, *args, cid=None):
    """Start tern sub and return once the broker has accepted its subscription."""
    cid = cid or uid("tsub-")
    p = procs.start([TERN, "sub", *H, "-p", str(broker.port), "-i", cid, "-t", topic,
                     *map(str, args)])
    broker.wait_subscribed(cid, topic)
    return p


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_pub_qos_reaches_mosquitto_sub(broker, procs, topic, qos):
    s = msub(procs, broker, topic, "-q", 2, "-C", 1, "-F", "%q %t %p")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-m", f"hello {qos}", "-q", qos)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    rc, out, _ = procs.finish(s)
    assert rc == 0
    assert out == f"{qos} {topic} hello {qos}\n".encode()


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_sub_qos_from_mosquitto_pub(broker, procs, topic, qos):
    s = tsub(procs, broker, topic, "-q", 2, "-C", 1, "-v")
    mpub(broker, "-t", topic, "-m", "payload here", "-q", qos)
    rc, out, err = procs.finish(s)
    assert rc == 0, err
    assert out == f"{topic} payload here\n".encode()


@pytest.mark.parametrize("ver", ["31", "311", "5", "mqttv31", "mqttv311", "mqttv5"])
def test_protocol_versions(broker, procs, topic, ver):
    cid = uid("ver-")
    s = tsub(procs, broker, topic, "-V", ver, "-C", 1)
    r = tern("pub", *H, "-p", broker.port, "-V", ver, "-i", cid, "-t", topic, "-m", "v")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"v\n"
    level = {"31": 1, "311": 2, "5": 5}[ver.replace("mqttv", "")]
    # mosquitto logs the protocol as p1 (3.1), p2 (3.1.1) or p5.
    broker.wait_log(rf"as {cid} \(p{level}, ")


def test_retained_flag_R_and_retained_only(broker, procs, topic):
    r = tern("pub", *H, "-p", broker.port, "-t", topic + "/a", "-m", "kept", "-r", "-q", 1)
    assert r.returncode == 0, r.stderr
    # A new subscriber sees it with the retain flag set.
    r = tern("sub", *H, "-p", broker.port, "-t", topic + "/#", "-C", 1, "-F", "%r %t %p")
    assert r.stdout == f"1 {topic}/a kept\n".encode()
    # -R skips stale (retained) messages: the first one printed is the fresh one.
    s = tsub(procs, broker, topic + "/#", "-R", "-C", 1, "-F", "%r %p")
    mpub(broker, "-t", topic + "/b", "-m", "fresh")
    assert procs.finish(s)[1] == b"0 fresh\n"
    # --retained-only prints retained messages and exits at the first fresh one.
    s = tsub(procs, broker, topic + "/#", "--retained-only", "-v")
    mpub(broker, "-t", topic + "/c", "-m", "fresh")
    rc, out, err = procs.finish(s)
    assert rc == 0, err
    assert out == f"{topic}/a kept\n".encode()


def test_remove_retained_clears_them(broker, procs, topic):
    for t in ("a", "b"):
        mpub(broker, "-t", f"{topic}/{t}", "-m", t, "-r")
    # -T keeps b from being printed and from being cleared; --retained-only ends the run at
    # the first fresh message.
    s = tsub(procs, broker, topic + "/#", "--remove-retained", "-T", topic + "/b",
             "--retained-only", "-v")
    mpub(broker, "-t", f"{topic}/fresh", "-m", "end")
    rc, out, err = procs.finish(s)
    assert rc == 0, err
    assert out == f"{topic}/a a\n".encode()
    # What is left retained: only b. A marker retained last proves nothing else came.
    mpub(broker, "-t", f"{topic}/z", "-m", "marker", "-r")
    r = tern("sub", *H, "-p", broker.port, "-t", topic + "/#", "-C", 2, "-v")
    assert sorted(r.stdout.decode().splitlines()) == [f"{topic}/b b", f"{topic}/z marker"]


def test_line_mode(broker, procs, topic):
    s = msub(procs, broker, topic, "-C", 4, "-v")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-l", "-q", 1,
             input=b"first\n\nthird line\nlast without newline")
    assert r.returncode == 0, r.stderr
    out = procs.finish(s)[1].decode()
    # An empty line is an empty message, shown by mosquitto_sub -v as "(null)".
    assert out == (f"{topic} first\n{topic} (null)\n{topic} third line\n"
                   f"{topic} last without newline\n")


def test_line_mode_many_lines_in_order(broker, procs, topic):
    n = 500
    s = msub(procs, broker, topic, "-C", n, "-q", 1)
    data = "".join(f"line {i}\n" for i in range(n)).encode()
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-l", "-q", 1, input=data)
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == data


def test_file_binary_all_bytes(broker, procs, topic, tmp_path):
    f = tmp_path / "blob"
    blob = bytes(range(256)) * 40
    f.write_bytes(blob)
    s = msub(procs, broker, topic, "-C", 1, "-F", "%l %x")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-f", f, "-q", 2)
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == f"{len(blob)} {blob.hex()}\n".encode()


def test_null_message(broker, procs, topic):
    s = msub(procs, broker, topic, "-C", 1, "-v")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-n")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == f"{topic} (null)\n".encode()


def test_stdin_whole(broker, procs, topic):
    s = msub(procs, broker, topic, "-C", 1, "-F", "%l:%p")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-s", input=b"a\nb\nc\n")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"6:a\nb\nc\n\n"


def test_repeat_and_delay(broker, procs, topic):
    s = msub(procs, broker, topic, "-C", 3, "-F", "%p")
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-m", "again", "--repeat", 3,
             "--repeat-delay", "0.05", "-q", 1)
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"again\nagain\nagain\n"


def test_url_L(broker, procs, topic):
    s = tsub(procs, broker, topic, "-C", 1)
    r = tern("pub", "-L", f"mqtt://someone:secret@127.0.0.1:{broker.port}/{topic}", "-m", "u")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"u\n"
    broker.wait_log(r"u'someone'")
    # tern sub -L with the topic in the URL.
    cid = uid("lsub-")
    p = procs.start([TERN, "sub", "-L", f"mqtt://127.0.0.1:{broker.port}/{topic}", "-i", cid,
                     "-C", 1])
    broker.wait_subscribed(cid, topic)
    mpub(broker, "-t", topic, "-m", "via url")
    assert procs.finish(p)[1] == b"via url\n"


def test_connect_flags_in_broker_log(broker):
    """-i -k -u -P -c and -I as the broker sees them in CONNECT."""
    cid = uid("flags-")
    r = tern("pub", *H, "-p", broker.port, "-i", cid, "-k", 17, "-u", "alice", "-P", "pw",
             "-c", "-t", "x/flags", "-m", "1")
    assert r.returncode == 0, r.stderr
    broker.wait_log(rf"as {cid} \(p2, c0, k17, u'alice'\)")
    prefix = uid("pfx")
    r = tern("pub", *H, "-p", broker.port, "-I", prefix, "-t", "x/flags", "-m", "1")
    assert r.returncode == 0, r.stderr
    m = broker.wait_log(rf"as ({prefix}\d+) \(p2, c1, k60\)")
    assert m.group(1)[len(prefix):].isdigit()


def test_will_published_when_client_vanishes(broker, procs, topic):
    w = msub(procs, broker, topic + "/will", "-C", 1, "-F", "%r %q %p", "-q", 2)
    cid = uid("willer-")
    s = tsub(procs, broker, topic + "/x", "--will-topic", topic + "/will", "--will-payload",
             "gone", "--will-qos", 1, "--will-retain", cid=cid)
    s.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker must send the will
    s.wait()
    rc, out, _ = procs.finish(w)
    # A retained will is delivered to a live subscriber with retain 0 [MQTT-3.3.1-9] (3.1.1).
    assert out == b"0 1 gone\n"
    r = tern("sub", *H, "-p", broker.port, "-t", topic + "/will", "-C", 1, "-F", "%r %p")
    assert r.stdout == b"1 gone\n"  # and it was retained


def test_will_not_sent_on_clean_exit(broker, procs, topic):
    cid = uid("clean-")
    r = tern("sub", *H, "-p", broker.port, "-i", cid, "-t", topic + "/x", "-E",
             "--will-topic", topic + "/will", "--will-payload", "no")
    assert r.returncode == 0, r.stderr
    broker.wait_log(rf"Client {cid} disconnected\.")
    mpub(broker, "-t", topic + "/will", "-m", "marker", "-r")
    r = tern("sub", *H, "-p", broker.port, "-t", topic + "/will", "-C", 1)
    assert r.stdout == b"marker\n"


def test_v5_publish_properties(broker, procs, topic):
    s = msub(procs, broker, topic, "-C", 1, "-F", "%P|%C|%D|%R|%F|%E|%p", version="mqttv5")
    r = tern("pub", *H, "-p", broker.port, "-V", 5, "-t", topic, "-m", "props",
             "-D", "publish", "user-property", "k1", "v1",
             "-D", "publish", "user-property", "k2", "v 2",
             "-D", "publish", "content-type", "text/plain",
             "-D", "publish", "correlation-data", "corr-42",
             "-D", "publish", "response-topic", "reply/here",
             "-D", "publish", "payload-format-indicator", 1,
             "-D", "publish", "message-expiry-interval", 3600)
    assert r.returncode == 0, r.stderr
    out = procs.finish(s)[1].decode()
    m = re.fullmatch(r"k1:v1 k2:v 2\|text/plain\|corr-42\|reply/here\|1\|(\d+)\|props\n", out)
    assert m, out
    assert 3590 <= int(m.group(1)) <= 3600


def test_v5_will_and_subscribe_properties(broker, procs, topic):
    w = msub(procs, broker, topic + "/will", "-C", 1, "-F", "%P %C", version="mqttv5")
    cid = uid("w5-")
    s = tsub(procs, broker, topic + "/x", "-V", 5, "--will-topic", topic + "/will",
             "-D", "will", "user-property", "why", "crash",
             "-D", "will", "content-type", "text/x", cid=cid)
    s.send_signal(signal.SIGKILL)
    s.wait()
    assert procs.finish(w)[1] == b"why:crash text/x\n"
    # A subscription identifier comes back on every matching message (%S).
    s = tsub(procs, broker, topic + "/s", "-V", 5, "-D", "subscribe",
             "subscription-identifier", 77, "-C", 1, "-F", "%S")
    mpub(broker, "-t", topic + "/s", "-m", "x")
    assert procs.finish(s)[1] == b"77\n"


def test_v5_session_expiry_and_connect_properties(broker):
    cid = uid("x5-")
    r = tern("pub", *H, "-p", broker.port, "-V", 5, "-i", cid, "-x", 120,
             "-D", "connect", "user-property", "a", "b", "-D", "connect", "receive-maximum", 5,
             "-D", "disconnect", "session-expiry-interval", 0,
             "-t", "x/y", "-m", "1", "--trace")
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert re.search(r"-> CONNECT v=5 id=" + cid + r" .*session-expiry-interval=120", err), err
    assert "receive-maximum=5" in err and "user-property=a:b" in err
    assert re.search(r"-> DISCONNECT .*session-expiry-interval=0", err), err


def test_count_C_and_no_eol_N(broker, procs, topic):
    s = tsub(procs, broker, topic, "-C", 3, "-N", "-q", 1)
    for m in ("a", "b", "c", "d"):
        mpub(broker, "-t", topic, "-m", m, "-q", 1)
    rc, out, err = procs.finish(s)
    assert rc == 0, err
    assert out == b"abc"


def test_timeout_W_exits_27(broker, topic):
    r = tern("sub", *H, "-p", broker.port, "-t", topic, "-W", 1)
    assert r.returncode == 27
    assert b"Timed out" in r.stderr


def test_filter_out_T(broker, procs, topic):
    s = tsub(procs, broker, topic + "/#", "-T", topic + "/skip/#", "-C", 1, "-v")
    mpub(broker, "-t", topic + "/skip/me", "-m", "no")
    mpub(broker, "-t", topic + "/keep", "-m", "yes")
    assert procs.finish(s)[1] == f"{topic}/keep yes\n".encode()


def test_unsubscribe_U(broker, procs, topic):
    cid = uid("unsub-")
    p = procs.start([TERN, "sub", *H, "-p", str(broker.port), "-i", cid, "-t", topic + "/a",
                     "-t", topic + "/b", "-U", topic + "/b", "-C", 1, "-v"])
    broker.wait_log(rf"^{cid} {re.escape(topic)}/b$", what="unsubscribe logged")
    mpub(broker, "-t", topic + "/b", "-m", "unsubscribed")
    mpub(broker, "-t", topic + "/a", "-m", "subscribed")
    assert procs.finish(p)[1] == f"{topic}/a subscribed\n".encode()


def test_exit_after_subscribe_E(broker, topic):
    r = tern("sub", *H, "-p", broker.port, "-t", topic, "-E", "-q", 2)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b""


def test_persistent_session_c_keeps_messages(broker, topic):
    cid = uid("persist-")
    r = tern("sub", *H, "-p", broker.port, "-i", cid, "-c", "-q", 1, "-t", topic, "-E")
    assert r.returncode == 0, r.stderr
    mpub(broker, "-t", topic, "-m", "while away", "-q", 1)
    r = tern("sub", *H, "-p", broker.port, "-i", cid, "-c", "-q", 1, "-t", topic, "-C", 1)
    assert r.stdout == b"while away\n"


def test_sigint_disconnects_cleanly(broker, procs, topic):
    cid = uid("sigint-")
    s = tsub(procs, broker, topic, cid=cid)
    s.send_signal(signal.SIGINT)
    rc, _, err = procs.finish(s)
    assert rc == 0, err
    broker.wait_log(rf"Client {cid} disconnected\.")


def test_help_for_each_subcommand():
    for cmd in ("pub", "sub", "rr"):
        r = tern(cmd, "--help")
        assert r.returncode == 0
        assert r.stdout.startswith(f"Usage: tern {cmd}".encode())
    r = tern("--help")
    assert r.returncode == 0 and b"pub" in r.stdout and b"sub" in r.stdout


def test_large_file_payload(broker, procs, topic, tmp_path):
    f = tmp_path / "big"
    data = bytes(i * 7 % 251 for i in range(3 * 1024 * 1024 + 17))
    f.write_bytes(data)
    s = msub(procs, broker, topic, "-C", 1, "-F", "%l", "-q", 1)
    r = tern("pub", *H, "-p", broker.port, "-t", topic, "-f", f, "-q", 1, "--nodelay")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == f"{len(data)}\n".encode()
    # and tern sub receives it intact
    s = tsub(procs, broker, topic, "-C", 1, "-N")
    mpub(broker, "-t", topic, "-f", str(f))
    assert procs.finish(s)[1] == data
