# SPDX-License-Identifier: MIT
"""tern rr: request/response against mosquitto, with mosquitto_sub + mosquitto_pub playing
the responder. In MQTT 5 the request carries the Response Topic property (-e)."""
from conftest import TERN, mpub, tern, uid

H = ("-h", "127.0.0.1")


def responder(procs, broker, req, fmt, version="mqttv5"):
    cid = uid("resp-")
    p = procs.start(["mosquitto_sub", *H, "-p", broker.port, "-i", cid, "-V", version,
                     "-t", req, "-C", 1, "-F", fmt])
    broker.wait_subscribed(cid, req)
    return p


def test_rr_v5_round_trip(broker, procs, topic):
    req, resp = topic + "/req", topic + "/resp"
    r = responder(procs, broker, req, "%R|%p|%D")
    cid = uid("rr-")
    rr = procs.start([TERN, "rr", *H, "-p", broker.port, "-i", cid, "-t", req, "-e", resp,
                      "-m", "ping", "-q", 1, "-D", "publish", "correlation-data", "c-17"])
    # The responder learns where to answer from the request itself.
    rc, out, err = procs.finish(r)
    assert out == f"{resp}|ping|c-17\n".encode()
    mpub(broker, "-V", "mqttv5", "-t", resp, "-m", "pong", "-D", "publish", "correlation-data",
         "c-17")
    rc, out, err = procs.finish(rr)
    assert rc == 0, err
    assert out == b"pong\n"


def test_rr_format_and_verbose(broker, procs, topic):
    req, resp = topic + "/req", topic + "/resp"
    r = responder(procs, broker, req, "%R")
    rr = procs.start([TERN, "rr", *H, "-p", broker.port, "-t", req, "-e", resp, "-n",
                      "-F", "%t=%p %D"])
    assert procs.finish(r)[1] == f"{resp}\n".encode()
    mpub(broker, "-V", "mqttv5", "-t", resp, "-m", "answer", "-D", "publish",
         "correlation-data", "xyz")
    rc, out, err = procs.finish(rr)
    assert rc == 0, err
    assert out == f"{resp}=answer xyz\n".encode()


def test_rr_311_has_no_response_topic(broker, procs, topic):
    req, resp = topic + "/req", topic + "/resp"
    r = responder(procs, broker, req, "[%R]%p", version="mqttv311")
    cid = uid("rr311-")
    rr = procs.start([TERN, "rr", *H, "-p", broker.port, "-V", "311", "-i", cid, "-t", req,
                      "-e", resp, "-m", "q", "-v"])
    assert procs.finish(r)[1] == b"[]q\n"
    mpub(broker, "-t", resp, "-m", "a")
    rc, out, err = procs.finish(rr)
    assert rc == 0, err
    assert out == f"{resp} a\n".encode()


def test_rr_timeout_27(broker, topic):
    r = tern("rr", *H, "-p", broker.port, "-t", topic + "/req", "-e", topic + "/resp",
             "-m", "nobody listens", "-W", 1)
    assert r.returncode == 27
    assert b"Timed out" in r.stderr


def test_rr_needs_response_topic(broker, topic):
    r = tern("rr", *H, "-p", broker.port, "-t", topic, "-m", "x")
    assert r.returncode == 1
    assert b"tern rr: no response topic (-e)" in r.stderr
