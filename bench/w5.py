"""W5 for Python: 50k GETs over 100 hot keys, cached vs uncached, beside redis-py's own
client-side cache (redis-py >= 5.1 with protocol=3). Uses REDIS_URL; QUICK=1 for a tiny run."""

from __future__ import annotations

import os
import statistics
import time

import redbridge

URL = os.environ["REDIS_URL"]
N = 5_000 if os.environ.get("QUICK") == "1" else 50_000
RUNS = 1 if os.environ.get("QUICK") == "1" else 3


def rate(client: object, n: int, keys: list) -> float:
    get = client.get  # type: ignore[attr-defined]
    t = time.perf_counter()
    for i in range(n):
        get(keys[i % 100])
    return n / (time.perf_counter() - t)


def main() -> None:
    keys = [f"w5:{i}" for i in range(100)]
    setup = redbridge.Redis.from_url(URL)
    for k in keys:
        setup.set(k, "x" * 100)
    rows = {}
    clients = {
        "redbridge (cache)": redbridge.Redis.from_url(URL, cache_config=redbridge.CacheConfig()),
        "redbridge (no cache, W1)": redbridge.Redis.from_url(URL),
    }
    try:
        import redis
        from redis.cache import CacheConfig as RedisPyCacheConfig

        clients["redis-py (no cache, W1)"] = redis.Redis.from_url(URL)
        anchor = redis.Redis.from_url(URL, protocol=3, cache_config=RedisPyCacheConfig())
        anchor.get(keys[0])
        clients["redis-py (cache)"] = anchor
    except Exception as e:  # noqa: BLE001 - report and go on without the anchor
        print(f"redis-py's client-side cache does not run here: {e}")
    for _ in range(RUNS):
        for name, c in clients.items():
            n = N if "cache)" in name and "no cache" not in name else N // 10
            rows.setdefault(name, []).append(rate(c, n, keys))
    print("| W5 (Python) | ops/s |")
    print("|---|---:|")
    med = {name: statistics.median(v) for name, v in rows.items()}
    for name, v in med.items():
        print(f"| {name} | {v:,.0f} |")
    ours = med["redbridge (cache)"]
    print(f"redbridge cached / uncached: {ours / med['redbridge (no cache, W1)']:.1f}x (goal >= 20x)")
    if "redis-py (cache)" in med:
        print(f"redbridge cached / redis-py cached: {ours / med['redis-py (cache)']:.2f}x")


if __name__ == "__main__":
    main()
