#!/usr/bin/python3
# SPDX-License-Identifier: MIT
#
# bench/relay_smoke.py - smoke test of bench/relay.c (ctest bench_relay_smoke): starts the relay
# on a free 127.0.0.1 port and runs `tern bench --json` against it: QoS 0, 1 and 2 throughput
# (3.1.1 and 5.0), a fan-out and a short idle run. Each must report ok, 0 lost and, when it
# publishes, every expected message received. Then the relay must exit cleanly on SIGTERM
# (status 0: under ASan/LSan that also means no leak).
#
# Owns: the relay process it starts (always stopped, also on failure).
# Usage: relay_smoke.py RELAY TERN
import json
import select
import signal
import subprocess
import sys

RUNS = [
    ("qos0", ["-q", "0", "--count", "20k"]),
    ("qos1", ["-q", "1", "--count", "5k"]),
    ("qos2", ["-q", "2", "--count", "5k"]),
    ("qos2-v5", ["-q", "2", "-V", "5", "--count", "3k"]),
    ("qos1-v5", ["-q", "1", "-V", "5", "--count", "3k"]),
    ("fanout", ["--mode", "fanout", "--subs", "10", "-q", "0", "--count", "2k"]),
    ("fanout-qos1", ["--mode", "fanout", "--subs", "5", "-q", "1", "--count", "1k"]),
    ("idle", ["--mode", "idle", "--clients", "200", "--keepalive", "2", "--duration", "1.2"]),
]


def start_relay(relay):
    p = subprocess.Popen([relay, "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    ready, _, _ = select.select([p.stdout], [], [], 10)
    line = p.stdout.readline() if ready else ""
    if not line.startswith("relay: listening on 127.0.0.1:"):
        raise RuntimeError("relay did not start: %r" % line)
    return p, int(line.rsplit(":", 1)[1])


def check(name, args, tern, port):
    cmd = [tern, "bench", "-h", "127.0.0.1", "-p", str(port), "--json", "--drain", "2",
           "--connect-timeout", "5"] + args
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             timeout=20)
    except subprocess.TimeoutExpired:
        return "%s: tern bench did not finish in 20 s" % name
    try:
        r = json.loads(out.stdout)
    except ValueError:
        return "%s: no JSON (exit %d): %s" % (name, out.returncode, out.stderr.strip())
    bad = []
    if out.returncode != 0 or not r.get("ok"):
        bad.append("not ok (exit %d, error %s)" % (out.returncode, r.get("error")))
    if name == "idle":
        if r["connections"]["ok"] != 200:
            bad.append("%s of 200 connections" % r["connections"]["ok"])
    else:
        if r["lost"] != 0:
            bad.append("lost %d" % r["lost"])
        if r["received"] <= 0 or r["unique"] != r["expected"]:
            bad.append("received %d, unique %d of %d" % (r["received"], r["unique"],
                                                         r["expected"]))
        if r["errors"] != 0:
            bad.append("errors %d" % r["errors"])
    print("%-12s recv_rate %10.0f msg/s  received %d  lost %s  %s" %
          (name, r.get("recv_rate") or 0, r.get("received", 0), r.get("lost"),
           "FAIL: " + ", ".join(bad) if bad else "ok"))
    return "%s: %s" % (name, ", ".join(bad)) if bad else None


def main():
    if len(sys.argv) != 3:
        print("usage: relay_smoke.py RELAY TERN", file=sys.stderr)
        return 2
    relay, tern = sys.argv[1], sys.argv[2]
    p, port = start_relay(relay)
    failures = []
    try:
        for name, args in RUNS:
            f = check(name, args, tern, port)
            if f:
                failures.append(f)
                break  # a broken relay fails every run: one is enough
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            _, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
            failures.append("relay did not exit on SIGTERM")
    sys.stderr.write(err)
    if p.returncode != 0:
        failures.append("relay exit status %d" % p.returncode)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
