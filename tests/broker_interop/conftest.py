# SPDX-License-Identifier: MIT
"""tests/broker_interop/conftest.py - the `broker` fixture: a fresh broker (ternd from
TERN_TERND, or TERN_TEST_BROKER=/usr/sbin/mosquitto) on a free 127.0.0.1 port for each test,
with a config file in the test's tmp dir; stopped afterwards (SIGTERM, SIGKILL after a
deadline). A failing test's report shows the broker's stderr. Per-test config lines:
@pytest.mark.broker_conf("sys_interval 1", ...).

Owns: one broker process per test and the clients made through it. Thread: pytest main thread.
Run: TERN_TEST_BROKER=/usr/sbin/mosquitto /usr/bin/python3 -m pytest -q tests/broker_interop
"""
import pytest

from broker_util import Broker


def pytest_configure(config):
    config.addinivalue_line("markers", "broker_conf(*lines): extra broker config lines")


@pytest.fixture
def broker(request, tmp_path):
    m = request.node.get_closest_marker("broker_conf")
    b = Broker(tmp_path, m.args if m else ())
    request.node.tern_broker = b
    try:
        yield b
    finally:
        b.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    b = getattr(item, "tern_broker", None)
    if b is not None and rep.failed:
        rep.sections.append(("broker stderr (%s)" % b.binary, b.stderr()[-20000:]))

