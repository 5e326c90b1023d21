# SPDX-License-Identifier: MIT
"""TLS flags of tern pub/sub (--cafile --capath --cert --key --insecure --tls-version, mqtts://
URLs) against mosquitto TLS listeners, with certificates made here by the openssl CLI: a CA, a
server certificate for 127.0.0.1, one for another name, and a client certificate."""
import os
import subprocess

import pytest

from conftest import TERN, Broker, free_port, have, mpub, tern, uid

H = ("-h", "127.0.0.1")

pytestmark = pytest.mark.skipif(not have("openssl"), reason="needs the openssl CLI")


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
            "-subj", f"/CN={name}", cwd=d)


def make_cert(d, name, ca, san):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
            cwd=d)


class TLS:
    pass


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls"))
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "server", "ca", "IP:127.0.0.1,DNS:localhost")
    make_cert(d, "wrongname", "ca", "DNS:wrong.example")
    make_cert(d, "client", "ca", None)
    capath = os.path.join(d, "capath")
    os.mkdir(capath)
    subprocess.run(["cp", os.path.join(d, "ca.crt"), capath], check=True)
    openssl("rehash", capath, cwd=d)
    t = TLS()
    t.dir, t.capath = d, capath
    t.ca, t.otherca = os.path.join(d, "ca.crt"), os.path.join(d, "otherca.crt")
    t.cert, t.key = os.path.join(d, "client.crt"), os.path.join(d, "client.key")
    t.p_tls, t.p_mtls, t.p_wrong = free_port(), free_port(), free_port()
    extra = ""
    for port, crt, req in ((t.p_tls, "server", False), (t.p_mtls, "server", True),
                           (t.p_wrong, "wrongname", False)):
        extra += (f"listener {port} 127.0.0.1\ncafile {t.ca}\ncertfile {d}/{crt}.crt\n"
                  f"keyfile {d}/{crt}.key\n")
        if req:
            extra += "require_certificate true\n"
    t.broker = Broker(d, extra=extra, more_ports=(t.p_tls, t.p_mtls, t.p_wrong))
    yield t
    t.broker.stop()


def sub_plain(procs, t, topic):
    cid = uid("tlsm-")
    p = procs.start(["mosquitto_sub", *H, "-p", t.broker.port, "-i", cid, "-t", topic,
                     "-C", 1])
    t.broker.wait_subscribed(cid, topic)
    return p


def test_pub_over_tls_cafile(tls, procs, topic):
    s = sub_plain(procs, tls, topic)
    r = tern("pub", *H, "-p", tls.p_tls, "--cafile", tls.ca, "-t", topic, "-m", "secure",
             "-q", 1)
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"secure\n"


def test_pub_over_tls_capath_and_tls13(tls, procs, topic):
    s = sub_plain(procs, tls, topic)
    r = tern("pub", *H, "-p", tls.p_tls, "--capath", tls.capath, "--tls-version", "tlsv1.3",
             "-t", topic, "-m", "capath")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"capath\n"


def test_sub_over_tls_url(tls, procs, topic):
    cid = uid("tlst-")
    p = procs.start([TERN, "sub", "-L", f"mqtts://127.0.0.1:{tls.p_tls}/{topic}",
                     "--cafile", tls.ca, "-i", cid, "-C", 1, "-v"])
    tls.broker.wait_subscribed(cid, topic)
    mpub(tls.broker, "-t", topic, "-m", "to tls sub")
    rc, out, err = procs.finish(p)
    assert rc == 0, err
    assert out == f"{topic} to tls sub\n".encode()


def test_client_certificate(tls, procs, topic):
    s = sub_plain(procs, tls, topic)
    r = tern("pub", *H, "-p", tls.p_mtls, "--cafile", tls.ca, "--cert", tls.cert, "--key",
             tls.key, "-t", topic, "-m", "with cert")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"with cert\n"
    # The same listener without a client certificate: refused during the handshake.
    r = tern("pub", *H, "-p", tls.p_mtls, "--cafile", tls.ca, "-t", topic, "-m", "x")
    assert r.returncode == 1
    assert r.stderr.startswith(f"tern: cannot connect to 127.0.0.1:{tls.p_mtls}: ".encode())


def test_untrusted_ca_fails(tls, topic):
    r = tern("pub", *H, "-p", tls.p_tls, "--cafile", tls.otherca, "-t", topic, "-m", "x")
    assert r.returncode == 1
    assert r.stderr.startswith(f"tern: cannot connect to 127.0.0.1:{tls.p_tls}: ".encode())
    assert b"certificate" in r.stderr  # says why, not just "TLS error"
    assert r.stdout == b""


def test_wrong_name_needs_insecure(tls, procs, topic):
    r = tern("pub", *H, "-p", tls.p_wrong, "--cafile", tls.ca, "-t", topic, "-m", "x")
    assert r.returncode == 1
    assert r.stderr.startswith(f"tern: cannot connect to 127.0.0.1:{tls.p_wrong}: ".encode())
    assert b"mismatch" in r.stderr
    s = sub_plain(procs, tls, topic)
    r = tern("pub", *H, "-p", tls.p_wrong, "--cafile", tls.ca, "--insecure", "-t", topic,
             "-m", "insecure ok")
    assert r.returncode == 0, r.stderr
    assert procs.finish(s)[1] == b"insecure ok\n"


def test_plain_client_on_tls_port_fails(tls, topic):
    r = tern("pub", *H, "-p", tls.p_tls, "-t", topic, "-m", "x")
    assert r.returncode == 1
    assert r.stderr.startswith(f"tern: cannot connect to 127.0.0.1:{tls.p_tls}: ".encode())
