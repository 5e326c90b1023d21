# SPDX-License-Identifier: MIT
"""tests/interop/interop_util.py - helpers for the interop tests: a handle on a running
codec_peer (start, stop, read its JSON log and wait for events in it with a deadline), client
process helpers, and a tiny independent MQTT encoder used to state expected raw bytes.

Owns: the codec_peer process and the client processes a test starts through Peer.
Thread: the pytest main thread; paho's network threads only call back into test code.
"""
import json
import os
import shutil
import subprocess
import time

# How long any single wait for an event may take before the test fails. Generous: the
# sanitizer build is slow, and a healthy run finishes each wait in milliseconds.
DEADLINE = 10.0

# mosquitto's -V spellings (mosquitto_pub --help on Debian 12, 2.0.11) -> protocol level.
MOSQ_VERSIONS = {"mqttv31": 3, "mqttv311": 4, "mqttv5": 5}
PROTOCOL_NAME = {3: "MQIsdp", 4: "MQTT", 5: "MQTT"}


def peer_binary():
    path = os.environ.get("TERN_CODEC_PEER")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError(
            "set TERN_CODEC_PEER to the codec_peer binary (ctest does this: "
            "ctest -L interop in a build directory)")
    return path


def tool(name):
    path = shutil.which(name)
    if not path:
        raise RuntimeError(name + " not found: install Debian's mosquitto-clients")
    return path


class Peer:
    """A running codec_peer: port, logpath, and ways to wait on its log."""

    def __init__(self, logpath):
        self.logpath = str(logpath)
        self.expect_errors = False  # set by tests that feed malformed bytes on purpose
        self.children = []
        self.stderr_path = self.logpath + ".stderr"
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([peer_binary(), self.logpath], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        # The first stdout line is the port: the peer is listening once it is printed.
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError("codec_peer did not print its port: %r" % line)
        self.port = int(line)

    # ---- log ---------------------------------------------------------------------------

    def events(self):
        """Every complete line of the log, parsed (a line being written is left out)."""
        with open(self.logpath, "rb") as f:
            data = f.read()
        end = data.rfind(b"\n")
        if end < 0:
            return []
        return [json.loads(line) for line in data[:end].split(b"\n")]

    def find(self, **fields):
        return [e for e in self.events() if all(e.get(k) == v for k, v in fields.items())]

    def wait(self, pred=None, count=1, timeout=DEADLINE, **fields):
        """Wait until `count` events satisfy every field given and pred; return them all.
        Polls the log with a deadline: the event is the synchronisation, not the clock."""
        end = time.monotonic() + timeout
        while True:
            found = [e for e in self.events()
                     if all(e.get(k) == v for k, v in fields.items()) and (not pred or pred(e))]
            if len(found) >= count:
                return found
            if time.monotonic() > end:
                raise AssertionError("timed out waiting for %d event(s) %r; log:\n%s" % (
                    count, fields, "\n".join(json.dumps(e) for e in self.events()[-40:])))
            time.sleep(0.01)

    def conn_of(self, client_id, timeout=DEADLINE):
        """Connection number of the client whose CONNECT carried client_id."""
        return self.wait(event="recv", type="CONNECT", client_id=client_id,
                         timeout=timeout)[0]["conn"]

    def frames(self, conn, event=None, type=None):
        return [e for e in self.events() if e.get("conn") == conn and "type" in e
                and (event is None or e["event"] == event) and (type is None or e["type"] == type)]

    def wait_subscribed(self, conn, count=1):
        """Wait until `count` SUBACKs have been written to conn (so a PUBLISH routed after this
        reaches it)."""
        return self.wait(event="send", type="SUBACK", conn=conn, count=count)

    # ---- clients -------------------------------------------------------------------------

    def mosq_args(self, name, version, *args):
        return [tool(name), "-h", "127.0.0.1", "-p", str(self.port), "-V", version] + list(args)

    def run(self, argv, timeout=DEADLINE, input=None):
        """Run a client to completion; it must exit 0. Returns its stdout (bytes)."""
        r = subprocess.run(argv, capture_output=True, timeout=timeout, input=input)
        assert r.returncode == 0, "%s exited %d: %s %s" % (argv, r.returncode, r.stdout,
                                                            r.stderr)
        return r.stdout

    def spawn(self, argv):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.children.append(p)
        return p

    def finish(self, proc, timeout=DEADLINE):
        """Wait for a spawned client to exit 0 and return its stdout (bytes)."""
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, "exit %d: %r %r" % (proc.returncode, out, err)
        return out

    # ---- stop ----------------------------------------------------------------------------

    def stop(self):
        """Stop clients, then the peer (EOF on its stdin: a clean exit, so the sanitizers run
        their leak check). Raises if the peer failed or logged an error it should not have."""
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.communicate(timeout=DEADLINE)
        self.proc.stdin.close()
        try:
            rc = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("codec_peer did not exit on EOF")
        finally:
            self.proc.stdout.close()
            self._stderr.close()
        with open(self.stderr_path, "rb") as f:
            err = f.read().decode(errors="replace")
        assert rc == 0 and not err.strip(), "codec_peer exited %d:\n%s" % (rc, err)
        # Our encoder must never produce bytes our own decoder rejects, in any test.
        bad = [e for e in self.events() if e["event"] in ("send_decode_error", "encode_error")]
        assert not bad, bad
        if not self.expect_errors:
            bad = [e for e in self.events() if e["event"] == "error"]
            assert not bad, bad


# ---- a tiny independent encoder, to state expected bytes -----------------------------------

def u16(n):
    return n.to_bytes(2, "big")


def u32(n):
    return n.to_bytes(4, "big")


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    """A UTF-8 string (or binary data) with its two-byte length."""
    b = text.encode() if isinstance(text, str) else bytes(text)
    return u16(len(b)) + b


def frame(byte0, body):
    return bytes([byte0]) + varint(len(body)) + body


def hexs(text):
    return (text.encode() if isinstance(text, str) else bytes(text)).hex()


def connect_bytes(level, client_id, clean=True, keep_alive=60, will=None, username=None,
                  password=None, props=b"", will_props=b""):
    """CONNECT as the spec lays it out (3.1.2, 3.1.3). will = (topic, payload, qos, retain)."""
    flags = (0x02 if clean else 0) | (0x80 if username is not None else 0) \
        | (0x40 if password is not None else 0)
    payload = s(client_id)
    if will:
        topic, msg, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += (varint(len(will_props)) + will_props if level == 5 else b"") + s(topic) + s(msg)
    if username is not None:
        payload += s(username)
    if password is not None:
        payload += s(password)
    vh = s(PROTOCOL_NAME[level]) + bytes([level, flags]) + u16(keep_alive)
    if level == 5:
        vh += varint(len(props)) + props
    return frame(0x10, vh + payload)


def publish_bytes(level, topic, payload, qos=0, retain=False, dup=False, packet_id=None,
                  props=b""):
    body = s(topic) + (u16(packet_id) if qos else b"")
    if level == 5:
        body += varint(len(props)) + props
    body += payload.encode() if isinstance(payload, str) else payload
    return frame(0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0), body)
