# SPDX-License-Identifier: MIT
"""tests/broker_interop/paho_util.py - a paho-mqtt 1.6 client (Debian's python3-paho-mqtt)
whose callbacks feed one queue per kind of event, so tests wait on events with a deadline.

Owns: one paho client and its network thread (stopped by close(), which Broker.stop calls).
Thread: pytest main thread; paho's loop thread only puts into the queues.
"""
import queue

import paho.mqtt
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker_util import DEADLINE

assert paho.mqtt.__version__.startswith("1.6"), "written for the paho 1.6 API (Debian 12)"


def props(ptype, **values):
    """paho Properties of packet type ptype ("CONNECT", "PUBLISH", ...) with the given values."""
    p = Properties(getattr(PacketTypes, ptype))
    for k, v in values.items():
        setattr(p, k, v)
    return p


def rc_value(rc):
    """A reason code / return code as an int whether paho gave a ReasonCodes or an int."""
    return rc if isinstance(rc, int) else rc.value


class Paho:
    """A paho client; events: connect, subscribe, unsubscribe, publish, message, disconnect."""

    KINDS = ("connect", "subscribe", "unsubscribe", "publish", "message", "disconnect")

    def __init__(self, broker, client_id, protocol, clean=True):
        self.broker, self.v5 = broker, protocol == mqtt.MQTTv5
        self.client_id = client_id
        self.c = mqtt.Client(client_id=client_id, protocol=protocol,
                             clean_session=None if self.v5 else clean)
        self.q = {k: queue.Queue() for k in self.KINDS}
        for k in self.KINDS:
            setattr(self.c, "on_" + k, self._put(k))
        self.started = False

    def _put(self, kind):
        return lambda client, userdata, *args: self.q[kind].put(args)

    def get(self, kind, timeout=DEADLINE):
        try:
            return self.q[kind].get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("paho %s: no %s callback within %ss" % (
                self.client_id, kind, timeout)) from None

    def none(self, kind):
        """Assert no event of this kind is queued right now."""
        assert self.q[kind].empty(), (kind, self.q[kind].get())

    def connect_raw(self, clean=True, properties=None, keepalive=30, will=None):
        """Start connecting; return the on_connect args (flags, rc[, props])."""
        if will:
            self.c.will_set(*will[:4], **({"properties": will[4]} if len(will) > 4 else {}))
        kw = {"clean_start": clean, "properties": properties} if self.v5 else {}
        self.c.connect("127.0.0.1", self.broker.port, keepalive=keepalive, **kw)
        self.c.loop_start()
        self.started = True
        return self.get("connect")

    def connect(self, **kw):
        args = self.connect_raw(**kw)
        assert rc_value(args[1]) == 0, args
        return args

    def subscribe(self, *a, **kw):
        """Subscribe and wait for the SUBACK; return the granted QoS / reason codes (and for
        5.0 the SUBACK properties as the on_subscribe args)."""
        rc, mid = self.c.subscribe(*a, **kw)
        assert rc == 0, rc
        args = self.get("subscribe")
        assert args[0] == mid, args
        return args[1] if not self.v5 else [r.value for r in args[1]]

    def publish(self, *a, **kw):
        """Publish and wait until the QoS flow completes (on_publish)."""
        info = self.c.publish(*a, **kw)
        assert info.rc == 0, info.rc
        args = self.get("publish")
        assert args[0] == info.mid, args
        return info

    def message(self, timeout=DEADLINE):
        return self.get("message", timeout)[0]

    def disconnect(self, **kw):
        self.c.disconnect(**kw)
        self.get("disconnect")
        self.c.loop_stop()
        self.started = False

    def close(self):
        if self.started:
            # DISCONNECT wakes paho's loop at once (loop_stop alone waits out its 1 s select).
            self.c.disconnect()
            self.c.loop_stop()
            self.started = False
        try:
            self.c.socket() and self.c.socket().close()
        except OSError:
            pass
