# SPDX-License-Identifier: MIT
"""Bad input gives one clear line on stderr, nothing on stdout, and exit status 1, before any
connection is attempted; network failures say which address failed and why."""
import pytest

from conftest import Broker, free_port, tern

H = ("-h", "127.0.0.1")


def fails(args, message, status=1, input=None):
    r = tern(*args, input=input)
    assert r.returncode == status, (args, r.returncode, r.stderr)
    assert r.stdout == b""
    assert message.encode() in r.stderr, (args, r.stderr)
    return r


@pytest.mark.parametrize("args,message", [
    (["pub", "-t", "a", "-m", "x", "-q", "3"], "tern pub: invalid QoS 3 (0, 1 or 2)\n"),
    (["sub", "-t", "a", "-q", "-1"], "tern sub: invalid QoS -1 (0, 1 or 2)\n"),
    (["pub", "-t", "a", "-m", "x", "--will-topic", "w", "--will-qos", "7"],
     "tern pub: invalid will QoS 7 (0, 1 or 2)"),
    (["pub", "-t", "a/#", "-m", "x"], "tern pub: invalid topic 'a/#'"),
    (["pub", "-t", "a/+/b", "-m", "x"], "tern pub: invalid topic 'a/+/b'"),
    (["pub", "-t", "", "-m", "x"], "tern pub: invalid topic ''"),
    (["sub", "-t", "a/#/b"], "tern sub: invalid topic filter 'a/#/b'"),
    (["sub", "-t", "a+"], "tern sub: invalid topic filter 'a+'"),
    (["sub", "-t", "ok", "-T", "bad#"], "tern sub: invalid filter-out topic 'bad#'"),
    (["pub", "-t", "a", "-m", "x", "--will-topic", "w/#"], "invalid will topic 'w/#'"),
    (["pub", "-t", "a", "-m", "x", "--bogus"], "tern pub: unknown option '--bogus'"),
    (["sub", "-t", "a", "stray"], "tern sub: unexpected argument 'stray'"),
    (["pub", "-t", "a", "-m"], "tern pub: option -m needs an argument"),
    (["pub", "-t", "a", "-m", "x", "-C", "1"], "option -C does not apply to tern pub"),
    (["pub", "-m", "x"], "tern pub: no topic to publish to (-t)"),
    (["sub"], "tern sub: no topic to subscribe to (-t)"),
    (["pub", "-t", "a"], "tern pub: no message"),
    (["pub", "-t", "a", "-m", "x", "-n"], "only one of -m, -f, -l, -n and -s"),
    (["pub", "-t", "a", "-t", "b", "-m", "x"], "only one topic (-t)"),
    (["pub", "-t", "a", "-m", "x", "-p", "0"], "invalid port '0'"),
    (["pub", "-t", "a", "-m", "x", "-p", "70000"], "invalid port '70000'"),
    (["pub", "-t", "a", "-m", "x", "-k", "3"], "invalid keepalive '3'"),
    (["pub", "-t", "a", "-m", "x", "-V", "4"], "invalid protocol version '4'"),
    (["pub", "-t", "a", "-m", "x", "-i", "a", "-I", "b"], "-i and -I cannot be used together"),
    (["pub", "-t", "a", "-m", "x", "-c"], "-c (persistent session) needs a client id"),
    (["pub", "-t", "a", "-m", "x", "-x", "5"], "-x (session expiry interval) needs MQTT 5"),
    (["pub", "-t", "a", "-m", "x", "-D", "publish", "content-type", "t"],
     "-D sets MQTT 5 properties: add -V 5"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "bogus", "content-type", "t"],
     "-D: unknown command 'bogus'"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "colour", "t"],
     "-D: unknown property 'colour'"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "connect", "content-type", "t"],
     "-D: property content-type is not allowed in connect"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "connect", "receive-maximum", "0"],
     "-D: invalid value '0' for receive-maximum"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "message-expiry-interval",
      "-4"], "-D: invalid value '-4' for message-expiry-interval"),
    (["pub", "-V", "5", "-t", "a", "-m", "x", "-D", "publish", "user-property", "k"],
     "-D publish user-property needs a key and a value"),
    (["sub", "-t", "a", "-R", "--retained-only"], "-R and --retained-only cannot be used"),
    (["sub", "-t", "a", "-C", "0"], "invalid message count '0'"),
    (["sub", "-t", "a", "-W", "0"], "invalid timeout '0'"),
    (["pub", "-t", "a", "-m", "x", "--repeat", "0"], "invalid --repeat '0'"),
    (["pub", "-t", "a", "-m", "x", "--repeat-delay", "-1"], "invalid --repeat-delay '-1'"),
    (["pub", "-t", "a", "-m", "x", "--will-payload", "p"], "need --will-topic"),
    (["pub", "-t", "a", "-m", "x", "--proxy", "socks5h://x"],
     "--proxy is a mosquitto option tern does not support"),
    (["pub", "-L", "http://x/y", "-m", "x"], "-L: URL must start with mqtt:// or mqtts://"),
    (["pub", "-L", "mqtt://h:99999/t", "-m", "x"], "-L: invalid port '99999'"),
    (["pub", "-t", "a", "-m", "x", "--insecure"], "TLS options need --cafile or --capath"),
    (["pub", "-t", "a", "-m", "x", "--cafile", "ca", "--cert", "c"],
     "--cert and --key must be given together"),
    (["pub", "-t", "a", "-m", "x", "--cafile", "ca", "--tls-version", "tlsv1.1"],
     "invalid TLS version 'tlsv1.1'"),
    (["rr", "-t", "a", "-e", "b"], "tern rr: no request"),
])
def test_bad_arguments(args, message):
    fails(args, message)


