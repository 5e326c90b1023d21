# SPDX-License-Identifier: MIT
"""tests/broker_interop/broker_util.py - helpers for the broker interop tests: a running broker
(ternd, or any Mosquitto-compatible broker named by TERN_TEST_BROKER) on a free loopback port
with its own config file, mosquitto_sub/mosquitto_pub process handles whose output is read by a
thread so tests wait on lines with a deadline, and a paho-mqtt 1.6 client wrapper whose
callbacks feed queues.

Owns: the broker process and every client process/paho client a test makes through Broker
(all stopped by Broker.stop). Thread: pytest main thread; one reader thread per spawned client
process and paho's loop threads only put into queues.
"""
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time

# How long any single wait for an event may take before the test fails. Generous: a sanitizer
# build on a loaded 2-core machine is slow; a healthy run finishes each wait in milliseconds.
DEADLINE = 10.0

# -V spellings of Debian 12's mosquitto_pub/sub 2.0.11.
MOSQ_V = {"31": "mqttv31", "311": "mqttv311", "5": "mqttv5"}

# Marker that starts every message line mosquitto_sub prints with Sub's -F format, so the
# debug lines -d prints ("Client ... received SUBACK") are told apart from messages.
MSG = b"M>"


def broker_binary():
    """TERN_TEST_BROKER (e.g. /usr/sbin/mosquitto) wins over TERN_TERND (set by ctest)."""
    path = os.environ.get("TERN_TEST_BROKER") or os.environ.get("TERN_TERND")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("set TERN_TERND to the ternd binary (ctest does: ctest -L interop), "
                           "or TERN_TEST_BROKER=/usr/sbin/mosquitto to test Mosquitto")
    return path


def broker_is_mosquitto():
    """True when the broker under test is Mosquitto (for xfail marks; no check of the path)."""
    path = os.environ.get("TERN_TEST_BROKER") or os.environ.get("TERN_TERND") or ""
    return "mosquitto" in os.path.basename(path)


def xfail_on_mosquitto(reason, strict=True):
    """Mark a test expected to fail only when the broker under test is Mosquitto (2.0.11
    deviates from the spec there); against ternd it must pass. strict=False where Mosquitto
    may pass by timing luck."""
    import pytest
    return pytest.mark.xfail(broker_is_mosquitto(), reason="mosquitto 2.0.11: " + reason,
                             strict=strict)


