# SPDX-License-Identifier: MIT
"""Fixtures for the tern CLI tests (tern pub / sub / rr).

A Debian `mosquitto` broker is started per test module on a free 127.0.0.1 port; its log
(stderr, with connection, subscribe and unsubscribe messages) goes to a file the tests read to
know - without sleeping - when a subscriber is subscribed and what a client sent in CONNECT.
mosquitto_pub / mosquitto_sub are the independent peers. Every process started here is stopped
at teardown, also when a test fails.
"""
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest

TERN = os.environ.get("TERN_BIN", "tern")
DEADLINE = 20.0  # seconds any single wait may take on a loaded machine


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=DEADLINE, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Broker:
    """One mosquitto process with a plain listener (and optional extra config)."""

    def __init__(self, tmp, extra="", port=None, anonymous=True, more_ports=()):
        self.tmp = tmp
        self.port = port or free_port()
        self.conf = os.path.join(tmp, f"mosquitto-{self.port}.conf")
        self.logpath = os.path.join(tmp, f"mosquitto-{self.port}.log")
        with open(self.conf, "w") as f:
            f.write(
                f"listener {self.port} 127.0.0.1\n"
                f"allow_anonymous {'true' if anonymous else 'false'}\n"
                "log_dest stderr\n"
                "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
                "log_type subscribe\nlog_type unsubscribe\n"
                "connection_messages true\n"
                "log_timestamp false\n"
                # As root mosquitto would switch to the 'mosquitto' user, who cannot read the
                # test's private temporary directory (certificates).
                + ("user root\n" if os.geteuid() == 0 else "")
                + extra
            )
        self.logf = open(self.logpath, "wb")
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=self.logf
        )
        try:
            for p in (self.port, *more_ports):
                wait_for(lambda: self._accepting(p), what=f"mosquitto on port {p}")
        except AssertionError:
            self.stop()
            raise AssertionError("mosquitto did not start:\n" + self.log())

    def _accepting(self, port):
        if self.proc.poll() is not None:
            raise AssertionError("mosquitto exited:\n" + self.log())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, what=None):
        rx = re.compile(pattern, re.M)
        return wait_for(lambda: rx.search(self.log()), what=what or f"broker log /{pattern}/")

    def wait_subscribed(self, client_id, topic):
        """mosquitto logs '<client id> <qos> <filter>' when it has accepted a subscription."""
        return self.wait_log(rf"^{re.escape(client_id)} \d {re.escape(topic)}$",
                             what=f"{client_id} subscribed to {topic}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Broker(str(tmp_path_factory.mktemp("broker")))
    yield b
    b.stop()


@pytest.fixture
def topic():
    """A topic no other test uses."""
    return "tc/" + uuid.uuid4().hex[:12]


def uid(prefix):
    return prefix + uuid.uuid4().hex[:10]


class Procs:
    """Background processes of one test; all are killed at teardown."""

    def __init__(self):
        self.procs = []

    def start(self, argv, stdin=None):
        p = subprocess.Popen(
            [str(a) for a in argv],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.procs.append(p)
        return p

    def finish(self, p, timeout=DEADLINE):
        """Wait for p to exit; returns (rc, stdout bytes, stderr bytes)."""
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            raise AssertionError(
                f"{p.args} did not exit; stdout={out!r} stderr={err!r}")
        return p.returncode, out, err

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.stop_all()


def tern(*args, input=None, timeout=DEADLINE):
    """Run tern to completion: CompletedProcess with bytes stdout/stderr."""
    return subprocess.run([TERN, *map(str, args)], input=input, capture_output=True,
                          timeout=timeout)


def mpub(broker, *args, timeout=DEADLINE):
    r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port),
                        *map(str, args)], capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r


def have(cmd):
    return shutil.which(cmd) is not None
