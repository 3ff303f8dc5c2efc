"""Client-side cache through the Python layer: never a stale read."""

from __future__ import annotations

import threading
import time

import pytest

import redbridge


def test_writer_reader_versions_never_go_down(url: str) -> None:
    reader = redbridge.Redis.from_url(url, cache_config=redbridge.CacheConfig(max_size=100))
    writer = redbridge.Redis.from_url(url)
    writer.set("py:version", 0)
    done = threading.Event()
    seen: list = []

    def read() -> None:
        last = 0
        finished = None
        while True:
            v = int(reader.get("py:version"))
            assert v >= last, f"version went down: {last} -> {v}"
            last = v
            if done.is_set():
                finished = finished or time.monotonic()
                if last == 2000:
                    break
                assert time.monotonic() - finished < 0.1, f"last version not seen within 100 ms (at {last})"
        seen.append(last)

    t = threading.Thread(target=read)
    t.start()
    for i in range(1, 2001):
        writer.set("py:version", i)
    done.set()
    t.join()
    assert seen == [2000]
    stats = reader.stats()
    assert stats["cache_hits"] > 0 and stats["cache_invalidations"] > 0, stats


def test_read_your_writes(url: str) -> None:
    r = redbridge.Redis.from_url(url, cache_config=redbridge.CacheConfig(), decode_responses=True)
    for i in range(2000):
        r.set("py:ryw", i)
        assert r.get("py:ryw") == str(i)
        assert r.get("py:ryw") == str(i)
    before = r.stats()["cache_hits"]
    assert [r.get("py:ryw") for _ in range(50)] == ["1999"] * 50
    assert r.stats()["cache_hits"] - before == 50
    r.cache_clear()
    assert r.stats()["cache_entries"] == 0


def test_cache_options_are_checked(url: str) -> None:
    with pytest.raises(ValueError, match="RESP3"):
        redbridge.Redis.from_url(url, protocol=2, cache_config=redbridge.CacheConfig())
    with pytest.raises(TypeError, match="CacheConfig"):
        redbridge.Redis.from_url(url, cache_config={"max_size": 1})
    r = redbridge.Redis.from_url(url, cache_config=redbridge.CacheConfig(max_size=5, mode="broadcast", prefixes=("b:",)))
    for i in range(20):
        r.set(f"b:{i}", i)
    r.set("other", 1)
    time.sleep(0.05)  # broadcast invalidations of our own writes arrive first
    for i in range(20):
        assert r.get(f"b:{i}") == str(i).encode()
    r.get("other")
    stats = r.stats()
    assert stats["cache_entries"] <= 5 and stats["cache_evictions"] > 0, stats