def tool(name):
    path = shutil.which(name)
    if not path:
        raise RuntimeError(name + " not found: install Debian's mosquitto-clients")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, what, timeout=DEADLINE, interval=0.01):
    """Poll pred() until it returns something true; fail after timeout."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """A client process whose stdout is read line by line (bytes, newline kept off) by a
    thread into a queue; stderr goes to a file shown when the process fails."""

    def __init__(self, argv, stdin=None, tmpdir=None, name="client"):
        self.argv = argv
        self.name = name
        self.lines = queue.Queue()
        self.seen = []  # every line read so far, in order
        self.err_path = os.path.join(tmpdir, "%s.%d.stderr" % (name, id(self)))
        self._err = open(self.err_path, "wb")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else
                                  subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err)
        if stdin is not None:
            threading.Thread(target=self._feed, args=(stdin,), daemon=True).start()
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()

    def _feed(self, data):
        try:
            self.p.stdin.write(data)
            self.p.stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip(b"\n"))
        self.lines.put(None)  # EOF

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def next_line(self, timeout=DEADLINE):
        """The next stdout line (bytes), or None at EOF. Fails after timeout."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("%s: no output within %ss; so far %r; stderr %s" % (
                self.name, timeout, self.seen[-10:], self.stderr())) from None
        if line is not None:
            self.seen.append(line)
        return line

    def wait_line(self, pred, timeout=DEADLINE):
        """Read lines until one satisfies pred; return it."""
        end = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.0, end - time.monotonic()))
            if line is None:
                raise AssertionError("%s exited (rc %s) before the expected line; output %r; "
                                     "stderr %s" % (self.name, self.p.wait(), self.seen[-10:],
                                                    self.stderr()))
            if pred(line):
                return line

    def drain(self):
        """Move every line read so far into .seen without waiting."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            if line is None:
                self.lines.put(None)  # keep EOF for a later reader
                return
            self.seen.append(line)

    def finish(self, timeout=DEADLINE, rc=0):
        """Wait for exit with status rc; return every stdout line."""
        try:
            got = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.drain()
            raise AssertionError("%s did not exit within %ss; %d lines, last %r; stderr %s" % (
                self.name, timeout, len(self.seen), self.seen[-10:], self.stderr())) from None
        self._t.join(timeout)
        while self.next_line(timeout) is not None:
            pass
        assert got == rc, "%s exited %d (wanted %d): %r\nstderr: %s" % (
            self.argv, got, rc, self.seen[-10:], self.stderr())
        return self.seen

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=DEADLINE)
        finally:
            self._err.close()
            if self.p.stdout:
                self.p.stdout.close()


class Sub(Proc):
    """mosquitto_sub with -d (so the SUBACK is seen: the test publishes only once the broker has
    the subscription) and -F MSG+fmt. .messages() returns the message lines without MSG."""

    def wait_subscribed(self, timeout=DEADLINE):
        # libmosquitto 2.0 prints "Client <id> received SUBACK" then "Subscribed (mid: n): q..."
        return self.wait_line(lambda l: l.startswith(b"Subscribed (mid"), timeout)

    def granted(self, line):
        return [int(x) for x in line.split(b":")[-1].split(b",")]

    def messages(self):
        return [l[len(MSG):] for l in self.seen if l.startswith(MSG)]

    def next_message(self, timeout=DEADLINE):
        return self.wait_line(lambda l: l.startswith(MSG), timeout)[len(MSG):]

    def collect(self, n, timeout=DEADLINE):
        """Wait until n message lines in total have been printed; return them."""
        end = time.monotonic() + timeout
        while len(self.messages()) < n:
            self.next_message(max(0.0, end - time.monotonic()))
        return self.messages()


class Broker:
    """A broker process on a free 127.0.0.1 port with a config file in tmpdir; clients made
    through it are stopped with it."""

    def __init__(self, tmpdir, extra_lines=()):
        self.tmpdir = str(tmpdir)
        self.binary = broker_binary()
        self.is_mosquitto = broker_is_mosquitto()
        self.extra_lines = list(extra_lines)
        self.children = []
        self.pahos = []
        self.proc = None
        self.stderr_path = os.path.join(self.tmpdir, "broker.stderr")
        self._err = None
        self._start()

    # ---- process ------------------------------------------------------------------------

    def _start(self):
        # The port is found free, then the broker binds it: another process may take it in
        # between, so a start whose broker exits at once is retried on another port.
        for attempt in range(5):
            self.port = free_port()
            self.conf = os.path.join(self.tmpdir, "broker.conf")
            with open(self.conf, "w") as f:
                f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
                for line in self.extra_lines:
                    f.write(line + "\n")
            if self._err:
                self._err.close()
            self._err = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen([self.binary, "-c", self.conf],
                                         stdin=subprocess.DEVNULL, stdout=self._err,
                                         stderr=self._err)
            if self._wait_accepting():
                return
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
        raise AssertionError("broker %s did not accept on 127.0.0.1 within %ss:\n%s" % (
            self.binary, DEADLINE, self.stderr()))

    def _wait_accepting(self):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Stop clients, then the broker (SIGTERM, SIGKILL after DEADLINE). Raises if the
        broker had died during the test or a sanitizer reported something."""
        for c in self.pahos:
            c.close()
        for p in self.children:
            p.stop()
        died = self.proc.poll()
        if died is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._err.close()
                raise AssertionError("broker did not exit within %ss of SIGTERM" % DEADLINE)
        self._err.close()
        assert died is None, "broker exited (status %s) during the test:\n%s" % (
            died, self.stderr())
        err = self.stderr()
        assert "Sanitizer" not in err and "runtime error:" not in err, err

    # ---- clients ------------------------------------------------------------------------

    def mosq_args(self, name, version, *args):
        return [tool(name), "-h", "127.0.0.1", "-p", str(self.port), "-V", MOSQ_V[version]] + \
            [str(a) for a in args]

    def pub(self, version, *args, stdin=None, timeout=DEADLINE):
        """Run mosquitto_pub to completion (exit 0)."""
        p = self.spawn(self.mosq_args("mosquitto_pub", version, *args), stdin=stdin,
                       name="mosquitto_pub")
        p.finish(timeout)
        return p

    def spawn(self, argv, stdin=None, name="client", cls=Proc):
        p = cls(argv, stdin=stdin, tmpdir=self.tmpdir, name=name)
        self.children.append(p)
        return p

    def sub(self, version, fmt, *args, subscribed=True):
        """Start mosquitto_sub -d -F MSG+fmt; by default wait until the broker acknowledged
        the subscription(s)."""
        # stdout is a pipe: stdbuf makes libc flush each line (-d output is not flushed).
        s = self.spawn([tool("stdbuf"), "-oL"] +
                       self.mosq_args("mosquitto_sub", version, "-d", "-F", MSG.decode() + fmt,
                                      *args), name="mosquitto_sub", cls=Sub)
        if subscribed:
            s.wait_subscribed()
        return s

    def paho(self, client_id, protocol, **kw):
        from paho_util import Paho
        c = Paho(self, client_id, protocol, **kw)
        self.pahos.append(c)
        return c
