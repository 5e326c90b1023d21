# SPDX-License-Identifier: MIT
"""tests/interop/conftest.py - the `peer` fixture: a fresh codec_peer (tern's codec playing a
minimal broker) on a free loopback port for each test, stopped and checked afterwards.

Owns: one codec_peer process per test. Thread: pytest main thread.
Run: TERN_CODEC_PEER=build/.../codec_peer /usr/bin/python3 -m pytest -q tests/interop
"""
import pytest

from interop_util import Peer


@pytest.fixture
def peer(tmp_path):
    """A running codec_peer; .port and .logpath say where it listens and logs. At teardown it
    must exit cleanly (sanitizers quiet) and its log must hold no unexpected error."""
    p = Peer(tmp_path / "peer.log")
    try:
        yield p
    finally:
        p.stop()
