# SPDX-License-Identifier: MIT
"""tests/interop/test_peer_errors.py - what codec_peer does with bytes tern's decoder rejects:
the error and reason code are logged, 5.0 connections get a DISCONNECT (or CONNACK) carrying
the reason, and the connection is closed. No third-party client sends such bytes, so these
use a raw socket; they keep the other files' assumption honest (a decode error would show).

Owns: one loopback socket per test. Thread: pytest main thread.
Spec ids: 3.1.1 and 5.0 number their statements independently; each says which it cites.
"""
import errno
import socket

import pytest

from interop_util import DEADLINE, connect_bytes, frame, s, u16


def exchange(peer, data):
    """Send data, then read until the peer closes; returns all bytes received."""
    with socket.create_connection(("127.0.0.1", peer.port), timeout=DEADLINE) as sock:
        sock.sendall(data)
        got = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return got
            got += chunk


CASES = [
    # name, bytes after nothing, expected reply, logged error, logged rc
    ("publish_qos3_malformed_311_3_3_1_4",  # [MQTT-3.3.1-4] (3.1.1): QoS bits 11
     connect_bytes(4, "e1") + frame(0x36, s("a") + u16(1)),
     bytes.fromhex("20020000"), -4097, 0x81),
    ("duplicate_property_protocol_error_v5_2_2_2_2",  # 5.0 2.2.2.2: twice is a Protocol Error
     connect_bytes(5, "e2") + frame(0x30, s("a") + b"\x04\x01\x01\x01\x01"),
     None, -errno.EPROTO, 0x82),
    ("unknown_level_connack_0x01_311_3_1_2_2",  # [MQTT-3.1.2-2] (3.1.1): return code 0x01
     frame(0x10, s("MQTT") + b"\x06\x02" + u16(60) + s("e3")),
     bytes.fromhex("20020001"), -4100, 0x84),
    ("remaining_length_5_bytes_malformed_v5_1_5_5_1",  # [MQTT-1.5.5-1] (5.0): at most 4 bytes
     b"\x10\xff\xff\xff\xff\x7f", b"", -4097, 0x81),
]


@pytest.mark.parametrize("data,reply,err,rc", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_error_logged_and_closed(peer, data, reply, err, rc):
    peer.expect_errors = True
    got = exchange(peer, data)
    e = peer.wait(event="error")[0]
    assert e["rc"] == rc, e
    if err is not None:
        assert e["err"] == err, e
    close = peer.wait(event="close", conn=e["conn"])[0]
    assert close
    if reply is not None:
        assert got == reply
    else:  # 5.0 after CONNACK: DISCONNECT with the reason code (5.0 4.13.1)
        connack = peer.frames(e["conn"], "send", "CONNACK")[0]
        rest = got[len(bytes.fromhex(connack["raw"])):]
        assert rest in (bytes([0xE0, 1, rc]), bytes([0xE0, 2, rc, 0])), rest.hex()
