"""register_script (EVALSHA, loaded on NOSCRIPT, in pipelines too) and lock() with
redis-py's Lock semantics, sync and asyncio, against a real server."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import redbridge
import redbridge.asyncio
from redbridge.exceptions import LockError, LockNotOwnedError


def test_script_runs_by_sha_and_loads_on_noscript(r: redbridge.Redis) -> None:
    r.script_flush()
    add = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    r.delete("sc:n")
    assert r.script_exists(add.sha) == [False]
    assert add(keys=["sc:n"], args=[5]) == 5  # NOSCRIPT, loaded, run
    assert r.script_exists(add.sha) == [True]
    assert add(keys=["sc:n"], args=[2]) == 7
    # In a pipeline: loaded before the pipeline is sent, replies in their slots.
    r.script_flush()
    with r.pipeline() as p:
        add(keys=["sc:n"], args=[1], client=p)
        p.get("sc:n")
        add(keys=["sc:n"], args=[1], client=p)
        assert p.execute() == [8, b"8", 9]


def test_lock_semantics(r: redbridge.Redis) -> None:
    r.delete("lk")
    a = r.lock("lk", timeout=10)
    b = r.lock("lk", timeout=10)
    assert a.acquire(blocking=False)
    assert a.locked() and a.owned()
    assert not b.acquire(blocking=False)
    t0 = time.monotonic()
    assert not b.acquire(blocking_timeout=0.2, sleep=0.05)
    assert 0.1 < time.monotonic() - t0 < 1.0
    assert not b.owned()
    assert 9000 < r.pttl("lk") <= 10000
    assert a.extend(5)
    assert 14000 < r.pttl("lk") <= 15000
    assert a.extend(3, replace_ttl=True)
    assert 2000 < r.pttl("lk") <= 3000
    assert a.reacquire()
    assert 9000 < r.pttl("lk") <= 10000
    a.release()
    assert not a.locked()
    with pytest.raises(LockError, match="Cannot release an unlocked lock"):
        a.release()
    # Expired and taken by another owner: the first one no longer owns it.
    c = r.lock("lk", timeout=0.05)
    assert c.acquire()
    time.sleep(0.1)
    assert b.acquire(blocking=False)
    with pytest.raises(LockNotOwnedError):
        c.release()
    b.release()
    with pytest.raises(LockError, match="no timeout"):
        d = r.lock("lk")
        d.acquire()
        try:
            d.extend(1)
        finally:
            d.release()


def test_lock_context_manager_and_threads(r: redbridge.Redis) -> None:
    r.delete("lk2")
    held = []

    def worker(n: int) -> None:
        with r.lock("lk2", timeout=5, sleep=0.01):
            held.append(("in", n))
            time.sleep(0.02)
            held.append(("out", n))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Never two holders at once: every "in" is followed by its own "out".
    assert len(held) == 8
    for i in range(0, 8, 2):
        assert held[i][0] == "in" and held[i + 1] == ("out", held[i][1])
    blocker = r.lock("lk2", timeout=5)
    assert blocker.acquire()
    with pytest.raises(LockError, match="Unable to acquire lock"):
        with r.lock("lk2", blocking_timeout=0.05):
            pass
    blocker.release()


def test_asyncio_lock_and_script(url: str) -> None:
    async def main() -> None:
        r = redbridge.asyncio.Redis.from_url(url)
        await r.delete("alk", "asc")
        lock = r.lock("alk", timeout=5)
        other = r.lock("alk", timeout=5)
        async with lock:
            assert await lock.owned()
            assert not await other.acquire(blocking_timeout=0.1, sleep=0.02)
            assert await lock.extend(1)
        assert not await lock.locked()
        await r.script_flush()
        echo = r.register_script("return ARGV[1]")
        assert await echo(args=["hi"]) == b"hi"
        async with r.pipeline() as p:
            await echo(args=["x"], client=p)
            assert await p.execute() == [b"x"]
        await r.aclose()

    asyncio.run(main())
