# SPDX-License-Identifier: MIT
"""tests/ternd/test_ternd_process.py - ternd as a process: signals (graceful stop, SIGHUP
reload, a bad reload keeps the running config), repeatable -p, and the log a learner reads
with -v. The protocol itself is tested in tests/broker and tests/broker_interop.

Run: TERN_TERND=build/.../ternd /usr/bin/python3 -m pytest tests/ternd
"""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

TERND = os.environ.get("TERN_TERND", "ternd")
DEADLINE = 10.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError("ternd exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("ternd did not listen on %d" % port)


class Ternd:
    def __init__(self, tmp_path, args=None, conf=None):
        self.log_path = tmp_path / "ternd.log"
        self.conf_path = tmp_path / "ternd.conf"
        self.port = free_port()
        argv = [TERND]
        if conf is not None:
            self.conf_path.write_text(conf.format(port=self.port))
            argv += ["-c", str(self.conf_path)]
        argv += (args or [])
        self.proc = subprocess.Popen(argv, stderr=open(self.log_path, "wb"))

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if text in self.log():
                return
            time.sleep(0.02)
        raise AssertionError("%r not in the log:\n%s" % (text, self.log()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def ternd_factory(tmp_path):
    started = []

    def make(**kw):
        t = Ternd(tmp_path, **kw)
        started.append(t)
        return t
    yield make
    for t in started:
        t.stop()


def connect_v5(port, cid=b"c1", props=b""):
    c = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    body = b"\x00\x04MQTT\x05\x02\x00\x3c" + bytes([len(props)]) + props + \
        struct.pack(">H", len(cid)) + cid
    c.sendall(bytes([0x10, len(body)]) + body)
    return c, c.recv(256)


def recv_all(c):
    out = b""
    while True:
        try:
            b = c.recv(4096)
        except (ConnectionResetError, socket.timeout):
            break
        if not b:
            break
        out += b
    return out


def test_sigterm_sends_v5_disconnect_0x8b_and_exits_0(ternd_factory):
    """Graceful stop: a 5.0 client gets DISCONNECT 0x8B (Server shutting down)."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    c, connack = connect_v5(t.port)
    assert connack[:4] == b"\x20\x03\x00\x00" or connack[0] == 0x20 and connack[3] == 0
    t.proc.send_signal(signal.SIGTERM)
    data = recv_all(c)
    assert data[:1] == b"\xe0" and data[2] == 0x8B, data.hex()
    assert t.proc.wait(DEADLINE) == 0


def test_sigterm_with_server_reference_sends_0x9c(ternd_factory):
    """server_reference (tern's own option): at a graceful stop 5.0 clients get DISCONNECT
    0x9C (Use another server) with that Server Reference (5.0 4.11)."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "server_reference other.example:1883\n")
    wait_port(t.port, t.proc)
    c, _ = connect_v5(t.port)
    t.proc.send_signal(signal.SIGTERM)
    data = recv_all(c)
    assert data[:1] == b"\xe0" and data[2] == 0x9C, data.hex()
    assert b"\x1c\x00\x12other.example:1883" in data, data.hex()
    assert t.proc.wait(DEADLINE) == 0


def test_response_information_only_when_requested(ternd_factory):
    """Request Response Information 1 gets a Response Information topic prefix in CONNACK;
    without the request none is sent [MQTT-3.1.2-28] (5.0)."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    _, asked = connect_v5(t.port, b"ri", props=b"\x19\x01")
    assert b"\x1a\x00\x10tern/response/ri" in asked, asked.hex()
    _, unasked = connect_v5(t.port, b"ri2")
    assert b"\x1a" not in unasked[5:], unasked.hex()


def test_sighup_applies_runtime_setting(ternd_factory):
    """SIGHUP reloads the file: retain_available false then refuses a retained PUBLISH
    (5.0 DISCONNECT 0x9A) while the existing connection stays up."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    keep, _ = connect_v5(t.port, b"keep")
    t.conf_path.write_text("listener %d 127.0.0.1\nallow_anonymous true\n"
                           "retain_available false\n" % t.port)
    t.proc.send_signal(signal.SIGHUP)
    t.wait_log("Config reloaded.")
    c, connack = connect_v5(t.port, b"r")
    # CONNACK now announces Retain Available 0 (property 0x25)
    assert b"\x25\x00" in connack, connack.hex()
    c.sendall(b"\x31\x06\x00\x01a\x00hi")  # QoS 0 retained PUBLISH
    data = recv_all(c)
    assert data[:1] == b"\xe0" and data[2] == 0x9A, data.hex()
    # the connection made before the reload was not dropped
    keep.sendall(b"\xc0\x00")
    assert keep.recv(2) == b"\xd0\x00"


def test_sighup_with_bad_file_keeps_running_config(ternd_factory):
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    t.conf_path.write_text("listener %d 127.0.0.1\nallow_anonymous true\nnonsense 1\n" % t.port)
    t.proc.send_signal(signal.SIGHUP)
    t.wait_log("config not reloaded")
    assert "ternd.conf:3: unknown option 'nonsense'" in t.log()
    c, connack = connect_v5(t.port)
    assert connack[0] == 0x20 and connack[3] == 0x00


def test_sighup_listener_change_needs_restart(ternd_factory):
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    other = free_port()
    t.conf_path.write_text("listener %d 127.0.0.1\nallow_anonymous true\n" % other)
    t.proc.send_signal(signal.SIGHUP)
    t.wait_log("Config reloaded.")
    assert "Needs a restart" in t.log()
    c, connack = connect_v5(t.port)  # still on the old port
    assert connack[0] == 0x20


def test_p_is_repeatable(ternd_factory):
    """-p PORT may be given more than once, like mosquitto's; each port listens."""
    p1, p2 = free_port(), free_port()
    t = ternd_factory(args=["-p", str(p1), "-p", str(p2)])
    wait_port(p1, t.proc)
    wait_port(p2, t.proc)


def test_second_ternd_on_the_same_port_is_refused(ternd_factory, tmp_path):
    """A second ternd on a port the first one listens on stops with "Address already in use",
    as mosquitto does, instead of joining the first one's SO_REUSEPORT group and silently
    taking half of its clients (a publisher and a subscriber could then land on different
    brokers). Also for a wildcard listener over the same port."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\nworkers 2\n")
    wait_port(t.port, t.proc)
    for conf in ("listener %d 127.0.0.1\n" % t.port, "listener %d\n" % t.port):
        path = tmp_path / "second.conf"
        path.write_text(conf + "allow_anonymous true\n")
        r = subprocess.run([TERND, "-c", str(path)], capture_output=True, timeout=DEADLINE)
        assert r.returncode != 0, r
        assert b"Address already in use" in r.stderr, r.stderr
    assert t.proc.poll() is None  # the first one is untouched


def test_verbose_logs_each_packet_of_a_qos2_exchange(ternd_factory):
    """-v: one line per packet in and out, so a learner can watch PUBLISH, PUBREC, PUBREL,
    PUBCOMP happen."""
    t = ternd_factory(args=["-v"], conf="listener {port} 127.0.0.1\nallow_anonymous true\n")
    wait_port(t.port, t.proc)
    c, _ = connect_v5(t.port, b"learner")
    c.sendall(b"\x34\x08\x00\x01q\x00\x07\x00hi")  # QoS 2 PUBLISH id 7
    assert c.recv(16)[:1] == b"\x50"               # PUBREC
    c.sendall(b"\x62\x02\x00\x07")                 # PUBREL
    assert c.recv(16)[:1] == b"\x70"               # PUBCOMP
    t.wait_log("Sending PUBCOMP to learner (m7")
    log = t.log()
    for line in ("Received PUBLISH from learner (d0, q2, r0, m7, 'q', ... (2 bytes))",
                 "Sending PUBREC to learner (m7", "Received PUBREL from learner (m7"):
        assert line in log, log


def test_bad_config_names_file_and_line(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text("listener 1883 127.0.0.1\nmax_keepalive lots\n")
    r = subprocess.run([TERND, "-c", str(conf)], capture_output=True, timeout=DEADLINE)
    assert r.returncode == 2
    assert b"t.conf:2: max_keepalive" in r.stderr, r.stderr


def test_message_size_limit_refuses_large_payload_with_0x83(ternd_factory):
    """message_size_limit: a larger payload is not forwarded; its QoS 1 flow completes with
    PUBACK 0x83 (5.0), as docs/ternd.conf.md says; a payload at the limit goes through."""
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "message_size_limit 10\n")
    wait_port(t.port, t.proc)
    sub, _ = connect_v5(t.port, b"msl-sub")
    sub.sendall(b"\x82\x07\x00\x01\x00\x00\x01m\x00")  # SUBSCRIBE "m" QoS 0
    assert sub.recv(16)[:1] == b"\x90"
    pub, _ = connect_v5(t.port, b"msl-pub")
    pub.sendall(b"\x32\x11\x00\x01m\x00\x05\x00" + b"x" * 11)  # QoS 1, id 5, 11 bytes
    assert pub.recv(16)[:5] == b"\x40\x03\x00\x05\x83"
    pub.sendall(b"\x32\x10\x00\x01m\x00\x06\x00" + b"y" * 10)  # 10 bytes: at the limit
    assert pub.recv(16)[:4] == b"\x40\x02\x00\x06"
    got = sub.recv(64)
    assert got[:1] == b"\x30" and got.endswith(b"y" * 10), got.hex()


def test_max_connections_refuses_the_extra_connection(ternd_factory):
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "max_connections 2\n")
    wait_port(t.port, t.proc)  # the probe connection has closed again
    a, ca = connect_v5(t.port, b"mc1")
    b, cb = connect_v5(t.port, b"mc2")
    assert ca[0] == 0x20 and cb[0] == 0x20
    c = socket.create_connection(("127.0.0.1", t.port), timeout=DEADLINE)
    assert recv_all(c) == b""  # closed without a word
    t.wait_log("max_connections (2) reached")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_user_option_drops_root_after_binding(ternd_factory):
    """mosquitto's `user`: started as root, ternd runs as that user once it listens."""
    import pwd
    nobody = pwd.getpwnam("nobody")
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\nuser nobody\n")
    wait_port(t.port, t.proc)
    t.wait_log("Running as user nobody.")  # the port accepts before the switch happens
    with open("/proc/%d/status" % t.proc.pid) as f:
        uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
    assert all(int(u) == nobody.pw_uid for u in uids), uids
    c, connack = connect_v5(t.port)
    assert connack[0] == 0x20


def test_user_option_unknown_user_stops_start(tmp_path):
    conf = tmp_path / "t.conf"
    conf.write_text("listener %d 127.0.0.1\nuser no-such-user-tern\n" % free_port())
    r = subprocess.run([TERND, "-c", str(conf)], capture_output=True, timeout=DEADLINE)
    if os.geteuid() == 0:
        assert r.returncode == 1 and b"no-such-user-tern" in r.stderr, r.stderr
    else:
        pytest.skip("only root switches user")


# ---- mosquitto.conf options: pid_file, persistence, include_dir ----------------------------

def wait_file_log(path, text):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return path.read_text(errors="replace")
        time.sleep(0.02)
    raise AssertionError("%r not in %s" % (text, path))


def test_pid_file_written_once_listening_and_removed_at_stop(ternd_factory, tmp_path):
    """mosquitto's pid_file: the pid is there once ternd runs (a path with a blank: the value
    is the rest of the line), and gone after a graceful stop."""
    run = tmp_path / "run dir"
    run.mkdir()
    pid = run / "ternd.pid"
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "pid_file %s\nallow_duplicate_messages true\n" % pid)
    wait_port(t.port, t.proc)
    t.wait_log("running")  # logged after the pid file is written
    assert "allow_duplicate_messages is deprecated" in t.log()  # accepted, with a notice
    assert pid.read_text() == "%d\n" % t.proc.pid
    t.proc.send_signal(signal.SIGTERM)
    assert t.proc.wait(DEADLINE) == 0
    assert not pid.exists()


def test_pid_file_that_cannot_be_written_stops_start(tmp_path):
    conf = tmp_path / "t.conf"
    bad = tmp_path / "no-such-dir" / "ternd.pid"
    conf.write_text("listener %d 127.0.0.1\npid_file %s\n" % (free_port(), bad))
    r = subprocess.run([TERND, "-c", str(conf)], capture_output=True, timeout=DEADLINE)
    assert r.returncode == 1, r
    assert b"cannot write pid file " + str(bad).encode() in r.stderr, r.stderr
    assert b"No such file or directory" in r.stderr, r.stderr


def test_persistence_true_warns_once_and_writes_nothing(ternd_factory, tmp_path):
    """persistence true is accepted with one warning (not implemented yet: memory only);
    nothing is written to persistence_location. persistence false says nothing."""
    store = tmp_path / "store"
    store.mkdir()
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "persistence true\npersistence_location %s/\n"
                           "persistence_file tern.db\nautosave_interval 1\n"
                           "autosave_on_changes false\n" % store)
    wait_port(t.port, t.proc)
    t.wait_log("running")
    c, connack = connect_v5(t.port, b"p1")
    assert connack[0] == 0x20 and connack[3] == 0
    log = t.log()
    assert log.count("durable persistence is not supported yet") == 1, log
    assert "in memory only" in log, log
    t.proc.send_signal(signal.SIGTERM)
    assert t.proc.wait(DEADLINE) == 0
    assert list(store.iterdir()) == []
    assert not (tmp_path / "tern.db").exists() and not (tmp_path / "mosquitto.db").exists()


def test_persistence_false_is_silent(ternd_factory):
    t = ternd_factory(conf="listener {port} 127.0.0.1\nallow_anonymous true\n"
                           "persistence false\n")
    wait_port(t.port, t.proc)
    t.wait_log("running")
    assert "Warning" not in t.log() and "memory only" not in t.log(), t.log()


def test_include_dir_files_apply_and_errors_name_them(ternd_factory, tmp_path):
    """include_dir: a listener and max_qos from conf.d apply (CONNACK Maximum QoS 1); a bad line
    in an included file stops start-up with that file's name and line."""
    d = tmp_path / "conf.d"
    d.mkdir()
    port = free_port()
    (d / "10-listener.conf").write_text("listener %d 127.0.0.1\n" % port)
    (d / "20-limits.conf").write_text("# limits\nmax_qos 1\n")
    (d / "README").write_text("not a .conf file: ignored\n")
    main = tmp_path / "main.conf"
    main.write_text("allow_anonymous true\ninclude_dir %s\n" % d)
    t = ternd_factory(args=["-c", str(main)])
    wait_port(port, t.proc)
    _, connack = connect_v5(port, b"inc")
    assert connack[0] == 0x20 and connack[3] == 0 and b"\x24\x01" in connack[4:], connack.hex()
    t.stop()

    (d / "30-bad.conf").write_text("\nmax_qos 3\n")
    r = subprocess.run([TERND, "-c", str(main)], capture_output=True, timeout=DEADLINE)
    assert r.returncode == 2
    assert (str(d) + "/30-bad.conf:2: max_qos: 3 is out of range").encode() in r.stderr, r.stderr


def test_debian_mosquitto_conf_runs_unchanged_but_for_paths(ternd_factory, tmp_path):
    """Debian's own /etc/mosquitto/mosquitto.conf (pid_file, persistence, log_dest file,
    include_dir) with its paths moved to a temp dir and a listener in conf.d: ternd starts,
    writes the pid file and the log file, and serves a publish/subscribe round trip."""
    src = "/etc/mosquitto/mosquitto.conf"
    if not os.path.exists(src):
        pytest.skip("no Debian mosquitto.conf here")
    text = open(src).read()
    paths = {"/run/mosquitto": tmp_path / "run", "/var/lib/mosquitto": tmp_path / "lib",
             "/var/log/mosquitto": tmp_path / "log", "/etc/mosquitto/conf.d": tmp_path / "conf.d"}
    for old, new in paths.items():
        assert old in text, (old, text)  # the test would prove nothing otherwise
        text = text.replace(old, str(new))
        new.mkdir()
    port = free_port()
    (tmp_path / "conf.d" / "README").write_text("Any files placed in this directory that "
                                                 "have a .conf ending will be loaded\n")
    (tmp_path / "conf.d" / "local.conf").write_text("listener %d 127.0.0.1\n"
                                                     "allow_anonymous true\n" % port)
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    t = ternd_factory(args=["-c", str(conf)])
    wait_port(port, t.proc)
    log = wait_file_log(tmp_path / "log" / "mosquitto.log", "running")
    assert (tmp_path / "run" / "mosquitto.pid").read_text() == "%d\n" % t.proc.pid
    assert log.count("durable persistence is not supported yet") == 1, log

    sub, connack = connect_v5(port, b"deb-sub")
    assert connack[0] == 0x20 and connack[3] == 0
    sub.sendall(b"\x82\x0b\x00\x01\x00\x00\x05deb/t\x01")  # SUBSCRIBE deb/t QoS 1, id 1
    assert sub.recv(16)[:6] == b"\x90\x04\x00\x01\x00\x01", "SUBACK"
    pub, connack = connect_v5(port, b"deb-pub")
    assert connack[0] == 0x20 and connack[3] == 0
    pub.sendall(b"\x32\x0d\x00\x05deb/t\x00\x09\x00hi!")  # QoS 1 PUBLISH id 9
    assert pub.recv(16)[:4] == b"\x40\x02\x00\x09"
    got = sub.recv(64)
    assert got[:1] == b"\x32" and b"deb/t" in got and got.endswith(b"hi!"), got.hex()
    t.proc.send_signal(signal.SIGTERM)
    assert t.proc.wait(DEADLINE) == 0
    assert not (tmp_path / "run" / "mosquitto.pid").exists()
    assert list((tmp_path / "lib").iterdir()) == []