def test_unreadable_file(tmp_path):
    missing = tmp_path / "missing"
    fails(["pub", "-t", "a", "-f", str(missing)],
          f"tern pub: cannot read file '{missing}': No such file or directory\n")
    fails(["pub", "-t", "a", "-f", str(tmp_path)],
          f"tern pub: cannot read file '{tmp_path}': Is a directory\n")
    fails(["rr", "-t", "a", "-e", "b", "-f", str(missing)],
          f"tern rr: cannot read file '{missing}': No such file or directory\n")


def test_connection_refused():
    port = free_port()  # nothing listens there once the probe socket is closed
    for cmd in (["pub", "-t", "a", "-m", "x"], ["sub", "-t", "a"],
                ["rr", "-t", "a", "-e", "b", "-m", "x"]):
        fails([*cmd, *H, "-p", port],
              f"tern: cannot connect to 127.0.0.1:{port}: Connection refused\n")
    # --quiet: the same failure, silently.
    r = tern("pub", *H, "-p", port, "-t", "a", "-m", "x", "--quiet")
    assert r.returncode == 1 and r.stderr == b""


def test_unknown_host():
    r = tern("pub", "-h", "no-such-host.invalid", "-t", "a", "-m", "x")
    assert r.returncode == 1
    assert r.stderr.startswith(b"tern: cannot connect to no-such-host.invalid:1883: ")


@pytest.fixture(scope="module")
def closed_broker(tmp_path_factory):
    b = Broker(str(tmp_path_factory.mktemp("closed")), anonymous=False)
    yield b
    b.stop()


def test_broker_refuses_connection_311_and_v5(closed_broker):
    p = closed_broker.port
    fails(["pub", *H, "-p", p, "-t", "a", "-m", "x"],
          f"tern: 127.0.0.1:{p} refused the connection: not authorized (return code 5)\n")
    fails(["sub", *H, "-p", p, "-t", "a", "-V", "5"],
          f"tern: 127.0.0.1:{p} refused the connection: Not authorized (0x87)\n")


def test_publish_refused_by_broker_v5(tmp_path):
    """A v5 PUBACK with a failure reason code is an error: message and exit status 1."""
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite allowed/#\n")
    b = Broker(str(tmp_path), extra=f"acl_file {acl}\n")
    try:
        r = tern("pub", *H, "-p", b.port, "-V", 5, "-q", 1, "-t", "denied/x", "-m", "x")
        assert r.returncode == 1
        assert r.stderr == (b"tern pub: the broker refused the message to 'denied/x': "
                            b"Not authorized (0x87)\n")
        r = tern("pub", *H, "-p", b.port, "-V", 5, "-q", 1, "-t", "allowed/x", "-m", "x")
        assert r.returncode == 0, r.stderr
    finally:
        b.stop()
