# SPDX-License-Identifier: MIT
"""tests/cli_bench/conftest.py - fixtures for the tern bench tests: Debian's mosquitto broker
on a free 127.0.0.1 port (one per test, with the test's own limits), and helpers that run
`tern bench` with a deadline.

Owns: the mosquitto processes and their config/log files under pytest's tmp_path.
Thread: the pytest main thread.
Run: TERN_BIN=build/.../src/cli/tern /usr/bin/python3 -m pytest -q tests/cli_bench
"""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

DEADLINE = 20.0  # seconds any single wait may take (sanitizer builds on a loaded machine)
RUN_TIMEOUT = 120.0  # seconds one tern bench run may take before the test fails


def tern_bin():
    path = os.environ.get("TERN_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set TERN_BIN to the tern binary (ctest does this: ctest -L cli)")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class Mosquitto:
    """A running mosquitto: .port, .pid, .log() (its log so far)."""

    def __init__(self, tmp_path, extra):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.access(exe, os.X_OK):
            raise RuntimeError("mosquitto not found: install Debian's mosquitto (scripts/deps.sh)")
        self.proc = None
        for _attempt in range(5):  # another process may take the free port before we bind it
            self.port = free_port()
            self.conf = tmp_path / ("mosquitto-%d.conf" % self.port)
            self.logpath = tmp_path / ("mosquitto-%d.log" % self.port)
            lines = ["listener %d 127.0.0.1" % self.port] + list(extra)
            self.conf.write_text("\n".join(lines) + "\n")
            self._log = open(self.logpath, "wb")
            self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=self._log,
                                         stderr=subprocess.STDOUT)
            deadline = time.monotonic() + DEADLINE
            while time.monotonic() < deadline and self.proc.poll() is None:
                if port_accepts(self.port):
                    self.pid = self.proc.pid
                    return
                time.sleep(0.02)
            self.stop()
        raise RuntimeError("mosquitto did not start: " + self.log())

    def log(self):
        try:
            return self.logpath.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


BASE_CONF = ["allow_anonymous true", "max_inflight_messages 0", "max_queued_messages 0"]


@pytest.fixture
def mosquitto_factory(tmp_path):
    """Start brokers with the given config lines (after the listener); all stopped at the end."""
    started = []

    def start(extra=None):
        m = Mosquitto(tmp_path, BASE_CONF if extra is None else extra)
        started.append(m)
        return m

    try:
        yield start
    finally:
        for m in started:
            m.stop()


@pytest.fixture
def broker(mosquitto_factory):
    """The broker of the issue: anonymous, no in-flight or queue limits."""
    return mosquitto_factory()


def bench(*args, timeout=RUN_TIMEOUT, **kw):
    """Run `tern bench ARGS`; returns the CompletedProcess (text)."""
    return subprocess.run([tern_bin(), "bench"] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, **kw)


def bench_json(broker, *args, expect_rc=0):
    """Run against broker with --json; check the exit status and that stdout is one JSON
    object; return (object, CompletedProcess)."""
    r = bench("-h", "127.0.0.1", "-p", broker.port, "--json", *args)
    assert r.returncode == expect_rc, (r.returncode, r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    return json.loads(lines[0]), r
