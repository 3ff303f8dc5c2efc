"""A short tour of redbridge for Python (make demo). Uses REDIS_URL."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import warnings

import redbridge
import redbridge.asyncio
from redbridge.exceptions import RedbridgeWarning, TimeoutError

URL = os.environ.get("REDIS_URL", "redis://localhost:6379")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    print(f"redbridge {redbridge.__version__} Python tour — {URL}\n")
    r = redbridge.Redis.from_url(URL, decode_responses=True)
    r.set("pytour:greeting", "hello")
    print("1. r.get('pytour:greeting') ->", repr(r.get("pytour:greeting")))

    print("\n2. One shared client vs a new connection per request (500 GETs)")
    t0 = time.perf_counter()
    for _ in range(500):
        r.get("pytour:greeting")
    shared = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(500):
        c = redbridge.Redis.from_url(URL)
        c.get("pytour:greeting")
        c.close()
    per_request = time.perf_counter() - t0
    print(f"   shared: {ms(shared)}   connect-per-request: {ms(per_request)}   ({per_request / shared:.0f}x slower)")

    print("\n3. Eight threads share the one client (GIL released while waiting)")
    t0 = time.perf_counter()
    threads = [threading.Thread(target=lambda: [r.get("pytour:greeting") for _ in range(1000)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    print(f"   8,000 GETs in {ms(took)} ({8000 / took:,.0f} ops/s)")

    print("\n4. Pipelining: 10,000 SETs in one round trip vs 1,000 one by one")
    t0 = time.perf_counter()
    for i in range(1000):
        r.set(f"pytour:seq:{i}", i)
    sequential = time.perf_counter() - t0
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.set(f"pytour:key:{i}", i)
    t0 = time.perf_counter()
    replies = pipe.execute()
    print(f"   1,000 sequential: {ms(sequential)}; 10,000 pipelined: {ms(time.perf_counter() - t0)} ({len(replies)} replies)")

    print("\n5. scan_iter walks the keyspace page by page (KEYS would block the server)")
    before = r.stats()["requests"]
    n = sum(1 for _ in r.scan_iter(match="pytour:key:*", count=1000))
    print(f"   {n} keys in {r.stats()['requests'] - before} SCAN pages")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RedbridgeWarning)
        r.keys("pytour:key:1*")
    print(f"   r.keys(...) -> warning: {caught[0].message}")

    print("\n6. Timeouts: socket_timeout=0.1 while the server sleeps 0.5 s")
    impatient = redbridge.Redis.from_url(URL, socket_timeout=0.1, decode_responses=True)
    t0 = time.perf_counter()
    try:
        impatient.execute_command("DEBUG", "SLEEP", 0.5)
    except TimeoutError as e:
        print(f"   TimeoutError after {ms(time.perf_counter() - t0)}: {e}")
    except redbridge.ResponseError as e:
        print(f"   (DEBUG is disabled on this server: {e})")
    time.sleep(0.45)
    print("   the next command gets its own reply:", repr(impatient.get("pytour:greeting")))

    print("\n7. asyncio: 10,000 GETs in flight together on one connection")

    async def burst() -> float:
        async with redbridge.asyncio.Redis.from_url(URL) as ar:
            t = time.perf_counter()
            await asyncio.gather(*(ar.get("pytour:greeting") for _ in range(10_000)))
            return time.perf_counter() - t

    took = asyncio.run(burst())
    print(f"   {ms(took)} ({10_000 / took:,.0f} ops/s)")

    unlinked = 0
    for batch_start in range(0, 10_000, 1000):
        unlinked += r.unlink(*[f"pytour:key:{i}" for i in range(batch_start, batch_start + 1000)])
    r.unlink(*[f"pytour:seq:{i}" for i in range(1000)], "pytour:greeting")
    s = r.stats()
    print(f"\n8. Stats: {s['requests']} requests, {s['direct_requests']} served on the caller's thread, "
          f"{s['retries']} retries, {s['errors_timeout']} timeouts, pool size {s['pool_size']}")


if __name__ == "__main__":
    main()
