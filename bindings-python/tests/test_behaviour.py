"""Behaviour through the Python layer: GIL release, timeouts, guard, WATCH, SCAN, fork."""

from __future__ import annotations

import os
import threading
import time
import warnings

import pytest

import redbridge
from redbridge import exceptions


def test_gil_is_released_while_blocking(r: redbridge.Redis, url: str) -> None:
    result: dict = {}

    def blocker() -> None:
        result["blpop"] = redbridge.Redis.from_url(url).blpop("gil:q", 1)

    t = threading.Thread(target=blocker)
    t.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    for _ in range(200):
        r.get("gil:k")
    elapsed = time.perf_counter() - t0
    t.join()
    assert result["blpop"] is None
    assert elapsed < 0.5, f"200 GETs took {elapsed:.3f}s while another thread blocked"


def test_threads_share_one_client(r: redbridge.Redis) -> None:
    errors = []

    def work(n: int) -> None:
        for i in range(300):
            key, val = f"t:{n}", f"{n}-{i}"
            r.set(key, val)
            if r.get(key) != val.encode():
                errors.append((key, val))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_socket_timeout_and_next_reply_is_own(own_server: dict) -> None:
    client = redbridge.Redis(host="127.0.0.1", port=own_server["port"], socket_timeout=0.1)
    client.set("k", "mine")
    t0 = time.perf_counter()
    with pytest.raises(exceptions.TimeoutError):
        client.execute_command("DEBUG", "SLEEP", 0.4)
    assert time.perf_counter() - t0 < 0.25
    time.sleep(0.4)
    assert client.get("k") == b"mine"
    assert client.stats()["errors_timeout"] == 1


def test_guard_warns_through_warnings_and_denies(url: str) -> None:
    client = redbridge.Redis.from_url(url)
    with pytest.warns(exceptions.RedbridgeWarning, match="SCAN"):
        client.keys("*")
    with warnings.catch_warnings():
        warnings.simplefilter("error", exceptions.RedbridgeWarning)
        with pytest.raises(exceptions.RedbridgeWarning):
            client.keys("*")
    strict = redbridge.Redis.from_url(url, guard="deny")
    with pytest.raises(exceptions.GuardError, match="SCAN"):
        strict.keys("*")
    quiet = redbridge.Redis.from_url(url, guard="off")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet.keys("*")


def test_watch_multi_exec_and_transaction_helper(r: redbridge.Redis, url: str) -> None:
    other = redbridge.Redis.from_url(url)
    r.set("w", 1)
    with r.pipeline() as pipe:
        pipe.watch("w")
        assert pipe.get("w") == b"1"
        other.set("w", 5)
        pipe.multi()
        pipe.set("w", 2)
        with pytest.raises(exceptions.WatchError):
            pipe.execute()
    assert r.get("w") == b"5"

    calls = []

    def incr(pipe: redbridge.Pipeline) -> None:
        value = int(pipe.get("w"))
        if not calls:
            other.set("w", 100)  # interferes once: the helper retries
        calls.append(value)
        pipe.multi()
        pipe.set("w", value + 1)

    assert r.transaction(incr, "w") == [True]
    assert r.get("w") == b"101"
    assert len(calls) == 2


def test_scan_iterators_return_everything(r: redbridge.Redis) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.set(f"scan:{i}", i)
        pipe.sadd("scan-set", i)
        pipe.hset("scan-hash", f"f{i}", i)
        pipe.zadd("scan-z", {f"m{i}": i})
    pipe.execute()
    assert len(set(r.scan_iter(match="scan:*", count=500))) == 10_000
    assert set(r.sscan_iter("scan-set", count=500)) == {str(i).encode() for i in range(10_000)}
    assert dict(r.hscan_iter("scan-hash", count=500))[b"f42"] == b"42"
    assert dict(r.zscan_iter("scan-z", count=500))[b"m7"] == 7.0
    it = r.scan_iter(match="scan:*", count=100)
    before = r.stats()["requests"]
    next(it)
    assert r.stats()["requests"] - before == 2, "the first page, and the next one asked ahead"


def test_client_created_before_fork_works_in_child(r: redbridge.Redis) -> None:
    r.set("fork", "parent")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if r.get("fork") == b"parent":
                r.set("fork", "child")
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert r.get("fork") == b"child"
